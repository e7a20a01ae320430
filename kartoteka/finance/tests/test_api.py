"""The REST API of the finance app: invoices, payments, balance. Money as strings, the one
error shape, the authorization matrix and query counts."""

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client as DjangoClient
from django.test.utils import CaptureQueriesContext

from kartoteka.clients.tests.factories import make_person
from kartoteka.core.models import ObjectChange
from kartoteka.finance import services
from kartoteka.finance.models import Invoice, Payment
from kartoteka.finance.tests.factories import make_invoice, make_payment
from kartoteka.sales.tests.factories import make_order

pytestmark = pytest.mark.django_db

API = "/api/v1"
D = Decimal
FAR = datetime.date(2099, 1, 1)


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


def test_invoice_create_get_patch_cancel(alice, card, api_client_for):
    order = make_order(alice, card)
    api = api_client_for(alice)

    created = send(
        api,
        "post",
        f"/clients/{card.pk}/invoices",
        {
            "number": "2024-17",
            "issued_on": "2024-03-01",
            "due_on": "2099-01-01",
            "amount": "123.45",
            "currency": "CNY",
            "exchange_rate": "12.345678",
            "order": order.pk,
        },
    )
    invoice_id = created.json()["id"]
    patched = send(api, "patch", f"/invoices/{invoice_id}", {"amount": 200, "notes": "исправлено"})
    cancelled = send(api, "post", f"/invoices/{invoice_id}/cancel")

    assert created.status_code == 201, created.content
    assert {k: created.json()[k] for k in ("number", "amount", "amount_base", "paid", "rest")} == {
        "number": "2024-17",
        "amount": "123.45",
        "amount_base": "1524.07",
        "paid": "0.00",
        "rest": "123.45",
    }
    assert (created.json()["state"], created.json()["order"]) == ("open", order.pk)
    assert (patched.json()["amount"], patched.json()["amount_base"]) == ("200.00", "2469.14")
    assert (cancelled.json()["state"], cancelled.json()["status"]) == ("cancelled", "cancelled")


def test_invoice_defaults_and_errors(alice, card, api_client_for):
    api = api_client_for(alice)

    created = send(
        api, "post", f"/clients/{card.pk}/invoices", {"due_on": "2099-01-01", "amount": 10}
    )
    refused = send(
        api,
        "post",
        f"/clients/{card.pk}/invoices",
        {
            "issued_on": "2024-03-10",
            "due_on": "2024-03-01",
            "amount": "0",
            "currency": "USD",
            "order": 999999,
        },
    )

    assert (created.json()["number"], created.json()["currency"]) == ("1", "RUB")
    body = assert_error(refused, 422, "invalid")
    assert field_codes(body) == {"order": "invalid_choice"}
    refused = send(
        api,
        "post",
        f"/clients/{card.pk}/invoices",
        {"issued_on": "2024-03-10", "due_on": "2024-03-01", "amount": "0", "currency": "USD"},
    )
    assert field_codes(assert_error(refused, 422, "invalid")) == {
        "exchange_rate": "rate_required",
        "amount": "amount_positive",
        "due_on": "due_before_issue",
    }
    assert Invoice.objects.count() == 1


def test_partial_payments_through_the_api(alice, card, api_client_for):
    invoice = make_invoice(alice, card, "1000.00", due_on=FAR)
    api = api_client_for(alice)
    url = f"/clients/{card.pk}/payments"

    first = send(api, "post", url, {"amount": "300", "invoice": invoice.pk, "method": "cash"})
    too_much = send(api, "post", url, {"amount": "700.01", "invoice": invoice.pk})
    rest = send(api, "post", url, {"amount": "700.00", "invoice": invoice.pk})
    state = api.get(f"{API}/invoices/{invoice.pk}").json()

    assert first.status_code == 201
    assert first.json() | {"id": 0, "created_at": ""} == {
        "id": 0,
        "client": card.pk,
        "invoice": invoice.pk,
        "paid_on": first.json()["paid_on"],
        "amount": "300.00",
        "currency": "RUB",
        "exchange_rate": "1.000000",
        "amount_base": "300.00",
        "method": "cash",
        "notes": "",
        "created_at": "",
    }
    body = assert_error(too_much, 422, "invalid")
    assert body["errors"] == [
        {
            "field": "amount",
            "message": "The payment exceeds the invoice's unpaid rest of 700.00 RUB.",
            "code": "exceeds_rest",
        }
    ]
    assert rest.status_code == 201
    assert (state["paid"], state["rest"], state["state"]) == ("1000.00", "0.00", "paid")


def test_payment_in_another_currency(alice, card, api_client_for):
    invoice = make_invoice(alice, card, "100.00", currency="USD", exchange_rate=D("90"))

    response = send(
        api_client_for(alice),
        "post",
        f"/clients/{card.pk}/payments",
        {"amount": "45", "currency": "EUR", "exchange_rate": "100", "invoice": invoice.pk},
    )

    assert (response.json()["amount"], response.json()["amount_base"]) == ("45.00", "4500.00")
    state = api_client_for(alice).get(f"{API}/invoices/{invoice.pk}").json()
    assert (state["paid"], state["rest"]) == ("50.00", "50.00")


