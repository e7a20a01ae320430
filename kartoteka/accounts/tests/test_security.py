"""Production settings pass Django's deploy check, security headers are sent, and every
unsafe request without a CSRF token is refused: each web route and each API operation
under session authentication (token authentication carries no cookie, so needs none)."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client as DjangoClient
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern

from kartoteka.accounts.services import api_token_create

ROOT = Path(__file__).resolve().parents[3]
UNSAFE = ["POST", "PUT", "PATCH", "DELETE"]
SAMPLES = {
    "int": "1",
    "str": "x",
    "slug": "x",
    "path": "x",
    "uuid": "00000000-0000-0000-0000-000000000001",
}


def test_deploy_check_is_clean_for_production_settings(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kartoteka.settings",
        "KARTOTEKA_HTTPS": "1",
        "KARTOTEKA_SECRET_KEY": secrets.token_urlsafe(60),
        "KARTOTEKA_DATA_DIR": str(tmp_path),
        "KARTOTEKA_ALLOWED_HOSTS": "crm.example.com",
    }
    env.pop("KARTOTEKA_DEBUG", None)
    # Set by the browser tests' conftest for Playwright's loop; no server runs with it.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_security_headers(alice, web_client_for):
    response = web_client_for(alice).get("/clients/")

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert settings.SESSION_COOKIE_HTTPONLY
    assert settings.CSRF_COOKIE_HTTPONLY
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"


def _web_paths() -> list[tuple[str, str]]:
    """(concrete path, route) for every web URL pattern; the API is walked by its schema."""
    found: list[tuple[str, str]] = []

    def walk(patterns, prefix: str) -> None:
        for entry in patterns:
            pattern = entry.pattern
            if isinstance(pattern, RoutePattern):
                part = re.sub(
                    r"<(?:(\w+):)?\w+>", lambda m: SAMPLES[m.group(1) or "str"], str(pattern)
                )
            elif isinstance(pattern, RegexPattern):
                # Only the admin uses regular expressions: its app index and catch-all.
                regex = str(pattern).lstrip("^").rstrip("$")
                part = re.sub(r"\(\?P<\w+>[^)]*\)", "auth", regex).replace("\\", "")
            else:
                raise AssertionError(f"unknown pattern {pattern!r}")
            if isinstance(entry, URLResolver):
                if getattr(entry, "namespace", None) == "api":
                    continue
                walk(entry.url_patterns, prefix + part)
            elif isinstance(entry, URLPattern):
                found.append((prefix + part, str(pattern)))

    walk(get_resolver().url_patterns, "/")
    return found


def test_web_walk_covers_the_app():
    paths = {path for path, _route in _web_paths()}

    assert "/accounts/login/" in paths
    assert "/clients/1/" in paths or any(p.startswith("/clients/1/") for p in paths)
    assert len(paths) > 50


@pytest.mark.parametrize("method", UNSAFE)
def test_every_unsafe_web_request_without_csrf_token_is_refused(ada, method):
    client = DjangoClient(enforce_csrf_checks=True)
    client.force_login(ada)
    accepted = []

    for path, route in _web_paths():
        resolve(path)  # the sample path reaches the route it stands for
        response = client.generic(method, path, "a=1", "application/x-www-form-urlencoded")
        # Refused by the CSRF check itself, not by a permission check further on.
        if response.status_code != 403 or b"CSRF" not in response.content:
            accepted.append((route, path, response.status_code))

    assert accepted == []


def _api_operations(client: DjangoClient) -> list[tuple[str, str]]:
    schema = client.get("/api/v1/openapi.json").json()
    return [
        (re.sub(r"\{[^}]+\}", "1", path), method.upper())
        for path, operations in schema["paths"].items()
        for method in operations
        if method.upper() in UNSAFE
    ]


def test_every_unsafe_api_operation_with_a_session_needs_the_csrf_token(ada):
    client = DjangoClient(enforce_csrf_checks=True)
    client.force_login(ada)
    operations = _api_operations(client)
    accepted = []

    for path, method in operations:
        response = client.generic(method, path, "{}", "application/json")
        if response.status_code != 403 or response.json()["code"] != "csrf_failed":
            accepted.append((method, path, response.status_code))

    assert len(operations) > 20
    assert accepted == []


def test_token_auth_needs_no_csrf_token(alice):
    _token, key = api_token_create(actor=alice, name="script")
    client = DjangoClient(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {key}"})

    response = client.post("/api/v1/me/tokens", {"name": "child"}, content_type="application/json")

    assert response.status_code == 201
