"""`kartoteka check`: is this installation healthy? Exit status 1 when it is not."""

from django.core import checks
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor


class Command(BaseCommand):
    help = (
        "Check the configuration (Django checks), that the database answers and is migrated, "
        "and that every card has its search document."
    )
    requires_system_checks: list[str] = []

    def handle(self, *args, **options) -> None:
        problems: list[str] = []
        for name, probe in [
            ("configuration", self._configuration),
            ("database", self._database),
            ("migrations", self._migrations),
            ("search index", self._search_index),
        ]:
            try:
                found = probe()
            except Exception as exc:  # any failure of a probe is a finding, not a crash
                found = [f"{type(exc).__name__}: {exc}"]
            if found:
                problems.extend(f"{name}: {problem}" for problem in found)
                for problem in found:
                    self.stdout.write(f"PROBLEM  {name}: {problem}")
            else:
                self.stdout.write(f"OK       {name}")
            if name == "database" and found:
                break  # nothing else can be checked without a database
        if problems:
            raise CommandError(f"{len(problems)} problem(s) found.")
        self.stdout.write("All checks passed.")

    def _configuration(self) -> list[str]:
        messages = checks.run_checks(include_deployment_checks=False)
        for message in messages:
            if message.level < checks.ERROR and not message.is_silenced():
                self.stdout.write(f"note     {message}")
        return [str(m) for m in messages if m.is_serious() and not m.is_silenced()]

    def _database(self) -> list[str]:
        connection = connections[DEFAULT_DB_ALIAS]
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return []

    def _migrations(self) -> list[str]:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            return [f"{len(plan)} migration(s) not applied; run: kartoteka migrate"]
        return []

    def _search_index(self) -> list[str]:
        from kartoteka.clients.models import Client
        from kartoteka.search.models import SearchEntry

        cards = Client.objects.count()
        entries = SearchEntry.objects.count()
        if cards != entries:
            return [f"{cards:,} cards but {entries:,} search documents; run: kartoteka reindex"]
        return []
