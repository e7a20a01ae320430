"""PostgreSQL: timestamps parsed by psycopg's C loader come out as Django's loader gives them."""

import datetime

import pytest
from django.db import connection
from psycopg import pq

from kartoteka.clients.models import Client
from kartoteka.clients.tests.factories import make_person

VALUES = [
    "2026-12-08 01:02:03.456789+00",
    "2026-03-29 02:30:00+03",  # another zone: stored as the instant
    "1969-07-20 20:17:40-05",
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
    "2024-02-29 12:00:00.5+05:30",
]


def _loader_name() -> str:
    adapters = connection.connection.adapters
    return adapters.get_loader(adapters.types["timestamptz"].oid, pq.Format.TEXT).__qualname__


def _read_all(cursor) -> list[datetime.datetime]:
    cursor.execute(
        "SELECT v::timestamptz FROM unnest(%s::text[]) WITH ORDINALITY AS t(v, n) ORDER BY n",
        [VALUES],
    )
    return [row[0] for row in cursor.fetchall()]


@pytest.mark.postgres
@pytest.mark.django_db
def test_c_loader_reads_what_djangos_loader_reads():
    if connection.vendor != "postgresql":
        pytest.skip("A PostgreSQL connection's loader.")
    from django.db.backends.postgresql.psycopg_any import register_tzloader

    connection.ensure_connection()
    assert _loader_name() == "tz_loader.<locals>.TzLoader"
    with connection.cursor() as cursor:
        fast = _read_all(cursor)
    with connection.cursor() as cursor:
        register_tzloader(connection.timezone, cursor.cursor)  # Django's, on this cursor only
        slow = _read_all(cursor)
    assert fast == slow
    assert [(v.tzinfo, v.isoformat()) for v in fast] == [(v.tzinfo, v.isoformat()) for v in slow]
    assert all(v.tzinfo is datetime.UTC for v in fast)
    assert fast[0] == datetime.datetime(2026, 12, 8, 1, 2, 3, 456789, tzinfo=datetime.UTC)
    assert fast[1] == datetime.datetime(2026, 3, 28, 23, 30, tzinfo=datetime.UTC)


@pytest.mark.postgres
@pytest.mark.django_db
def test_orm_reads_back_what_it_wrote(alice):
    if connection.vendor != "postgresql":
        pytest.skip("A PostgreSQL connection's loader.")
    card = make_person(alice)
    stamp = datetime.datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=datetime.UTC)
    Client.objects.filter(pk=card.pk).update(actualized_at=stamp)
    read = Client.objects.get(pk=card.pk)
    assert read.actualized_at == stamp
    assert read.actualized_at.tzinfo is datetime.UTC
    assert read.created_at == card.created_at
    # Django's per-cursor check (create_cursor) found the right zone and kept the loader.
    assert _loader_name() == "tz_loader.<locals>.TzLoader"
