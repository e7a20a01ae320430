"""The import run: rows in, cards out, in batches that are each all or nothing.

Each batch is one transaction that writes the batch's new cards (the rows
`clients.services.client_create` would write: card, contacts, tags, search entry, change
log), changes the matched cards the way `clients.services.client_update` does (its own
steps, with the writes made once per batch), records what was done (ImportedCard, with
before-images) and moves the import's checkpoint. A process killed mid-way therefore leaves
whole batches or nothing, and a resumed run carries on after the checkpoint. Parsing,
validation and building the new cards' rows, the CPU-heavy part, run in forked worker
processes while this one inserts.
"""

import collections
import contextlib
import functools
import gc
import itertools
import json
import multiprocessing
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.audit import services as audit_services
from kartoteka.clients import permissions
from kartoteka.clients import services as client_services
from kartoteka.clients.models import CardNumberCounter, Client, ContactPoint
from kartoteka.core.bulk import fts_trigger_sql, insert_rows
from kartoteka.core.changelog import _jsonable, snapshot
from kartoteka.core.context import change_context, current_channel, current_request_id
from kartoteka.core.models import ObjectChange, Tag
from kartoteka.imports.models import Import, ImportedCard, ImportRowError
from kartoteka.imports.parsers import FileProblem, Options, Table, open_table
from kartoteka.imports.rows import (
    CLIENT_COLUMNS,
    CLIENT_WRITER_FILLS,
    CardDefaults,
    PreparedRow,
    RowError,
    RowOptions,
    RowPreparer,
    payload_for,
)
from kartoteka.quality import services as quality_services
from kartoteka.search.indexing import build_document
from kartoteka.search.models import SearchEntry

MAX_STORED_ERRORS = 10_000  # per import and pass; the counts stay exact beyond it
NAME_FIELDS = ("last_name", "first_name", "middle_name", "legal_name", "short_name")


class Superseded(Exception):
    """Another run took the import over (a resume after this process was presumed dead)."""


def batch_size() -> int:
    return int(getattr(settings, "KARTOTEKA_IMPORT_BATCH_SIZE", 2000))


def open_job_table(job: Import) -> Table:
    options = Options(format=job.format, encoding=job.encoding, delimiter=job.delimiter)
    job.file.open("rb")
    return open_table(job.file, name=job.file_name, options=options)


def job_preparer(job: Import, header: list[str], *, writing: bool = False) -> RowPreparer:
    """The row preparer of an import; `writing`: for the run itself, whose rows then carry
    the new cards' rows ready to insert."""
    mapping = {int(k): v for k, v in job.mapping.items()}
    options = RowOptions(default_kind=job.default_kind, phone_region=job.phone_region)
    return RowPreparer(header, mapping, options, card_defaults(job) if writing else None)


def card_defaults(job: Import) -> CardDefaults:
    return CardDefaults(
        responsible_id=job.responsible_id, team_id=job.team_id, created_by_id=job.created_by_id
    )


# --- Parallel preparation ---------------------------------------------------------------------

_WORKER_PREPARER: RowPreparer | None = None


def _prepare_chunk(chunk: list[tuple[int, list[str]]]) -> list[PreparedRow]:
    assert _WORKER_PREPARER is not None
    return [_WORKER_PREPARER.prepare(number, cells) for number, cells in chunk]


@contextlib.contextmanager
def few_collections() -> Iterator[None]:
    """The cyclic garbage collector run rarely: a run allocates millions of short-lived
    objects (rows, their cells and values) and holds millions of long-lived ones (the keys
    of the cards it created), and the default thresholds would scan the long-lived ones
    again and again. Memory is still freed by reference counting."""
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def _worker_start() -> None:
    gc.set_threshold(100_000, 50, 1000)


def _chunks(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def prepared_rows(
    preparer: RowPreparer, rows: Iterable[tuple[int, list[str]]], workers: int
) -> Iterator[PreparedRow]:
    """Rows validated in order; with `workers` > 0, by forked processes (POSIX only)."""
    if workers <= 0 or "fork" not in multiprocessing.get_all_start_methods():
        for number, cells in rows:
            yield preparer.prepare(number, cells)
        return
    global _WORKER_PREPARER
    _WORKER_PREPARER = preparer
    context = multiprocessing.get_context("fork")
    # The children inherit the database connection but never use it.
    with context.Pool(workers, initializer=_worker_start) as pool:
        # A few chunks in flight, not the whole file: the workers may be faster than the
        # writer, and rows waiting here would pile up in memory.
        pending: collections.deque[Any] = collections.deque()
        for chunk in _chunks(rows, 500):
            pending.append(pool.apply_async(_prepare_chunk, (chunk,)))
            if len(pending) > 2 * workers + 1:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()


def worker_count(total: int | None) -> int:
    configured = getattr(settings, "KARTOTEKA_IMPORT_WORKERS", None)
    if configured is not None:
        return int(configured)
    # Forking pays off only for large files; small ones validate faster in-process.
    return max(1, (multiprocessing.cpu_count() or 1)) if (total or 0) >= 20_000 else 0


# --- Matching ---------------------------------------------------------------------------------


def _visible_ids(actor: User, candidates: set[int]) -> set[int]:
    if not candidates:
        return set()
    if actor.is_admin_role:
        return candidates
    found: set[int] = set()
    ordered = sorted(candidates)
    for start in range(0, len(ordered), 900):
        part = ordered[start : start + 900]
        found.update(
            Client.objects.visible_to(actor).filter(pk__in=part).values_list("pk", flat=True)
        )
    return found


def find_matches(actor: User, rows: list[PreparedRow], match_by: list[str]) -> dict[int, int]:
    """Row number -> id of the existing card it matches, among the cards `actor` sees.

    Keys in order of trust: card number, registration number, phone, email; the first key
    that finds a card decides (the oldest card when several share a phone).
    """
    wanted: dict[str, set[str]] = {}
    for row in rows:
        for name, value in row_keys(row, match_by):
            wanted.setdefault(name, set()).add(value)
    by_key: dict[tuple[str, str], int] = {}
    for name, values in wanted.items():
        for value, pk in _in_chunks(values, _key_query(name)):
            key = (name, str(value))
            if key not in by_key or pk < by_key[key]:
                by_key[key] = pk
    visible = _visible_ids(actor, set(by_key.values()))
    result: dict[int, int] = {}
    for row in rows:
        for key in row_keys(row, match_by):
            pk = by_key.get(key)
            if pk is not None and pk in visible:
                result[row.row] = pk
                break
    return result


def _key_query(name: str) -> Callable[[list[Any]], Any]:
    """The (value, card id) pairs of stored cards for a kind of key, in one indexed query
    per part (SQL of its own: at a million rows the ORM's per-query cost counts)."""
    quote = connection.ops.quote_name
    if name in ("phone", "email"):
        table, column, owner = ContactPoint._meta.db_table, "normalized", "client_id"
        condition, extra = f"{quote('kind')} = %s AND ", [name]
    else:
        table, column, owner = Client._meta.db_table, name, "id"
        condition, extra = "", []

    def query(part: list[Any]) -> Any:
        values = [int(v) for v in part] if name == "number" else part
        placeholders = ", ".join(["%s"] * len(values))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {quote(column)}, {quote(owner)} FROM {quote(table)} "
                f"WHERE {condition}{quote(column)} IN ({placeholders})",
                [*extra, *values],
            )
            return cursor.fetchall()

    return query


