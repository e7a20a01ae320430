"""The full duplicate scan: every active card once, blocking keys, scoring of the pairs that
share a key, and the review queue brought up to date.

Cost at a million cards (docs/performance.md, "Duplicates"): two plain SELECTs read the cards
and their phones, emails and addresses; keys and scores are computed in Python (cached
transliteration; rapidfuzz in C), and only pairs sharing a key are scored, so the work grows
with the number of cards, not with its square. Pairs already decided (merged, "not a
duplicate") are never written again; open pairs no longer found are removed.
"""

import contextlib
import gc
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from kartoteka.clients.models import Client, ContactPoint
from kartoteka.dedupe import matching
from kartoteka.dedupe.models import DuplicateCandidate, DuplicateScan

CARD_COLUMNS = [
    "id",
    "kind",
    "last_name",
    "first_name",
    "middle_name",
    "birth_date",
    "legal_name",
    "short_name",
    "inn",
    "kpp",
    "ogrn",
    "edrpou",
    "rnokpp",
    "uscc",
    "vat_number",
    "website",
    "legal_address",
]
CONTACT_KINDS = ["phone", "whatsapp", "viber", "email", "address"]
FETCH = 20000


def _rows(queryset: Any) -> Iterator[tuple[Any, ...]]:
    """The rows of a values_list queryset straight from the cursor (no per-row converters:
    dates stay ISO strings, which is all equality needs)."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while True:
            chunk = cursor.fetchmany(FETCH)
            if not chunk:
                return
            yield from chunk


def load_cards() -> dict[int, matching.Card]:
    """Every active card as a matching.Card."""
    contacts: dict[int, list[tuple[str, str]]] = {}
    # Every contact, the kinds sorted out here: with `kind IN (...)` SQLite walks the
    # (kind, normalized) index and fetches each row from the table in index order, five
    # times the cost of one scan of the table (7.4 against 1.6 s CPU at 2.2 million rows).
    kinds = set(CONTACT_KINDS)
    # No ORDER BY (the models' default orderings would sort millions of rows or walk an
    # index): the rows are grouped in Python anyway.
    contact_rows = ContactPoint.objects.order_by().values_list("client_id", "kind", "normalized")
    for client_id, kind, normalized in _rows(contact_rows):
        if kind in kinds:
            contacts.setdefault(client_id, []).append((kind, normalized))
    cards: dict[int, matching.Card] = {}
    card_rows = Client.objects.filter(is_archived=False).order_by().values_list(*CARD_COLUMNS)
    for row in _rows(card_rows):
        data = dict(zip(CARD_COLUMNS, row, strict=True))
        cards[row[0]] = matching.card_from_row(data, contacts.get(row[0], ()))
    return cards


def find_pairs(
    cards: dict[int, matching.Card], progress: Callable[[int], None] | None = None
) -> tuple[dict[tuple[int, int], tuple[float, list[matching.Reason]]], dict[str, Any]]:
    """Pairs scoring at least matching.THRESHOLD, with their reasons, and statistics."""
    pairs, stats = matching.candidate_pairs(cards)
    found = {}
    score = matching.score
    threshold = matching.THRESHOLD
    for done, (a, b) in enumerate(sorted(pairs), start=1):
        value, reasons = score(cards[a], cards[b])
        if value >= threshold:
            found[(a, b)] = (value, reasons)
        if progress and done % 100000 == 0:
            progress(done * 100 // max(len(pairs), 1))
    stats["found"] = len(found)
    return found, stats


@transaction.atomic
def save_candidates(found: dict[tuple[int, int], tuple[float, list[matching.Reason]]]) -> int:
    """Bring the queue up to date; returns the number of new open pairs."""
    existing = {
        (a, b): (pk, status)
        for pk, a, b, status in DuplicateCandidate.objects.values_list(
            "pk", "client_a_id", "client_b_id", "status"
        ).iterator(chunk_size=FETCH)
    }
    new, changed, seen_open = [], [], set()
    for pair, (value, reasons) in found.items():
        known = existing.get(pair)
        if known is None:
            new.append(
                DuplicateCandidate(
                    client_a_id=pair[0],
                    client_b_id=pair[1],
                    score=value,
                    reasons=matching.reasons_json(reasons),
                )
            )
        elif known[1] == DuplicateCandidate.Status.OPEN:
            seen_open.add(known[0])
            changed.append(
                DuplicateCandidate(pk=known[0], score=value, reasons=matching.reasons_json(reasons))
            )
    stale = [
        pk
        for pk, status in existing.values()
        if status == DuplicateCandidate.Status.OPEN and pk not in seen_open
    ]
    for start in range(0, len(stale), 900):
        DuplicateCandidate.objects.filter(pk__in=stale[start : start + 900]).delete()
    DuplicateCandidate.objects.bulk_update(changed, ["score", "reasons"], batch_size=2000)
    DuplicateCandidate.objects.bulk_create(new, batch_size=2000)
    return len(new)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while millions of small objects are made (cards, keys,
    blocks): they hold no cycles, and each collection would walk all of them again
    (4 s of CPU at a million cards)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def run_scan(scan_pk: int) -> DuplicateScan:
    """Run the queued scan `scan_pk` (a scan not queued any more is left alone)."""
    claimed = DuplicateScan.objects.filter(pk=scan_pk, status=DuplicateScan.Status.QUEUED).update(
        status=DuplicateScan.Status.RUNNING, started_at=timezone.now()
    )
    scan = DuplicateScan.objects.get(pk=scan_pk)
    if not claimed:
        return scan
    try:
        timings: dict[str, float] = {}
        started = time.perf_counter()
        with _collector_paused():
            cards = load_cards()
        timings["load"] = time.perf_counter() - started
        DuplicateScan.objects.filter(pk=scan_pk).update(progress=30, cards=len(cards))

        def progress(percent: int) -> None:
            DuplicateScan.objects.filter(pk=scan_pk).update(progress=30 + percent * 6 // 10)

        step = time.perf_counter()
        with _collector_paused():
            found, stats = find_pairs(cards, progress)
        timings["pairs"] = time.perf_counter() - step
        step = time.perf_counter()
        new = save_candidates(found)
        timings["save"] = time.perf_counter() - step
        stats["timings"] = {k: round(v, 2) for k, v in timings.items()}
        stats["new"] = new
        DuplicateScan.objects.filter(pk=scan_pk).update(
            status=DuplicateScan.Status.DONE,
            finished_at=timezone.now(),
            progress=100,
            pairs_compared=stats["pairs"],
            candidates_found=len(found),
            stats=stats,
        )
    except Exception as exc:
        DuplicateScan.objects.filter(pk=scan_pk).update(
            status=DuplicateScan.Status.FAILED, finished_at=timezone.now(), error=repr(exc)[:2000]
        )
        raise
    scan.refresh_from_db()
    return scan
