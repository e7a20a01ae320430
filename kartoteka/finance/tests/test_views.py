"""The money section of the card page: balance, overdue highlighting, invoice states, forms
for invoices and payments, the authorization matrix and query counts."""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client as DjangoClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kartoteka.clients.tests.factories import make_person
from kartoteka.core.models import ObjectChange
from kartoteka.finance import services
from kartoteka.finance.models import Invoice, Payment
from kartoteka.finance.tests.factories import make_invoice, make_payment

pytestmark = pytest.mark.django_db

D = Decimal
HTMX = {"HX-Request": "true"}
FAR = datetime.date(2099, 1, 1)


@pytest.fixture
def card(alice):
    return make_person(alice, last_name="Смирнова", first_name="Анна")


def money_url(card) -> str:
    return reverse("finance:client-money", args=[card.pk])


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def row(body: str, attribute: str) -> str:
    return body.split(attribute)[1].split("</tr>")[0]


def test_money_section_shows_balance_states_and_overdue(alice, card, web_client_for, time_machine):
    time_machine.move_to(datetime.datetime(2024, 4, 1, 9, 0, tzinfo=datetime.UTC))
    card.credit_limit = D("5000.00")
    card.save()
    paid = make_invoice(alice, card, "1000.00", number="P-1")
    make_payment(alice, card, "1000.00", paid)
    partly = make_invoice(alice, card, "2000.00", number="PP-1", due_on=FAR)
    make_payment(alice, card, "500.00", partly, method="cash")
    make_invoice(alice, card, "1234.56", number="OD-1", due_on=datetime.date(2024, 3, 31))
    make_invoice(alice, card, "10.00", number="O-1", due_on=FAR)
    cancelled = make_invoice(alice, card, "99.00", number="C-1")
    services.invoice_cancel(actor=alice, invoice=cancelled)

    response = web_client_for(alice).get(money_url(card), headers=HTMX)

    body = text(response)
    assert response.status_code == 200
    assert body.strip().startswith('<section class="panel" id="section-money">')
    assert 'data-state="paid"' in row(body, 'data-invoice="P-1"')
    assert 'data-state="partially_paid"' in row(body, 'data-invoice="PP-1"')
    assert "1,500.00 RUB" in row(body, 'data-invoice="PP-1"')
    assert 'data-state="overdue"' in row(body, 'data-invoice="OD-1"')
    assert 'data-state="open"' in row(body, 'data-invoice="O-1"')
    assert 'data-state="cancelled"' in row(body, 'data-invoice="C-1"')
    # Balance: 1000 + 2000 + 1234.56 + 10 invoiced, 1500 paid.
    assert '<strong>2,744.56 RUB</strong> <span class="muted">the client owes' in body
    overdue = body.split("data-overdue>")[1].split("</div>")[0]
    assert "alert-error" in body.split("data-overdue>")[0][-80:]
    assert "Overdue debt: 1,234.56 RUB" in overdue
    assert "1 invoice is past its due date." in overdue
    assert "2,255.44 RUB left" in body
    # Register a payment where one can be taken, prefilled with the rest.
    assert "Register a payment" in row(body, 'data-invoice="PP-1"')
    assert 'name="amount" value="1500.00"' in row(body, 'data-invoice="PP-1"')
    assert "Register a payment" not in row(body, 'data-invoice="P-1"')
    assert "Register a payment" not in row(body, 'data-invoice="C-1"')


def test_no_overdue_block_without_overdue_debt(alice, card, web_client_for):
    make_invoice(alice, card, "100.00", due_on=FAR)

    body = text(web_client_for(alice).get(money_url(card), headers=HTMX))

    assert "data-overdue" not in body


def test_money_section_of_invisible_card_is_404(charlie, card, web_client_for):
    assert web_client_for(charlie).get(money_url(card), headers=HTMX).status_code == 404


