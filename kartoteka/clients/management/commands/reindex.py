"""`kartoteka reindex`: rebuild the search document of every card."""

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.utils.translation import gettext as _

from kartoteka.clients.management.commands._progress import ProgressBar
from kartoteka.clients.models import Client
from kartoteka.search.indexing import index_clients


class Command(BaseCommand):
    help = "Rebuild the search documents of all cards, in batches, with a progress bar."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args, **options) -> None:
        batch_size = max(options["batch_size"], 1)
        total = Client.objects.count()
        bar = ProgressBar(total, "Reindexing", self.stderr._out)
        done = 0
        last_pk = 0
        while True:
            batch = list(Client.objects.filter(pk__gt=last_pk).order_by("pk")[:batch_size])
            if not batch:
                break
            with transaction.atomic():
                index_clients(batch)
            last_pk = batch[-1].pk
            done += len(batch)
            bar.update(min(done, total))
        if connection.vendor == "sqlite":
            # Merge the FTS segments the rewrite produced, so searches read one b-tree.
            with connection.cursor() as cursor:
                cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
        self.stdout.write(_("Reindexed %(count)s cards.") % {"count": f"{done:,}"})
