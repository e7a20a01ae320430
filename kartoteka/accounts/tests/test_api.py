"""The REST API door onto the signed-in user: /api/v1/me and personal API tokens."""

import datetime

import pytest
import time_machine
from django.test import Client as DjangoClient
from django.utils import timezone

from kartoteka.accounts.models import ApiToken
from kartoteka.accounts.services import api_token_create
from kartoteka.core.models import ObjectChange

pytestmark = pytest.mark.django_db

ME = "/api/v1/me"
TOKENS = "/api/v1/me/tokens"


def bearer(key: str) -> DjangoClient:
    return DjangoClient(headers={"Authorization": f"Bearer {key}"})


def test_me_tells_who_role_and_teams(mallory, north, south, api_client_for):
    mallory.teams.add(south)

    response = api_client_for(mallory).get(ME)

    assert response.status_code == 200
    assert response.json() == {
        "id": mallory.pk,
        "username": "mallory",
        "name": "Mallory",
        "email": "",
        "role": "manager",
        "role_display": "Manager",
        "language": "",
        "teams": [{"id": north.pk, "name": "North"}, {"id": south.pk, "name": "South"}],
    }


def test_me_with_session(rita, web_client_for):
    response = web_client_for(rita).get(ME)

    assert response.status_code == 200
    assert response.json()["role"] == "readonly"


def test_me_without_auth_gives_401(alice):
    response = DjangoClient().get(ME)

    assert response.status_code == 401
    assert set(response.json()) == {"detail", "code", "errors"}
    assert response.json()["code"] == "not_authenticated"


def test_token_list_shows_only_own_tokens_without_keys(alice, bob):
    own, key = api_token_create(actor=alice, name="website form")
    api_token_create(actor=bob, name="bob's script")

    response = bearer(key).get(TOKENS)

    assert response.status_code == 200
    assert [(t["id"], t["name"], t["prefix"], t["is_active"]) for t in response.json()] == [
        (own.pk, "website form", key[:10], True)
    ]
    assert "key" not in response.json()[0]
    assert response.json()[0]["last_used_at"] is not None


def test_token_create_returns_the_key_once_and_it_works(alice, api_client_for):
    api = api_client_for(alice)

    created = api.post(TOKENS, {"name": " import script "}, content_type="application/json")

    assert created.status_code == 201
    body = created.json()
    token = ApiToken.objects.get(pk=body["id"])
    assert token.user == alice
    assert body["name"] == "import script"
    assert body["key"].startswith(body["prefix"])
    assert token.key_hash == ApiToken.hash_key(body["key"])
    assert bearer(body["key"]).get(ME).json()["username"] == "alice"
    listed = api.get(TOKENS).json()
    assert all("key" not in row for row in listed)
    assert len(listed) == 2


def test_token_create_needs_a_name(alice, api_client_for):
    api = api_client_for(alice)

    blank = api.post(TOKENS, {"name": ""}, content_type="application/json")
    missing = api.post(TOKENS, {}, content_type="application/json")

    assert blank.status_code == 422
    assert [(e["field"], e["code"]) for e in blank.json()["errors"]] == [("name", "blank")]
    assert missing.status_code == 422
    assert [(e["field"], e["code"]) for e in missing.json()["errors"]] == [("name", "required")]
    assert ApiToken.objects.filter(user=alice).count() == 1


def test_token_revoke_stops_it(alice):
    _main, main_key = api_token_create(actor=alice, name="main")
    other, other_key = api_token_create(actor=alice, name="old laptop")

    response = bearer(main_key).post(f"{TOKENS}/{other.pk}/revoke")

    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert response.json()["revoked_at"] is not None
    assert bearer(other_key).get(ME).status_code == 401
    assert bearer(main_key).get(ME).status_code == 200
    change = ObjectChange.objects.filter(object_id=other.pk, action="archive").get()
    assert change.channel == "api"


def test_token_of_someone_else_cannot_be_revoked(alice, bob, ada):
    _token, alice_key = api_token_create(actor=alice, name="alice")
    bobs, bob_key = api_token_create(actor=bob, name="bob")
    _token, ada_key = api_token_create(actor=ada, name="ada")
    changes = ObjectChange.objects.count()

    by_alice = bearer(alice_key).post(f"{TOKENS}/{bobs.pk}/revoke")
    by_ada = bearer(ada_key).post(f"{TOKENS}/{bobs.pk}/revoke")

    assert by_alice.status_code == 404
    assert by_alice.json()["code"] == "not_found"
    assert by_ada.status_code == 404
    bobs.refresh_from_db()
    assert bobs.revoked_at is None
    assert bearer(bob_key).get(ME).status_code == 200
    assert ObjectChange.objects.count() == changes


def test_read_token_reads_but_cannot_write(alice):
    _token, key = api_token_create(actor=alice, name="report", scope="read")
    api = bearer(key)

    read = api.get(ME)
    write = api.post(TOKENS, {"name": "more"}, content_type="application/json")

    assert read.status_code == 200
    assert write.status_code == 403
    assert write.json()["code"] == "permission_denied"
    assert ApiToken.objects.filter(user=alice).count() == 1


def test_expired_token_gets_401_and_last_use_is_recorded(alice):
    start = timezone.now()
    token, key = api_token_create(
        actor=alice, name="week", expires_at=start + datetime.timedelta(days=7)
    )

    with time_machine.travel(start + datetime.timedelta(days=6), tick=False):
        assert bearer(key).get(ME).status_code == 200
    token.refresh_from_db()
    with time_machine.travel(start + datetime.timedelta(days=7, seconds=1), tick=False):
        expired = bearer(key).get(ME)

    assert token.last_used_at == start + datetime.timedelta(days=6)
    assert expired.status_code == 401
    assert expired.json()["code"] == "not_authenticated"


def test_token_create_with_scope_and_expiry(alice, api_client_for):
    expires = (timezone.now() + datetime.timedelta(days=30)).replace(microsecond=0)

    created = api_client_for(alice).post(
        TOKENS,
        {"name": "bi", "scope": "read", "expires_at": expires.isoformat()},
        content_type="application/json",
    )
    past = api_client_for(alice).post(
        TOKENS,
        {"name": "old", "expires_at": "2000-01-01T00:00:00Z"},
        content_type="application/json",
    )
    bad_scope = api_client_for(alice).post(
        TOKENS, {"name": "x", "scope": "admin"}, content_type="application/json"
    )

    assert created.status_code == 201
    assert created.json()["scope"] == "read"
    token = ApiToken.objects.get(name="bi")
    assert (token.scope, token.expires_at) == ("read", expires)
    assert past.status_code == 422
    assert [(e["field"], e["code"]) for e in past.json()["errors"]] == [
        ("expires_at", "expiry_in_past")
    ]
    assert bad_scope.status_code == 422
    assert bad_scope.json()["errors"][0]["field"] == "scope"


def test_existing_tokens_keep_full_scope_and_no_expiry(alice):
    token, key = api_token_create(actor=alice, name="old script")

    response = bearer(key).post(TOKENS, {"name": "child"}, content_type="application/json")

    assert (token.scope, token.expires_at) == ("write", None)
    assert response.status_code == 201
