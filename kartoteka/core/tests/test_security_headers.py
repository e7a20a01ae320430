"""Browser security headers on every kind of response, the strict Content-Security-Policy, the
templates it relies on, and `check --deploy` under production settings."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from kartoteka.clients.tests.factories import make_person
from kartoteka.core.csp import PERMISSIONS_POLICY
from kartoteka.documents.services import document_upload
from kartoteka.documents.tests.files import pdf_bytes, upload
from kartoteka.tasks.tests.factories import MOSCOW, at, make_task

pytestmark = pytest.mark.django_db

STRICT = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: blob:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    parts = [part.strip().split(" ", 1) for part in header.split(";") if part.strip()]
    return {part[0]: part[1] for part in parts}


def assert_common_headers(response) -> None:
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in response["Permissions-Policy"]


def test_html_pages_get_the_strict_policy(web_client_for, alice):
    response = web_client_for(alice).get(reverse("clients:list"))

    assert response.status_code == 200
    assert directives(response) == STRICT
    assert "unsafe" not in response["Content-Security-Policy"]
    assert "nonce" not in response["Content-Security-Policy"]
    assert_common_headers(response)


def test_the_sign_in_page_gets_them_too(client):
    response = client.get(reverse("accounts:login"))

    assert response.status_code == 200
    assert directives(response) == STRICT
    assert_common_headers(response)


def test_api_responses_get_them(api_client_for, alice, client):
    ok = api_client_for(alice).get("/api/v1/me")
    refused = client.get("/api/v1/me")

    assert ok.status_code == 200
    assert refused.status_code == 401
    for response in (ok, refused):
        assert directives(response) == STRICT
        assert_common_headers(response)


def test_file_responses_keep_their_own_sandboxed_policy(web_client_for, alice):
    card = make_person(alice)
    document = document_upload(
        actor=alice, client=card, uploaded=upload("a.pdf", pdf_bytes()), kind="contract"
    )

    response = web_client_for(alice).get(reverse("documents:download", args=[document.pk]))

    assert response.status_code == 200
    assert "sandbox" in response["Content-Security-Policy"]
    assert_common_headers(response)


def test_calendar_geometry_is_allowed_by_a_per_response_nonce(web_client_for, alice, time_machine):
    time_machine.move_to(at(MOSCOW, 2026, 3, 10, 12), tick=False)
    make_task(alice, title="Встреча", kind="meeting", due_at=at(MOSCOW, 2026, 3, 10, 14))
    client = web_client_for(alice)

    first = client.get(reverse("tasks:calendar"), {"view": "week", "date": "2026-03-10"})
    second = client.get(reverse("tasks:calendar"), {"view": "week", "date": "2026-03-10"})

    html = first.content.decode()
    nonce = re.search(r'<style nonce="([^"]+)">', html).group(1)
    assert directives(first)["style-src"] == f"'self' 'nonce-{nonce}'"
    assert directives(first)["script-src"] == "'self'"
    assert nonce not in second.content.decode()
    assert re.search(r"#cal-item-\d+-1 \{ top: \d+px; height: \d+px;", html)
    assert 'id="cal-item-' in html
    assert "style=" not in html.replace("<style nonce", "")


def test_admin_gets_the_strict_policy_too(web_client_for, ada):
    ada.is_staff = ada.is_superuser = True
    ada.save()

    response = web_client_for(ada).get("/admin/")

    assert response.status_code == 200
    assert directives(response) == STRICT
    assert_common_headers(response)


def test_api_docs_page_runs_under_the_strict_policy(client):
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    assert directives(response) == STRICT
    html = response.content.decode()
    # Only external scripts and a JSON data block (not executed) on the page.
    for attributes in re.findall(r"<script([^>]*)>", html):
        assert "src=" in attributes or 'type="application/json"' in attributes


# --- The templates the strict policy relies on ----------------------------------------------

TEMPLATE_DIRS = sorted(Path(settings.BASE_DIR).glob("**/templates"))
FORBIDDEN = {
    "inline <script>": re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I),
    "on* handler": re.compile(r"\son[a-z]+\s*=", re.I),
    "hx-on": re.compile(r"\bhx-on"),
    "javascript: URL": re.compile(r"javascript:", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "<style> without the nonce": re.compile(r"<style(?![^>]*nonce=)[^>]*>", re.I),
    "htmx eval filter": re.compile(r"hx-trigger\s*=\s*\"[^\"]*\w\[", re.I),
    "hx-vals js:": re.compile(r"hx-vals\s*=\s*['\"]\s*js:", re.I),
}

# Templates never served as a page, each with the reason.
NOT_SERVED = {
    # Rendered into the data-subject access archive (index.html), opened from disk.
    "privacy/templates/privacy/subject_export.html",
}


def test_no_template_needs_inline_script_or_style():
    found = []
    for directory in TEMPLATE_DIRS:
        for path in directory.rglob("*.html"):
            if str(path.relative_to(settings.BASE_DIR)) in NOT_SERVED:
                continue
            text = path.read_text(encoding="utf-8")
            for what, pattern in FORBIDDEN.items():
                for match in pattern.finditer(text):
                    line = text.count("\n", 0, match.start()) + 1
                    found.append(f"{path.relative_to(settings.BASE_DIR)}:{line}: {what}")
    assert TEMPLATE_DIRS
    assert found == []


def test_base_page_turns_off_htmx_eval_and_injected_styles(web_client_for, alice):
    html = web_client_for(alice).get(reverse("clients:list")).content.decode()

    config = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", html).group(1)
    assert '"includeIndicatorStyles": false' in config
    assert '"allowEval": false' in config


# --- check --deploy -------------------------------------------------------------------------


def deploy_check(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KARTOTEKA_", "DJANGO_"))
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="kartoteka.settings",
        KARTOTEKA_DATA_DIR=str(tmp_path),
        KARTOTEKA_ALLOWED_HOSTS="crm.example.com",
        **env,
    )
    return subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(settings.BASE_DIR).parent,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = deploy_check(
        tmp_path,
        KARTOTEKA_SECRET_KEY="x7Lq-" + "kP2vN9rT4wZ8cB1mH6jD3fG5sA0eY" * 2,
        KARTOTEKA_HTTPS="1",
        KARTOTEKA_DEBUG="0",
    )

    assert result.returncode == 0, result.stderr + result.stdout
    # Only the HSTS preload warning is silenced (see settings: the domain owner's choice).
    assert "1 silenced" in result.stdout


def test_check_deploy_is_clean_with_a_generated_secret_key_and_preload(tmp_path):
    result = deploy_check(tmp_path, KARTOTEKA_HTTPS="1", KARTOTEKA_HSTS_PRELOAD="1")

    assert result.returncode == 0, result.stderr + result.stdout
    assert "0 silenced" in result.stdout


def test_check_deploy_warns_about_plain_http_and_debug(tmp_path):
    result = deploy_check(tmp_path, KARTOTEKA_DEBUG="1")

    assert result.returncode != 0
    output = result.stderr + result.stdout
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in output
    assert "security.W018" in output  # DEBUG on
