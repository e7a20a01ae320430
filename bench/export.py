"""Export benchmark: generate N cards in a database of its own, then time every export
format as an employee-free administrator would run it (all cards), and the quality
recompute. Each export runs in a forked child so its peak memory (max RSS) is its own.

    .venv/bin/python bench/export.py --cards 100000
    .venv/bin/python bench/export.py --cards 1000000 --formats xlsx,csv

Writes a Markdown table to stdout (and --output). The database is a temporary SQLite file
(or KARTOTEKA_BENCH_DATABASE_URL, which must contain "bench" in its name).
"""

import argparse
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--formats", default="xlsx,csv,csv_1251,vcard")
    parser.add_argument("--output", default=None)
    parser.add_argument("--keep", action="store_true", help="Keep the temporary database.")
    parser.add_argument(
        "--data-dir",
        default=None,
        help="Use this data directory's SQLite base (kept); cards are generated only if it "
        "holds none, e.g. the base of `kartoteka dedupe_eval` or of an earlier --keep run.",
    )
    args = parser.parse_args()

    data_dir = args.data_dir or tempfile.mkdtemp(prefix="kartoteka-bench-export-")
    # A data directory of Kartoteka's own holds kartoteka.sqlite3; a temporary one, bench.sqlite3.
    name = "kartoteka" if (Path(data_dir) / "kartoteka.sqlite3").exists() else "bench"
    url = os.environ.get("KARTOTEKA_BENCH_DATABASE_URL") or f"sqlite:///{data_dir}/{name}.sqlite3"
    if "bench" not in url:
        raise SystemExit("Use a database with 'bench' in its name.")
    os.environ.update(
        KARTOTEKA_DATABASE_URL=url,
        KARTOTEKA_DATA_DIR=data_dir,
        DJANGO_SETTINGS_MODULE="kartoteka.settings",
    )
    import django

    django.setup()
    from django.core.management import call_command

    from kartoteka.accounts.models import User
    from kartoteka.accounts.services import user_create
    from kartoteka.clients.demo import (
        CardGenerator,
        cards_bulk_create,
        demo_staff_ensure,
        demo_tags_ensure,
    )
    from kartoteka.clients.models import Client
    from kartoteka.core.context import change_context
    from kartoteka.exports import services
    from kartoteka.exports.models import Export
    from kartoteka.quality import services as quality_services

    lines: list[str] = []

    def say(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    try:
        call_command("migrate", interactive=False, verbosity=0)
        with change_context(channel="cli"):
            staff = demo_staff_ensure()
            tags = demo_tags_ensure()
            admin = User.objects.filter(username="bench-export").first() or user_create(
                actor=None, username="bench-export", password=None, role=User.Role.ADMIN
            )
            started = time.monotonic()
            existing = Client.objects.count()
            if not existing:
                cards_bulk_create(
                    CardGenerator(staff=staff, seed=1).generate(args.cards),
                    tag_ids=tags,
                    parallel=args.cards >= 20_000,
                )
            args.cards = existing or args.cards
        generated = time.monotonic() - started
        say(
            f"## Export benchmark: {args.cards:,} cards "
            f"({platform.machine()}, {os.cpu_count()} CPUs, "
            f"{'PostgreSQL' if url.startswith('postgres') else 'SQLite'})"
        )
        say("")
        made = f"Cards generated in {generated:,.0f} s." if not existing else "Cards reused."
        say(f"{made} Command: `{' '.join(sys.argv)}`")
        say("")
        say("| Format | Rows | Seconds | Rows/s | File | Peak RSS of the run |")
        say("|---|---:|---:|---:|---:|---:|")
        for fmt in args.formats.split(","):
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: one export, then report and leave
                os.close(read)
                from django.db import connections

                connections.close_all()
                begin = time.monotonic()
                export = services.export_create(actor=admin, format=fmt, background=True)
                services.export_run(export_pk=export.pk)
                export = Export.objects.get(pk=export.pk)
                seconds = time.monotonic() - begin
                os.write(write, f"{export.row_count} {seconds} {export.file_size}".encode())
                os._exit(0 if export.status == Export.Status.DONE else 1)
            os.close(write)
            _pid, status, usage = os.wait4(pid, 0)
            report = os.read(read, 200).decode().split()
            os.close(read)
            if status != 0 or len(report) != 3:
                say(f"| {fmt} | failed | | | | |")
                continue
            rows, seconds, size = int(report[0]), float(report[1]), int(report[2])
            rss_mb = usage.ru_maxrss / 1024
            say(
                f"| {fmt} | {rows:,} | {seconds:,.1f} | {rows / seconds:,.0f} | "
                f"{size / 1_048_576:,.0f} MB | {rss_mb:,.0f} MB |"
            )
        begin = time.monotonic()
        assessed = quality_services.quality_recompute()
        seconds = time.monotonic() - begin
        say("")
        say(
            f"Quality recompute (`kartoteka quality --recompute`): {assessed:,} cards in "
            f"{seconds:,.1f} s ({assessed / seconds:,.0f} cards/s); "
            f"parent max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB."
        )
    finally:
        if not args.keep and not args.data_dir:
            shutil.rmtree(data_dir, ignore_errors=True)
    if args.output:
        Path(args.output).write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
