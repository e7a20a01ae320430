"""`kartoteka check`: is this installation healthy? Exit status 1 when it is not."""

from django.core import checks
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = (
        "Check the configuration (Django checks), that the database answers and is migrated, "
        "and that every card has its search document."
    )
    requires_system_checks: list[str] = []

    def handle(self, *args, **options) -> None:
        problems: list[str] = []
        # Messages are in the business's language (KARTOTEKA_LANGUAGE), like the web UI.
        for key, name, probe in [
            ("configuration", _("configuration"), self._configuration),
            ("database", _("database"), self._database),
            ("migrations", _("migrations"), self._migrations),
            ("search index", _("search index"), self._search_index),
        ]:
            try:
                found = probe()
            except Exception as exc:  # any failure of a probe is a finding, not a crash
                found = [f"{type(exc).__name__}: {exc}"]
            if found:
                problems.extend(f"{name}: {problem}" for problem in found)
                for problem in found:
                    self.stdout.write(
                        _("PROBLEM  %(name)s: %(problem)s") % {"name": name, "problem": problem}
                    )
            else:
                self.stdout.write(_("OK       %(name)s") % {"name": name})
            if key == "database" and found:
                break  # nothing else can be checked without a database
        if problems:
            raise CommandError(_("Problems found: %(count)s.") % {"count": len(problems)})
        self.stdout.write(_("All checks passed."))

    def _configuration(self) -> list[str]:
        messages = checks.run_checks(include_deployment_checks=False)
        for message in messages:
            if message.level < checks.ERROR and not message.is_silenced():
                self.stdout.write(_("note     %(message)s") % {"message": message})
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
            return [
                _("Migrations not applied: %(count)s; run: kartoteka migrate")
                % {"count": len(plan)}
            ]
        return []

    def _search_index(self) -> list[str]:
        from kartoteka.clients.models import Client
        from kartoteka.search.models import SearchEntry

        cards = Client.objects.count()
        entries = SearchEntry.objects.count()
        if cards != entries:
            return [
                _("%(cards)s cards but %(entries)s search documents; run: kartoteka reindex")
                % {"cards": f"{cards:,}", "entries": f"{entries:,}"}
            ]
        return []
