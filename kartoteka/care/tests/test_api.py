"""The REST doors onto surveys, recommendations and the overdue list (health notes:
test_health.py): shapes, errors, the authorization matrix and query counts."""

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client as DjangoClient
from django.test.utils import CaptureQueriesContext

from kartoteka.care import health, services
from kartoteka.care.models import HealthNote, Recommendation, SurveyResponse
from kartoteka.care.schemas import HealthNoteKind, RecommendationStatus, SurveyScale
from kartoteka.clients.tests.factories import make_person
from kartoteka.consent.tests.factories import give_health_consent
from kartoteka.core.models import ObjectChange

pytestmark = pytest.mark.django_db

ERROR_KEYS = {"detail", "code", "errors"}
JSON = "application/json"


@pytest.fixture(autouse=True)
def frozen_today(time_machine):
    time_machine.move_to(datetime.datetime(2024, 5, 20, 12, 0, tzinfo=datetime.UTC), tick=False)


def send(api: DjangoClient, method: str, url: str, data: Any = None):
    return getattr(api, method)(url, data, content_type=JSON)


def assert_error(response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) >= ERROR_KEYS
    assert body["code"] == code
    return body


def surveys_url(card, item=None) -> str:
    url = f"/api/v1/clients/{card.pk}/surveys"
    return f"{url}/{item.pk}" if item is not None else url


def recommendations_url(card, item=None) -> str:
    url = f"/api/v1/clients/{card.pk}/recommendations"
    return f"{url}/{item.pk}" if item is not None else url


def survey(actor, card, **data) -> SurveyResponse:
    fields = {"name": "После визита", "scale": "nps", "score": 9, **data}
    return services.survey_create(actor=actor, client=card, data=fields)


def recommend(actor, card, **data) -> Recommendation:
    fields = {"given_on": datetime.date(2024, 5, 1), "text": "Повторить через месяц", **data}
    return services.recommendation_create(actor=actor, client=card, data=fields)


def test_choices_match_the_models():
    assert set(SurveyScale.__args__) == set(SurveyResponse.Scale.values)
    assert set(RecommendationStatus.__args__) == set(Recommendation.Status.values)
    assert set(HealthNoteKind.__args__) == set(HealthNote.Kind.values)


# --- Surveys ------------------------------------------------------------------------------------


def test_survey_create_read_update_delete(alice, api_client_for):
    card = make_person(alice)
    api = api_client_for(alice)

    created = send(
        api,
        "post",
        surveys_url(card),
        {"name": "NPS мая", "scale": "nps", "score": 10, "summary": "Порекомендует"},
    )

    assert created.status_code == 201, created.content
    item = SurveyResponse.objects.get()
    body = created.json()
    assert body == {
        "id": item.pk,
        "client_id": card.pk,
        "taken_on": "2024-05-20",
        "name": "NPS мая",
        "scale": "nps",
        "score": 10,
        "summary": "Порекомендует",
        "author": {"id": alice.pk, "name": "Alice"},
        "created_at": body["created_at"],
    }
    assert api.get(surveys_url(card, item)).json() == body
    assert [row["id"] for row in api.get(surveys_url(card)).json()] == [item.pk]

    patched = send(api, "patch", surveys_url(card, item), {"score": 7})

    assert patched.status_code == 200
    assert (patched.json()["score"], patched.json()["name"]) == (7, "NPS мая")

    assert api.delete(surveys_url(card, item)).status_code == 204
    assert_error(api.get(surveys_url(card, item)), 404, "not_found")


def test_survey_validation_is_422_per_field(alice, api_client_for):
    card = make_person(alice)
    api = api_client_for(alice)

    missing = send(api, "post", surveys_url(card), {"name": "CSAT", "scale": "csat"})
    shape = send(api, "post", surveys_url(card), {"scale": "stars", "score": "много"})

    body = assert_error(missing, 422, "invalid")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("score", "score_required")]
    body = assert_error(shape, 422, "invalid")
    assert sorted((e["field"], e["code"]) for e in body["errors"]) == [
        ("name", "required"),
        ("scale", "invalid_choice"),
        ("score", "invalid"),
    ]
    assert SurveyResponse.objects.count() == 0


