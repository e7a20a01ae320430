"""The web pages: dashboard, drill-down, plans and reassignment, for each role; errors per
field, version conflicts, refused actions changing nothing, and query counts that do not grow
with the number of people."""

import datetime
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kartoteka.accounts.models import User
from kartoteka.accounts.services import user_create
from kartoteka.clients.models import Client
from kartoteka.clients.tests.factories import make_person
from kartoteka.core.models import ObjectChange
from kartoteka.plans import selectors, services
from kartoteka.plans.models import Plan
from kartoteka.plans.tests.factories import log_interaction, make_plan
from kartoteka.plans.tests.test_reassign import make_task
from kartoteka.tasks.models import Task

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("plans:dashboard")


def this_week() -> datetime.date:
    return selectors.business_today()


def test_manager_sees_team_members_with_tasks_plans_and_progress(
    mallory, alice, bob, rita, charlie, web_client_for
):
    card = make_person(alice)
    make_plan(mallory, employee=alice, period_start=this_week(), target=D("4"))
    log_interaction(alice, card, timezone.now())
    make_task(alice, card)
    make_task(alice, card, due_at=timezone.now() - datetime.timedelta(hours=2))

    response = web_client_for(mallory).get(DASHBOARD)

    assert response.status_code == 200
    rows = {row.employee.username: row for row in response.context["board"].rows}
    assert set(rows) == {"alice", "bob", "rita"}
    assert (rows["alice"].open_tasks, rows["alice"].overdue_tasks) == (2, 1)
    [progress] = rows["alice"].progress
    assert (progress.value, progress.percent) == (D(1), 25)
    assert rows["alice"].last_activity_kind == "interaction"
    assert rows["bob"].progress == []
    html = response.content.decode()
    assert "Charlie" not in html
    assert 'aria-valuenow="25"' in html
    assert "css/plans.css" in html


def test_admin_sees_everyone_and_filters_by_team(ada, users, south, web_client_for):
    client = web_client_for(ada)

    everyone = client.get(DASHBOARD)
    south_only = client.get(DASHBOARD, {"team": south.pk, "period": "month"})

    names = {row.employee.username for row in everyone.context["board"].rows}
    assert names == {"alice", "bob", "charlie", "mallory", "rita"}
    assert [row.employee.username for row in south_only.context["board"].rows] == ["charlie"]
    assert south_only.context["board"].period == "month"


def test_employee_sees_only_their_own_progress(alice, bob, mallory, web_client_for):
    make_plan(mallory, employee=alice, period_start=this_week())
    make_plan(mallory, employee=bob, period_start=this_week())

    response = web_client_for(alice).get(DASHBOARD)

    board = response.context["board"]
    assert board.is_own is True
    assert [row.employee for row in board.rows] == [alice]
    assert [p.plan.employee for p in board.rows[0].progress] == [alice]
    assert "My progress" in response.content.decode()


def test_manager_cannot_filter_by_someone_elses_team(mallory, south, web_client_for):
    response = web_client_for(mallory).get(DASHBOARD, {"team": south.pk})

    assert response.status_code == 404


def test_dashboard_query_count_does_not_grow_with_people(ada, north, web_client_for):
    client = web_client_for(ada)

    def add_people(count: int, start: int) -> None:
        for i in range(start, start + count):
            person = user_create(
                actor=None,
                username=f"emp{i}",
                password="x-pass-1234",
                role="employee",
                teams=[north],
            )
            card = make_person(person)
            make_plan(ada, employee=person, period_start=this_week())
            make_plan(
                ada, employee=person, metric="revenue", period="month", period_start=this_week()
            )
            log_interaction(person, card, timezone.now())
            make_task(person, card)

    add_people(2, 0)
    client.get(DASHBOARD)  # warm caches (content types, the session)
    with CaptureQueriesContext(connection) as few:
        client.get(DASHBOARD)
    add_people(12, 10)
    with CaptureQueriesContext(connection) as many:
        response = client.get(DASHBOARD)

    assert len(response.context["board"].rows) == 14
    assert len(many) == len(few)
    assert len(many) <= 20


