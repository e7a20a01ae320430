"""In-process A/B of the list selector: an earlier revision's `clients/selectors.py` (with
Django's own timestamp loader) against the working tree's, alternating call by call so that
a drift in the machine's speed hits both alike. For shared hosts whose speed changes from
minute to minute, where two benchmark runs one after the other say little.

    KARTOTEKA_DATABASE_URL=postgres://postgres@127.0.0.1:5432/kt_bench1m \\
        .venv/bin/python bench/ab_list.py --rev 0365a1b --user bench-admin --kind search

Needs a benchmark base (`kartoteka bench --cards 1000000 --database … --reuse`) and a
revision whose selectors module imports against the working tree.
"""

import argparse
import importlib.util
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _old_selectors(rev: str):
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{rev}:kartoteka/clients/selectors.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "old_selectors.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("old_selectors", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(0.95 * (len(ordered) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rev", required=True, help="The revision to compare against.")
    parser.add_argument("--user", default="bench-admin")
    parser.add_argument("--kind", choices=["search", "list"], default="search")
    parser.add_argument("--calls", type=int, default=150)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kartoteka.settings")
    import django

    django.setup()
    from django.db import connection

    from kartoteka.accounts.models import User
    from kartoteka.clients import selectors as new_selectors
    from kartoteka.core import pgtime

    old_selectors = _old_selectors(args.rev)
    user = User.objects.get(username=args.user)
    rng = random.Random(3)
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT last_name FROM clients_client WHERE kind = %s AND last_name <> %s "
            "AND mod(id, 83) = 0 LIMIT 3000",
            ["person", ""],
        )
        names = [row[0] for row in cursor.fetchall()]
    teams = [1, 2, 3] if user.is_admin_role else sorted(user.team_ids())

    def fragment(word: str) -> str:
        word = word.lower()
        length = min(len(word), rng.randint(4, 6))
        start = rng.randint(0, len(word) - length)
        return word[start : start + length]

    def arguments(i: int) -> dict:
        if args.kind == "search":
            return {"filters": {"q": fragment(rng.choice(names))}}
        status = ["active", "lead", "key"][i % 3]
        return {"filters": {"status": [status], "team": str(teams[i % len(teams)])}, "sort": "name"}

    def use(old: bool):
        if connection.vendor == "postgresql":
            if old:
                from django.db.backends.postgresql.psycopg_any import register_tzloader

                register_tzloader(connection.timezone, connection.connection)
            else:
                loader = pgtime.tz_loader(connection.timezone)
                connection.connection.adapters.register_loader("timestamptz", loader)
        return (old_selectors if old else new_selectors).client_list

    before: list[float] = []
    after: list[float] = []
    warm_up = 10
    for i in range(args.calls + warm_up):
        kwargs = arguments(i)
        for old in (True, False) if i % 2 else (False, True):
            client_list = use(old)
            started = time.perf_counter()
            client_list(user=user, **kwargs)
            elapsed = (time.perf_counter() - started) * 1000
            if i >= warm_up:
                (before if old else after).append(elapsed)
    ratio = statistics.median(b / a for a, b in zip(before, after, strict=True))
    print(
        f"{args.kind} as {args.user}, {args.calls} calls: {args.rev} median "
        f"{statistics.median(before):.1f} p95 {_p95(before):.1f} ms | working tree median "
        f"{statistics.median(after):.1f} p95 {_p95(after):.1f} ms | after/before per call, "
        f"median {ratio:.3f}"
    )


if __name__ == "__main__":
    main()
