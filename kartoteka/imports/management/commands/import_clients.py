"""`kartoteka import_clients`: import a file of clients from the command line, in this
process (no worker needed), or resume, roll back or undo an earlier import.

    kartoteka import_clients clients.csv --as admin
    kartoteka import_clients clients.xlsx --as admin --on-match skip --team Москва
    kartoteka import_clients --resume 12 --as admin
    kartoteka import_clients --rollback 12 --as admin
    kartoteka import_clients --undo 12 --as admin
"""

import sys
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kartoteka.accounts.models import Team, User
from kartoteka.core.context import change_context
from kartoteka.imports import engine, services
from kartoteka.imports.models import Import


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(
            f"{field}: {' '.join(str(m) for e in errors for m in e.messages)}"
            for field, errors in exc.error_dict.items()
        )
    return " ".join(exc.messages)


class Command(BaseCommand):
    help = "Import clients from XLSX, CSV or vCard; or resume, roll back or undo an import."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", help="The file to import.")
        parser.add_argument("--as", dest="username", required=True, help="Act as this user.")
        parser.add_argument("--resume", type=int, metavar="ID")
        parser.add_argument("--rollback", type=int, metavar="ID")
        parser.add_argument("--undo", type=int, metavar="ID")
        parser.add_argument("--on-match", choices=Import.OnMatch.values, default="update")
        parser.add_argument(
            "--match-by",
            default=",".join(services.DEFAULT_MATCH_BY),
            help="Comma-separated: number, registration, phone, email (empty: never match).",
        )
        parser.add_argument("--kind", choices=["person", "company"], default="person")
        parser.add_argument("--encoding", default="")
        parser.add_argument("--delimiter", default="")
        parser.add_argument("--team", default=None, help="Team name for the new cards.")
        parser.add_argument("--workers", type=int, default=None)
        parser.add_argument("--dry-run", action="store_true", help="Check only; write nothing.")

    def handle(self, *args, **options) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user {options['username']!r}.")
        try:
            with change_context(channel="cli"):
                job = self._run(user, options)
        except PermissionDenied as exc:
            self.stderr.write(str(exc))
            sys.exit(2)
        except ValidationError as exc:
            raise CommandError(_messages(exc)) from exc
        if job is None:
            raise CommandError("The import is being handled by another process.")
        self.stdout.write(
            f"import {job.pk}: {job.status}; rows {job.processed_rows}, created "
            f"{job.created_count}, updated {job.updated_count}, unchanged {job.unchanged_count},"
            f" skipped {job.skipped_count}, with errors {job.error_count}"
            + (f", undone {job.undone_count}" if job.undone_count else "")
            + (f"; {job.message}" if job.message else "")
        )
        if job.dry_run:
            self.stdout.write(f"dry run: {job.dry_run}")

    def _job(self, user: User, pk: int) -> Import:
        job = Import.objects.visible_to(user).filter(pk=pk).first()
        if job is None:
            raise CommandError(f"No import {pk}.")
        return job

    def _run(self, user: User, options: dict) -> Import | None:
        workers = options["workers"]
        for action in ("resume", "rollback", "undo"):
            if options[action] is not None:
                job = self._job(user, options[action])
                if action == "resume":
                    services.import_resume(actor=user, job=job, enqueue=False)
                    return engine.run_import(job.pk, workers=workers)
                if action == "rollback":
                    services.import_rollback(actor=user, job=job, enqueue=False)
                    return engine.run_undo(job.pk, final_status=Import.Status.ROLLED_BACK)
                services.import_undo(actor=user, job=job, enqueue=False)
                return engine.run_undo(job.pk, final_status=Import.Status.UNDONE)
        if not options["file"]:
            raise CommandError("Give a file, or --resume/--rollback/--undo ID.")
        path = Path(options["file"])
        if not path.exists():
            raise CommandError(f"No file {path}.")
        team = None
        if options["team"]:
            team = Team.objects.filter(name=options["team"]).first()
            if team is None:
                raise CommandError(f"No team {options['team']!r}.")
        with path.open("rb") as handle:
            job = services.import_upload(
                actor=user,
                file=File(handle, name=path.name),
                encoding=options["encoding"],
                delimiter=options["delimiter"],
            )
        self.stdout.write(f"import {job.pk}: columns {job.mapping}")
        job = services.import_configure(
            actor=user,
            job=job,
            on_match=options["on_match"],
            match_by=[m for m in options["match_by"].split(",") if m.strip()],
            default_kind=options["kind"],
            team=team if team is not None else False,
        )
        if options["dry_run"]:
            services.import_check(actor=user, job=job, enqueue=False)
            return engine.run_check(job.pk, workers=workers)
        services.import_start(actor=user, job=job, enqueue=False)
        return engine.run_import(job.pk, workers=workers)