def row_keys(row: PreparedRow, match_by: list[str]) -> list[tuple[str, str]]:
    """The row's match keys, most trusted first: card number, registration numbers, phones,
    emails. Kept on the row (one import has one `match_by`); a merge drops them."""
    if row.keys is None:
        keys: list[tuple[str, str]] = []
        if "number" in match_by and row.card_number:
            keys.append(("number", str(row.card_number)))
        if "registration" in match_by:
            keys.extend(row.registration_keys)
        for kind in ("phone", "email"):
            if kind in match_by:
                keys.extend((k, n) for k, _v, n, _l, _p in row.contacts if k == kind)
        row.keys = keys
    return row.keys


def _in_chunks(values: set[Any], query: Callable[[list[Any]], Any]) -> list[Any]:
    result: list[Any] = []
    ordered = sorted(values)
    for start in range(0, len(ordered), 900):  # SQLite's limit on query parameters
        result.extend(query(ordered[start : start + 900]))
    return result


# --- Writing ----------------------------------------------------------------------------------


@dataclass
class BatchResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: int = 0
    created_keys: dict[tuple[str, str], int] = field(default_factory=dict)


def before_image(client: Client, contacts: list[ContactPoint], tags: list[str]) -> dict[str, Any]:
    """The card's editable values, contacts and tags: enough to put it back as it was."""
    data = snapshot(client, client_services.EDITABLE_FIELDS)
    return {
        "fields": data,
        "version": client.version,
        "contacts": [[c.kind, c.value, c.label, c.is_primary] for c in contacts],
        "tags": sorted(tags),
    }


@dataclass
class _Card:
    """A matched card as a batch holds it: contacts in the database's order, tag names, and
    what _change did that _flush has yet to write."""

    client: Client
    contacts: list[ContactPoint]
    tags: list[str]
    dirty: bool = False
    columns: set[str] = field(default_factory=set)  # attributes _change set
    added: set[int] = field(default_factory=set)
    removed: set[int] = field(default_factory=set)
    changed: dict[int, ContactPoint] = field(default_factory=dict)


def _full_snapshot(client: Client, contacts: list[ContactPoint], tags: list[str]) -> dict[str, Any]:
    """client_services._full_snapshot of the card as held in memory."""
    data = snapshot(client, client_services.LOG_FIELDS)
    data["contacts"] = client_services._contacts_snapshot(contacts)
    data["tags"] = sorted(tags)
    return data


_CLIENT_FIELDS = [f for f in Client._meta.concrete_fields if not f.primary_key]

# What an import never changes on a matched card (_changes leaves them out): validated when
# the card was stored, they are not checked again with a query each (foreign keys exist, the
# kind's check constraint, the id's uniqueness).
_UNCHANGED = frozenset({"number", "kind", "responsible", "team", "employer", "created_by",
                        "actualized_by"})  # fmt: skip


def _validate_change(
    client: Client,
    data: dict[str, Any],
    contacts: list[dict[str, Any]] | None,
    existing: list[ContactPoint],
) -> list[ContactPoint] | None:
    """client_services._validate_card (or full_clean without contacts) for a change that
    leaves _UNCHANGED alone: the card's field validators and clean(), the contacts through
    the service's own _validate_contacts, every error at once."""
    if _UNCHANGED & set(data):
        if contacts is None:
            client.full_clean(exclude=["number"])
            return None
        inputs = client_services._contact_inputs(contacts)
        return client_services._validate_card(client, inputs, {c.pk: c for c in existing})
    errors: dict[str, list[ValidationError]] = {}
    try:
        client.full_clean(
            exclude=sorted(_UNCHANGED), validate_unique=False, validate_constraints=False
        )
    except ValidationError as exc:
        errors.update(exc.error_dict)
    rows = None
    if contacts is not None:
        inputs = client_services._contact_inputs(contacts)
        try:
            rows = client_services._validate_contacts(client, inputs, {c.pk: c for c in existing})
        except ValidationError as exc:
            errors.update(exc.error_dict)
    if errors:
        raise ValidationError(errors)
    return rows


