from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DuplicateScan(models.Model):
    """One full scan of the base for duplicates (a background task), with its progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    cards = models.PositiveIntegerField(default=0)
    pairs_compared = models.PositiveIntegerField(default=0)
    candidates_found = models.PositiveIntegerField(default=0)
    stats = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"scan {self.pk} {self.status}"

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class DuplicateCandidate(models.Model):
    """A pair of cards the scan thinks may be one client: score, reasons and the decision.

    `client_a` has the smaller id. Reasons are stored as msgids with parameters
    (core.messages) and shown in each reader's language. A dismissed pair ("not a
    duplicate") is never proposed again.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("To review")
        MERGED = "merged", _("Merged")
        DISMISSED = "dismissed", _("Not a duplicate")

    client_a = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    client_b = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    reasons = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    found_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    merge = models.ForeignKey(
        "dedupe.Merge", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-score", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["client_a", "client_b"], name="duplicate_pair_once"),
            models.CheckConstraint(
                condition=models.Q(client_a__lt=models.F("client_b")), name="duplicate_pair_ordered"
            ),
        ]
        indexes = [models.Index(fields=["status", "-score", "id"], name="duplicate_status_idx")]

    def __str__(self) -> str:
        return f"{self.client_a_id}~{self.client_b_id} {self.score}"


class Merge(models.Model):
    """Two or more cards merged into one survivor, with all that is needed to undo it.

    `survivor_before`: the survivor's editable fields before the merge (foreign keys as ids);
    `moved`: {"app.Model.field": {"<old client id>": [row ids]}} for every row re-pointed;
    `contacts_unprimaried`: moved contacts whose primary flag was cleared; `tags_added`: tag
    ids the survivor got. `survivor_version`: the survivor's version right after the merge,
    so an undo can tell whether the card changed since.
    """

    class Status(models.TextChoices):
        DONE = "done", _("Merged")
        UNDONE = "undone", _("Undone")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    survivor = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DONE)
    choices = models.JSONField(default=dict, blank=True)
    survivor_before = models.JSONField(default=dict, blank=True)
    survivor_version = models.PositiveIntegerField(default=0)
    moved = models.JSONField(default=dict, blank=True)
    contacts_unprimaried = models.JSONField(default=list, blank=True)
    tags_added = models.JSONField(default=list, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"merge {self.pk} into {self.survivor_id}"


class MergedCard(models.Model):
    """A card merged away: archived, pointing to the survivor, restorable by undo."""

    merge = models.ForeignKey(Merge, on_delete=models.CASCADE, related_name="cards")
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    survivor = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    was_archived = models.BooleanField(default=False)
    version_after = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.client_id} -> {self.survivor_id}"
