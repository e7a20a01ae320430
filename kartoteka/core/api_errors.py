"""One error shape for every REST API error, whatever raised it.

    {"detail": "...", "code": "...", "errors": [{"field": "inn", "message": "...", "code": "..."}]}

`detail` is a sentence for people, `code` a stable snake_case string for programs, `errors`
the per-field problems (empty when the error is not about fields). Field names are the
model's (`inn`, `last_name`) and nested ones are dotted (`contacts.1.value`). Some errors
add keys of their own (a version conflict carries the current card). Messages are translated
into the request's language.
"""

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

logger = logging.getLogger("kartoteka.api")


class CsrfFailed(Exception):
    """A session-authenticated unsafe request came without a valid CSRF token."""


def error_body(
    detail: str, code: str, errors: Iterable[Mapping[str, Any]] = (), **extra: Any
) -> dict[str, Any]:
    """The body of every error response."""
    return {"detail": str(detail), "code": code, "errors": list(errors), **extra}


def error_response(
    api: NinjaAPI,
    request: HttpRequest,
    status: int,
    detail: str,
    code: str,
    errors: Iterable[Mapping[str, Any]] = (),
    **extra: Any,
) -> HttpResponse:
    return api.create_response(request, error_body(detail, code, errors, **extra), status=status)


def _message(error: DjangoValidationError) -> str:
    message = error.message
    if error.params:
        message %= error.params
    return str(message)


def django_field_errors(exc: DjangoValidationError) -> list[dict[str, Any]]:
    """Per-field errors of a django ValidationError; non-field errors have field None."""
    result = []
    if hasattr(exc, "error_dict"):
        items: list[tuple[str, list[DjangoValidationError]]] = list(exc.error_dict.items())
    else:
        items = [(NON_FIELD_ERRORS, exc.error_list)]
    for field, errors in items:
        for error in errors:
            result.append(
                {
                    "field": None if field == NON_FIELD_ERRORS else field,
                    "message": _message(error),
                    "code": error.code or "invalid",
                }
            )
    return result


