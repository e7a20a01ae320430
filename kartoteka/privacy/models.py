"""The data-subject requests register, the destruction records and the retention review.

A DataSubjectRequest copies the card number and the jurisdiction when it is registered, so
the register still reads correctly after the card is erased or the business's law changes.
A DestructionRecord is the proof that personal data was destroyed: what, how many, when, by
whom and why, and never the data itself. A RetentionFlag puts an inactive card on the
review list (/privacy/retention/).
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kartoteka.core.models import Jurisdiction


class DataSubjectRequest(models.Model):
    """One request of a person about their data: access, correction, erasure (and more).

    Requester details are minimal on purpose: whether a representative asked (and their name,
    to whom the answer goes), where to send the answer, and whether identity was checked.
    No copy or number of an identity document is stored: the employee checks it and ticks
    `identity_checked` (152-FZ art. 14(3) asks the request to carry those details; the paper
    or e-mail request itself is the business's record of them, referenced in `details`).
    `due_on` is the legal deadline, computed by privacy.deadlines from `received_on` and the
    copied `jurisdiction`; an extension moves it and keeps `original_due_on`.
    """

    class Kind(models.TextChoices):
        ACCESS = "access", _("Access to data")
        CORRECTION = "correction", _("Correction")
        ERASURE = "erasure", _("Erasure")
        RESTRICTION = "restriction", _("Restriction of processing")
        OBJECTION = "objection", _("Objection to processing")

    class Channel(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        POST = "post", _("Post")
        EMAIL = "email", _("E-mail")
        PHONE = "phone", _("Phone")
        WEB = "web", _("Website form")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        IN_PROGRESS = "in_progress", _("In progress")
        EXTENDED = "extended", _("Extended")
        DONE = "done", _("Done")
        REFUSED = "refused", _("Refused")

    OPEN_STATUSES = (Status.RECEIVED, Status.IN_PROGRESS, Status.EXTENDED)

    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="privacy_requests",
        verbose_name=_("client"),
    )
    client_number = models.PositiveBigIntegerField(_("card number"), db_index=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    received_on = models.DateField(_("received on"))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    details = models.TextField(
        _("what is asked"),
        blank=True,
        default="",
        help_text=_("E.g. which data to correct; a reference to the letter or form."),
    )
    by_representative = models.BooleanField(_("made by a representative"), default=False)
    representative_name = models.CharField(
        _("representative"), max_length=200, blank=True, default=""
    )
    reply_to = models.CharField(
        _("send the answer to"),
        max_length=300,
        blank=True,
        default="",
        help_text=_("An e-mail or postal address for the answer."),
    )
    identity_checked = models.BooleanField(_("identity checked"), default=False)
    jurisdiction = models.CharField(
        _("law"), max_length=2, choices=Jurisdiction.choices, editable=False
    )
    due_on = models.DateField(_("due on"))
    original_due_on = models.DateField(_("originally due on"))
    extension_reason = models.TextField(_("reason for the extension"), blank=True, default="")
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.RECEIVED
    )
    refusal_reason = models.TextField(_("reason for the refusal"), blank=True, default="")
    outcome = models.TextField(_("outcome"), blank=True, default="")
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("registered by"),
    )
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_on", "-pk"]
        verbose_name = _("data-subject request")
        verbose_name_plural = _("data-subject requests")
        indexes = [
            models.Index(fields=["status", "due_on"], name="privacy_request_status_idx"),
            models.Index(fields=["client", "-received_on"], name="privacy_request_client_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(due_on__gte=models.F("original_due_on")),
                name="privacy_request_due_not_earlier",
                violation_error_message=_("An extension cannot bring the due date forward."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.card_number})"

    def get_absolute_url(self) -> str:
        return reverse("privacy:detail", args=[self.pk])

    @property
    def card_number(self) -> str:
        return f"{self.client_number:06d}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_on < timezone.localdate()


class DestructionRecord(models.Model):
    """Proof that a card's personal data was destroyed, holding no personal data itself.

    `destroyed` maps a category (e.g. "contacts", "health_notes", "document_files") to how
    many items were destroyed or anonymised; `retained` what was kept because the law
    requires it (accounting records), with counts. The card keeps its number; a record of
    reason "erasure", "retention" or "reapply" marks the card as erased.
    """

    class Reason(models.TextChoices):
        REQUEST = "request", _("Data-subject request")
        RETENTION = "retention", _("Retention period ended")
        REAPPLY = "reapply", _("Re-applied after a restore")
        MANUAL = "manual", _("Decision of an administrator")

    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="destruction_records",
        verbose_name=_("client"),
    )
    client_number = models.PositiveBigIntegerField(_("card number"), db_index=True)
    request = models.ForeignKey(
        DataSubjectRequest,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="destruction_records",
        verbose_name=_("request"),
    )
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)
    destroyed = models.JSONField(_("destroyed"), default=dict)
    retained = models.JSONField(_("retained by law"), default=dict)
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("performed by"),
    )
    performed_at = models.DateTimeField(_("performed at"), default=timezone.now)

    class Meta:
        ordering = ["-performed_at", "-pk"]
        verbose_name = _("destruction record")
        verbose_name_plural = _("destruction records")

    def __str__(self) -> str:
        return f"{self.get_reason_display()} {self.client_number:06d}"


class RetentionFlag(models.Model):
    """A card with no activity for the retention period, waiting for an administrator's review.

    Removed when the card is kept (actualised) or erased; `last_activity_at` is what the
    check found, to show on the review list.
    """

    client = models.OneToOneField(
        "clients.Client",
        on_delete=models.CASCADE,
        related_name="retention_flag",
        verbose_name=_("client"),
    )
    last_activity_at = models.DateTimeField(_("last activity"))
    flagged_at = models.DateTimeField(_("flagged at"), default=timezone.now)

    class Meta:
        ordering = ["last_activity_at", "pk"]
        verbose_name = _("card to review for retention")
        verbose_name_plural = _("cards to review for retention")

    def __str__(self) -> str:
        return f"{self.client_id} since {self.last_activity_at:%Y-%m-%d}"
