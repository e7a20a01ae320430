"""kill -9 in the middle of an import, for real: `manage.py import_clients` runs in a
subprocess against a file-backed SQLite database or a PostgreSQL database, is killed with
SIGKILL while it writes, and the database is then checked for half-written cards, resumed
and, separately, rolled back."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kartoteka.imports.tests import files

ROOT = Path(__file__).resolve().parents[3]
ROWS = 1500


def _file(path: Path, offset: int) -> Path:
    rows = [["ФИО", "Телефон", "E-mail"]]
    for i in range(offset, offset + ROWS):
        rows.append([f"Клиентов{i} Иван Петрович", f"+7 916 {i:07d}", f"client{i}@mail.ru"])
    path.write_bytes(files.russian_excel_csv(rows))
    return path


class Database:
    """A database of its own for the subprocesses, and raw queries into it."""

    def __init__(self, env: dict[str, str], connect: Any) -> None:
        self.env = env
        self.connect = connect

    def query(self, sql: str) -> list[tuple]:
        connection = self.connect()
        try:
            cursor = connection.cursor()
            cursor.execute(sql)
            return list(cursor.fetchall())
        finally:
            connection.close()

    def value(self, sql: str) -> Any:
        return self.query(sql)[0][0]

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=check,
            timeout=300,
        )

    def start(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def _base_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KARTOTEKA_")}
    env.update(
        DJANGO_SETTINGS_MODULE="kartoteka.settings",
        KARTOTEKA_DATA_DIR=str(tmp_path / "data"),
        KARTOTEKA_IMPORT_BATCH_SIZE="100",
        KARTOTEKA_IMPORT_WORKERS="0",
        # The killed run never reports again; a resume may take it over at once.
        KARTOTEKA_IMPORT_STALE_SECONDS="0",
    )
    return env


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path) -> Iterator[Database]:
    env = _base_env(tmp_path)
    if request.param == "sqlite":
        path = tmp_path / "data" / "kartoteka.sqlite3"
        db = Database(env, lambda: sqlite3.connect(path))
        cleanup = None
    else:
        psycopg = pytest.importorskip("psycopg")
        name = f"kt_import_crash_{uuid.uuid4().hex[:8]}"
        server = "postgresql://postgres@127.0.0.1:5432"
        try:
            admin = psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=3)
        except psycopg.OperationalError:
            pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
        admin.execute(f'CREATE DATABASE "{name}"')
        env["KARTOTEKA_DATABASE_URL"] = f"{server}/{name}"
        db = Database(env, lambda: psycopg.connect(f"{server}/{name}"))

        def cleanup() -> None:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()

    try:
        db.manage("migrate", "--no-input", "-v", "0")
        db.manage("createuser", "boss", "--role", "admin", "--password", "Long-pass-123!")
        yield db
    finally:
        if cleanup:
            cleanup()


def _kill_mid_way(db: Database, path: Path) -> int:
    """Start an import and SIGKILL it once some batches are committed; the import's id."""
    before = db.value("SELECT COALESCE(MAX(id), 0) FROM imports_import")
    process = db.start("import_clients", str(path), "--as", "boss")
    deadline = time.monotonic() + 120
    job_id = None
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail("The import finished before it could be killed.")
            try:
                found = db.query(
                    f"SELECT id, checkpoint_row FROM imports_import WHERE id > {before}"
                )
            except Exception:  # the database may be busy or the table not there yet
                found = []
            if found and found[0][1] >= 300:
                job_id = found[0][0]
                break
            time.sleep(0.005)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    assert job_id is not None
    return job_id


def _assert_whole_cards_only(db: Database, job_id: int, offset: int) -> int:
    """Every card of the import is complete, and exactly the rows up to the checkpoint."""
    status, checkpoint, created = db.query(
        f"SELECT status, checkpoint_row, created_count FROM imports_import WHERE id = {job_id}"
    )[0]
    assert status == "running"  # nobody told the database: the process just vanished
    assert 0 < checkpoint < ROWS + 1
    recorded = db.value(f"SELECT COUNT(*) FROM imports_importedcard WHERE job_id = {job_id}")
    assert recorded == created == checkpoint - 1  # row 1 is the header
    cards = db.query(
        "SELECT c.id, c.last_name, "
        "(SELECT COUNT(*) FROM clients_contactpoint p WHERE p.client_id = c.id), "
        "(SELECT COUNT(*) FROM search_searchentry s WHERE s.client_id = c.id) "
        "FROM clients_client c WHERE c.id IN "
        f"(SELECT client_id FROM imports_importedcard WHERE job_id = {job_id})"
    )
    assert len(cards) == created
    assert all(contacts == 2 and entries == 1 for _pk, _name, contacts, entries in cards)
    numbers = sorted(int(name.removeprefix("Клиентов")) for _pk, name, _c, _e in cards)
    assert numbers == list(range(offset, offset + created))  # a prefix of the file, no gaps
    return created


def test_kill_minus_nine_then_resume_then_kill_and_roll_back(database, tmp_path):
    first = _file(tmp_path / "first.csv", 1_000_000)

    job_id = _kill_mid_way(database, first)

    created = _assert_whole_cards_only(database, job_id, 1_000_000)
    assert created < ROWS
    assert database.value("SELECT COUNT(*) FROM clients_client") == created

    result = database.manage("import_clients", "--resume", str(job_id), "--as", "boss")

    assert "done" in result.stdout
    assert database.value("SELECT COUNT(*) FROM clients_client") == ROWS
    assert database.value("SELECT COUNT(DISTINCT normalized) FROM clients_contactpoint") == (
        2 * ROWS
    )
    assert database.value(f"SELECT created_count FROM imports_import WHERE id = {job_id}") == ROWS
    assert database.value("SELECT COUNT(*) FROM search_searchentry") == ROWS

    second = _file(tmp_path / "second.csv", 2_000_000)
    second_id = _kill_mid_way(database, second)
    _assert_whole_cards_only(database, second_id, 2_000_000)

    result = database.manage("import_clients", "--rollback", str(second_id), "--as", "boss")

    assert "rolled_back" in result.stdout
    assert database.value("SELECT COUNT(*) FROM clients_client") == ROWS
    assert (
        database.value("SELECT COUNT(*) FROM clients_client WHERE last_name LIKE 'Клиентов2%'") == 0
    )
    assert database.value("SELECT COUNT(*) FROM search_searchentry") == ROWS
    assert (
        database.value(f"SELECT COUNT(*) FROM imports_importedcard WHERE job_id = {second_id}") == 0
    )
