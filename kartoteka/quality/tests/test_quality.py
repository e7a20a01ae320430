"""Card quality: scores and problems, the stored rows kept fresh by the client services,
the attention list (visibility, filters, keyset pages, flat queries), the card panel and the
recompute command."""

import datetime

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from kartoteka.clients.models import Client, ContactPoint
from kartoteka.clients.services import client_actualize, client_update
from kartoteka.clients.tests.factories import make_company, make_person
from kartoteka.quality import selectors, services
from kartoteka.quality.models import CardQuality


def _quality(client: Client) -> CardQuality:
    return CardQuality.objects.get(client=client)


def test_complete_person_scores_100(alice):
    person = make_person(alice, birth_date=datetime.date(1990, 5, 1))
    row = _quality(person)
    assert row.score == 100
    assert row.problems == []


def test_person_problems_and_score(alice):
    person = make_person(alice, contacts=[], responsible=None)
    row = _quality(person)
    assert row.problems == ["missing_contact", "missing_birth_date", "missing_responsible"]
    assert row.score == 100 - 30 - 10 - 15
    assert row.incomplete
    assert not row.invalid


def test_company_problems_until_a_person_joins(alice):
    company = make_company(alice)
    assert _quality(company).problems == [
        "missing_registration",
        "missing_legal_address",
        "missing_contact_person",
    ]
    make_person(alice, employer=company)
    assert "missing_contact_person" not in _quality(company).problems
    client_update(
        actor=alice,
        client=company,
        expected_version=None,
        data={"inn": "7707083893", "legal_address": "Москва"},
    )
    assert _quality(company).score == 100


def test_invalid_stored_values(alice):
    person = make_person(
        alice,
        birth_date=datetime.date(1990, 5, 1),
        contacts=[
            {"kind": "phone", "value": "+7 916 000-00-01"},
            {"kind": "email", "value": "a@example.com"},
        ],
    )
    # As an old import left them: a phone not in E.164, an email that fails validation,
    # and an INN with a wrong check digit, written past the services.
    ContactPoint.objects.filter(client=person, kind="phone").update(
        value="8 916 000", normalized="8916000"
    )
    ContactPoint.objects.filter(client=person, kind="email").update(
        value="a@@example", normalized="a@@example"
    )
    Client.objects.filter(pk=person.pk).update(inn="7707083894")
    services.quality_recompute()
    row = _quality(person)
    assert set(row.problems) == {"invalid_phone", "invalid_email", "invalid_registration"}
    assert row.invalid
    assert row.score == 100 - 20 - 20 - 25


def test_recompute_command_assesses_bulk_cards(alice, capsys):
    person = make_person(alice)
    CardQuality.objects.all().delete()
    assert selectors.unassessed_exist()
    call_command("quality", "--missing", "--batch-size", "1")
    assert "Assessed 1 cards" in capsys.readouterr().out
    assert _quality(person).client_version == person.version
    assert not selectors.unassessed_exist()


def test_attention_list_visibility_filters_and_pages(alice, bob, charlie, mallory, north):
    poor = make_person(alice, contacts=[], last_name="Плохой")
    fine = make_person(alice, birth_date=datetime.date(1980, 1, 1), last_name="Хороший")
    client_actualize(actor=alice, client=fine)
    stale = make_person(alice, birth_date=datetime.date(1980, 1, 1), last_name="Старый")
    make_person(charlie, contacts=[], last_name="Чужой")
    page = selectors.attention_list(user=alice)
    names = [row.client.last_name for row in page.items]
    assert names == ["Плохой", "Старый"]  # worst first; the confirmed complete card is fine
    assert [
        r.client.last_name for r in selectors.attention_list(user=alice, kind="stale").items
    ] == [
        "Плохой",
        "Старый",
    ]
    assert [r.client for r in selectors.attention_list(user=alice, kind="incomplete").items] == [
        poor
    ]
    assert selectors.attention_list(user=alice, kind="invalid").items == []
    assert selectors.attention_list(user=alice, responsible=bob.pk).items == []
    first = selectors.attention_list(user=alice, limit=1)
    assert first.items[0].client == poor
    second = selectors.attention_list(user=alice, limit=1, after=first.next_after)
    assert second.items[0].client == stale
    assert second.next_after is None
    assert [r.client.last_name for r in selectors.attention_list(user=charlie).items] == ["Чужой"]


def test_attention_list_queries_are_flat(alice, django_assert_max_num_queries):
    for index in range(3):
        make_person(alice, contacts=[], last_name=f"А{index}")
    with django_assert_max_num_queries(4) as few:
        selectors.attention_list(user=alice)
    for index in range(10):
        make_person(alice, contacts=[], last_name=f"Б{index}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(selectors.attention_list(user=alice).items) == 13


@pytest.mark.parametrize("name", ["ada", "alice", "bob", "mallory", "rita", "charlie"])
def test_web_attention_page_and_card_panel(users, web_client_for, name):
    card = make_person(users["alice"], contacts=[])
    client = web_client_for(users[name])
    page = client.get(reverse("quality:attention")).content.decode()
    panel = client.get(reverse("quality:card", args=[card.pk]))
    if name == "charlie":
        assert "Иванов" not in page
        assert panel.status_code == 404
        return
    assert card.get_absolute_url() in page
    html = panel.content.decode()
    assert "No phone or email" in html
    assert "never been confirmed" in html
    editable = reverse("clients:edit", args=[card.pk]) in html
    assert editable == (name != "rita")


def test_card_page_loads_the_panel(alice, web_client_for):
    card = make_person(alice)
    html = web_client_for(alice).get(card.get_absolute_url()).content.decode()
    assert reverse("quality:card", args=[card.pk]) in html


def test_stale_after_a_year(alice, time_machine):
    card = make_person(alice, birth_date=datetime.date(1980, 1, 1))
    client_actualize(actor=alice, client=card)
    assert selectors.attention_list(user=alice).items == []
    time_machine.move_to(timezone.now() + datetime.timedelta(days=400))
    assert [r.client for r in selectors.attention_list(user=alice).items] == [card]
