"""The erasure journal: a JSON-lines file outside the database.

Every irreversible erasure appends one line here (card id, card number, when,
request id; no personal data). The file lives under ``settings.DATA_DIR`` and
not in the database on purpose: restoring an older database backup would
bring erased people back, and this file is what lets the restore erase them
again (``reapply_erasures``), so a right exercised stays exercised.
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone


def journal_path() -> Path:
    """The path of the erasure journal: ``DATA_DIR / "erasures.jsonl"``."""
    return Path(settings.DATA_DIR) / "erasures.jsonl"


def append_entry(
    *,
    client_id: int,
    number: str,
    erased_at: datetime.datetime,
    request_id: int | None,
    destruction_id: int | None,
) -> None:
    """Append one erasure to the journal and flush it to disk.

    Called from the erasure service's on_commit hook, so a rolled-back
    erasure never reaches the journal.
    """
    path = journal_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(
        {
            "client_id": client_id,
            "number": number,
            "erased_at": erased_at.isoformat(),
            "request_id": request_id,
            "destruction_id": destruction_id,
        },
        sort_keys=True,
    )
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        # fsync: the journal is the only record that survives a restore.
        os.fsync(handle.fileno())


def read_entries() -> list[dict[str, Any]]:
    """Every well-formed entry of the journal, in file order (a torn last line is skipped)."""
    path = journal_path()
    if not path.exists():
        return []
    entries = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        raw = raw.strip()
        if not raw:
            continue
        try:
            entry = json.loads(raw)
            entry["erased_at_dt"] = datetime.datetime.fromisoformat(entry["erased_at"])
        except (ValueError, KeyError, TypeError):
            continue
        entries.append(entry)
    return entries


def reapply_erasures(since: datetime.datetime) -> int:
    """Erase again every card the journal lists with ``erased_at > since``.

    Meant to run right after a database restore, with ``since`` the moment
    the restored backup was taken. Idempotent: a card already erased (or no
    longer in the database) is skipped. Returns how many cards it erased.
    """
    from kartoteka.clients.models import Client
    from kartoteka.privacy import services

    if timezone.is_naive(since):
        since = timezone.make_aware(since, datetime.UTC)
    erased = 0
    seen: set[int] = set()
    for entry in read_entries():
        if entry["erased_at_dt"] <= since or entry["client_id"] in seen:
            continue
        seen.add(entry["client_id"])
        client = Client.objects.filter(pk=entry["client_id"]).first()
        if client is None or services.is_erased(client):
            continue
        services.erase_client(
            client,
            None,
            request=None,
            journal=False,
            reason="reapply",
        )
        erased += 1
    return erased
