"""The printable card: what it shows, who may print it, that every print is in the audit
trail, that health notes never reach paper, and a fixed number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kartoteka.audit.models import AuditEvent
from kartoteka.care import health
from kartoteka.care.models import HealthAccessLog
from kartoteka.clients.services import contact_point_add
from kartoteka.clients.tests.factories import make_company, make_person
from kartoteka.clients.tests.test_timeline import add_events
from kartoteka.consent.tests.factories import give_health_consent

pytestmark = pytest.mark.django_db

SECRET = "Аллергия на пенициллин"


def print_url(card) -> str:
    return reverse("clients:print", args=[card.pk])


def prints_of(card) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(client_id=card.pk, action="print"))


@pytest.fixture
def card(alice):
    card = make_person(alice, last_name="Печаткина", first_name="Анна", middle_name="Ивановна")
    contact_point_add(actor=alice, client=card, kind="phone", value="+7 916 123-45-67")
    return card


def test_shows_the_card_its_contacts_figures_and_latest_events(web_client_for, alice, card):
    add_events(card, 3)

    response = web_client_for(alice).get(print_url(card))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Печаткина Анна Ивановна</h1>" in html
    assert f"№ {card.card_number}" in html
    assert "+7 916 123-45-67" in html
    assert 'data-figure="lifetime-value"' in html
    for index in range(3):
        assert f"Событие {index}<" in html
    assert "Printed by Alice" in html
    assert "Health notes are never printed." in html
    # A document, not a screen: no navigation bar, no htmx; the print button is a static script.
    assert 'class="topbar"' not in html
    assert "htmx" not in html
    assert "js/print.js" in html


def test_a_long_history_prints_the_latest_events_only(web_client_for, alice, card):
    add_events(card, 45)

    html = web_client_for(alice).get(print_url(card)).content.decode()

    assert "Событие 0<" in html
    assert "Событие 39<" in html
    assert "Событие 40<" not in html
    assert "The latest 40 events; the whole history is on the card page." in html


def test_a_company_prints_its_registration_numbers_and_people(web_client_for, alice):
    company = make_company(alice, legal_name="ООО «Печать»", inn="7707083893")
    make_person(alice, last_name="Сотрудникова", employer=company, position="Бухгалтер")

    html = web_client_for(alice).get(print_url(company)).content.decode()

    assert "7707083893" in html
    assert "Сотрудникова" in html
    assert "Бухгалтер" in html


def test_each_print_is_recorded_in_the_audit_trail(web_client_for, alice, card):
    web_client_for(alice).get(print_url(card), HTTP_USER_AGENT="Printer/1.0")

    event = AuditEvent.objects.get(action="print")
    assert event.client_id == card.pk
    assert event.actor == alice
    assert event.channel == "web"
    assert event.object_type == "clients.client"
    assert event.object_id == str(card.pk)
    assert event.user_agent == "Printer/1.0"


def test_the_card_page_links_to_the_print(web_client_for, alice, card):
    html = web_client_for(alice).get(card.get_absolute_url()).content.decode()

    assert f'href="{print_url(card)}" target="_blank"' in html


@pytest.mark.parametrize(
    ("who", "status"),
    [("ada", 200), ("mallory", 200), ("alice", 200), ("bob", 200), ("rita", 200), ("charlie", 404)],
)
def test_who_may_print_a_card(request, web_client_for, card, who, status):
    """Printing is reading: everyone who may see the card may print it (read-only users too);
    an outsider gets 404 and nothing is recorded."""
    user = request.getfixturevalue(who)

    response = web_client_for(user).get(print_url(card))

    assert response.status_code == status
    assert len(prints_of(card)) == (1 if status == 200 else 0)


def test_anonymous_is_sent_to_log_in(client, card):
    response = client.get(print_url(card))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert prints_of(card) == []


def test_health_notes_are_never_printed(web_client_for, ada, card):
    give_health_consent(card)
    health.health_note_create(actor=ada, client=card, kind="allergy", text=SECRET)
    ada.health_access = True
    ada.save(update_fields=["health_access"])
    views_before = HealthAccessLog.objects.filter(client=card, action="view").count()

    html = web_client_for(ada).get(print_url(card)).content.decode()

    assert SECRET not in html
    assert "пенициллин" not in html
    # Not read at all, so no view of health data is logged either.
    assert HealthAccessLog.objects.filter(client=card, action="view").count() == views_before


def test_query_count_does_not_grow_with_the_history(web_client_for, alice, card):
    client = web_client_for(alice)
    add_events(card, 2)
    client.get(print_url(card))  # sessions, site settings and such warmed up
    with CaptureQueriesContext(connection) as few:
        client.get(print_url(card))
    add_events(card, 30, start=card.created_at)

    with CaptureQueriesContext(connection) as many:
        client.get(print_url(card))

    assert len(many) == len(few)
