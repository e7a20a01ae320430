"""Finance test data, built through the real services."""

import datetime
from decimal import Decimal
from typing import Any

from kartoteka.accounts.models import User
from kartoteka.clients.models import Client
from kartoteka.finance import services
from kartoteka.finance.models import Invoice, Payment


def make_invoice(actor: User, client: Client, amount: str = "1000.00", **data: Any) -> Invoice:
    fields = {
        "issued_on": datetime.date(2024, 3, 1),
        "due_on": datetime.date(2024, 3, 10),
        "amount": Decimal(amount),
        **data,
    }
    return services.invoice_create(actor=actor, client=client, data=fields)


def make_payment(
    actor: User, client: Client, amount: str, invoice: Invoice | None = None, **data: Any
) -> Payment:
    fields = {
        "paid_on": datetime.date(2024, 3, 5),
        "amount": Decimal(amount),
        "invoice": invoice,
        **data,
    }
    return services.payment_create(actor=actor, client=client, data=fields)
