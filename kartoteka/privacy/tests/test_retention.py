"""Retention: person cards with no activity for N years are flagged for review (keep or
erase), or anonymised by the daily run; `kartoteka retention --dry-run` counts."""

import datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from kartoteka.activities.services import interaction_create
from kartoteka.clients.models import Client
from kartoteka.clients.tests.factories import make_company, make_person
from kartoteka.notifications.scheduler import PERIODIC
from kartoteka.privacy import services
from kartoteka.privacy.models import DestructionRecord, RetentionFlag
from kartoteka.sales.tests.factories import make_order

pytestmark = pytest.mark.django_db


def at(year: int, month: int, day: int) -> datetime.datetime:
    return datetime.datetime(year, month, day, 10, tzinfo=datetime.UTC)


@pytest.fixture
def cards(alice, settings):
    settings.KARTOTEKA_RETENTION_INACTIVE_YEARS = 3
    with time_machine.travel(at(2020, 1, 1), tick=False):
        quiet = make_person(alice, last_name="Тихонова")
        talked = make_person(alice, last_name="Разговорова")
        bought = make_person(alice, last_name="Покупкина")
        company = make_company(alice)
    with time_machine.travel(at(2022, 6, 1), tick=False):
        interaction_create(actor=alice, client=talked, data={"kind": "note", "content": "."})
    with time_machine.travel(at(2020, 1, 2), tick=False):
        make_order(alice, bought, ordered_on=datetime.date(2022, 6, 1))
    return {"quiet": quiet, "talked": talked, "bought": bought, "company": company}


def test_off_by_default(cards, settings):
    settings.KARTOTEKA_RETENTION_INACTIVE_YEARS = 0

    with time_machine.travel(at(2030, 1, 1)):
        assert services.retention_run() == {"inactive": 0, "flagged": 0, "erased": 0}
    assert RetentionFlag.objects.count() == 0


def test_flags_only_cards_without_recent_update_interaction_or_order(cards):
    with time_machine.travel(at(2024, 3, 1), tick=False):
        result = services.retention_run()
        again = services.retention_run()

    assert result == {"inactive": 1, "flagged": 1, "erased": 0}
    assert again == {"inactive": 1, "flagged": 0, "erased": 0}
    flag = RetentionFlag.objects.get()
    assert flag.client == cards["quiet"]
    assert flag.last_activity_at.date() == datetime.date(2020, 1, 1)


def test_dry_run_command_counts_and_changes_nothing(cards):
    out = StringIO()
    with time_machine.travel(at(2024, 3, 1), tick=False):
        call_command("retention", "--dry-run", stdout=out)

    expected = "1 inactive card(s) (no activity for 3 years) would be flagged."
    assert out.getvalue().strip() == expected
    assert RetentionFlag.objects.count() == 0


def test_command_flags(cards):
    out = StringIO()
    with time_machine.travel(at(2024, 3, 1), tick=False):
        call_command("retention", stdout=out)

    assert "1 newly flagged" in out.getvalue()
    assert RetentionFlag.objects.count() == 1


def test_keep_actualises_and_unflags_erase_erases(cards, ada, web_client_for):
    with time_machine.travel(at(2024, 3, 1), tick=False):
        services.retention_run()
        flag = RetentionFlag.objects.get()
        web = web_client_for(ada)
        page = web.get(reverse("privacy:retention"))
        assert "Тихонова" in page.content.decode()

        response = web.post(reverse("privacy:retention-keep", args=[flag.pk]))
        assert response.status_code == 302
        assert RetentionFlag.objects.count() == 0
        assert services.retention_run()["inactive"] == 0

    with time_machine.travel(at(2027, 6, 1), tick=False):
        services.retention_run()
        web = web_client_for(ada)  # the 2024 session has expired by now
        flag = RetentionFlag.objects.get(client=cards["quiet"])
        wrong = web.post(
            reverse("privacy:retention-erase", args=[flag.pk]), {"confirm_number": "0"}
        )
        assert wrong.status_code == 302
        assert not DestructionRecord.objects.exists()

        response = web.post(
            reverse("privacy:retention-erase", args=[flag.pk]),
            {"confirm_number": cards["quiet"].card_number},
            follow=True,
        )
        assert "The card was erased" in response.content.decode(), response.content.decode()

    record = DestructionRecord.objects.get()
    assert (record.client, record.reason, record.performed_by) == (cards["quiet"], "retention", ada)
    assert Client.objects.get(pk=cards["quiet"].pk).last_name == ""


