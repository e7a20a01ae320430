"""The database side of backups: a consistent snapshot, a restore, and per-table statistics.

SQLite: the sqlite3 backup API copies the live database page by page under one read
transaction, so the web server and the worker keep writing (WAL) while it runs.
PostgreSQL: `pg_dump --format=custom` with `--snapshot`, exported from a REPEATABLE READ
transaction in which the row counts and checksums are computed too, so the manifest describes
exactly the rows in the dump even while others write. The password goes to pg_dump and
pg_restore in PGPASSWORD, never on a command line (where `ps` would show it).

Statistics are the number of rows and a SHA-256 over all rows of each table in primary-key
order: the same data gives the same checksum on the scratch copy a verify restores, and on
the database a restore writes.
"""

from __future__ import annotations

import contextlib
import datetime
import decimal
import hashlib
import json
import os
import sqlite3
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.translation import gettext as _

Progress = Callable[[str], None]
TableStats = dict[str, dict[str, Any]]
FETCH_SIZE = 2000
# Tables of at least this many rows are named in the progress output as they are counted.
BIG_TABLE = 100_000


class DatabaseBackupError(Exception):
    """pg_dump, pg_restore or the database refused; the message says what happened."""


def default_connection() -> BaseDatabaseWrapper:
    return connections["default"]


# --- Statistics ----------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A JSON-able, type-stable form of a column value for the checksum."""
    if isinstance(value, bytes | bytearray | memoryview):
        return "b:" + bytes(value).hex()
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID | datetime.timedelta):
        return str(value)
    return str(value)


def _hash_rows(rows: Iterator[tuple[Any, ...]]) -> tuple[int, str]:
    digest = hashlib.sha256()
    count = 0
    for row in rows:
        line = json.dumps(list(row), default=_plain, ensure_ascii=False, sort_keys=True)
        digest.update(line.encode("utf-8"))
        digest.update(b"\n")
        count += 1
    return count, digest.hexdigest()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sqlite_stats(conn: sqlite3.Connection, progress: Progress | None = None) -> TableStats:
    """Row count and content checksum of every table of a SQLite database."""
    names = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    stats: TableStats = {}
    for name in names:
        columns = conn.execute(f"PRAGMA table_info({_quote(name)})").fetchall()
        pk = [col[1] for col in sorted(columns, key=lambda col: col[5]) if col[5] > 0]
        # Tables without a primary key (FTS5 virtual tables) have a rowid instead.
        order = ", ".join(_quote(col) for col in pk) if pk else "rowid"
        # "+column": a bare expression carries no declared type, so a connection opened
        # with detect_types (Django's) returns the stored values as a plain one does.
        select = ", ".join("+" + _quote(col[1]) for col in columns)
        cursor = conn.execute(f"SELECT {select} FROM {_quote(name)} ORDER BY {order}")

        def rows(cursor: sqlite3.Cursor = cursor) -> Iterator[tuple[Any, ...]]:
            while batch := cursor.fetchmany(FETCH_SIZE):
                yield from batch

        count, checksum = _hash_rows(rows())
        stats[name] = {"rows": count, "sha256": checksum}
        _report(progress, name, count)
    return stats


def _report(progress: Progress | None, table: str, count: int) -> None:
    """Name the big tables as they are done, so a long count shows it is moving."""
    if progress is not None and count >= BIG_TABLE:
        progress(_("table %(table)s: %(count)s rows") % {"table": table, "count": count})


def postgres_stats(conn: Any, progress: Progress | None = None) -> TableStats:
    """Row count and content checksum of every table of the current schema (psycopg)."""
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' "
            "ORDER BY table_name"
        )
        names = [row[0] for row in cursor.fetchall()]
    stats: TableStats = {}
    for index, name in enumerate(names):
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
                "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                "WHERE i.indrelid = %s::regclass AND i.indisprimary "
                "ORDER BY array_position(i.indkey::int2[], a.attnum)",
                [_quote(name)],
            )
            pk = [row[0] for row in cursor.fetchall()]
        order = ", ".join(_quote(col) for col in pk) if pk else "t::text"
        # A server-side cursor: a table of millions of rows is streamed, not loaded.
        with conn.cursor(name=f"backup_stats_{index}") as cursor:
            cursor.itersize = FETCH_SIZE
            cursor.execute(f"SELECT * FROM {_quote(name)} AS t ORDER BY {order}")
            count, checksum = _hash_rows(iter(cursor))
        stats[name] = {"rows": count, "sha256": checksum}
        _report(progress, name, count)
    return stats


