"""Writes of the consent ledger and of the erasure of health data.

Every entry goes through consent_give or consent_withdraw whichever door it comes from:
permission check (those who may change the card record consents), validation, the new
ledger row and its change-log row, in one transaction. Withdrawing the health-data consent
hides the card's health notes at once (care.health asks consent.selectors) and schedules
their erasure; giving it again before the erasure is due cancels it.
"""

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kartoteka.activities.models import TimelineEvent
from kartoteka.activities.timeline import timeline_record
from kartoteka.care.models import HealthAccessLog, HealthNote
from kartoteka.clients import permissions
from kartoteka.clients.models import Client
from kartoteka.consent import selectors
from kartoteka.consent.models import ConsentEvent, HealthErasureSchedule
from kartoteka.core.changelog import log_change
from kartoteka.core.context import current_channel
from kartoteka.core.messages import Message
from kartoteka.core.models import ObjectChange
from kartoteka.documents.models import Document

LOG_FIELDS = [
    "purpose",
    "action",
    "legal_basis",
    "text_version",
    "channel",
    "evidence_reference",
    "document",
    "effective_at",
    "expires_on",
]
HEALTH_NOTE_CHANGE_MESSAGE = "health note changed"  # as care.health writes it


def grace_days() -> int:
    return max(0, int(getattr(settings, "KARTOTEKA_HEALTH_ERASURE_GRACE_DAYS", 30)))


def _date(value: datetime.datetime | datetime.date) -> str:
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value)
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def _check_document(client: Client, document: Document | int | None) -> Document | None:
    if document is None or document == "":
        return None
    pk = document.pk if isinstance(document, Document) else document
    found = Document.objects.filter(pk=pk, client=client, is_deleted=False).first()
    if found is None:
        raise ValidationError(
            {
                "document": ValidationError(
                    _("Choose a document of this card."), code="document_not_on_card"
                )
            }
        )
    return found


def _build(
    *,
    actor: Any,
    client: Client,
    purpose: str,
    action: str,
    legal_basis: str,
    text_version: str,
    channel: str,
    evidence_reference: str,
    document: Document | int | None,
    effective_at: datetime.datetime | None,
    expires_on: datetime.date | None,
) -> ConsentEvent:
    """A validated, unsaved event; every field error reported at once."""
    now = timezone.now()
    if effective_at is not None and timezone.is_naive(effective_at):
        # A time without a zone (an API client's "2026-05-04T10:00") is the business's time.
        effective_at = timezone.make_aware(effective_at)
    event = ConsentEvent(
        client=client,
        purpose=purpose or "",
        action=action,
        legal_basis=legal_basis or "",
        text_version=(text_version or "").strip(),
        channel=channel or "",
        evidence_reference=(evidence_reference or "").strip(),
        effective_at=effective_at or now,
        expires_on=expires_on,
        recorded_by=actor if getattr(actor, "pk", None) else None,
        door=current_channel()[:10],
    )
    errors: dict[str, list[ValidationError]] = {}
    try:
        event.full_clean(exclude=["client", "recorded_by", "document"])
    except ValidationError as exc:
        errors.update(exc.error_dict)
    try:
        event.document = _check_document(client, document)
    except ValidationError as exc:
        errors.update(exc.error_dict)
    if event.effective_at > now:
        errors.setdefault("effective_at", []).append(
            ValidationError(_("This date is in the future."), code="future_date")
        )
    if action == ConsentEvent.Action.GIVEN:
        if not event.text_version and "text_version" not in errors:
            errors["text_version"] = [
                ValidationError(
                    _("Say which text the client agreed to, e.g. “privacy-notice v3”."),
                    code="required",
                )
            ]
        if event.expires_on is not None and event.expires_on <= timezone.localdate(
            event.effective_at
        ):
            errors.setdefault("expires_on", []).append(
                ValidationError(
                    _("The expiry date must be after the date the consent is given."),
                    code="expires_before_effective",
                )
            )
    if errors:
        raise ValidationError(errors)
    return event


def _check_order(event: ConsentEvent, last: ConsentEvent | None) -> None:
    """Events of a purpose are recorded in the order they took effect, so that the ledger
    reads as a story and the state never depends on when something was typed in."""
    if last is not None and event.effective_at < last.effective_at:
        raise ValidationError(
            {
                "effective_at": ValidationError(
                    _(
                        "The ledger already has a later entry for this purpose (%(date)s); "
                        "this one cannot be dated before it."
                    )
                    % {"date": _date(last.effective_at)},
                    code="before_last_entry",
                )
            }
        )


