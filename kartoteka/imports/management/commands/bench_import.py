"""`kartoteka bench_import --rows 1000000`: the import benchmark.

Writes a CSV of realistic clients (ru/uk/zh/en, from kartoteka.clients.demo's pools: names
with patronymics, Chinese names, companies with valid INN/EDRPOU/USCC, phones as people
type them, emails), then imports it through the real pipeline (full validation and
normalisation, matching, change log, search index) into the configured database, and
prints rows/s, the median and p95 time per batch, and the machine's load.

Run it against an empty scratch database (KARTOTEKA_DATA_DIR or KARTOTEKA_DATABASE_URL):
it creates a user "bench-import" and leaves the imported cards behind.
"""

import csv
import os
import resource
import statistics
import time
from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection

from kartoteka.accounts.models import User
from kartoteka.accounts.services import user_create
from kartoteka.clients.demo import CardGenerator, Staff
from kartoteka.imports import engine, services

HEADER = ["ФИО", "Компания", "Телефон", "Мобильный", "E-mail", "ИНН", "ЄДРПОУ", "Должность",
          "Дата рождения", "Город"]  # fmt: skip


def _local_phone(display: str) -> str:
    """Phones as people type them: '8 (916) 123-45-67' for Russia, international elsewhere."""
    if display.startswith("+7 "):
        digits = display[3:].replace("-", "").replace(" ", "")
        return f"8 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}"
    return display


def _cpu_seconds() -> float:
    """User and system time of this process and of its finished children (the workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _server_cpu_seconds() -> float | None:
    """PostgreSQL on this machine: the CPU time of this connection's server process."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def write_file(path: Path, rows: int, seed: int) -> None:
    generator = CardGenerator(staff=Staff(teams={}), seed=seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for spec in generator.generate(rows):
            fields = spec.fields
            phones = [c.value for c in spec.contacts if c.kind == "phone"]
            emails = [c.value for c in spec.contacts if c.kind == "email"]
            if fields.get("kind") == "company":
                name = ""
                company = fields.get("legal_name") or fields.get("short_name", "")
            else:
                parts = [fields.get("last_name", ""), fields.get("first_name", ""),
                         fields.get("middle_name", "")]  # fmt: skip
                if any("\u4e00" <= ch <= "\u9fff" for ch in parts[0]):
                    name = parts[0] + parts[1]
                else:
                    name = " ".join(p for p in parts if p)
                company = fields.get("workplace", "")
            birth = fields.get("birth_date")
            writer.writerow(
                [
                    name,
                    company,
                    _local_phone(phones[0]) if phones else "",
                    phones[1] if len(phones) > 1 else "",
                    emails[0] if emails else "",
                    fields.get("inn", ""),
                    fields.get("edrpou", ""),
                    fields.get("position", ""),
                    birth.strftime("%d.%m.%Y") if birth else "",
                    "",
                ]
            )


class Command(BaseCommand):
    help = "Generate N realistic client rows and import them, measuring rows per second."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=100_000)
        parser.add_argument("--file", default="", help="Reuse (or keep) the generated CSV here.")
        parser.add_argument("--workers", type=int, default=None)
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, **options) -> None:
        rows = options["rows"]
        path = Path(options["file"] or f"/tmp/kartoteka-bench-import-{rows}.csv")
        if not path.exists():
            started = time.perf_counter()
            write_file(path, rows, options["seed"])
            self.stdout.write(
                f"wrote {path} ({rows} rows) in {time.perf_counter() - started:.0f} s"
            )
        user = User.objects.filter(username="bench-import").first() or user_create(
            actor=None, username="bench-import", password=None, role=User.Role.ADMIN, teams=[]
        )
        with path.open("rb") as handle:
            job = services.import_upload(actor=user, file=File(handle, name=path.name))
        job = services.import_configure(actor=user, job=job, responsible=None, team=None)
        services.import_start(actor=user, job=job, enqueue=False)
        batches: list[float] = []
        batch_cpu: list[float] = []  # this process only: the writer's share
        last = [time.perf_counter(), time.process_time()]

        def on_batch(_job, _result) -> None:
            now, cpu_now = time.perf_counter(), time.process_time()
            batches.append(now - last[0])
            batch_cpu.append(cpu_now - last[1])
            last[:] = [now, cpu_now]

        load_before = os.getloadavg()
        server_before = _server_cpu_seconds()
        cpu_before = _cpu_seconds()
        started = time.perf_counter()
        job = engine.run_import(job.pk, workers=options["workers"], on_batch=on_batch)
        elapsed = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu_before
        server_after = _server_cpu_seconds()
        load_after = os.getloadavg()
        assert job is not None
        ordered = sorted(batches)
        p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] if ordered else 0.0
        self.stdout.write(
            f"database {job._state.db} vendor "
            f"{__import__('django.db').db.connection.vendor}; status {job.status}; "
            f"rows {job.processed_rows}; created {job.created_count}; errors {job.error_count}\n"
            f"total {elapsed:.1f} s (includes counting the rows); "
            f"{job.processed_rows / elapsed:,.0f} rows/s\n"
            f"batches {len(batches)} of {engine.batch_size()} rows: median "
            f"{statistics.median(batches) if batches else 0:.3f} s, p95 {p95:.3f} s; "
            f"writer CPU per batch: median {_median(batch_cpu):.3f} s, first tenth "
            f"{_mean(batch_cpu[: max(1, len(batch_cpu) // 10)]):.3f} s, last tenth "
            f"{_mean(batch_cpu[-max(1, len(batch_cpu) // 10) :]):.3f} s\n"
            f"load average before {load_before[0]:.2f} {load_before[1]:.2f}, "
            f"after {load_after[0]:.2f} {load_after[1]:.2f}\n"
            f"CPU time (this process and its workers) {cpu:.1f} s, "
            f"{cpu / max(job.processed_rows, 1) * 1e6:.0f} µs per row"
            + (
                f"; database server process {server_after - server_before:.1f} s"
                if server_before is not None and server_after is not None
                else ""
            )
        )
