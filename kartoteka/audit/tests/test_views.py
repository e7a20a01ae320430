"""The audit page and API: administrators only, filters, pages of 50, a fixed number of
queries, the verify button."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from kartoteka.audit import services
from kartoteka.audit.models import AuditEvent
from kartoteka.clients.tests.factories import make_person

pytestmark = pytest.mark.django_db

ROLES = ["ada", "mallory", "alice", "bob", "charlie", "rita"]


@pytest.fixture
def card(alice):
    return make_person(alice, last_name="Аудитова")


def _ids(response) -> list[int]:
    return [item["id"] for item in response.json()["items"]]


@pytest.mark.parametrize("name", ROLES)
def test_only_administrators_see_the_page(users, name, web_client_for):
    before = AuditEvent.objects.count()

    response = web_client_for(users[name]).get(reverse("audit:list"))

    assert response.status_code == (200 if name == "ada" else 403)
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("name", ROLES)
def test_only_administrators_use_the_api(users, name, api_client_for):
    client = api_client_for(users[name])
    before = AuditEvent.objects.count()

    listed = client.get("/api/v1/audit/events")
    verified = client.post("/api/v1/audit/verify")

    expected = 200 if name == "ada" else 403
    assert (listed.status_code, verified.status_code) == (expected, expected)
    if expected == 403:
        assert listed.json()["code"] == "permission_denied"
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("name", ROLES)
def test_only_administrators_verify_on_the_web(users, name, web_client_for):
    response = web_client_for(users[name]).post(reverse("audit:verify"))

    assert response.status_code == (302 if name == "ada" else 403)


def test_anonymous_is_sent_to_sign_in_and_api_says_401(client):
    assert client.get(reverse("audit:list")).status_code == 302
    assert client.get("/api/v1/audit/events").status_code == 401


def test_menu_links_the_page_for_administrators_only(ada, alice, web_client_for):
    url = reverse("audit:list")
    assert url.encode() in web_client_for(ada).get(reverse("clients:list")).content
    assert url.encode() not in web_client_for(alice).get(reverse("clients:list")).content


def test_page_shows_events_newest_first_in_fixed_queries(
    ada, alice, card, web_client_for, django_assert_max_num_queries
):
    for n in range(60):
        services.record("view", obj=card, actor=alice if n % 2 else ada)
    client = web_client_for(ada)

    with django_assert_max_num_queries(12):
        response = client.get(reverse("audit:list"))

    assert response.status_code == 200
    page = response.context["page"]
    assert len(page.items) == 50
    assert page.items[0].id > page.items[-1].id
    assert f"№ {card.card_number}<".encode() in response.content
    older = client.get(reverse("audit:list"), {"before": page.next_before})
    assert older.context["page"].items[0].id == page.next_before - 1


def test_filters_by_user_card_action_door_dates_and_address(ada, alice, bob, card):
    other = make_person(bob, last_name="Другая")
    start = timezone.now()
    with time_machine.travel(start - datetime.timedelta(days=3), tick=False):
        old = services.record("view", obj=card, actor=alice, channel="api")
    web = services.record("view", obj=card, actor=alice, channel="web")
    exported = services.record("export", actor=bob, channel="web", details={"rows": 2})
    bobs_view = services.record("view", obj=other, actor=bob, channel="web")

    def ids(**filters) -> set[int]:
        from kartoteka.audit.forms import AuditFilterForm
        from kartoteka.audit.selectors import audit_event_filter

        form = AuditFilterForm(filters)
        assert form.is_valid(), form.errors
        return set(
            audit_event_filter(user=ada, filters=form.cleaned_data).values_list("id", flat=True)
        )

    assert ids(user="ALICE", action="view") == {old.id, web.id}
    assert ids(card=str(card.number)) >= {old.id, web.id}
    assert bobs_view.id not in ids(card=str(card.number))
    assert ids(card=str(other.pk), action="view") == {bobs_view.id}
    assert ids(action="export") == {exported.id}
    assert ids(door="api") == {old.id}
    today = timezone.localdate()
    assert old.id not in ids(date_from=str(today))
    assert ids(date_to=str(today - datetime.timedelta(days=2))) >= {old.id}
    assert web.id not in ids(date_to=str(today - datetime.timedelta(days=2)))
    assert ids(ip="10.") == set()


def test_address_filter(ada, card, client):
    with services.request_origin(_request("10.1.2.3")):
        near = services.record("view", obj=card, actor=ada)
    with services.request_origin(_request("192.0.2.1")):
        services.record("view", obj=card, actor=ada)

    response = _api(ada).get("/api/v1/audit/events", {"ip": "10.1."})

    assert _ids(response) == [near.id]


def _request(ip: str):
    from django.test import RequestFactory

    return RequestFactory().get("/", REMOTE_ADDR=ip, HTTP_USER_AGENT="Tester")


def _api(user):
    from django.test import Client as DjangoClient

    from kartoteka.accounts.services import api_token_create

    _token, key = api_token_create(actor=user, name="audit-tests")
    return DjangoClient(headers={"Authorization": f"Bearer {key}"})


def test_bad_filters_get_field_errors_on_the_page(ada, web_client_for):
    response = web_client_for(ada).get(
        reverse("audit:list"),
        {"card": "Иванов", "date_from": "2026-02-10", "date_to": "2026-02-01"},
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["card"] == ["Enter a card number or id (digits)."]
    assert form.errors["date_to"] == ["The end date is before the start date."]
    assert response.context["page"] is None


def test_bad_filters_are_422_in_the_api(ada, api_client_for):
    response = api_client_for(ada).get(
        "/api/v1/audit/events", {"card": "x1", "date_from": "2026-02-10", "date_to": "2026-02-01"}
    )

    assert response.status_code == 422
    fields = {(e["field"], e["code"]) for e in response.json()["errors"]}
    assert fields == {("card", "card_invalid"), ("date_to", "date_order")}


def test_bad_filters_speak_the_users_language(ada, web_client_for):
    ada.language = "ru"
    ada.save(update_fields=["language"])

    response = web_client_for(ada).get(
        reverse("audit:list"), {"date_from": "2026-02-10", "date_to": "2026-02-01"}
    )

    assert response.context["form"].errors["date_to"]


def test_api_pages_and_schema(ada, alice, card, api_client_for, django_assert_max_num_queries):
    for _ in range(5):
        services.record("view", obj=card, actor=alice)
    client = api_client_for(ada)

    with django_assert_max_num_queries(8):
        first = client.get("/api/v1/audit/events", {"limit": 3, "user": "alice", "action": "view"})
    body = first.json()
    second = client.get(
        "/api/v1/audit/events",
        {"limit": 3, "user": "alice", "action": "view", "before": body["next_before"]},
    )

    assert len(body["items"]) == 3
    item = body["items"][0]
    assert item["door"] == "system"
    assert item["actor_username"] == "alice"
    assert item["client_id"] == card.pk
    assert len(item["hash"]) == 64
    assert len(second.json()["items"]) == 2
    assert second.json()["next_before"] is None
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/audit/events" in paths
    assert "/api/v1/audit/verify" in paths


def test_verify_button_reports_intact_and_broken(ada, card, web_client_for):
    services.record("view", obj=card, actor=ada)
    client = web_client_for(ada)

    intact = client.post(reverse("audit:verify"), follow=True)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {connection.ops.quote_name(AuditEvent._meta.db_table)} SET ip = %s "
            "WHERE id = (SELECT MIN(id) FROM "
            f"{connection.ops.quote_name(AuditEvent._meta.db_table)})",
            ["6.6.6.6"],
        )
    broken = client.post(reverse("audit:verify"), follow=True)

    assert "Chain intact" in intact.content.decode()
    assert "Chain broken at event" in broken.content.decode()