def _update_entry(
    writer: "Writer", client: Client, before: dict[str, Any], after: dict[str, Any]
) -> tuple[Any, ...]:
    """The row core.changelog.log_change writes for an "update": changed keys only."""
    before, after = _jsonable(before), _jsonable(after)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    before = {k: v for k, v in before.items() if k in changed}
    after = {k: v for k, v in after.items() if k in changed}
    return (writer.content_type.pk, client.pk, str(client)[:300], client.pk,
            ObjectChange.Action.UPDATE.value, writer.actor.pk, writer.channel,
            writer.request_id, connection.ops.adapt_datetimefield_value(timezone.now()),
            json.dumps(before), json.dumps(after), "")  # fmt: skip


CONTACT_COLUMNS = ["id", "client_id", "kind", "value", "normalized", "label", "is_primary",
                   "created_at"]  # fmt: skip
CHANGE_COLUMNS = ["content_type_id", "object_id", "object_repr", "client_id", "action", "actor_id",
                  "channel", "request_id", "timestamp", "before", "after", "message"]  # fmt: skip
RECORD_COLUMNS = ["job_id", "client_id", "row", "action", "before"]


class Writer:
    """Writes batches of prepared rows for one import run."""

    def __init__(self, job: Import, token: str) -> None:
        self.job = job
        self.token = token
        self.actor: User = job.created_by
        self.match_by = list(job.match_by)
        self.defaults = card_defaults(job)
        self.trigger_sql = fts_trigger_sql()
        self.content_type = ContentType.objects.get_for_model(Client)
        self.tag_ids: dict[str, int] = {}
        self.touched = set(ImportedCard.objects.filter(job=job).values_list("client_id", flat=True))
        # Cards a row of this run has created or matched, changed or not: the first row about
        # a card decides its values, later rows only fill gaps (see _update). After a resume
        # it starts from the cards the run changed.
        self.decided = set(self.touched)
        # Keys of cards this run created: a later row of the same file with the same phone
        # is the same client, even when the actor cannot see the card.
        self.created_keys: dict[tuple[str, str], int] = {}
        self.stored_errors = ImportRowError.objects.filter(job=job, is_dry_run=False).count()
        self.channel = current_channel()
        # The run's change-log entries carry it: undo tells the import's own changes apart.
        self.request_id = f"import-{job.pk}"
        self.log_fields = client_services.LOG_FIELDS
        self.contact_ids: list[int] = []  # claimed for contacts that updates add
        self.next_contact_id: int | None = None
        self.pending_changes: list[tuple[Any, ...]] = []
        self.pending_records: list[tuple[Any, ...]] = []

    # -- entry point --

    def write(self, batch: list[PreparedRow]) -> BatchResult:
        result = BatchResult()
        self.contact_ids, self.next_contact_id = [], None
        with transaction.atomic():
            self._claim()
            errors: list[tuple[PreparedRow, RowError]] = []
            valid = []
            for row in batch:
                if row.errors:
                    errors.extend((row, e) for e in row.errors)
                    result.errors += 1
                else:
                    valid.append(row)
            matches = find_matches(self.actor, valid, self.match_by) if self.match_by else {}
            creates: list[PreparedRow] = []
            pending: dict[tuple[str, str], PreparedRow] = {}
            updates: list[tuple[PreparedRow, int]] = []
            on_match = self.job.on_match
            for row in valid:
                keys = row_keys(row, self.match_by)
                target = matches.get(row.row)
                if target is None:
                    target = next(
                        (self.created_keys[k] for k in keys if k in self.created_keys), None
                    )
                twin = next((pending[k] for k in keys if k in pending), None)
                if on_match != Import.OnMatch.CREATE and (target is not None or twin):
                    if on_match == Import.OnMatch.SKIP:
                        result.skipped += 1
                    elif twin is not None and target is None:
                        _merge_into(twin, row)
                        result.unchanged += 1
                    else:
                        updates.append((row, target))  # type: ignore[arg-type]
                    continue
                creates.append(row)
                for key in keys:
                    pending.setdefault(key, row)
            self._create(creates, result)
            self._update(updates, result, errors)
            self._store_errors(errors)
            Import.objects.filter(pk=self.job.pk).update(
                checkpoint_row=batch[-1].row,
                processed_rows=F("processed_rows") + len(batch),
                created_count=F("created_count") + result.created,
                updated_count=F("updated_count") + result.updated,
                unchanged_count=F("unchanged_count") + result.unchanged,
                skipped_count=F("skipped_count") + result.skipped,
                error_count=F("error_count") + result.errors,
                heartbeat_at=timezone.now(),
            )
        self.created_keys.update(result.created_keys)
        return result

    def _claim(self) -> None:
        """Lock the import row: the batch belongs to this run or to nobody."""
        current = (
            Import.objects.select_for_update()
            .filter(pk=self.job.pk)
            .values_list("status", "run_token")
            .first()
        )
        if current != (Import.Status.RUNNING, self.token):
            raise Superseded

    # -- new cards --

    def _tag_ids(self, names: set[str]) -> dict[str, int]:
        missing = [n for n in names if n not in self.tag_ids]
        if missing:
            for tag in client_services.tags_from_names(actor=self.actor, names=missing):
                self.tag_ids[tag.name.lower()] = tag.pk
                for name in missing:
                    if name.lower() == tag.name.lower():
                        self.tag_ids[name] = tag.pk
        return self.tag_ids

    def _claim_numbers(self, count: int) -> int:
        """The first of `count` card numbers, taken from the counter under its lock."""
        counter, _created = CardNumberCounter.objects.select_for_update().get_or_create(
            name="client", defaults={"value": 0}
        )
        last = Client.objects.order_by("-number").values_list("number", flat=True).first() or 0
        first = max(counter.value, last) + 1
        counter.value = first + count - 1
        counter.save(update_fields=["value"])
        return first

    def _claim_ids(self, model: Any, count: int) -> list[int]:
        """Ids the database would give `count` new rows (taken from its sequence on
        PostgreSQL; on SQLite after both the highest id and AUTOINCREMENT's record, so an
        id of a deleted card is never reused). The batch holds the write lock."""
        if count == 0:
            return []
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [table, count],
                )
                return [pk for (pk,) in cursor.fetchall()]
            cursor.execute(f'SELECT MAX(id) FROM "{table}"')
            highest = cursor.fetchone()[0] or 0
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            found = cursor.fetchone()
            start = max(highest, found[0] if found else 0) + 1
        return list(range(start, start + count))

    def _create(self, creates: list[PreparedRow], result: BatchResult) -> None:
        """Insert the new cards with what client_create writes along (contacts, tags, search
        entry, "create" change-log entry) and the undo records. The rows come computed from
        the preparer (PreparedRow.payload); here they only get ids, numbers and the time."""
        if not creates:
            return
        stamp = connection.ops.adapt_datetimefield_value(timezone.now())
        first_number = self._claim_numbers(len(creates))
        client_ids = self._claim_ids(Client, len(creates))
        contact_ids = iter(self._claim_ids(ContactPoint, sum(len(r.contacts) for r in creates)))
        tag_ids = self._tag_ids({t for r in creates for t in r.tags})
        at_id, at_number = CLIENT_WRITER_FILLS["id"], CLIENT_WRITER_FILLS["number"]
        at_created, at_updated = (
            CLIENT_WRITER_FILLS["created_at"],
            CLIENT_WRITER_FILLS["updated_at"],
        )
        job_id, actor_id, content_type_id = self.job.pk, self.actor.pk, self.content_type.pk
        request_id, message = self.request_id, f"import #{job_id}"
        create, created = ObjectChange.Action.CREATE.value, ImportedCard.Action.CREATED.value
        client_rows: list[list[Any]] = []
        contact_rows: list[tuple[Any, ...]] = []
        entries: list[tuple[int, str]] = []
        tags: list[tuple[int, int]] = []
        changes: list[tuple[Any, ...]] = []
        records: list[tuple[Any, ...]] = []
        for index, row in enumerate(creates):
            payload = row.payload or payload_for(row, self.defaults)
            pk, number = client_ids[index], first_number + index
            values = payload.values
            values[at_id], values[at_number] = pk, number
            values[at_created] = values[at_updated] = stamp
            client_rows.append(values)
            for kind, value, normalized, label, is_primary in row.contacts:
                contact_rows.append(
                    (next(contact_ids), pk, kind, value, normalized, label, is_primary, stamp)
                )
            head = [f"{number:06d}", str(number)]  # Client.card_number, as build_document
            entries.append((pk, " ".join(dict.fromkeys([*head, *payload.document]))))
            tags.extend((pk, t) for t in sorted({tag_ids[t] for t in row.tags if t in tag_ids}))
            label = (payload.label or f"#{number}")[:300]  # str(client), as log_change
            changes.append((content_type_id, pk, label, pk, create, actor_id, self.channel,
                            request_id, stamp, "{}", payload.after, message))  # fmt: skip
            records.append((job_id, pk, row.row, created, None))
            for key in row_keys(row, self.match_by):
                result.created_keys.setdefault(key, pk)
        with connection.cursor() as cursor:
            insert_rows(cursor, Client._meta.db_table, CLIENT_COLUMNS, client_rows)
            insert_rows(cursor, ContactPoint._meta.db_table, CONTACT_COLUMNS, contact_rows)
            if self.trigger_sql:
                # FTS5 flushes its pending terms at every trigger-driven statement: the
                # entries go into the FTS table directly, the trigger is back before the
                # batch commits (a crash in between rolls both back).
                cursor.execute("DROP TRIGGER search_fts_ai")
                insert_rows(cursor, SearchEntry._meta.db_table, ["client_id", "document"], entries)
                cursor.executemany(
                    "INSERT INTO search_fts (rowid, document) VALUES (%s, %s)", entries
                )
                cursor.execute(self.trigger_sql)
            else:
                insert_rows(cursor, SearchEntry._meta.db_table, ["client_id", "document"], entries)
            insert_rows(cursor, Client.tags.through._meta.db_table, ["client_id", "tag_id"], tags)
            insert_rows(cursor, ObjectChange._meta.db_table, CHANGE_COLUMNS, changes)
            insert_rows(cursor, ImportedCard._meta.db_table, RECORD_COLUMNS, records)
        self.touched.update(client_ids)
        self.decided.update(client_ids)
        result.created += len(creates)

    # -- existing cards --

    def _update(
        self,
        updates: list[tuple[PreparedRow, int]],
        result: BatchResult,
        errors: list[tuple[PreparedRow, RowError]],
    ) -> None:
        """Change the matched cards as client_update would, with the batch's writes made
        together: each row goes through the service's own steps (permission, values applied,
        names derived, card and contacts validated by _validate_card, version bumped, change
        logged with before and after) on the card as this batch holds it, and the cards,
        contacts, search entries, change-log entries, quality scores and undo records are
        written once at the end. A row that adds tags goes through client_update itself."""
        if not updates:
            return
        cards = self._load_cards({pk for _row, pk in updates})
        for row, pk in updates:
            card = cards.get(pk)
            if card is None:
                result.skipped += 1
                continue
            # The first row of the file about a card decides its values; a later one (in this
            # batch or an earlier one, or after a resume) only fills what is still empty, as
            # a twin within one batch does (_merge_into). So the outcome does not depend on
            # where batches end, and a second run of the same file changes nothing.
            data, contacts, tag_names = _changes(
                card.client, card.contacts, card.tags, row, gaps_only=pk in self.decided
            )
            self.decided.add(pk)
            if not data and contacts is None and tag_names is None:
                result.unchanged += 1
                continue
            before = before_image(card.client, card.contacts, card.tags)
            try:
                if tag_names is None:
                    self._change(card, data, contacts)
                else:
                    self._flush(cards)
                    self._change_with_tags(card, data, contacts, tag_names)
                    self.contact_ids, self.next_contact_id = [], None
                    cards[pk] = self._load_cards({pk})[pk]
            except ValidationError as exc:
                from kartoteka.imports.rows import _messages

                for message, code in _messages(exc):
                    errors.append((row, RowError(None, "", "", message, code)))
                result.errors += 1
                continue
            except PermissionDenied as exc:
                errors.append((row, RowError(None, "", "", str(exc), "permission_denied")))
                result.errors += 1
                continue
            if pk not in self.touched:
                self.pending_records.append(
                    (self.job.pk, pk, row.row, ImportedCard.Action.UPDATED.value,
                     json.dumps(before))
                )  # fmt: skip
                self.touched.add(pk)
            result.updated += 1
        self._flush(cards)

    def _load_cards(self, pks: set[int]) -> dict[int, "_Card"]:
        """The cards with their contacts and tags, locked for the batch on PostgreSQL."""
        found: dict[int, _Card] = {}
        ordered = sorted(pks)
        for start in range(0, len(ordered), 900):
            part = ordered[start : start + 900]
            clients = Client.objects.select_for_update().filter(pk__in=part).order_by("pk")
            for client in clients:
                found[client.pk] = _Card(client, [], [])
            for contact in ContactPoint.objects.filter(client_id__in=part):  # Meta order
                found[contact.client_id].contacts.append(contact)
            through = Client.tags.through.objects.filter(client_id__in=part)
            for client_id, name in through.values_list("client_id", "tag__name").order_by("pk"):
                found[client_id].tags.append(name)
        return found

    def _change(
        self, card: "_Card", data: dict[str, Any], contacts: list[dict[str, Any]] | None
    ) -> None:
        """client_services._update's steps on the card in memory; the writes wait for
        _flush. A ValidationError leaves the card as it was."""
        client = card.client
        permissions.ensure_can_change_client(self.actor, client)
        saved = client.__dict__.copy()
        saved_contacts = [(c, c.__dict__.copy()) for c in card.contacts]
        before = _full_snapshot(client, card.contacts, card.tags)
        try:
            client_services._apply(client, data)
            client_services._derive(client)
            rows = _validate_change(client, data, contacts, card.contacts)
        except Exception:
            client.__dict__.clear()
            client.__dict__.update(saved)
            for contact, state in saved_contacts:
                contact.__dict__.clear()
                contact.__dict__.update(state)
            raise
        client.version += 1
        client.updated_at = timezone.now()
        card.columns.update(k for k, v in client.__dict__.items() if saved.get(k, v) is not v)
        if rows is not None:
            kept = {r.pk for r in rows if r.pk}
            card.removed.update(c.pk for c in card.contacts if c.pk not in kept)
            for contact in rows:
                if contact.pk is None:
                    contact.pk = self._next_contact_id()
                    contact.created_at = client.updated_at
                    card.added.add(contact.pk)
                card.changed[contact.pk] = contact
            card.contacts = sorted(rows, key=lambda c: (c.kind, not c.is_primary, c.pk))
        after = _full_snapshot(client, card.contacts, card.tags)
        self.pending_changes.append(_update_entry(self, client, before, after))
        card.dirty = True

    def _change_with_tags(
        self,
        card: "_Card",
        data: dict[str, Any],
        contacts: list[dict[str, Any]] | None,
        tag_names: list[str],
    ) -> None:
        """A row that adds tags: client_update itself, on the card as it is stored."""
        client = Client.objects.prefetch_related("contacts", "tags").get(pk=card.client.pk)
        tags = client_services.tags_from_names(actor=self.actor, names=tag_names)
        client_services.client_update(
            actor=self.actor,
            client=client,
            expected_version=None,
            data=data,
            contacts=contacts,
            tags=tags,
            allow_duplicates=True,
        )

    def _next_contact_id(self) -> int:
        """An id for a contact an update adds, before the batch writes it. PostgreSQL: from
        the sequence, in blocks. SQLite: counted on from the highest stored id, which holds
        while this batch has the write lock and nothing else inserts contacts (client_update
        for a row with tags does: then the count starts afresh, see _update)."""
        if not self.contact_ids:
            if connection.vendor == "postgresql" or self.next_contact_id is None:
                self.contact_ids = self._claim_ids(ContactPoint, 256)[::-1]
            else:
                start = self.next_contact_id
                self.contact_ids = list(range(start + 255, start - 1, -1))
            self.next_contact_id = self.contact_ids[0] + 1
        return self.contact_ids.pop()

    def _flush(self, cards: dict[int, "_Card"]) -> None:
        """Write what _change did to the cards in memory, as client_update's saves would
        leave the rows (cards, contacts, search entries, quality), with the change-log
        entries and undo records."""
        dirty = [card for card in cards.values() if card.dirty]
        with connection.cursor() as cursor:
            if dirty:
                # The columns _change set, not all as save() writes them: the rows end the
                # same, and SQLite leaves the indexes of the other columns alone.
                by_columns: dict[tuple[Any, ...], list[_Card]] = {}
                for card in dirty:
                    fields = tuple(f for f in _CLIENT_FIELDS if f.attname in card.columns)
                    by_columns.setdefault(fields, []).append(card)
                for fields, cards_alike in by_columns.items():
                    assignments = ", ".join(
                        f"{connection.ops.quote_name(f.column)} = %s" for f in fields
                    )
                    cursor.executemany(
                        f"UPDATE {Client._meta.db_table} SET {assignments} WHERE id = %s",
                        [
                            [f.get_db_prep_save(getattr(c.client, f.attname), connection)
                             for f in fields] + [c.client.pk]
                            for c in cards_alike
                        ],
                    )  # fmt: skip
                removed = [pk for card in dirty for pk in card.removed]
                for start in range(0, len(removed), 900):
                    ContactPoint.objects.filter(pk__in=removed[start : start + 900]).delete()
                contact_fields = list(ContactPoint._meta.concrete_fields)
                added: list[list[Any]] = []
                changed: list[list[Any]] = []
                for card in dirty:
                    for pk, contact in card.changed.items():
                        values = [f.get_db_prep_save(getattr(contact, f.attname), connection)
                                  for f in contact_fields]  # fmt: skip
                        (added if pk in card.added else changed).append(values)
                names = [f.column for f in contact_fields]
                insert_rows(cursor, ContactPoint._meta.db_table, names, added)
                if changed:
                    assignments = ", ".join(f"{connection.ops.quote_name(n)} = %s" for n in names)
                    cursor.executemany(
                        f"UPDATE {ContactPoint._meta.db_table} SET {assignments} WHERE id = %s",
                        [[*values, values[0]] for values in changed],
                    )
            insert_rows(cursor, ObjectChange._meta.db_table, CHANGE_COLUMNS, self.pending_changes)
            insert_rows(cursor, ImportedCard._meta.db_table, RECORD_COLUMNS, self.pending_records)
        if dirty:
            SearchEntry.objects.bulk_create(
                [
                    SearchEntry(
                        client_id=c.client.pk,
                        document=build_document(c.client, sorted(c.contacts, key=lambda p: p.pk)),
                    )
                    for c in dirty
                ],
                update_conflicts=True,
                unique_fields=["client"],
                update_fields=["document"],
                batch_size=500,
            )
            ids = {c.client.pk for c in dirty} | {
                c.client.employer_id for c in dirty if c.client.employer_id
            }
            quality_services.quality_refresh_many(sorted(ids))
        for card in dirty:
            card.dirty = False
            card.columns.clear()
            card.removed.clear()
            card.added.clear()
            card.changed.clear()
        self.pending_changes = []
        self.pending_records = []

    def _store_errors(self, errors: list[tuple[PreparedRow, RowError]]) -> None:
        room = MAX_STORED_ERRORS - self.stored_errors
        if room <= 0 or not errors:
            return
        ImportRowError.objects.bulk_create(
            [error_record(self.job, row.row, e, dry_run=False) for row, e in errors[:room]],
            batch_size=1000,
        )
        self.stored_errors += min(room, len(errors))


