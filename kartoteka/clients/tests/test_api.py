"""The REST API door onto client cards: /api/v1/clients/.

Status codes, the response schema, the one error shape, auth, and the authorization matrix.
The rules themselves are tested once, in test_services/test_selectors/test_permissions.
"""

import re
import secrets
from typing import Any

import pytest
from django.db import connection
from django.test import Client as DjangoClient
from django.test.utils import CaptureQueriesContext

from kartoteka.accounts.services import api_token_create, api_token_revoke, user_set_language
from kartoteka.clients.models import Client, ContactPoint
from kartoteka.clients.services import client_archive, client_update
from kartoteka.clients.tests.factories import make_company, make_person, next_phone
from kartoteka.core.models import ObjectChange, Tag

pytestmark = pytest.mark.django_db

URL = "/api/v1/clients/"
ERROR_KEYS = {"detail", "code", "errors"}
VALID_INN = "7707083893"  # Sberbank: a real 10-digit INN with a valid check digit


def send(client: DjangoClient, method: str, url: str, data: Any = None, **extra: Any):
    """A JSON request through the test client."""
    return getattr(client, method)(url, data, content_type="application/json", **extra)


def card_url(card: Client | int) -> str:
    pk = card if isinstance(card, int) else card.pk
    return f"{URL}{pk}"


def assert_error_shape(body: dict[str, Any], code: str) -> None:
    assert set(body) >= ERROR_KEYS
    assert body["code"] == code
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert isinstance(body["errors"], list)
    for error in body["errors"]:
        assert set(error) == {"field", "message", "code"}


def changes_count() -> int:
    return ObjectChange.objects.count()


# --- The must-show ------------------------------------------------------------------


def test_create_with_token_read_back_and_find_by_phone_digits(alice, north, api_client_for):
    api = api_client_for(alice)

    created = send(
        api,
        "post",
        URL,
        {
            "kind": "person",
            "last_name": "Смирнова",
            "first_name": "Анна",
            "middle_name": "Сергеевна",
            "status": "active",
            "tags": ["VIP", "salon-2"],
            "contacts": [
                {"kind": "phone", "value": "+7 (916) 123-45-67", "label": "mobile"},
                {"kind": "email", "value": "Anna.Smirnova@Example.COM"},
            ],
        },
    )

    assert created.status_code == 201
    body = created.json()
    card = Client.objects.get()
    assert body["id"] == card.pk
    assert body["number"] == card.number
    assert body["card_number"] == f"{card.number:06d}"
    assert body["display_name"] == "Смирнова Анна Сергеевна"
    assert body["status"] == "active"
    assert body["responsible"] == {"id": alice.pk, "name": "Alice"}
    assert body["team"] == {"id": north.pk, "name": "North"}
    assert sorted(body["tags"]) == ["VIP", "salon-2"]
    assert body["version"] == 1
    assert body["is_archived"] is False
    assert body["employer"] is None
    assert body["url"] == f"http://testserver/clients/{card.pk}/"
    assert [
        (c["kind"], c["value"], c["normalized"], c["is_primary"]) for c in body["contacts"]
    ] == [
        ("email", "anna.smirnova@example.com", "anna.smirnova@example.com", True),
        ("phone", "+7 916 123-45-67", "+79161234567", True),
    ]

    read = api.get(card_url(card))
    assert read.status_code == 200
    assert read.json() == body

    found = api.get(URL, {"q": "9161234567"})
    assert found.status_code == 200
    assert [item["id"] for item in found.json()["items"]] == [card.pk]
    assert found.json()["items"][0]["primary_contacts"][1]["value"] == "+7 916 123-45-67"


def test_invalid_inn_gives_422_naming_the_field(alice, api_client_for):
    api = api_client_for(alice)
    before = changes_count()

    response = send(
        api, "post", URL, {"kind": "company", "legal_name": "ООО «Вектор»", "inn": "7707083894"}
    )

    assert response.status_code == 422
    body = response.json()
    assert_error_shape(body, "invalid")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("inn", "invalid_inn")]
    assert "7707083894" in body["errors"][0]["message"]
    assert Client.objects.count() == 0
    assert changes_count() == before