def compare_stats(expected: TableStats, found: TableStats) -> list[str]:
    """Every difference between the manifest's tables and those found, in words."""
    differences = []
    for name in sorted(set(expected) | set(found)):
        if name not in found:
            differences.append(_("table %(table)s: missing") % {"table": name})
        elif name not in expected:
            differences.append(_("table %(table)s: not in the manifest") % {"table": name})
        elif expected[name]["rows"] != found[name]["rows"]:
            differences.append(
                _("table %(table)s: %(expected)s rows expected, %(found)s found")
                % {"table": name, "expected": expected[name]["rows"], "found": found[name]["rows"]}
            )
        elif expected[name]["sha256"] != found[name]["sha256"]:
            differences.append(
                _("table %(table)s: the content differs (checksum)") % {"table": name}
            )
    return differences


def last_migrations(stats_rows: list[tuple[str, str]]) -> dict[str, str]:
    """The last applied migration of each app, from (app, name) rows of django_migrations."""
    latest: dict[str, str] = {}
    for app, name in stats_rows:
        if name > latest.get(app, ""):
            latest[app] = name
    return dict(sorted(latest.items()))


# --- SQLite --------------------------------------------------------------------------------


@contextlib.contextmanager
def _sqlite_live(wrapper: BaseDatabaseWrapper) -> Iterator[sqlite3.Connection]:
    """A raw connection to the configured SQLite database.

    A file gets a connection of its own, apart from Django's and its transactions; an
    in-memory database (the tests') exists only inside Django's connection, so that one.
    """
    if wrapper.is_in_memory_db():  # type: ignore[attr-defined]
        wrapper.ensure_connection()
        yield wrapper.connection
        return
    conn = sqlite3.connect(wrapper.settings_dict["NAME"], timeout=30)
    try:
        yield conn
    finally:
        conn.close()


def sqlite_snapshot(target: Path, progress: Progress) -> tuple[TableStats, dict[str, str]]:
    """Copy the live SQLite database into `target` (backup API); its stats and migrations."""
    wrapper = default_connection()
    with _sqlite_live(wrapper) as source:
        copy = sqlite3.connect(target)
        try:
            # pages=-1: the whole copy under one read lock, so it is one consistent moment;
            # in WAL mode writers carry on meanwhile.
            source.backup(copy, pages=-1)
        finally:
            copy.close()
    size = target.stat().st_size
    progress(_("Database copied (%(size)s bytes); counting rows…") % {"size": size})
    return sqlite_file_stats(target, progress)


