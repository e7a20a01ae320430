"""Build the labelled evaluation set, run the full duplicate scan, report F1 and scan time.

    KARTOTEKA_DATA_DIR=$(mktemp -d) kartoteka migrate
    KARTOTEKA_DATA_DIR=... kartoteka dedupe_eval --cards 100000

Refuses a database that already holds cards: the set is generated into an empty base
(`--reuse` scans again a base it generated before, rebuilding the truth from the seed).
"""

import json
import os
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kartoteka.clients.demo import CardGenerator, cards_bulk_create, demo_staff_ensure
from kartoteka.clients.models import Client
from kartoteka.dedupe import scan
from kartoteka.dedupe.evaluation import EvaluationSet, evaluate_in_memory, measure
from kartoteka.dedupe.models import DuplicateCandidate, DuplicateScan


class Command(BaseCommand):
    help = "Generate a multilingual base with injected duplicates and decoys; measure the scan."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--cards", type=int, default=100000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--share", type=float, default=0.06, help="share of injected cards")
        parser.add_argument("--json", default="", help="write the figures to this file")
        parser.add_argument(
            "--reuse",
            action="store_true",
            help="scan again a base this command generated (same --cards and --seed)",
        )
        parser.add_argument(
            "--in-memory",
            action="store_true",
            help="no database: time the matcher (blocking and scoring) on generated cards",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["in_memory"]:
            figures = evaluate_in_memory(
                options["cards"], seed=options["seed"], share=options["share"]
            )
            figures["load"] = [round(x, 2) for x in os.getloadavg()]
            self._report(figures, options["json"])
            return
        reuse = options["reuse"]
        if Client.objects.exists() and not reuse:
            raise CommandError("The database holds cards already; use an empty one.")
        started = time.perf_counter()
        staff = demo_staff_ensure()
        generator = CardGenerator(staff=staff, seed=options["seed"])
        evaluation = EvaluationSet(generator, seed=options["seed"], share=options["share"])
        if reuse:
            # Same seed, same stream: drawing the specs again rebuilds the truth.
            created = sum(1 for _spec in evaluation.specs(options["cards"]))
            if created != Client.objects.count():
                raise CommandError("The base was not made with these --cards and --seed.")
            DuplicateCandidate.objects.all().delete()
        else:
            created = cards_bulk_create(evaluation.specs(options["cards"]))
        first_pk = Client.objects.order_by("pk").values_list("pk", flat=True).first() or 1
        generated = time.perf_counter() - started
        self.stdout.write(f"{created} cards generated in {generated:.0f} s")

        record = DuplicateScan.objects.create()
        load = os.getloadavg()
        started, cpu = time.perf_counter(), time.process_time()
        record = scan.run_scan(record.pk)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        found = set(
            DuplicateCandidate.objects.filter(status=DuplicateCandidate.Status.OPEN).values_list(
                "client_a_id", "client_b_id"
            )
        )
        figures = measure(evaluation.truth, first_pk, found)
        figures.update(
            cards=created,
            scan_seconds=round(seconds, 1),
            # CPU time of this process: what the scan costs with the machine to itself
            # (wall time on a shared machine also counts the others' work).
            scan_cpu_seconds=round(cpu, 1),
            scan_stats=record.stats,
            load_before=[round(x, 2) for x in load],
            load_after=[round(x, 2) for x in os.getloadavg()],
        )
        self._report(figures, options["json"])

    def _report(self, figures: dict[str, Any], path: str) -> None:
        self.stdout.write(json.dumps(figures, indent=2, ensure_ascii=False))
        if path:
            with open(path, "w", encoding="utf-8") as out:
                json.dump(figures, out, indent=2, ensure_ascii=False)
