"""`kartoteka bench`: generate N realistic cards, then measure what users wait for.

Server-side latency (time.perf_counter around the selector or service call, queryset
evaluated; and around the whole Django view for the list and card pages) of search by name
fragment, transliteration, phone digits, email and registration number; the filtered list,
its next page; the card page; creating a card. As an administrator and as an employee, whose
every read goes through the visibility filter. Prints a table and writes it as Markdown.

By default the cards go into a fresh SQLite file in a temporary directory. With --database
the benchmark runs against that database (its name must contain "bench": it is created and
dropped here, or kept and reused with --reuse). Either way it runs in a child process that
gets the database through KARTOTEKA_DATABASE_URL, i.e. with the production settings.
"""

import contextlib
import datetime
import os
import platform
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client as WebClient
from django.urls import NoReverseMatch, reverse
from unidecode import unidecode

from kartoteka.accounts.models import User
from kartoteka.clients.demo import (
    CardGenerator,
    cards_bulk_create,
    demo_staff_ensure,
    demo_tags_ensure,
    service_arguments,
)
from kartoteka.clients.management.commands._progress import ProgressBar
from kartoteka.clients.models import Client, ContactPoint
from kartoteka.clients.selectors import client_detail, client_list
from kartoteka.clients.services import DuplicateClients, client_create
from kartoteka.core.context import change_context
from kartoteka.core.warmup import process_ready
from kartoteka.search.text import has_cjk

SEARCH_TARGET_MS = 30.0
LIST_TARGET_MS = 50.0
CARD_TARGET_MS = 50.0
WARM_UP = 5
BENCH_ADMIN = "bench-admin"
BENCH_EMPLOYEE = "kuznetsov"  # a demo employee of team Москва


@dataclass
class Scenario:
    key: str
    title: str
    target_ms: float | None


SCENARIOS = [
    Scenario("search_name", "Search: name fragment (4-6 letters, own script)", SEARCH_TARGET_MS),
    Scenario("search_latin", "Search: name fragment, Latin for Cyrillic", SEARCH_TARGET_MS),
    Scenario("search_cjk", "Search: Chinese name (characters)", SEARCH_TARGET_MS),
    Scenario("search_phone", "Search: phone, last 7-10 digits", SEARCH_TARGET_MS),
    Scenario("search_phone_national", "Search: phone as '8 916 123-45-67'", SEARCH_TARGET_MS),
    Scenario("search_email", "Search: full email", SEARCH_TARGET_MS),
    Scenario("search_registration", "Search: INN / EDRPOU / USCC", SEARCH_TARGET_MS),
    Scenario("list_filtered", "List: status + team, sorted by name", LIST_TARGET_MS),
    Scenario("list_next_page", "List: second page (cursor)", LIST_TARGET_MS),
    Scenario("list_view", "List page, whole view (HTML)", LIST_TARGET_MS),
    Scenario("card_detail", "Card: client_detail selector", CARD_TARGET_MS),
    Scenario("card_view", "Card page, whole view (HTML)", CARD_TARGET_MS),
    Scenario(
        "card_heavy_view",
        "Long-history card: card page, whole view (HTML)",
        CARD_TARGET_MS,
    ),
    Scenario(
        "timeline_heavy_older",
        "Long-history card: an older timeline page (cursor, HTML)",
        CARD_TARGET_MS,
    ),
    Scenario("summary_heavy", "Long-history card: summary header (client_summary)", None),
    Scenario("create_card", "Create one card (client_create)", None),
]


@dataclass
class Result:
    scenario: Scenario
    role: str
    samples: list[float]
    rows: float

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    @property
    def verdict(self) -> str:
        if self.scenario.target_ms is None:
            return "-"
        return "PASS" if self.p95 <= self.scenario.target_ms else "FAIL"


def _database_name(url: str) -> str:
    parts = urlsplit(url)
    return parts.path.lstrip("/") if parts.scheme.startswith("postgres") else parts.path


