"""Writes of interactions (calls, meetings, emails, messages, visits, notes).

Every change goes through these functions whichever door it comes from: permission check,
validation, save, change log and the card's timeline line, in one transaction.
"""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kartoteka.accounts.models import User
from kartoteka.activities.models import Interaction, TimelineEvent
from kartoteka.activities.timeline import timeline_record, timeline_remove
from kartoteka.clients import permissions
from kartoteka.clients.models import Client
from kartoteka.core.changelog import log_change, snapshot
from kartoteka.core.messages import Message
from kartoteka.core.models import ObjectChange

# The fields a user edits on an interaction (the rest is derived or life-cycle).
EDITABLE_FIELDS = [
    "kind",
    "direction",
    "occurred_at",
    "duration_minutes",
    "contact_person",
    "subject",
    "content",
    "outcome",
    "next_step",
]
LOG_FIELDS = [*EDITABLE_FIELDS, "author", "is_deleted"]
NULLABLE_FIELDS = frozenset({"duration_minutes", "contact_person", "occurred_at"})

# Which kinds have a direction, and which take time worth recording.
DIRECTED_KINDS = frozenset(
    {Interaction.Kind.CALL, Interaction.Kind.EMAIL, Interaction.Kind.MESSAGE}
)
TIMED_KINDS = frozenset({Interaction.Kind.CALL, Interaction.Kind.MEETING, Interaction.Kind.VISIT})
MAX_DURATION_MINUTES = 24 * 60


class InteractionVersionConflict(Exception):
    """The interaction changed since the user opened it; carries it as it is now."""

    def __init__(self, current: Interaction) -> None:
        super().__init__(
            _("This interaction was changed by someone else while you were editing it.")
        )
        self.current = current


def _apply(interaction: Interaction, data: Mapping[str, Any]) -> None:
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            {
                name: ValidationError(_("Unknown field."), code="unknown_field")
                for name in sorted(unknown)
            }
        )
    for name, value in data.items():
        if value is None and name not in NULLABLE_FIELDS:
            value = ""  # text fields store "" for "nothing", never NULL
        setattr(interaction, name, value.strip() if isinstance(value, str) else value)


def _check_rules(
    actor: User, interaction: Interaction, client: Client, previous_person_id: int | None
) -> None:
    """Rules across fields, the client and the actor; every broken rule reported at once."""
    errors: dict[str, ValidationError] = {}
    kind = interaction.kind
    if interaction.direction and kind not in DIRECTED_KINDS:
        errors["direction"] = ValidationError(
            _("Only calls, emails and messages have a direction."), code="direction_not_allowed"
        )
    if interaction.duration_minutes is not None:
        if kind not in TIMED_KINDS:
            errors["duration_minutes"] = ValidationError(
                _("Only calls, meetings and visits have a duration."),
                code="duration_not_allowed",
            )
        elif interaction.duration_minutes > MAX_DURATION_MINUTES:
            errors["duration_minutes"] = ValidationError(
                _("A duration is at most %(max)s minutes (a day).") % {"max": MAX_DURATION_MINUTES},
                code="duration_too_long",
            )
    if not (interaction.subject or interaction.content or interaction.outcome):
        errors["subject"] = ValidationError(
            _("Say what it was about: a subject, the content or the outcome."),
            code="empty_interaction",
        )
    # A link someone else made to a person this actor cannot see stays as it is.
    if interaction.contact_person_id not in (None, previous_person_id):
        message = _check_contact_person(actor, interaction, client)
        if message:
            errors["contact_person"] = message
    if errors:
        raise ValidationError(errors)


def _check_contact_person(
    actor: User, interaction: Interaction, client: Client
) -> ValidationError | None:
    if not client.is_company:
        return ValidationError(
            _("A person at the client can be named only on a company card."),
            code="contact_person_not_allowed",
        )
    person = interaction.contact_person
    if (
        person is None
        or person.kind != Client.Kind.PERSON
        or person.employer_id != client.pk
        or not permissions.can_view_client(actor, person)
    ):
        return ValidationError(
            _("Choose a person who works at this company."), code="contact_person_invalid"
        )
    return None


def _validate(
    actor: User, interaction: Interaction, client: Client, previous_person_id: int | None = None
) -> None:
    errors: dict[str, list[ValidationError]] = {}
    try:
        interaction.full_clean(exclude=["client", "author", "contact_person"])
    except ValidationError as exc:
        errors.update(exc.error_dict)
    try:
        _check_rules(actor, interaction, client, previous_person_id)
    except ValidationError as exc:
        for name, field_errors in exc.error_dict.items():
            errors.setdefault(name, field_errors)
    if errors:
        raise ValidationError(errors)