def error_record(job: Import, row: int, error: RowError, *, dry_run: bool) -> ImportRowError:
    return ImportRowError(
        job=job,
        is_dry_run=dry_run,
        row=row,
        column=error.column,
        header=error.header[:200],
        value=error.value[:300],
        message=error.message[:500],
        code=error.code[:40],
    )


def _merge_into(twin: PreparedRow, row: PreparedRow) -> None:
    """A later row about a card this batch creates anyway: fill its gaps and add contacts."""
    for name, value in row.fields.items():
        if value not in ("", None) and twin.fields.get(name) in ("", None):
            twin.fields[name] = value
    known = {(k, n) for k, _v, n, _l, _p in twin.contacts}
    for contact in row.contacts:
        if (contact[0], contact[2]) not in known:
            twin.contacts.append((*contact[:4], False))
    twin.tags.extend(t for t in row.tags if t not in twin.tags)
    twin.payload = None  # computed again from the merged values when written
    twin.keys = None


def _changes(
    client: Client,
    existing: list[ContactPoint],
    current: list[str],
    row: PreparedRow,
    *,
    gaps_only: bool = False,
) -> tuple[dict[str, Any], list[dict[str, Any]] | None, list[str] | None]:
    """What the row would change on the card: fields that differ (names only when the row
    is about the same kind of client; with `gaps_only`, only fields the card lacks),
    contacts it lacks, tags it lacks."""
    data: dict[str, Any] = {}
    for name, value in row.fields.items():
        if name in ("kind", "display_name", "sort_name"):
            continue
        if name in NAME_FIELDS and row.kind != client.kind:
            continue
        if value in ("", None) or getattr(client, name) == value:
            continue
        if gaps_only and getattr(client, name) not in ("", None):
            continue
        data[name] = value
    known = {(c.kind, c.normalized) for c in existing}
    primary_kinds = {c.kind for c in existing if c.is_primary}
    new = [c for c in row.contacts if (c[0], c[2]) not in known]
    contacts = None
    if new:
        contacts = [
            {"kind": c.kind, "value": c.value, "label": c.label, "is_primary": c.is_primary,
             "pk": c.pk}
            for c in existing
        ]  # fmt: skip
        for kind, value, _normalized, label, _primary in new:
            contacts.append(
                {"kind": kind, "value": value, "label": label,
                 "is_primary": kind not in primary_kinds}
            )  # fmt: skip
            primary_kinds.add(kind)
    current_tags = {t.lower() for t in current}
    new_tags = [t for t in row.tags if t.lower() not in current_tags]
    tag_names = current + new_tags if new_tags else None
    return data, contacts, tag_names