def test_stale_version_gives_409_with_the_current_card(alice, bob, api_client_for):
    card = make_person(alice, last_name="Орлов")
    alice_api, bob_api = api_client_for(alice), api_client_for(bob)
    first = send(alice_api, "patch", card_url(card), {"version": 1, "first_name": "Олег"})
    assert first.status_code == 200
    assert first.json()["version"] == 2
    before = changes_count()

    stale = send(bob_api, "patch", card_url(card), {"version": 1, "first_name": "Борис"})

    assert stale.status_code == 409
    body = stale.json()
    assert_error_shape(body, "version_conflict")
    assert body["errors"] == []
    assert body["current"]["id"] == card.pk
    assert body["current"]["version"] == 2
    assert body["current"]["first_name"] == "Олег"
    card.refresh_from_db()
    assert (card.first_name, card.version) == ("Олег", 2)
    assert changes_count() == before


# --- Authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [None, "Bearer kt_not-a-real-key", "Bearer ", "Basic YWxpY2U6cGFzcw==", "kt_no-scheme"],
)
def test_missing_or_bad_token_gives_401(alice, header):
    make_person(alice)
    headers = {"Authorization": header} if header is not None else {}
    api = DjangoClient(headers=headers)

    response = api.get(URL)

    assert response.status_code == 401
    assert_error_shape(response.json(), "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_gives_401(alice):
    token, key = api_token_create(actor=alice, name="script")
    api = DjangoClient(headers={"Authorization": f"Bearer {key}"})
    assert api.get(URL).status_code == 200

    api_token_revoke(actor=alice, token=token)

    assert api.get(URL).status_code == 401


def test_inactive_users_token_gives_401(alice):
    _token, key = api_token_create(actor=alice, name="script")
    alice.is_active = False
    alice.save(update_fields=["is_active"])

    response = DjangoClient(headers={"Authorization": f"Bearer {key}"}).get(URL)

    assert response.status_code == 401


def test_unauthenticated_write_creates_nothing(alice):
    before = changes_count()

    response = send(DjangoClient(), "post", URL, {"kind": "person", "last_name": "Икс"})

    assert response.status_code == 401
    assert Client.objects.count() == 0
    assert changes_count() == before


def test_session_auth_reads(alice, web_client_for):
    card = make_person(alice)

    response = web_client_for(alice).get(card_url(card))

    assert response.status_code == 200
    assert response.json()["id"] == card.pk


def _csrf_session_client(user) -> tuple[DjangoClient, str]:
    client = DjangoClient(enforce_csrf_checks=True)
    client.force_login(user)
    secret = secrets.token_hex(16)  # 32 alphanumeric characters, a valid CSRF secret
    client.cookies["csrftoken"] = secret
    return client, secret


def test_session_auth_refuses_unsafe_method_without_csrf_token(alice):
    client, _secret = _csrf_session_client(alice)
    before = changes_count()

    response = send(client, "post", URL, {"kind": "person", "last_name": "Без токена"})

    assert response.status_code == 403
    assert_error_shape(response.json(), "csrf_failed")
    assert Client.objects.count() == 0
    assert changes_count() == before


def test_session_auth_writes_with_csrf_token(alice):
    client, secret = _csrf_session_client(alice)

    response = send(
        client, "post", URL, {"kind": "person", "last_name": "С токеном"}, HTTP_X_CSRFTOKEN=secret
    )

    assert response.status_code == 201
    assert Client.objects.get().last_name == "С токеном"


def test_api_changes_are_recorded_with_the_api_channel(alice, api_client_for):
    api = api_client_for(alice)

    created = send(api, "post", URL, {"kind": "person", "last_name": "Канал"})
    card_id = created.json()["id"]
    send(api, "patch", card_url(card_id), {"version": 1, "first_name": "Юрий"})
    api.post(f"{card_url(card_id)}/archive")

    changes = ObjectChange.objects.filter(object_id=card_id, content_type__model="client")
    assert sorted(changes.values_list("action", "channel")) == [
        ("archive", "api"),
        ("create", "api"),
        ("update", "api"),
    ]
    assert {change.actor_id for change in changes} == {alice.pk}
    create = changes.get(action="create")
    assert create.request_id == created["X-Request-ID"]


# --- The one error shape ----------------------------------------------------------------------


def test_every_error_status_has_the_same_shape(alice, bob, charlie, rita, api_client_for):
    card = make_person(alice)
    hidden = make_person(charlie)
    alice_api = api_client_for(alice)

    unauthenticated = DjangoClient().get(URL)
    forbidden = api_client_for(rita).post(f"{card_url(card)}/archive")
    not_found = alice_api.get(card_url(hidden))
    missing = alice_api.get(card_url(999999))
    conflict = send(alice_api, "patch", card_url(card), {"version": 7, "notes": "x"})
    invalid = send(alice_api, "post", URL, {"kind": "person"})
    bad_type = send(alice_api, "post", URL, {"kind": "robot", "birth_date": "yesterday"})
    bad_json = alice_api.post(URL, "{not json", content_type="application/json")

    assert unauthenticated.status_code == 401
    assert_error_shape(unauthenticated.json(), "not_authenticated")
    assert forbidden.status_code == 403
    assert_error_shape(forbidden.json(), "permission_denied")
    assert not_found.status_code == 404
    assert_error_shape(not_found.json(), "not_found")
    assert missing.status_code == 404
    assert missing.json() == not_found.json()
    assert conflict.status_code == 409
    assert_error_shape(conflict.json(), "version_conflict")
    assert invalid.status_code == 422
    assert_error_shape(invalid.json(), "invalid")
    assert [(e["field"], e["code"]) for e in invalid.json()["errors"]] == [
        ("last_name", "name_required")
    ]
    assert bad_type.status_code == 422
    assert_error_shape(bad_type.json(), "invalid")
    assert sorted((e["field"], e["code"]) for e in bad_type.json()["errors"]) == [
        ("birth_date", "invalid_date"),
        ("kind", "invalid_choice"),
    ]
    assert bad_json.status_code == 422
    assert bad_json.json()["errors"] == [
        {"field": None, "message": "The request body is not valid JSON.", "code": "invalid_json"}
    ]


def test_unknown_field_in_body_gives_422(alice, api_client_for):
    response = send(
        api_client_for(alice), "post", URL, {"kind": "person", "last_name": "A", "phone": "1"}
    )

    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("phone", "unknown_field")
    ]