class Command(BaseCommand):
    help = "Generate N realistic cards and measure search, list and card latency (p50, p95)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cards", type=int, default=100_000, help="Cards (100,000).")
        parser.add_argument(
            "--database",
            default=None,
            help=(
                "postgres://…/kt_bench or sqlite:////path/bench.sqlite3 (the name must "
                "contain 'bench'); 'current' for the configured database. Default: a fresh "
                "SQLite file in a temporary directory."
            ),
        )
        parser.add_argument(
            "--reuse",
            action="store_true",
            help="Keep the database and reuse it next time (no generation when it holds N).",
        )
        parser.add_argument(
            "--events",
            type=int,
            default=0,
            help="History events (timeline lines with their records) over all cards (0).",
        )
        parser.add_argument(
            "--card-events",
            type=int,
            default=10_000,
            help="History events on one card measured on its own (10,000; 0: none).",
        )
        parser.add_argument("--repeat", type=int, default=200, help="Samples per scenario.")
        parser.add_argument("--output", default=None, help="Write the report (Markdown) here.")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--report-command", default=None, help="(internal)")

    def handle(self, *args, **options) -> None:
        if options["cards"] < 1 or options["repeat"] < 1:
            raise CommandError("--cards and --repeat must be positive.")
        if options["events"] < 0 or options["card_events"] < 0:
            raise CommandError("--events and --card-events cannot be negative.")
        command_line = options["report_command"] or "kartoteka bench " + " ".join(
            shlex.quote(a) for a in sys.argv[2:]
        )
        if options["database"] == "current":
            report = Bench(self, options, command_line).run()
            self.stdout.write(report)
            if options["output"]:
                Path(options["output"]).write_text(report + "\n", encoding="utf-8")
                self.stdout.write(f"Report written to {options['output']}.")
            return
        self._in_child(options, command_line)

    # -- the parent: prepare a database, run the benchmark against it in a child ----------

    def _in_child(self, options: dict[str, Any], command_line: str) -> None:
        url = options["database"]
        # The child's data directory (secret key, collected static files): thrown away after.
        data_dir = tempfile.mkdtemp(prefix="kartoteka-bench-")
        temporary = None
        if url is None:
            temporary = data_dir
            url = f"sqlite:///{temporary}/bench.sqlite3"
        elif "bench" not in _database_name(url):
            raise CommandError(
                "Use a database of its own for the benchmark, with 'bench' in its name "
                "(e.g. postgres://postgres@127.0.0.1:5432/kt_bench): it is dropped afterwards."
            )
        scheme = urlsplit(url).scheme
        if scheme.startswith("postgres"):
            self._postgres_prepare(url, reuse=options["reuse"])
        elif scheme == "sqlite":
            path = Path(_database_name(url))
            if path.exists() and not options["reuse"] and temporary is None:
                for suffix in ("", "-wal", "-shm"):
                    Path(str(path) + suffix).unlink(missing_ok=True)
            path.parent.mkdir(parents=True, exist_ok=True)
        else:
            raise CommandError(f"Unsupported database URL scheme {scheme!r}.")
        child = [
            sys.executable,
            "-m",
            "kartoteka",
            "bench",
            "--database",
            "current",
            "--cards",
            str(options["cards"]),
            "--repeat",
            str(options["repeat"]),
            "--seed",
            str(options["seed"]),
            "--events",
            str(options["events"]),
            "--card-events",
            str(options["card_events"]),
            "--report-command",
            command_line,
        ]
        if options["output"]:
            child += ["--output", str(Path(options["output"]).resolve())]
        env = dict(os.environ, KARTOTEKA_DATABASE_URL=url, KARTOTEKA_DATA_DIR=data_dir)
        env.setdefault("DJANGO_SETTINGS_MODULE", "kartoteka.settings")
        self.stdout.write(f"Benchmark database: {url}")
        self.stdout.flush()
        try:
            code = subprocess.call(child, env=env)
        finally:
            if temporary is None or not options["reuse"]:
                shutil.rmtree(data_dir, ignore_errors=True)
            else:
                self.stdout.write(f"Kept for --reuse: {url}")
            if scheme.startswith("postgres") and not options["reuse"]:
                self._postgres_drop(url)
        if code:
            raise CommandError(f"The benchmark failed (exit status {code}).")

    @staticmethod
    def _postgres_admin(url: str):
        import psycopg

        parts = urlsplit(url)
        admin_url = parts._replace(path="/postgres").geturl()
        return psycopg.connect(admin_url, autocommit=True), _database_name(url)

    def _postgres_prepare(self, url: str, *, reuse: bool) -> None:
        from psycopg import sql

        admin, name = self._postgres_admin(url)
        with admin:
            exists = admin.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
            if exists and not reuse:
                admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
                exists = None
            if not exists:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def _postgres_drop(self, url: str) -> None:
        from psycopg import sql

        admin, name = self._postgres_admin(url)
        with admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


