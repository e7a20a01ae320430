"""The one helper services use to record a change (core.ObjectChange)."""

import datetime
import decimal
import uuid
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from kartoteka.audit import services as audit_services
from kartoteka.core.context import current_channel, current_request_id
from kartoteka.core.models import ObjectChange

_PLAIN = frozenset({str, int, bool, float, type(None)})


def _jsonable(value: Any) -> Any:
    if type(value) in _PLAIN:  # most values: no isinstance chain (the import logs millions)
        return value
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The values of `fields` on `obj` as JSON-ready data (foreign keys by id)."""
    return {
        name: _jsonable(getattr(obj, attname))
        for name, attname in _attnames(type(obj), tuple(fields))
    }


@lru_cache(maxsize=256)
def _attnames(model: type[models.Model], fields: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(name, attribute) pairs of `fields`: a foreign key's attribute is its id."""
    meta = model._meta
    return tuple((name, getattr(meta.get_field(name), "attname", name)) for name in fields)


def client_id_of(obj: models.Model) -> int | None:
    """The id of the card `obj` belongs to: the card itself, or the `client` of a section row
    (contact point, order, interaction, ...); an order line goes through its order."""
    if obj._meta.label == "clients.Client":
        return obj.pk
    client_id = getattr(obj, "client_id", None)
    if client_id is None and getattr(obj, "order_id", None) is not None:
        client_id = getattr(getattr(obj, "order", None), "client_id", None)
    return client_id


def log_change(
    *,
    actor: Any,
    obj: models.Model,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    message: str = "",
) -> ObjectChange:
    """Record one change; call inside the service's transaction. Only changed keys are kept."""
    before = _jsonable(before or {})
    after = _jsonable(after or {})
    if action == ObjectChange.Action.UPDATE:
        changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
        before = {k: v for k, v in before.items() if k in changed}
        after = {k: v for k, v in after.items() if k in changed}
    change = ObjectChange.objects.create(
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
        object_id=obj.pk,
        object_repr=str(obj)[:300],
        client_id=client_id_of(obj),
        action=action,
        actor=actor if getattr(actor, "pk", None) else None,
        channel=current_channel(),
        request_id=current_request_id(),
        before=before,
        after=after,
        message=message,
    )
    # The audit trail gets the same change, field names only, in the same transaction.
    audit_services.change_recorded(
        actor=actor, obj=obj, action=action, fields=sorted(set(before) | set(after))
    )
    return change
