"""The REST API of the sales app: catalogue, orders, services rendered. Status codes, money
as strings, the one error shape, 409s, multipart photos, the authorization matrix and query
counts."""

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client as DjangoClient
from django.test.utils import CaptureQueriesContext

from kartoteka.clients.tests.factories import make_person
from kartoteka.core.models import ObjectChange
from kartoteka.documents.models import Document
from kartoteka.finance.tests.factories import make_invoice
from kartoteka.sales import services
from kartoteka.sales.models import Order, Product, ServiceRecord
from kartoteka.sales.tests.factories import jpeg, line, make_order, make_product, pdf

pytestmark = pytest.mark.django_db

API = "/api/v1"
D = Decimal


@pytest.fixture
def card(alice):
    return make_person(alice, last_name="Смирнова", first_name="Анна")


def send(client: DjangoClient, method: str, url: str, data: Any = None):
    return getattr(client, method)(API + url, data, content_type="application/json")


def assert_error(response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert {"detail", "code", "errors"} <= set(body)
    assert body["code"] == code
    return body


def field_codes(body: dict[str, Any]) -> dict[str, str]:
    return {error["field"]: error["code"] for error in body["errors"]}


# --- Catalogue ---------------------------------------------------------------------------------


def test_products_list_for_everyone_signed_in(ada, rita, api_client_for, client):
    make_product(ada, name="Стрижка", price=D("1500"), vat_rate=D("20"))
    retired = make_product(ada, name="Старая")
    services.product_deactivate(actor=ada, product=retired)

    response = api_client_for(rita).get(API + "/products")
    everything = api_client_for(rita).get(API + "/products?include_inactive=true")

    assert response.status_code == 200
    assert response.json() == [
        {
            "id": response.json()[0]["id"],
            "name": "Стрижка",
            "kind": "service",
            "price": "1500.00",
            "currency": "RUB",
            "unit": "шт",
            "vat_rate": "20.00",
            "is_active": True,
        }
    ]
    assert [p["name"] for p in everything.json()] == ["Старая", "Стрижка"]
    assert client.get(API + "/products").status_code == 401


def test_manager_creates_and_updates_products(mallory, api_client_for):
    api = api_client_for(mallory)

    created = send(
        api, "post", "/products", {"name": "Маникюр", "kind": "service", "price": "900.5"}
    )
    product_id = created.json()["id"]
    updated = send(api, "patch", f"/products/{product_id}", {"price": 950, "is_active": False})

    assert created.status_code == 201
    assert (created.json()["price"], created.json()["currency"]) == ("900.50", "RUB")
    assert updated.status_code == 200
    assert (updated.json()["price"], updated.json()["is_active"]) == ("950.00", False)


@pytest.mark.parametrize("role", ["alice", "bob", "charlie", "rita"])
def test_only_administrators_and_managers_change_the_catalogue(users, role, api_client_for):
    product = make_product(users["ada"])
    api = api_client_for(users[role])

    created = send(api, "post", "/products", {"name": "X", "price": "1"})
    updated = send(api, "patch", f"/products/{product.pk}", {"price": "1"})

    assert_error(created, 403, "permission_denied")
    assert_error(updated, 403, "permission_denied")
    product.refresh_from_db()
    assert (Product.objects.count(), product.price) == (1, D("1500.00"))


def test_product_validation_errors(ada, api_client_for):
    response = send(api_client_for(ada), "post", "/products", {"name": "", "price": "-1"})

    body = assert_error(response, 422, "invalid")
    assert set(field_codes(body)) == {"name", "price"}


# --- Orders ------------------------------------------------------------------------------------


def test_create_order_with_exact_amounts_as_strings(alice, mallory, card, api_client_for):
    product = make_product(mallory, name="Окрашивание", price=D("3200.00"))

    response = send(
        api_client_for(alice),
        "post",
        f"/clients/{card.pk}/orders",
        {
            "ordered_on": "2024-03-01",
            "payment_method": "card",
            "lines": [
                {"name": "Краска", "quantity": "33.335", "unit_price": "3", "vat_rate": 20},
                {
                    "name": "Уход",
                    "quantity": 3,
                    "unit_price": "99.99",
                    "discount_percent": "12.5",
                    "vat_rate": "20",
                },
                {"product": product.pk, "quantity": "1"},
            ],
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    order = Order.objects.get()
    assert body["id"] == order.pk
    assert body["number"] == order.number
    assert (body["subtotal"], body["vat_total"], body["total"], body["total_base"]) == (
        "3562.48",
        "712.49",
        "4274.97",
        "4274.97",
    )
    assert (body["currency"], body["exchange_rate"], body["status"]) == ("RUB", "1.000000", "new")
    assert body["responsible"] == {"id": alice.pk, "name": "Alice"}
    assert body["line_count"] == 3
    assert [
        (x["name"], x["quantity"], x["unit_price"], x["net"], x["vat"], x["total"])
        for x in body["lines"]
    ] == [
        ("Краска", "33.335", "3.00", "100.01", "20.00", "120.01"),
        ("Уход", "3.000", "99.99", "262.47", "52.49", "314.96"),
        ("Окрашивание", "1.000", "3200.00", "3200.00", "640.00", "3840.00"),
    ]
    assert body["lines"][2]["product"] == product.pk


def test_order_in_cny(alice, card, api_client_for):
    response = send(
        api_client_for(alice),
        "post",
        f"/clients/{card.pk}/orders",
        {
            "currency": "CNY",
            "exchange_rate": "12.345678",
            "lines": [{"name": "Чай", "quantity": "3", "unit_price": "41.15"}],
        },
    )

    assert (response.json()["total"], response.json()["total_base"]) == ("123.45", "1524.07")
    assert response.json()["exchange_rate"] == "12.345678"


def test_order_errors_name_the_line_and_field(alice, card, api_client_for):
    response = send(
        api_client_for(alice),
        "post",
        f"/clients/{card.pk}/orders",
        {
            "currency": "RUB",
            "exchange_rate": "2",
            "lines": [
                {"name": "A", "quantity": "1", "unit_price": "1"},
                {"name": "B", "quantity": "1", "unit_price": "33.335"},
                {"product": 999999, "quantity": "1"},
            ],
        },
    )

    body = assert_error(response, 422, "invalid")
    assert field_codes(body) == {"lines.2.product": "invalid_choice"}

    response = send(
        api_client_for(alice),
        "post",
        f"/clients/{card.pk}/orders",
        {
            "currency": "RUB",
            "exchange_rate": "2",
            "lines": [
                {"name": "A", "quantity": "1", "unit_price": "1"},
                {"name": "B", "quantity": "1", "unit_price": "33.335"},
            ],
        },
    )

    body = assert_error(response, 422, "invalid")
    assert field_codes(body) == {
        "exchange_rate": "rate_must_be_one",
        "lines.1.unit_price": "max_decimal_places",
    }
    assert Order.objects.count() == 0


def test_order_without_lines_is_422(alice, card, api_client_for):
    response = send(api_client_for(alice), "post", f"/clients/{card.pk}/orders", {"lines": []})

    body = assert_error(response, 422, "invalid")
    assert field_codes(body) == {"lines": "no_lines"}


def test_credit_limit_is_a_409_until_allowed(alice, card, api_client_for):
    card.credit_limit = D("500.00")
    card.save()
    make_invoice(alice, card, "400.00", due_on=datetime.date(2099, 1, 1))
    api = api_client_for(alice)
    payload = {"lines": [{"name": "A", "quantity": "1", "unit_price": "100.01"}]}

    refused = send(api, "post", f"/clients/{card.pk}/orders", payload)
    allowed = send(api, "post", f"/clients/{card.pk}/orders", {**payload, "allow_over_limit": True})

    body = assert_error(refused, 409, "credit_limit")
    assert (body["balance"], body["limit"], body["would_be"]) == ("400.00", "500.00", "500.01")
    assert allowed.status_code == 201
    assert Order.objects.count() == 1


def test_patch_order_replaces_lines_and_checks_version(alice, bob, card, api_client_for):
    order = make_order(alice, card, lines=[line("A"), line("B")])
    url = f"/orders/{order.pk}"

    updated = send(
        api_client_for(bob),
        "patch",
        url,
        {"version": 1, "notes": "Боб", "lines": [{"name": "C", "quantity": 2, "unit_price": 5}]},
    )
    stale = send(api_client_for(alice), "patch", url, {"version": 1, "notes": "Алиса"})

    assert updated.status_code == 200
    assert ([x["name"] for x in updated.json()["lines"]], updated.json()["total"]) == (
        ["C"],
        "10.00",
    )
    assert updated.json()["version"] == 2
    body = assert_error(stale, 409, "version_conflict")
    assert body["current"]["notes"] == "Боб"
    assert body["current"]["version"] == 2
    order.refresh_from_db()
    assert (order.notes, order.version) == ("Боб", 2)


def test_patch_without_lines_keeps_them(alice, card, api_client_for):
    order = make_order(alice, card, lines=[line("A", "2", "10.00")])

    response = send(
        api_client_for(alice), "patch", f"/orders/{order.pk}", {"version": 1, "status": "completed"}
    )

    assert response.status_code == 200
    assert ([x["name"] for x in response.json()["lines"]], response.json()["status"]) == (
        ["A"],
        "completed",
    )


def test_order_status_endpoint(alice, card, api_client_for):
    order = make_order(alice, card)
    api = api_client_for(alice)

    moved = send(api, "post", f"/orders/{order.pk}/status", {"status": "cancelled"})
    wrong = send(api, "post", f"/orders/{order.pk}/status", {"status": "lost"})

    assert (moved.status_code, moved.json()["status"], moved.json()["version"]) == (
        200,
        "cancelled",
        2,
    )
    assert field_codes(assert_error(wrong, 422, "invalid")) == {"status": "invalid_choice"}


def test_order_list_and_get(alice, card, api_client_for):
    first = make_order(alice, card, ordered_on=datetime.date(2024, 1, 1))
    second = make_order(
        alice, card, lines=[line("A"), line("B")], ordered_on=datetime.date(2024, 2, 1)
    )
    api = api_client_for(alice)

    listed = api.get(f"{API}/clients/{card.pk}/orders")
    one = api.get(f"{API}/orders/{first.pk}")

    assert [(o["number"], o["line_count"]) for o in listed.json()] == [
        (second.number, 2),
        (first.number, 1),
    ]
    assert "lines" not in listed.json()[0]
    assert one.json()["lines"][0]["total"] == "100.00"


# --- Services rendered -------------------------------------------------------------------------


def test_record_service_with_photos_multipart(alice, mallory, card, api_client_for):
    haircut = make_product(mallory, name="Стрижка")
    order = make_order(alice, card)

    response = api_client_for(alice).post(
        f"{API}/clients/{card.pk}/services",
        {
            "product": haircut.pk,
            "performed_at": "2024-03-02T12:30:00+03:00",
            "order": order.pk,
            "rating": 5,
            "feedback": "Очень довольна",
            "before_photo": jpeg("before.jpg"),
            "after_photo": jpeg("after.jpg"),
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    record = ServiceRecord.objects.get()
    assert (body["id"], body["name"], body["rating"], body["order"]) == (
        record.pk,
        "Стрижка",
        5,
        order.pk,
    )
    assert body["performer"] == {"id": alice.pk, "name": "Alice"}
    assert body["before_photo"] == {
        "id": record.before_photo_id,
        "url": f"/documents/{record.before_photo_id}/download/",
        "thumbnail_url": f"/documents/{record.before_photo_id}/thumbnail/",
    }
    assert body["after_photo"]["id"] == record.after_photo_id


def test_pdf_photo_is_422_on_its_field(alice, card, api_client_for):
    response = api_client_for(alice).post(
        f"{API}/clients/{card.pk}/services", {"name": "Маникюр", "before_photo": pdf()}
    )

    body = assert_error(response, 422, "invalid")
    assert field_codes(body) == {"before_photo": "not_an_image"}
    assert "must be an image" in body["errors"][0]["message"]
    assert (ServiceRecord.objects.count(), Document.objects.count()) == (0, 0)


def test_service_patch_photos_and_delete(alice, card, api_client_for):
    record = services.service_record_create(
        actor=alice, client=card, data={"name": "Стрижка"}, before_photo=jpeg()
    )
    api = api_client_for(alice)

    patched = send(
        api,
        "patch",
        f"/services/{record.pk}",
        {"version": 1, "rating": 4, "remove_photos": ["before_photo"]},
    )
    photos = api.post(f"{API}/services/{record.pk}/photos", {"after_photo": jpeg("a.png")})
    photos_ok = api.post(f"{API}/services/{record.pk}/photos", {"after_photo": jpeg("a.jpg")})
    stale = send(api, "patch", f"/services/{record.pk}", {"version": 1, "rating": 1})
    deleted = api.delete(f"{API}/services/{record.pk}")

    assert patched.status_code == 200
    assert (patched.json()["rating"], patched.json()["before_photo"]) == (4, None)
    assert field_codes(assert_error(photos, 422, "invalid")) == {
        "after_photo": "file_type_mismatch"
    }
    assert photos_ok.json()["after_photo"] is not None
    assert_error(stale, 409, "version_conflict")
    assert deleted.status_code == 204
    assert ServiceRecord.objects.count() == 0


def test_service_references_must_exist(alice, card, api_client_for):
    other_order = make_order(alice, make_person(alice, last_name="Другой"))

    response = api_client_for(alice).post(
        f"{API}/clients/{card.pk}/services",
        {"name": "X", "product": 999999, "order": other_order.pk, "performer": 999999},
    )

    body = assert_error(response, 422, "invalid")
    assert field_codes(body) == {
        "product": "invalid_choice",
        "order": "invalid_choice",
        "performer": "invalid_choice",
    }


# --- Authorization matrix ------------------------------------------------------------------------

ROLES = ["ada", "mallory", "alice", "bob", "charlie", "rita", "anonymous"]
ACTIONS = [
    "order_list",
    "order_create",
    "order_get",
    "order_update",
    "order_status",
    "service_list",
    "service_create",
    "service_delete",
]
EXPECTED = {
    "ada": [200, 201, 200, 200, 200, 200, 201, 204],
    "mallory": [200, 201, 200, 200, 200, 200, 201, 204],
    "alice": [200, 201, 200, 200, 200, 200, 201, 204],
    "bob": [200, 201, 200, 200, 200, 200, 201, 204],
    "charlie": [404] * 8,
    "rita": [200, 403, 200, 403, 403, 200, 403, 403],
    "anonymous": [401] * 8,
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
def test_authorization_matrix(role, action, users, api_client_for):
    card = make_person(users["alice"], last_name="Матрицына")
    order = make_order(users["alice"], card, lines=[line("Исходная")])
    record = services.service_record_create(
        actor=users["alice"], client=card, data={"name": "Исходная"}
    )
    api = api_client_for(users[role]) if role != "anonymous" else DjangoClient()
    expected = EXPECTED[role][ACTIONS.index(action)]
    before = (
        Order.objects.count(),
        ServiceRecord.objects.count(),
        Document.objects.count(),
        ObjectChange.objects.count(),
    )

    if action == "order_list":
        response = api.get(f"{API}/clients/{card.pk}/orders")
    elif action == "order_create":
        response = send(
            api,
            "post",
            f"/clients/{card.pk}/orders",
            {"lines": [{"name": "Новая", "quantity": 1, "unit_price": 1}]},
        )
    elif action == "order_get":
        response = api.get(f"{API}/orders/{order.pk}")
    elif action == "order_update":
        response = send(api, "patch", f"/orders/{order.pk}", {"version": 1, "notes": "x"})
    elif action == "order_status":
        response = send(api, "post", f"/orders/{order.pk}/status", {"status": "completed"})
    elif action == "service_list":
        response = api.get(f"{API}/clients/{card.pk}/services")
    elif action == "service_create":
        response = api.post(
            f"{API}/clients/{card.pk}/services", {"name": "Новая", "before_photo": jpeg()}
        )
    else:
        response = api.delete(f"{API}/services/{record.pk}")

    assert response.status_code == expected, response.content
    if expected >= 400:
        after = (
            Order.objects.count(),
            ServiceRecord.objects.count(),
            Document.objects.count(),
            ObjectChange.objects.count(),
        )
        assert after == before
        order.refresh_from_db()
        assert (order.status, order.notes, order.version) == ("new", "", 1)


# --- Query counts and OpenAPI -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["orders", "services", "products"])
def test_list_endpoints_take_the_same_queries_for_2_and_10_rows(
    alice, mallory, kind, api_client_for
):
    small = make_person(alice, last_name="Малый")
    large = make_person(alice, last_name="Большой")
    for card, count in ((small, 2), (large, 10)):
        for index in range(count):
            make_order(alice, card, lines=[line("A"), line("B")])
            services.service_record_create(
                actor=alice, client=card, data={"name": f"S{index}"}, before_photo=jpeg()
            )
    api = api_client_for(alice)
    urls = {
        "orders": (f"{API}/clients/{small.pk}/orders", f"{API}/clients/{large.pk}/orders"),
        "services": (f"{API}/clients/{small.pk}/services", f"{API}/clients/{large.pk}/services"),
        "products": (f"{API}/products", f"{API}/products"),
    }[kind]
    for index in range(2):
        make_product(mallory, name=f"P{index}")
    api.get(urls[0])

    with CaptureQueriesContext(connection) as few:
        assert api.get(urls[0]).status_code == 200
    if kind == "products":
        for index in range(2, 10):
            make_product(mallory, name=f"P{index}")
    with CaptureQueriesContext(connection) as many:
        response = api.get(urls[1])

    assert len(response.json()) == 10
    assert len(many.captured_queries) == len(few.captured_queries)


def test_operations_are_in_openapi(client):
    schema = client.get(API + "/openapi.json").json()

    operation_ids = {
        operation["operationId"] for path in schema["paths"].values() for operation in path.values()
    }
    assert {
        "product_list",
        "product_create",
        "product_update",
        "order_list",
        "order_create",
        "order_get",
        "order_update",
        "order_set_status",
        "service_record_list",
        "service_record_create",
        "service_record_update",
        "service_record_delete",
        "service_record_photos",
    } <= operation_ids
    create = schema["paths"]["/api/v1/clients/{client_id}/services"]["post"]
    assert "multipart/form-data" in create["requestBody"]["content"]
