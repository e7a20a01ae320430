"""Login throttling and lockout: per account and per client address, a forged
X-Forwarded-For does not help, the messages do not tell whether an account exists."""

import datetime
import re

import pytest
import time_machine
from django.test import Client as DjangoClient
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from kartoteka.accounts.models import SignInEvent, SignInThrottle
from kartoteka.accounts.services import api_token_create
from kartoteka.core.client_ip import client_ip

LOGIN = "/accounts/login/"
LOCKED = "Too many failed attempts"
WRONG = "Please enter a correct username and password"


def attempt(client, username, password, forwarded=None, remote="203.0.113.7"):
    extra = {"REMOTE_ADDR": remote}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def test_ten_failures_lock_the_account_even_with_the_right_password(alice):
    client = DjangoClient()
    for _i in range(9):
        assert WRONG in attempt(client, "alice", "wrong").content.decode()

    tenth = attempt(client, "alice", "wrong")
    right = attempt(client, "alice", "pass-alice")

    assert LOCKED in tenth.content.decode()
    assert right.status_code == 200
    assert LOCKED in right.content.decode()
    assert client.get("/clients/").status_code == 302
    kinds = list(SignInEvent.objects.order_by("pk").values_list("kind", flat=True))
    assert kinds == ["failed"] * 10 + ["locked_out", "refused_locked"]
    assert SignInEvent.objects.filter(kind="failed", user=alice).count() == 10


def test_rotating_forwarded_for_does_not_escape_the_address_lockout(alice, bob):
    client = DjangoClient()
    with override_settings(KARTOTEKA_LOGIN_MAX_FAILURES_PER_IP=5):
        for i in range(5):
            # A different account name and a different forged address each time.
            attempt(client, f"guess{i}", "wrong", forwarded=f"198.51.100.{i}")

        refused = attempt(client, "bob", "pass-bob", forwarded="192.0.2.200")

    assert LOCKED in refused.content.decode()
    assert SignInThrottle.objects.get(scope="address").value == "203.0.113.7"
    assert SignInThrottle.objects.filter(scope="address").count() == 1


def test_rotating_forwarded_for_behind_a_trusted_proxy_uses_the_proxy_seen_address(alice):
    client = DjangoClient()
    with override_settings(KARTOTEKA_TRUSTED_PROXIES=["10.0.0.0/8"]):
        for i in range(10):
            # The client forges the left part; the proxy appends the real address.
            attempt(
                client, "alice", "wrong", forwarded=f"1.2.3.{i}, 203.0.113.9", remote="10.0.0.2"
            )
        right = attempt(
            client, "alice", "pass-alice", forwarded="9.9.9.9, 203.0.113.9", remote="10.0.0.2"
        )

    assert LOCKED in right.content.decode()
    assert set(SignInThrottle.objects.values_list("scope", "value")) == {
        ("account", "alice"),
        ("address", "203.0.113.9"),
    }


@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "expected"),
    [
        ("203.0.113.7", "1.1.1.1", [], "203.0.113.7"),
        ("203.0.113.7", "1.1.1.1", ["10.0.0.0/8"], "203.0.113.7"),
        ("10.0.0.2", "1.1.1.1, 203.0.113.9", ["10.0.0.0/8"], "203.0.113.9"),
        ("10.0.0.2", "203.0.113.9, 10.0.0.5", ["10.0.0.0/8"], "203.0.113.9"),
        ("10.0.0.2", "", ["10.0.0.0/8"], "10.0.0.2"),
        ("10.0.0.2", "not-an-ip", ["10.0.0.0/8"], "10.0.0.2"),
        ("::1", "2001:db8::1", ["::1"], "2001:db8::1"),
    ],
)
def test_client_ip(rf, remote, forwarded, trusted, expected):
    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)

    with override_settings(KARTOTEKA_TRUSTED_PROXIES=trusted):
        assert client_ip(request) == expected


def test_unknown_and_known_accounts_read_the_same(alice, db):
    client = DjangoClient()
    for _i in range(10):
        attempt(client, "alice", "wrong", remote="203.0.113.1")
        attempt(client, "nobody", "wrong", remote="203.0.113.2")

    known = attempt(client, "alice", "x", remote="203.0.113.1").content.decode()
    unknown = attempt(client, "nobody", "x", remote="203.0.113.2").content.decode()

    assert LOCKED in known

    def masked(page: str, name: str) -> str:
        return re.sub(r'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+', "", page).replace(
            name, "NAME"
        )

    assert masked(known, "alice") == masked(unknown, "nobody")


def test_lockout_ends_and_doubles_next_time(alice):
    client = DjangoClient()
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        for _i in range(10):
            attempt(client, "alice", "wrong")
        first = SignInThrottle.objects.get(scope="account")
        assert first.locked_until == start + datetime.timedelta(minutes=15)

        traveller.shift(datetime.timedelta(minutes=16))
        for _i in range(10):
            attempt(client, "alice", "wrong")
        second = SignInThrottle.objects.get(scope="account")
        assert second.lockouts == 2
        assert second.locked_until == timezone.now() + datetime.timedelta(minutes=30)

        traveller.shift(datetime.timedelta(minutes=31))
        response = attempt(client, "alice", "pass-alice")

    assert response.status_code == 302
    assert not SignInThrottle.objects.filter(scope="account").exists()


def test_admin_unlocks_an_account(alice, ada, web_client_for):
    client = DjangoClient()
    for _i in range(10):
        attempt(client, "alice", "wrong")
    lock = SignInThrottle.objects.get(scope="account")
    admin = web_client_for(ada)

    page = admin.get(reverse("accounts:security"))
    unlocked = admin.post(reverse("accounts:security-unlock", args=[lock.pk]))

    assert "alice" in page.content.decode()
    assert unlocked.status_code == 302
    assert attempt(client, "alice", "pass-alice", remote="198.51.100.1").status_code == 302
    assert SignInEvent.objects.filter(kind="unlocked", user=alice, actor=ada).count() == 1


@pytest.mark.parametrize("username", ["alice", "mallory", "rita"])
def test_only_admins_reach_the_security_page(users, web_client_for, username):
    client = DjangoClient()
    for _i in range(10):
        attempt(client, "bob", "wrong")
    lock = SignInThrottle.objects.get(scope="account")
    web = web_client_for(users[username])

    assert web.get(reverse("accounts:security")).status_code == 403
    assert web.post(reverse("accounts:security-unlock", args=[lock.pk])).status_code == 403
    assert SignInThrottle.objects.filter(pk=lock.pk).exists()


def test_wrong_api_tokens_lock_the_address(alice):
    _token, key = api_token_create(actor=alice, name="real")
    forged = DjangoClient(headers={"Authorization": "Bearer kt_wrong"})
    with override_settings(KARTOTEKA_LOGIN_MAX_FAILURES_PER_IP=3):
        answers = [
            forged.get(
                "/api/v1/me", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR=f"1.1.1.{i}"
            ).status_code
            for i in range(4)
        ]
        valid = DjangoClient(headers={"Authorization": f"Bearer {key}"}).get(
            "/api/v1/me", REMOTE_ADDR="203.0.113.5"
        )

    assert answers == [401, 401, 401, 429]
    assert valid.status_code == 200
    assert SignInEvent.objects.filter(kind="token_refused").count() == 3
