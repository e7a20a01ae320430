"""Two-factor sign-in in a real browser: enrol (the secret read from the page, the code
computed as an authenticator app would), sign out, sign in with the password and a code; the
sessions page lists this browser and a phone. Screenshots two-factor.png and sessions.png."""

import re

import pyotp
import pytest
from django.test import Client as DjangoClient
from django.utils import timezone
from playwright.sync_api import expect

from kartoteka.accounts.models import RecoveryCode, SignInEvent, User
from kartoteka.accounts.services import user_create

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"
PHONE_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def _sign_in(page, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill("olga")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_enrol_sign_out_and_sign_in_with_a_code(page, live_server, screenshot, settings, tmp_path):
    settings.KARTOTEKA_ENCRYPTION_KEY_FILE = tmp_path / "keys"
    user_create(
        actor=None,
        username="olga",
        password=PASSWORD,
        role=User.Role.MANAGER,
        first_name="Ольга",
        last_name="Смирнова",
    )
    # The same person signed in on a phone earlier (before turning two-factor on).
    phone = DjangoClient(HTTP_USER_AGENT=PHONE_AGENT, REMOTE_ADDR="198.51.100.23")
    assert (
        phone.post("/accounts/login/", {"username": "olga", "password": PASSWORD}).status_code
        == 302
    )
    base = live_server.url

    _sign_in(page, base)
    expect(page).to_have_url(re.compile(r"/clients/"))
    page.goto(f"{base}/accounts/two-factor/")
    expect(page.locator(".qr-code svg")).to_be_visible()
    secret = page.locator("#totp-secret").get_attribute("data-secret")
    screenshot(page, "two-factor.png", full_page=True)
    totp = pyotp.TOTP(secret)
    page.get_by_label("Code").fill(totp.now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    assert RecoveryCode.objects.filter(user__username="olga").count() == 10

    page.locator("details.menu summary").click()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))

    _sign_in(page, base)
    expect(page).to_have_url(re.compile(r"/accounts/login/code/"))
    # The code of the next 30-second step (accepted for clock drift): the one used to enrol
    # may still be current, and a code is never accepted twice.
    page.get_by_label("Code").fill(totp.at(timezone.now().timestamp() + 30))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/clients/"))

    page.goto(f"{base}/accounts/sessions/")
    expect(page.locator("tbody tr")).to_have_count(2)
    expect(page.get_by_text("this one", exact=True)).to_be_visible()
    expect(page.get_by_text("198.51.100.23")).to_be_visible()
    screenshot(page, "sessions.png")
    assert SignInEvent.objects.filter(username="olga", kind="signed_in").count() == 3