def test_issue_invoice_by_htmx(alice, card, web_client_for):
    data = {
        "number": "",
        "issued_on": "2024-03-01",
        "due_on": "2024-03-31",
        "amount": "1500.50",
        "currency": "USD",
        "exchange_rate": "90.5",
        "order": "",
        "notes": "",
    }

    response = web_client_for(alice).post(
        reverse("finance:invoice-create", args=[card.pk]), data, headers=HTMX
    )

    assert response.status_code == 200
    assert response["HX-Trigger"] == "card-changed"
    invoice = Invoice.objects.get()
    assert (invoice.number, invoice.amount, invoice.amount_base) == (
        "1",
        D("1500.50"),
        D("135795.25"),
    )
    assert 'data-invoice="1"' in text(response)


def test_invoice_errors_in_place(alice, card, web_client_for):
    data = {"issued_on": "2024-03-10", "due_on": "2024-03-01", "amount": "0", "currency": "RUB"}

    response = web_client_for(alice).post(
        reverse("finance:invoice-create", args=[card.pk]), data, headers=HTMX
    )

    body = text(response)
    assert "HX-Trigger" not in response
    assert Invoice.objects.count() == 0
    assert "The due date cannot be before the invoice date." in body
    assert "The amount must be greater than zero." in body


def test_register_payment_inline_and_refuse_more_than_the_rest(alice, card, web_client_for):
    invoice = make_invoice(alice, card, "1000.00", number="A-1", due_on=FAR)
    web = web_client_for(alice)
    url = reverse("finance:payment-create", args=[card.pk])
    data = {
        "invoice": invoice.pk,
        "inline_invoice": invoice.pk,
        "paid_on": "2024-03-05",
        "amount": "300.00",
        "currency": "RUB",
        "method": "cash",
    }

    first = web.post(url, data, headers=HTMX)
    refused = web.post(url, {**data, "amount": "700.01"}, headers=HTMX)

    assert first["HX-Trigger"] == "card-changed"
    assert 'data-state="partially_paid"' in text(first)
    body = text(refused)
    assert "HX-Trigger" not in refused
    assert "The payment exceeds the invoice&#x27;s unpaid rest of 700.00 RUB." in body
    assert '<details class="inline-payment" open>' in body
    assert Payment.objects.get().amount == D("300.00")


def test_advance_payment_from_the_form(alice, card, web_client_for):
    data = {"paid_on": "2024-03-05", "amount": "50", "currency": "RUB", "method": "bank"}

    response = web_client_for(alice).post(reverse("finance:payment-create", args=[card.pk]), data)

    assert response.status_code == 302
    assert response["Location"] == card.get_absolute_url()
    assert Payment.objects.get().invoice is None


def test_edit_and_cancel_invoice_delete_payment(alice, card, web_client_for):
    invoice = make_invoice(alice, card, "100.00", number="E-1", due_on=FAR)
    payment = make_payment(alice, card, "10.00", invoice)
    web = web_client_for(alice)
    edit_url = reverse("finance:invoice-edit", args=[invoice.pk])

    form = text(web.get(edit_url, headers=HTMX))
    saved = web.post(
        edit_url,
        {
            "number": "E-1",
            "issued_on": "2024-03-01",
            "due_on": "2099-01-01",
            "amount": "120",
            "currency": "RUB",
        },
        headers=HTMX,
    )
    deleted = web.post(reverse("finance:payment-delete", args=[payment.pk]), headers=HTMX)
    cancelled = web.post(reverse("finance:invoice-cancel", args=[invoice.pk]), headers=HTMX)

    assert 'value="100.00"' in form
    assert [r["HX-Trigger"] for r in (saved, deleted, cancelled)] == ["card-changed"] * 3
    invoice.refresh_from_db()
    assert (invoice.amount, invoice.status) == (D("120.00"), "cancelled")
    assert Payment.objects.count() == 0


# --- Authorization matrix ------------------------------------------------------------------------

