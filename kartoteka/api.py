"""The REST API: /api/v1/, token and session auth, one error shape. Routers live in each app.

- Token: `Authorization: Bearer <key>`; keys are issued by POST /api/v1/me/tokens.
- Session: the web login cookie, for scripts in the browser; unsafe methods need the
  X-CSRFToken header, as forms do.
- OpenAPI at /api/v1/openapi.json, the interactive docs at /api/v1/docs, both served from
  this server (no CDN).
"""

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.urls import Resolver404, re_path, resolve
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI, Swagger
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from kartoteka.accounts import signin
from kartoteka.accounts.api import router as accounts_router
from kartoteka.accounts.models import ApiToken, SignInEvent, User
from kartoteka.accounts.services import api_token_resolve
from kartoteka.activities.api import router as activities_router
from kartoteka.activities.api import version_conflict_handler as interaction_conflict_handler
from kartoteka.activities.services import InteractionVersionConflict
from kartoteka.audit.api import router as audit_router
from kartoteka.backups.api import router as backups_router
from kartoteka.care.api import router as care_router
from kartoteka.clients import services as client_services
from kartoteka.clients.api import (
    duplicate_clients_handler,
    version_conflict_handler,
)
from kartoteka.clients.api import router as clients_router
from kartoteka.consent.api import router as consent_router
from kartoteka.core.api_errors import (
    CsrfFailed,
    document_error_responses,
    error_response,
    install_error_handlers,
)
from kartoteka.core.client_ip import client_ip
from kartoteka.dedupe.api import router as dedupe_router
from kartoteka.documents.api import router as documents_router
from kartoteka.exports.api import router as exports_router
from kartoteka.finance.api import router as finance_router
from kartoteka.history.api import router as history_router
from kartoteka.imports.api import router as imports_router
from kartoteka.notifications.api import router as notifications_router
from kartoteka.plans.api import router as plans_router
from kartoteka.plans.api import version_conflict_handler as plan_conflict_handler
from kartoteka.plans.services import PlanVersionConflict
from kartoteka.privacy.api import router as privacy_router
from kartoteka.quality.api import router as quality_router
from kartoteka.sales.api import router as sales_router
from kartoteka.tasks.api import router as tasks_router
from kartoteka.tasks.api import version_conflict_handler as task_conflict_handler
from kartoteka.tasks.services import TaskVersionConflict

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <key>` with a personal API token.

    Unknown keys count as sign-in failures of the client's address (accounts.signin), so keys
    cannot be guessed faster than passwords; a locked address gets 429 for unknown keys. A
    read-scoped token gets 403 on unsafe methods; an expired one 401.
    """

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        api_token = api_token_resolve(token)
        if api_token is None:
            # Only a refused key costs queries here: a valid one is not guessing.
            ip = client_ip(request)
            if signin.locked_until(username="", ip=ip):
                raise HttpError(429, _("Too many failed attempts from your address; try later."))
            signin.failure_register(username="", ip=ip)
            signin.event_record(
                kind=SignInEvent.Kind.TOKEN_REFUSED,
                client=signin.Client(ip=ip, user_agent=request.META.get("HTTP_USER_AGENT", "")),
            )
            return None
        if api_token.scope == ApiToken.Scope.READ and request.method not in SAFE_METHODS:
            raise PermissionDenied(_("This token may only read: its scope is “read”."))
        user = api_token.user
        # The session middleware saw an anonymous request; from here on it is this user's,
        # and messages speak the language the user chose (else Accept-Language applies).
        request.user = user
        if user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language  # type: ignore[attr-defined]
        return user


class CsrfSessionAuth(SessionAuth):
    """The web session, with the CSRF check the web forms get.

    Unlike ninja's own, an anonymous request is simply not authenticated by it (401), rather
    than refused for a missing CSRF token (403), so a bad token reads as a bad token.
    """

    def __call__(self, request: HttpRequest) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if self.csrf and check_csrf(request) is not None:
            raise CsrfFailed
        return user


token_auth = TokenAuth()
session_auth = CsrfSessionAuth()


class KartotekaAPI(NinjaAPI):
    """ninja's API, with every answer under /api/v1/ in the one error shape.

    ninja answers a wrong method with a plain-text 405 and its root with Django's HTML 404,
    and an unknown path would reach Django's HTML 404 too; these become JSON here.
    """

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        # The error answers every operation can give, documented in one place.
        return document_error_responses(super().get_openapi_schema(*args, **kwargs))

    def _get_urls(self) -> list[Any]:
        patterns = super()._get_urls()
        unknown = csrf_exempt(self._unknown_endpoint)
        # Any rest at all, a newline included (<path:> stops at one), answers in JSON.
        patterns.append(re_path(r"^(?P<rest>(?s:.+))\Z", unknown, name="unknown-endpoint"))
        for pattern in patterns:
            callback = getattr(pattern, "callback", None)
            if callback is None:
                continue
            pattern.callback = self._in_error_shape(callback)
            # The site requires a login for every page (LoginRequiredMiddleware); the API
            # authenticates each operation itself and answers 401 rather than redirecting to
            # the login form. The schema and docs describe no data and stay open.
            login_not_required(pattern.callback)
        return patterns

    def _in_error_shape(self, view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                response = view(request, *args, **kwargs)
            except Http404:
                return error_response(self, request, 404, _("Not found."), "not_found")
            if response.status_code == 405 and "json" not in response.get("Content-Type", ""):
                allowed = response.get("Allow", "")
                response = error_response(
                    self, request, 405, _("Method not allowed."), "method_not_allowed"
                )
                response["Allow"] = allowed
            return response

        return wrapped

    def _unknown_endpoint(self, request: HttpRequest, rest: str) -> HttpResponse:
        if not request.path_info.endswith("/"):
            # Like APPEND_SLASH, but 308 keeps the method and body of a POST or PATCH.
            try:
                match = resolve(request.path_info + "/")
            except Resolver404:
                match = None
            if match is not None and match.url_name != "unknown-endpoint":
                location = request.path + "/"
                if request.META.get("QUERY_STRING"):
                    location += "?" + request.META["QUERY_STRING"]
                return HttpResponsePermanentRedirect(location, preserve_request=True)
        return error_response(self, request, 404, _("No such API endpoint."), "not_found")


api = KartotekaAPI(
    title="Kartoteka API",
    version="1",
    description="Client cards and their contacts. Errors share one shape: "
    '{"detail", "code", "errors": [{"field", "message", "code"}]}.',
    urls_namespace="api",
    auth=[token_auth, session_auth],
    # The bundled Swagger UI (ninja's static files); no validator badge from swagger.io.
    docs=Swagger(settings={"validatorUrl": None}),
)
install_error_handlers(api)
api.add_exception_handler(client_services.VersionConflict, version_conflict_handler(api))
api.add_exception_handler(client_services.DuplicateClients, duplicate_clients_handler(api))
api.add_exception_handler(InteractionVersionConflict, interaction_conflict_handler(api))
api.add_exception_handler(TaskVersionConflict, task_conflict_handler(api))
api.add_exception_handler(PlanVersionConflict, plan_conflict_handler(api))

api.add_router("/clients/", clients_router)
api.add_router("/duplicates/", dedupe_router)
api.add_router("/", accounts_router)
api.add_router("/", activities_router)
api.add_router("/", sales_router)
api.add_router("/", finance_router)
api.add_router("/", care_router)
api.add_router("/", documents_router)
api.add_router("/", imports_router)
api.add_router("/", tasks_router)
api.add_router("/", plans_router)
api.add_router("/", notifications_router)
api.add_router("/", exports_router)
api.add_router("/", quality_router)
api.add_router("/", audit_router)
api.add_router("/", history_router)
api.add_router("/", consent_router)
api.add_router("/", privacy_router)
api.add_router("/", backups_router)
