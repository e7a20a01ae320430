from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class ImportQuerySet(models.QuerySet["Import"]):
    def visible_to(self, user: Any) -> "ImportQuerySet":
        """Administrators see every import; everyone else only their own."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_admin_role:
            return self
        return self.filter(created_by=user)


class Import(models.Model):
    """One file brought into the base: its reading options, column mapping, matching rules,
    progress and outcome.

    Invariants: `checkpoint_row` is the file row up to which every row has been handled;
    it is saved in the same transaction as the cards of its batch, so after a crash the
    import resumes exactly after the last committed row. Every card it created or changed
    is listed in ImportedCard (with the card's values before the change), which is what
    undo and rollback use.
    """

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Columns to check")
        CHECKING = "checking", _("Checking")
        CHECKED = "checked", _("Checked")
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("Importing")
        INTERRUPTED = "interrupted", _("Interrupted")
        FAILED = "failed", _("Stopped by an error")
        DONE = "done", _("Imported")
        UNDOING = "undoing", _("Undoing")
        UNDONE = "undone", _("Undone")
        ROLLED_BACK = "rolled_back", _("Rolled back")

    class OnMatch(models.TextChoices):
        UPDATE = "update", _("Update the existing card")
        SKIP = "skip", _("Skip the row")
        CREATE = "create", _("Create a new card anyway")

    class MatchBy(models.TextChoices):
        NUMBER = "number", _("Card number")
        REGISTRATION = "registration", _("Registration number (INN, EDRPOU…)")
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("Email")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        on_delete=models.PROTECT,
        related_name="imports",
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    file = models.FileField(upload_to="imports/%Y/%m/", max_length=300)
    file_name = models.CharField(_("file"), max_length=255)
    file_size = models.PositiveBigIntegerField(default=0)
    format = models.CharField(_("format"), max_length=10, default="csv")
    encoding = models.CharField(_("encoding"), max_length=20, blank=True, default="")
    delimiter = models.CharField(_("delimiter"), max_length=2, blank=True, default="")
    header = models.JSONField(default=list, blank=True)
    mapping = models.JSONField(default=dict, blank=True)  # str(column index) -> target
    match_by = models.JSONField(default=list, blank=True)
    on_match = models.CharField(
        _("when a card exists"), max_length=10, choices=OnMatch.choices, default=OnMatch.UPDATE
    )
    default_kind = models.CharField(_("kind of card"), max_length=10, default="person")
    # Country of phone numbers written without a code in this file ("" = the installation's).
    phone_region = models.CharField(
        _("country of phone numbers"), max_length=2, blank=True, default=""
    )
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL
    )
    language = models.CharField(max_length=10, blank=True, default="")
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.UPLOADED
    )
    message = models.TextField(blank=True, default="")
    run_token = models.CharField(max_length=32, blank=True, default="")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    total_rows = models.PositiveIntegerField(null=True, blank=True)
    checkpoint_row = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    undone_count = models.PositiveIntegerField(default=0)
    dry_run = models.JSONField(default=dict, blank=True)

    objects = ImportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [models.Index(fields=["created_by", "-created_at"], name="import_owner_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.file_name}"

    def get_absolute_url(self) -> str:
        return reverse("imports:detail", args=[self.pk])

    @property
    def delimiter_label(self) -> str:
        return {"\t": "Tab", ",": ",", ";": ";", "|": "|"}.get(self.delimiter, self.delimiter)

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status == self.Status.DONE else 0
        return min(100, round(100 * self.processed_rows / self.total_rows))

    @property
    def is_active(self) -> bool:
        return self.status in (
            self.Status.CHECKING,
            self.Status.QUEUED,
            self.Status.RUNNING,
            self.Status.UNDOING,
        )


class ImportRowError(models.Model):
    """What is wrong with one value of one row: shown by the dry run and after the import,
    in the language of the user who ran it."""

    job = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="row_errors")
    is_dry_run = models.BooleanField(default=False)
    row = models.PositiveIntegerField()
    column = models.IntegerField(null=True, blank=True)
    header = models.CharField(max_length=200, blank=True, default="")
    value = models.CharField(max_length=300, blank=True, default="")
    message = models.CharField(max_length=500)
    code = models.CharField(max_length=40, blank=True, default="")

    class Meta:
        ordering = ["row", "pk"]
        indexes = [models.Index(fields=["job", "is_dry_run", "row"], name="import_error_row_idx")]

    def __str__(self) -> str:
        return f"{self.row}: {self.message}"


class ImportedCard(models.Model):
    """A card an import created or changed, with its values before the change (for undo).

    `client_id` is a plain number, not a foreign key: undo deletes the created cards, and
    the record of what was done must outlive them.
    """

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        UPDATED = "updated", _("Updated")

    job = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="cards")
    client_id = models.BigIntegerField()
    row = models.PositiveIntegerField()
    action = models.CharField(max_length=8, choices=Action.choices)
    before = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["job", "client_id"], name="imported_card_once"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.client_id}"
