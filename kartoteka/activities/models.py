from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from kartoteka.core.messages import render_stored


class Interaction(models.Model):
    """A contact with the client: a call, meeting, email, message, visit or note.

    Deleting marks it deleted (is_deleted) so the history keeps it; `version` guards edits.
    """

    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        MEETING = "meeting", _("Meeting")
        EMAIL = "email", _("Email")
        MESSAGE = "message", _("Message")
        VISIT = "visit", _("Visit")
        NOTE = "note", _("Note")

    class Direction(models.TextChoices):
        INCOMING = "in", _("Incoming")
        OUTGOING = "out", _("Outgoing")

    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.CASCADE,
        related_name="interactions",
        verbose_name=_("client"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.CALL)
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices, blank=True, default=""
    )
    occurred_at = models.DateTimeField(_("date and time"))
    duration_minutes = models.PositiveIntegerField(_("duration, minutes"), null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    contact_person = models.ForeignKey(
        "clients.Client",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("person at the client"),
        limit_choices_to={"kind": "person"},
    )
    subject = models.CharField(_("subject"), max_length=300, blank=True, default="")
    content = models.TextField(_("content"), blank=True, default="")
    outcome = models.CharField(_("outcome"), max_length=300, blank=True, default="")
    next_step = models.CharField(_("next step"), max_length=300, blank=True, default="")
    is_deleted = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        indexes = [models.Index(fields=["client", "-occurred_at"], name="interaction_client_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}".strip(": ")


class TimelineEvent(models.Model):
    """One line of a card's timeline, written by the services next to the record it stands
    for (interaction, order, service, invoice, payment, survey, recommendation, document).

    Denormalised on purpose: a card with 10,000 events opens with one indexed range scan
    instead of a union over eight tables.
    """

    class Kind(models.TextChoices):
        INTERACTION = "interaction", _("Interactions")
        ORDER = "order", _("Orders")
        SERVICE = "service", _("Services")
        INVOICE = "invoice", _("Invoices")
        PAYMENT = "payment", _("Payments")
        SURVEY = "survey", _("Surveys")
        RECOMMENDATION = "recommendation", _("Recommendations")
        DOCUMENT = "document", _("Documents")
        CONSENT = "consent", _("Consents")

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    subkind = models.CharField(max_length=20, blank=True, default="")
    occurred_at = models.DateTimeField()
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.BigIntegerField()
    # `title` and `summary` hold plain text (a document's name, the outcome of a call);
    # where the line is a phrase of ours ("Invoice № 12"), `title_msg` / `summary_msg` hold its
    # msgid and parameters (core.messages) and the text is the English version, so each
    # reader sees it in their own language. Read them through display_title/display_summary.
    title = models.CharField(max_length=300)
    summary = models.CharField(max_length=500, blank=True, default="")
    title_msg = models.JSONField(null=True, blank=True)
    summary_msg = models.JSONField(null=True, blank=True)
    amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [
            models.Index(fields=["client", "-occurred_at", "-id"], name="timeline_client_idx"),
            models.Index(
                fields=["client", "kind", "-occurred_at", "-id"], name="timeline_client_kind_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id"], name="timeline_one_event_per_object"
            ),
        ]

    def __str__(self) -> str:
        return self.display_title

    @property
    def display_title(self) -> str:
        return render_stored(self.title_msg, self.title)

    @property
    def display_summary(self) -> str:
        return render_stored(self.summary_msg, self.summary)