# --- Recommendations ----------------------------------------------------------------------------


def test_recommendation_create_status_update_delete(alice, bob, api_client_for):
    card = make_person(alice)
    api = api_client_for(alice)

    created = send(
        api,
        "post",
        recommendations_url(card),
        {"given_on": "2024-04-01", "text": "Коррекция бровей", "period_days": 28},
    )

    assert created.status_code == 201, created.content
    item = Recommendation.objects.get()
    body = created.json()
    assert body == {
        "id": item.pk,
        "client_id": card.pk,
        "given_on": "2024-04-01",
        "text": "Коррекция бровей",
        "due_on": "2024-04-29",
        "period_days": 28,
        "status": "pending",
        "status_changed_at": None,
        "is_overdue": True,
        "author": {"id": alice.pk, "name": "Alice"},
        "created_at": body["created_at"],
    }

    followed = send(
        api_client_for(bob),
        "post",
        f"{recommendations_url(card, item)}/status",
        {"status": "followed"},
    )

    assert followed.status_code == 200, followed.content
    assert followed.json()["status"] == "followed"
    assert followed.json()["status_changed_at"] == "2024-05-20T12:00:00Z"
    assert followed.json()["due_on"] == "2024-06-17"
    assert followed.json()["is_overdue"] is False

    patched = send(
        api, "patch", recommendations_url(card, item), {"text": "Коррекция и окрашивание"}
    )

    assert patched.status_code == 200
    assert patched.json()["text"] == "Коррекция и окрашивание"
    assert patched.json()["status"] == "followed"

    assert api.delete(recommendations_url(card, item)).status_code == 204
    assert Recommendation.objects.count() == 0


def test_recommendation_errors(alice, api_client_for):
    card = make_person(alice)
    item = recommend(alice, card)
    api = api_client_for(alice)

    bad_dates = send(
        api,
        "post",
        recommendations_url(card),
        {"text": "x", "given_on": "2024-05-10", "due_on": "2024-05-01"},
    )
    bad_status = send(api, "post", f"{recommendations_url(card, item)}/status", {"status": "done"})
    status_in_patch = send(api, "patch", recommendations_url(card, item), {"status": "followed"})

    body = assert_error(bad_dates, 422, "invalid")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("due_on", "due_before_given")]
    body = assert_error(bad_status, 422, "invalid")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("status", "invalid_choice")]
    body = assert_error(status_in_patch, 422, "invalid")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("status", "unknown_field")]
    item.refresh_from_db()
    assert item.status == "pending"


def test_overdue_endpoint(alice, charlie, api_client_for):
    north = make_person(alice, last_name="Северова")
    south = make_person(charlie, last_name="Южанин")
    late = recommend(alice, north, text="Давно", due_on=datetime.date(2024, 5, 2))
    later = recommend(alice, north, text="Недавно", due_on=datetime.date(2024, 5, 18))
    recommend(alice, north, text="Не срок", due_on=datetime.date(2024, 6, 1))
    recommend(charlie, south, text="Чужое", due_on=datetime.date(2024, 5, 1))
    api = api_client_for(alice)

    response = api.get("/api/v1/recommendations/overdue")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [(r["id"], r["days_overdue"], r["client"]) for r in body["items"]] == [
        (late.pk, 18, {"id": north.pk, "name": "Северова Иван Петрович"}),
        (later.pk, 2, {"id": north.pk, "name": "Северова Иван Петрович"}),
    ]
    assert all(r["is_overdue"] for r in body["items"])
    paged = api.get("/api/v1/recommendations/overdue", {"limit": 1, "offset": 1}).json()
    assert (paged["count"], [r["id"] for r in paged["items"]]) == (2, [later.pk])
    assert_error(api.get("/api/v1/recommendations/overdue", {"limit": 0}), 422, "invalid")


