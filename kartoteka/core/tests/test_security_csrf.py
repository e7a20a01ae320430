"""CSRF proof for every unsafe route, found by walking the URL configuration and the API.

Every web route, signed in or not, refuses POST, PUT, PATCH and DELETE without a CSRF token
(403 from Django's CSRF check, nothing written). Every API operation with an unsafe method
refuses a signed-in session without the token (403 `csrf_failed`), accepts a Bearer token
without one (tokens are not sent by browsers on their own, so they need no CSRF proof), and
answers an anonymous request 401. Routes are enumerated, so new ones are covered as they come.
"""

import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client as DjangoClient
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RegexPattern, RoutePattern

from kartoteka.accounts.services import api_token_create
from kartoteka.api import api
from kartoteka.clients.tests.factories import make_person

pytestmark = pytest.mark.django_db

UNSAFE = ("post", "put", "patch", "delete")
# Routes that may take an unsafe request without a CSRF token, each with the reason.
CSRF_EXEMPT_ALLOWED = {
    # The API's catch-all: it answers 404 (or 308 to the same path with a slash, which then
    # meets the real operation and its own check) and performs nothing.
    "api:unknown-endpoint",
}


@dataclass(frozen=True)
class Route:
    name: str
    path: str
    callback: object


def _walk(
    resolver: URLResolver, prefix: list[object], namespace: str
) -> Iterator[tuple[str, list[object], URLPattern]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry, [*prefix, entry.pattern], inner)
        else:
            name = entry.name or getattr(entry.callback, "__name__", "?")
            yield (f"{namespace}:{name}" if namespace else name), [*prefix, entry.pattern], entry


def _fill_route(route: str, ids: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        converter, name = match.group(1) or "str", match.group(2)
        if "uuid" in converter:
            return ids["uuid"]
        if converter == "int":
            return ids.get(name, ids["pk"])
        return ids.get(name, "x")

    return re.sub(r"<(?:(\w+):)?(\w+)>", value, route)


def _fill_regex(regex: str, ids: dict[str, str]) -> str:
    """A string matching a regex URL pattern: each named group gets a fitting sample value."""
    text = regex.lstrip("^").rstrip("$").replace("\\Z", "")

    def group(match: re.Match[str]) -> str:
        name, body = match.group(1), match.group(2)
        for candidate in (ids.get(name), ids["pk"], "accounts", "x"):
            if candidate is not None and re.fullmatch(body, candidate):
                return candidate
        return "x"

    # Groups in Django's own patterns do not nest, so one level of parentheses is enough.
    text = re.sub(r"\(\?P<(\w+)>((?:[^()]|\([^()]*\))*)\)", group, text)
    return text.replace("\\", "")


def web_routes(ids: dict[str, str]) -> tuple[list[Route], list[str]]:
    routes, unresolved = [], []
    for name, chain, pattern in _walk(get_resolver(), [], ""):
        parts = []
        for piece in chain:
            if isinstance(piece, RoutePattern):
                parts.append(_fill_route(str(piece), ids))
            elif isinstance(piece, RegexPattern):
                parts.append(_fill_regex(piece.regex.pattern, ids))
        path = "/" + "".join(parts)
        try:
            match = resolve(path)
        except Resolver404:
            unresolved.append(f"{name}: {path}")
            continue
        full_route = "".join(str(piece) for piece in chain)
        # Operations sharing a path (ninja: one view per path, per method) resolve to one.
        if match.func is not pattern.callback and match.route != full_route:
            unresolved.append(f"{name}: {path} resolves to {match.view_name}")
            continue
        routes.append(Route(name, path, pattern.callback))
    return routes, unresolved


def api_operations(ids: dict[str, str]) -> list[tuple[str, str]]:
    """(METHOD, path) of every unsafe API operation, with path parameters filled in."""
    schema = api.get_openapi_schema()
    found = []
    for template, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method not in UNSAFE:
                continue
            path = template
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "path":
                    continue
                kind = parameter.get("schema", {})
                if kind.get("format") == "uuid":
                    sample = ids["uuid"]
                elif kind.get("type") == "integer":
                    sample = ids["pk"]
                else:
                    sample = "x"
                path = path.replace("{" + parameter["name"] + "}", sample)
            found.append((method.upper(), path))
    return found


def counts() -> dict[str, int]:
    """Rows of every table: what an unsafe request could have written."""
    tables = set(connection.introspection.table_names())
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy and model._meta.db_table in tables
    }


@pytest.fixture
def ids(ada, alice) -> dict[str, str]:
    card = make_person(alice)
    pk = str(card.pk)
    return {"pk": pk, "client_pk": pk, "uuid": str(uuid.uuid4()), "key": "birthday"}