# --- Runs -------------------------------------------------------------------------------------


def is_stale(job: Import) -> bool:
    """A run whose process stopped reporting: killed, or the machine went down."""
    if job.status not in (Import.Status.RUNNING, Import.Status.UNDOING):
        return False
    seconds = int(getattr(settings, "KARTOTEKA_IMPORT_STALE_SECONDS", 120))
    reference = job.heartbeat_at or job.updated_at
    return (timezone.now() - reference).total_seconds() >= seconds


def _take_over(job_pk: int, allowed: tuple[str, ...], status: str) -> tuple[Import, str] | None:
    token = uuid.uuid4().hex
    with transaction.atomic():
        job = Import.objects.select_for_update().get(pk=job_pk)
        if job.status not in allowed and not is_stale(job):
            return None
        job.status = status
        job.run_token = token
        job.heartbeat_at = timezone.now()
        job.started_at = job.started_at or job.heartbeat_at
        job.message = ""
        job.save()
    return job, token


def count_rows(table: Table) -> int:
    return sum(1 for _row in table.rows())


def _as_import(run: Callable[..., Import | None]) -> Callable[..., Import | None]:
    """Run with the door "import": the change log and audit trail tell import writes apart."""

    @functools.wraps(run)
    def wrapped(job_pk: int, **kwargs: Any) -> Import | None:
        request_id = current_request_id() or f"import-{job_pk}"
        with change_context(channel=ObjectChange.Channel.IMPORT, request_id=request_id):
            return run(job_pk, **kwargs)

    return wrapped


