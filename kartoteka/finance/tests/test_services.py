"""Finance services and the balance: invoices, partial and foreign-currency payments,
overdue debt by the calendar, exact balances."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError

from kartoteka.activities.models import TimelineEvent
from kartoteka.clients.tests.factories import make_person
from kartoteka.core.models import ObjectChange
from kartoteka.finance import selectors, services
from kartoteka.finance.models import Invoice, Payment
from kartoteka.finance.tests.factories import make_invoice, make_payment
from kartoteka.sales.tests.factories import make_order

pytestmark = pytest.mark.django_db

D = Decimal
FAR = datetime.date(2099, 1, 1)


@pytest.fixture
def card(alice):
    return make_person(alice, last_name="Смирнова", first_name="Анна")


def codes(exc: ValidationError) -> dict[str, list[str]]:
    return {field: [e.code for e in errors] for field, errors in exc.error_dict.items()}


def state(invoice: Invoice, today: datetime.date | None = None) -> tuple[Decimal, Decimal, str]:
    row = selectors.invoice_get(user=invoice.client.responsible, pk=invoice.pk)
    selectors.settle(row, today=today)
    return row.paid, row.rest, row.state  # type: ignore[attr-defined]


def timeline_of(obj) -> TimelineEvent:
    return TimelineEvent.objects.get(
        content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
    )


# --- Invoices ----------------------------------------------------------------------------------


def test_invoice_create(alice, card):
    order = make_order(alice, card)

    invoice = make_invoice(alice, card, "1000.00", number="2024-17", order=order, notes="аванс")

    invoice.refresh_from_db()
    assert (invoice.number, invoice.amount, invoice.amount_base, invoice.currency) == (
        "2024-17",
        D("1000.00"),
        D("1000.00"),
        "RUB",
    )
    assert (invoice.exchange_rate, invoice.status, invoice.created_by) == (D("1"), "issued", alice)
    assert invoice.order == order
    event = timeline_of(invoice)
    assert (event.kind, event.title, event.amount, event.currency, event.subkind) == (
        "invoice",
        "Invoice № 2024-17",
        D("1000.00"),
        "RUB",
        "issued",
    )


def test_invoice_numbers_follow_on_when_left_empty(alice, card):
    numbers = [make_invoice(alice, card).number for _ in range(3)]

    assert numbers == ["1", "2", "3"]


def test_invoice_in_foreign_currency(alice, card):
    invoice = make_invoice(alice, card, "123.45", currency="CNY", exchange_rate=D("12.345678"))

    assert invoice.amount_base == D("1524.07")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"amount": D("0")}, {"amount": ["amount_positive"]}),
        ({"amount": D("-5")}, {"amount": ["amount_positive"]}),
        ({"due_on": datetime.date(2024, 2, 29)}, {"due_on": ["due_before_issue"]}),
        ({"currency": "RUB", "exchange_rate": D("2")}, {"exchange_rate": ["rate_must_be_one"]}),
        ({"currency": "USD"}, {"exchange_rate": ["rate_required"]}),
        ({"currency": "XYZ", "exchange_rate": D("2")}, {"currency": ["invalid_choice"]}),
    ],
)
def test_invoice_validation(alice, card, data, expected):
    with pytest.raises(ValidationError) as caught:
        make_invoice(alice, card, **data)

    assert codes(caught.value) == expected
    assert Invoice.objects.count() == 0
    assert TimelineEvent.objects.count() == 0


def test_invoice_order_must_be_of_the_same_card(alice, card):
    other_order = make_order(alice, make_person(alice, last_name="Другой"))

    with pytest.raises(ValidationError) as caught:
        make_invoice(alice, card, order=other_order)

    assert codes(caught.value) == {"order": ["order_mismatch"]}


def test_invoice_update_cannot_go_below_what_is_paid(alice, card):
    invoice = make_invoice(alice, card, "1000.00")
    make_payment(alice, card, "300.00", invoice)

    with pytest.raises(ValidationError) as caught:
        services.invoice_update(actor=alice, invoice=invoice, data={"amount": D("299.99")})
    services.invoice_update(actor=alice, invoice=invoice, data={"amount": D("300.00")})

    assert codes(caught.value) == {"amount": ["amount_below_paid"]}
    assert state(invoice) == (D("300.00"), D("0.00"), "paid")
    invoice.refresh_from_db()
    assert invoice.amount_base == D("300.00")
    assert timeline_of(invoice).amount == D("300.00")


def test_invoice_cancel(alice, card):
    invoice = make_invoice(alice, card, "1000.00")

    services.invoice_cancel(actor=alice, invoice=invoice)

    invoice.refresh_from_db()
    assert invoice.status == "cancelled"
    assert timeline_of(invoice).subkind == "cancelled"
    with pytest.raises(ValidationError) as caught:
        services.invoice_update(actor=alice, invoice=invoice, data={"amount": D("5")})
    assert caught.value.code == "invoice_cancelled"
    with pytest.raises(ValidationError) as refused:
        make_payment(alice, card, "5.00", invoice)
    assert codes(refused.value) == {"invoice": ["invoice_cancelled"]}


# --- Partial payments and states ----------------------------------------------------------------


def test_partial_payments_make_an_invoice_paid(alice, card):
    invoice = make_invoice(alice, card, "1000.00", due_on=datetime.date(2030, 1, 1))
    assert state(invoice) == (D("0.00"), D("1000.00"), "open")

    make_payment(alice, card, "300.00", invoice)
    assert state(invoice) == (D("300.00"), D("700.00"), "partially_paid")

    make_payment(alice, card, "700.00", invoice)
    assert state(invoice) == (D("1000.00"), D("0.00"), "paid")


def test_payment_beyond_the_unpaid_rest_is_refused(alice, card):
    invoice = make_invoice(alice, card, "1000.00")
    make_payment(alice, card, "300.00", invoice)

    with pytest.raises(ValidationError) as caught:
        make_payment(alice, card, "700.01", invoice)

    assert codes(caught.value) == {"amount": ["exceeds_rest"]}
    error = caught.value.error_dict["amount"][0]
    assert error.message % error.params == (
        "The payment exceeds the invoice's unpaid rest of 700.00 RUB."
    )
    assert Payment.objects.count() == 1


def test_advance_payment_needs_no_invoice(alice, card):
    payment = make_payment(alice, card, "5000.00")

    assert payment.invoice is None
    assert timeline_of(payment).title == "Advance payment"
    balance = selectors.client_balance(client=card)
    assert (balance.paid_base, balance.balance_base) == (D("5000.00"), D("-5000.00"))


def test_overdue_only_after_the_due_date(alice, card, time_machine):
    invoice = make_invoice(alice, card, "1000.00", due_on=datetime.date(2024, 3, 10))
    make_payment(alice, card, "400.00", invoice)

    time_machine.move_to(datetime.datetime(2024, 3, 10, 23, 0, tzinfo=datetime.UTC))
    on_due_date = selectors.client_balance(client=card, today=datetime.date(2024, 3, 10))
    time_machine.move_to(datetime.datetime(2024, 3, 12, 9, 0, tzinfo=datetime.UTC))
    after = selectors.client_balance(client=card)

    assert on_due_date.overdue_base == D("0.00")
    assert on_due_date.invoices[0].state == "partially_paid"  # type: ignore[attr-defined]
    assert after.overdue_base == D("600.00")
    assert after.invoices[0].state == "overdue"  # type: ignore[attr-defined]
    assert after.overdue_count == 1
    assert after.balance_base == D("600.00")


def test_today_follows_the_clock(alice, card, time_machine):
    make_invoice(alice, card, "100.00", due_on=datetime.date(2024, 3, 10))

    time_machine.move_to(datetime.datetime(2024, 3, 10, 12, 0, tzinfo=datetime.UTC))
    assert selectors.client_balance(client=card).overdue_base == D("0.00")
    time_machine.move_to(datetime.datetime(2024, 3, 11, 12, 0, tzinfo=datetime.UTC))
    assert selectors.client_balance(client=card).overdue_base == D("100.00")


def test_paid_invoice_is_never_overdue(alice, card):
    invoice = make_invoice(alice, card, "1000.00", due_on=datetime.date(2024, 3, 10))
    make_payment(alice, card, "1000.00", invoice)

    balance = selectors.client_balance(client=card, today=datetime.date(2025, 1, 1))

    assert balance.overdue_base == D("0.00")
    assert balance.invoices[0].state == "paid"  # type: ignore[attr-defined]


def test_payment_in_another_currency_against_an_invoice(alice, card):
    invoice = make_invoice(alice, card, "100.00", currency="USD", exchange_rate=D("90"), due_on=FAR)

    # 4500.00 RUB at 1 = 4500.00 base = 50.00 USD at the invoice's rate.
    make_payment(alice, card, "4500.00", invoice)
    assert state(invoice) == (D("50.00"), D("50.00"), "partially_paid")

    with pytest.raises(ValidationError) as caught:
        make_payment(alice, card, "45.01", invoice, currency="EUR", exchange_rate=D("100"))
    # 45.00 EUR at 100 = 4500.00 base = the remaining 50.00 USD.
    make_payment(alice, card, "45.00", invoice, currency="EUR", exchange_rate=D("100"))

    assert codes(caught.value) == {"amount": ["exceeds_rest"]}
    assert state(invoice) == (D("100.00"), D("0.00"), "paid")
    balance = selectors.client_balance(client=card)
    assert (balance.invoiced_base, balance.paid_base, balance.balance_base) == (
        D("9000.00"),
        D("9000.00"),
        D("0.00"),
    )


def test_payment_in_invoice_currency_counts_as_is_whatever_its_rate(alice, card):
    invoice = make_invoice(alice, card, "100.00", currency="USD", exchange_rate=D("90"))

    make_payment(alice, card, "100.00", invoice, currency="USD", exchange_rate=D("92.5"))

    assert state(invoice) == (D("100.00"), D("0.00"), "paid")
    balance = selectors.client_balance(client=card)
    # The rate moved between invoice and payment: the difference shows in base currency.
    assert (balance.invoiced_base, balance.paid_base, balance.balance_base) == (
        D("9000.00"),
        D("9250.00"),
        D("-250.00"),
    )


def test_foreign_payments_are_converted_once_over_their_sum(alice, card):
    invoice = make_invoice(alice, card, "10.00", currency="USD", exchange_rate=D("3"))

    for _ in range(3):
        make_payment(alice, card, "1.00", invoice)  # 1 RUB = 0.333… USD each

    # 3.00 base / 3 = 1.00 USD exactly (per-payment rounding would give 0.99).
    assert state(invoice)[0] == D("1.00")


def test_payment_validation(alice, card):
    other_invoice = make_invoice(alice, make_person(alice, last_name="Другой"))

    with pytest.raises(ValidationError) as caught:
        make_payment(alice, card, "0", method="barter")
    with pytest.raises(ValidationError) as mismatch:
        make_payment(alice, card, "10.00", other_invoice)

    assert codes(caught.value) == {"amount": ["amount_positive"], "method": ["invalid_choice"]}
    assert codes(mismatch.value) == {"invoice": ["invoice_mismatch"]}
    assert Payment.objects.count() == 0


def test_payment_timeline_and_delete(alice, card):
    invoice = make_invoice(alice, card, "1000.00", number="A-1")
    payment = make_payment(alice, card, "250.00", invoice, method="card")

    event = timeline_of(payment)
    assert (event.kind, event.title, event.amount, event.subkind, event.summary) == (
        "payment",
        "Payment on invoice № A-1",
        D("250.00"),
        "card",
        "Card",
    )

    pk = payment.pk
    services.payment_delete(actor=alice, payment=payment)

    assert Payment.objects.count() == 0
    assert TimelineEvent.objects.filter(kind="payment").count() == 0
    assert state(invoice) == (D("0.00"), D("1000.00"), "overdue")
    assert ObjectChange.objects.filter(
        action="delete", object_id=pk, content_type=ContentType.objects.get_for_model(Payment)
    ).exists()


# --- Balance -----------------------------------------------------------------------------------


def test_balance_and_overdue_are_exact(alice, card):
    card.credit_limit = D("20000.00")
    card.save()
    today = datetime.date(2024, 4, 1)
    overdue = make_invoice(alice, card, "1000.10", due_on=datetime.date(2024, 3, 10))
    make_payment(alice, card, "333.33", overdue)
    overdue_usd = make_invoice(
        alice, card, "10.01", currency="USD", exchange_rate=D("91.234567"), due_on=today
    )
    future = make_invoice(alice, card, "500.00", due_on=datetime.date(2024, 5, 1))
    cancelled = make_invoice(alice, card, "9999.99", due_on=datetime.date(2024, 3, 2))
    services.invoice_cancel(actor=alice, invoice=cancelled)
    make_payment(alice, card, "0.05")
    paid_usd = make_invoice(alice, card, "20.00", currency="USD", exchange_rate=D("90"))
    make_payment(alice, card, "20.00", paid_usd, currency="USD", exchange_rate=D("90"))

    balance = selectors.client_balance(client=card, today=datetime.date(2024, 4, 2))

    # 10.01 × 91.234567 = 913.25801567 -> 913.26 base
    invoiced = D("1000.10") + D("913.26") + D("500.00") + D("1800.00")
    paid = D("333.33") + D("0.05") + D("1800.00")
    assert balance.currency == "RUB"
    assert balance.invoiced_base == invoiced == D("4213.36")
    assert balance.paid_base == paid == D("2133.38")
    assert balance.balance_base == D("2079.98")
    # Past due: 666.77 RUB and 10.01 USD (913.26 base); the future and paid ones are not.
    assert balance.overdue_base == D("666.77") + D("913.26") == D("1580.03")
    assert balance.overdue_count == 2
    assert balance.credit_limit == D("20000.00")
    assert balance.credit_left == D("17920.02")
    states = {i.pk: (i.paid, i.rest, i.state) for i in balance.invoices}  # type: ignore[attr-defined]
    assert states == {
        overdue.pk: (D("333.33"), D("666.77"), "overdue"),
        overdue_usd.pk: (D("0.00"), D("10.01"), "overdue"),
        future.pk: (D("0.00"), D("500.00"), "open"),
        cancelled.pk: (D("0.00"), D("9999.99"), "cancelled"),
        paid_usd.pk: (D("20.00"), D("0.00"), "paid"),
    }


def test_balance_of_an_empty_card(card):
    balance = selectors.client_balance(client=card)

    assert (balance.invoiced_base, balance.paid_base, balance.balance_base) == (
        D("0.00"),
        D("0.00"),
        D("0.00"),
    )
    assert (balance.overdue_base, balance.credit_limit, balance.credit_left) == (
        D("0.00"),
        None,
        None,
    )
    assert balance.invoices == []


def test_balance_takes_three_queries_whatever_the_size(alice, card, django_assert_num_queries):
    for _ in range(5):
        invoice = make_invoice(alice, card, "100.00")
        make_payment(alice, card, "10.00", invoice)
        make_payment(alice, card, "1.00", invoice, currency="USD", exchange_rate=D("90"))

    with django_assert_num_queries(3):
        balance = selectors.client_balance(client=card)

    assert balance.paid_base == D("500.00")


# --- Permissions -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["rita", "charlie"])
def test_money_writes_need_card_rights(users, card, role):
    actor = users[role]
    invoice = make_invoice(users["alice"], card, "100.00")
    payment = make_payment(users["alice"], card, "10.00", invoice)
    log_size = ObjectChange.objects.count()

    with pytest.raises(PermissionDenied):
        make_invoice(actor, card)
    with pytest.raises(PermissionDenied):
        services.invoice_update(actor=actor, invoice=invoice, data={"amount": D("50")})
    with pytest.raises(PermissionDenied):
        services.invoice_cancel(actor=actor, invoice=invoice)
    with pytest.raises(PermissionDenied):
        make_payment(actor, card, "10.00", invoice)
    with pytest.raises(PermissionDenied):
        services.payment_delete(actor=actor, payment=payment)

    invoice.refresh_from_db()
    assert (Invoice.objects.count(), Payment.objects.count()) == (1, 1)
    assert (invoice.amount, invoice.status) == (D("100.00"), "issued")
    assert ObjectChange.objects.count() == log_size
