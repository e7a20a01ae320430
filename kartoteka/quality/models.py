"""Data quality of client cards: a stored assessment per card, and bulk normalisation runs
with their before-images (for undo)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CardQuality(models.Model):
    """How complete and valid one card is: a score 0–100 and the problems found.

    Stored (not computed per request) so that "cards that need attention" sorts and filters
    a million cards through an index. Written by quality.services.quality_refresh, which the
    client services call after every create and update; `kartoteka quality --recompute`
    fills it for cards written in bulk (imports, demo data). `client_version` is the card
    version assessed, so a stale row can be recognised. Freshness (days since the data was
    confirmed) changes every day without any write, so it is not part of the stored score:
    it is read from Client.actualized_at when shown and filtered.
    """

    client = models.OneToOneField(
        "clients.Client", on_delete=models.CASCADE, primary_key=True, related_name="quality"
    )
    score = models.PositiveSmallIntegerField(_("quality score"), default=100)
    problems = models.JSONField(default=list, blank=True)
    incomplete = models.BooleanField(default=False)
    invalid = models.BooleanField(default=False)
    client_version = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("card quality")
        verbose_name_plural = _("card quality")
        indexes = [
            models.Index(fields=["score", "client"], name="quality_score_idx"),
            models.Index(fields=["invalid", "score", "client"], name="quality_invalid_idx"),
            models.Index(fields=["incomplete", "score", "client"], name="quality_incomplete_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.client_id}: {self.score}"


class NormalisationRun(models.Model):
    """One bulk normalisation (phones, name case, email case) and how to take it back.

    Every value changed is kept in a NormalisationChange with its before-image and the card
    version it produced; undo restores exactly those values on cards nobody changed since.
    """

    class Operation(models.TextChoices):
        PHONES = "phones", _("Reformat phone numbers (international format)")
        NAMES = "names", _("Fix the case of names (ИВАНОВ иван → Иванов Иван)")
        EMAILS = "emails", _("Lower-case email addresses")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("Running")
        APPLIED = "applied", _("Applied")
        FAILED = "failed", _("Failed")
        UNDONE = "undone", _("Undone")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    operation = models.CharField(_("operation"), max_length=10, choices=Operation.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.APPLIED
    )
    card_count = models.PositiveIntegerField(_("cards changed"), default=0)
    value_count = models.PositiveIntegerField(_("values changed"), default=0)
    undone_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(
        default=0, help_text=_("Cards changed since the run, left as they are by undo.")
    )
    # Progress of a run in the background (large bases): cards looked at out of the scope.
    total_cards = models.PositiveIntegerField(null=True, blank=True)
    processed_cards = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("normalisation run")
        verbose_name_plural = _("normalisation runs")

    def __str__(self) -> str:
        return f"{self.get_operation_display()} #{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status not in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def progress(self) -> int:
        """Percent of the scope looked at (100 once finished)."""
        if self.is_finished:
            return 100
        if not self.total_cards:
            return 0
        return min(99, self.processed_cards * 100 // self.total_cards)


class NormalisationChange(models.Model):
    """One value a normalisation run changed: a card field or a contact's value."""

    run = models.ForeignKey(NormalisationRun, on_delete=models.CASCADE, related_name="changes")
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    # "field" (a Client column named by `name`) or "contact" (ContactPoint `contact_id`).
    target = models.CharField(max_length=10)
    name = models.CharField(max_length=50, blank=True, default="")
    contact_id = models.BigIntegerField(null=True, blank=True)
    before = models.CharField(max_length=300)
    before_normalized = models.CharField(max_length=300, blank=True, default="")
    after = models.CharField(max_length=300)
    version_after = models.PositiveIntegerField()

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["run", "client"], name="normalisation_run_idx")]

    def __str__(self) -> str:
        return f"{self.before} → {self.after}"
