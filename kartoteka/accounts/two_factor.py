"""TOTP two-factor authentication (RFC 6238) and one-time recovery codes.

The secret is encrypted at rest (core.crypto). A code is accepted for the current 30-second
step and one step either side (clock drift), and never twice: the step used last is stored
and any step up to it is refused. Recovery codes are random, shown once, stored as keyed
hashes, and each works once.
"""

import hashlib
import hmac
import secrets

import pyotp
import segno
from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import RecoveryCode, SignInEvent, TwoFactorDevice, User
from kartoteka.accounts.signin import Client, event_record
from kartoteka.core import crypto

PURPOSE = "totp"
RECOVERY_CODE_COUNT = 10
ISSUER = "Kartoteka"


def _totp(device: TwoFactorDevice) -> pyotp.TOTP:
    return pyotp.TOTP(crypto.decrypt(device.secret_encrypted, purpose=PURPOSE))


def _recovery_hash(code: str) -> str:
    normalised = code.replace("-", "").replace(" ", "").lower()
    key = hashlib.sha256(("kartoteka.recovery:" + settings.SECRET_KEY).encode()).digest()
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()


def is_enabled(user: User) -> bool:
    """Whether the user has a confirmed authenticator."""
    return TwoFactorDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def is_required(user: User) -> bool:
    """Whether the user's role must use two-factor sign-in (KARTOTEKA_2FA_REQUIRED_ROLES)."""
    return user.role in settings.KARTOTEKA_2FA_REQUIRED_ROLES


@transaction.atomic
def enrolment_start(*, actor: User) -> TwoFactorDevice:
    """The enrolment in progress for `actor`, a new secret if there is none. A confirmed
    device is refused: disable it first."""
    device = TwoFactorDevice.objects.select_for_update().filter(user=actor).first()
    if device is not None and device.confirmed_at is not None:
        raise ValidationError(_("Two-factor sign-in is already on."), code="already_enabled")
    if device is None:
        device = TwoFactorDevice.objects.create(
            user=actor, secret_encrypted=crypto.encrypt(pyotp.random_base32(), purpose=PURPOSE)
        )
    return device


def secret(device: TwoFactorDevice) -> str:
    """The base32 secret, for the manual-entry key on the enrolment page."""
    return crypto.decrypt(device.secret_encrypted, purpose=PURPOSE)


def qr_svg(device: TwoFactorDevice) -> str:
    """The otpauth:// URI as an inline SVG QR code (made here; no outside service)."""
    uri = _totp(device).provisioning_uri(name=device.user.username, issuer_name=ISSUER)
    return segno.make(uri, error="m").svg_inline(scale=4, border=2, dark="#1b2330")


def _accept_code(device: TwoFactorDevice, code: str) -> bool:
    """Check a TOTP code and burn its step; False for wrong or already used codes."""
    code = code.replace(" ", "").strip()
    if not (code.isdigit() and len(code) == 6):
        return False
    totp = _totp(device)
    now = timezone.now().timestamp()
    current = int(now // totp.interval)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            if device.last_used_step is not None and step <= device.last_used_step:
                return False  # replay: this code (or a later one) was already used
            device.last_used_step = step
            device.save(update_fields=["last_used_step"])
            return True
    return False


def _new_recovery_codes(user: User) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = []
    for _i in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(5)  # 40 bits each, typed as xxxxx-xxxxx
        codes.append(f"{raw[:5]}-{raw[5:]}")
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user=user, code_hash=_recovery_hash(code)) for code in codes
    )
    return codes


@transaction.atomic
def enrolment_confirm(*, actor: User, code: str, client: Client | None = None) -> list[str]:
    """Turn two-factor sign-in on with a first code from the app; returns the recovery codes
    (shown once). Records an event."""
    device = TwoFactorDevice.objects.select_for_update().filter(user=actor).first()
    if device is None or device.confirmed_at is not None:
        raise ValidationError({"code": _("Start the enrolment again.")}, code="no_enrolment")
    if not _accept_code(device, code):
        raise ValidationError(
            {"code": _("The code is not right. Check the time on your phone and try again.")},
            code="wrong_code",
        )
    device.confirmed_at = timezone.now()
    device.save(update_fields=["confirmed_at"])
    event_record(kind=SignInEvent.Kind.TWO_FACTOR_ENABLED, user=actor, client=client)
    return _new_recovery_codes(actor)


@transaction.atomic
def code_verify(*, user: User, code: str, client: Client | None = None) -> bool:
    """The second sign-in step: a TOTP code or an unused recovery code. Records the event of a
    failure or of a recovery code used; the caller counts failures against the lockout."""
    device = (
        TwoFactorDevice.objects.select_for_update()
        .filter(user=user, confirmed_at__isnull=False)
        .first()
    )
    if device is None:
        return False
    if _accept_code(device, code):
        return True
    recovery = (
        RecoveryCode.objects.select_for_update()
        .filter(user=user, code_hash=_recovery_hash(code), used_at__isnull=True)
        .first()
    )
    if recovery is not None and code.strip():
        recovery.used_at = timezone.now()
        recovery.save(update_fields=["used_at"])
        event_record(kind=SignInEvent.Kind.RECOVERY_CODE_USED, user=user, client=client)
        return True
    event_record(kind=SignInEvent.Kind.TWO_FACTOR_FAILED, user=user, client=client)
    return False


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


@transaction.atomic
def recovery_codes_regenerate(*, actor: User, code: str, client: Client | None = None) -> list[str]:
    """New recovery codes (the old ones stop working), after a current TOTP code."""
    device = (
        TwoFactorDevice.objects.select_for_update()
        .filter(user=actor, confirmed_at__isnull=False)
        .first()
    )
    if device is None or not _accept_code(device, code):
        raise ValidationError({"code": _("The code is not right.")}, code="wrong_code")
    event_record(kind=SignInEvent.Kind.RECOVERY_CODES_REGENERATED, user=actor, client=client)
    return _new_recovery_codes(actor)


@transaction.atomic
def disable(*, actor: User, password: str, code: str, client: Client | None = None) -> None:
    """Turn two-factor sign-in off with the password and a code (TOTP or recovery)."""
    errors = {}
    if not check_password(password, actor.password):
        errors["password"] = _("The password is not right.")
    elif not code_verify(user=actor, code=code, client=client):
        errors["code"] = _("The code is not right.")
    if errors:
        raise ValidationError(errors, code="invalid")
    if is_required(actor):
        raise ValidationError(
            _("Your role must use two-factor sign-in; it cannot be turned off."),
            code="required",
        )
    TwoFactorDevice.objects.filter(user=actor).delete()
    RecoveryCode.objects.filter(user=actor).delete()
    event_record(kind=SignInEvent.Kind.TWO_FACTOR_DISABLED, user=actor, client=client)


@transaction.atomic
def reset(*, actor: User, user: User, client: Client | None = None) -> None:
    """An administrator removes a user's authenticator and codes (a lost phone); the user
    signs in with the password alone, and enrols again where the role requires it."""
    if not actor.is_admin_role:
        raise PermissionDenied(_("Only administrators can reset two-factor sign-in."))
    TwoFactorDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    event_record(kind=SignInEvent.Kind.TWO_FACTOR_RESET, user=user, actor=actor, client=client)
