"""Sign-in security: failure counting and lockout, sign-in events.

Failures are counted per account name typed and per client address (core.client_ip), in the
database so every worker process sees the same counts. After KARTOTEKA_LOGIN_MAX_FAILURES
failures in a row on an account (KARTOTEKA_LOGIN_MAX_FAILURES_PER_IP from one address) it is
locked for KARTOTEKA_LOGIN_LOCKOUT_MINUTES, doubled for each further lockout in a row. While
locked, attempts are refused before the password is checked, with the same message whether
the account exists or not.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import SignInEvent, SignInThrottle, User

# Failures further apart than this no longer add up; a day without failures forgets lockouts.
FAILURE_WINDOW = datetime.timedelta(hours=1)
LOCKOUT_MEMORY = datetime.timedelta(hours=24)
MAX_LOCKOUT = datetime.timedelta(hours=24)


@dataclass(frozen=True)
class Client:
    """Where a request came from, as recorded in events."""

    ip: str = ""
    user_agent: str = ""


def event_record(
    *,
    kind: str,
    client: Client | None = None,
    user: User | None = None,
    username: str = "",
    actor: User | None = None,
) -> SignInEvent:
    """Append one sign-in event (see SignInEvent.Kind)."""
    client = client or Client()
    return SignInEvent.objects.create(
        kind=kind,
        user=user if getattr(user, "pk", None) else None,
        username=(username or getattr(user, "username", ""))[:150],
        actor=actor,
        ip=client.ip[:64],
        user_agent=client.user_agent[:300],
    )


def _keys(username: str, ip: str) -> list[tuple[str, str]]:
    keys: list[tuple[str, str]] = []
    if username:
        keys.append((SignInThrottle.Scope.ACCOUNT, username.strip().lower()[:150]))
    if ip:
        keys.append((SignInThrottle.Scope.ADDRESS, ip[:150]))
    return keys


def locked_until(*, username: str, ip: str) -> datetime.datetime | None:
    """When the later of the account's and the address's lockouts ends, or None if neither is
    locked now."""
    query = Q(pk__in=[])
    for scope, value in _keys(username, ip):
        query |= Q(scope=scope, value=value)
    ends = [
        end
        for end in SignInThrottle.objects.filter(
            query, locked_until__gt=timezone.now()
        ).values_list("locked_until", flat=True)
        if end is not None
    ]
    return max(ends) if ends else None


def _row(scope: str, value: str) -> SignInThrottle:
    try:
        with transaction.atomic():
            row, _created = SignInThrottle.objects.select_for_update().get_or_create(
                scope=scope, value=value
            )
    except IntegrityError:  # created by a parallel failure a moment ago
        row = SignInThrottle.objects.select_for_update().get(scope=scope, value=value)
    return row


@transaction.atomic
def failure_register(*, username: str, ip: str) -> bool:
    """Count one failure for the account name and the address; True when it locked one."""
    now = timezone.now()
    locked = False
    base = datetime.timedelta(minutes=settings.KARTOTEKA_LOGIN_LOCKOUT_MINUTES)
    for scope, value in _keys(username, ip):
        row = _row(scope, value)
        last = row.last_failure_at
        if last is None or now - last > LOCKOUT_MEMORY:
            row.failures, row.lockouts = 0, 0
        elif now - last > FAILURE_WINDOW:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        limit = (
            settings.KARTOTEKA_LOGIN_MAX_FAILURES
            if scope == SignInThrottle.Scope.ACCOUNT
            else settings.KARTOTEKA_LOGIN_MAX_FAILURES_PER_IP
        )
        if row.failures >= limit:
            row.lockouts += 1
            row.failures = 0
            row.locked_until = now + min(base * 2 ** (row.lockouts - 1), MAX_LOCKOUT)
            locked = True
        row.save()
    return locked


@transaction.atomic
def success_register(*, username: str) -> None:
    """A right password (and code) clears the account's failures; the address keeps its own,
    so one valid account cannot launder an attacker's address."""
    SignInThrottle.objects.filter(
        scope=SignInThrottle.Scope.ACCOUNT, value=username.strip().lower()
    ).delete()


@transaction.atomic
def throttle_unlock(*, actor: User, throttle: SignInThrottle) -> None:
    """Lift a lockout (administrators only). Records an event."""
    if not actor.is_admin_role:
        raise PermissionDenied(_("Only administrators can unlock sign-in."))
    user = None
    if throttle.scope == SignInThrottle.Scope.ACCOUNT:
        user = User.objects.filter(username__iexact=throttle.value).first()
    event_record(kind=SignInEvent.Kind.UNLOCKED, user=user, username=throttle.value, actor=actor)
    throttle.delete()


def locked_message() -> str:
    # The same words for a real and a made-up account: a lockout must not confirm a name.
    return _("Too many failed attempts. Sign-in is paused for a while; try again later.")


@dataclass
class PasswordResult:
    user: User | None
    locked: bool = False


def password_check(*, username: str, password: str, client: Client) -> PasswordResult:
    """The first sign-in step: the password, behind the lockout. Records the event."""
    if locked_until(username=username, ip=client.ip):
        event_record(kind=SignInEvent.Kind.REFUSED_LOCKED, username=username, client=client)
        return PasswordResult(user=None, locked=True)
    user = authenticate(None, username=username, password=password)
    if not isinstance(user, User):
        known = User.objects.filter(username__iexact=username).first()
        event_record(kind=SignInEvent.Kind.FAILED, user=known, username=username, client=client)
        if failure_register(username=username, ip=client.ip):
            event_record(
                kind=SignInEvent.Kind.LOCKED_OUT, user=known, username=username, client=client
            )
            return PasswordResult(user=None, locked=True)
        return PasswordResult(user=None)
    return PasswordResult(user=user)
