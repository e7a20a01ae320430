import hashlib
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
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

    class Meta:
        ordering = ["last_name", "first_name", "username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username

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
    """A personal API token. Only a hash is stored; the key is shown once, when created."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
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
