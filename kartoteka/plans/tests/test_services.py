"""plans.services: plans set with permissions, validation per field, versions and change log;
refused writes change nothing."""

import datetime
from decimal import Decimal as D

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError

from kartoteka.core.models import ObjectChange
from kartoteka.plans import selectors, services
from kartoteka.plans.models import Plan
from kartoteka.plans.tests.factories import make_plan

pytestmark = pytest.mark.django_db


def plan_changes() -> list[ObjectChange]:
    content_type = ContentType.objects.get_for_model(Plan)
    return list(ObjectChange.objects.filter(content_type=content_type).order_by("pk"))


def error_codes(exc: ValidationError) -> dict[str, list[str]]:
    return {name: [e.code for e in errors] for name, errors in exc.error_dict.items()}


def test_create_snaps_the_start_saves_and_logs(mallory, alice):
    plan = services.plan_create(
        actor=mallory,
        data={
            "employee": alice,
            "metric": "calls",
            "period": "week",
            "period_start": datetime.date(2024, 3, 7),  # a Thursday
            "target": D("200"),
            "notes": "  Весенняя кампания ",
        },
    )

    saved = Plan.objects.get()
    assert saved.pk == plan.pk
    assert saved.period_start == datetime.date(2024, 3, 4)
    assert (saved.employee, saved.team, saved.target) == (alice, None, D("200.00"))
    assert saved.notes == "Весенняя кампания"
    assert saved.created_by == mallory
    assert saved.version == 1
    [change] = plan_changes()
    assert change.action == ObjectChange.Action.CREATE
    assert change.actor == mallory
    assert change.after["employee"] == alice.pk
    assert change.after["period_start"] == "2024-03-04"


# (actor, subject) -> may set a plan. Subjects: alice, charlie (South), mallory, north, south.
MATRIX = [
    ("ada", "alice", True),
    ("ada", "charlie", True),
    ("ada", "south", True),
    ("mallory", "alice", True),
    ("mallory", "mallory", True),
    ("mallory", "north", True),
    ("mallory", "charlie", False),
    ("mallory", "south", False),
    ("alice", "alice", False),
    ("alice", "north", False),
    ("bob", "alice", False),
    ("rita", "alice", False),
    ("rita", "north", False),
    ("charlie", "charlie", False),
]


def _subject(users, north, south, name):
    if name in ("north", "south"):
        return {"team": {"north": north, "south": south}[name]}
    return {"employee": users[name]}


@pytest.mark.parametrize(("actor", "subject", "allowed"), MATRIX)
def test_who_may_set_plans(users, north, south, actor, subject, allowed):
    data = _subject(users, north, south, subject)

    if allowed:
        plan = make_plan(users[actor], **data)
        assert Plan.objects.get().pk == plan.pk
        return
    with pytest.raises(PermissionDenied):
        make_plan(users[actor], **data)
    assert Plan.objects.count() == 0
    assert plan_changes() == []


@pytest.mark.parametrize(("actor", "subject", "allowed"), MATRIX)
def test_who_may_change_and_delete_plans(users, north, south, ada, actor, subject, allowed):
    plan = make_plan(ada, **_subject(users, north, south, subject))
    logged = len(plan_changes())

    if allowed:
        services.plan_update(
            actor=users[actor], plan=plan, expected_version=1, data={"target": D("12")}
        )
        assert Plan.objects.get().target == D("12")
        services.plan_delete(actor=users[actor], plan=plan)
        assert Plan.objects.count() == 0
        return
    with pytest.raises(PermissionDenied):
        services.plan_update(
            actor=users[actor], plan=plan, expected_version=1, data={"target": D("12")}
        )
    with pytest.raises(PermissionDenied):
        services.plan_delete(actor=users[actor], plan=plan)
    saved = Plan.objects.get()
    assert (saved.target, saved.version) == (D("10"), 1)
    assert len(plan_changes()) == logged


def test_manager_cannot_move_a_plan_out_of_their_teams(mallory, alice, charlie):
    plan = make_plan(mallory, employee=alice)

    with pytest.raises(PermissionDenied):
        services.plan_update(
            actor=mallory, plan=plan, expected_version=1, data={"employee": charlie}
        )

    assert Plan.objects.get().employee == alice
    assert plan.employee == alice


def test_every_broken_rule_is_reported_per_field(mallory, alice, north):
    with pytest.raises(ValidationError) as caught:
        services.plan_create(
            actor=mallory,
            data={
                "employee": alice,
                "team": north,
                "metric": "smiles",
                "period": "decade",
                "period_start": None,
                "target": D("-5"),
            },
        )

    assert error_codes(caught.value) == {
        "metric": ["invalid_choice"],
        "period": ["invalid_choice"],
        "period_start": ["invalid_date"],
        "target": ["target_positive"],
        "employee": ["one_subject"],
    }
    assert Plan.objects.count() == 0