ROLES = ["ada", "mallory", "alice", "bob", "charlie", "rita", "anonymous"]
ACTIONS = [
    "money",
    "invoice_create",
    "invoice_edit",
    "invoice_cancel",
    "payment_create",
    "payment_delete",
]
EXPECTED = {
    "ada": ["ok"] * 6,
    "mallory": ["ok"] * 6,
    "alice": ["ok"] * 6,
    "bob": ["ok"] * 6,
    "charlie": [404] * 6,
    "rita": ["ok", 403, 403, 403, 403, 403],
    "anonymous": ["login"] * 6,
}


@pytest.fixture
def matrix(users):
    card = make_person(users["alice"], last_name="Матрицына")
    invoice = make_invoice(users["alice"], card, "100.00", number="M-1", due_on=FAR)
    payment = make_payment(users["alice"], card, "10.00", invoice)
    return card, invoice, payment


def _request(web: DjangoClient, action: str, card, invoice, payment):
    if action == "money":
        return web.get(money_url(card), headers=HTMX)
    if action == "invoice_create":
        data = {"issued_on": "2024-03-01", "due_on": "2024-03-31", "amount": "5", "currency": "RUB"}
        return web.post(reverse("finance:invoice-create", args=[card.pk]), data, headers=HTMX)
    if action == "invoice_edit":
        data = {
            "issued_on": "2024-03-01",
            "due_on": "2099-01-01",
            "amount": "55",
            "currency": "RUB",
        }
        return web.post(reverse("finance:invoice-edit", args=[invoice.pk]), data, headers=HTMX)
    if action == "invoice_cancel":
        return web.post(reverse("finance:invoice-cancel", args=[invoice.pk]), headers=HTMX)
    if action == "payment_create":
        data = {
            "paid_on": "2024-03-05",
            "amount": "5",
            "currency": "RUB",
            "method": "cash",
            "invoice": invoice.pk,
        }
        return web.post(reverse("finance:payment-create", args=[card.pk]), data, headers=HTMX)
    return web.post(reverse("finance:payment-delete", args=[payment.pk]), headers=HTMX)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
def test_authorization_matrix(role, action, users, matrix):
    card, invoice, payment = matrix
    expected = EXPECTED[role][ACTIONS.index(action)]
    web = DjangoClient()
    if role != "anonymous":
        web.force_login(users[role])
    before = (Invoice.objects.count(), Payment.objects.count(), ObjectChange.objects.count())

    response = _request(web, action, card, invoice, payment)

    if expected == "ok":
        assert response.status_code == 200
        if action != "money":
            assert response["HX-Trigger"] == "card-changed"
        return
    if expected == "login":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    else:
        assert response.status_code == expected
    invoice.refresh_from_db()
    assert (invoice.amount, invoice.status) == (D("100.00"), "issued")
    after = (Invoice.objects.count(), Payment.objects.count(), ObjectChange.objects.count())
    assert after == before


# --- Query counts -------------------------------------------------------------------------------


def _fill(alice, card, count: int) -> None:
    for index in range(count):
        invoice = make_invoice(alice, card, "100.00", due_on=datetime.date(2024, 3, 1 + index))
        make_payment(alice, card, "10.00", invoice)
        make_payment(alice, card, "1.00", invoice, currency="USD", exchange_rate=D("90"))
        make_payment(alice, card, "5.00")


def test_money_section_takes_the_same_queries_for_2_and_10_rows(alice, web_client_for):
    small = make_person(alice, last_name="Малый", credit_limit=D("100"))
    large = make_person(alice, last_name="Большой", credit_limit=D("100"))
    _fill(alice, small, 2)
    _fill(alice, large, 10)
    web = web_client_for(alice)
    web.get(money_url(small), headers=HTMX)

    with CaptureQueriesContext(connection) as few:
        web.get(money_url(small), headers=HTMX)
    with CaptureQueriesContext(connection) as many:
        body = text(web.get(money_url(large), headers=HTMX))

    assert len(many.captured_queries) == len(few.captured_queries)
    assert body.count("data-payment=") == 30
