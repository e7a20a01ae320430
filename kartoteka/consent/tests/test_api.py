"""The REST doors onto the consent ledger: shapes, errors, the authorization matrix, query
counts, and the health-data gate as the API sees it."""

import datetime
import typing

import pytest
from django.utils import timezone

from kartoteka.care.models import HealthNote
from kartoteka.clients.tests.factories import make_person
from kartoteka.consent import schemas
from kartoteka.consent.models import ConsentEvent, HealthErasureSchedule
from kartoteka.consent.tests.factories import give_consent, give_health_consent
from kartoteka.core.models import ObjectChange

pytestmark = pytest.mark.django_db

ERROR_KEYS = {"detail", "code", "errors"}


@pytest.fixture
def card(alice):
    return make_person(alice, last_name="Согласова")


def url(card, rest: str = "") -> str:
    return f"/api/v1/clients/{card.pk}/consents{rest}"


def post(api, path, body):
    return api.post(path, body, content_type="application/json")


GIVE = {"purpose": "health", "legal_basis": "consent", "text_version": "health v1",
        "channel": "paper_form", "evidence_reference": "Анкета № 5"}  # fmt: skip


def test_schema_literals_match_the_model_choices():
    assert list(typing.get_args(schemas.Purpose)) == ConsentEvent.Purpose.values
    assert list(typing.get_args(schemas.LegalBasis)) == ConsentEvent.LegalBasis.values
    assert list(typing.get_args(schemas.Channel)) == ConsentEvent.Channel.values


def test_list_gives_the_state_per_purpose_and_the_ledger(alice, card, api_client_for):
    event = give_consent(card, alice, purpose="sms", expires_on=datetime.date(2099, 1, 1))

    body = api_client_for(alice).get(url(card)).json()

    assert body["client_id"] == card.pk
    state = {row["purpose"]: row for row in body["state"]}
    assert list(state) == ConsentEvent.Purpose.values
    assert state["sms"]["status"] == "given"
    assert state["sms"]["legal_basis"] == "consent"
    assert state["sms"]["expires_on"] == "2099-01-01"
    assert state["sms"]["event_id"] == event.pk
    assert state["health"] == {
        "purpose": "health", "status": "never", "since": None, "legal_basis": None,
        "text_version": "", "expires_on": None, "event_id": None,
    }  # fmt: skip
    assert body["health_erasure"] is None
    [row] = body["ledger"]
    assert row["recorded_by"] == {"id": alice.pk, "name": str(alice)}
    assert (row["action"], row["channel"], row["door"]) == ("given", "paper_form", "system")


def test_give_returns_201_and_records_through_the_api(alice, card, api_client_for):
    response = post(api_client_for(alice), url(card), GIVE)

    assert response.status_code == 201, response.content
    event = ConsentEvent.objects.get()
    assert response.json()["id"] == event.pk
    assert (event.door, event.evidence_reference) == ("api", "Анкета № 5")


def test_give_errors_are_422_per_field(alice, card, api_client_for):
    future = (timezone.now() + datetime.timedelta(days=1)).isoformat()

    response = post(
        api_client_for(alice), url(card), {**GIVE, "text_version": "", "effective_at": future}
    )

    assert response.status_code == 422
    body = response.json()
    assert set(body) >= ERROR_KEYS
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("text_version", "required"),
        ("effective_at", "future_date"),
    }
    assert ConsentEvent.objects.count() == 0


def test_unknown_purpose_and_extra_fields_are_refused(alice, card, api_client_for):
    api = api_client_for(alice)

    assert post(api, url(card), {**GIVE, "purpose": "telepathy"}).status_code == 422
    assert post(api, url(card), {**GIVE, "colour": "red"}).status_code == 422
    assert ConsentEvent.objects.count() == 0


def test_a_document_of_another_card_is_refused(alice, card, api_client_for):
    from kartoteka.documents.models import Document

    other = make_person(alice, last_name="Чужой")
    scan = Document.objects.create(
        client=other, original_name="scan.pdf", content_type="application/pdf", size=1, sha256=""
    )

    response = post(api_client_for(alice), url(card), {**GIVE, "document_id": scan.pk})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "document"


