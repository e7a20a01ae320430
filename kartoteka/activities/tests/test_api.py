"""The REST door onto interactions: /api/v1/clients/{id}/interactions.

Status codes, the response shape, the one error shape, 409 on a stale version, the
authorization matrix and the query count. The rules themselves are tested in test_services.
"""

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client as DjangoClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kartoteka.activities import services
from kartoteka.activities.models import Interaction, TimelineEvent
from kartoteka.activities.schemas import InteractionDirection, InteractionKind
from kartoteka.clients.tests.factories import make_company, make_person
from kartoteka.core.models import ObjectChange

pytestmark = pytest.mark.django_db

ERROR_KEYS = {"detail", "code", "errors"}


def send(client: DjangoClient, method: str, url: str, data: Any = None):
    return getattr(client, method)(url, data, content_type="application/json")


def list_url(card) -> str:
    return f"/api/v1/clients/{card.pk}/interactions"


def item_url(interaction) -> str:
    return f"/api/v1/clients/{interaction.client_id}/interactions/{interaction.pk}"


def assert_error(response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) >= ERROR_KEYS
    assert body["code"] == code
    return body


def record(actor, card, **data) -> Interaction:
    fields = {"kind": "call", "direction": "in", "subject": "Звонок", "outcome": "Итог", **data}
    return services.interaction_create(actor=actor, client=card, data=fields)


def test_choices_match_the_model():
    assert set(InteractionKind.__args__) == set(Interaction.Kind.values)
    assert set(InteractionDirection.__args__) == {"", *Interaction.Direction.values}


def test_create_and_read_back(alice, api_client_for):
    company = make_company(alice)
    person = make_person(alice, last_name="Орлова", first_name="Анна", employer=company)
    api = api_client_for(alice)

    created = send(
        api,
        "post",
        list_url(company),
        {
            "kind": "meeting",
            "occurred_at": "2024-04-02T11:00:00+03:00",
            "duration_minutes": 45,
            "contact_person": person.pk,
            "subject": "Презентация",
            "content": "Показали новую линейку",
            "outcome": "Интерес к тарифу Про",
            "next_step": "Демо-доступ",
        },
    )

    assert created.status_code == 201, created.content
    body = created.json()
    interaction = Interaction.objects.get()
    assert body == {
        "id": interaction.pk,
        "client_id": company.pk,
        "kind": "meeting",
        "direction": "",
        "occurred_at": "2024-04-02T08:00:00Z",
        "duration_minutes": 45,
        "author": {"id": alice.pk, "name": "Alice"},
        "contact_person": {"id": person.pk, "name": "Орлова Анна Петрович"},
        "subject": "Презентация",
        "content": "Показали новую линейку",
        "outcome": "Интерес к тарифу Про",
        "next_step": "Демо-доступ",
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
        "version": 1,
    }
    assert api.get(item_url(interaction)).json() == body
    assert [row["id"] for row in api.get(list_url(company)).json()] == [interaction.pk]
    assert TimelineEvent.objects.get().title == "Meeting: Презентация"


def test_occurred_at_defaults_to_now(alice, api_client_for, time_machine):
    time_machine.move_to(datetime.datetime(2024, 6, 1, 9, 0, tzinfo=datetime.UTC), tick=False)
    card = make_person(alice)

    response = send(api_client_for(alice), "post", list_url(card), {"kind": "note", "content": "x"})

    assert response.status_code == 201
    assert response.json()["occurred_at"] == "2024-06-01T09:00:00Z"


def test_invalid_input_is_422_per_field(alice, api_client_for):
    card = make_person(alice)
    api = api_client_for(alice)
    log_size = ObjectChange.objects.count()

    response = send(
        api, "post", list_url(card), {"kind": "note", "direction": "out", "duration_minutes": 5}
    )

    body = assert_error(response, 422, "invalid")
    assert sorted((e["field"], e["code"]) for e in body["errors"]) == [
        ("direction", "direction_not_allowed"),
        ("duration_minutes", "duration_not_allowed"),
        ("subject", "empty_interaction"),
    ]
    assert Interaction.objects.count() == 0
    assert ObjectChange.objects.count() == log_size


