"""The quality API: a card's quality, the attention list, normalisation preview/apply/undo,
per role, in the one error shape."""

import pytest

from kartoteka.clients.models import Client
from kartoteka.clients.tests.factories import make_person
from kartoteka.quality.models import NormalisationRun


def test_card_quality(users, api_client_for):
    card = make_person(users["alice"], contacts=[])
    body = api_client_for(users["alice"]).get(f"/api/v1/clients/{card.pk}/quality").json()
    assert body["score"] == 60
    assert [p["code"] for p in body["problems"]] == ["missing_contact", "missing_birth_date"]
    assert body["problems"][0]["label"] == "No phone or email"
    assert body["stale"] is True
    hidden = api_client_for(users["charlie"]).get(f"/api/v1/clients/{card.pk}/quality")
    assert hidden.status_code == 404


def test_attention_list(users, api_client_for):
    make_person(users["alice"], contacts=[], last_name="Первый")
    make_person(users["alice"], contacts=[], last_name="Второй")
    client = api_client_for(users["rita"])  # read-only users may look
    first = client.get("/api/v1/quality/attention", {"limit": 1, "kind": "incomplete"}).json()
    assert len(first["items"]) == 1
    second = client.get(
        "/api/v1/quality/attention", {"limit": 1, "after": first["next_after"]}
    ).json()
    assert second["items"][0]["client_id"] != first["items"][0]["client_id"]
    bad = client.get("/api/v1/quality/attention", {"kind": "nonsense"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "kind"


@pytest.mark.parametrize(
    ("name", "allowed"), [("ada", True), ("mallory", True), ("alice", False), ("rita", False)]
)
def test_normalisation_via_api(users, api_client_for, name, allowed):
    card = make_person(users["alice"], last_name="СИДОРОВ", first_name="сидор", middle_name="")
    client = api_client_for(users[name])
    preview = client.post(
        "/api/v1/quality/normalisations/preview",
        {"operation": "names"},
        content_type="application/json",
    )
    applied = client.post(
        "/api/v1/quality/normalisations/", {"operation": "names"}, content_type="application/json"
    )
    if not allowed:
        assert preview.status_code == 403
        assert applied.status_code == 403
        assert not NormalisationRun.objects.exists()
        assert Client.objects.get(pk=card.pk).last_name == "СИДОРОВ"
        return
    assert preview.json()["total"] == 2
    assert preview.json()["sample"][0]["after"] == "Сидоров"
    assert applied.status_code == 201
    assert Client.objects.get(pk=card.pk).last_name == "Сидоров"
    run_id = applied.json()["id"]
    undone = client.post(f"/api/v1/quality/normalisations/{run_id}/undo")
    assert undone.json()["status"] == "undone"
    assert Client.objects.get(pk=card.pk).last_name == "СИДОРОВ"
    wrong = client.post(
        "/api/v1/quality/normalisations/", {"operation": "x"}, content_type="application/json"
    )
    assert wrong.status_code == 422