# How a directed interaction is named; the others go by their kind's label.
DIRECTED_TITLES: dict[tuple[str, str], str] = {
    (Interaction.Kind.CALL, "in"): gettext_noop("Incoming call"),
    (Interaction.Kind.CALL, "out"): gettext_noop("Outgoing call"),
    (Interaction.Kind.EMAIL, "in"): gettext_noop("Incoming email"),
    (Interaction.Kind.EMAIL, "out"): gettext_noop("Outgoing email"),
    (Interaction.Kind.MESSAGE, "in"): gettext_noop("Incoming message"),
    (Interaction.Kind.MESSAGE, "out"): gettext_noop("Outgoing message"),
}


def interaction_title(interaction: Interaction) -> Message:
    """How the interaction reads on the timeline: "Outgoing call: Price list" (untranslated
    until shown, so each reader sees it in their language)."""
    msgid = DIRECTED_TITLES.get((interaction.kind, interaction.direction))
    label = Message(msgid) if msgid else Message.label(Interaction.Kind(interaction.kind).label)
    if interaction.subject:
        return Message(
            gettext_noop("%(kind)s: %(subject)s"), {"kind": label, "subject": interaction.subject}
        )
    return label


def _record_on_timeline(interaction: Interaction) -> TimelineEvent:
    return timeline_record(
        client=interaction.client,
        obj=interaction,
        kind=TimelineEvent.Kind.INTERACTION,
        subkind=interaction.kind,
        occurred_at=interaction.occurred_at,
        title=interaction_title(interaction),
        summary=interaction.outcome or interaction.content,
        author=interaction.author,
    )


@transaction.atomic
def interaction_create(*, actor: User, client: Client, data: Mapping[str, Any]) -> Interaction:
    """Record an interaction on a card; `actor` is its author, `occurred_at` defaults to now.

    Raises PermissionDenied, ValidationError (per field). Writes an ObjectChange and the
    card's timeline line.
    """
    permissions.ensure_can_change_client(actor, client)
    interaction = Interaction(client=client, author=actor)
    _apply(interaction, data)
    if interaction.occurred_at is None:
        interaction.occurred_at = timezone.now()
    _validate(actor, interaction, client)
    interaction.save()
    log_change(
        actor=actor,
        obj=interaction,
        action=ObjectChange.Action.CREATE,
        after=snapshot(interaction, LOG_FIELDS),
    )
    _record_on_timeline(interaction)
    return interaction


def _claim_version(interaction: Interaction, expected_version: int | None) -> None:
    """Claim the next version atomically; refuse when someone saved in between."""
    expected = interaction.version if expected_version is None else expected_version
    claimed = Interaction.objects.filter(
        pk=interaction.pk, version=expected, is_deleted=False
    ).update(version=F("version") + 1)
    if not claimed:
        raise InteractionVersionConflict(
            Interaction.objects.select_related("author", "contact_person").get(pk=interaction.pk)
        )
    interaction.version = expected + 1


@transaction.atomic
def interaction_update(
    *,
    actor: User,
    interaction: Interaction,
    expected_version: int | None,
    data: Mapping[str, Any],
) -> Interaction:
    """Change the fields in `data`. `expected_version` is the version the user saw (None: the
    current one). Raises InteractionVersionConflict, ValidationError, PermissionDenied.
    Writes an ObjectChange (changed fields only) and refreshes the timeline line.
    """
    client = interaction.client
    permissions.ensure_can_change_client(actor, client)
    saved_state = interaction.__dict__.copy()
    try:
        before = snapshot(interaction, LOG_FIELDS)
        _claim_version(interaction, expected_version)
        _apply(interaction, data)
        if interaction.occurred_at is None:
            interaction.occurred_at = saved_state["occurred_at"]
        _validate(actor, interaction, client, saved_state["contact_person_id"])
        interaction.save()
    except Exception:
        # The transaction rolls back; leave the caller's instance as it was, too.
        interaction.__dict__.clear()
        interaction.__dict__.update(saved_state)
        raise
    log_change(
        actor=actor,
        obj=interaction,
        action=ObjectChange.Action.UPDATE,
        before=before,
        after=snapshot(interaction, LOG_FIELDS),
    )
    _record_on_timeline(interaction)
    return interaction


@transaction.atomic
def interaction_delete(
    *, actor: User, interaction: Interaction, expected_version: int | None = None
) -> None:
    """Delete an interaction: it leaves the card and its timeline, and the change log keeps
    its whole content (the row stays, marked is_deleted). Raises PermissionDenied,
    InteractionVersionConflict when `expected_version` is stale."""
    permissions.ensure_can_change_client(actor, interaction.client)
    before = snapshot(interaction, LOG_FIELDS)
    _claim_version(interaction, expected_version)
    interaction.is_deleted = True
    interaction.save(update_fields=["is_deleted", "version", "updated_at"])
    log_change(actor=actor, obj=interaction, action=ObjectChange.Action.DELETE, before=before)
    timeline_remove(obj=interaction)
