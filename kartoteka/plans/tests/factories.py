"""Plans, interactions and orders made through the real services."""

import datetime
from decimal import Decimal
from typing import Any

from kartoteka.accounts.models import User
from kartoteka.activities.models import Interaction
from kartoteka.activities.services import interaction_create
from kartoteka.clients.models import Client
from kartoteka.plans import services
from kartoteka.plans.models import Plan


def make_plan(actor: User, **data: Any) -> Plan:
    fields = {
        "metric": "calls",
        "period": "week",
        "period_start": datetime.date(2024, 3, 4),
        "target": Decimal("10"),
        **data,
    }
    return services.plan_create(actor=actor, data=fields)


def log_interaction(
    author: User, card: Client, occurred_at: datetime.datetime, kind: str = "call"
) -> Interaction:
    return interaction_create(
        actor=author,
        client=card,
        data={"kind": kind, "occurred_at": occurred_at, "subject": "Звонок по прайсу"},
    )


def utc(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=datetime.UTC)  # type: ignore[misc]
