"""The consent ledger of a card, and the erasure of health data that a withdrawal schedules.

A ConsentEvent is evidence: what the client agreed to or took back, when, on what basis, after
reading which text, through which channel, and who wrote it down. Evidence is never edited, so
the ledger is append-only: a withdrawal is a new row, and both the model and its queryset
refuse updates and deletes.
"""

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# Fields a merge of duplicate cards may re-point (dedupe moves every row of the merged card to
# the survivor): the client is the same person, and the evidence itself stays as recorded.
REPOINTABLE_FIELDS = frozenset({"client", "client_id"})


class LedgerIsAppendOnly(Exception):
    """A consent event was about to be changed or deleted."""


class ConsentEventQuerySet(models.QuerySet["ConsentEvent"]):
    def update(self, **kwargs: Any) -> int:
        if not kwargs or set(kwargs) - REPOINTABLE_FIELDS:
            raise LedgerIsAppendOnly("Consent events are never changed; record a new one.")
        return super().update(**kwargs)

    def delete(self) -> NoReturn:
        raise LedgerIsAppendOnly("Consent events are never deleted; record a withdrawal.")

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise LedgerIsAppendOnly("Consent events are never changed; record a new one.")


class ConsentEvent(models.Model):
    """One entry of a card's consent ledger: a consent given or withdrawn for one purpose.

    Append-only (see the module docstring). The current state per purpose is derived from the
    ledger by consent.selectors.consent_state, never stored.
    """

    class Purpose(models.TextChoices):
        PROCESSING = "processing", _("Processing of personal data")
        HEALTH = "health", _("Special-category (health) data")
        MARKETING_EMAIL = "marketing_email", _("Marketing email")
        SMS = "sms", _("SMS")
        CALLS = "calls", _("Calls")
        CROSS_BORDER = "cross_border", _("Cross-border transfer")

    class Action(models.TextChoices):
        GIVEN = "given", _("Given")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class LegalBasis(models.TextChoices):
        CONSENT = "consent", _("Consent")
        CONTRACT = "contract", _("Contract")
        LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation")
        VITAL_INTERESTS = "vital_interests", _("Vital interests")
        PUBLIC_TASK = "public_task", _("Public task")
        LEGITIMATE_INTERESTS = "legitimate_interests", _("Legitimate interests")

    class Channel(models.TextChoices):
        PAPER_FORM = "paper_form", _("Paper form")
        WEB_FORM = "web_form", _("Web form checkbox")
        EMAIL = "email", _("Email")
        PHONE_RECORDED = "phone_recorded", _("Phone call (recorded)")
        IN_PERSON = "in_person", _("In person")
        OTHER = "other", _("Other")

    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.CASCADE,
        related_name="consent_events",
        verbose_name=_("client"),
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    legal_basis = models.CharField(
        _("legal basis"), max_length=20, choices=LegalBasis.choices, default=LegalBasis.CONSENT
    )
    text_version = models.CharField(
        _("text version"),
        max_length=100,
        blank=True,
        default="",
        help_text=_("Which notice or consent text the client saw, e.g. “privacy-notice v3”."),
    )
    channel = models.CharField(
        _("channel"), max_length=20, choices=Channel.choices, default=Channel.PAPER_FORM
    )
    evidence_reference = models.CharField(
        _("evidence"),
        max_length=300,
        blank=True,
        default="",
        help_text=_("Where the proof is: a form number, a call recording, an email."),
    )
    # The signed scan on the card. SET_NULL rather than PROTECT: documents are only ever
    # soft-deleted, and a card erased as a whole takes its ledger with it.
    document = models.ForeignKey(
        "documents.Document",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("signed document"),
    )
    effective_at = models.DateTimeField(_("effective from"))
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    # The door it came through, as core.ObjectChange.channel (web, api, cli, ...); no choices
    # here, so a new door there needs no migration here.
    door = models.CharField(_("recorded through"), max_length=10, default="system")

    objects = ConsentEventQuerySet.as_manager()

    class Meta:
        ordering = ["-effective_at", "-pk"]
        verbose_name = _("consent event")
        verbose_name_plural = _("consent events")
        indexes = [
            models.Index(fields=["client", "purpose", "effective_at"], name="consent_client_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()}: {self.get_action_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding and not self._only_repointed():
            raise LedgerIsAppendOnly("Consent events are never changed; record a new one.")
        super().save(*args, **kwargs)

    def _only_repointed(self) -> bool:
        """Is the stored row the same but for the card (a merge moving it to the survivor)?"""
        stored = type(self)._base_manager.filter(pk=self.pk).first()
        if stored is None:
            return False
        return all(
            getattr(stored, field.attname) == getattr(self, field.attname)
            for field in self._meta.concrete_fields
            if field.name not in REPOINTABLE_FIELDS
        )

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise LedgerIsAppendOnly("Consent events are never deleted; record a withdrawal.")


class HealthErasureSchedule(models.Model):
    """The erasure of a card's health notes that a withdrawn health-data consent calls for.

    Pending from the withdrawal until `due_at`; giving the consent again before then cancels
    it; consent.services.health_erasure_run_due deletes the notes once due and marks it done.
    A card has one pending schedule at a time, except after a merge of duplicate cards (dedupe
    moves each card's schedule to the survivor), so nothing here assumes just one.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        CANCELLED = "cancelled", _("Cancelled")
        DONE = "done", _("Done")

    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="health_erasures"
    )
    withdrawal = models.ForeignKey(ConsentEvent, on_delete=models.CASCADE, related_name="+")
    due_at = models.DateTimeField(_("due"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    notes_erased = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("health data erasure")
        verbose_name_plural = _("health data erasures")
        indexes = [models.Index(fields=["status", "due_at"], name="health_erasure_due_idx")]

    def __str__(self) -> str:
        return f"{self.client_id}: {self.status} {self.due_at:%Y-%m-%d}"
