"""Two-factor sign-in: enrolment, the code step, replay refusal, recovery codes, turning it
off, per-role enforcement, an administrator's reset, the secret encrypted at rest."""

import base64
import os
import re

import pyotp
import pytest
import time_machine
from django.test import Client as DjangoClient
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from kartoteka.accounts import two_factor
from kartoteka.accounts.models import RecoveryCode, SignInEvent, TwoFactorDevice
from kartoteka.core import crypto

LOGIN = "/accounts/login/"
VERIFY = "/accounts/login/code/"
TWO_FACTOR = "/accounts/two-factor/"


@pytest.fixture(autouse=True)
def _key_file(tmp_path, settings):
    settings.KARTOTEKA_ENCRYPTION_KEY_FILE = tmp_path / "keys"


def enrol(web) -> tuple[str, list[str]]:
    """Enrol through the page; returns the secret and the recovery codes shown."""
    page = web.get(TWO_FACTOR).content.decode()
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page).group(1)
    response = web.post(TWO_FACTOR, {"action": "confirm", "code": pyotp.TOTP(secret).now()})
    return secret, response.context["recovery_codes"]


def password_step(client, username="alice", password="pass-alice"):
    return client.post(LOGIN, {"username": username, "password": password})


def test_enrolment_shows_qr_and_key_and_stores_the_secret_encrypted(alice, web_client_for):
    web = web_client_for(alice)

    page = web.get(TWO_FACTOR).content.decode()

    secret = re.search(r'data-secret="([A-Z2-7]+)"', page).group(1)
    assert "<svg" in page
    device = TwoFactorDevice.objects.get(user=alice)
    assert device.confirmed_at is None
    assert secret not in device.secret_encrypted
    assert crypto.decrypt(device.secret_encrypted, purpose="totp") == secret
    assert two_factor.is_enabled(alice) is False


def test_enrolment_needs_a_right_code(alice, web_client_for):
    web = web_client_for(alice)
    web.get(TWO_FACTOR)

    response = web.post(TWO_FACTOR, {"action": "confirm", "code": "000000"})

    assert "The code is not right" in response.content.decode()
    assert two_factor.is_enabled(alice) is False
    assert RecoveryCode.objects.count() == 0


def test_enrolled_user_signs_in_with_password_then_code(alice, web_client_for):
    secret, codes = enrol(web_client_for(alice))
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert RecoveryCode.objects.filter(user=alice).count() == 10
    assert not RecoveryCode.objects.filter(code_hash__in=codes).exists()
    client = DjangoClient()

    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=60), tick=False):
        first = password_step(client)
        between = client.get("/clients/")
        second = client.post(VERIFY, {"code": pyotp.TOTP(secret).now()})
        after = client.get("/clients/")

    assert first.status_code == 302
    assert first["Location"] == VERIFY
    assert between.status_code == 302  # the password alone does not sign in
    assert second.status_code == 302
    assert after.status_code == 200
    assert SignInEvent.objects.filter(user=alice, kind="two_factor_enabled").count() == 1
    assert SignInEvent.objects.filter(user=alice, kind="signed_in").count() == 1


def test_wrong_code_is_refused(alice, web_client_for):
    enrol(web_client_for(alice))
    client = DjangoClient()
    password_step(client)

    response = client.post(VERIFY, {"code": "123456"})

    assert "The code is not right" in response.content.decode()
    assert client.get("/clients/").status_code == 302
    assert SignInEvent.objects.filter(user=alice, kind="two_factor_failed").count() == 1


def test_a_code_cannot_be_used_twice(alice, web_client_for):
    secret, _codes = enrol(web_client_for(alice))
    later = timezone.now() + timezone.timedelta(seconds=90)
    with time_machine.travel(later, tick=False):
        code = pyotp.TOTP(secret).now()
        first = DjangoClient()
        password_step(first)
        assert first.post(VERIFY, {"code": code}).status_code == 302

        replay = DjangoClient()
        password_step(replay)
        response = replay.post(VERIFY, {"code": code})

    assert response.status_code == 200
    assert "The code is not right" in response.content.decode()
    assert replay.get("/clients/").status_code == 302


def test_recovery_code_works_once(alice, web_client_for):
    _secret, codes = enrol(web_client_for(alice))
    first, second = DjangoClient(), DjangoClient()

    password_step(first)
    used = first.post(VERIFY, {"code": codes[3].upper()})
    password_step(second)
    again = second.post(VERIFY, {"code": codes[3]})

    assert used.status_code == 302
    assert first.get("/clients/").status_code == 200
    assert again.status_code == 200
    assert second.get("/clients/").status_code == 302
    assert two_factor.recovery_codes_left(alice) == 9
    assert SignInEvent.objects.filter(user=alice, kind="recovery_code_used").count() == 1


def test_regenerated_recovery_codes_replace_the_old(alice, web_client_for):
    web = web_client_for(alice)
    secret, old = enrol(web)

    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=60), tick=False):
        response = web.post(TWO_FACTOR, {"action": "regenerate", "code": pyotp.TOTP(secret).now()})
    new = response.context["recovery_codes"]

    assert len(new) == 10
    assert set(new).isdisjoint(old)
    client = DjangoClient()
    password_step(client)
    assert client.post(VERIFY, {"code": old[0]}).status_code == 200
    assert client.post(VERIFY, {"code": new[0]}).status_code == 302


