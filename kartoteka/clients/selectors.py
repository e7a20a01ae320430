"""Reads of client cards. Every read starts from Client.objects.visible_to(user)."""

import base64
import binascii
import datetime
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.db.models import F, ForeignKey, Prefetch, Q, QuerySet, prefetch_related_objects
from django.db.models.sql.datastructures import Join
from django.http import Http404
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from kartoteka.clients.filters import ClientFilterSet
from kartoteka.clients.models import Client, ContactPoint
from kartoteka.clients.permissions import can_view_client
from kartoteka.core.models import ObjectChange
from kartoteka.search.backends import document_filter, fts_join_expression
from kartoteka.search.models import SEARCH_BUCKET, SearchEntry

# sort key -> (field, descending)
SORTS: dict[str, tuple[str, bool]] = {
    "-number": ("number", True),
    "number": ("number", False),
    "name": ("sort_name", False),
    "-name": ("sort_name", True),
    "-updated": ("updated_at", True),
    "actualized": ("actualized_at", False),
}
DEFAULT_SORT = "-number"


@dataclass
class Page:
    """One page of a keyset-paginated list: rows and the cursor of the next page, if any."""

    items: list[Client]
    next_cursor: str | None
    sort: str


def client_visible(*, user: Any) -> QuerySet[Client]:
    return Client.objects.visible_to(user)


def client_get(*, user: Any, pk: int) -> Client:
    """The card `pk` if `user` may see it; Http404 otherwise, so existence does not leak."""
    # At most one row: no ORDER BY (first() would add the default one, which costs
    # more to build than the query takes to run).
    found = list(
        Client.objects.visible_to(user)
        .select_related("responsible", "team", "employer", "actualized_by", "created_by")
        .filter(pk=pk)
        .order_by()[:1]
    )
    if not found:
        raise Http404("No such client")
    return found[0]


def client_detail(*, user: Any, pk: int) -> Client:
    """The card with everything its page shows, in a fixed number of queries."""
    client = client_get(user=user, pk=pk)
    lookups: list[Any] = [
        "tags",
        Prefetch("contacts", queryset=ContactPoint.objects.order_by("kind", "-is_primary", "pk")),
    ]
    if client.kind == Client.Kind.COMPANY:
        # Only a company has people (the services accept only companies as employers).
        people = (
            Client.objects.visible_to(user)
            .filter(employer=client, is_archived=False)
            .order_by("sort_name")
        )
        lookups.append(Prefetch("people", queryset=people, to_attr="visible_people"))
    else:
        client.visible_people = []  # type: ignore[attr-defined]
    # client_get fetched the card with its references; only the lists are added to it.
    prefetch_related_objects([client], *lookups)
    # The employer came with the card (select_related); whether the user may see it is the
    # visibility rule applied to it in Python (permissions mirror visible_to): no query.
    if client.employer is not None and not can_view_client(user, client.employer):
        client.employer = None  # the company exists but is not this user's to see
    return client


def client_history(*, user: Any, client: Client, limit: int = 50) -> list[ObjectChange]:
    """The latest recorded changes of a card the user can see (caller fetched it visibly)."""
    from django.contrib.contenttypes.models import ContentType

    content_type = ContentType.objects.get_for_model(Client)
    return list(
        ObjectChange.objects.filter(content_type=content_type, object_id=client.pk).select_related(
            "actor"
        )[:limit]
    )


def _encode_cursor(values: list[Any]) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime.datetime) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error) as exc:
        raise ValidationError(
            {
                "cursor": ValidationError(
                    _("This page link is no longer valid; start from the first page."),
                    code="invalid_cursor",
                )
            }
        ) from exc
    if not isinstance(values, list) or len(values) != 2:
        raise ValidationError(
            {
                "cursor": ValidationError(
                    _("This page link is no longer valid; start from the first page."),
                    code="invalid_cursor",
                )
            }
        )
    return values