@pytest.mark.parametrize(
    ("metric", "target", "code"),
    [
        ("calls", D("10.5"), "whole_number"),
        ("revenue", D("10.555"), "max_decimal_places"),
        ("revenue", D("0"), "target_positive"),
        ("orders", D("1e20"), "target_too_large"),
    ],
)
def test_target_rules(mallory, alice, metric, target, code):
    with pytest.raises(ValidationError) as caught:
        make_plan(mallory, employee=alice, metric=metric, target=target)

    assert error_codes(caught.value) == {"target": [code]}


def test_revenue_target_keeps_kopecks(mallory, alice):
    plan = make_plan(mallory, employee=alice, metric="revenue", target=D("150000.50"))

    assert Plan.objects.get(pk=plan.pk).target == D("150000.50")


def test_unknown_field_and_inactive_employee_are_refused(mallory, alice, bob):
    bob.is_active = False
    bob.save()

    with pytest.raises(ValidationError) as unknown:
        make_plan(mallory, employee=alice, progress=D("5"))
    with pytest.raises(ValidationError) as inactive:
        make_plan(mallory, employee=bob)

    assert error_codes(unknown.value) == {"progress": ["unknown_field"]}
    assert error_codes(inactive.value) == {"employee": ["inactive_user"]}
    assert Plan.objects.count() == 0


def test_one_plan_per_subject_metric_and_period(mallory, alice, north):
    make_plan(mallory, employee=alice)
    make_plan(mallory, team=north)

    with pytest.raises(ValidationError) as caught:
        make_plan(mallory, employee=alice, period_start=datetime.date(2024, 3, 10))

    assert error_codes(caught.value) == {"metric": ["duplicate_plan"]}
    assert Plan.objects.count() == 2
    make_plan(mallory, employee=alice, metric="meetings")  # another metric is another plan


def test_update_logs_changed_fields_and_bumps_version(mallory, alice, north):
    plan = make_plan(mallory, employee=alice)

    services.plan_update(
        actor=mallory, plan=plan, expected_version=1, data={"target": D("15"), "team": north}
    )

    saved = Plan.objects.get()
    assert (saved.team, saved.employee, saved.target, saved.version) == (north, None, D(15), 2)
    change = plan_changes()[-1]
    assert change.action == ObjectChange.Action.UPDATE
    assert change.before == {"employee": alice.pk, "team": None, "target": "10.00"}
    assert change.after == {"employee": None, "team": north.pk, "target": "15.00"}


def test_stale_version_is_refused_and_changes_nothing(mallory, ada, alice):
    plan = make_plan(mallory, employee=alice)
    services.plan_update(
        actor=ada, plan=Plan.objects.get(), expected_version=1, data={"target": D("20")}
    )

    with pytest.raises(services.PlanVersionConflict) as caught:
        services.plan_update(actor=mallory, plan=plan, expected_version=1, data={"target": D("30")})

    assert caught.value.current.target == D("20")
    assert caught.value.current.version == 2
    assert Plan.objects.get().target == D("20")
    assert plan.target == D("10")
    assert len(plan_changes()) == 2


def test_delete_keeps_the_plan_in_the_change_log(mallory, alice):
    plan = make_plan(mallory, employee=alice)
    pk = plan.pk

    services.plan_delete(actor=mallory, plan=plan, expected_version=1)

    assert Plan.objects.count() == 0
    change = plan_changes()[-1]
    assert (change.action, change.object_id) == (ObjectChange.Action.DELETE, pk)
    assert change.before["target"] == "10.00"


# --- Reading ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reader", "visible"),
    [
        ("ada", {"alice", "bob", "charlie", "north", "south"}),
        ("mallory", {"alice", "bob", "north"}),
        ("alice", {"alice", "north"}),
        ("bob", {"bob", "north"}),
        ("rita", {"north"}),
        ("charlie", {"charlie", "south"}),
    ],
)
def test_who_reads_which_plans(users, ada, north, south, reader, visible):
    for name in ("alice", "bob", "charlie"):
        make_plan(ada, employee=users[name])
    make_plan(ada, team=north)
    make_plan(ada, team=south)

    plans = selectors.plan_list(user=users[reader])

    assert {str(p.employee.username if p.employee else p.team.name.lower()) for p in plans} == (
        visible
    )