def test_withdraw_of_health_schedules_erasure_and_shows_it(alice, card, api_client_for):
    give_health_consent(card, alice)
    api = api_client_for(alice)

    response = post(api, url(card, "/withdraw"), {"purpose": "health", "channel": "email"})

    assert response.status_code == 201, response.content
    assert response.json()["action"] == "withdrawn"
    body = api.get(url(card)).json()
    schedule = HealthErasureSchedule.objects.get()
    assert body["health_erasure"]["status"] == "pending"
    assert body["health_erasure"]["due_at"].startswith(schedule.due_at.date().isoformat())
    assert {r["purpose"]: r["status"] for r in body["state"]}["health"] == "withdrawn"


def test_withdraw_of_what_is_not_given_is_422(alice, card, api_client_for):
    response = post(
        api_client_for(alice), url(card, "/withdraw"), {"purpose": "sms", "channel": "email"}
    )

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == ("purpose", "consent_not_in_force")


def test_list_query_count_does_not_grow(alice, card, api_client_for, django_assert_max_num_queries):
    api = api_client_for(alice)
    api.get(url(card))
    for purpose in ConsentEvent.Purpose.values:
        give_consent(card, alice, purpose=purpose)
        give_consent(card, alice, purpose=purpose, text_version="v4")

    with django_assert_max_num_queries(8):
        response = api.get(url(card))

    assert len(response.json()["ledger"]) == 12


# --- The health-data gate through the API ------------------------------------------------------


@pytest.fixture
def healer(ada):
    ada.health_access = True
    ada.save(update_fields=["health_access"])
    return ada


def test_health_note_without_consent_is_422_with_the_message(healer, card, api_client_for):
    api = api_client_for(healer)
    notes = f"/api/v1/clients/{card.pk}/health-notes"

    response = post(api, notes, {"kind": "allergy", "text": "Латекс"})

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["code"] == "health_consent_missing"
    assert error["message"] == "Record the client's consent to processing of health data first."
    assert HealthNote.objects.count() == 0

    assert post(api, url(card), GIVE).status_code == 201
    assert post(api, notes, {"kind": "allergy", "text": "Латекс"}).status_code == 201
    assert len(api.get(notes).json()) == 1

    assert (
        post(api, url(card, "/withdraw"), {"purpose": "health", "channel": "email"}).status_code
        == 201
    )
    assert api.get(notes).json() == []
    note = HealthNote.objects.get()
    assert api.get(f"{notes}/{note.pk}").status_code == 404


# --- Role matrix -------------------------------------------------------------------------------

EXPECTED = {"ada": 201, "mallory": 201, "alice": 201, "bob": 201, "rita": 403, "charlie": 404}


@pytest.mark.parametrize("role", [*EXPECTED, "anonymous"])
@pytest.mark.parametrize("action", ["list", "give", "withdraw"])
def test_api_authorization_matrix(role, action, users, card, api_client_for, client):
    give_health_consent(card, users["alice"])
    api = client if role == "anonymous" else api_client_for(users[role])
    counts = (ConsentEvent.objects.count(), ObjectChange.objects.count())

    if action == "list":
        response = api.get(url(card))
    elif action == "give":
        response = post(api, url(card), {**GIVE, "purpose": "sms"})
    else:
        response = post(api, url(card, "/withdraw"), {"purpose": "health", "channel": "email"})

    if role == "anonymous":
        assert response.status_code == 401
    elif action == "list":
        assert response.status_code == (404 if role == "charlie" else 200)
    else:
        assert response.status_code == EXPECTED[role]
    if action == "list" or EXPECTED.get(role) != 201:
        assert (ConsentEvent.objects.count(), ObjectChange.objects.count()) == counts
        assert HealthErasureSchedule.objects.count() == 0
    else:
        assert ConsentEvent.objects.count() == counts[0] + 1


def test_operations_are_in_the_openapi_schema(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    assert {"get", "post"} <= set(paths["/api/v1/clients/{client_id}/consents"])
    assert "post" in paths["/api/v1/clients/{client_id}/consents/withdraw"]


def test_a_time_without_a_zone_is_read_as_local_time(alice, card, api_client_for):
    response = post(
        api_client_for(alice), url(card), {**GIVE, "effective_at": "2026-01-15T10:30:00"}
    )

    assert response.status_code == 201, response.content
    local = timezone.localtime(ConsentEvent.objects.get().effective_at)
    assert (local.date().isoformat(), local.hour, local.minute) == ("2026-01-15", 10, 30)