def test_contact_errors_are_reported_per_row(alice, api_client_for):
    response = send(
        api_client_for(alice),
        "post",
        URL,
        {
            "kind": "person",
            "last_name": "Контактов",
            "contacts": [
                {"kind": "phone", "value": "+7 916 555-44-33"},
                {"kind": "email", "value": "not-an-email"},
                {"kind": "phone", "value": "12"},
            ],
        },
    )

    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("contacts.1.value", "invalid_email"),
        ("contacts.2.value", "invalid_phone"),
    ]
    assert Client.objects.count() == 0


def test_contact_kind_type_errors_name_the_row(alice, api_client_for):
    response = send(
        api_client_for(alice),
        "post",
        URL,
        {"kind": "person", "last_name": "A", "contacts": [{"kind": "pager", "value": "1"}]},
    )

    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("contacts.0.kind", "invalid_choice")
    ]


def test_error_messages_follow_accept_language(alice, api_client_for):
    api = api_client_for(alice)
    payload = {"kind": "company", "legal_name": "ООО «Сайт»", "website": "not a url"}

    russian = send(api, "post", URL, payload, HTTP_ACCEPT_LANGUAGE="ru")
    chinese = send(api, "post", URL, payload, HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert russian.status_code == 422
    assert russian["Content-Language"] == "ru"
    assert russian.json()["errors"][0]["message"] == "Введите правильный URL."
    assert chinese.json()["errors"][0]["message"] == "输入一个有效的 URL。"


def test_error_messages_follow_the_users_language(alice, api_client_for):
    user_set_language(actor=alice, language="uk")
    api = api_client_for(alice)

    response = send(
        api,
        "post",
        URL,
        {"kind": "company", "legal_name": "ТОВ «Сайт»", "website": "not a url"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["message"] == "Введіть коректний URL."


# --- Create, update, life cycle ---------------------------------------------------------------


def test_duplicate_gives_409_then_allow_duplicates_creates(alice, api_client_for):
    existing = make_person(
        alice, last_name="Первый", contacts=[{"kind": "phone", "value": "+79161234567"}]
    )
    api = api_client_for(alice)
    payload = {
        "kind": "person",
        "last_name": "Второй",
        "contacts": [{"kind": "phone", "value": "8 916 123 45 67"}],
    }
    before = changes_count()

    refused = send(api, "post", URL, payload)

    assert refused.status_code == 409
    body = refused.json()
    assert_error_shape(body, "duplicate")
    assert body["duplicates"] == [
        {
            "id": existing.pk,
            "number": existing.number,
            "card_number": existing.card_number,
            "name": "Первый Иван Петрович",
            "reasons": ["Phone: +7 916 123-45-67"],
            "url": f"http://testserver/clients/{existing.pk}/",
        }
    ]
    assert Client.objects.count() == 1
    assert changes_count() == before

    by_query = send(api, "post", f"{URL}?allow_duplicates=true", payload)
    by_body = send(api, "post", URL, {**payload, "last_name": "Третий", "allow_duplicates": True})

    assert by_query.status_code == 201
    assert by_body.status_code == 201
    assert Client.objects.count() == 3


def test_duplicates_the_user_cannot_see_are_not_revealed(alice, charlie, api_client_for):
    make_person(charlie, contacts=[{"kind": "phone", "value": "+79161234567"}])

    response = send(
        api_client_for(alice),
        "post",
        URL,
        {
            "kind": "person",
            "last_name": "Свой",
            "contacts": [{"kind": "phone", "value": "+79161234567"}],
        },
    )

    assert response.status_code == 201


def test_create_company_with_references_and_person_at_it(alice, mallory, north, api_client_for):
    api = api_client_for(mallory)
    company = send(
        api,
        "post",
        URL,
        {
            "kind": "company",
            "legal_name": "ООО «Вектор»",
            "short_name": "Вектор",
            "country": "ru",
            "inn": VALID_INN,
            "size": "11-50",
            "responsible": alice.pk,
            "team": north.pk,
        },
    )
    assert company.status_code == 201
    company_id = company.json()["id"]

    person = send(
        api,
        "post",
        URL,
        {"kind": "person", "first_name": "Пётр", "employer": company_id, "position": "CEO"},
    )

    assert person.status_code == 201
    assert company.json()["responsible"] == {"id": alice.pk, "name": "Alice"}
    assert company.json()["country"] == "RU"
    assert company.json()["display_name"] == "Вектор"
    assert person.json()["employer"] == {"id": company_id, "name": "Вектор"}
    assert Client.objects.get(pk=person.json()["id"]).employer_id == company_id


def test_unknown_or_hidden_references_are_field_errors(alice, charlie, api_client_for):
    hidden_company = make_company(charlie)
    api = api_client_for(alice)
    before = changes_count()

    response = send(
        api,
        "post",
        URL,
        {
            "kind": "person",
            "last_name": "Ссылкин",
            "responsible": 999999,
            "team": 999999,
            "employer": hidden_company.pk,
        },
    )

    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("responsible", "invalid_choice"),
        ("team", "invalid_choice"),
        ("employer", "invalid_choice"),
    ]
    assert Client.objects.count() == 1
    assert changes_count() == before


def test_hidden_employer_reads_as_null(alice, charlie, ada, api_client_for):
    company = make_company(charlie)
    person = make_person(ada, responsible=alice, employer=company)

    as_alice = api_client_for(alice).get(card_url(person))
    as_ada = api_client_for(ada).get(card_url(person))

    assert as_alice.json()["employer"] is None
    assert as_ada.json()["employer"] == {"id": company.pk, "name": "Ромашка"}


def test_patch_changes_only_the_fields_sent(alice, api_client_for):
    card = make_person(alice, last_name="Лебедев", first_name="Иван", notes="Звонить утром")
    api = api_client_for(alice)

    response = send(api, "patch", card_url(card), {"version": 1, "status": "key", "tags": ["A"]})

    assert response.status_code == 200
    card.refresh_from_db()
    assert (card.status, card.last_name, card.first_name, card.notes) == (
        "key",
        "Лебедев",
        "Иван",
        "Звонить утром",
    )
    assert list(card.tags.values_list("name", flat=True)) == ["A"]
    assert card.contacts.count() == 1
    assert response.json()["version"] == 2 == card.version


def test_patch_without_version_gives_422(alice, api_client_for):
    card = make_person(alice)

    response = send(api_client_for(alice), "patch", card_url(card), {"notes": "x"})

    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("version", "required")]


def test_patch_contacts_replace_the_list(alice, api_client_for):
    card = make_person(
        alice,
        contacts=[
            {"kind": "phone", "value": "+79161112233"},
            {"kind": "email", "value": "old@example.com"},
        ],
    )
    phone = card.contacts.get(kind="phone")

    response = send(
        api_client_for(alice),
        "patch",
        card_url(card),
        {
            "version": 1,
            "contacts": [
                {"id": phone.pk, "kind": "phone", "value": "+79161112233", "label": "work"},
                {"kind": "telegram", "value": "@ivanov_ivan"},
            ],
        },
    )

    assert response.status_code == 200
    rows = list(card.contacts.order_by("kind").values_list("pk", "kind", "value", "label"))
    assert rows[0] == (phone.pk, "phone", "+7 916 111-22-33", "work")
    assert rows[1][1:] == ("telegram", "@ivanov_ivan", "")
    assert len(rows) == 2
    assert [c["kind"] for c in response.json()["contacts"]] == ["phone", "telegram"]


def test_patch_clears_a_reference_with_null(alice, north, api_client_for):
    card = make_person(alice)
    assert card.team_id == north.pk

    response = send(api_client_for(alice), "patch", card_url(card), {"version": 1, "team": None})

    assert response.status_code == 200
    assert response.json()["team"] is None
    card.refresh_from_db()
    assert card.team_id is None


def test_archive_restore_and_actualize(alice, api_client_for):
    card = make_person(alice)
    api = api_client_for(alice)

    archived = api.post(f"{card_url(card)}/archive")
    listed_while_archived = api.get(URL).json()["items"]
    restored = api.post(f"{card_url(card)}/restore")
    actualized = api.post(f"{card_url(card)}/actualize")

    assert archived.status_code == 200
    assert archived.json()["is_archived"] is True
    assert archived.json()["archived_at"] is not None
    assert listed_while_archived == []
    assert restored.status_code == 200
    assert restored.json()["is_archived"] is False
    assert actualized.status_code == 200
    assert actualized.json()["actualized_at"] is not None
    assert actualized.json()["version"] == 4
    card.refresh_from_db()
    assert (card.is_archived, card.actualized_by_id, card.version) == (False, alice.pk, 4)


# --- Listing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("sort", ["-number", "number", "name", "-name", "-updated", "actualized"])
def test_keyset_pages_return_every_card_exactly_once(alice, api_client_for, sort):
    cards = [make_person(alice, last_name=name) for name in ["Б", "А", "Б", "В", "А", "Б"]]
    api = api_client_for(alice)

    seen: list[int] = []
    pages = 0
    params: dict[str, Any] = {"limit": 2, "sort": sort}
    while True:
        response = api.get(URL, params)
        assert response.status_code == 200
        body = response.json()
        pages += 1
        seen += [item["id"] for item in body["items"]]
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]

    assert pages == 3
    assert sorted(seen) == sorted(card.pk for card in cards)
    assert len(seen) == len(set(seen))


