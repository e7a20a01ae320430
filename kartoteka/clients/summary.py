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
from typing import Any

from django.db.models import Count, F, Max, Q, Sum
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


def _money(client: Client) -> tuple[str, Decimal, Decimal]:
    """(base currency, balance, overdue debt) of the card, as client_balance has them.

    Four queries: the base currency; what is invoiced and what is paid (sums); and the
    invoices past due that their payments in the invoice's currency do not pay off (or that
    have payments in other currencies), each with its payments summed by the database.
    Only those are settled, by finance's own settle(): a card with thousands of paid
    invoices costs about what a new one does.
    """
    today = timezone.localdate()
    currency = SiteSettings.current().base_currency
    active = Invoice.objects.filter(client=client).exclude(status=Invoice.Status.CANCELLED)
    invoiced = active.aggregate(total=Sum("amount_base"))["total"] or ZERO
    paid = Payment.objects.filter(client=client).aggregate(total=Sum("amount_base"))["total"]
    same_currency = Q(payments__currency=F("currency"))
    other_currency = Q(payments__currency__lt=F("currency")) | Q(
        payments__currency__gt=F("currency")
    )
    candidates = (
        active.filter(due_on__lt=today)
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
    return currency, money(invoiced - (paid or ZERO)), money(overdue)


def client_summary(*, user: Any, client: Client) -> ClientSummary:
    """The summary of a card `user` may see (the caller fetched it through client_get).

    Eight queries whatever the number of orders, invoices, payments or interactions: orders
    aggregated, the money picture (base currency, invoiced, paid, invoices that may be
    overdue), the last contact, the
    next recommendation, the last NPS scores.
    """
    orders = (
        Order.objects.filter(client=client)
        .exclude(status=Order.Status.CANCELLED)
        .aggregate(total=Sum("total_base"), count=Count("pk"), last=Max("ordered_on"))
    )
    lifetime_value = money(orders["total"] or ZERO)
    count = orders["count"] or 0
    currency, balance, overdue = _money(client)
    contact = (
        Interaction.objects.filter(client=client, is_deleted=False)
        .order_by("-occurred_at", "-pk")
        .only("occurred_at", "kind", "subject")
        .first()
    )
    recommendation = (
        Recommendation.objects.filter(
            client=client, status=Recommendation.Status.PENDING, due_on__isnull=False
        )
        .order_by("due_on", "pk")
        .only("due_on", "text")
        .first()
    )
    scores: list[int] = [
        score
        for score in SurveyResponse.objects.filter(
            client=client, scale=SurveyResponse.Scale.NPS, score__isnull=False
        )
        .order_by("-taken_on", "-pk")
        .values_list("score", flat=True)[:NPS_WINDOW]
        if score is not None
    ]
    return ClientSummary(
        currency=currency,
        lifetime_value=lifetime_value,
        orders_count=count,
        last_order_on=orders["last"],
        average_order=money(lifetime_value / count) if count else None,
        balance=balance,
        overdue=overdue,
        credit_limit=client.credit_limit,
        credit_left=None if client.credit_limit is None else client.credit_limit - balance,
        last_contact_at=contact.occurred_at if contact else None,
        last_contact_kind=contact.get_kind_display() if contact else "",
        last_contact_subject=contact.subject if contact else "",
        next_recommendation_on=recommendation.due_on if recommendation else None,
        next_recommendation_text=recommendation.text if recommendation else "",
        nps_latest=scores[0] if scores else None,
        nps_average=(
            (Decimal(sum(scores)) / len(scores)).quantize(Decimal("0.1")) if scores else None
        ),
        nps_count=len(scores),
    )