def _after(field: str, descending: bool, value: Any, pk: int) -> Q:
    """Rows strictly after (value, pk) in the sort order: the keyset condition."""
    if field == "number":
        return Q(number__lt=value) if descending else Q(number__gt=value)
    if field in ("updated_at", "actualized_at") and value is not None:
        value = parse_datetime(value)
    op = "lt" if descending else "gt"
    if field == "actualized_at":
        # Ascending with never-confirmed cards (NULL) first.
        if value is None:
            return Q(actualized_at__isnull=True, pk__gt=pk) | Q(actualized_at__isnull=False)
        return Q(actualized_at__gt=value) | Q(actualized_at=value, pk__gt=pk)
    return Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"pk__{op}": pk})


def _plannable(queryset: QuerySet[Client], archived: str | None) -> QuerySet[Client]:
    """The same rows, stated so the database can walk a sort index and stop at the limit.

    - `is_archived = false` compiles to `NOT is_archived` on SQLite, which cannot serve as
      the prefix of the (is_archived, <sort key>) indexes; the equivalent IN form can, and
      then the planner reads the sort index in order instead of sorting every match.
    - DISTINCT is needed only when a filter joins a to-many relation (tags); otherwise it
      only costs a temporary b-tree. With such a join it is required, or a card having two
      of the chosen tags would be listed twice.
    """
    if archived == "yes":
        queryset = queryset.filter(is_archived__in=[True])
    elif archived != "all":
        queryset = queryset.filter(is_archived__in=[False])
    to_many = any(
        isinstance(join, Join) and getattr(join.join_field, "multiple", False)
        for join in queryset.query.alias_map.values()
    )
    if to_many and not queryset.query.distinct:
        queryset = queryset.distinct()
    elif not to_many and queryset.query.distinct and not queryset.query.distinct_fields:
        queryset = queryset.all()
        queryset.query.distinct = False
    return queryset


def _window_sql(entries: QuerySet[SearchEntry], descending: bool, flag: int) -> tuple[str, list]:
    """PostgreSQL: the matching ids of `entries` in id order, as (SQL, params), each row
    with `flag` beside it; the SQL ends in `LIMIT %s`, whose value the caller appends.

    The planner guesses how many documents `LIKE '%fragment%'` matches from the length of
    the fragment alone; believing a fragment common, it would walk the whole table
    backwards in id order to find a rare one. The matches are therefore taken in a
    subquery that asks for no order (`OFFSET 0` keeps the planner from pushing the order
    and the limit into it), where the trigram index is the cheapest way to find them, and
    sorted after. One statement, where ruling the id-order plan out with `SET LOCAL` took
    five (transaction, setting, query, reset, commit).
    """
    inner, params = entries.order_by().values_list("client_id").query.sql_with_params()
    direction = "DESC" if descending else "ASC"
    return (
        f'SELECT "matches"."client_id", {int(flag)} FROM ({inner} OFFSET 0) AS "matches" '
        f"ORDER BY 1 {direction} LIMIT %s",
        list(params),
    )


def _window_ids(entries: QuerySet[SearchEntry], descending: bool, size: int) -> list[int]:
    """PostgreSQL: the first `size` matching ids of `entries` in id order (see _window_sql)."""
    sql, params = _window_sql(entries, descending, 0)
    with connections[entries.db].cursor() as cursor:
        cursor.execute(sql, [*params, size])
        return [row[0] for row in cursor.fetchall()]


# PostgreSQL: when the matches seen so far predict at most this many in the older cards,
# they are fetched from the trigram index at once rather than bucket range by bucket range.
# Fetching them all rechecks each match's document (≈ 6 µs a match at a million cards);
# one more bucket range costs a trigram index scan (≈ 3 ms). 600, not the earlier 1,500:
# over 150 name fragments the p95 of blocks read per search fell from 2,291 to 1,379 and
# of database time from 16.0 to 13.2 ms; 300 and 100 read no fewer blocks and took longer
# (docs/performance.md, "2026-12-08").
RARE_MATCHES = 600