def test_list_sort_by_name_orders_rows(alice, api_client_for):
    for name in ["Яковлев", "Андреев", "Михайлов"]:
        make_person(alice, last_name=name)

    response = api_client_for(alice).get(URL, {"sort": "name"})

    assert [item["last_name"] for item in response.json()["items"]] == [
        "Андреев",
        "Михайлов",
        "Яковлев",
    ]


def test_list_filters(alice, api_client_for):
    vip = Tag.objects.create(name="VIP")
    lead = make_person(alice, last_name="Лидов", status="lead")
    lead.tags.add(vip)
    company = make_company(alice, status="active")
    key = make_person(alice, last_name="Ключев", status="key")
    client_archive(actor=alice, client=key)
    api = api_client_for(alice)

    def ids(**params: Any) -> list[int]:
        response = api.get(URL, params)
        assert response.status_code == 200, response.json()
        return [item["id"] for item in response.json()["items"]]

    assert ids() == [company.pk, lead.pk]
    assert ids(status=["active", "key"]) == [company.pk]
    assert ids(status=["active", "key"], archived="all") == [key.pk, company.pk]
    assert ids(archived="yes") == [key.pk]
    assert ids(kind="company") == [company.pk]
    assert ids(kind="person", archived="all") == [key.pk, lead.pk]
    assert ids(tag="VIP") == [lead.pk]
    assert ids(tag="vip") == [lead.pk]
    assert ids(tag=str(vip.pk)) == [lead.pk]
    assert ids(responsible=alice.pk) == [company.pk, lead.pk]


