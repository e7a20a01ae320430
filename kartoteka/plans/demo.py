"""Demo plans: targets for the demo teams and their people for the periods running today, so
the dashboard has something to show right after `kartoteka demo`."""

import random
from decimal import Decimal

from django.core.exceptions import ValidationError

from kartoteka.accounts.models import Team, User
from kartoteka.clients.demo import Staff
from kartoteka.plans import selectors, services


def demo_plans_ensure(staff: Staff, *, seed: int = 7) -> int:
    """Set week, month and team plans for the demo staff (the first member of each team is its
    manager and sets them). Plans that exist already are left alone. Returns how many were
    made."""
    rng = random.Random(seed)
    today = selectors.business_today()
    made = 0
    for team_id, member_ids in staff.teams.items():
        if not member_ids:
            continue
        people = {u.pk: u for u in User.objects.filter(pk__in=member_ids, is_active=True)}
        manager = people.get(member_ids[0])
        actor = manager if manager is not None and manager.role == User.Role.MANAGER else None
        wanted: list[dict] = []
        for user_id in member_ids[1:]:
            if user_id not in people:
                continue
            employee = people[user_id]
            wanted += [
                {
                    "employee": employee,
                    "metric": "calls",
                    "period": "week",
                    "target": Decimal(rng.choice([30, 40, 50, 60])),
                },
                {
                    "employee": employee,
                    "metric": "meetings",
                    "period": "month",
                    "target": Decimal(rng.choice([8, 10, 12, 15])),
                },
                {
                    "employee": employee,
                    "metric": "revenue",
                    "period": "month",
                    "target": Decimal(rng.randrange(300, 900) * 1000),
                },
            ]
        wanted.append(
            {
                "team": Team.objects.get(pk=team_id),
                "metric": "interactions",
                "period": "month",
                "target": Decimal(rng.choice([300, 400, 500])),
            }
        )
        for data in wanted:
            try:
                services.plan_create(actor=actor, data={**data, "period_start": today})
            except ValidationError:
                continue  # already planned (or the person cannot hold a plan): keep what is
            made += 1
    return made
