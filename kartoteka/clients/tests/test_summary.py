"""The card's summary header: what each figure means, exactly, in the base currency, and a
fixed number of queries whatever the card holds.

Rows are written directly (the figures read them; the services writing them are tested in
their apps), with the base-currency amounts the services would compute.
"""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from kartoteka.activities.models import Interaction
from kartoteka.care.models import Recommendation, SurveyResponse
from kartoteka.clients.summary import client_summary
from kartoteka.clients.tests.factories import make_person
from kartoteka.core.models import SiteSettings
from kartoteka.finance.models import Invoice, Payment
from kartoteka.sales.models import Order

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2025, 6, 15)
D = Decimal


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(datetime.datetime(2025, 6, 15, 9, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def card(alice):
    return make_person(alice, last_name="Итогова")


_numbers = iter(range(5000, 9999))


def order(card, total_base, *, status=Order.Status.COMPLETED, on=TODAY, currency="RUB", total=None):
    return Order.objects.create(
        client=card,
        number=next(_numbers),
        ordered_on=on,
        status=status,
        currency=currency,
        total=D(total if total is not None else total_base),
        total_base=D(total_base),
    )


def invoice(
    card,
    amount_base,
    *,
    due_on,
    status=Invoice.Status.ISSUED,
    currency="RUB",
    amount=None,
    rate="1",
):
    return Invoice.objects.create(
        client=card,
        number=f"INV-{next(_numbers)}",
        issued_on=due_on - datetime.timedelta(days=10),
        due_on=due_on,
        currency=currency,
        exchange_rate=D(rate),
        amount=D(amount if amount is not None else amount_base),
        amount_base=D(amount_base),
        status=status,
    )


def payment(card, amount_base, *, against=None, currency="RUB", amount=None, rate="1"):
    return Payment.objects.create(
        client=card,
        invoice=against,
        paid_on=TODAY,
        currency=currency,
        exchange_rate=D(rate),
        amount=D(amount if amount is not None else amount_base),
        amount_base=D(amount_base),
    )


def test_an_empty_card(alice, card):
    summary = client_summary(user=alice, client=card)
    assert summary.currency == "RUB"
    assert summary.lifetime_value == D("0.00")
    assert summary.orders_count == 0
    assert summary.last_order_on is None
    assert summary.average_order is None
    assert summary.balance == D("0.00")
    assert summary.overdue == D("0.00")
    assert summary.credit_left is None
    assert summary.last_contact_at is None
    assert summary.next_recommendation_on is None
    assert summary.nps_latest is None
    assert summary.nps_average is None


def test_orders_lifetime_value_count_last_and_average(alice, card):
    order(card, "1000.00", on=datetime.date(2025, 1, 10))
    order(card, "250.50", status=Order.Status.IN_PROGRESS, on=datetime.date(2025, 3, 1))
    order(card, "99.99", status=Order.Status.NEW, on=datetime.date(2025, 2, 1))
    order(
        card, "5000.00", status=Order.Status.CANCELLED, on=datetime.date(2025, 5, 1)
    )  # not counted
    order(
        card, "320.00", currency="EUR", total="3.20", on=datetime.date(2024, 12, 1)
    )  # counted in base
    make_person(alice, last_name="Чужой")  # another card's orders do not count
    summary = client_summary(user=alice, client=card)
    assert summary.lifetime_value == D("1670.49")
    assert summary.orders_count == 4
    assert summary.last_order_on == datetime.date(2025, 3, 1)
    assert summary.average_order == D("417.62")  # 1670.49 / 4 = 417.6225, to the cent


def test_average_order_rounds_half_up(alice, card):
    order(card, "0.01")
    order(card, "0.02")
    assert client_summary(user=alice, client=card).average_order == D("0.02")  # 0.015 -> 0.02


def test_balance_overdue_and_credit_left(alice, card):
    card.credit_limit = D("1000.00")
    card.save(update_fields=["credit_limit"])
    overdue = invoice(card, "600.00", due_on=TODAY - datetime.timedelta(days=1))
    payment(card, "150.00", against=overdue)  # partial: 450 overdue
    invoice(card, "400.00", due_on=TODAY)  # due today: not overdue yet
    invoice(
        card, "900.00", due_on=TODAY - datetime.timedelta(days=30), status=Invoice.Status.CANCELLED
    )
    payment(card, "50.00")  # on account

    summary = client_summary(user=alice, client=card)

    assert summary.balance == D("800.00")  # 1000 invoiced − 200 paid
    assert summary.has_debt is True
    assert summary.overdue == D("450.00")
    assert summary.is_overdue is True
    assert summary.credit_limit == D("1000.00")
    assert summary.credit_left == D("200.00")
    assert summary.over_credit_limit is False


def test_over_the_credit_limit_and_paid_in_advance(alice, card):
    card.credit_limit = D("100.00")
    card.save(update_fields=["credit_limit"])
    invoice(card, "150.00", due_on=TODAY + datetime.timedelta(days=5))
    summary = client_summary(user=alice, client=card)
    assert summary.credit_left == D("-50.00")
    assert summary.over_credit_limit is True
    assert summary.is_overdue is False

    payment(card, "200.00")
    summary = client_summary(user=alice, client=card)
    assert summary.balance == D("-50.00")  # paid in advance
    assert summary.has_debt is False


def test_foreign_currency_counts_in_the_base_currency(alice, card):
    SiteSettings.objects.update_or_create(pk=1, defaults={"base_currency": "EUR"})
    bill = invoice(
        card,
        "110.00",
        amount="100.00",
        currency="USD",
        rate="1.1",
        due_on=TODAY - datetime.timedelta(days=3),
    )
    payment(card, "55.00", against=bill, amount="50.00", currency="USD", rate="1.1")
    summary = client_summary(user=alice, client=card)
    assert summary.currency == "EUR"
    assert summary.balance == D("55.00")
    assert summary.overdue == D("55.00")


def test_last_contact_next_recommendation_and_nps(alice, card):
    now = timezone.now()
    Interaction.objects.create(
        client=card, kind="call", occurred_at=now - datetime.timedelta(days=2), subject="Старый"
    )
    Interaction.objects.create(
        client=card,
        kind="meeting",
        occurred_at=now - datetime.timedelta(hours=3),
        subject="Встреча",
    )
    Interaction.objects.create(
        client=card, kind="call", occurred_at=now, subject="Удалён", is_deleted=True
    )
    Recommendation.objects.create(
        client=card, given_on=TODAY, text="Позже", due_on=TODAY + datetime.timedelta(days=40)
    )
    Recommendation.objects.create(
        client=card,
        given_on=TODAY,
        text="Повторить процедуру",
        due_on=TODAY + datetime.timedelta(days=7),
    )
    Recommendation.objects.create(
        client=card, given_on=TODAY, text="Выполнено", due_on=TODAY, status="followed"
    )
    Recommendation.objects.create(client=card, given_on=TODAY, text="Без срока")
    for days, score in [(60, 2), (50, 10), (40, 9), (30, 8), (20, 6), (10, 7)]:
        SurveyResponse.objects.create(
            client=card,
            taken_on=TODAY - datetime.timedelta(days=days),
            name="NPS",
            scale="nps",
            score=score,
        )
    SurveyResponse.objects.create(client=card, taken_on=TODAY, name="CSAT", scale="csat", score=5)
    SurveyResponse.objects.create(client=card, taken_on=TODAY, name="NPS", scale="nps", score=None)

    summary = client_summary(user=alice, client=card)

    assert summary.last_contact_at == now - datetime.timedelta(hours=3)
    assert summary.last_contact_kind == "Meeting"
    assert summary.last_contact_subject == "Встреча"
    assert summary.next_recommendation_on == TODAY + datetime.timedelta(days=7)
    assert summary.next_recommendation_text == "Повторить процедуру"
    assert summary.recommendation_overdue is False
    assert summary.nps_latest == 7
    assert summary.nps_average == D("8.0")  # (7 + 6 + 8 + 9 + 10) / 5
    assert summary.nps_count == 5
    assert summary.nps_group == "passive"


def test_an_overdue_recommendation_is_the_next_one(alice, card):
    Recommendation.objects.create(
        client=card, given_on=TODAY, text="Просрочена", due_on=TODAY - datetime.timedelta(days=1)
    )
    summary = client_summary(user=alice, client=card)
    assert summary.recommendation_overdue is True


def test_query_count_is_constant(alice, card, django_assert_num_queries):
    SiteSettings.current()

    def fill(count):
        for index in range(count):
            order(card, "10.00")
            bill = invoice(card, "10.00", due_on=TODAY - datetime.timedelta(days=index))
            payment(card, "5.00", against=bill)
            Interaction.objects.create(client=card, occurred_at=timezone.now(), subject=str(index))
            Recommendation.objects.create(
                client=card, given_on=TODAY, text=str(index), due_on=TODAY
            )
            SurveyResponse.objects.create(
                client=card, taken_on=TODAY, name="NPS", scale="nps", score=index % 11
            )

    fill(2)
    # The single figures in one statement, and the invoices that may be overdue.
    with django_assert_num_queries(2):
        client_summary(user=alice, client=card)
    fill(30)
    with django_assert_num_queries(2):
        summary = client_summary(user=alice, client=card)
    assert summary.orders_count == 32


def test_without_a_settings_row_the_default_currency_is_written(alice, card):
    SiteSettings.objects.all().delete()
    assert client_summary(user=alice, client=card).currency == "RUB"
    assert SiteSettings.objects.filter(pk=1).exists()


def test_the_one_statement_gives_what_the_orm_queries_give(alice, card):
    """Each single figure, read in one hand-written statement, equals what the ORM query it
    replaced returns (values and types: SQLite hands back sums as floats and dates as text),
    on a history with cancelled orders, deleted interactions, other survey scales, followed
    recommendations, foreign currencies and amounts that floats cannot hold exactly."""
    import random

    from django.db.models import Count, Max, Sum

    rng = random.Random(3)
    other = make_person(alice, last_name="Чужая")
    for index in range(60):
        day = TODAY - datetime.timedelta(days=rng.randint(0, 400))
        target = card if index % 7 else other
        order(
            target,
            f"{rng.randint(1, 999999)}.{rng.randint(0, 99):02d}",
            status=rng.choice(list(Order.Status.values)),
            on=day,
        )
        invoice(
            target,
            f"{rng.randint(1, 99999)}.{rng.randint(0, 99):02d}",
            due_on=day,
            status=rng.choice([Invoice.Status.ISSUED, Invoice.Status.CANCELLED]),
        )
        payment(target, f"{rng.randint(1, 9999)}.{rng.randint(0, 99):02d}")
        moment = timezone.now() - datetime.timedelta(minutes=rng.randint(0, 10**6))
        Interaction.objects.create(
            client=target,
            occurred_at=moment,
            kind=rng.choice(list(Interaction.Kind.values)),
            subject=f"s{index}",
            is_deleted=rng.random() < 0.3,
        )
        Recommendation.objects.create(
            client=target,
            given_on=day,
            text=f"r{index}",
            due_on=day + datetime.timedelta(days=rng.randint(-30, 60)),
            status=rng.choice(list(Recommendation.Status.values)),
        )
        SurveyResponse.objects.create(
            client=target,
            taken_on=day,
            name="S",
            scale=rng.choice(list(SurveyResponse.Scale.values)),
            score=rng.choice([None, *range(11)]),
        )
    summary = client_summary(user=alice, client=card)

    orders = (
        Order.objects.filter(client=card)
        .exclude(status=Order.Status.CANCELLED)
        .aggregate(total=Sum("total_base"), count=Count("pk"), last=Max("ordered_on"))
    )
    invoiced = (
        Invoice.objects.filter(client=card)
        .exclude(status=Invoice.Status.CANCELLED)
        .aggregate(total=Sum("amount_base"))["total"]
    )
    paid = Payment.objects.filter(client=card).aggregate(total=Sum("amount_base"))["total"]
    contact = (
        Interaction.objects.filter(client=card, is_deleted=False)
        .order_by("-occurred_at", "-pk")
        .first()
    )
    recommendation = (
        Recommendation.objects.filter(
            client=card, status=Recommendation.Status.PENDING, due_on__isnull=False
        )
        .order_by("due_on", "pk")
        .first()
    )
    scores: list[int] = list(
        SurveyResponse.objects.filter(client=card, scale="nps", score__isnull=False)
        .order_by("-taken_on", "-pk")
        .values_list("score", flat=True)[:5]
    )
    assert orders["count"] > 0
    assert contact is not None
    assert recommendation is not None
    assert len(scores) == 5
    assert summary.lifetime_value == orders["total"].quantize(D("0.01"))
    assert summary.orders_count == orders["count"]
    assert summary.last_order_on == orders["last"]
    assert type(summary.last_order_on) is datetime.date
    assert summary.balance == (invoiced - paid).quantize(D("0.01"))
    assert summary.last_contact_at == contact.occurred_at
    assert summary.last_contact_at.tzinfo is not None
    assert summary.last_contact_kind == contact.get_kind_display()
    assert summary.last_contact_subject == contact.subject
    assert summary.next_recommendation_on == recommendation.due_on
    assert summary.next_recommendation_text == recommendation.text
    assert summary.nps_latest == scores[0]
    assert summary.nps_count == 5
    assert summary.nps_average == (D(sum(scores)) / 5).quantize(D("0.1"))


# --- On the card page ------------------------------------------------------------------------


def test_summary_header_on_the_card_page_highlights_overdue_debt(web_client_for, alice, card):
    order(card, "12345.60")
    invoice(card, "700.00", due_on=TODAY - datetime.timedelta(days=3))
    html = web_client_for(alice).get(card.get_absolute_url()).content.decode()
    assert 'id="card-summary"' in html
    assert f'hx-get="{reverse("clients:summary", args=[card.pk])}"' in html
    assert 'hx-trigger="card-changed from:body"' in html
    assert "12,345.60\u00a0₽" in html
    assert 'class="figure figure-danger"' in html
    assert "700.00\u00a0₽" in html


def test_no_red_when_nothing_is_overdue(web_client_for, alice, card):
    invoice(card, "700.00", due_on=TODAY + datetime.timedelta(days=3))
    html = web_client_for(alice).get(card.get_absolute_url()).content.decode()
    assert "figure-danger" not in html


def test_summary_fragment_reloads_alone(web_client_for, alice, charlie, rita, card):
    order(card, "10.00")
    url = reverse("clients:summary", args=[card.pk])
    response = web_client_for(alice).get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="card-summary"')
    assert "<html" not in html
    assert web_client_for(rita).get(url).status_code == 200
    assert web_client_for(charlie).get(url).status_code == 404


def test_balance_and_overdue_agree_with_the_finance_selector(alice, card):
    """The summary computes them from the invoices that can be overdue only; the result is
    the one finance.selectors.client_balance gives from every invoice."""
    import random

    from kartoteka.finance.selectors import client_balance
    from kartoteka.finance.services import invoice_cancel, invoice_create, payment_create

    rng = random.Random(7)
    rates = {"RUB": D("1"), "USD": D("92.123456"), "EUR": D("99.5")}
    for index in range(40):
        currency = rng.choice(["RUB", "RUB", "USD", "EUR"])
        issued = TODAY - datetime.timedelta(days=rng.randint(0, 90))
        bill = invoice_create(
            actor=alice,
            client=card,
            data={
                "issued_on": issued,
                "due_on": issued + datetime.timedelta(days=rng.choice([0, 7, 30])),
                "amount": D(rng.randint(100, 99999)) / 100,
                "currency": currency,
                "exchange_rate": rates[currency],
            },
        )
        if index % 9 == 0:
            invoice_cancel(actor=alice, invoice=bill)
            continue
        share = rng.choice([0, 0.3, 0.5, 1])
        if share:
            pay_currency = rng.choice([currency, "RUB", "EUR"])
            amount = (bill.amount_base * D(str(share)) / rates[pay_currency]).quantize(D("0.01"))
            if amount > 0:
                payment_create(
                    actor=alice,
                    client=card,
                    data={
                        "invoice": bill,
                        "amount": min(amount, bill.amount) if pay_currency == currency else amount,
                        "currency": pay_currency,
                        "exchange_rate": rates[pay_currency],
                    },
                )
    payment_create(actor=alice, client=card, data={"amount": D("123.45"), "currency": "RUB"})

    expected = client_balance(client=card)
    summary = client_summary(user=alice, client=card)
    assert expected.overdue_base > 0
    assert summary.balance == expected.balance_base
    assert summary.overdue == expected.overdue_base
    assert summary.credit_left == expected.credit_left
