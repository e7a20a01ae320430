"""Exports of client lists to files, and saved searches (named filters of the client list)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class SavedSearchQuerySet(models.QuerySet["SavedSearch"]):
    def visible_to(self, user: object) -> "SavedSearchQuerySet":
        """The user's own searches and those their teammates shared with the team."""
        if user is None or not getattr(user, "is_authenticated", False):
            return self.none()
        team_ids = user.team_ids()  # type: ignore[attr-defined]
        rule = Q(owner_id=user.pk)  # type: ignore[attr-defined]
        if team_ids:
            rule |= Q(shared=True, owner__teams__in=team_ids)
        return self.filter(rule).distinct()


class SavedSearch(models.Model):
    """A named set of client-list filters (the list's query string), to reopen or export.

    The filters are stored as the query string the list page uses, so a saved search means
    exactly what the list showed, and the visibility rules are applied when it is used, for
    whoever uses it: a shared search never shows a teammate more than they may see.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches"
    )
    name = models.CharField(_("name"), max_length=100)
    query = models.CharField(_("filters"), max_length=2000, blank=True, default="")
    shared = models.BooleanField(
        _("shared with my teams"),
        default=False,
        help_text=_("Teammates see it in their list of searches."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SavedSearchQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("saved search")
        verbose_name_plural = _("saved searches")
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"],
                name="saved_search_owner_name_unique",
                violation_error_message=_("You already have a search with this name."),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        url = reverse("clients:list")
        return f"{url}?{self.query}" if self.query else url


class Export(models.Model):
    """One export of a filtered client list to a file: who, what, in which format, how far.

    The file lives in the default storage under exports/ (the data directory, never served
    publicly); it is downloaded only through exports:download, which checks the reader.
    `replaced` counts values that could not be written in the chosen encoding as they are
    (Chinese names in Windows-1251) and were transliterated instead.
    """

    class Format(models.TextChoices):
        XLSX = "xlsx", _("Excel (XLSX)")
        CSV = "csv", _("CSV, UTF-8")
        CSV_BOM = "csv_bom", _("CSV, UTF-8 with BOM (Excel)")
        CSV_1251 = "csv_1251", _("CSV, Windows-1251 with ; (Russian Excel)")
        VCARD = "vcard", _("vCard 3.0 (phones, mail programs)")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exports"
    )
    format = models.CharField(_("format"), max_length=10, choices=Format.choices)
    query = models.CharField(_("filters"), max_length=2000, blank=True, default="")
    saved_search = models.ForeignKey(
        SavedSearch, null=True, blank=True, on_delete=models.SET_NULL, related_name="exports"
    )
    language = models.CharField(max_length=10, default="en")
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    background = models.BooleanField(default=False)
    expected_rows = models.PositiveIntegerField(null=True, blank=True)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    replaced = models.PositiveIntegerField(_("values transliterated"), default=0)
    file = models.FileField(upload_to="exports/", max_length=300, blank=True, default="")
    file_size = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        indexes = [models.Index(fields=["owner", "-created_at"], name="export_owner_idx")]

    def __str__(self) -> str:
        return f"{self.get_format_display()} #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("exports:detail", args=[self.public_id])

    @property
    def progress(self) -> int:
        """Per cent done; the total is known only approximately before the run ends."""
        if self.status == self.Status.DONE:
            return 100
        if not self.expected_rows:
            return 0
        return min(99, self.row_count * 100 // self.expected_rows)

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def extension(self) -> str:
        return {"xlsx": "xlsx", "vcard": "vcf"}.get(self.format, "csv")
