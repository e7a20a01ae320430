"""Writes for users, teams and API tokens."""

import secrets

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import ApiToken, Team, User
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
def api_token_create(*, actor: User, name: str) -> tuple[ApiToken, str]:
    """Issue a personal API token for `actor`; returns the token row and the key (shown once)."""
    key = "kt_" + secrets.token_urlsafe(32)
    token = ApiToken(user=actor, name=name, prefix=key[:10], key_hash=ApiToken.hash_key(key))
    token.full_clean()
    token.save()
    log_change(
        actor=actor, obj=token, action="create", after={"name": name, "prefix": token.prefix}
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


def api_token_authenticate(key: str) -> User | None:
    """The active user owning `key`, or None. Touches last_used_at at most once a minute."""
    if not key:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash_key(key), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
