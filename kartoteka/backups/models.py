"""Backup runs: one row per backup the worker (or an administrator's "Back up now") made."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class BackupRun(models.Model):
    """One attempt at a backup: when it ran, the archive it wrote and whether it worked.

    The archive itself lives in the backup directory (KARTOTEKA_BACKUP_DIR), not in the
    database: the row is the history an administrator reads on /backups/, and it survives
    the rotation that deletes old archives. A restore brings back the rows of the backup it
    restores, so runs after that backup disappear from the list (their files stay).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        OK = "ok", _("OK")
        FAILED = "failed", _("Failed")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Schedule")
        MANUAL = "manual", _("Back up now")
        COMMAND = "command", _("Command line")

    trigger = models.CharField(
        _("started by"), max_length=10, choices=Trigger.choices, default=Trigger.SCHEDULE
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    file_name = models.CharField(_("file"), max_length=200, blank=True, default="")
    size = models.PositiveBigIntegerField(pgettext_lazy("file size", "size"), default=0)
    encrypted = models.BooleanField(_("encrypted"), default=False)
    verified = models.BooleanField(_("verified"), default=False)
    deleted_old = models.PositiveIntegerField(_("old backups deleted"), default=0)
    error = models.TextField(_("error"), blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("backup run")
        verbose_name_plural = _("backup runs")

    def __str__(self) -> str:
        return self.file_name or f"#{self.pk}"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()
