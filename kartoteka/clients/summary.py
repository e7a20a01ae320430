"""The card's summary header: the figures that answer "how are we doing with this client?"
at a glance, computed by the database in a fixed number of queries whatever the card's size.

Definitions (all money in the business's base currency):
- lifetime value: the sum of `total_base` of the card's orders that are not cancelled;
- orders: how many such orders; last order: the latest `ordered_on` among them; average
  order: lifetime value / orders, to the cent;
- balance and overdue debt: as finance.selectors.client_balance defines them (invoiced −
  paid; the unpaid rest of invoices past their due date), with finance's own settle()
  applied only to the invoices that can be overdue (see _money); credit left: credit
  limit − balance;
- last contact: the latest interaction that is not deleted;
- next recommendation: the pending recommendation with the earliest due date;
- NPS: the latest NPS score, and the average of the last five.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import F, Field, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from kartoteka.activities.models import Interaction
from kartoteka.care.models import Recommendation, SurveyResponse
from kartoteka.clients.models import Client
from kartoteka.core.models import SiteSettings
from kartoteka.core.money import ZERO, money
from kartoteka.finance.models import Invoice, Payment
from kartoteka.finance.selectors import MONEY_FIELD, InvoiceState, settle
from kartoteka.sales.models import Order

NPS_WINDOW = 5


@dataclass(frozen=True)
class ClientSummary:
    currency: str
    lifetime_value: Decimal
    orders_count: int
    last_order_on: datetime.date | None
    average_order: Decimal | None
    balance: Decimal
    overdue: Decimal
    credit_limit: Decimal | None
    credit_left: Decimal | None
    last_contact_at: datetime.datetime | None
    last_contact_kind: str
    last_contact_subject: str
    next_recommendation_on: datetime.date | None
    next_recommendation_text: str
    nps_latest: int | None
    nps_average: Decimal | None
    nps_count: int

    @property
    def has_debt(self) -> bool:
        return self.balance > 0

    @property
    def is_overdue(self) -> bool:
        return self.overdue > 0

    @property
    def over_credit_limit(self) -> bool:
        return self.credit_left is not None and self.credit_left < 0

    @property
    def recommendation_overdue(self) -> bool:
        return (
            self.next_recommendation_on is not None
            and self.next_recommendation_on < timezone.localdate()
        )

    @property
    def nps_group(self) -> str:
        """promoter (9–10), passive (7–8) or detractor (0–6) by the latest score."""
        if self.nps_latest is None:
            return ""
        if self.nps_latest >= 9:
            return "promoter"
        return "passive" if self.nps_latest >= 7 else "detractor"


def _overdue(client: Client) -> Decimal:
    """The overdue debt of the card, as client_balance has it.

    Only the invoices past due that their payments in the invoice's currency do not pay
    off (or that have payments in other currencies) are fetched, each with its payments
    summed by the database, and settled by finance's own settle(): a card with thousands
    of paid invoices costs about what a new one does.
    """
    today = timezone.localdate()
    same_currency = Q(payments__currency=F("currency"))
    other_currency = Q(payments__currency__lt=F("currency")) | Q(
        payments__currency__gt=F("currency")
    )
    candidates = (
        Invoice.objects.filter(client=client, due_on__lt=today)
        .exclude(status=Invoice.Status.CANCELLED)
        .annotate(
            paid_same=Coalesce(
                Sum("payments__amount", filter=same_currency), ZERO, output_field=MONEY_FIELD
            ),
            paid_other_base=Coalesce(
                Sum("payments__amount_base", filter=other_currency),
                ZERO,
                output_field=MONEY_FIELD,
            ),
        )
        .filter(Q(paid_other_base=0, paid_same__lt=F("amount")) | Q(paid_other_base__gt=0))
        .only("pk", "amount", "currency", "exchange_rate", "due_on", "status")
    )
    overdue = ZERO
    for invoice in candidates:
        settle(invoice, today=today)
        if invoice.state == InvoiceState.OVERDUE:  # type: ignore[attr-defined]
            overdue += invoice.rest_base  # type: ignore[attr-defined]
    return money(overdue)


# The single figures of the summary, each a scalar subquery of one statement: (name, the
# model field whose type the value has, SQL template). One round trip instead of seven
# queries (the ORM's would cost more to build than the round trips it saves). Each
# subquery is answered through the table's index on the client (and, for the latest
# rows, its date), as the ORM queries it replaces were.
_FIGURES: list[tuple[str, tuple[type, str], str]] = [
    (
        "currency",
        (SiteSettings, "base_currency"),
        "SELECT base_currency FROM {settings} WHERE id = 1",
    ),
    (
        "orders_total",
        (Order, "total_base"),
        "SELECT SUM(total_base) FROM {order} WHERE client_id = %(client)s "
        "AND status <> %(order_cancelled)s",
    ),
    (
        "orders_count",
        (Order, "id"),
        "SELECT COUNT(*) FROM {order} WHERE client_id = %(client)s "
        "AND status <> %(order_cancelled)s",
    ),
    (
        "orders_last",
        (Order, "ordered_on"),
        "SELECT MAX(ordered_on) FROM {order} WHERE client_id = %(client)s "
        "AND status <> %(order_cancelled)s",
    ),
    (
        "invoiced",
        (Invoice, "amount_base"),
        "SELECT SUM(amount_base) FROM {invoice} WHERE client_id = %(client)s "
        "AND status <> %(invoice_cancelled)s",
    ),
    (
        "paid",
        (Payment, "amount_base"),
        "SELECT SUM(amount_base) FROM {payment} WHERE client_id = %(client)s",
    ),
    *[
        (
            f"contact_{column}",
            (Interaction, column),
            f"SELECT {column} FROM {{interaction}} WHERE client_id = %(client)s "
            "AND is_deleted = %(false)s ORDER BY occurred_at DESC, id DESC LIMIT 1",
        )
        for column in ("occurred_at", "kind", "subject")
    ],
    *[
        (
            f"recommendation_{column}",
            (Recommendation, column),
            f"SELECT {column} FROM {{recommendation}} WHERE client_id = %(client)s "
            "AND status = %(pending)s AND due_on IS NOT NULL ORDER BY due_on, id LIMIT 1",
        )
        for column in ("due_on", "text")
    ],
    *[
        (
            f"nps_{index}",
            (SurveyResponse, "score"),
            "SELECT score FROM {survey} WHERE client_id = %(client)s AND scale = %(nps)s "
            f"AND score IS NOT NULL ORDER BY taken_on DESC, id DESC LIMIT 1 OFFSET {index}",
        )
        for index in range(NPS_WINDOW)
    ],
]


@cache
def _figures_sql(vendor: str) -> str:
    """The statement, written once per database vendor (tables quoted by its rules)."""
    quote = connection.ops.quote_name
    tables = {
        "settings": SiteSettings,
        "order": Order,
        "invoice": Invoice,
        "payment": Payment,
        "interaction": Interaction,
        "recommendation": Recommendation,
        "survey": SurveyResponse,
    }
    names = {key: quote(model._meta.db_table) for key, model in tables.items()}
    return "SELECT " + ", ".join(
        f"({template.format(**names)}) AS {name}" for name, _field, template in _FIGURES
    )


@cache
def _converters(vendor: str) -> list[tuple[Value, list[Any]]]:
    """Per figure, an expression of its model field's type and the converters the ORM
    would apply to it on this database (SQLite hands back decimals as floats and dates as
    text; its converters turn them back), so the figures come out as the ORM's would."""
    out = []
    for _name, (model, field_name), _template in _FIGURES:
        field: Field = model._meta.get_field(field_name)  # type: ignore[attr-defined]
        expression = Value(None, output_field=field)
        converters = connection.ops.get_db_converters(expression)
        out.append((expression, converters + expression.get_db_converters(connection)))
    return out


