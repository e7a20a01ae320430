"""`kartoteka quality --recompute`: assess every card's quality, in batches."""

import time

from django.core.management.base import BaseCommand

from kartoteka.quality import services


class Command(BaseCommand):
    help = "Assess the data quality of every card (or only the never-assessed ones)."

    def add_arguments(self, parser):
        parser.add_argument("--recompute", action="store_true", help="Re-assess every card.")
        parser.add_argument(
            "--missing", action="store_true", help="Assess only cards never assessed."
        )
        parser.add_argument("--batch-size", type=int, default=services.BATCH_SIZE)

    def handle(self, *args, **options):
        if not (options["recompute"] or options["missing"]):
            self.stderr.write("Nothing to do: give --recompute or --missing.")
            raise SystemExit(1)
        started = time.perf_counter()
        done = services.quality_recompute(
            only_missing=options["missing"] and not options["recompute"],
            batch_size=options["batch_size"],
        )
        seconds = time.perf_counter() - started
        self.stdout.write(f"Assessed {done} cards in {seconds:.1f} s.")