@_as_import
def run_import(
    job_pk: int,
    *,
    workers: int | None = None,
    on_batch: Callable[[Import, BatchResult], None] | None = None,
) -> Import | None:
    """Run (or resume) an import from its checkpoint to the end of the file."""
    taken = _take_over(job_pk, (Import.Status.QUEUED,), Import.Status.RUNNING)
    if taken is None:
        return None
    job, token = taken
    with translation.override(job.language or None):
        try:
            _check_rights(job)
            table = open_job_table(job)
            if job.total_rows is None:
                job.total_rows = count_rows(table)
                Import.objects.filter(pk=job.pk).update(total_rows=job.total_rows)
            preparer = job_preparer(job, table.header, writing=True)
            writer = Writer(job, token)
            count = worker_count(job.total_rows) if workers is None else workers
            rows = prepared_rows(preparer, table.rows(start_after=job.checkpoint_row), count)
            with few_collections():
                for batch in _chunks(rows, batch_size()):
                    result = writer.write(batch)
                    if on_batch:
                        on_batch(job, result)
        except Superseded:
            return None
        except (FileProblem, PermissionDenied) as exc:
            _finish(job, token, Import.Status.FAILED, _text(exc))
            return Import.objects.get(pk=job.pk)
        except Exception as exc:
            _finish(job, token, Import.Status.FAILED, _("The import stopped: %(error)s") % {
                "error": exc.__class__.__name__})  # fmt: skip
            raise
        _finish(job, token, Import.Status.DONE, "")
    finished = Import.objects.get(pk=job.pk)
    _scan_for_duplicates(finished)
    return finished


