"""Writes of the data-subject requests register, the access export, erasure and retention.

The one write path: every door (web, API, CLI, the daily retention run) calls these.
Each checks permissions first (privacy.permissions), validates with field errors, writes in
one transaction and records the change (core.changelog.log_change). The change log holds
only the request's non-personal fields (kind, status, dates), never `details` or
`reply_to`, so erasing a card never has to rewrite the register's own history.
"""

import datetime
import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.audit import services as audit_services
from kartoteka.clients.models import Client
from kartoteka.core.changelog import log_change, snapshot
from kartoteka.core.models import ObjectChange, SiteSettings
from kartoteka.privacy import access, deadlines, erasure, permissions
from kartoteka.privacy.models import DataSubjectRequest, DestructionRecord, RetentionFlag

logger = logging.getLogger("kartoteka.privacy")
Status = DataSubjectRequest.Status
LOG_FIELDS = [
    "kind",
    "received_on",
    "channel",
    "jurisdiction",
    "due_on",
    "status",
    "handled_by",
    "completed_at",
    "by_representative",
    "identity_checked",
]
MAX_TEXT = 4000


def is_erased(client: Client) -> bool:
    """Has the card been erased (irreversibly anonymised)?"""
    return erasure.is_erased(client)


def erased_at(client: Client) -> datetime.datetime | None:
    """When the card was first erased, or None."""
    return erasure.erased_at(client)


def _require_text(field: str, value: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: ValidationError(message, code="required")})
    if len(value) > MAX_TEXT:
        raise ValidationError(
            {
                field: ValidationError(
                    _("Keep it under %(limit)d characters.") % {"limit": MAX_TEXT},
                    code="too_long",
                )
            }
        )
    return value


def _log(
    actor: Any,
    dsr: DataSubjectRequest,
    action: str,
    before: dict[str, Any] | None,
    message: str = "",
) -> None:
    log_change(
        actor=actor,
        obj=dsr,
        action=action,
        before=before,
        after=snapshot(dsr, LOG_FIELDS),
        message=message,
    )


def _ensure_open(dsr: DataSubjectRequest) -> None:
    if not dsr.is_open:
        raise ValidationError(
            _("This request is already closed (%(status)s).")
            % {"status": dsr.get_status_display()},
            code="request_closed",
        )