def json_body(response) -> dict:
    if "json" not in response.get("Content-Type", "") or not response.content:
        return {}
    body = response.json()
    return body if isinstance(body, dict) else {}


def csrf_refusals(caplog) -> set[str]:
    return {
        record.getMessage().split(": ", 1)[-1]
        for record in caplog.records
        if record.name == "django.security.csrf"
    }


def test_every_route_is_found(ids):
    routes, unresolved = web_routes(ids)

    assert unresolved == []
    names = {route.name for route in routes}
    assert {"accounts:login", "clients:edit", "admin:index", "api:client_create"} <= names
    assert len(routes) > 100


def test_no_web_route_is_exempt_from_csrf_except_the_allowed(ids):
    routes, _unresolved = web_routes(ids)

    exempt = {route.name for route in routes if getattr(route.callback, "csrf_exempt", False)}
    api_operations_exempt = {name for name in exempt if name.startswith("api:")}
    # ninja's operation views leave CSRF to the session authentication (tested below).
    assert exempt - api_operations_exempt == set()
    assert exempt >= CSRF_EXEMPT_ALLOWED


@pytest.mark.parametrize("signed_in", [True, False], ids=["signed-in", "anonymous"])
def test_every_web_route_refuses_unsafe_requests_without_the_token(ids, ada, caplog, signed_in):
    routes, _unresolved = web_routes(ids)
    web = [route for route in routes if not route.path.startswith("/api/")]
    client = DjangoClient(enforce_csrf_checks=True)
    if signed_in:
        client.force_login(ada)
    methods = UNSAFE if signed_in else ("post",)
    before = counts()
    caplog.set_level(logging.WARNING, logger="django.security.csrf")

    wrong = []
    for route in web:
        for method in methods:
            caplog.clear()
            response = getattr(client, method)(route.path, {"x": "1"})
            if response.status_code != 403 or route.path not in csrf_refusals(caplog):
                status = response.status_code
                wrong.append(f"{method.upper()} {route.path} ({route.name}): {status}")

    assert wrong == []
    assert counts() == before
    if signed_in:
        # Even the sign-out form did nothing: the session is still there.
        assert client.get("/clients/").status_code == 200


def test_every_unsafe_api_operation_needs_the_token_with_a_session(ada, ids):
    operations = api_operations(ids)
    session = DjangoClient(enforce_csrf_checks=True)
    session.force_login(ada)
    before = counts()

    wrong = []
    for method, path in operations:
        response = session.generic(method, path, "{}", content_type="application/json")
        body = json_body(response)
        if response.status_code != 403 or body.get("code") != "csrf_failed":
            wrong.append(f"{method} {path}: {response.status_code} {body.get('code')}")

    assert len(operations) > 50
    assert wrong == []
    assert counts() == before


def test_anonymous_unsafe_api_requests_are_refused(ids):
    anonymous = DjangoClient(enforce_csrf_checks=True)
    before = counts()

    wrong = []
    for method, path in api_operations(ids):
        response = anonymous.generic(method, path, "{}", content_type="application/json")
        if response.status_code != 401:
            wrong.append(f"{method} {path}: {response.status_code}")

    assert wrong == []
    assert counts() == before


def test_a_bearer_token_needs_no_csrf_token(ada, ids):
    client = DjangoClient(enforce_csrf_checks=True)
    client.raise_request_exception = False

    refused = []
    for method, path in api_operations(ids):
        # A fresh token each time: one of the operations revokes a token by its id.
        _token, key = api_token_create(actor=ada, name="script")
        response = client.generic(
            method, path, "{}", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
        )
        body = json_body(response)
        if response.status_code in (401, 403) and body.get("code") in (
            "csrf_failed",
            "not_authenticated",
        ):
            refused.append(f"{method} {path}: {response.status_code} {body.get('code')}")
    assert refused == []


def test_a_token_request_with_the_session_cookie_and_no_csrf_token_works(ada, alice, ids):
    """A Bearer token carries its own proof; a session cookie beside it does not weaken it."""
    _token, key = api_token_create(actor=ada, name="script")
    client = DjangoClient(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {key}"})
    client.force_login(alice)

    response = client.post(
        "/api/v1/clients/",
        {"kind": "person", "last_name": "Токенов", "first_name": "Тимур"},
        content_type="application/json",
    )

    assert response.status_code == 201, response.content


def test_sign_in_needs_the_csrf_token(alice):
    client = DjangoClient(enforce_csrf_checks=True)

    refused = client.post("/accounts/login/", {"username": "alice", "password": "pass-alice"})
    page = client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    accepted = client.post(
        "/accounts/login/",
        {"username": "alice", "password": "pass-alice", "csrfmiddlewaretoken": token.group(1)},
    )

    assert refused.status_code == 403
    assert accepted.status_code == 302
    assert client.get("/clients/").status_code == 200