def test_list_filter_errors_name_the_parameter(alice, api_client_for):
    api = api_client_for(alice)

    bad_tag = api.get(URL, {"tag": "no-such-tag"})
    bad_status = api.get(URL, {"status": ["lead", "gone"]})
    bad_limit = api.get(URL, {"limit": 201})
    bad_cursor = api.get(URL, {"cursor": "not-a-cursor"})
    foreign_cursor = api.get(URL, {"cursor": "WyJhYmMiLCAxXQ", "sort": "-number"})  # ["abc", 1]

    assert bad_tag.status_code == 422
    assert [e["field"] for e in bad_tag.json()["errors"]] == ["tag"]
    assert bad_status.status_code == 422
    assert [(e["field"], e["code"]) for e in bad_status.json()["errors"]] == [
        ("status", "invalid_choice")
    ]
    assert bad_limit.status_code == 422
    assert [(e["field"], e["code"]) for e in bad_limit.json()["errors"]] == [("limit", "max")]
    for response in (bad_cursor, foreign_cursor):
        assert response.status_code == 422
        assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
            ("cursor", "invalid_cursor")
        ]


def test_list_query_count_does_not_grow_with_rows(alice, api_client_for, django_assert_num_queries):
    vip = Tag.objects.create(name="VIP")
    api = api_client_for(alice)
    api.get(URL)  # the token's last_used_at is written on first use only

    def add_cards(count: int) -> None:
        for index in range(count):
            card = make_person(
                alice,
                last_name=f"Запрос{index}",
                contacts=[
                    {"kind": "phone", "value": next_phone()},
                    {"kind": "email", "value": f"q{index}-{secrets.token_hex(3)}@example.com"},
                ],
            )
            card.tags.add(vip)

    add_cards(2)
    with CaptureQueriesContext(connection) as two:
        response = api.get(URL)
    assert len(response.json()["items"]) == 2

    add_cards(8)
    with django_assert_num_queries(len(two.captured_queries)):
        response = api.get(URL)
    assert len(response.json()["items"]) == 10
    assert all(item["tags"] == ["VIP"] for item in response.json()["items"])
    assert all(len(item["primary_contacts"]) == 2 for item in response.json()["items"])