@transaction.atomic
def request_register(
    *,
    actor: Any,
    client: Client,
    kind: str,
    received_on: datetime.date,
    channel: str,
    details: str = "",
    by_representative: bool = False,
    representative_name: str = "",
    reply_to: str = "",
    identity_checked: bool = False,
) -> DataSubjectRequest:
    """Register a request received about `client`; the due date follows the business's law.

    The jurisdiction is copied from SiteSettings now, so a later change of law does not move
    the deadlines of requests already received. Writes an ObjectChange.
    """
    permissions.ensure_can_register_request(actor, client)
    errors: dict[str, list[ValidationError]] = {}
    if received_on and received_on > timezone.localdate():
        errors.setdefault("received_on", []).append(
            ValidationError(_("A request cannot be received in the future."), code="future_date")
        )
    if by_representative and not (representative_name or "").strip():
        errors.setdefault("representative_name", []).append(
            ValidationError(_("Name the representative."), code="required")
        )
    if kind == DataSubjectRequest.Kind.ERASURE and erasure.is_erased(client):
        errors.setdefault("kind", []).append(
            ValidationError(_("This card has already been erased."), code="already_erased")
        )
    jurisdiction = SiteSettings.current().jurisdiction
    dsr = DataSubjectRequest(
        client=client,
        client_number=client.number,
        kind=kind,
        received_on=received_on,
        channel=channel,
        details=(details or "").strip(),
        by_representative=bool(by_representative),
        representative_name=(representative_name or "").strip() if by_representative else "",
        reply_to=(reply_to or "").strip(),
        identity_checked=bool(identity_checked),
        jurisdiction=jurisdiction,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    if received_on and not errors:
        dsr.due_on = dsr.original_due_on = deadlines.due_date(jurisdiction, received_on)
    try:
        dsr.full_clean(exclude=["client", "due_on", "original_due_on"] if errors else ["client"])
    except ValidationError as exc:
        for field, field_errors in exc.error_dict.items():
            errors.setdefault(field, []).extend(field_errors)
    if errors:
        raise ValidationError(errors)
    dsr.save()
    _log(actor, dsr, ObjectChange.Action.CREATE, None)
    return dsr


@transaction.atomic
def request_start(*, actor: Any, dsr: DataSubjectRequest) -> DataSubjectRequest:
    """Take the request into work: status "in progress", handled by `actor`."""
    permissions.ensure_can_decide_request(actor, dsr.client)
    dsr = DataSubjectRequest.objects.select_for_update().get(pk=dsr.pk)
    if dsr.status != Status.RECEIVED:
        raise ValidationError(
            _("Only a request just received can be started."), code="already_started"
        )
    before = snapshot(dsr, LOG_FIELDS)
    dsr.status = Status.IN_PROGRESS
    dsr.handled_by = actor
    dsr.save(update_fields=["status", "handled_by", "updated_at"])
    _log(actor, dsr, ObjectChange.Action.UPDATE, before, "started")
    return dsr


@transaction.atomic
def request_extend(*, actor: Any, dsr: DataSubjectRequest, reason: str) -> DataSubjectRequest:
    """Extend the deadline once, as the law allows (RU +5 working days, EU +2 months).

    The reason is required: the subject must be told why (152-FZ art. 20(2), GDPR art. 12(3)).
    """
    permissions.ensure_can_decide_request(actor, dsr.client)
    dsr = DataSubjectRequest.objects.select_for_update().get(pk=dsr.pk)
    _ensure_open(dsr)
    reason = _require_text(
        "extension_reason", reason, _("Give the reason the subject will be told.")
    )
    if not deadlines.can_extend(dsr.jurisdiction):
        raise ValidationError(
            _("The law of this request (%(law)s) allows no extension.")
            % {"law": dsr.get_jurisdiction_display()},
            code="not_extendable",
        )
    if dsr.status == Status.EXTENDED:
        raise ValidationError(_("The deadline has already been extended."), code="already_extended")
    before = snapshot(dsr, LOG_FIELDS)
    dsr.due_on = deadlines.extended_due_date(dsr.jurisdiction, dsr.received_on, dsr.due_on)
    dsr.status = Status.EXTENDED
    dsr.extension_reason = reason
    dsr.handled_by = dsr.handled_by or actor
    dsr.save(update_fields=["due_on", "status", "extension_reason", "handled_by", "updated_at"])
    _log(actor, dsr, ObjectChange.Action.UPDATE, before, "extended")
    return dsr


@transaction.atomic
def request_complete(
    *, actor: Any, dsr: DataSubjectRequest, outcome: str = ""
) -> DataSubjectRequest:
    """Close the request as done, with what was done.

    An erasure request is completed by request_erase itself; completing it by hand before
    the card is erased is refused.
    """
    permissions.ensure_can_decide_request(actor, dsr.client)
    dsr = DataSubjectRequest.objects.select_for_update().get(pk=dsr.pk)
    _ensure_open(dsr)
    outcome = _require_text("outcome", outcome, _("Say what was done."))
    if (
        dsr.kind == DataSubjectRequest.Kind.ERASURE
        and dsr.client is not None
        and not erasure.is_erased(dsr.client)
    ):
        raise ValidationError(
            _("Erase the card first: an erasure request is done when the data is gone."),
            code="erasure_not_performed",
        )
    return _close(actor, dsr, Status.DONE, outcome=outcome)


@transaction.atomic
def request_refuse(*, actor: Any, dsr: DataSubjectRequest, reason: str) -> DataSubjectRequest:
    """Refuse the request with the reason the subject will be told (e.g. identity not proven)."""
    permissions.ensure_can_decide_request(actor, dsr.client)
    dsr = DataSubjectRequest.objects.select_for_update().get(pk=dsr.pk)
    _ensure_open(dsr)
    reason = _require_text("refusal_reason", reason, _("Give the reason for the refusal."))
    return _close(actor, dsr, Status.REFUSED, refusal_reason=reason)


def _close(actor: Any, dsr: DataSubjectRequest, status: str, **texts: str) -> DataSubjectRequest:
    before = snapshot(dsr, LOG_FIELDS)
    dsr.status = status
    dsr.completed_at = timezone.now()
    dsr.handled_by = dsr.handled_by or (actor if getattr(actor, "pk", None) else None)
    for field, value in texts.items():
        setattr(dsr, field, value)
    dsr.save(update_fields=["status", "completed_at", "handled_by", *texts, "updated_at"])
    _log(actor, dsr, ObjectChange.Action.UPDATE, before, status)
    return dsr


def subject_export(client: Client, actor: Any = None) -> bytes:
    """Everything the business holds about the person on `client`, as a ZIP archive.

    data.json (machine-readable), index.html (readable, printable) and the card's document
    files. No permission check: the callers (request_export) check. See privacy.access.
    """
    return access.build_zip(client, actor)


@transaction.atomic
def request_export(*, actor: Any, dsr: DataSubjectRequest) -> tuple[str, bytes]:
    """The access export of the request's card, as (file name, ZIP bytes); logged as a change."""
    permissions.ensure_can_export_or_erase(actor)
    if dsr.client is None:
        raise ValidationError(_("The card of this request no longer exists."), code="no_card")
    data = subject_export(dsr.client, actor)
    # An export of everything about a person is what the audit trail exists for.
    audit_services.record(
        "export",
        obj=dsr,
        client_id=dsr.client_id,
        actor=actor,
        details={"format": "subject_access_zip", "bytes": len(data)},
    )
    log_change(
        actor=actor,
        obj=dsr,
        action=ObjectChange.Action.UPDATE,
        before={},
        after={"exported": True},
        message="access export downloaded",
    )
    return f"kartoteka-subject-{dsr.card_number}-{timezone.localdate():%Y%m%d}.zip", data


def erase_client(
    client: Client,
    actor: Any,
    *,
    request: DataSubjectRequest | None = None,
    reason: str = DestructionRecord.Reason.REQUEST,
    journal: bool = True,
) -> DestructionRecord:
    """Irreversibly anonymise the card and everything linked to it, in one transaction.

    No permission check here (the doors check: request_erase, the retention run, a restore).
    Keeps the card number, amounts, dates and numbers of accounting records; writes a
    DestructionRecord and, on commit, a line of the erasure journal. See privacy.erasure.
    """
    return erasure.erase_client(client, actor, request=request, reason=reason, journal=journal)


@transaction.atomic
def request_erase(*, actor: Any, dsr: DataSubjectRequest, confirm_number: str) -> DestructionRecord:
    """Perform the erasure an erasure request asks for, and close the request as done.

    `confirm_number` must be the card number (leading zeros optional): erasure cannot be
    undone, so the administrator types it, as a guard against erasing the wrong card.
    """
    permissions.ensure_can_export_or_erase(actor)
    dsr = DataSubjectRequest.objects.select_for_update().get(pk=dsr.pk)
    if dsr.kind != DataSubjectRequest.Kind.ERASURE:
        raise ValidationError(
            _("Only an erasure request erases the card."), code="not_an_erasure_request"
        )
    _ensure_open(dsr)
    typed = (confirm_number or "").strip().lstrip("#")
    if not typed.isdigit() or int(typed) != dsr.client_number:
        raise ValidationError(
            {
                "confirm_number": ValidationError(
                    _("Type the card number %(number)s to confirm.") % {"number": dsr.card_number},
                    code="confirmation_mismatch",
                )
            }
        )
    if dsr.client is None or erasure.is_erased(dsr.client):
        raise ValidationError(_("This card has already been erased."), code="already_erased")
    record = erase_client(dsr.client, actor, request=dsr)
    dsr.refresh_from_db()
    _close(
        actor,
        dsr,
        Status.DONE,
        outcome=_("The card was erased (destruction record %(id)d).") % {"id": record.pk},
    )
    return record


def retention_years() -> int:
    """KARTOTEKA_RETENTION_INACTIVE_YEARS (0: retention is off)."""
    from django.conf import settings

    return max(0, int(getattr(settings, "KARTOTEKA_RETENTION_INACTIVE_YEARS", 0) or 0))


def retention_cutoff(*, now: datetime.datetime | None = None) -> datetime.datetime | None:
    """The moment before which a card counts as inactive, or None when retention is off."""
    years = retention_years()
    if years <= 0:
        return None
    now = now or timezone.now()
    day = deadlines.add_months(now.date(), -12 * years)
    return now.replace(year=day.year, month=day.month, day=day.day)


def retention_run(
    *, now: datetime.datetime | None = None, dry_run: bool = False, action: str | None = None
) -> dict[str, int]:
    """Apply the retention policy: flag inactive cards for review, or erase them.

    KARTOTEKA_RETENTION_ACTION "flag" puts each inactive person card on the review list
    (RetentionFlag); "anonymise" erases it (erase_client, reason "retention", one
    transaction and one DestructionRecord per card). `dry_run` only counts. Returns
    {"inactive": n, "flagged": n, "erased": n} (plus "failed": n when a card could not be
    erased; the others still are). Flags of cards active again are removed. Run daily by
    the worker's clock and by `kartoteka retention`.
    """
    from django.conf import settings

    from kartoteka.privacy import selectors

    action = action or getattr(settings, "KARTOTEKA_RETENTION_ACTION", "flag")
    result = {"inactive": 0, "flagged": 0, "erased": 0}
    cutoff = retention_cutoff(now=now)
    if cutoff is None:
        return result
    candidates = list(selectors.retention_candidates(cutoff=cutoff))
    result["inactive"] = len(candidates)
    if dry_run:
        return result
    # A flagged card that came back to life (a call, an order, an edit) leaves the list.
    RetentionFlag.objects.exclude(
        client__in=selectors.retention_inactive(cutoff=cutoff).values("pk")
    ).delete()
    for card in candidates:
        if action == "anonymise":
            try:
                erase_client(card, None, reason=DestructionRecord.Reason.RETENTION)
            except Exception:
                # One card's failure (e.g. a storage error) must not stop the daily run;
                # the card stays inactive and is tried again tomorrow.
                logger.exception("Retention could not erase card %s", card.pk)
                result["failed"] = result.get("failed", 0) + 1
                continue
            result["erased"] += 1
        else:
            _, created = RetentionFlag.objects.update_or_create(
                client=card, defaults={"last_activity_at": selectors.last_activity(card)}
            )
            result["flagged"] += int(created)
    return result


@transaction.atomic
def retention_keep(*, actor: Any, flag: RetentionFlag) -> Client:
    """Keep a flagged card: confirm its data as current (actualise) and take it off the list."""
    from kartoteka.clients import services as client_services

    permissions.ensure_can_review_retention(actor)
    client = client_services.client_actualize(actor=actor, client=flag.client)
    RetentionFlag.objects.filter(pk=flag.pk).delete()
    return client


@transaction.atomic
def retention_erase(*, actor: Any, flag: RetentionFlag, confirm_number: str) -> DestructionRecord:
    """Erase a flagged card after an administrator's review (typing the card number)."""
    permissions.ensure_can_review_retention(actor)
    client = flag.client
    typed = (confirm_number or "").strip().lstrip("#")
    if not typed.isdigit() or int(typed) != client.number:
        raise ValidationError(
            {
                "confirm_number": ValidationError(
                    _("Type the card number %(number)s to confirm.")
                    % {"number": client.card_number},
                    code="confirmation_mismatch",
                )
            }
        )
    return erase_client(client, actor, reason=DestructionRecord.Reason.RETENTION)