def test_code_failures_count_towards_the_lockout(alice, web_client_for, settings):
    secret, _codes = enrol(web_client_for(alice))
    settings.KARTOTEKA_LOGIN_MAX_FAILURES = 3
    client = DjangoClient()
    password_step(client)

    for _i in range(3):
        client.post(VERIFY, {"code": "000000"})
    password_step(client)
    locked = client.post(LOGIN, {"username": "alice", "password": "pass-alice"})

    assert "Too many failed attempts" in locked.content.decode()
    assert SignInEvent.objects.filter(user=alice, kind="locked_out").count() == 1
    assert client.get("/clients/").status_code == 302
    assert secret


def test_turning_off_needs_password_and_code(alice, web_client_for):
    web = web_client_for(alice)
    secret, codes = enrol(web)

    wrong = web.post(TWO_FACTOR, {"action": "disable", "password": "nope", "code": codes[0]})
    assert "The password is not right" in wrong.content.decode()
    assert two_factor.is_enabled(alice)

    right = web.post(TWO_FACTOR, {"action": "disable", "password": "pass-alice", "code": codes[0]})

    assert right.status_code == 302
    assert not TwoFactorDevice.objects.filter(user=alice).exists()
    assert not RecoveryCode.objects.filter(user=alice).exists()
    assert SignInEvent.objects.filter(user=alice, kind="two_factor_disabled").count() == 1
    assert password_step(DjangoClient()).status_code == 302
    assert secret


@override_settings(KARTOTEKA_2FA_REQUIRED_ROLES=["manager"])
def test_required_role_is_held_at_enrolment(mallory, alice, web_client_for):
    client = DjangoClient()
    signed = password_step(client, "mallory", "pass-mallory")
    held = client.get("/clients/")
    api = client.get("/api/v1/me")
    enrolment = client.get(TWO_FACTOR)

    assert signed.status_code == 302
    assert held.status_code == 302
    assert held["Location"] == TWO_FACTOR
    assert api.status_code == 403
    assert api.json()["code"] == "sign_in_incomplete"
    assert "Your role must use two-factor sign-in" in enrolment.content.decode()
    # Other roles are not held.
    assert web_client_for(alice).get("/clients/").status_code == 200

    secret = re.search(r'data-secret="([A-Z2-7]+)"', enrolment.content.decode()).group(1)
    client.post(TWO_FACTOR, {"action": "confirm", "code": pyotp.TOTP(secret).now()})
    assert client.get("/clients/").status_code == 200


@override_settings(KARTOTEKA_2FA_REQUIRED_ROLES=["manager"])
def test_required_role_cannot_turn_it_off(mallory, web_client_for):
    web = web_client_for(mallory)
    _secret, codes = enrol(web)

    response = web.post(
        TWO_FACTOR, {"action": "disable", "password": "pass-mallory", "code": codes[0]}
    )

    assert response.status_code == 200
    assert two_factor.is_enabled(mallory)


def test_admin_resets_a_users_two_factor(alice, ada, bob, web_client_for):
    enrol(web_client_for(alice))

    refused = web_client_for(bob).post(
        reverse("accounts:security-two-factor-reset", args=[alice.pk])
    )
    listing = web_client_for(ada).get(reverse("accounts:security")).content.decode()
    reset = web_client_for(ada).post(reverse("accounts:security-two-factor-reset", args=[alice.pk]))

    assert refused.status_code == 403
    assert "Alice" in listing
    assert reset.status_code == 302
    assert not two_factor.is_enabled(alice)
    assert SignInEvent.objects.get(kind="two_factor_reset").actor == ada
    assert password_step(DjangoClient()).status_code == 302


def test_pending_code_step_expires(alice, web_client_for):
    secret, _codes = enrol(web_client_for(alice))
    client = DjangoClient()
    password_step(client)

    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=6), tick=False):
        response = client.post(VERIFY, {"code": pyotp.TOTP(secret).now()})

    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert client.get("/clients/").status_code == 302


def test_crypto_round_trip_purpose_and_rotation(tmp_path, settings):
    settings.KARTOTEKA_ENCRYPTION_KEY_FILE = tmp_path / "rot.keys"
    sealed = crypto.encrypt("JBSWY3DPEHPK3PXP", purpose="totp")

    assert crypto.decrypt(sealed, purpose="totp") == "JBSWY3DPEHPK3PXP"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(sealed, purpose="other")
    tampered = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(tampered, purpose="totp")
    assert (tmp_path / "rot.keys").stat().st_mode & 0o777 == 0o600

    # A second key appended: new values use it, old ones still open.
    new_key = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    with (tmp_path / "rot.keys").open("a") as handle:
        handle.write(f"2:{new_key}\n")
    crypto._keyring.cache_clear()
    resealed = crypto.encrypt("x", purpose="totp")

    assert resealed.startswith("kt1.2.")
    assert crypto.decrypt(sealed, purpose="totp") == "JBSWY3DPEHPK3PXP"
