"""The clients' commands: reindex and bench (timings are reported, never asserted)."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from kartoteka.clients.management.commands.bench import SCENARIOS
from kartoteka.clients.models import Client
from kartoteka.clients.selectors import client_list
from kartoteka.clients.tests.factories import make_company, make_person
from kartoteka.search.indexing import build_document
from kartoteka.search.models import SearchEntry


def test_reindex_restores_a_deleted_search_entry(ada):
    card = make_person(
        ada, last_name="Ёлкина", contacts=[{"kind": "phone", "value": "+7 916 700-11-22"}]
    )
    other = make_company(ada, inn="7707083893")
    SearchEntry.objects.filter(client=card).delete()
    assert client_list(user=ada, filters={"q": "9167001122"}).items == []

    out = StringIO()
    call_command("reindex", batch_size=1, stdout=out, stderr=StringIO())

    assert "Reindexed 2 cards" in out.getvalue()
    assert SearchEntry.objects.count() == 2
    entry = SearchEntry.objects.get(client=card)
    assert entry.document == build_document(card, list(card.contacts.all()))
    assert client_list(user=ada, filters={"q": "9167001122"}).items == [card]
    assert client_list(user=ada, filters={"q": "7707083893"}).items == [other]


def test_reindex_rewrites_a_stale_document(ada):
    card = make_person(ada, last_name="Шишкин")
    SearchEntry.objects.filter(client=card).update(document="stale")

    call_command("reindex", stdout=StringIO(), stderr=StringIO())

    assert client_list(user=ada, filters={"q": "шишкин"}).items == [card]
    assert client_list(user=ada, filters={"q": "stale"}).items == []


def test_bench_runs_end_to_end_and_reports_every_scenario(db, tmp_path):
    report_file = tmp_path / "bench.md"
    out = StringIO()

    call_command(
        "bench",
        cards=300,
        repeat=5,
        database="current",
        output=str(report_file),
        stdout=out,
        stderr=StringIO(),
    )

    report = report_file.read_text(encoding="utf-8")
    assert Client.objects.count() >= 300
    assert "| Scenario | User | Median ms | p95 ms | Target p95 | Result | Rows |" in report
    assert re.search(r"- CPU reference before/after measuring: \d+ / \d+ ms", report)
    for scenario in SCENARIOS:
        for role in ("admin", "employee"):
            assert f"| {scenario.title} | {role} |" in report, (scenario.title, role)
    assert report in out.getvalue()


def test_bench_skips_generation_when_the_database_holds_enough(db, tmp_path):
    call_command(
        "bench", cards=120, repeat=2, database="current", stdout=StringIO(), stderr=StringIO()
    )
    before = Client.objects.count()
    out = StringIO()

    call_command("bench", cards=100, repeat=2, database="current", stdout=out, stderr=StringIO())

    assert "no generation" in out.getvalue()
    # Only the cards of the "create one card" scenario were added (2 + warm-up, per user).
    assert Client.objects.count() - before <= 2 * (2 + 5)


@pytest.mark.parametrize(
    "url", ["postgres://postgres@127.0.0.1:5432/kartoteka", "sqlite:////tmp/kartoteka.sqlite3"]
)
def test_bench_refuses_a_database_not_named_for_it(db, url):
    with pytest.raises(CommandError, match="bench"):
        call_command("bench", database=url, stdout=StringIO())