def _bucketed_id_windows(documents: Q, after_pk: int | None, size: int) -> Iterator[list[int]]:
    """PostgreSQL: ids of the cards whose search document matches, newest first, in
    windows of at most `size`.

    The trigram index also holds each document's id bucket (`client_id / SEARCH_BUCKET`,
    search migration 0003), so "documents matching the fragment among the ids from here
    to there" is answered by the index alone, and only those documents are read and
    rechecked. (The trigram index alone returns every match in the base, and reading
    thousands of documents to keep the newest 200 was what made a common fragment slow.)
    The first range is the newest 2 buckets; from the matches found there the next range
    is sized to hold about a window of matches. When few matches are left to find, the
    rest comes from the trigram index in one query, which then costs only those few.
    """
    table = connection.ops.quote_name(SearchEntry._meta.db_table)
    bucket_of = f'{table}."client_id" / {SEARCH_BUCKET}'
    bound = after_pk
    span = 2 * SEARCH_BUCKET
    if bound is None:
        # The first page: the newest id and the matches among the newest two buckets, in
        # one statement (the bucket bound computed from the newest id by the database).
        entries = SearchEntry.objects.filter(documents).extra(
            where=[
                f'{bucket_of} >= (SELECT GREATEST(MAX("client_id") + 1 - %s, 0) / %s FROM {table})'
            ],
            params=[span, SEARCH_BUCKET],
        )
        window, params = _window_sql(entries, True, 0)
        with connection.cursor() as cursor:
            cursor.execute(
                f'SELECT MAX("client_id"), 1 FROM {table} UNION ALL ({window})', [*params, size]
            )
            rows = cursor.fetchall()
        bound = next((pk for pk, is_top in rows if is_top), None)
        bound = (bound or 0) + 1
        first: list[int] | None = [pk for pk, is_top in rows if not is_top]
    else:
        first = None
    while bound > 0:
        low_bucket = max(bound - span, 0) // SEARCH_BUCKET
        if first is not None:
            ids, first = first, None
        else:
            entries = SearchEntry.objects.filter(documents, client_id__lt=bound).extra(
                where=[f"{bucket_of} >= %s::bigint"], params=[low_bucket]
            )
            ids = _window_ids(entries, True, size)
        yield ids
        if len(ids) == size:
            bound = ids[-1]  # more in this range: go on from the last one
            continue
        # Every match in [low_bucket * SEARCH_BUCKET, bound) is in `ids`.
        covered = bound - low_bucket * SEARCH_BUCKET
        bound = low_bucket * SEARCH_BUCKET
        density = (len(ids) + 1) / covered
        if density * bound <= RARE_MATCHES:
            break
        span = max(int(size * 1.25 / density), SEARCH_BUCKET)
    while bound > 0:
        entries = SearchEntry.objects.filter(documents, client_id__lt=bound)
        ids = _window_ids(entries, True, size)
        yield ids
        if len(ids) < size:
            return
        bound = ids[-1]


def _matching_id_windows(
    documents: Q, descending: bool, after_pk: int | None, size: int
) -> Iterator[list[int]]:
    """Ids of the cards whose search document matches, newest first (oldest first when
    ascending), in windows of at most `size` ids.

    Newest first (the list's default order) on PostgreSQL: _bucketed_id_windows. Oldest
    first: straight from the trigram index, windows growing each time.
    """
    if descending and connection.vendor == "postgresql":
        yield from _bucketed_id_windows(documents, after_pk, size)
        return
    order = "-client_id" if descending else "client_id"
    op = "lt" if descending else "gt"
    bound = after_pk
    while True:
        entries = SearchEntry.objects.filter(documents)
        if bound is not None:
            entries = entries.filter(**{f"client_id__{op}": bound})
        if connection.vendor == "postgresql":
            ids = _window_ids(entries, descending, size)
        else:
            ids = list(entries.order_by(order).values_list("client_id", flat=True)[:size])
        yield ids
        if len(ids) < size:
            return
        bound = ids[-1]
        size *= 4