@pytest.mark.parametrize(
    ("viewer", "person", "status"),
    [
        ("ada", "charlie", 200),
        ("mallory", "alice", 200),
        ("mallory", "charlie", 404),
        ("alice", "alice", 200),
        ("alice", "bob", 404),
        ("rita", "alice", 404),
    ],
)
def test_drill_down_is_for_supervisors_and_oneself(users, web_client_for, viewer, person, status):
    response = web_client_for(users[viewer]).get(reverse("plans:person", args=[users[person].pk]))

    assert response.status_code == status


def test_drill_down_lists_open_tasks_and_interactions(mallory, alice, web_client_for):
    card = make_person(alice, last_name="Смирнова")
    make_task(alice, card, title="Позвонить насчёт заказа")
    make_task(alice, card, title="Уже сделано", status="done")
    log_interaction(alice, card, timezone.now())

    response = web_client_for(mallory).get(reverse("plans:person", args=[alice.pk]))

    html = response.content.decode()
    assert "Позвонить насчёт заказа" in html
    assert "Уже сделано" not in html
    assert "Смирнова" in html
    assert [t.title for t in response.context["work"].tasks] == ["Позвонить насчёт заказа"]
    assert len(response.context["work"].interactions) == 1


# --- Plans pages --------------------------------------------------------------------------------


def plan_post(subject: User, **overrides) -> dict[str, str]:
    return {
        "employee": str(subject.pk),
        "team": "",
        "metric": "calls",
        "period": "week",
        "period_start": "2024-03-06",
        "target": "200",
        "notes": "",
        **overrides,
    }


@pytest.mark.parametrize(
    ("actor", "subject", "outcome"),
    [
        ("ada", "charlie", 302),
        ("mallory", "alice", 302),
        ("mallory", "charlie", 422),  # not among the choices offered
        ("alice", "alice", 403),
        ("rita", "alice", 403),
    ],
)
def test_plan_create_page_per_role(users, web_client_for, actor, subject, outcome):
    response = web_client_for(users[actor]).post(
        reverse("plans:plan-create"), plan_post(users[subject])
    )

    assert response.status_code == outcome
    if outcome == 302:
        plan = Plan.objects.get()
        assert (plan.employee, plan.period_start) == (users[subject], datetime.date(2024, 3, 4))
    else:
        assert Plan.objects.count() == 0


def test_plan_form_shows_errors_per_field_and_keeps_input(mallory, alice, web_client_for):
    response = web_client_for(mallory).post(
        reverse("plans:plan-create"), plan_post(alice, target="10.5", notes="Весна")
    )

    assert response.status_code == 422
    form = response.context["form"]
    assert form.errors["target"] == [
        "Calls, meetings, interactions and orders are counted in whole numbers."
    ]
    assert form["notes"].value() == "Весна"
    assert Plan.objects.count() == 0


def test_plan_edit_conflict_keeps_input_and_saves_nothing(mallory, ada, alice, web_client_for):
    plan = make_plan(mallory, employee=alice)
    services.plan_update(
        actor=ada, plan=Plan.objects.get(), expected_version=1, data={"target": D("20")}
    )

    response = web_client_for(mallory).post(
        reverse("plans:plan-edit", args=[plan.pk]),
        plan_post(alice, target="30", version="1", period_start="2024-03-04"),
    )

    assert response.status_code == 409
    assert response.context["form"]["target"].value() == "30"
    assert "Someone changed this plan" in response.content.decode()
    assert Plan.objects.get().target == D("20")


def test_plan_edit_and_delete_pages(mallory, alice, web_client_for):
    plan = make_plan(mallory, employee=alice)
    client = web_client_for(mallory)

    assert client.get(reverse("plans:plan-edit", args=[plan.pk])).status_code == 200
    saved = client.post(
        reverse("plans:plan-edit", args=[plan.pk]),
        plan_post(alice, target="25", version="1", period_start="2024-03-04"),
    )
    assert saved.status_code == 302
    assert Plan.objects.get().target == D("25")
    assert client.get(reverse("plans:plan-delete", args=[plan.pk])).status_code == 200
    assert client.post(reverse("plans:plan-delete", args=[plan.pk])).status_code == 302
    assert Plan.objects.count() == 0


