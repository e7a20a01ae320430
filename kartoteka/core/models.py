from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from kartoteka.core.money import Currency


class ObjectChange(models.Model):
    """One recorded change to a domain object: who, when, through which door, before and after.

    Written only by services through core.changelog, in the same transaction as the change,
    so the log can never disagree with the data. History, restore, audit and import undo
    are built on it.
    """

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Updated")
        ARCHIVE = "archive", _("Archived")
        RESTORE = "restore", _("Restored")
        DELETE = "delete", _("Deleted")

    class Channel(models.TextChoices):
        WEB = "web", _("Web")
        API = "api", _("API")
        CLI = "cli", _("Command line")
        # Written by an import run (covered in the audit trail by the run's one event).
        IMPORT = "import", _("Import")
        SYSTEM = "system", _("System")

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.BigIntegerField()
    object_repr = models.CharField(max_length=300)
    # The card the change belongs to (the card itself, or the card of a contact point, order,
    # interaction, ...), so a card's whole history is one indexed query.
    client_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.SYSTEM)
    request_id = models.CharField(max_length=64, blank=True, default="")
    timestamp = models.DateTimeField(auto_now_add=True, db_index=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    message = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["-timestamp", "-pk"]
        indexes = [
            models.Index(
                fields=["content_type", "object_id", "-timestamp"], name="core_change_object_idx"
            ),
            models.Index(fields=["client_id", "-timestamp"], name="core_change_client_idx"),
        ]
        verbose_name = _("change")
        verbose_name_plural = _("changes")

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_repr}"

    @property
    def changed_fields(self) -> list[str]:
        keys = set(self.before) | set(self.after)
        return sorted(k for k in keys if self.before.get(k) != self.after.get(k))


class Tag(models.Model):
    """A label a business puts on cards ("VIP", "wholesale", "salon-2") to group and filter them."""

    name = models.CharField(_("name"), max_length=64, unique=True)
    color = models.CharField(_("color"), max_length=7, default="#5b6b7f")

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class Jurisdiction(models.TextChoices):
    """Whose data-protection law the business answers to (sets data-subject request deadlines)."""

    RU = "ru", _("Russia (152-FZ)")
    UA = "ua", _("Ukraine (Law on Personal Data Protection)")
    CN = "cn", _("China (PIPL)")
    EU = "eu", _("European Union (GDPR)")


class SiteSettings(models.Model):
    """The business's own settings, edited by an administrator in the UI (one row).

    Operator settings (database, mail, secrets) come from the environment instead.
    """

    company_name = models.CharField(_("company name"), max_length=200, blank=True, default="")
    base_currency = models.CharField(
        _("base currency"), max_length=3, default="RUB", choices=Currency.choices
    )
    jurisdiction = models.CharField(
        _("data-protection law"),
        max_length=2,
        default=Jurisdiction.RU,
        choices=Jurisdiction.choices,
    )

    class Meta:
        verbose_name = _("settings")
        verbose_name_plural = _("settings")

    def __str__(self) -> str:
        return self.company_name or "Kartoteka"

    @classmethod
    def current(cls) -> "SiteSettings":
        settings_row, _created = cls.objects.get_or_create(pk=1)
        return settings_row