def _search_by_windows(
    queryset: QuerySet[Client],
    documents: Q,
    descending: bool,
    wanted: int,
    after_pk: int | None,
    keeps_nearly_all: bool = False,
) -> list[Client]:
    """The first `wanted` cards of `queryset` whose search document matches, in card id
    (= card number) order.

    `keeps_nearly_all`: the caller expects `queryset` to keep nearly every matching card
    (an administrator without filters: only archived cards drop out), so windows barely
    larger than the page suffice; otherwise they are four times the page, as a restricted
    user sees a fraction of the matches. Only the cost depends on it, never the rows.

    Joining every matching document to its card and sorting costs per match, and a
    common name fragment matches thousands. So the matching ids come first, a window at a
    time (_matching_id_windows), and only they are joined to the cards with the user's
    visibility and filters; a user who sees few of them gets further windows until the
    page is full or the matches run out. Correct for every user, and about as cheap as
    the first window for most.
    """
    rows: list[Client] = []
    quote = connection.ops.quote_name
    pk_column = f"{quote(Client._meta.db_table)}.{quote(Client._meta.pk.column)}"
    size = wanted + wanted // 4 + 1 if keeps_nearly_all else max(wanted * 4, 200)
    pending: list[int] = []
    windows = _matching_id_windows(documents, descending, after_pk, size)
    while len(rows) < wanted:
        # Ids from as many windows as it takes to fill one (a rare fragment's windows are
        # small), then joined to the cards in one query.
        ids = next(windows, None)
        if ids is not None:
            pending.extend(ids)
            if len(pending) < size:
                continue
        if pending:
            # PostgreSQL only (the FTS join answers on SQLite): the ids as one array
            # parameter, which costs less to build than an IN list of hundreds.
            page = queryset.extra(where=[f"{pk_column} = ANY(%s)"], params=[pending])
            page = page.order_by("-pk" if descending else "pk")
            rows.extend(page[: wanted - len(rows)])
            pending = []
        if ids is None:
            break
    return rows