# --- Contact points ---------------------------------------------------------------------------


def test_contact_crud(alice, api_client_for):
    card = make_person(alice, contacts=[{"kind": "phone", "value": "+79161112233"}])
    api = api_client_for(alice)
    contacts_url = f"{card_url(card)}/contacts"

    listed = api.get(contacts_url)
    added = send(
        api,
        "post",
        contacts_url,
        {"kind": "phone", "value": "8 (916) 444-55-66", "label": "work", "is_primary": True},
    )
    new_id = added.json()["id"]
    changed = send(api, "patch", f"{contacts_url}/{new_id}", {"label": "office"})
    invalid = send(api, "patch", f"{contacts_url}/{new_id}", {"value": "12"})
    deleted = api.delete(f"{contacts_url}/{new_id}")

    assert listed.status_code == 200
    assert [(c["kind"], c["value"]) for c in listed.json()] == [("phone", "+7 916 111-22-33")]
    assert added.status_code == 201
    assert added.json()["value"] == "+7 916 444-55-66"
    assert added.json()["normalized"] == "+79164445566"
    assert added.json()["is_primary"] is True
    assert changed.status_code == 200
    assert changed.json()["label"] == "office"
    assert changed.json()["value"] == "+7 916 444-55-66"
    assert invalid.status_code == 422
    assert [(e["field"], e["code"]) for e in invalid.json()["errors"]] == [
        ("value", "invalid_phone")
    ]
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert list(card.contacts.values_list("normalized", "is_primary")) == [("+79161112233", True)]
    card.refresh_from_db()
    assert card.version == 4