def test_shape_errors_are_422(alice, api_client_for):
    card = make_person(alice)

    response = send(
        api_client_for(alice), "post", list_url(card), {"kind": "fax", "subjekt": "опечатка"}
    )

    body = assert_error(response, 422, "invalid")
    assert sorted((e["field"], e["code"]) for e in body["errors"]) == [
        ("kind", "invalid_choice"),
        ("subjekt", "unknown_field"),
    ]


@pytest.mark.parametrize("whose", ["stranger", "hidden", "unknown", "company"])
def test_contact_person_not_at_the_company_is_422_on_the_field(
    whose, alice, ada, south, api_client_for
):
    company = make_company(alice)
    people = {
        "stranger": lambda: make_person(alice, last_name="Посторонний").pk,
        "hidden": lambda: (
            make_person(ada, last_name="Скрытый", employer=company, team=south, responsible=None).pk
        ),
        "unknown": lambda: 999999,
        "company": lambda: company.pk,
    }

    response = send(
        api_client_for(alice),
        "post",
        list_url(company),
        {"subject": "Звонок", "contact_person": people[whose]()},
    )

    body = assert_error(response, 422, "invalid")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        ("contact_person", "contact_person_invalid")
    ]
    # The message is the same whether the card exists, is hidden, or works elsewhere.
    assert body["errors"][0]["message"] == "Choose a person who works at this company."
    assert Interaction.objects.count() == 0


def test_patch_changes_only_the_fields_sent(alice, api_client_for):
    card = make_person(alice)
    interaction = record(alice, card, content="Содержание", outcome="Старый итог")

    response = send(
        api_client_for(alice), "patch", item_url(interaction), {"version": 1, "outcome": "Новый"}
    )

    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "Новый"
    assert response.json()["content"] == "Содержание"
    assert response.json()["version"] == 2
    interaction.refresh_from_db()
    assert (interaction.outcome, interaction.content) == ("Новый", "Содержание")


def test_patch_can_clear_the_duration(alice, api_client_for):
    card = make_person(alice)
    interaction = record(alice, card, duration_minutes=10)

    response = send(
        api_client_for(alice),
        "patch",
        item_url(interaction),
        {"version": 1, "duration_minutes": None},
    )

    assert response.status_code == 200
    assert response.json()["duration_minutes"] is None


def test_stale_version_is_409_with_the_current_interaction(alice, bob, api_client_for):
    card = make_person(alice)
    interaction = record(alice, card, outcome="Исходный")
    alice_api, bob_api = api_client_for(alice), api_client_for(bob)
    first = send(alice_api, "patch", item_url(interaction), {"version": 1, "outcome": "A"})
    assert first.status_code == 200
    log_size = ObjectChange.objects.count()

    stale = send(bob_api, "patch", item_url(interaction), {"version": 1, "outcome": "B"})

    body = assert_error(stale, 409, "version_conflict")
    assert body["errors"] == []
    assert body["current"]["id"] == interaction.pk
    assert body["current"]["version"] == 2
    assert body["current"]["outcome"] == "A"
    interaction.refresh_from_db()
    assert (interaction.outcome, interaction.version) == ("A", 2)
    assert ObjectChange.objects.count() == log_size


def test_patch_needs_the_version(alice, api_client_for):
    card = make_person(alice)
    interaction = record(alice, card)

    response = send(api_client_for(alice), "patch", item_url(interaction), {"outcome": "x"})

    body = assert_error(response, 422, "invalid")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("version", "required")]


def test_delete_is_204_then_404_and_the_history_stays(alice, api_client_for):
    card = make_person(alice)
    interaction = record(alice, card, content="Сохранится в журнале")
    api = api_client_for(alice)

    response = api.delete(item_url(interaction))

    assert response.status_code == 204
    assert api.get(item_url(interaction)).status_code == 404
    assert api.get(list_url(card)).json() == []
    row = Interaction.objects.get()
    assert row.is_deleted is True
    change = ObjectChange.objects.filter(object_id=row.pk, action="delete").get()
    assert change.before["content"] == "Сохранится в журнале"
    assert TimelineEvent.objects.count() == 0
    assert_error(api.delete(item_url(interaction)), 404, "not_found")


