"""Bulk writes for the batch-shaped services (the import, the demo and benchmark loaders).

They insert rows they have built and validated themselves, straight into the tables, where
Django's bulk_create would cost several times as much per row. Callers own the validation,
the change log and the search index: these helpers only write.
"""

from collections.abc import Sequence
from typing import Any

from django.db import connection


def insert_rows(
    cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert `rows` (values in `columns` order): COPY on PostgreSQL (a third of the cost of
    row-by-row statements), one prepared INSERT run for every row elsewhere."""
    if not rows:
        return
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    if connection.vendor == "postgresql":
        with cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    placeholders = ", ".join(["%s"] * len(columns))
    cursor.executemany(f"INSERT INTO {quote(table)} ({names}) VALUES ({placeholders})", rows)


def fts_trigger_sql() -> str | None:
    """SQLite: the trigger that copies new search entries into the FTS table, if present.

    FTS5 flushes its pending terms at every trigger-driven statement, which makes bulk
    inserts three times slower than inserting into the FTS table directly: bulk writers drop
    the trigger inside their transaction, fill the FTS table themselves and re-create it
    from this SQL before committing.
    """
    if connection.vendor != "sqlite":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'search_fts_ai'"
        )
        found = cursor.fetchone()
    return found[0] if found else None