def _figures(client: Client) -> dict[str, Any]:
    """The summary's single figures in one statement (see _FIGURES)."""
    params: dict[str, int | str | bool] = {
        "client": client.pk,
        "order_cancelled": Order.Status.CANCELLED.value,
        "invoice_cancelled": Invoice.Status.CANCELLED.value,
        "false": False,
        "pending": Recommendation.Status.PENDING.value,
        "nps": SurveyResponse.Scale.NPS.value,
    }
    with connection.cursor() as cursor:
        cursor.execute(_figures_sql(connection.vendor), params)
        row = cursor.fetchone()
    figures = {}
    converting = zip(_FIGURES, _converters(connection.vendor), row, strict=True)
    for (name, _field, _template), (expression, converters), value in converting:
        if value is not None:
            for converter in converters:
                value = converter(value, expression, connection)
        figures[name] = value
    return figures


def client_summary(*, user: Any, client: Client) -> ClientSummary:
    """The summary of a card `user` may see (the caller fetched it through client_get).

    Two queries whatever the number of orders, invoices, payments or interactions: the
    single figures in one statement (orders summed, counted and dated, what is invoiced
    and what is paid, the last contact, the next recommendation, the last NPS scores, the
    base currency), and the invoices that may be overdue (see _overdue).
    """
    figures = _figures(client)
    currency = figures["currency"]
    if currency is None:  # no settings row yet: the defaults, written as current() does
        currency = SiteSettings.current().base_currency
    lifetime_value = money(figures["orders_total"] or ZERO)
    count = figures["orders_count"] or 0
    balance = money((figures["invoiced"] or ZERO) - (figures["paid"] or ZERO))
    overdue = _overdue(client)
    scores: list[int] = [
        score for index in range(NPS_WINDOW) if (score := figures[f"nps_{index}"]) is not None
    ]
    contact_at = figures["contact_occurred_at"]
    contact_kind = figures["contact_kind"]
    return ClientSummary(
        currency=currency,
        lifetime_value=lifetime_value,
        orders_count=count,
        last_order_on=figures["orders_last"],
        average_order=money(lifetime_value / count) if count else None,
        balance=balance,
        overdue=overdue,
        credit_limit=client.credit_limit,
        credit_left=None if client.credit_limit is None else client.credit_limit - balance,
        last_contact_at=contact_at,
        last_contact_kind=(
            str(Interaction.Kind(contact_kind).label)
            if contact_at is not None and contact_kind in Interaction.Kind.values
            else (contact_kind or "")
        ),
        last_contact_subject=figures["contact_subject"] or "" if contact_at else "",
        next_recommendation_on=figures["recommendation_due_on"],
        next_recommendation_text=(
            figures["recommendation_text"] or "" if figures["recommendation_due_on"] else ""
        ),
        nps_latest=scores[0] if scores else None,
        nps_average=(
            (Decimal(sum(scores)) / len(scores)).quantize(Decimal("0.1")) if scores else None
        ),
        nps_count=len(scores),
    )