def _pydantic_message(error: Mapping[str, Any]) -> tuple[str, str]:
    """A translated message and a stable code for one pydantic error."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required."), "required"
    if kind == "extra_forbidden":
        return _("Unknown field."), "unknown_field"
    if kind == "json_invalid":
        return _("The request body is not valid JSON."), "invalid_json"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _("Enter a whole number."), "invalid"
    if kind in ("bool_parsing", "bool_type"):
        return _("Enter true or false."), "invalid"
    if kind.startswith("date_") and not kind.startswith("datetime"):
        return _("Enter a valid date (YYYY-MM-DD)."), "invalid_date"
    if kind.startswith("datetime"):
        return _("Enter a valid date and time."), "invalid_datetime"
    if kind in ("enum", "literal_error"):
        return (
            _("Select one of: %(expected)s.") % {"expected": ctx.get("expected", "")},
            "invalid_choice",
        )
    if kind == "string_type":
        return _("Enter text."), "invalid"
    if kind == "string_too_long":
        return (
            _("Ensure this value has at most %(max)s characters.")
            % {"max": ctx.get("max_length", "")},
            "max_length",
        )
    if kind == "less_than_equal":
        return _("Ensure this value is at most %(limit)s.") % {"limit": ctx.get("le", "")}, "max"
    if kind == "greater_than_equal":
        return _("Ensure this value is at least %(limit)s.") % {"limit": ctx.get("ge", "")}, "min"
    if kind in ("list_type", "tuple_type", "set_type"):
        return _("Enter a list."), "invalid"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return _("Enter an object."), "invalid"
    return str(error.get("msg", _("Enter a valid value."))), "invalid"


def ninja_field_errors(exc: NinjaValidationError) -> list[dict[str, Any]]:
    """Per-field errors of ninja's request validation, in the same shape as the model's.

    ninja reports locations as ("body", "<param>", "contacts", 1, "value"),
    ("query", "<schema param>", "status", 0) or ("query", "limit"); the source, the
    parameter's own name and the position of a repeated query parameter are dropped.
    """
    result = []
    for error in exc.errors:
        loc = list(error.get("loc") or ())
        source = loc.pop(0) if loc else ""
        names_param = source == "body" or (len(loc) > 1 and isinstance(loc[1], str))
        if loc and names_param:
            loc.pop(0)
        if source != "body":
            while loc and isinstance(loc[-1], int):
                loc.pop()
        message, code = _pydantic_message(error)
        field = ".".join(str(part) for part in loc) or None
        result.append({"field": field, "message": message, "code": code})
    return result


def _validation_error(request: HttpRequest, exc: DjangoValidationError, api: NinjaAPI):
    return error_response(
        api,
        request,
        422,
        _("The data is not valid."),
        "invalid",
        django_field_errors(exc),
    )


def _ninja_validation_error(request: HttpRequest, exc: NinjaValidationError, api: NinjaAPI):
    return error_response(
        api, request, 422, _("The data is not valid."), "invalid", ninja_field_errors(exc)
    )


def _not_found(request: HttpRequest, exc: Exception, api: NinjaAPI):
    return error_response(api, request, 404, _("Not found."), "not_found")


def _permission_denied(request: HttpRequest, exc: PermissionDenied, api: NinjaAPI):
    detail = str(exc) or _("You do not have permission to do this.")
    return error_response(api, request, 403, detail, "permission_denied")


def _csrf_failed(request: HttpRequest, exc: CsrfFailed, api: NinjaAPI):
    detail = _(
        "CSRF check failed. Send the X-CSRFToken header with session authentication, "
        "or use a token."
    )
    return error_response(api, request, 403, detail, "csrf_failed")


def _not_authenticated(request: HttpRequest, exc: AuthenticationError, api: NinjaAPI):
    detail = _("Authentication required: send “Authorization: Bearer <token>” or sign in.")
    response = error_response(api, request, 401, detail, "not_authenticated")
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


_HTTP_CODES = {
    400: "bad_request",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    429: "throttled",
}


def _http_error(request: HttpRequest, exc: HttpError, api: NinjaAPI):
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
        # ninja could not read the body as JSON: a validation error like any other.
        errors = [
            {
                "field": None,
                "message": _("The request body is not valid JSON."),
                "code": "invalid_json",
            }
        ]
        return error_response(api, request, 422, _("The data is not valid."), "invalid", errors)
    code = _HTTP_CODES.get(exc.status_code, "error")
    return error_response(api, request, exc.status_code, str(exc), code)


def _server_error(request: HttpRequest, exc: Exception, api: NinjaAPI):
    if settings.DEBUG:
        raise exc  # Django's debug page tells a developer more than a JSON body
    logger.exception("Unhandled error in %s %s", request.method, request.path, exc_info=exc)
    return error_response(
        api, request, 500, _("Something went wrong on the server. It has been logged."), "error"
    )


def install_error_handlers(api: NinjaAPI) -> None:
    """Make every error the API can raise answer in the one shape."""
    handlers: list[tuple[type[Exception], Any]] = [
        (Exception, _server_error),
        (DjangoValidationError, _validation_error),
        (NinjaValidationError, _ninja_validation_error),
        (Http404, _not_found),
        (ObjectDoesNotExist, _not_found),
        (PermissionDenied, _permission_denied),
        (CsrfFailed, _csrf_failed),
        (HttpError, _http_error),
        (AuthenticationError, _not_authenticated),
    ]
    for exc_class, handler in handlers:
        api.add_exception_handler(exc_class, _bind(handler, api))


def _bind(handler: Any, api: NinjaAPI) -> Any:
    def bound(request: HttpRequest, exc: Exception) -> HttpResponse:
        return handler(request, exc, api)

    return bound


# --- The error answers in the OpenAPI schema --------------------------------------------------

ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "description": "The one error shape; some errors add keys of their own.",
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": ["string", "null"]},
                    "message": {"type": "string"},
                    "code": {"type": "string"},
                },
                "required": ["field", "message", "code"],
            },
        },
    },
    "required": ["detail", "code", "errors"],
}
_ERROR_DESCRIPTIONS = {
    "401": "Not authenticated: no valid token or session.",
    "403": "Not allowed: the user's role or the card's visibility, a read-only token, or a "
    "session request without its CSRF token.",
    "404": "Not found, or not visible to this user.",
    "422": "The input is not valid; `errors` names the fields.",
    "429": "Too many failed sign-ins or unknown tokens from this address.",
}


def document_error_responses(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the error answers every operation can give to its documented responses.

    Any authenticated operation can answer 401, 403 and 429, any can find what it names
    missing (404), and any that takes input can refuse it (422), all in the one error shape.
    Codes an operation documents itself (a 409 with the current card ...) are kept.
    """
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes = ["404"]
            if operation.get("security"):
                codes += ["401", "403", "429"]
            if operation.get("parameters") or operation.get("requestBody"):
                codes.append("422")
            responses = operation["responses"]
            for code in sorted(codes):
                responses.setdefault(
                    code,
                    {
                        "description": _ERROR_DESCRIPTIONS[code],
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return schema
