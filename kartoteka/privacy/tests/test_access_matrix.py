"""Every role against every action, through the web and the API: allowed actions work,
refused ones answer 403 (or 404 where the request or card is invisible) and change nothing."""

import json

import pytest
from django.urls import reverse
from django.utils import timezone

from kartoteka.clients.models import Client
from kartoteka.clients.tests.factories import make_person
from kartoteka.core.models import ObjectChange
from kartoteka.privacy.models import DataSubjectRequest, DestructionRecord
from kartoteka.privacy.tests.factories import make_request

pytestmark = pytest.mark.django_db
USERS = ["ada", "mallory", "alice", "bob", "charlie", "rita"]

# action -> {user: expected status}; "ok" is the action's success status.
MATRIX = {
    "list": {"ada": "ok", "mallory": "ok", "alice": "ok", "bob": "ok", "charlie": "ok",
             "rita": 403},
    "create": {"ada": "ok", "mallory": "ok", "alice": "ok", "bob": "ok", "charlie": 404,
               "rita": 403},
    "detail": {"ada": "ok", "mallory": "ok", "alice": "ok", "bob": "ok", "charlie": 404,
               "rita": 404},
    "start": {"ada": "ok", "mallory": "ok", "alice": 403, "bob": 403, "charlie": 404,
              "rita": 404},
    "extend": {"ada": "ok", "mallory": "ok", "alice": 403, "bob": 403, "charlie": 404,
               "rita": 404},
    "complete": {"ada": "ok", "mallory": "ok", "alice": 403, "bob": 403, "charlie": 404,
                 "rita": 404},
    "refuse": {"ada": "ok", "mallory": "ok", "alice": 403, "bob": 403, "charlie": 404,
               "rita": 404},
    "export": {"ada": "ok", "mallory": 403, "alice": 403, "bob": 403, "charlie": 404,
               "rita": 404},
    "erase": {"ada": "ok", "mallory": 403, "alice": 403, "bob": 403, "charlie": 404,
              "rita": 404},
}  # fmt: skip
CASES = [(action, user) for action, row in MATRIX.items() for user in USERS]


@pytest.fixture
def setup(alice, north, users):
    card = make_person(alice, last_name="Матрицева", team=north)
    dsr = make_request(alice, card, kind="erasure")
    return card, dsr


def _web(action, web, card, dsr):
    today = timezone.localdate().isoformat()
    if action == "list":
        return web.get(reverse("privacy:list")), 200
    if action == "create":
        data = {"kind": "access", "received_on": today, "channel": "email"}
        return web.post(reverse("privacy:new") + f"?client={card.pk}", data), 302
    if action == "detail":
        return web.get(reverse("privacy:detail", args=[dsr.pk])), 200
    if action == "start":
        return web.post(reverse("privacy:start", args=[dsr.pk])), 302
    if action in ("extend", "complete", "refuse"):
        url = reverse(f"privacy:{action}", args=[dsr.pk])
        if action == "complete":
            DestructionRecord.objects.create(client=card, client_number=card.number,
                                             reason="manual")  # fmt: skip
        return web.post(url, {f"{action}-text": "Причина"}), 302
    if action == "export":
        return web.get(reverse("privacy:export", args=[dsr.pk])), 200
    return web.post(reverse("privacy:erase", args=[dsr.pk]), {"confirm_number": card.number}), 302


def _api(action, api, card, dsr):
    base = "/api/v1/privacy/requests"
    today = timezone.localdate().isoformat()
    post = lambda url, body: api.post(url, json.dumps(body), content_type="application/json")  # noqa: E731
    if action == "list":
        return api.get(base), 200
    if action == "create":
        body = {"client": card.pk, "kind": "access", "received_on": today, "channel": "email"}
        return post(base, body), 201
    if action == "detail":
        return api.get(f"{base}/{dsr.pk}"), 200
    if action == "start":
        return post(f"{base}/{dsr.pk}/start", {}), 200
    if action == "extend":
        return post(f"{base}/{dsr.pk}/extend", {"reason": "Причина"}), 200
    if action == "refuse":
        return post(f"{base}/{dsr.pk}/refuse", {"reason": "Причина"}), 200
    if action == "complete":
        DestructionRecord.objects.create(client=card, client_number=card.number, reason="manual")
        return post(f"{base}/{dsr.pk}/complete", {"outcome": "Сделано"}), 200
    if action == "export":
        return api.get(f"{base}/{dsr.pk}/export"), 200
    return post(f"{base}/{dsr.pk}/erase", {"confirm_number": str(card.number)}), 200


def _state(dsr):
    row = DataSubjectRequest.objects.get(pk=dsr.pk)
    card = Client.objects.get(pk=dsr.client_id)
    return (
        DataSubjectRequest.objects.count(),
        row.status,
        row.due_on,
        card.last_name,
        DestructionRecord.objects.filter(reason="request").count(),
        ObjectChange.objects.exclude(message__in=["", "started"]).count(),
    )


@pytest.mark.parametrize("door", ["web", "api"])
@pytest.mark.parametrize(("action", "username"), CASES)
def test_matrix(setup, users, web_client_for, api_client_for, door, action, username):
    card, dsr = setup
    user = users[username]
    client = web_client_for(user) if door == "web" else api_client_for(user)
    before = _state(dsr)
    changes_before = ObjectChange.objects.count()

    response, ok_status = (_web if door == "web" else _api)(action, client, card, dsr)

    expected = MATRIX[action][username]
    if expected == "ok":
        assert response.status_code == ok_status, response.content[:500]
        if action == "export":
            assert response["Content-Type"] == "application/zip"
        if action == "list" and username == "charlie":
            body = response.content.decode()
            assert "Матрицева" not in body
    else:
        assert response.status_code == expected, response.content[:500]
        if door == "api":
            assert response.json()["code"] in ("permission_denied", "not_found")
        assert _state(dsr) == before
        assert ObjectChange.objects.count() == changes_before


def test_anonymous_gets_the_login_page_and_401(client):
    assert client.get(reverse("privacy:list")).status_code == 302
    assert client.get("/api/v1/privacy/requests").status_code == 401