class Bench:
    """The benchmark proper, against the configured database."""

    def __init__(self, command: BaseCommand, options: dict[str, Any], command_line: str):
        self.command = command
        self.out = command.stdout
        self.cards = options["cards"]
        self.repeat = options["repeat"]
        self.seed = options["seed"]
        self.command_line = command_line
        self.random = random.Random(self.seed)
        self.generation = ""
        self.events = options.get("events") or 0
        self.card_events = options.get("card_events") or 0
        self.heavy: Client | None = None
        self.history = "none"

    def say(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()

    # -- set-up ---------------------------------------------------------------------------

    def prepare(self) -> None:
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            self.say("Migrating the benchmark database…")
            call_command("migrate", interactive=False, verbosity=0)
        self._collect_static()
        with change_context(channel="cli"):
            self.staff = demo_staff_ensure()
            self.admin = User.objects.filter(username=BENCH_ADMIN).first()
            if self.admin is None:
                from kartoteka.accounts.services import user_create

                self.admin = user_create(
                    actor=None, username=BENCH_ADMIN, password=None, role=User.Role.ADMIN
                )
        self.employee = User.objects.get(username=BENCH_EMPLOYEE)
        self._cards_prepare()
        self._history_prepare()

    def _cards_prepare(self) -> None:
        existing = Client.objects.count()
        missing = self.cards - existing
        if missing <= 0:
            self.generation = f"{existing:,} cards already there (reused)"
            self.say(f"The database holds {existing:,} cards: no generation.")
            return
        self.say(f"Generating {missing:,} cards…")
        started = time.monotonic()
        with change_context(channel="cli"):
            tag_ids = demo_tags_ensure()
            generator = CardGenerator(staff=self.staff, seed=self.seed)
            bar = ProgressBar(missing, "Cards", self.command.stderr._out)
            with _big_cache():
                cards_bulk_create(
                    generator.generate(missing),
                    tag_ids=tag_ids,
                    progress=bar.update,
                    parallel=missing >= 20_000,
                )
        loaded = time.monotonic() - started
        self._analyze()
        analyzed = time.monotonic() - started - loaded
        self.generation = (
            f"{missing:,} cards generated in {loaded:,.0f} s ({missing / loaded:,.0f} cards/s), "
            f"statistics gathered in {analyzed:,.0f} s"
        )
        self.say(self.generation)

    def _history_prepare(self) -> None:
        """History events with their records (interactions, orders, invoices, …): one card
        with `card_events` of them, measured on its own, and `events` over all the cards."""
        from kartoteka.activities.models import TimelineEvent
        from kartoteka.clients.demo_history import history_bulk_create, history_spread

        authors = sorted({pk for members in self.staff.teams.values() for pk in members})
        notes = []
        if self.card_events:
            # A card the employee sees too, so both users measure it.
            self.heavy = (
                Client.objects.visible_to(self.employee)
                .filter(is_archived=False)
                .order_by("pk")
                .first()
            )
            assert self.heavy is not None
            missing = self.card_events - TimelineEvent.objects.filter(client=self.heavy).count()
            if missing > 0:
                self.say(f"Writing {missing:,} history events on card № {self.heavy.card_number}…")
                started = time.monotonic()
                with change_context(channel="cli"), _big_cache():
                    history_bulk_create(
                        [(self.heavy.pk, missing)], authors=authors, seed=self.seed + 7
                    )
                notes.append(
                    f"{missing:,} events on card № {self.heavy.card_number} written in "
                    f"{time.monotonic() - started:,.0f} s"
                )
        heavy_pk = self.heavy.pk if self.heavy else 0
        if self.events:
            missing = self.events - TimelineEvent.objects.exclude(client_id=heavy_pk).count()
            if missing > 0:
                ids = list(
                    Client.objects.exclude(pk=heavy_pk).order_by("pk").values_list("pk", flat=True)
                )
                self.say(f"Writing {missing:,} history events over {len(ids):,} cards…")
                started = time.monotonic()
                bar = ProgressBar(missing, "Events", self.command.stderr._out)
                with change_context(channel="cli"), _big_cache():
                    history_bulk_create(
                        history_spread(ids, missing, seed=self.seed),
                        authors=authors,
                        seed=self.seed,
                        progress=bar.update,
                        parallel=missing >= 100_000,
                    )
                elapsed = time.monotonic() - started
                notes.append(
                    f"{missing:,} events over {len(ids):,} cards written in {elapsed:,.0f} s "
                    f"({missing / elapsed:,.0f} events/s)"
                )
        if notes:
            self._analyze()
        total = TimelineEvent.objects.count()
        heavy = (
            f"; the long-history card № {self.heavy.card_number} has "
            f"{TimelineEvent.objects.filter(client=self.heavy).count():,}"
            if self.heavy
            else ""
        )
        self.history = f"{total:,} timeline events (each with its record){heavy}; " + (
            "; ".join(notes) if notes else "already there (reused)"
        )
        self.say(self.history)

    @staticmethod
    def _collect_static() -> None:
        """The pages render asset URLs from the static files manifest: it must exist."""
        from django.contrib.staticfiles.storage import staticfiles_storage

        manifest = getattr(staticfiles_storage, "manifest_name", None)
        if manifest and not staticfiles_storage.exists(manifest):
            call_command("collectstatic", interactive=False, verbosity=0)

    def _analyze(self) -> None:
        """Planner statistics, as a running installation has them (autovacuum on
        PostgreSQL, `PRAGMA optimize` on SQLite)."""
        statement = "ANALYZE"
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            # Also what autovacuum would do next: visibility map, GIN pending list.
            statement = "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            cursor.execute(statement)

    # -- samples --------------------------------------------------------------------------

    def collect_samples(self) -> dict[str, list[Any]]:
        rng = self.random
        top = Client.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        wanted = {rng.randint(1, top) for _ in range(3000)}
        rows = list(
            Client.objects.filter(pk__in=wanted).prefetch_related("contacts").order_by("pk")
        )
        names, latin, cjk, phones, national, emails, registration = [], [], [], [], [], [], []
        for client in rows:
            surname = client.last_name
            if client.kind == Client.Kind.PERSON and surname:
                if has_cjk(surname):
                    cjk.append(client.last_name + client.first_name)
                elif len(surname) >= 4:
                    names.append(self._fragment(surname))
                    if any("\u0400" <= ch <= "\u04ff" for ch in surname):
                        latin.append(self._fragment(unidecode(surname).lower()))
            for contact in client.contacts.all():
                if contact.kind == ContactPoint.Kind.PHONE:
                    digits = contact.normalized.lstrip("+")
                    phones.append(digits[-rng.randint(7, 10) :])
                    if contact.normalized.startswith("+7"):
                        national.append("8 " + contact.value.removeprefix("+7 "))
                elif contact.kind == ContactPoint.Kind.EMAIL:
                    emails.append(contact.normalized)
            for field in ("inn", "edrpou", "uscc"):
                if getattr(client, field):
                    registration.append(getattr(client, field))
        visible = set(
            Client.objects.visible_to(self.employee)
            .filter(pk__in=[c.pk for c in rows])
            .values_list("pk", flat=True)
        )
        return {
            "search_name": names,
            "search_latin": latin,
            "search_cjk": cjk,
            "search_phone": phones,
            "search_phone_national": national,
            "search_email": emails,
            "search_registration": registration,
            "cards_admin": [c.pk for c in rows],
            "cards_employee": [c.pk for c in rows if c.pk in visible],
        }

    def _fragment(self, word: str) -> str:
        word = word.lower()
        length = min(len(word), self.random.randint(4, 6))
        start = self.random.randint(0, len(word) - length)
        return word[start : start + length]

    # -- measuring ------------------------------------------------------------------------

    def measure(
        self, scenario: Scenario, role: str, call: Callable[[int], int], samples: int
    ) -> Result:
        for i in range(WARM_UP):
            call(i)
        times, rows = [], 0
        for i in range(samples):
            started = time.perf_counter()
            rows += call(WARM_UP + i)
            times.append((time.perf_counter() - started) * 1000)
        return Result(scenario, role, times, rows / samples)

    def scenarios_for(self, user: User, role: str, samples: dict[str, list[Any]]):
        rng = random.Random(self.seed + (0 if role == "admin" else 1))
        team_ids = sorted(self.staff.teams) if role == "admin" else user.team_ids()
        filter_sets = [
            {"status": [status], "team": str(team)}
            for status in ("active", "lead", "key")
            for team in team_ids
        ]

        def pick(name: str) -> Callable[[int], Any]:
            values = list(samples[name])
            rng.shuffle(values)
            return lambda i: values[i % len(values)]

        def search(name: str) -> Callable[[int], int] | None:
            if not samples[name]:
                return None
            value = pick(name)
            return lambda i: len(client_list(user=user, filters={"q": value(i)}).items)

        def listed(i: int) -> int:
            return len(
                client_list(user=user, filters=filter_sets[i % len(filter_sets)], sort="name").items
            )

        cursors = []
        # The filtered lists; on a small base none may reach a second page, then all cards.
        for filters in filter_sets:
            page = client_list(user=user, filters=filters, sort="name")
            if page.next_cursor:
                cursors.append((filters, page.next_cursor))
        if not cursors:
            page = client_list(user=user, filters={}, sort="name")
            if page.next_cursor:
                cursors.append(({}, page.next_cursor))

        def next_page(i: int) -> int:
            filters, cursor = cursors[i % len(cursors)]
            return len(client_list(user=user, filters=filters, sort="name", cursor=cursor).items)

        card = pick("cards_admin" if role == "admin" else "cards_employee")

        def detail(i: int) -> int:
            client_detail(user=user, pk=card(i))
            return 1

        web = self._web_client(user)
        list_url = self._url("clients:list")
        detail_url = self._url("clients:detail", 0)

        def list_view(i: int) -> int:
            filters = filter_sets[i % len(filter_sets)]
            response = web.get(
                list_url, {"status": filters["status"][0], "team": filters["team"], "sort": "name"}
            )
            assert response.status_code == 200, response.status_code
            return 1

        def card_view(i: int) -> int:
            response = web.get(detail_url.replace("/0/", f"/{card(i)}/"))
            assert response.status_code == 200, response.status_code
            return 1

        heavy_calls = self._heavy_calls(user, web)
        generator = CardGenerator(staff=self.staff, seed=self.seed + 17 + (role == "employee"))
        new_cards = []
        for spec in generator.generate(self.repeat + WARM_UP):
            spec.employer_key = None
            data, contacts, _tags = service_arguments(spec)
            if role != "admin":
                # An employee's card is theirs and their team's, as the form would make it.
                data.pop("responsible", None)
                data.pop("team", None)
            new_cards.append((data, contacts))

        def create(i: int) -> int:
            data, contacts = new_cards[i]
            try:
                with change_context(channel="cli"):
                    client_create(actor=user, data=data, contacts=contacts)
            except DuplicateClients:
                return 0
            return 1

        return {
            "search_name": search("search_name"),
            "search_latin": search("search_latin"),
            "search_cjk": search("search_cjk"),
            "search_phone": search("search_phone"),
            "search_phone_national": search("search_phone_national"),
            "search_email": search("search_email"),
            "search_registration": search("search_registration"),
            "list_filtered": listed,
            "list_next_page": next_page if cursors else None,
            "list_view": list_view if list_url else None,
            "card_detail": detail,
            "card_view": card_view if detail_url else None,
            **heavy_calls,
            "create_card": create,
        }

    def _heavy_calls(self, user: User, web: WebClient) -> dict[str, Callable[[int], int]]:
        """The long-history card: its page (summary header and first timeline page included),
        older timeline pages reached through cursors, and its summary header alone."""
        from kartoteka.clients.selectors import client_timeline
        from kartoteka.clients.summary import client_summary

        heavy = self.heavy
        if heavy is None:
            return {}
        page_url = reverse("clients:detail", args=[heavy.pk])
        timeline_url = reverse("clients:timeline", args=[heavy.pk])
        cursors, cursor = [], None
        while True:
            page = client_timeline(user=user, client=heavy, cursor=cursor)
            if not page.next_cursor:
                break
            cursor = page.next_cursor
            cursors.append(cursor)
        random.Random(self.seed).shuffle(cursors)

        def view(i: int) -> int:
            response = web.get(page_url)  # with its summary header and first timeline page
            assert response.status_code == 200, response.status_code
            return 1

        def older(i: int) -> int:
            response = web.get(
                timeline_url, {"cursor": cursors[i % len(cursors)]}, HTTP_HX_REQUEST="true"
            )
            assert response.status_code == 200, response.status_code
            return 1

        def summary(i: int) -> int:
            client_summary(user=user, client=heavy)
            return 1

        calls: dict[str, Callable[[int], int]] = {"card_heavy_view": view, "summary_heavy": summary}
        if cursors:
            calls["timeline_heavy_older"] = older
        return calls

    @staticmethod
    def _url(name: str, *args: Any) -> str | None:
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            return None

    @staticmethod
    def _web_client(user: User) -> WebClient:
        hosts = [h for h in settings.ALLOWED_HOSTS if h and h not in ("*",) and h[0] != "."]
        web = WebClient(HTTP_HOST=hosts[0] if hosts else "localhost")
        web.force_login(user)
        return web

    # -- the whole run ----------------------------------------------------------------------

    def run(self) -> str:
        self.prepare()
        samples = self.collect_samples()
        # As a web worker starts (kartoteka.wsgi): what requests read on first use loaded,
        # and the process's objects frozen out of the cycle collector's way.
        process_ready()
        self.cpu_before = cpu_reference_ms()
        self.load_before = _load_average()
        results: list[Result] = []
        for role, user in (("admin", self.admin), ("employee", self.employee)):
            calls = self.scenarios_for(user, role, samples)
            for scenario in SCENARIOS:
                call = calls.get(scenario.key)
                if call is None:
                    continue
                self.say(f"  {role:<8} {scenario.title}…")
                result = self.measure(scenario, role, call, self.repeat)
                results.append(result)
                self.say(
                    f"  {role:<8} {scenario.title}: median {result.median:.1f} ms, "
                    f"p95 {result.p95:.1f} ms"
                )
        self.load_after = _load_average()
        self.cpu_after = cpu_reference_ms()
        return self.report(results)

    def report(self, results: list[Result]) -> str:
        vendor = connection.vendor
        if vendor == "sqlite":
            import sqlite3

            database = f"SQLite {sqlite3.sqlite_version} (file, WAL)"
        else:
            with connection.cursor() as cursor:
                cursor.execute("SHOW server_version")
                database = f"PostgreSQL {cursor.fetchone()[0]}"
        total = Client.objects.count()
        lines = [
            f"### {total:,} cards, {database}",
            "",
            f"- Command: `{self.command_line}`",
            f"- Date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; "
            f"machine: {_machine()}",
            f"- Data: {self.generation}",
            f"- History: {self.history}",
            f"- Machine load average (1 min) before/after measuring: {self.load_before} / "
            f"{self.load_after} (other processes share the 2 cores)",
            f"- CPU reference before/after measuring: {self.cpu_before:.0f} / "
            f"{self.cpu_after:.0f} ms (`cpu_reference_ms`, a fixed pure-Python workload: "
            "compare runs of different days beside it)",
            f"- {self.repeat} samples per scenario and user after {WARM_UP} warm-up calls; "
            "server-side time, queryset evaluated; 'rows' is the mean number of rows returned.",
            "",
            "| Scenario | User | Median ms | p95 ms | Target p95 | Result | Rows |",
            "|---|---|---:|---:|---:|---|---:|",
        ]
        for result in results:
            target = f"≤ {result.scenario.target_ms:.0f}" if result.scenario.target_ms else "—"
            listing = result.scenario.key.startswith(("search", "list_filtered", "list_next"))
            rows = f"{result.rows:.1f}" if listing else "—"
            lines.append(
                f"| {result.scenario.title} | {result.role} | {result.median:.1f} | "
                f"{result.p95:.1f} | {target} | {result.verdict} | {rows} |"
            )
        failed = [r for r in results if r.verdict == "FAIL"]
        lines += ["", f"{len(results) - len(failed)} of {len(results)} measurements passed."]
        return "\n".join(lines)


@contextlib.contextmanager
def _big_cache() -> Iterator[None]:
    """SQLite: a 1 GiB page cache while loading, so index pages stay in memory."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        previous = cursor.fetchone()[0]
        cursor.execute("PRAGMA cache_size = -1048576")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


def cpu_reference_ms(rounds: int = 5) -> float:
    """The median time of a fixed pure-Python workload (string, dict and integer work, as
    building a page is), in ms. The machines here are shared hosts whose speed differs
    from day to day and minute to minute: a benchmark's figures are read beside this."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        table: dict[str, int] = {}
        for i in range(200_000):
            key = f"k{i % 5000}"
            table[key] = table.get(key, 0) + len(key) * i
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _load_average() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "?"


def _machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = os.cpu_count() or 0
    return f"{cores} cores{', ' + model if model else ''}, {platform.system()} {platform.release()}"
