"""PostgreSQL: the database's work for the name search's id windows, per search, for several
values of `clients.selectors.RARE_MATCHES`, alternating per fragment: `EXPLAIN (ANALYZE,
BUFFERS)` of each statement that reads the search documents, summed per search (planning and
execution time, blocks, statements). Blocks do not depend on the machine's speed.

    KARTOTEKA_DATABASE_URL=postgres://postgres@127.0.0.1:5432/kt_bench1m \\
        .venv/bin/python bench/search_windows.py --settings 1500,600,300 --searches 150
"""

import argparse
import os
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(0.95 * (len(ordered) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--user", default="bench-admin")
    parser.add_argument("--settings", default="1500,600,300,100")
    parser.add_argument("--searches", type=int, default=150)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kartoteka.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kartoteka.accounts.models import User
    from kartoteka.clients import selectors

    user = User.objects.get(username=args.user)
    values = [int(v) for v in args.settings.split(",")]
    rng = random.Random(11)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT last_name FROM clients_client WHERE kind = %s AND last_name <> %s "
            "AND mod(id, 89) = 0 LIMIT 3000",
            ["person", ""],
        )
        names = [row[0] for row in cursor.fetchall()]

    def fragment(word: str) -> str:
        word = word.lower()
        length = min(len(word), rng.randint(4, 6))
        start = rng.randint(0, len(word) - length)
        return word[start : start + length]

    results: dict[int, list[tuple[float, float, int]]] = {v: [] for v in values}
    for _ in range(args.searches):
        query = fragment(rng.choice(names))
        for value in values:
            selectors.RARE_MATCHES = value
            with CaptureQueriesContext(connection) as captured:
                selectors.client_list(user=user, filters={"q": query})
            spent = blocks = 0.0
            statements = 0
            for statement in captured.captured_queries:
                if "search_searchentry" not in statement["sql"]:
                    continue
                statements += 1
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement["sql"])
                    plan = cursor.fetchone()[0][0]
                spent += plan["Execution Time"] + plan["Planning Time"]
                top = plan["Plan"]
                blocks += top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
            results[value].append((spent, blocks, statements))
    for value in values:
        spent = [r[0] for r in results[value]]
        blocks = [r[1] for r in results[value]]
        statements = [r[2] for r in results[value]]
        print(
            f"RARE_MATCHES={value}: database ms per search median {statistics.median(spent):.2f} "
            f"p95 {_p95(spent):.2f}; blocks median {statistics.median(blocks):.0f} p95 "
            f"{_p95(blocks):.0f}; statements mean {statistics.mean(statements):.2f}"
        )


if __name__ == "__main__":
    main()
