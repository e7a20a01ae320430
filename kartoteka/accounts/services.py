"""Writes for users, teams, passwords and API tokens."""

import datetime
import secrets

from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import ApiToken, SignInEvent, Team, User
from kartoteka.accounts.signin import Client, event_record
from kartoteka.core.changelog import log_change, snapshot

USER_LOG_FIELDS = [
    "username",
    "first_name",
    "last_name",
    "email",
    "role",
    "is_active",
    "health_access",
]


def _ensure_admin(actor: User | None) -> None:
    # actor None means the system itself (first start, CLI run by the operator).
    if actor is not None and not actor.is_admin_role:
        raise PermissionDenied(_("Only administrators can manage users."))


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    password: str | None,
    role: str = User.Role.EMPLOYEE,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    teams: list[Team] | None = None,
    language: str = "",
    health_access: bool | None = None,
) -> User:
    """Create a user with a role and teams. Writes an ObjectChange.

    Health-data access defaults to administrators only; others get it explicitly.
    """
    _ensure_admin(actor)
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=role,
        language=language,
        is_staff=role == User.Role.ADMIN,
        is_superuser=role == User.Role.ADMIN,
        health_access=role == User.Role.ADMIN if health_access is None else health_access,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean()
    user.save()
    if teams:
        user.teams.set(teams)
    log_change(actor=actor, obj=user, action="create", after=snapshot(user, USER_LOG_FIELDS))
    return user


@transaction.atomic
def team_get_or_create(*, actor: User | None, name: str) -> Team:
    """The team called `name`, created when missing."""
    _ensure_admin(actor)
    team, created = Team.objects.get_or_create(name=name)
    if created:
        log_change(actor=actor, obj=team, action="create", after={"name": name})
    return team


@transaction.atomic
def user_set_language(*, actor: User, language: str) -> None:
    """Remember the interface language the user picked."""
    actor.language = language
    actor.full_clean(exclude=["password"])
    actor.save(update_fields=["language"])


@transaction.atomic
def user_set_preferences(*, actor: User, language: str, time_zone: str) -> None:
    """Save the user's own interface language and time zone (blank: the business's).

    Raises ValidationError per field (an unknown zone or language); logs the change.
    """
    before = {"language": actor.language, "time_zone": actor.time_zone}
    actor.language = language.strip()
    actor.time_zone = time_zone.strip()
    try:
        actor.full_clean(exclude=["password", "username", "email", "first_name", "last_name"])
    except ValidationError:
        actor.language, actor.time_zone = before["language"], before["time_zone"]
        raise
    actor.save(update_fields=["language", "time_zone"])
    after = {"language": actor.language, "time_zone": actor.time_zone}
    if after != before:
        log_change(actor=actor, obj=actor, action="update", before=before, after=after)


@transaction.atomic
def password_change(
    *, actor: User, old_password: str, new_password: str, client: Client | None = None
) -> None:
    """Change the actor's own password, checked against the password policy
    (AUTH_PASSWORD_VALIDATORS). Clears a temporary password's must-change flag."""
    errors: dict[str, list[str]] = {}
    if not actor.check_password(old_password):
        errors["old_password"] = [_("Your current password is not right.")]
    try:
        password_validation.validate_password(new_password, actor)
    except ValidationError as exc:
        errors["new_password"] = list(exc.messages)
    if not errors and new_password == old_password:
        errors["new_password"] = [_("Choose a password different from the current one.")]
    if errors:
        raise ValidationError(errors)
    actor.set_password(new_password)
    actor.must_change_password = False
    actor.save(update_fields=["password", "must_change_password"])
    event_record(kind=SignInEvent.Kind.PASSWORD_CHANGED, user=actor, client=client)


@transaction.atomic
def user_set_temporary_password(
    *, actor: User, user: User, password: str, client: Client | None = None
) -> None:
    """An administrator gives a user a temporary password; the user must change it at the next
    sign-in. Their current sessions end (the password is part of the session hash)."""
    _ensure_admin(actor)
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": list(exc.messages)}) from exc
    user.set_password(password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    log_change(
        actor=actor,
        obj=user,
        action="update",
        message="temporary password set",
        before={"must_change_password": False},
        after={"must_change_password": True},
    )
    event_record(kind=SignInEvent.Kind.TEMPORARY_PASSWORD, user=user, actor=actor, client=client)


@transaction.atomic
def api_token_create(
    *,
    actor: User,
    name: str,
    scope: str = ApiToken.Scope.WRITE,
    expires_at: datetime.datetime | None = None,
) -> tuple[ApiToken, str]:
    """Issue a personal API token for `actor`; returns the token row and the key (shown once).

    `scope` read limits it to safe methods; `expires_at` (None: never) must be in the future.
    """
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError(
            {
                "expires_at": ValidationError(
                    _("Choose a moment in the future."), code="expiry_in_past"
                )
            }
        )
    key = "kt_" + secrets.token_urlsafe(32)
    token = ApiToken(
        user=actor,
        name=name,
        prefix=key[:10],
        key_hash=ApiToken.hash_key(key),
        scope=scope,
        expires_at=expires_at,
    )
    token.full_clean()
    token.save()
    log_change(
        actor=actor,
        obj=token,
        action="create",
        after={"name": name, "prefix": token.prefix, "scope": scope, "expires_at": expires_at},
    )
    return token, key


@transaction.atomic
def api_token_revoke(*, actor: User, token: ApiToken) -> None:
    """Revoke a token; only its owner or an administrator may."""
    if token.user_id != actor.pk and not actor.is_admin_role:
        raise PermissionDenied(_("You cannot revoke this token."))
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    log_change(actor=actor, obj=token, action="archive", after={"revoked": True})


def api_token_resolve(key: str) -> ApiToken | None:
    """The live token for `key` (not revoked, not expired, active owner), or None.
    Touches last_used_at at most once a minute."""
    if not key:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash_key(key), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active or token.is_expired:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def api_token_authenticate(key: str) -> User | None:
    """The active user owning the live token `key`, or None."""
    token = api_token_resolve(key)
    return token.user if token is not None else None
