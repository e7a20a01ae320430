"""The audit trail: who looked at, changed, exported or downloaded what, through which door.

Rows are append-only and hash-chained (audit.chain): each row's hash covers its own fields
and the hash of the row before it, so an edited, removed or inserted row breaks the chain
and `kartoteka audit verify` names the first broken row. Rows hold ids, card ids, field
names and counts only, never personal data: erasing a client must never need to rewrite
this chain.
"""

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an audit row outside retention pruning."""


def _refuse(*_args: Any, **_kwargs: Any) -> NoReturn:
    raise AppendOnlyError("Audit events are append-only.")


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    """Refuses bulk update and delete: the only removal is pruning in audit.services."""

    def update(self, **kwargs: Any) -> int:
        _refuse()

    def delete(self) -> tuple[int, dict[str, int]]:
        _refuse()

    def _prune(self) -> int:
        """Delete these rows for retention (audit.services.prune only)."""
        return models.QuerySet.delete(self)[0]


class AuditEvent(models.Model):
    """One audited action: view, change, export, download, merge or import of an object.

    `id` is a gapless sequence handed out under the AuditHead lock, so a missing row shows
    as a gap. `hash` = sha256(canonical fields + `prev_hash`) (audit.chain). The actor FK is
    SET_NULL for joins; the chain covers the copied `actor_username`, which survives the
    user's deletion.
    """

    class Action(models.TextChoices):
        VIEW = "view", _("Viewed")
        CREATE = "create", _("Created")
        UPDATE = "update", _("Changed")
        ARCHIVE = "archive", _("Archived")
        RESTORE = "restore", _("Restored")
        DELETE = "delete", _("Deleted")
        EXPORT = "export", _("Exported")
        PRINT = "print", _("Printed")
        DOWNLOAD = "download", _("Downloaded")
        MERGE = "merge", _("Merged")
        IMPORT = "import", _("Imported")

    class Channel(models.TextChoices):
        WEB = "web", _("Web")
        API = "api", _("API")
        CLI = "cli", _("Command line")
        IMPORT = "import", _("Import")
        SYSTEM = "system", _("System")

    id = models.BigIntegerField(primary_key=True)
    at = models.DateTimeField(_("when"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    actor_username = models.CharField(_("user"), max_length=150, blank=True, default="")
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    channel = models.CharField(_("door"), max_length=16, choices=Channel.choices)
    object_type = models.CharField(_("object type"), max_length=100, blank=True, default="")
    object_id = models.CharField(_("object id"), max_length=64, blank=True, default="")
    client_id = models.BigIntegerField(_("card id"), null=True, blank=True)
    ip = models.CharField(_("address"), max_length=64, blank=True, default="")
    user_agent = models.CharField(_("browser"), max_length=200, blank=True, default="")
    request_id = models.CharField(max_length=64, blank=True, default="")
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True, default="")
    hash = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["client_id", "-at"], name="audit_event_client_idx"),
            models.Index(fields=["actor", "-id"], name="audit_event_actor_idx"),
            models.Index(fields=["action", "-id"], name="audit_event_action_idx"),
        ]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.object_type} {self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding or not self.hash:
            # Only audit.services appends (sealed, with its hash); nothing is ever re-saved.
            _refuse()
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse()

    @property
    def object_label(self) -> str:
        """The object type in words (the model's verbose name), for the audit page."""
        from django.apps import apps

        try:
            model = apps.get_model(self.object_type)
        except (LookupError, ValueError):
            return self.object_type
        return str(model._meta.verbose_name)


class AuditHead(models.Model):
    """The one row (pk 1) holding the chain's tip and its anchor.

    Appending locks it (select_for_update), takes `last_id + 1` and chains on `last_hash`,
    so appends are serialised and the sequence has no gaps. Pruning moves the anchor: the id
    and hash of the last pruned row, where verification starts.
    """

    last_id = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, blank=True, default="")
    anchor_id = models.BigIntegerField(default=0)
    anchor_hash = models.CharField(max_length=64, blank=True, default="")
    anchor_at = models.DateTimeField(null=True, blank=True)
    pruned_total = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain head")

    def __str__(self) -> str:
        return f"#{self.last_id} {self.last_hash[:12]}"