def _scan_for_duplicates(job: Import) -> None:
    """New cards from a file are checked against the whole base: queue the duplicate scan,
    whose review queue then lists the pairs with their reasons (the import page links it)."""
    if not job.created_count:
        return
    from kartoteka.dedupe.services import can_start_scan, scan_start

    if can_start_scan(job.created_by):
        with transaction.atomic():
            scan_start(actor=job.created_by)


def _text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(str(m) for m in exc.messages)
    return str(exc)


def _check_rights(job: Import) -> None:
    """The owner's rights as they are now: a role changed since the upload counts."""
    actor = job.created_by
    permissions.ensure_can_create_client(actor)
    permissions.ensure_can_assign(actor, responsible=job.responsible, team_id=job.team_id)


@transaction.atomic
def _finish(job: Import, token: str, status: str, message: str) -> None:
    finished = Import.objects.filter(pk=job.pk, run_token=token).update(
        status=status, message=message, finished_at=timezone.now(), run_token=""
    )
    if finished:
        _audit_run(job, status)


_AUDITED_COUNTS = ("processed_rows", "created_count", "updated_count", "unchanged_count",
                   "skipped_count", "error_count", "undone_count")  # fmt: skip


def _audit_run(job: Import, status: str) -> None:
    """One audit event per run (or undo) with its counts: the cards it wrote carry the door
    "import" and add no event each, as an import may write a million rows."""
    counts = Import.objects.filter(pk=job.pk).values(*_AUDITED_COUNTS).get()
    audit_services.record(
        "import",
        obj=job,
        actor=job.created_by,
        details={"status": status, **{k.removesuffix("_count"): v for k, v in counts.items()}},
    )


# --- Dry run ----------------------------------------------------------------------------------


def run_check(job_pk: int, *, workers: int | None = None) -> Import | None:
    """Validate every row and count what the import would do, writing no card."""
    taken = _take_over(job_pk, (Import.Status.CHECKING,), Import.Status.CHECKING)
    if taken is None:
        return None
    job, token = taken
    with translation.override(job.language or None):
        try:
            table = open_job_table(job)
            preparer = job_preparer(job, table.header)
            ImportRowError.objects.filter(job=job, is_dry_run=True).delete()
            counts = {"rows": 0, "valid": 0, "errors": 0, "create": 0, "update": 0, "skip": 0}
            stored = 0
            seen: set[tuple[str, str]] = set()
            match_by = list(job.match_by)
            total = job.total_rows
            rows = prepared_rows(preparer, table.rows(), worker_count(total) if workers is None
                                 else workers)  # fmt: skip
            for batch in _chunks(rows, batch_size()):
                errors = [
                    error_record(job, r.row, e, dry_run=True) for r in batch for e in r.errors
                ]
                room = MAX_STORED_ERRORS - stored
                if errors and room > 0:
                    ImportRowError.objects.bulk_create(errors[:room], batch_size=1000)
                    stored += min(room, len(errors))
                valid = [r for r in batch if not r.errors]
                matches = find_matches(job.created_by, valid, match_by) if match_by else {}
                for row in valid:
                    keys = row_keys(row, match_by)
                    matched = row.row in matches or any(k in seen for k in keys)
                    if matched and job.on_match == Import.OnMatch.SKIP:
                        counts["skip"] += 1
                    elif matched and job.on_match == Import.OnMatch.UPDATE:
                        counts["update"] += 1
                    else:
                        counts["create"] += 1
                        seen.update(keys)
                counts["rows"] += len(batch)
                counts["valid"] += len(valid)
                counts["errors"] += len(batch) - len(valid)
                Import.objects.filter(pk=job.pk, run_token=token).update(
                    processed_rows=counts["rows"], heartbeat_at=timezone.now()
                )
        except FileProblem as exc:
            Import.objects.filter(pk=job.pk, run_token=token).update(
                status=Import.Status.UPLOADED, message=_text(exc), run_token=""
            )
            return Import.objects.get(pk=job.pk)
        Import.objects.filter(pk=job.pk, run_token=token).update(
            status=Import.Status.CHECKED,
            dry_run=counts,
            total_rows=counts["rows"],
            processed_rows=0,
            run_token="",
            message="",
        )
    return Import.objects.get(pk=job.pk)


