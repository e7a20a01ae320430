"""Sessions: idle and absolute expiry, the list with "sign out this one", sign out
everywhere; the password policy, changing a password, temporary passwords."""

import datetime

import pytest
import time_machine
from django.test import Client as DjangoClient
from django.urls import reverse
from django.utils import timezone

from kartoteka.accounts.models import ApiToken, SignInEvent, User, UserSession
from kartoteka.accounts.services import api_token_authenticate, api_token_create

LOGIN = "/accounts/login/"
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def sign_in(username: str, password: str, agent: str = "Firefox", ip: str = "203.0.113.1"):
    client = DjangoClient(HTTP_USER_AGENT=agent, REMOTE_ADDR=ip)
    response = client.post(LOGIN, {"username": username, "password": password})
    assert response.status_code == 302
    return client


def test_idle_session_expires(alice, settings):
    settings.KARTOTEKA_SESSION_IDLE_MINUTES = 30
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        client = sign_in("alice", "pass-alice")
        traveller.shift(datetime.timedelta(minutes=25))
        assert client.get("/clients/").status_code == 200  # activity resets the idle clock
        traveller.shift(datetime.timedelta(minutes=25))
        assert client.get("/clients/").status_code == 200
        traveller.shift(datetime.timedelta(minutes=31))
        expired = client.get("/clients/")

    assert expired.status_code == 302
    assert expired["Location"].startswith(LOGIN)
    assert SignInEvent.objects.filter(user=alice, kind="session_expired").count() == 1
    assert not UserSession.objects.filter(user=alice).exists()


def test_session_ends_at_its_absolute_lifetime_despite_activity(alice, settings):
    settings.KARTOTEKA_SESSION_IDLE_MINUTES = 60
    settings.KARTOTEKA_SESSION_MAX_HOURS = 2
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        client = sign_in("alice", "pass-alice")
        for _i in range(3):
            traveller.shift(datetime.timedelta(minutes=40))
            assert client.get("/clients/").status_code == 200
        traveller.shift(datetime.timedelta(minutes=1))
        assert client.get("/clients/").status_code == 302


def test_session_list_shows_device_address_and_signs_one_out(alice, bob):
    laptop = sign_in("alice", "pass-alice", agent=FIREFOX_LINUX, ip="203.0.113.10")
    phone = sign_in("alice", "pass-alice", agent=SAFARI_IPHONE, ip="198.51.100.20")
    sign_in("bob", "pass-bob", agent="Bob's Chrome")

    page = laptop.get(reverse("accounts:sessions")).content.decode()
    phone_row = UserSession.objects.get(user=alice, user_agent=SAFARI_IPHONE)
    ended = laptop.post(reverse("accounts:session-end", args=[phone_row.pk]))

    assert "Firefox on Linux" in page
    assert "Safari on iPhone" in page
    assert "198.51.100.20" in page
    assert "Bob" not in page
    assert ended.status_code == 302
    assert phone.get("/clients/").status_code == 302
    assert laptop.get("/clients/").status_code == 200


def test_cannot_end_someone_elses_session(alice, bob):
    laptop = sign_in("alice", "pass-alice")
    bobs = sign_in("bob", "pass-bob")
    row = UserSession.objects.get(user=bob)

    response = laptop.post(reverse("accounts:session-end", args=[row.pk]))

    assert response.status_code == 404
    assert bobs.get("/clients/").status_code == 200


def test_sign_out_everywhere_ends_every_session_and_optionally_tokens(alice, bob, web_client_for):
    first = sign_in("alice", "pass-alice")
    second = sign_in("alice", "pass-alice")
    forced = web_client_for(alice)  # a session made by force_login, listed too
    others = sign_in("bob", "pass-bob")
    _token, key = api_token_create(actor=alice, name="script")

    response = first.post(reverse("accounts:sessions"), {"revoke_tokens": "on"})

    assert response.status_code == 302
    for client in (first, second, forced):
        assert client.get("/clients/").status_code == 302
    assert others.get("/clients/").status_code == 200
    assert api_token_authenticate(key) is None
    assert not UserSession.objects.filter(user=alice).exists()
    assert SignInEvent.objects.filter(user=alice, kind="signed_out_everywhere").count() == 1
    # A new sign-in works.
    assert sign_in("alice", "pass-alice").get("/clients/").status_code == 200


def test_sign_out_everywhere_keeps_tokens_unless_asked(alice):
    client = sign_in("alice", "pass-alice")
    _token, key = api_token_create(actor=alice, name="script")

    client.post(reverse("accounts:sessions"), {})

    assert api_token_authenticate(key) == alice
    assert ApiToken.objects.get().revoked_at is None


def test_session_epoch_bump_ends_unlisted_sessions(alice):
    client = sign_in("alice", "pass-alice")
    UserSession.objects.all().delete()  # a session from before the list existed
    User.objects.filter(pk=alice.pk).update(session_epoch=1)

    assert client.get("/clients/").status_code == 302


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1!", "too short"),
        ("password123", "too common"),
        ("8402917365", "entirely numeric"),
        ("alice1234", "too similar"),
    ],
)
def test_password_policy(alice, web_client_for, password, message):
    response = web_client_for(alice).post(
        reverse("accounts:password-change"),
        {"old_password": "pass-alice", "new_password": password, "new_password2": password},
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password("pass-alice")


def test_password_change_keeps_this_session_and_ends_others(alice):
    here = sign_in("alice", "pass-alice")
    elsewhere = sign_in("alice", "pass-alice")

    response = here.post(
        reverse("accounts:password-change"),
        {
            "old_password": "pass-alice",
            "new_password": "lilac-harbour-93",
            "new_password2": "lilac-harbour-93",
        },
    )

    assert response.status_code == 302
    assert here.get("/clients/").status_code == 200
    assert elsewhere.get("/clients/").status_code == 302
    assert SignInEvent.objects.filter(user=alice, kind="password_changed").count() == 1


def test_password_change_needs_the_current_one(alice, web_client_for):
    response = web_client_for(alice).post(
        reverse("accounts:password-change"),
        {
            "old_password": "wrong",
            "new_password": "lilac-harbour-93",
            "new_password2": "lilac-harbour-93",
        },
    )

    assert "Your current password is not right" in response.content.decode()


def test_temporary_password_forces_a_change(alice, ada, web_client_for):
    admin = web_client_for(ada)

    weak = admin.post(
        reverse("accounts:security-temporary-password", args=[alice.pk]), {"password": "123"}
    )
    alice.refresh_from_db()
    assert not alice.must_change_password
    assert weak.status_code == 302

    admin.post(
        reverse("accounts:security-temporary-password", args=[alice.pk]),
        {"password": "temporary-plum-42"},
    )
    client = sign_in("alice", "temporary-plum-42")
    held = client.get("/clients/")
    changed = client.post(
        reverse("accounts:password-change"),
        {
            "old_password": "temporary-plum-42",
            "new_password": "lilac-harbour-93",
            "new_password2": "lilac-harbour-93",
        },
    )

    assert held.status_code == 302
    assert held["Location"] == reverse("accounts:password-change")
    assert changed.status_code == 302
    assert client.get("/clients/").status_code == 200
    assert SignInEvent.objects.get(kind="temporary_password").actor == ada


def test_only_admins_set_temporary_passwords(alice, mallory, web_client_for):
    response = web_client_for(mallory).post(
        reverse("accounts:security-temporary-password", args=[alice.pk]),
        {"password": "temporary-plum-42"},
    )

    assert response.status_code == 403
    alice.refresh_from_db()
    assert alice.check_password("pass-alice")
