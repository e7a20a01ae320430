"""plans.selectors.plan_progress: progress computed from the logged interactions and orders,
with period boundaries in the business's time zone (Europe/Moscow here, UTC+3)."""

import datetime
from decimal import Decimal as D

import pytest

from kartoteka.activities.services import interaction_delete
from kartoteka.clients.tests.factories import make_person
from kartoteka.plans import selectors
from kartoteka.plans.models import Plan, period_bounds
from kartoteka.plans.tests.factories import log_interaction, make_plan, utc
from kartoteka.sales.tests.factories import line, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _moscow(settings):
    settings.TIME_ZONE = "Europe/Moscow"


def value_of(plan: Plan) -> D:
    [progress] = selectors.plan_progress([plan], today=plan.period_start)
    return progress.value


def test_period_bounds_snap_to_week_month_and_quarter():
    day = datetime.date(2024, 2, 29)  # a Thursday in a leap February

    assert period_bounds("week", day) == (datetime.date(2024, 2, 26), datetime.date(2024, 3, 4))
    assert period_bounds("month", day) == (datetime.date(2024, 2, 1), datetime.date(2024, 3, 1))
    assert period_bounds("quarter", day) == (datetime.date(2024, 1, 1), datetime.date(2024, 4, 1))
    assert period_bounds("quarter", datetime.date(2024, 12, 31)) == (
        datetime.date(2024, 10, 1),
        datetime.date(2025, 1, 1),
    )


def test_week_boundaries_follow_moscow_midnight(mallory, alice):
    card = make_person(alice)
    plan = make_plan(mallory, employee=alice, period="week", period_start=datetime.date(2024, 3, 4))
    # Sunday 23:59 in Moscow (previous week), Monday 00:30 Moscow (Sunday 21:30 UTC),
    # Sunday 23:59 Moscow at the end, Monday 00:00 Moscow of the next week.
    log_interaction(alice, card, utc(2024, 3, 3, 20, 59))
    log_interaction(alice, card, utc(2024, 3, 3, 21, 30))
    log_interaction(alice, card, utc(2024, 3, 10, 20, 59))
    log_interaction(alice, card, utc(2024, 3, 10, 21, 0))

    assert value_of(plan) == D(2)


def test_month_boundaries_follow_moscow_midnight(mallory, alice):
    card = make_person(alice)
    plan = make_plan(
        mallory,
        employee=alice,
        metric="interactions",
        period="month",
        period_start=datetime.date(2024, 3, 1),
    )
    log_interaction(alice, card, utc(2024, 2, 29, 20, 59), kind="email")  # 29 Feb 23:59 MSK
    log_interaction(alice, card, utc(2024, 2, 29, 21, 0), kind="email")  # 1 Mar 00:00 MSK
    log_interaction(alice, card, utc(2024, 3, 31, 20, 59), kind="note")  # 31 Mar 23:59 MSK
    log_interaction(alice, card, utc(2024, 3, 31, 21, 0), kind="note")  # 1 Apr 00:00 MSK

    assert value_of(plan) == D(2)


def test_only_the_metric_kind_counts_and_deleted_interactions_do_not(mallory, alice, bob):
    card = make_person(alice)
    calls = make_plan(mallory, employee=alice, metric="calls")
    meetings = make_plan(mallory, employee=alice, metric="meetings")
    everything = make_plan(mallory, employee=alice, metric="interactions")
    monday = utc(2024, 3, 4, 9, 0)
    log_interaction(alice, card, monday, kind="call")
    log_interaction(alice, card, monday, kind="meeting")
    log_interaction(alice, card, monday, kind="visit")
    deleted = log_interaction(alice, card, monday, kind="call")
    interaction_delete(actor=alice, interaction=deleted)
    log_interaction(bob, card, monday, kind="call")  # someone else's call

    values = [p.value for p in selectors.plan_progress([calls, meetings, everything])]

    assert values == [D(1), D(1), D(3)]


def test_orders_count_taken_orders_and_revenue_converts_completed_ones(ada, mallory, alice):
    card = make_person(alice)
    orders = make_plan(
        mallory,
        employee=alice,
        metric="orders",
        period="month",
        period_start=datetime.date(2024, 3, 1),
    )
    revenue = make_plan(
        mallory,
        employee=alice,
        metric="revenue",
        period="month",
        period_start=datetime.date(2024, 3, 1),
        target=D("50000"),
    )
    march = datetime.date(2024, 3, 15)
    make_order(
        alice, card, ordered_on=march, status="completed", lines=[line("Краска", "2", "1500.00")]
    )  # 3,000.00 RUB
    make_order(
        alice,
        card,
        ordered_on=march,
        status="completed",
        currency="USD",
        exchange_rate=D("92.5"),
        lines=[line("Kit", "1", "100.00")],
    )  # 9,250.00 RUB
    make_order(alice, card, ordered_on=march, status="new", lines=[line("Уход", "1", "700")])
    make_order(alice, card, ordered_on=march, status="cancelled", lines=[line("X", "1", "900")])
    make_order(alice, card, ordered_on=datetime.date(2024, 4, 1), status="completed")

    [order_progress, revenue_progress] = selectors.plan_progress([orders, revenue])

    assert order_progress.value == D(3)  # completed, completed, new; not the cancelled one
    assert revenue_progress.value == D("12250.00")
    assert revenue_progress.percent == 24  # 12,250 of 50,000


def test_team_plan_sums_its_members_and_nobody_else(mallory, alice, bob, charlie, north):
    card = make_person(alice)
    south_card = make_person(charlie)
    plan = make_plan(mallory, team=north)
    monday = utc(2024, 3, 5, 9, 0)
    log_interaction(alice, card, monday)
    log_interaction(bob, card, monday)
    log_interaction(mallory, card, monday)
    log_interaction(charlie, south_card, monday)

    assert value_of(plan) == D(3)


def test_percent_and_state_compare_with_the_time_gone(mallory, alice):
    card = make_person(alice)
    plan = make_plan(mallory, employee=alice, target=D("4"))
    log_interaction(alice, card, utc(2024, 3, 4, 9, 0))

    def state_on(day):
        [progress] = selectors.plan_progress([plan], today=day)
        return progress.percent, progress.expected_percent, progress.state

    assert state_on(datetime.date(2024, 3, 1)) == (25, 0, "upcoming")
    assert state_on(datetime.date(2024, 3, 4)) == (25, 14, "on_track")
    assert state_on(datetime.date(2024, 3, 7)) == (25, 57, "behind")
    assert state_on(datetime.date(2024, 3, 11)) == (25, 100, "missed")
    for _ in range(3):
        log_interaction(alice, card, utc(2024, 3, 5, 9, 0))
    assert state_on(datetime.date(2024, 3, 11)) == (100, 100, "done")


def test_progress_query_count_does_not_grow_with_plans(
    mallory, alice, bob, north, django_assert_num_queries
):
    card = make_person(alice)
    plans = []
    for person in (alice, bob, mallory):
        for metric in ("calls", "meetings", "orders", "revenue"):
            plans.append(make_plan(mallory, employee=person, metric=metric))
        plans.append(
            make_plan(
                mallory,
                employee=person,
                metric="calls",
                period="month",
                period_start=datetime.date(2024, 3, 1),
            )
        )
    plans.append(make_plan(mallory, team=north))
    log_interaction(alice, card, utc(2024, 3, 5, 9, 0))

    # Team members; interactions and orders for the week; interactions only for the month
    # (its plans count calls only).
    with django_assert_num_queries(4):
        progress = selectors.plan_progress(plans)

    assert len(progress) == 16
    assert progress[-1].value == D(1)