def sqlite_file_stats(
    path: Path, progress: Progress | None = None
) -> tuple[TableStats, dict[str, str]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        stats = sqlite_stats(conn, progress)
        migrations = _sqlite_migrations(conn)
    finally:
        conn.close()
    return stats, migrations


def _sqlite_migrations(conn: sqlite3.Connection) -> dict[str, str]:
    try:
        rows = conn.execute("SELECT app, name FROM django_migrations").fetchall()
    except sqlite3.OperationalError:
        return {}
    return last_migrations(rows)


def sqlite_integrity(path: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        result = [row[0] for row in conn.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as exc:
        return [_("database file: %(error)s") % {"error": exc}]
    finally:
        conn.close()
    if result == ["ok"]:
        return []
    return [_("database file: %(error)s") % {"error": "; ".join(result[:5])}]


def sqlite_restore(source: Path) -> TableStats:
    """Replace the configured SQLite database's content with the file `source`.

    Through the backup API into the live database: one transaction on the target, so a
    reader sees the old or the new database, never a mix, and the WAL stays consistent. A
    file database is first copied to "<name>.before-restore", in case the wrong archive was
    chosen. Returns the restored database's stats, read back from the target.
    """
    wrapper = default_connection()
    in_memory = wrapper.is_in_memory_db()  # type: ignore[attr-defined]
    if not in_memory:
        # Django's own transactions must not hold the file while it is replaced.
        connections.close_all()
        name = Path(wrapper.settings_dict["NAME"])
        if name.exists():
            # A copy of what is replaced, in case the wrong archive was chosen.
            keep = sqlite3.connect(name.with_name(name.name + ".before-restore"))
            live = sqlite3.connect(name, timeout=30)
            try:
                live.backup(keep)
            finally:
                live.close()
                keep.close()
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        with _sqlite_live(wrapper) as target:
            src.backup(target, pages=-1)
            return sqlite_stats(target)
    finally:
        src.close()


# --- PostgreSQL ----------------------------------------------------------------------------


def _pg_settings(settings_dict: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    options = settings_dict.get("OPTIONS") or {}
    return {
        "dbname": name or settings_dict["NAME"],
        "user": settings_dict.get("USER") or None,
        "password": settings_dict.get("PASSWORD") or None,
        "host": settings_dict.get("HOST") or None,
        "port": str(settings_dict.get("PORT") or "") or None,
        "sslmode": options.get("sslmode"),
    }


def _pg_connect(settings_dict: dict[str, Any], name: str | None = None, **kwargs: Any) -> Any:
    import psycopg

    params = {k: v for k, v in _pg_settings(settings_dict, name).items() if v is not None}
    return psycopg.connect(**params, **kwargs)


def _pg_run(program: str, args: list[str], settings_dict: dict[str, Any]) -> None:
    """Run pg_dump or pg_restore with the connection in arguments and the password in env."""
    params = _pg_settings(settings_dict)
    env = dict(os.environ)
    if params["password"]:
        env["PGPASSWORD"] = params["password"]
    if params["sslmode"]:
        env["PGSSLMODE"] = params["sslmode"]
    command = [program, "--no-password"]
    if params["host"]:
        command += ["--host", params["host"]]
    if params["port"]:
        command += ["--port", params["port"]]
    if params["user"]:
        command += ["--username", params["user"]]
    try:
        result = subprocess.run(
            [*command, *args], env=env, capture_output=True, text=True, check=False
        )
    except FileNotFoundError as exc:
        raise DatabaseBackupError(
            _("%(program)s is not installed (PostgreSQL client tools are needed).")
            % {"program": program}
        ) from exc
    if result.returncode != 0:
        raise DatabaseBackupError(
            _("%(program)s failed: %(error)s")
            % {"program": program, "error": result.stderr.strip()[-2000:]}
        )


def postgres_snapshot(target: Path, progress: Progress) -> tuple[TableStats, dict[str, str]]:
    """pg_dump the configured database into `target`; stats from the very same snapshot."""
    settings_dict = default_connection().settings_dict
    conn = _pg_connect(settings_dict)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
        _pg_run(
            "pg_dump",
            [
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={target}",
                f"--dbname={settings_dict['NAME']}",
            ],
            settings_dict,
        )
        progress(
            _("Database dumped (%(size)s bytes); counting rows…") % {"size": target.stat().st_size}
        )
        stats = postgres_stats(conn, progress)
        with conn.cursor() as cursor:
            cursor.execute("SELECT app, name FROM django_migrations")
            migrations = last_migrations(cursor.fetchall())
        conn.rollback()
    finally:
        conn.close()
    return stats, migrations


@contextlib.contextmanager
def postgres_scratch() -> Iterator[str]:
    """A scratch database next to the configured one, dropped afterwards (needs CREATEDB)."""
    settings_dict = default_connection().settings_dict
    name = f"{settings_dict['NAME'][:40]}_verify_{uuid.uuid4().hex[:10]}"
    admin = _pg_connect(settings_dict, autocommit=True)
    try:
        try:
            admin.execute(f"CREATE DATABASE {_quote(name)}")
        except Exception as exc:
            raise DatabaseBackupError(
                _(
                    "Could not create a scratch database to verify the backup in (%(error)s). "
                    "Give the database user the CREATEDB right, or set "
                    "KARTOTEKA_BACKUP_VERIFY=0."
                )
                % {"error": exc}
            ) from exc
        try:
            yield name
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")
    finally:
        admin.close()


def postgres_restore(dump: Path, *, database: str | None = None, clean: bool = True) -> TableStats:
    """pg_restore `dump` into the configured database (or `database`); its stats after.

    One transaction (--single-transaction --exit-on-error): a failed restore leaves the
    database as it was.
    """
    settings_dict = dict(default_connection().settings_dict)
    target = database or settings_dict["NAME"]
    if database is None:
        connections.close_all()
    args = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    if clean:
        args += ["--clean", "--if-exists"]
    _pg_run("pg_restore", [*args, f"--dbname={target}", str(dump)], settings_dict)
    conn = _pg_connect(settings_dict, target)
    try:
        stats = postgres_stats(conn)
        conn.rollback()
    finally:
        conn.close()
    return stats


def postgres_drop_tables(names: list[str]) -> None:
    """Drop tables the backup does not have (added by a newer migration), so that after
    the restore `migrate` finds the schema as the backup's django_migrations describes it."""
    if not names:
        return
    wrapper = default_connection()
    with wrapper.cursor() as cursor:
        for name in names:
            cursor.execute(f"DROP TABLE IF EXISTS {_quote(name)} CASCADE")


def live_table_names() -> list[str]:
    wrapper = default_connection()
    with wrapper.cursor() as cursor:
        return list(wrapper.introspection.table_names(cursor))