def test_contact_create_errors_name_the_contact_field(alice, api_client_for):
    card = make_person(alice)

    response = send(
        api_client_for(alice),
        "post",
        f"{card_url(card)}/contacts",
        {"kind": "email", "value": "x@"},
    )

    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("value", "invalid_email")
    ]
    assert card.contacts.count() == 1


def test_contact_of_another_card_is_not_found(alice, api_client_for):
    card = make_person(alice)
    other = make_person(alice)
    foreign = other.contacts.get()
    api = api_client_for(alice)

    changed = send(api, "patch", f"{card_url(card)}/contacts/{foreign.pk}", {"label": "x"})
    deleted = api.delete(f"{card_url(card)}/contacts/{foreign.pk}")

    assert changed.status_code == 404
    assert deleted.status_code == 404
    assert ContactPoint.objects.filter(pk=foreign.pk, label="").exists()


def test_contact_duplicate_gives_409(alice, api_client_for):
    make_person(alice, contacts=[{"kind": "phone", "value": "+79161234567"}])
    card = make_person(alice)

    refused = send(
        api_client_for(alice),
        "post",
        f"{card_url(card)}/contacts",
        {"kind": "phone", "value": "+79161234567"},
    )

    assert refused.status_code == 409
    assert refused.json()["code"] == "duplicate"
    assert card.contacts.count() == 1


# --- Authorization matrix ---------------------------------------------------------------------

ROLES = ["anonymous", "ada", "mallory", "alice", "bob", "charlie", "rita"]

# The card belongs to alice (responsible) in team North.
EXPECTED = {
    #            listed  get  create update archive restore contact
    "anonymous": (None, 401, 401, 401, 401, 401, 401),
    "ada": (True, 200, 201, 200, 200, 200, 201),
    "mallory": (True, 200, 201, 200, 200, 200, 201),
    "alice": (True, 200, 201, 200, 200, 200, 201),
    "bob": (True, 200, 201, 200, 403, 403, 201),
    "charlie": (False, 404, 201, 404, 404, 404, 404),
    "rita": (True, 200, 403, 403, 403, 403, 403),
}
ACTIONS = ["list", "get", "create", "update", "archive", "restore", "contact_add"]


def _api_for(role: str, users: dict, api_client_for) -> DjangoClient:
    return DjangoClient() if role == "anonymous" else api_client_for(users[role])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
def test_authorization_matrix(role, action, users, api_client_for):
    alice = users["alice"]
    card = make_person(alice, last_name="Матрицын")
    if action == "restore":
        client_archive(actor=alice, client=card)
    api = _api_for(role, users, api_client_for)
    card.refresh_from_db()
    version, changes, cards = card.version, changes_count(), Client.objects.count()
    contacts = card.contacts.count()
    expected = EXPECTED[role][ACTIONS.index(action)]

    if action == "list":
        response = api.get(URL)
    elif action == "get":
        response = api.get(card_url(card))
    elif action == "create":
        response = send(api, "post", URL, {"kind": "person", "last_name": "Новиков"})
    elif action == "update":
        response = send(api, "patch", card_url(card), {"version": version, "notes": "Правка"})
    elif action == "archive":
        response = api.post(f"{card_url(card)}/archive")
    elif action == "restore":
        response = api.post(f"{card_url(card)}/restore")
    else:
        response = send(
            api, "post", f"{card_url(card)}/contacts", {"kind": "email", "value": "m@example.com"}
        )

    if action == "list":
        if expected is None:
            assert response.status_code == 401
        else:
            assert response.status_code == 200
            listed = card.pk in [item["id"] for item in response.json()["items"]]
            assert listed is expected
        return
    assert response.status_code == expected, response.json()
    card.refresh_from_db()
    if expected >= 400:
        assert_error_shape(response.json(), response.json()["code"])
        assert card.version == version
        assert changes_count() == changes
        assert Client.objects.count() == cards
        assert card.contacts.count() == contacts
    elif action == "get":
        assert response.json()["version"] == version
        assert changes_count() == changes
    elif action == "create":
        assert Client.objects.count() == cards + 1
        assert changes_count() == changes + 1
    else:
        assert card.version == version + 1
        assert changes_count() == changes + 1
        assert ObjectChange.objects.order_by("-pk").first().channel == "api"


# --- OpenAPI and docs -------------------------------------------------------------------------


