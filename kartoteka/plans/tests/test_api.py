"""The REST API of plans, the dashboard and reassignment: the same permissions as the web
pages, the one error shape (422 per field, 403, 404, 409), refused calls changing nothing,
OpenAPI."""

import datetime
import typing
from decimal import Decimal as D

import pytest
from django.utils import timezone

from kartoteka.clients.models import Client
from kartoteka.clients.tests.factories import make_person
from kartoteka.core.models import ObjectChange
from kartoteka.plans import schemas, selectors, services
from kartoteka.plans.models import Plan
from kartoteka.plans.tests.factories import log_interaction, make_plan
from kartoteka.plans.tests.test_reassign import make_task
from kartoteka.tasks.models import Task

pytestmark = pytest.mark.django_db

API = "/api/v1"


def body(user, **overrides):
    return {
        "employee": user.pk,
        "metric": "calls",
        "period": "week",
        "period_start": "2024-03-06",
        "target": "200",
        **overrides,
    }


def test_create_returns_the_plan_with_its_progress(mallory, alice, api_client_for):
    response = api_client_for(mallory).post(
        f"{API}/plans", body(alice), content_type="application/json"
    )

    assert response.status_code == 201
    data = response.json()
    plan = Plan.objects.get()
    assert data["id"] == plan.pk
    assert data["employee"] == {"id": alice.pk, "name": "Alice"}
    assert data["team"] is None
    assert (data["period_start"], data["period_end"]) == ("2024-03-04", "2024-03-11")
    assert data["target"] == "200.00"
    assert data["progress"] == {
        "value": "0.00",
        "target": "200.00",
        "percent": 0,
        "expected_percent": 100,
        "state": "missed",
    }
    assert data["version"] == 1


@pytest.mark.parametrize(
    ("actor", "subject", "status"),
    [
        ("ada", "charlie", 201),
        ("mallory", "alice", 201),
        ("mallory", "charlie", 403),
        ("alice", "alice", 403),
        ("bob", "alice", 403),
        ("rita", "alice", 403),
        ("charlie", "charlie", 403),
    ],
)
def test_create_permission_matrix(users, api_client_for, actor, subject, status):
    response = api_client_for(users[actor]).post(
        f"{API}/plans", body(users[subject]), content_type="application/json"
    )

    assert response.status_code == status
    if status == 403:
        assert response.json()["code"] == "permission_denied"
        assert Plan.objects.count() == 0
        assert not ObjectChange.objects.filter(content_type__model="plan").exists()


def test_invalid_plan_is_422_per_field(mallory, alice, north, api_client_for):
    client = api_client_for(mallory)

    shape = client.post(
        f"{API}/plans", body(alice, metric="smiles", extra=1), content_type="application/json"
    )
    rules = client.post(
        f"{API}/plans",
        body(alice, team=north.pk, target="12.5"),
        content_type="application/json",
    )

    assert shape.status_code == 422
    assert {(e["field"], e["code"]) for e in shape.json()["errors"]} == {
        ("metric", "invalid_choice"),
        ("extra", "unknown_field"),
    }
    assert rules.status_code == 422
    assert rules.json()["code"] == "invalid"
    assert {(e["field"], e["code"]) for e in rules.json()["errors"]} == {
        ("employee", "one_subject"),
        ("target", "whole_number"),
    }
    assert Plan.objects.count() == 0


@pytest.mark.parametrize(
    ("reader", "visible"),
    [("ada", 3), ("mallory", 2), ("alice", 1), ("rita", 0), ("charlie", 1)],
)
def test_list_shows_what_each_role_may_read(users, ada, api_client_for, reader, visible):
    for name in ("alice", "bob", "charlie"):
        make_plan(ada, employee=users[name])

    response = api_client_for(users[reader]).get(f"{API}/plans")

    assert response.status_code == 200
    assert len(response.json()) == visible


def test_list_and_get_count_progress(mallory, alice, api_client_for):
    card = make_person(alice)
    plan = make_plan(mallory, employee=alice, period_start=selectors.business_today())
    log_interaction(alice, card, timezone.now())
    client = api_client_for(alice)

    listed = client.get(f"{API}/plans", {"current": "true"})
    single = client.get(f"{API}/plans/{plan.pk}")
    progress = client.get(f"{API}/plans/{plan.pk}/progress")

    assert [p["progress"]["value"] for p in listed.json()] == ["1.00"]
    assert single.json()["progress"]["percent"] == 10
    assert progress.json()["value"] == "1.00"


def test_list_query_count_does_not_grow(ada, users, api_client_for, django_assert_num_queries):
    client = api_client_for(ada)
    for name in ("alice", "bob"):
        make_plan(ada, employee=users[name])
    make_plan(ada, employee=users["alice"], metric="orders")
    client.get(f"{API}/plans")
    # The token, the plans, the week's interactions and orders.
    with django_assert_num_queries(4):
        few = client.get(f"{API}/plans")
    for name in ("charlie", "mallory", "rita"):
        make_plan(ada, employee=users[name], metric="revenue")
        make_plan(ada, employee=users[name], metric="meetings")
    with django_assert_num_queries(4):
        many = client.get(f"{API}/plans")

    assert (len(few.json()), len(many.json())) == (3, 9)