@pytest.mark.parametrize(
    ("viewer", "status"), [("alice", 403), ("bob", 404), ("rita", 404), ("charlie", 404)]
)
def test_plan_edit_and_delete_refused(users, mallory, web_client_for, viewer, status):
    plan = make_plan(mallory, employee=users["alice"])
    client = web_client_for(users[viewer])

    edit = client.post(
        reverse("plans:plan-edit", args=[plan.pk]),
        plan_post(users["alice"], target="99", version="1"),
    )
    delete = client.post(reverse("plans:plan-delete", args=[plan.pk]))

    assert (edit.status_code, delete.status_code) == (status, status)
    assert Plan.objects.get().target == D("10")


def test_plan_list_shows_progress_to_each_reader(mallory, alice, bob, web_client_for):
    make_plan(mallory, employee=alice, period_start=this_week())
    make_plan(mallory, employee=bob, period_start=this_week())

    as_alice = web_client_for(alice).get(reverse("plans:plan-list"))
    as_mallory = web_client_for(mallory).get(reverse("plans:plan-list"))

    assert [p.plan.employee for p in as_alice.context["progress"]] == [alice]
    assert len(as_mallory.context["progress"]) == 2
    assert "New plan" not in as_alice.content.decode()


# --- Reassignment page --------------------------------------------------------------------------


def reassign_url(user: User) -> str:
    return reverse("plans:reassign", args=[user.pk])


def test_reassign_page_previews_then_moves(mallory, alice, bob, web_client_for):
    cards = [make_person(alice, last_name=f"Клиент-{i}") for i in range(3)]
    make_task(alice, cards[0], title="Отправить КП")
    client = web_client_for(mallory)

    preview = client.get(
        reassign_url(alice), {"to_user": bob.pk, "include_cards": "on", "include_tasks": "on"}
    )
    done = client.post(
        reassign_url(alice),
        {"to_user": bob.pk, "include_cards": "on", "include_tasks": "on", "confirm": "1"},
    )

    assert preview.status_code == 200
    assert (preview.context["preview"].card_count, preview.context["preview"].task_count) == (3, 1)
    assert "Отправить КП" in preview.content.decode()
    assert done.status_code == 302
    assert Client.objects.filter(responsible=bob).count() == 3
    assert Task.objects.get().assignee == bob


def test_reassign_page_shows_errors_and_moves_nothing(mallory, alice, rita, web_client_for):
    make_person(alice)
    logged = ObjectChange.objects.count()

    response = web_client_for(mallory).post(
        reassign_url(alice), {"to_user": rita.pk, "include_cards": "on", "confirm": "1"}
    )

    assert response.status_code == 422
    assert response.context["form"].errors["to_user"] == [
        "A read-only user cannot hold cards or tasks."
    ]
    assert Client.objects.get().responsible == alice
    assert ObjectChange.objects.count() == logged


@pytest.mark.parametrize(
    ("viewer", "leaver", "status"),
    [
        ("ada", "alice", 200),
        ("mallory", "alice", 200),
        ("mallory", "charlie", 404),
        ("mallory", "mallory", 404),
        ("alice", "bob", 404),
        ("rita", "alice", 404),
    ],
)
def test_reassign_page_per_role(users, web_client_for, viewer, leaver, status):
    make_person(users["alice"])
    client = web_client_for(users[viewer])
    to_user = users["bob"] if leaver != "bob" else users["alice"]

    page = client.get(reassign_url(users[leaver]))
    post = client.post(
        reassign_url(users[leaver]), {"to_user": to_user.pk, "include_cards": "on", "confirm": "1"}
    )

    assert page.status_code == status
    if status == 404:
        assert post.status_code == 404
        assert Client.objects.get().responsible == users["alice"]