def client_list(
    *,
    user: Any,
    filters: Mapping[str, Any] | None = None,
    sort: str = DEFAULT_SORT,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page:
    """A page of the cards `user` sees, filtered by ClientFilterSet, keyset-paginated.

    No OFFSET and no COUNT: each page costs the same at row one million as at row one.
    Raises ValidationError for invalid filters or cursor.
    """
    limit = limit or settings.KARTOTEKA_PAGE_SIZE
    if sort not in SORTS:
        sort = DEFAULT_SORT
    field, descending = SORTS[sort]
    data: Any = filters or {}
    search = str(data.get("q") or "") if field == "number" else ""
    fts = fts_join_expression(search) if search else None
    documents = document_filter(search) if search and not fts else None
    by_id = bool(fts or documents is not None)
    if by_id:
        # Searched below, by card id order; the other filters still come from the FilterSet.
        data = data.copy() if hasattr(data, "copy") else dict(data)
        data.pop("q", None)
    filterset = ClientFilterSet(data=data, queryset=Client.objects.visible_to(user))
    if not filterset.is_valid():
        raise ValidationError(filterset.errors.as_data())
    queryset = _plannable(filterset.qs, filterset.form.cleaned_data.get("archived"))
    after_pk = None
    if cursor:
        value, pk = _decode_cursor(cursor)
        try:
            after_pk = int(pk)
            condition = (
                Q(**{"pk__lt" if descending else "pk__gt": after_pk})
                if by_id
                else _after(field, descending, value, after_pk)
            )
            queryset = queryset.filter(condition)
        except (TypeError, ValueError) as exc:
            # A cursor of another sort order, or one edited by hand: a client error, not a 500.
            raise ValidationError(
                {
                    "cursor": ValidationError(
                        _("This page link is no longer valid; start from the first page."),
                        code="invalid_cursor",
                    )
                }
            ) from exc
    order: list[Any]
    if fts:
        # The FTS table is walked in rowid (= card id) order and each match joined to its
        # card, so the page is done after the first `limit` visible matches however many
        # cards match in all. Card ids grow with card numbers (both are handed out in
        # creation order, under the number counter's lock), so this is the number order.
        queryset = queryset.extra(
            tables=["search_fts"],
            where=['search_fts.rowid = "clients_client"."id"', "search_fts MATCH %s"],
            params=[fts],
            select={"search_rowid": "search_fts.rowid"},
        )
        order = ["-search_rowid" if descending else "search_rowid"]
    elif field == "actualized_at":
        order = [F("actualized_at").asc(nulls_first=True), "pk"]
    elif field == "number":
        order = ["-number" if descending else "number"]
    else:
        order = [f"-{field}", "-pk"] if descending else [field, "pk"]
    related: list[Any] = [
        # As a list attribute: a prefetch into `client.tags` builds a manager and a queryset
        # for each of the 50 rows (≈ 2 ms a page); readers take `tag_list` when it is there.
        Prefetch("tags", to_attr="tag_list"),
        Prefetch(
            "contacts",
            queryset=ContactPoint.objects.filter(is_primary=True).order_by("kind"),
            to_attr="primary_contacts",
        ),
    ]
    rows: list[Client]
    if documents is not None:
        # An administrator without other filters sees every current card: small windows.
        keeps_nearly_all = bool(getattr(user, "is_admin_role", False)) and not any(
            value for value in data.values()
        )
        rows = _search_by_windows(
            queryset, documents, descending, limit + 1, after_pk, keeps_nearly_all
        )
        prefetch_related_objects(rows, *related)
    else:
        rows = list(queryset.order_by(*order).prefetch_related(*related)[: limit + 1])
    attach_people(rows)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode_cursor([getattr(last, field), last.pk])
    return Page(items=rows, next_cursor=next_cursor, sort=sort)


def attach_people(rows: Sequence[Client]) -> None:
    """Set the responsible user and the team of each row, reading each distinct one once.

    A page of fifty cards names a handful of employees and teams; joining them
    (`select_related`) built fifty users and fifty teams, column by column, where two small
    queries build the few there are (≈ 3 ms less a page on PostgreSQL). `row.responsible`
    and `row.team` then read the cache, as after a join."""
    for name in ("responsible", "team"):
        field = Client._meta.get_field(name)
        assert isinstance(field, ForeignKey)
        ids = {getattr(row, field.attname) for row in rows} - {None}
        # The base manager, as the foreign key's own descriptor uses: a card keeps showing
        # an employee whom a default manager would hide.
        model = field.related_model
        assert not isinstance(model, str)
        found = model._base_manager.in_bulk(ids) if ids else {}
        for row in rows:
            field.set_cached_value(row, found.get(getattr(row, field.attname)))


def _verbose_name(field: str) -> str:
    return str(Client._meta.get_field(field).verbose_name)  # type: ignore[union-attr]


def client_find_duplicates(
    *,
    user: Any,
    contacts: Sequence[tuple[str, str]],
    registration: Mapping[str, str],
    exclude_pk: int | None = None,
) -> list[tuple[Client, list[str]]]:
    """Visible cards sharing a phone, email, messenger or registration number, with reasons.

    Archived cards count too: re-creating an archived client is the commonest duplicate.
    """
    wanted_contacts = {(k, v) for k, v in contacts if v and k != "address"}
    wanted_registration = {f: v for f, v in registration.items() if v}
    if not wanted_contacts and not wanted_registration:
        return []
    # Candidates first, each through its own index: one OR across the contact table and the
    # card's columns cannot use any index and scans every card (seconds at a million).
    candidates: set[int] = set()
    if wanted_contacts:
        by_contact = Q()
        for kind, value in wanted_contacts:
            by_contact |= Q(kind=kind, normalized=value)
        found_by_contact = ContactPoint.objects.filter(by_contact).values_list("client_id")
        candidates.update(pk for (pk,) in found_by_contact)
    if wanted_registration:
        by_number = Q()
        for field, value in wanted_registration.items():
            by_number |= Q(**{field: value})
        candidates.update(Client.objects.filter(by_number).values_list("pk", flat=True))
    if not candidates:
        return []
    queryset = Client.objects.visible_to(user).filter(pk__in=candidates)
    if exclude_pk:
        queryset = queryset.exclude(pk=exclude_pk)
    found = list(queryset.prefetch_related("contacts")[:10])
    result = []
    for client in found:
        reasons = [
            f"{c.get_kind_display()}: {c.value}"
            for c in client.contacts.all()
            if (c.kind, c.normalized) in wanted_contacts
        ]
        reasons += [
            f"{_verbose_name(f)}: {v}"
            for f, v in wanted_registration.items()
            if getattr(client, f) == v
        ]
        result.append((client, reasons))
    return result


def company_choices(*, user: Any, query: str = "", limit: int = 20) -> list[Client]:
    """Company cards the user may link a person to, for pickers."""
    from kartoteka.search.backends import match_filter

    queryset = Client.objects.visible_to(user).filter(kind=Client.Kind.COMPANY, is_archived=False)
    condition = match_filter(query) if query else None
    if condition is not None:
        queryset = queryset.filter(condition)
    return list(queryset.order_by("sort_name")[:limit])


# --- The card's timeline ------------------------------------------------------------------------


@dataclass
class TimelinePage:
    """One page of a card's timeline, newest first, and the cursor of the next page, if any."""

    items: list[Any]  # TimelineEvent
    next_cursor: str | None


TIMELINE_PAGE_SIZE = 30
TIMELINE_MAX_LIMIT = 200


def _invalid_cursor() -> ValidationError:
    return ValidationError(
        {
            "cursor": ValidationError(
                _("This page link is no longer valid; start from the first page."),
                code="invalid_cursor",
            )
        }
    )


def client_timeline(
    *,
    user: Any,
    client: Client,
    kinds: Sequence[str] | None = None,
    cursor: str | None = None,
    limit: int = TIMELINE_PAGE_SIZE,
) -> TimelinePage:
    """A page of the card's one timeline (interactions, orders, services, invoices, payments,
    surveys, recommendations, documents), newest first, optionally of some kinds only.

    The caller fetched `client` through client_get, so `user` may see it. Keyset pagination
    on (occurred_at, id) descending: one range scan of timeline_client_idx (or, for one kind,
    timeline_client_kind_idx) that stops after `limit` rows, at event 10,000 as at event 1 —
    no OFFSET, no COUNT. Raises ValidationError for an unknown kind or a bad cursor.
    """
    from kartoteka.activities.models import TimelineEvent

    limit = max(1, min(int(limit), TIMELINE_MAX_LIMIT))
    queryset = TimelineEvent.objects.filter(client_id=client.pk)
    if kinds:
        unknown = sorted(set(kinds) - set(TimelineEvent.Kind.values))
        if unknown:
            raise ValidationError(
                {
                    "kind": ValidationError(
                        _("Unknown kind: %(kind)s."),
                        code="invalid_choice",
                        params={"kind": ", ".join(unknown)},
                    )
                }
            )
        kinds = sorted(set(kinds))
        queryset = (
            queryset.filter(kind=kinds[0]) if len(kinds) == 1 else queryset.filter(kind__in=kinds)
        )
    if cursor:
        value, pk = _decode_cursor(cursor)
        occurred_at = parse_datetime(value) if isinstance(value, str) else None
        if occurred_at is None or not isinstance(pk, int):
            raise _invalid_cursor()
        # "Before (t, id)" stated as a range on occurred_at (which the index serves) minus the
        # rows at t already shown; the OR form would stop SQLite using the index in order.
        queryset = queryset.filter(occurred_at__lte=occurred_at).exclude(
            occurred_at=occurred_at, id__gte=pk
        )
    rows = list(queryset.select_related("author").order_by("-occurred_at", "-id")[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = _encode_cursor([rows[-1].occurred_at, rows[-1].pk])
    return TimelinePage(items=rows, next_cursor=next_cursor)
