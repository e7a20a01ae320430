import hashlib
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _


def validate_time_zone(value: str) -> None:
    """An IANA zone name such as Europe/Moscow or Asia/Shanghai."""
    if value and value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("Unknown time zone %(value)s: use a name such as Europe/Moscow."),
            code="invalid_time_zone",
            params={"value": value},
        )


class Team(models.Model):
    """A group of employees who share a client base (a sales office, a salon branch)."""

    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """An employee of the business using Kartoteka.

    The role decides what the user may do; team membership decides which cards they see
    (see clients.permissions).
    """

    class Role(models.TextChoices):
        ADMIN = "admin", _("Administrator")
        MANAGER = "manager", _("Manager")
        EMPLOYEE = "employee", _("Employee")
        READ_ONLY = "readonly", _("Read-only")

    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.EMPLOYEE)
    teams = models.ManyToManyField(
        Team, blank=True, related_name="members", verbose_name=_("teams")
    )
    health_access = models.BooleanField(
        _("health data access"),
        default=False,
        help_text=_("May see and edit allergies, conditions and contraindications."),
    )
    language = models.CharField(
        _("language"), max_length=10, blank=True, default="", choices=settings.LANGUAGES
    )
    # Blank: the business's zone (KARTOTEKA_TIME_ZONE). A manager in Shanghai sees a task
    # due "09:00" at nine in Shanghai; the worker reminds at that instant, stored in UTC.
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        default="",
        validators=[validate_time_zone],
        help_text=_("Dates and times are shown in this zone; blank means the business's zone."),
    )
    # Set when an administrator gives a temporary password: the middleware sends the user to
    # the change-password page until they pick their own.
    must_change_password = models.BooleanField(_("must change password"), default=False)
    # Bumped by "sign out everywhere": it is part of the session hash, so every session made
    # before the bump stops matching and Django signs it out.
    session_epoch = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["last_name", "first_name", "username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        if not self.session_epoch:
            # Epoch 0 keeps Django's own hash, so sessions from before this field survive.
            return super()._get_session_auth_hash(secret=secret)  # type: ignore[misc]
        key_salt = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"
        value = f"{self.password}:{self.session_epoch}"
        return salted_hmac(key_salt, value, secret=secret, algorithm="sha256").hexdigest()

    @property
    def zone(self) -> "zoneinfo.ZoneInfo":
        """The user's time zone, falling back to the business's when blank or unknown."""
        try:
            return zoneinfo.ZoneInfo(self.time_zone or settings.TIME_ZONE)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo(settings.TIME_ZONE)

    @property
    def is_admin_role(self) -> bool:
        return self.role == self.Role.ADMIN or self.is_superuser

    def team_ids(self) -> list[int]:
        """Ids of the user's teams, cached on the instance for the length of a request."""
        cached = getattr(self, "_team_ids", None)
        if cached is None:
            cached = list(self.teams.values_list("pk", flat=True))
            self._team_ids = cached
        return cached

    def team_member_ids(self) -> list[int]:
        """Ids of everyone sharing a team with the user (the user included), cached."""
        cached = getattr(self, "_team_member_ids", None)
        if cached is None:
            through = User.teams.through
            cached = sorted(
                set(
                    through.objects.filter(team_id__in=self.team_ids()).values_list(
                        "user_id", flat=True
                    )
                )
                | {self.pk}
            )
            self._team_member_ids = cached
        return cached


class ApiToken(models.Model):
    """A personal API token. Only a hash is stored; the key is shown once, when created.

    A read token may only use safe methods (GET, HEAD, OPTIONS); a write token may do what its
    owner may. An expired token answers 401 like a revoked one.
    """

    class Scope(models.TextChoices):
        READ = "read", _("Read only")
        WRITE = "write", _("Read and write")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    # Tokens from before scopes keep working as they did: full (write) scope, no expiry.
    scope = models.CharField(_("scope"), max_length=8, choices=Scope.choices, default=Scope.WRITE)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()


class SignInThrottle(models.Model):
    """Failed sign-in attempts counted per account name and per client address.

    The account row is keyed by the name typed, whether or not such a user exists, so a lockout
    says nothing about who has an account. `lockouts` grows with each lockout in a row and
    doubles its length (exponential back-off).
    """

    class Scope(models.TextChoices):
        ACCOUNT = "account", _("Account")
        ADDRESS = "address", _("Address")

    scope = models.CharField(max_length=8, choices=Scope.choices)
    value = models.CharField(max_length=150)
    failures = models.PositiveIntegerField(default=0)
    lockouts = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "value"], name="accounts_throttle_unique")
        ]
        verbose_name = _("sign-in throttle")
        verbose_name_plural = _("sign-in throttles")

    def __str__(self) -> str:
        return f"{self.scope}:{self.value}"