def test_interaction_of_another_card_is_404(alice, api_client_for):
    card = make_person(alice)
    other = make_person(alice, last_name="Другой")
    interaction = record(alice, other)

    response = api_client_for(alice).get(f"/api/v1/clients/{card.pk}/interactions/{interaction.pk}")

    assert_error(response, 404, "not_found")


def test_list_hides_people_the_reader_cannot_see(alice, ada, south, api_client_for):
    company = make_company(alice)
    hidden = make_person(ada, last_name="Скрытый", employer=company, team=south, responsible=None)
    record(ada, company, contact_person=hidden)

    [row] = api_client_for(alice).get(list_url(company)).json()

    assert row["contact_person"] is None
    single = api_client_for(alice).get(item_url(Interaction.objects.get()))
    assert single.json()["contact_person"] is None
    assert "Скрытый" not in single.content.decode()


def test_list_query_count_does_not_grow(alice, api_client_for):
    company = make_company(alice)
    people = [make_person(alice, last_name=f"Л{i}", employer=company) for i in range(3)]
    api = api_client_for(alice)
    api.get(list_url(company))  # the token's first use is recorded once

    def count_for(rows: int) -> int:
        Interaction.objects.all().delete()
        start = timezone.now()
        for i in range(rows):
            record(
                alice,
                company,
                contact_person=people[i % 3],
                occurred_at=start - datetime.timedelta(hours=i),
            )
        with CaptureQueriesContext(connection) as queries:
            response = api.get(list_url(company))
        assert len(response.json()) == rows
        return len(queries)

    assert count_for(2) == count_for(10)


# --- Authorization matrix -----------------------------------------------------------------------

ROLES = ["anonymous", "ada", "mallory", "alice", "bob", "charlie", "rita"]
ACTIONS = ["list", "get", "create", "update", "delete"]
# The card belongs to alice (responsible) in team North.
EXPECTED = {
    "anonymous": (401, 401, 401, 401, 401),
    "ada": (200, 200, 201, 200, 204),
    "mallory": (200, 200, 201, 200, 204),
    "alice": (200, 200, 201, 200, 204),
    "bob": (200, 200, 201, 200, 204),
    "charlie": (404, 404, 404, 404, 404),
    "rita": (200, 200, 403, 403, 403),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
def test_authorization_matrix(role, action, users, api_client_for):
    card = make_person(users["alice"], last_name="Матрицын")
    interaction = record(users["alice"], card, subject="Исходная тема")
    api = DjangoClient() if role == "anonymous" else api_client_for(users[role])
    expected = EXPECTED[role][ACTIONS.index(action)]
    log_size = ObjectChange.objects.count()

    if action == "list":
        response = api.get(list_url(card))
    elif action == "get":
        response = api.get(item_url(interaction))
    elif action == "create":
        response = send(api, "post", list_url(card), {"kind": "note", "content": "Новая"})
    elif action == "update":
        response = send(api, "patch", item_url(interaction), {"version": 1, "subject": "Правка"})
    else:
        response = api.delete(item_url(interaction))

    assert response.status_code == expected, response.content
    interaction.refresh_from_db()
    if expected >= 400:
        body = response.json()
        assert set(body) >= ERROR_KEYS
        assert Interaction.objects.count() == 1
        assert (interaction.subject, interaction.version, interaction.is_deleted) == (
            "Исходная тема",
            1,
            False,
        )
        assert ObjectChange.objects.count() == log_size
        return
    if action == "list":
        assert [row["id"] for row in response.json()] == [interaction.pk]
    elif action == "create":
        assert Interaction.objects.latest("pk").author == users[role]
    elif action == "update":
        assert interaction.subject == "Правка"
    elif action == "delete":
        assert interaction.is_deleted is True