def test_openapi_schema_lists_the_operations():
    response = DjangoClient().get("/api/v1/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Kartoteka API"
    operation_ids = {
        operation["operationId"] for path in schema["paths"].values() for operation in path.values()
    }
    # The card and account operations; the history apps' own tests check theirs.
    assert operation_ids >= {
        "client_list",
        "client_create",
        "client_get",
        "client_update",
        "client_archive",
        "client_restore",
        "client_actualize",
        "contact_list",
        "contact_create",
        "contact_update",
        "contact_delete",
        "me_get",
        "api_token_list",
        "api_token_create",
        "api_token_revoke",
        "client_timeline",
    }
    assert {"TokenAuth", "CsrfSessionAuth"} <= set(schema["components"]["securitySchemes"])


def test_docs_page_loads_nothing_from_other_hosts():
    response = DjangoClient().get("/api/v1/docs")

    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    assert all(source.startswith("/static/") for source in sources), sources
    assert "cdn" not in html.lower()
    assert "http://" not in html
    assert "https://" not in html
    assert '"validatorUrl": null' in html


def test_docs_static_files_are_bundled():
    from django.contrib.staticfiles import finders

    for name in ("ninja/swagger-ui.css", "ninja/swagger-ui-bundle.js", "ninja/swagger-ui-init.js"):
        assert finders.find(name), name


def test_update_through_services_keeps_api_version_semantics(alice, api_client_for):
    """A change made elsewhere (web, CLI) makes the version the API client holds stale."""
    card = make_person(alice)
    client_update(actor=alice, client=card, expected_version=1, data={"notes": "через веб"})

    response = send(api_client_for(alice), "patch", card_url(card), {"version": 1, "notes": "API"})

    assert response.status_code == 409
    card.refresh_from_db()
    assert card.notes == "через веб"


def test_schema_choices_match_the_models():
    from typing import get_args

    from kartoteka.clients import schemas

    assert set(get_args(schemas.ClientKind)) == set(Client.Kind.values)
    assert set(get_args(schemas.ClientStatus)) == set(Client.Status.values)
    assert set(get_args(schemas.FamilyStatus)) == {"", *Client.FamilyStatus.values}
    assert set(get_args(schemas.CompanySize)) == {"", *Client.Size.values}
    assert set(get_args(schemas.ContactKind)) == set(ContactPoint.Kind.values)


def test_openapi_enums_are_the_right_ones():
    schema = DjangoClient().get("/api/v1/openapi.json").json()
    parameters = {p["name"]: p["schema"] for p in schema["paths"][URL]["get"]["parameters"]}
    client_in = schema["components"]["schemas"]["ClientIn"]["properties"]
    contact_in = schema["components"]["schemas"]["ContactIn"]["properties"]

    assert parameters["kind"]["anyOf"][0]["enum"] == ["person", "company"]
    assert parameters["status"]["items"]["enum"] == ["lead", "active", "key", "inactive"]
    assert client_in["kind"]["enum"] == ["person", "company"]
    assert contact_in["kind"]["enum"][:2] == ["phone", "email"]


def test_wrong_method_and_unknown_paths_answer_in_the_error_shape(alice, api_client_for):
    card = make_person(alice)
    api = api_client_for(alice)

    wrong_method = send(api, "put", card_url(card), {"version": 1})
    unknown = api.get("/api/v1/no-such-thing/")
    unknown_post = send(DjangoClient(enforce_csrf_checks=True), "post", "/api/v1/nothing", {})
    root = api.get("/api/v1/")

    assert wrong_method.status_code == 405
    assert_error_shape(wrong_method.json(), "method_not_allowed")
    assert set(wrong_method["Allow"].split(", ")) == {"GET", "PATCH"}
    for response in (unknown, unknown_post, root):
        assert response.status_code == 404
        assert_error_shape(response.json(), "not_found")
    card.refresh_from_db()
    assert card.version == 1


def test_missing_trailing_slash_redirects_keeping_the_method(alice, api_client_for):
    api = api_client_for(alice)

    response = send(api, "post", "/api/v1/clients?allow_duplicates=true", {"kind": "person"})

    assert response.status_code == 308
    assert response["Location"] == "/api/v1/clients/?allow_duplicates=true"
    assert Client.objects.count() == 0