# --- Undo and rollback --------------------------------------------------------------------------


@_as_import
def run_undo(job_pk: int, *, final_status: str = Import.Status.UNDONE) -> Import | None:
    """Take back everything the import did, newest first, in batches that are each all or
    nothing: created cards are deleted (or archived when someone has changed them since),
    changed cards get their before-images back."""
    taken = _take_over(job_pk, (Import.Status.UNDOING,), Import.Status.UNDOING)
    if taken is None:
        return None
    job, token = taken
    actor = job.created_by
    with translation.override(job.language or None):
        while True:
            with transaction.atomic():
                current = (
                    Import.objects.select_for_update()
                    .filter(pk=job.pk)
                    .values_list("run_token", flat=True)
                    .first()
                )
                if current != token:
                    return None
                records = list(ImportedCard.objects.filter(job=job).order_by("-pk")[: batch_size()])
                if not records:
                    break
                _undo_records(actor, job, records)
                ImportedCard.objects.filter(pk__in=[r.pk for r in records]).delete()
                Import.objects.filter(pk=job.pk).update(
                    undone_count=F("undone_count") + len(records), heartbeat_at=timezone.now()
                )
        _finish(job, token, final_status, "")
    return Import.objects.get(pk=job.pk)


def _undo_records(actor: User, job: Import, records: list[ImportedCard]) -> None:
    created = [r.client_id for r in records if r.action == ImportedCard.Action.CREATED]
    untouched = _untouched_since(job, created)
    changed_since = [pk for pk in created if pk not in untouched]
    if untouched:
        _delete_cards(actor, job, sorted(untouched))
    for client in Client.objects.filter(pk__in=changed_since, is_archived=False):
        # Someone worked with the card after the import: keep their work, archive it.
        client_services.client_archive(actor=actor, client=client)
    for record in records:
        if record.action != ImportedCard.Action.UPDATED or not record.before:
            continue
        found = Client.objects.filter(pk=record.client_id).first()
        if found is None:
            continue
        _restore(actor, found, record.before)


def _untouched_since(job: Import, created: list[int]) -> set[int]:
    """The cards the import created that nobody else has changed since: version 1, or one
    more per "update" the import itself logged (a later row of the file about the same
    client). Anyone else's change raises the version without such an entry."""
    versions = dict(Client.objects.filter(pk__in=created).values_list("pk", "version"))
    own = collections.Counter(
        ObjectChange.objects.filter(
            content_type=ContentType.objects.get_for_model(Client),
            object_id__in=[pk for pk, version in versions.items() if version > 1],
            action=ObjectChange.Action.UPDATE,
            channel=ObjectChange.Channel.IMPORT,
            request_id=f"import-{job.pk}",
        ).values_list("object_id", flat=True)
    )
    return {pk for pk, version in versions.items() if version == 1 + own[pk]}


def _delete_cards(actor: User, job: Import, pks: list[int]) -> None:
    clients = list(Client.objects.filter(pk__in=pks).only("pk", "display_name", "number"))
    content_type = ContentType.objects.get_for_model(Client)
    ObjectChange.objects.bulk_create(
        [
            ObjectChange(
                content_type=content_type,
                object_id=c.pk,
                object_repr=str(c)[:300],
                action=ObjectChange.Action.DELETE,
                actor=actor,
                channel=current_channel(),
                request_id=f"import-{job.pk}",
                message=f"undo of import #{job.pk}",
            )
            for c in clients
        ],
        batch_size=500,
    )
    for start in range(0, len(pks), 900):
        Client.objects.filter(pk__in=pks[start : start + 900]).delete()


def _restore(actor: User, client: Client, before: dict[str, Any]) -> None:
    fields = dict(before["fields"])
    for name in ("responsible", "team", "employer"):
        fields.pop(name, None)  # assignments are never changed by an import
    model_fields = {f.name: f for f in Client._meta.concrete_fields}
    data = {
        name: model_fields[name].to_python(value) if value is not None else None
        for name, value in fields.items()
    }
    data.pop("kind", None)
    existing = {(c.kind, c.value): c.pk for c in client.contacts.all()}
    contacts = [
        {"kind": kind, "value": value, "label": label, "is_primary": primary,
         "pk": existing.get((kind, value))}
        for kind, value, label, primary in before["contacts"]
    ]  # fmt: skip
    tags = Tag.objects.filter(name__in=before["tags"])
    client_services.client_update(
        actor=actor,
        client=client,
        expected_version=None,
        data=data,
        contacts=contacts,
        tags=list(tags),
        allow_duplicates=True,
    )
