"""The shapes of invoices, payments and the balance in the REST API.

Money and rates go out as strings ("1234.50"), never as floats, and come in as strings or
numbers read as Decimal. An invoice's `state` (paid, partially_paid, overdue, open,
cancelled) is derived from its payments and the date.
"""

import datetime
from decimal import Decimal
from typing import Any, Literal

from ninja import Field, Schema

from kartoteka.sales.schemas import (
    MONEY,
    CurrencyCode,
    PaymentMethodCode,
    money_str,
    rate_str,
)

InvoiceState = Literal["paid", "partially_paid", "overdue", "open", "cancelled"]
RATE = (
    "Base currency units for one unit of `currency`: 1 (or left out) for the base currency, "
    "required otherwise."
)


class InvoiceOut(Schema):
    id: int
    client: int
    number: str
    issued_on: datetime.date
    due_on: datetime.date
    currency: str
    exchange_rate: str
    amount: str = Field(description=MONEY)
    amount_base: str = Field(description="The amount in the base currency. " + MONEY)
    paid: str = Field(description="Paid on it, in the invoice's currency. " + MONEY)
    rest: str = Field(description="Still unpaid, in the invoice's currency. " + MONEY)
    state: InvoiceState
    status: str = Field(description="issued or cancelled (as stored).")
    order: int | None
    notes: str
    created_at: datetime.datetime

    @staticmethod
    def resolve_client(obj: Any) -> int:
        return int(obj.client_id)

    @staticmethod
    def resolve_order(obj: Any) -> int | None:
        return obj.order_id

    @staticmethod
    def resolve_exchange_rate(obj: Any) -> str | None:
        return rate_str(obj.exchange_rate)

    @staticmethod
    def resolve_amount(obj: Any) -> str | None:
        return money_str(obj.amount)

    @staticmethod
    def resolve_amount_base(obj: Any) -> str | None:
        return money_str(obj.amount_base)

    @staticmethod
    def resolve_paid(obj: Any) -> str | None:
        return money_str(obj.paid)

    @staticmethod
    def resolve_rest(obj: Any) -> str | None:
        return money_str(obj.rest)


class InvoiceIn(Schema):
    number: str = Field("", max_length=50, description="The next number when left empty.")
    issued_on: datetime.date | None = Field(None, description="Today when left out.")
    due_on: datetime.date
    currency: CurrencyCode | None = Field(None, description="The base currency when left out.")
    exchange_rate: Decimal | None = Field(None, description=RATE)
    amount: Decimal
    order: int | None = Field(None, description="An order of the same card.")
    notes: str = ""


class InvoicePatch(Schema):
    number: str | None = Field(None, max_length=50)
    issued_on: datetime.date | None = None
    due_on: datetime.date | None = None
    currency: CurrencyCode | None = None
    exchange_rate: Decimal | None = None
    amount: Decimal | None = None
    order: int | None = None
    notes: str | None = None


class PaymentOut(Schema):
    id: int
    client: int
    invoice: int | None
    paid_on: datetime.date
    amount: str = Field(description=MONEY)
    currency: str
    exchange_rate: str
    amount_base: str = Field(description="The amount in the base currency. " + MONEY)
    method: str
    notes: str
    created_at: datetime.datetime

    @staticmethod
    def resolve_client(obj: Any) -> int:
        return int(obj.client_id)

    @staticmethod
    def resolve_invoice(obj: Any) -> int | None:
        return obj.invoice_id

    @staticmethod
    def resolve_exchange_rate(obj: Any) -> str | None:
        return rate_str(obj.exchange_rate)

    @staticmethod
    def resolve_amount(obj: Any) -> str | None:
        return money_str(obj.amount)

    @staticmethod
    def resolve_amount_base(obj: Any) -> str | None:
        return money_str(obj.amount_base)


class PaymentIn(Schema):
    paid_on: datetime.date | None = Field(None, description="Today when left out.")
    amount: Decimal
    currency: CurrencyCode | None = Field(None, description="The base currency when left out.")
    exchange_rate: Decimal | None = Field(None, description=RATE)
    method: PaymentMethodCode = "bank"
    invoice: int | None = Field(
        None, description="An invoice of the same card; without one the payment is an advance."
    )
    notes: str = ""


class InvoiceBalanceOut(Schema):
    id: int
    number: str
    due_on: datetime.date
    currency: str
    amount: str
    paid: str
    rest: str
    state: InvoiceState

    @staticmethod
    def resolve_amount(obj: Any) -> str | None:
        return money_str(obj.amount)

    @staticmethod
    def resolve_paid(obj: Any) -> str | None:
        return money_str(obj.paid)

    @staticmethod
    def resolve_rest(obj: Any) -> str | None:
        return money_str(obj.rest)


class BalanceOut(Schema):
    """The card's money picture in the base currency (`currency`). balance = invoiced − paid:
    positive means the client owes, negative that the client paid in advance."""

    currency: str
    invoiced_base: str
    paid_base: str
    balance_base: str
    overdue_base: str = Field(description="Unpaid rest of invoices past their due date.")
    credit_limit: str | None
    credit_left: str | None = Field(description="Limit − balance; negative beyond the limit.")
    invoices: list[InvoiceBalanceOut]

    @staticmethod
    def resolve_invoiced_base(obj: Any) -> str | None:
        return money_str(obj.invoiced_base)

    @staticmethod
    def resolve_paid_base(obj: Any) -> str | None:
        return money_str(obj.paid_base)

    @staticmethod
    def resolve_balance_base(obj: Any) -> str | None:
        return money_str(obj.balance_base)

    @staticmethod
    def resolve_overdue_base(obj: Any) -> str | None:
        return money_str(obj.overdue_base)

    @staticmethod
    def resolve_credit_limit(obj: Any) -> str | None:
        return money_str(obj.credit_limit)

    @staticmethod
    def resolve_credit_left(obj: Any) -> str | None:
        return money_str(obj.credit_left)