def test_balance_endpoint(alice, card, api_client_for, time_machine):
    time_machine.move_to(datetime.datetime(2024, 4, 1, 9, 0, tzinfo=datetime.UTC))
    card.credit_limit = D("3000.00")
    card.save()
    overdue = make_invoice(alice, card, "1000.10", number="OD", due_on=datetime.date(2024, 3, 10))
    make_payment(alice, card, "333.33", overdue)
    make_invoice(alice, card, "500.00", number="F", due_on=FAR)
    make_payment(alice, card, "0.05")

    body = api_client_for(alice).get(f"{API}/clients/{card.pk}/balance").json()

    assert {k: v for k, v in body.items() if k != "invoices"} == {
        "currency": "RUB",
        "invoiced_base": "1500.10",
        "paid_base": "333.38",
        "balance_base": "1166.72",
        "overdue_base": "666.77",
        "credit_limit": "3000.00",
        "credit_left": "1833.28",
    }
    assert [(i["number"], i["paid"], i["rest"], i["state"]) for i in body["invoices"]] == [
        ("F", "0.00", "500.00", "open"),
        ("OD", "333.33", "666.77", "overdue"),
    ]


def test_payment_list_and_delete(alice, card, api_client_for):
    invoice = make_invoice(alice, card, "100.00")
    payment = make_payment(alice, card, "10.00", invoice)
    api = api_client_for(alice)

    listed = api.get(f"{API}/clients/{card.pk}/payments")
    deleted = api.delete(f"{API}/payments/{payment.pk}")

    assert [p["id"] for p in listed.json()] == [payment.pk]
    assert deleted.status_code == 204
    assert Payment.objects.count() == 0


# --- Authorization matrix ------------------------------------------------------------------------

ROLES = ["ada", "mallory", "alice", "bob", "charlie", "rita", "anonymous"]
ACTIONS = [
    "invoice_list",
    "invoice_create",
    "invoice_update",
    "invoice_cancel",
    "payment_list",
    "payment_create",
    "payment_delete",
    "balance",
]
EXPECTED = {
    "ada": [200, 201, 200, 200, 200, 201, 204, 200],
    "mallory": [200, 201, 200, 200, 200, 201, 204, 200],
    "alice": [200, 201, 200, 200, 200, 201, 204, 200],
    "bob": [200, 201, 200, 200, 200, 201, 204, 200],
    "charlie": [404] * 8,
    "rita": [200, 403, 403, 403, 200, 403, 403, 200],
    "anonymous": [401] * 8,
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
def test_authorization_matrix(role, action, users, api_client_for):
    card = make_person(users["alice"], last_name="Матрицына")
    invoice = make_invoice(users["alice"], card, "100.00", due_on=FAR)
    payment = make_payment(users["alice"], card, "10.00", invoice)
    api = api_client_for(users[role]) if role != "anonymous" else DjangoClient()
    expected = EXPECTED[role][ACTIONS.index(action)]
    before = (Invoice.objects.count(), Payment.objects.count(), ObjectChange.objects.count())

    if action == "invoice_list":
        response = api.get(f"{API}/clients/{card.pk}/invoices")
    elif action == "invoice_create":
        response = send(
            api, "post", f"/clients/{card.pk}/invoices", {"due_on": "2099-01-01", "amount": "5"}
        )
    elif action == "invoice_update":
        response = send(api, "patch", f"/invoices/{invoice.pk}", {"amount": "50"})
    elif action == "invoice_cancel":
        response = send(api, "post", f"/invoices/{invoice.pk}/cancel")
    elif action == "payment_list":
        response = api.get(f"{API}/clients/{card.pk}/payments")
    elif action == "payment_create":
        response = send(
            api, "post", f"/clients/{card.pk}/payments", {"amount": "5", "invoice": invoice.pk}
        )
    elif action == "payment_delete":
        response = api.delete(f"{API}/payments/{payment.pk}")
    else:
        response = api.get(f"{API}/clients/{card.pk}/balance")

    assert response.status_code == expected, response.content
    if expected >= 400:
        after = (Invoice.objects.count(), Payment.objects.count(), ObjectChange.objects.count())
        assert after == before
        invoice.refresh_from_db()
        assert (invoice.amount, invoice.status) == (D("100.00"), "issued")


# --- Query counts and OpenAPI -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["invoices", "payments", "balance"])
def test_list_endpoints_take_the_same_queries_for_2_and_10_rows(alice, kind, api_client_for):
    small = make_person(alice, last_name="Малый")
    large = make_person(alice, last_name="Большой")
    for card, count in ((small, 2), (large, 10)):
        for _ in range(count):
            invoice = make_invoice(alice, card, "100.00")
            make_payment(alice, card, "10.00", invoice)
            make_payment(alice, card, "1.00", invoice, currency="USD", exchange_rate=D("90"))
    api = api_client_for(alice)
    api.get(f"{API}/clients/{small.pk}/{kind}")

    with CaptureQueriesContext(connection) as few:
        api.get(f"{API}/clients/{small.pk}/{kind}")
    with CaptureQueriesContext(connection) as many:
        response = api.get(f"{API}/clients/{large.pk}/{kind}")

    assert response.status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


def test_operations_are_in_openapi(client):
    schema = client.get(API + "/openapi.json").json()

    operation_ids = {
        operation["operationId"] for path in schema["paths"].values() for operation in path.values()
    }
    assert {
        "invoice_list",
        "invoice_create",
        "invoice_get",
        "invoice_update",
        "invoice_cancel",
        "payment_list",
        "payment_create",
        "payment_get",
        "payment_delete",
        "client_balance",
    } <= operation_ids


def test_cancelled_invoice_takes_no_payment(alice, card, api_client_for):
    invoice = make_invoice(alice, card, "100.00")
    services.invoice_cancel(actor=alice, invoice=invoice)

    response = send(
        api_client_for(alice),
        "post",
        f"/clients/{card.pk}/payments",
        {"amount": "5", "invoice": invoice.pk},
    )

    assert field_codes(assert_error(response, 422, "invalid")) == {"invoice": "invoice_cancelled"}