def _last_event(client: Client, purpose: str) -> ConsentEvent | None:
    return (
        ConsentEvent.objects.filter(client=client, purpose=purpose)
        .order_by("-effective_at", "-pk")
        .first()
    )


def _ensure_can_record(actor: Any, client: Client) -> None:
    """Those who may change the card record its consents; `actor=None` is the system (demo
    data, imports), which records without a check and is logged as "system"."""
    if actor is not None:
        permissions.ensure_can_change_client(actor, client)


def _lock(client: Client) -> None:
    """Serialise ledger writes of one card: two people withdrawing at once record one."""
    Client.objects.select_for_update().filter(pk=client.pk).first()


def _on_timeline(actor: Any, event: ConsentEvent) -> None:
    """The card's timeline line: "Consent given: SMS", stored untranslated (core.messages)."""
    if event.action == ConsentEvent.Action.GIVEN:
        title = Message(
            gettext_noop("Consent given: %(purpose)s"),
            {"purpose": Message.label(ConsentEvent.Purpose(event.purpose).label)},
        )
    else:
        title = Message(
            gettext_noop("Consent withdrawn: %(purpose)s"),
            {"purpose": Message.label(ConsentEvent.Purpose(event.purpose).label)},
        )
    summary = Message(
        gettext_noop("%(basis)s · %(channel)s"),
        {
            "basis": Message.label(ConsentEvent.LegalBasis(event.legal_basis).label),
            "channel": Message.label(ConsentEvent.Channel(event.channel).label),
        },
    )
    timeline_record(
        client=event.client,
        obj=event,
        kind=TimelineEvent.Kind.CONSENT,
        subkind=event.action,
        occurred_at=event.effective_at,
        title=title,
        summary=summary,
        author=actor,
    )


def _log(actor: Any, event: ConsentEvent) -> None:
    log_change(
        actor=actor,
        obj=event,
        action=ObjectChange.Action.CREATE,
        after={
            "client": event.client_id,
            **{
                name: (event.document_id if name == "document" else getattr(event, name))
                for name in LOG_FIELDS
            },
        },
        message=f"consent {event.action}",
    )


@transaction.atomic
def consent_give(
    *,
    actor: Any,
    client: Client,
    purpose: str,
    legal_basis: str = ConsentEvent.LegalBasis.CONSENT,
    text_version: str,
    channel: str,
    evidence_reference: str = "",
    document: Document | int | None = None,
    effective_at: datetime.datetime | None = None,
    expires_on: datetime.date | None = None,
) -> ConsentEvent:
    """Record that the client gave consent for `purpose` (also a renewal, e.g. to a new text).

    Raises PermissionDenied, ValidationError (field dict). Writes the ledger row and an
    ObjectChange; for the health purpose, cancels a pending erasure of health data.
    """
    _ensure_can_record(actor, client)
    event = _build(
        actor=actor,
        client=client,
        purpose=purpose,
        action=ConsentEvent.Action.GIVEN,
        legal_basis=legal_basis,
        text_version=text_version,
        channel=channel,
        evidence_reference=evidence_reference,
        document=document,
        effective_at=effective_at,
        expires_on=expires_on,
    )
    _lock(client)
    _check_order(event, _last_event(client, event.purpose))
    event.save()
    _log(actor, event)
    _on_timeline(actor, event)
    if event.purpose == ConsentEvent.Purpose.HEALTH:
        _cancel_erasure(actor, client)
    return event


@transaction.atomic
def consent_withdraw(
    *,
    actor: Any,
    client: Client,
    purpose: str,
    channel: str,
    evidence_reference: str = "",
    document: Document | int | None = None,
    effective_at: datetime.datetime | None = None,
    text_version: str = "",
) -> ConsentEvent:
    """Record that the client withdrew the consent for `purpose` (a new ledger row).

    Refuses a purpose whose consent is not in force (never given, already withdrawn, expired).
    The legal basis and text version are those of the consent withdrawn. For the health
    purpose, the card's health notes are hidden at once and their erasure is scheduled
    (KARTOTEKA_HEALTH_ERASURE_GRACE_DAYS; 0: erased now).

    Raises PermissionDenied, ValidationError. Writes the ledger row and an ObjectChange.
    """
    _ensure_can_record(actor, client)
    _lock(client)
    last = _last_event(client, purpose) if purpose in ConsentEvent.Purpose.values else None
    event = _build(
        actor=actor,
        client=client,
        purpose=purpose,
        action=ConsentEvent.Action.WITHDRAWN,
        legal_basis=last.legal_basis if last else ConsentEvent.LegalBasis.CONSENT,
        text_version=text_version or (last.text_version if last else ""),
        channel=channel,
        evidence_reference=evidence_reference,
        document=document,
        effective_at=effective_at,
        expires_on=None,
    )
    state = selectors.consent_state(client, at=timezone.now())[event.purpose]
    if state.status != selectors.Status.GIVEN:
        raise ValidationError(
            {"purpose": ValidationError(_not_in_force(state), code="consent_not_in_force")}
        )
    _check_order(event, last)
    event.save()
    _log(actor, event)
    _on_timeline(actor, event)
    if event.purpose == ConsentEvent.Purpose.HEALTH:
        _schedule_erasure(actor, client, event)
    return event


