import pytest

from kartoteka.accounts.models import Team
from kartoteka.care import services as care_services
from kartoteka.clients.models import Client
from kartoteka.clients.services import client_update
from kartoteka.clients.tests.factories import make_person
from kartoteka.core.models import ObjectChange


def _url(card):
    return f"/api/v1/clients/{card.pk}/history"


def _restore_url(card, change):
    return f"/api/v1/clients/{card.pk}/history/{change.pk}/restore"


def _edited(alice):
    card = make_person(alice, status="lead")
    client_update(
        actor=alice,
        client=card,
        expected_version=None,
        data={"status": "active", "last_name": "Сидоров"},
    )
    change = ObjectChange.objects.filter(client_id=card.pk).latest("pk")
    return Client.objects.get(pk=card.pk), change


def test_history_lists_changes_with_fields(alice, api_client_for):
    card, change = _edited(alice)
    care_services.survey_create(actor=alice, client=card, data={"name": "Опрос", "scale": "free"})

    response = api_client_for(alice).get(_url(card), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    body = response.json()
    assert [item["section"] for item in body["items"]] == [
        "care.surveyresponse",
        "clients.client",
        "clients.client",
    ]
    assert (body["page"], body["has_next"], body["limit"]) == (1, False, 50)
    update = body["items"][1]
    assert update["id"] == change.pk
    assert (update["door"], update["door_label"]) == ("system", "System")
    assert update["actor"] == {"id": alice.pk, "name": "Alice"}
    status = next(f for f in update["fields"] if f["name"] == "status")
    assert status == {
        "name": "status",
        "label": "Status",
        "before": "Lead",
        "after": "Active",
        "restorable": True,
    }


def test_history_filters_and_pages(alice, bob, api_client_for):
    card, _change = _edited(alice)
    client_update(actor=bob, client=card, expected_version=None, data={"source": "сайт"})
    api = api_client_for(alice)

    by_actor = api.get(_url(card), {"actor": bob.pk}).json()
    by_section = api.get(_url(card), {"section": "care.surveyresponse"}).json()
    first = api.get(_url(card), {"limit": 2}).json()
    second = api.get(_url(card), {"limit": 2, "page": 2}).json()
    bad = api.get(_url(card), {"limit": 0, "date_from": "yesterday"})

    assert [item["actor"]["id"] for item in by_actor["items"]] == [bob.pk]
    assert by_section["items"] == []
    assert (len(first["items"]), first["has_next"]) == (2, True)
    assert (len(second["items"]), second["has_next"]) == (1, False)
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"limit", "date_from"}


@pytest.mark.parametrize(
    ("name", "status"),
    [("ada", 200), ("alice", 200), ("bob", 200), ("mallory", 200), ("rita", 200), ("charlie", 404)],
)
def test_who_reads_the_history(alice, users, api_client_for, name, status):
    card, _change = _edited(alice)

    response = api_client_for(users[name]).get(_url(card))

    assert response.status_code == status


def test_anonymous_gets_401(alice, client):
    card, _change = _edited(alice)

    assert client.get(_url(card)).status_code == 401


@pytest.mark.parametrize(("name", "status"), [("rita", 403), ("charlie", 404)])
def test_restore_refused_changes_nothing(alice, users, api_client_for, name, status):
    card, change = _edited(alice)
    api = api_client_for(users[name])  # issuing the token is itself a recorded change
    count = ObjectChange.objects.count()

    response = api.post(
        _restore_url(card, change), {"fields": ["status"]}, content_type="application/json"
    )

    assert response.status_code == status
    assert Client.objects.get(pk=card.pk).status == "active"
    assert ObjectChange.objects.count() == count


@pytest.mark.parametrize("name", ["ada", "alice", "bob", "mallory"])
def test_restore_one_field_returns_the_card(alice, users, api_client_for, name):
    card, change = _edited(alice)

    response = api_client_for(users[name]).post(
        _restore_url(card, change),
        {"fields": ["status"], "expected_version": card.version},
        content_type="application/json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["last_name"], body["version"]) == (
        "lead",
        "Сидоров",
        card.version + 1,
    )
    last = ObjectChange.objects.latest("pk")
    assert (last.message, last.channel) == (f"restored from change #{change.pk}", "api")


def test_restore_whole_change(alice, api_client_for):
    card, change = _edited(alice)

    response = api_client_for(alice).post(
        _restore_url(card, change), {}, content_type="application/json"
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["last_name"]) == ("lead", "Иванов")


def test_restore_conflict_is_409_with_the_current_card(alice, bob, api_client_for):
    card, change = _edited(alice)
    seen = card.version
    client_update(actor=bob, client=card, expected_version=None, data={"source": "сайт"})
    api = api_client_for(alice)
    count = ObjectChange.objects.count()

    response = api.post(
        _restore_url(card, change), {"expected_version": seen}, content_type="application/json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "version_conflict"
    assert response.json()["current"]["source"] == "сайт"
    assert ObjectChange.objects.count() == count


def test_restore_invalid_is_422_naming_the_field(ada, api_client_for):
    old = Team.objects.create(name="Старая")
    card = make_person(ada, team=old)
    client_update(
        actor=ada, client=card, expected_version=None, data={"team": Team.objects.create(name="B")}
    )
    change = ObjectChange.objects.filter(client_id=card.pk).latest("pk")
    old.delete()
    api = api_client_for(ada)
    count = ObjectChange.objects.count()

    response = api.post(
        _restore_url(card, change),
        {"fields": ["team"]},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "team", "message": "This team no longer exists.", "code": "reference_gone"}
    ]
    assert ObjectChange.objects.count() == count


def test_restore_unknown_field_and_unknown_change(alice, api_client_for):
    card, change = _edited(alice)
    other = make_person(alice)
    foreign = ObjectChange.objects.get(client_id=other.pk)
    api = api_client_for(alice)

    unknown_field = api.post(
        _restore_url(card, change), {"fields": ["source"]}, content_type="application/json"
    )
    misspelt = api.post(_restore_url(card, change), {"field": []}, content_type="application/json")
    foreign_change = api.post(_restore_url(card, foreign), {}, content_type="application/json")

    assert unknown_field.status_code == 422
    assert unknown_field.json()["errors"][0]["field"] == "source"
    assert misspelt.status_code == 422
    assert foreign_change.status_code == 404
    assert Client.objects.get(pk=card.pk).status == "active"


def test_history_endpoints_are_in_openapi(client):
    schema = client.get("/api/v1/openapi.json").json()

    assert "get" in schema["paths"]["/api/v1/clients/{client_id}/history"]
    assert "post" in schema["paths"]["/api/v1/clients/{client_id}/history/{change_id}/restore"]


def test_history_list_queries_do_not_grow(
    alice, bob, api_client_for, django_assert_max_num_queries
):
    card, _change = _edited(alice)
    api = api_client_for(alice)
    api.get(_url(card))
    with django_assert_max_num_queries(40) as few:
        api.get(_url(card))
    for index in range(8):
        client_update(
            actor=[alice, bob][index % 2],
            client=card,
            expected_version=None,
            data={"status": ["key", "active"][index % 2]},
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert api.get(_url(card)).status_code == 200