@pytest.mark.parametrize("username", ["mallory", "alice", "rita"])
def test_only_admins_review_retention(cards, users, web_client_for, username):
    with time_machine.travel(at(2024, 3, 1), tick=False):
        services.retention_run()
    flag = RetentionFlag.objects.get()
    web = web_client_for(users[username])

    assert web.get(reverse("privacy:retention")).status_code == 403
    assert web.post(reverse("privacy:retention-keep", args=[flag.pk])).status_code == 403
    erase = web.post(
        reverse("privacy:retention-erase", args=[flag.pk]),
        {"confirm_number": cards["quiet"].card_number},
    )
    assert erase.status_code == 403
    assert RetentionFlag.objects.count() == 1
    assert not DestructionRecord.objects.exists()


def test_anonymise_erases_every_inactive_person(cards, settings):
    settings.KARTOTEKA_RETENTION_ACTION = "anonymise"

    with time_machine.travel(at(2026, 1, 1), tick=False):
        result = services.retention_run()

    assert result == {"inactive": 3, "flagged": 0, "erased": 3}
    erased = set(DestructionRecord.objects.values_list("client_id", "reason"))
    assert erased == {(cards[k].pk, "retention") for k in ("quiet", "talked", "bought")}
    assert Client.objects.get(pk=cards["company"].pk).legal_name == "ООО «Ромашка»"
    with time_machine.travel(at(2026, 1, 2), tick=False):
        assert services.retention_run()["inactive"] == 0


def test_the_worker_runs_retention_daily():
    periodic = {p.name: p for p in PERIODIC}["privacy_retention"]

    assert periodic.every == datetime.timedelta(days=1)
    assert periodic.task().name == "retention_run_task"


def test_a_flagged_card_that_comes_back_to_life_leaves_the_list(cards, alice):
    with time_machine.travel(at(2024, 3, 1), tick=False):
        services.retention_run()
        assert RetentionFlag.objects.count() == 1
        note = {"kind": "note", "content": "."}
        interaction_create(actor=alice, client=cards["quiet"], data=note)

        services.retention_run()

    assert RetentionFlag.objects.count() == 0


def test_a_failing_erasure_does_not_stop_the_run(cards, settings, monkeypatch):
    settings.KARTOTEKA_RETENTION_ACTION = "anonymise"
    real = services.erase_client

    def flaky(card, *args, **kwargs):
        if card.pk == cards["talked"].pk:
            raise OSError("storage is down")
        return real(card, *args, **kwargs)

    monkeypatch.setattr(services, "erase_client", flaky)
    with time_machine.travel(at(2026, 1, 1), tick=False):
        result = services.retention_run()

    assert result == {"inactive": 3, "flagged": 0, "erased": 2, "failed": 1}


def test_review_list_query_count_does_not_grow(
    cards, alice, ada, web_client_for, django_assert_max_num_queries
):
    with time_machine.travel(at(2024, 3, 1), tick=False):
        services.retention_run()
        web = web_client_for(ada)  # a session of that day
        assert web.get(reverse("privacy:retention")).status_code == 200
        with django_assert_max_num_queries(50) as few:
            web.get(reverse("privacy:retention"))
        # Counted now: the next request resets the connection's query log.
        baseline = len(few.captured_queries)
    with time_machine.travel(at(2020, 1, 1), tick=False):
        for n in range(5):
            make_person(alice, last_name=f"Забытова{n}")
    with time_machine.travel(at(2024, 3, 1), tick=False):
        services.retention_run()
        web = web_client_for(ada)
        web.get(reverse("privacy:retention"))

        with django_assert_max_num_queries(baseline):
            response = web.get(reverse("privacy:retention"))

    assert len(response.context["flags"]) == 6
