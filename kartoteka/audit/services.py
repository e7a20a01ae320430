"""The one write path of the audit trail: append an event, prune old ones.

`record` is called by other apps' views and services; core.changelog.log_change calls
`change_recorded` for every recorded change, so all services in all doors are covered.
Events carry ids, card ids, field names and counts, never values or names.
"""

import contextvars
import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.audit import chain
from kartoteka.audit.models import AuditEvent, AuditHead
from kartoteka.core.client_ip import client_ip
from kartoteka.core.context import current_channel, current_request_id

USER_AGENT_LENGTH = 200
# `details` holds names and numbers, never values: short strings only, so free text (a
# name, a note) cannot ride along by mistake.
DETAIL_TEXT_LENGTH = 64
PRUNE_BATCH = 5000

CHANGE_ACTIONS = {
    "create": AuditEvent.Action.CREATE,
    "update": AuditEvent.Action.UPDATE,
    "archive": AuditEvent.Action.ARCHIVE,
    "restore": AuditEvent.Action.RESTORE,
    "delete": AuditEvent.Action.DELETE,
}


@dataclass(frozen=True)
class Origin:
    """Where the current request came from (set by audit.middleware for the request)."""

    ip: str = ""
    user_agent: str = ""


_origin: contextvars.ContextVar[Origin | None] = contextvars.ContextVar(
    "audit_origin", default=None
)


@contextmanager
def request_origin(request: HttpRequest) -> Iterator[Origin]:
    """Mark events recorded inside the block with the request's address and browser."""
    origin = origin_of(request)
    token = _origin.set(origin)
    try:
        yield origin
    finally:
        _origin.reset(token)


def origin_of(request: HttpRequest) -> Origin:
    return Origin(
        ip=client_ip(request)[:64],
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_LENGTH],
    )


def _clean_detail(value: Any) -> Any:
    if isinstance(value, bool | int) or value is None:
        return value
    if isinstance(value, str):
        return value[:DETAIL_TEXT_LENGTH]
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else value
        return [_clean_detail(item) for item in items]
    raise TypeError(f"Audit details take names and numbers only, not {type(value).__name__}")


def _clean_details(details: dict[str, Any] | None) -> dict[str, Any]:
    return {str(key)[:DETAIL_TEXT_LENGTH]: _clean_detail(v) for key, v in (details or {}).items()}


def _request_actor(request: HttpRequest | None) -> Any:
    if request is None:
        return None
    user = getattr(request, "auth", None) or getattr(request, "user", None)
    return user if getattr(user, "is_authenticated", False) else None


def _locked_head() -> AuditHead:
    head, _created = AuditHead.objects.select_for_update().get_or_create(pk=1)
    return head


def record(
    action: str,
    *,
    obj: models.Model | None = None,
    client_id: int | None = None,
    actor: Any = None,
    details: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
    object_type: str | None = None,
    object_id: Any = None,
    channel: str | None = None,
) -> AuditEvent:
    """Append one event to the chain and return it.

    Inside a service's transaction it joins it, so the event commits or rolls back with the
    change; called from a view (a read: view, download, export) it is its own short
    transaction. The head row stays locked until that transaction ends, which serialises
    appends and keeps the sequence gapless.
    """
    if action not in AuditEvent.Action.values:
        raise ValueError(f"Unknown audit action {action!r}")
    door = channel or current_channel()
    if door not in AuditEvent.Channel.values:
        door = AuditEvent.Channel.SYSTEM
    actor = actor if getattr(actor, "pk", None) else _request_actor(request)
    origin = origin_of(request) if request is not None else (_origin.get() or Origin())
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = obj.pk if object_id is None else object_id
        if client_id is None:
            from kartoteka.core.changelog import client_id_of

            client_id = client_id_of(obj)
    values: dict[str, Any] = {
        "actor_username": getattr(actor, "username", "") or "",
        "action": action,
        "channel": door,
        "object_type": object_type or "",
        "object_id": "" if object_id is None else str(object_id)[:64],
        "client_id": client_id,
        "ip": origin.ip,
        "user_agent": origin.user_agent,
        "request_id": current_request_id()[:64],
        "details": _clean_details(details),
    }
    with transaction.atomic(savepoint=False):
        head = _locked_head()
        values.update(id=head.last_id + 1, at=timezone.now(), prev_hash=head.last_hash)
        event = AuditEvent(actor=actor, hash=chain.row_hash(values), **values)
        event.save()
        AuditHead.objects.filter(pk=1).update(last_id=event.id, last_hash=event.hash)
    return event


def change_recorded(*, actor: Any, obj: models.Model, action: str, fields: list[str]) -> None:
    """The audit side of core.changelog.log_change: one event per change, field names only.

    Changes written by an import run are covered by the run's one "import" event (an import
    may write a million rows), so they add none here.
    """
    if current_channel() == AuditEvent.Channel.IMPORT:
        return
    audit_action = CHANGE_ACTIONS.get(action)
    if audit_action is None:
        return
    record(audit_action, obj=obj, actor=actor, details={"fields": fields} if fields else None)


# --- Retention ---------------------------------------------------------------------------------


def retention_days() -> int:
    return int(settings.KARTOTEKA_AUDIT_RETENTION_DAYS)


@transaction.atomic
def _prune_batch(cutoff: datetime.datetime) -> int:
    head = _locked_head()
    # Only a run of the oldest rows goes (up to the first row still kept), so what is left
    # links to the anchor without a hole.
    kept = (
        AuditEvent.objects.filter(id__gt=head.anchor_id, at__gte=cutoff)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )
    upper = head.last_id if kept is None else kept - 1
    last = min(upper, head.anchor_id + PRUNE_BATCH)
    anchor = (
        AuditEvent.objects.filter(id__gt=head.anchor_id, id__lte=last)
        .order_by("-id")
        .values_list("id", "hash", "at")
        .first()
    )
    if anchor is None:
        return 0
    deleted = AuditEvent.objects.filter(id__gt=head.anchor_id, id__lte=anchor[0])._prune()
    AuditHead.objects.filter(pk=1).update(
        anchor_id=anchor[0],
        anchor_hash=anchor[1],
        anchor_at=anchor[2],
        pruned_total=head.pruned_total + deleted,
    )
    return deleted


def prune(*, actor: Any = None, now: datetime.datetime | None = None) -> int:
    """Delete events older than KARTOTEKA_AUDIT_RETENTION_DAYS, oldest first, in batches.

    The chain stays verifiable: the head's anchor takes the id and hash of the last pruned
    row, and verification starts from it. `actor` None is the system (the worker's clock);
    a user must be an administrator. Each batch is its own short transaction. Returns how
    many events were deleted.
    """
    if actor is not None and not getattr(actor, "is_admin_role", False):
        raise PermissionDenied(_("Only administrators can prune the audit trail."))
    days = retention_days()
    if days <= 0:
        raise ValidationError(
            _("Audit retention must be a positive number of days."), code="retention_invalid"
        )
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    total = 0
    while deleted := _prune_batch(cutoff):
        total += deleted
    if total:
        # The pruning itself is on the record: how many went, up to which id.
        head = AuditHead.objects.get(pk=1)
        record(
            AuditEvent.Action.DELETE,
            actor=actor,
            object_type=AuditEvent._meta.label_lower,
            details={"pruned": total, "anchor_id": head.anchor_id, "retention_days": days},
        )
    return total