def _not_in_force(state: selectors.PurposeState) -> str:
    if state.status == selectors.Status.WITHDRAWN and state.since is not None:
        return _("This consent was already withdrawn on %(date)s.") % {"date": _date(state.since)}
    if state.status == selectors.Status.EXPIRED and state.since is not None:
        return _("This consent expired on %(date)s; there is nothing to withdraw.") % {
            "date": _date(state.since)
        }
    return _("The client has not given this consent; there is nothing to withdraw.")


# --- Erasure of health data -------------------------------------------------------------------


def _schedule_erasure(actor: Any, client: Client, withdrawal: ConsentEvent) -> None:
    schedule = HealthErasureSchedule.objects.create(
        client=client,
        withdrawal=withdrawal,
        due_at=withdrawal.recorded_at + datetime.timedelta(days=grace_days()),
    )
    log_change(
        actor=actor,
        obj=schedule,
        action=ObjectChange.Action.CREATE,
        after={"client": client.pk, "due_at": schedule.due_at, "status": schedule.status},
        message="health data erasure scheduled",
    )
    if grace_days() == 0:
        _erase(actor, schedule)


def _cancel_erasure(actor: Any, client: Client) -> None:
    for schedule in HealthErasureSchedule.objects.select_for_update().filter(
        client=client, status=HealthErasureSchedule.Status.PENDING
    ):
        schedule.status = HealthErasureSchedule.Status.CANCELLED
        schedule.finished_at = timezone.now()
        schedule.save(update_fields=["status", "finished_at"])
        log_change(
            actor=actor,
            obj=schedule,
            action=ObjectChange.Action.UPDATE,
            before={"status": HealthErasureSchedule.Status.PENDING},
            after={"status": schedule.status},
            message="health data erasure cancelled",
        )


def _erase(actor: Any, schedule: HealthErasureSchedule) -> int:
    """Delete the card's health notes for good; the access log keeps only that they were."""
    client = schedule.client
    notes = list(HealthNote.objects.filter(client=client).only("pk", "kind", "client_id"))
    for note in notes:
        log_change(
            actor=actor,
            obj=note,
            action=ObjectChange.Action.DELETE,
            before={"client": client.pk, "kind": note.kind},
            message=HEALTH_NOTE_CHANGE_MESSAGE,
        )
    HealthNote.objects.filter(pk__in=[note.pk for note in notes]).delete()
    HealthAccessLog.objects.create(
        user=actor if getattr(actor, "pk", None) else None,
        client=client,
        action=HealthAccessLog.Action.DELETE,
        channel=current_channel(),
    )
    schedule.status = HealthErasureSchedule.Status.DONE
    schedule.finished_at = timezone.now()
    schedule.notes_erased = len(notes)
    schedule.save(update_fields=["status", "finished_at", "notes_erased"])
    log_change(
        actor=actor,
        obj=schedule,
        action=ObjectChange.Action.UPDATE,
        before={"status": HealthErasureSchedule.Status.PENDING, "notes_erased": 0},
        after={"status": schedule.status, "notes_erased": len(notes)},
        message="health data erased",
    )
    return len(notes)


def health_erasure_run_due(*, now: datetime.datetime | None = None) -> list[HealthErasureSchedule]:
    """Erase the health notes of every card whose erasure is due (run by the system: the
    worker's clock or `kartoteka consent erase-due`). Each card in its own transaction, so one
    failure leaves the others done. Returns the schedules carried out."""
    done = []
    for pk in list(selectors.erasures_due(now=now).values_list("pk", flat=True)):
        with transaction.atomic():
            schedule = (
                HealthErasureSchedule.objects.select_for_update()
                .select_related("client")
                .filter(pk=pk, status=HealthErasureSchedule.Status.PENDING)
                .first()
            )
            if schedule is None:
                continue  # cancelled or done meanwhile
            if selectors.health_data_allowed(schedule.client):
                # A consent given again without passing through consent_give (an import)
                # still saves the data.
                _cancel_erasure(None, schedule.client)
                continue
            _erase(None, schedule)
            done.append(schedule)
    return done