class SignInEvent(models.Model):
    """One sign-in security event (success, failure, lockout, 2FA change, sign-out everywhere).

    Append-only; the audit trail reads it. `username` is what was typed, kept even when no such
    user exists.
    """

    class Kind(models.TextChoices):
        SIGNED_IN = "signed_in", _("Signed in")
        FAILED = "failed", _("Wrong password")
        LOCKED_OUT = "locked_out", _("Locked out")
        REFUSED_LOCKED = "refused_locked", _("Refused while locked")
        TWO_FACTOR_FAILED = "two_factor_failed", _("Wrong two-factor code")
        RECOVERY_CODE_USED = "recovery_code_used", _("Recovery code used")
        TWO_FACTOR_ENABLED = "two_factor_enabled", _("Two-factor enabled")
        TWO_FACTOR_DISABLED = "two_factor_disabled", _("Two-factor disabled")
        TWO_FACTOR_RESET = "two_factor_reset", _("Two-factor reset by an administrator")
        RECOVERY_CODES_REGENERATED = "recovery_codes_new", _("New recovery codes")
        SIGNED_OUT = "signed_out", _("Signed out")
        SESSION_ENDED = "session_ended", _("Session signed out")
        SIGNED_OUT_EVERYWHERE = "signed_out_everywhere", _("Signed out everywhere")
        SESSION_EXPIRED = "session_expired", _("Session expired")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        TEMPORARY_PASSWORD = "temporary_password", _("Temporary password set")
        UNLOCKED = "unlocked", _("Unlocked by an administrator")
        TOKEN_REFUSED = "token_refused", _("API token refused")

    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True, default="")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    ip = models.CharField(max_length=64, blank=True, default="")
    user_agent = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("sign-in event")
        verbose_name_plural = _("sign-in events")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.username}"


class TwoFactorDevice(models.Model):
    """A user's TOTP authenticator (RFC 6238).

    The secret is stored encrypted (core.crypto). Until `confirmed_at` is set it is only an
    enrolment in progress. `last_used_step` refuses a code a second time (replay).
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="two_factor")
    secret_encrypted = models.TextField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_used_step = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("two-factor device")
        verbose_name_plural = _("two-factor devices")

    def __str__(self) -> str:
        return str(self.user)


class RecoveryCode(models.Model):
    """A one-time recovery code for when the authenticator is lost; only its hash is kept."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64, db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")

    def __str__(self) -> str:
        return f"{self.user} #{self.pk}"


class UserSession(models.Model):
    """One signed-in browser: its session, where it signed in from, when it was last seen."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="signed_in_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    ip = models.CharField(max_length=64, blank=True, default="")
    user_agent = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()

    class Meta:
        ordering = ["-last_seen_at", "-pk"]
        verbose_name = _("session")
        verbose_name_plural = _("sessions")

    def __str__(self) -> str:
        return f"{self.user} {self.ip}"

    @property
    def device(self) -> str:
        """A short "browser on system" from the user agent, for people rather than programs."""
        agent = self.user_agent
        browser = next((name for key, name in _BROWSERS if key in agent), "")
        system = next((name for key, name in _SYSTEMS if key in agent), "")
        if browser and system:
            return _("%(browser)s on %(system)s") % {"browser": browser, "system": system}
        return browser or system or agent[:60]


# Checked in order: Edge and Opera also say Chrome, Chrome also says Safari.
_BROWSERS = [
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("YaBrowser/", "Yandex Browser"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
]
_SYSTEMS = [
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
]