# --- Query counts -------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["surveys", "recommendations", "health-notes", "overdue"])
def test_list_query_count_does_not_grow(endpoint, ada, alice, bob, api_client_for):
    card = make_person(alice)
    give_health_consent(card)
    api = api_client_for(ada)
    url = (
        "/api/v1/recommendations/overdue"
        if endpoint == "overdue"
        else f"/api/v1/clients/{card.pk}/{endpoint}"
    )
    api.get(url)  # the token's first use is recorded once

    def count_for(rows: int) -> int:
        SurveyResponse.objects.all().delete()
        Recommendation.objects.all().delete()
        HealthNote.objects.all().delete()
        for i in range(rows):
            author = alice if i % 2 else bob
            where = card if endpoint != "overdue" else make_person(alice, last_name=f"К{i}")
            survey(author, card, name=f"Опрос {i}")
            recommend(author, where, text=f"Совет {i}", due_on=datetime.date(2024, 5, 1 + i))
            health.health_note_create(actor=ada, client=card, kind="allergy", text=f"А{i}")
        with CaptureQueriesContext(connection) as queries:
            response = api.get(url)
        assert response.status_code == 200
        items = response.json()["items"] if endpoint == "overdue" else response.json()
        assert len(items) == rows
        return len(queries)

    assert count_for(2) == count_for(10)


# --- Authorization matrix -----------------------------------------------------------------------

ROLES = ["anonymous", "ada", "mallory", "alice", "bob", "charlie", "rita"]
ACTIONS = ["survey_list", "survey_get", "survey_create", "survey_update", "survey_delete",
           "recommendation_list", "recommendation_get", "recommendation_create",
           "recommendation_update", "recommendation_status", "recommendation_delete"]  # fmt: skip
READS = {"survey_list", "survey_get", "recommendation_list", "recommendation_get"}
# The card belongs to alice (responsible) in team North.
EXPECTED = {"anonymous": 401, "charlie": 404, "rita": 403}


def _expected(role: str, action: str) -> int:
    if role in EXPECTED and not (role == "rita" and action in READS):
        return EXPECTED[role]
    if action.endswith("_create"):
        return 201
    if action.endswith("_delete"):
        return 204
    return 200


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
def test_authorization_matrix(role, action, users, api_client_for):
    alice = users["alice"]
    card = make_person(alice, last_name="Матрицын")
    item = survey(alice, card, score=5)
    advice = recommend(alice, card)
    api = DjangoClient() if role == "anonymous" else api_client_for(users[role])
    expected = _expected(role, action)
    log_size = ObjectChange.objects.count()

    requests = {
        "survey_list": lambda: api.get(surveys_url(card)),
        "survey_get": lambda: api.get(surveys_url(card, item)),
        "survey_create": lambda: send(
            api, "post", surveys_url(card), {"name": "Новый", "score": 8}
        ),
        "survey_update": lambda: send(api, "patch", surveys_url(card, item), {"score": 9}),
        "survey_delete": lambda: api.delete(surveys_url(card, item)),
        "recommendation_list": lambda: api.get(recommendations_url(card)),
        "recommendation_get": lambda: api.get(recommendations_url(card, advice)),
        "recommendation_create": lambda: send(
            api, "post", recommendations_url(card), {"text": "Новый совет"}
        ),
        "recommendation_update": lambda: send(
            api, "patch", recommendations_url(card, advice), {"text": "Правка"}
        ),
        "recommendation_status": lambda: send(
            api, "post", f"{recommendations_url(card, advice)}/status", {"status": "followed"}
        ),
        "recommendation_delete": lambda: api.delete(recommendations_url(card, advice)),
    }
    response = requests[action]()

    assert response.status_code == expected, response.content
    if expected < 400:
        if action in READS:
            assert ObjectChange.objects.count() == log_size
        else:
            assert ObjectChange.objects.count() == log_size + 1
            assert ObjectChange.objects.latest("pk").actor == users[role]
        return
    assert set(response.json()) >= ERROR_KEYS
    item.refresh_from_db()
    advice.refresh_from_db()
    assert (item.score, advice.text, advice.status) == (5, "Повторить через месяц", "pending")
    assert (SurveyResponse.objects.count(), Recommendation.objects.count()) == (1, 1)
    assert ObjectChange.objects.count() == log_size