def test_patch_with_stale_version_is_409_with_the_current_plan(mallory, ada, alice, api_client_for):
    plan = make_plan(mallory, employee=alice)
    services.plan_update(
        actor=ada, plan=Plan.objects.get(), expected_version=1, data={"target": D("20")}
    )

    response = api_client_for(mallory).patch(
        f"{API}/plans/{plan.pk}", {"version": 1, "target": "30"}, content_type="application/json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "version_conflict"
    assert response.json()["current"]["target"] == "20.00"
    assert Plan.objects.get().target == D("20")


def test_patch_and_delete(mallory, alice, api_client_for):
    plan = make_plan(mallory, employee=alice)
    client = api_client_for(mallory)

    patched = client.patch(
        f"{API}/plans/{plan.pk}", {"version": 1, "target": "15"}, content_type="application/json"
    )
    deleted = client.delete(f"{API}/plans/{plan.pk}")

    assert patched.status_code == 200
    assert (patched.json()["target"], patched.json()["version"]) == ("15.00", 2)
    assert deleted.status_code == 204
    assert Plan.objects.count() == 0


@pytest.mark.parametrize(("reader", "status"), [("alice", 403), ("bob", 404), ("charlie", 404)])
def test_patch_and_delete_refused(users, mallory, api_client_for, reader, status):
    plan = make_plan(mallory, employee=users["alice"])
    client = api_client_for(users[reader])

    patched = client.patch(
        f"{API}/plans/{plan.pk}", {"version": 1, "target": "99"}, content_type="application/json"
    )
    deleted = client.delete(f"{API}/plans/{plan.pk}")

    assert (patched.status_code, deleted.status_code) == (status, status)
    assert Plan.objects.get().target == D("10")


def test_dashboard_per_role(mallory, alice, bob, rita, charlie, ada, api_client_for):
    make_plan(mallory, employee=alice, period_start=selectors.business_today())
    make_task(alice, None, due_at=timezone.now() - datetime.timedelta(days=1))

    as_manager = api_client_for(mallory).get(f"{API}/dashboard", {"period": "month"})
    as_alice = api_client_for(alice).get(f"{API}/dashboard")
    as_admin = api_client_for(ada).get(f"{API}/dashboard")
    bad_team = api_client_for(mallory).get(f"{API}/dashboard", {"team_id": 999})

    rows = {r["employee"]["name"]: r for r in as_manager.json()["rows"]}
    assert set(rows) == {"Alice", "Bob", "Rita"}
    assert (rows["Alice"]["open_tasks"], rows["Alice"]["overdue_tasks"]) == (1, 1)
    assert rows["Alice"]["plans"][0]["progress"]["state"] in {"on_track", "behind", "done"}
    assert as_manager.json()["period"] == "month"
    assert [r["employee"]["name"] for r in as_alice.json()["rows"]] == ["Alice"]
    assert len(as_admin.json()["rows"]) == 5
    assert bad_team.status_code == 404


def test_reassignment_preview_then_execute(mallory, alice, bob, api_client_for):
    cards = [make_person(alice, last_name=f"Клиент-{i}") for i in range(2)]
    make_task(alice, cards[0])
    make_task(alice, cards[1], status="done")
    client = api_client_for(mallory)
    payload = {"from_user": alice.pk, "to_user": bob.pk}

    preview = client.post(f"{API}/reassignments/preview", payload, content_type="application/json")
    done = client.post(f"{API}/reassignments", payload, content_type="application/json")

    assert preview.status_code == 200
    assert (preview.json()["card_count"], preview.json()["task_count"]) == (2, 1)
    assert {c["id"] for c in preview.json()["cards"]} == {c.pk for c in cards}
    assert done.status_code == 200
    assert done.json()["cards"] == 2
    assert done.json()["tasks"] == 1
    assert ObjectChange.objects.get(pk=done.json()["change_id"]).message == "reassigned"
    assert Client.objects.filter(responsible=bob).count() == 2
    assert Task.objects.get(status="done").assignee == alice


@pytest.mark.parametrize(
    ("actor", "leaver", "to_user", "status"),
    [
        ("alice", "bob", "alice", 404),
        ("rita", "alice", "bob", 404),
        ("mallory", "charlie", "bob", 404),
        ("mallory", "mallory", "bob", 403),
        ("mallory", "alice", "charlie", 422),
        ("mallory", "alice", "alice", 422),
        ("ada", "alice", "charlie", 200),
    ],
)
def test_reassignment_permission_matrix(users, api_client_for, actor, leaver, to_user, status):
    make_person(users["alice"])
    make_person(users["mallory"])
    client = api_client_for(users[actor])
    logged = ObjectChange.objects.count()
    payload = {"from_user": users[leaver].pk, "to_user": users[to_user].pk}

    preview = client.post(f"{API}/reassignments/preview", payload, content_type="application/json")
    response = client.post(f"{API}/reassignments", payload, content_type="application/json")

    assert response.status_code == status
    assert preview.status_code == (200 if status == 422 else status)
    if status != 200:
        assert set(Client.objects.values_list("responsible__username", flat=True)) == {
            "alice",
            "mallory",
        }
        assert ObjectChange.objects.count() == logged


def test_reassignment_to_unknown_user_is_422(mallory, alice, api_client_for):
    response = api_client_for(mallory).post(
        f"{API}/reassignments",
        {"from_user": alice.pk, "to_user": 99999},
        content_type="application/json",
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "to_user", "message": "No such record.", "code": "not_found"}
    ]


def test_schema_choices_match_the_model():
    assert set(typing.get_args(schemas.MetricCode)) == set(Plan.Metric.values)
    assert set(typing.get_args(schemas.PeriodCode)) == set(Plan.Period.values)


def test_openapi_lists_the_operations(client):
    paths = client.get(f"{API}/openapi.json").json()["paths"]

    operations = {
        op["operationId"]
        for path, item in paths.items()
        for op in item.values()
        if path.startswith(f"{API}/plans")
        or path.startswith(f"{API}/dashboard")
        or path.startswith(f"{API}/reassignments")
    }
    assert operations == {
        "plan_list",
        "plan_create",
        "plan_get",
        "plan_progress",
        "plan_update",
        "plan_delete",
        "dashboard",
        "reassignment_preview",
        "reassignment_create",
    }
