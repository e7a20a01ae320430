"""The hash chain: canonical form of an audit row, its hash, and walking the chain.

hash = sha256(canonical JSON of the row's fields, with `prev_hash` among them). The row's
own id is covered too, so moving a row to another place in the sequence breaks it.
"""

import datetime
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from kartoteka.audit.models import AuditEvent, AuditHead

# The columns the hash covers, in the order verification reads them. `actor_id` is left
# out on purpose: deleting a user sets it to NULL, and that must not break the chain
# (`actor_username` is covered instead).
HASHED_FIELDS = (
    "id",
    "at",
    "actor_username",
    "action",
    "channel",
    "object_type",
    "object_id",
    "client_id",
    "ip",
    "user_agent",
    "request_id",
    "details",
    "prev_hash",
)
VERIFY_BATCH = 5000


def _instant(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(values: dict[str, Any]) -> bytes:
    """The row's hashed fields as canonical JSON bytes (sorted keys, no spaces, UTF-8)."""
    data = {name: values[name] for name in HASHED_FIELDS}
    data["at"] = _instant(data["at"])
    data["object_id"] = str(data["object_id"] or "")
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def row_hash(values: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(values)).hexdigest()


@dataclass
class VerifyResult:
    """What a walk of the chain found: how many rows were checked and the first break."""

    checked: int
    broken_id: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_id is None


def _rows(after_id: int, batch: int) -> Iterator[tuple[Any, ...]]:
    """Every row after `after_id` in id order, one keyset batch (one query) at a time."""
    columns = (*HASHED_FIELDS, "hash")
    while True:
        rows = list(
            AuditEvent.objects.filter(id__gt=after_id).order_by("id").values_list(*columns)[:batch]
        )
        yield from rows
        if len(rows) < batch:
            return
        after_id = rows[-1][0]


def verify(*, batch: int = VERIFY_BATCH) -> VerifyResult:
    """Walk the chain from its anchor to its head; stop at the first row that does not fit.

    A row fits when its id follows the previous one by exactly one, its prev_hash is the
    previous row's hash, and its hash is the hash of its own fields. The last row must be
    the head's tip, so a removed tail shows too.
    """
    head = AuditHead.objects.filter(pk=1).first()
    anchor_id = head.anchor_id if head else 0
    previous_id, previous_hash = anchor_id, head.anchor_hash if head else ""
    checked = 0
    for values in _rows(anchor_id, batch):
        row = dict(zip((*HASHED_FIELDS, "hash"), values, strict=True))
        row_id = row["id"]
        if row_id != previous_id + 1:
            if row_id > previous_id + 1:
                reason = _("rows %(first)s to %(last)s are missing") % {
                    "first": previous_id + 1,
                    "last": row_id - 1,
                }
            else:
                reason = _("the row is out of sequence")
            return VerifyResult(checked, row_id, reason)
        if row["prev_hash"] != previous_hash:
            return VerifyResult(
                checked, row_id, _("it does not link to the row before it (prev_hash differs)")
            )
        if row_hash(row) != row["hash"]:
            return VerifyResult(checked, row_id, _("its content was changed (hash differs)"))
        checked += 1
        previous_id, previous_hash = row_id, row["hash"]
    if head is not None and (previous_id, previous_hash) != (head.last_id, head.last_hash):
        if previous_id < head.last_id:
            reason = _("rows %(first)s to %(last)s at the end are missing") % {
                "first": previous_id + 1,
                "last": head.last_id,
            }
        else:
            reason = _("the chain does not end at its recorded head")
        return VerifyResult(checked, previous_id + 1 if previous_id < head.last_id else previous_id,
                            reason)  # fmt: skip
    return VerifyResult(checked)
