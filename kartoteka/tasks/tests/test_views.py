"""The task pages: Today, the card's Tasks section, the complete form with "log it on the
card", the edit page with its conflict answer, the calendar; every role against every action."""

import datetime

import pytest
from django.urls import reverse

from kartoteka.activities.models import Interaction, TimelineEvent
from kartoteka.clients.tests.factories import make_person
from kartoteka.core.models import ObjectChange
from kartoteka.tasks import services
from kartoteka.tasks.models import Task
from kartoteka.tasks.tests.factories import MOSCOW, at, make_task

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def now(time_machine):
    moment = at(MOSCOW, 2026, 3, 10, 12)
    time_machine.move_to(moment, tick=False)
    return moment


@pytest.fixture
def card(alice):
    return make_person(alice, last_name="Петров", first_name="Олег", middle_name="")


def new_task_post(**overrides):
    data = {
        "title": "Позвонить насчёт договора",
        "kind": "call",
        "due_at": "2026-03-10T15:00",
        "priority": "2",
        "repeat": "",
        "repeat_interval": "1",
    }
    data.update(overrides)
    return data


def prefixed(prefix, data):
    return {f"{prefix}-{k}": v for k, v in data.items()}


def test_today_page_lists_the_three_buckets(web_client_for, alice, card, now):
    make_task(alice, client=card, title="Вчерашний звонок", due_at=at(MOSCOW, 2026, 3, 9, 10))
    make_task(alice, client=card, title="Сегодняшняя встреча", kind="meeting", due_at=now)
    make_task(alice, title="Через три дня", due_at=at(MOSCOW, 2026, 3, 13, 9))
    make_task(alice, title="Через месяц", due_at=at(MOSCOW, 2026, 4, 13, 9))

    response = web_client_for(alice).get(reverse("tasks:today"))

    html = response.content.decode()
    assert response.status_code == 200
    overdue, today, upcoming = (
        html.split('id="tasks-overdue"')[1].split('id="tasks-today"')[0],
        html.split('id="tasks-today"')[1].split('id="tasks-upcoming"')[0],
        html.split('id="tasks-upcoming"')[1],
    )
    assert "Вчерашний звонок" in overdue
    assert "Сегодняшняя встреча" in today
    assert "Через три дня" in upcoming
    assert "Через месяц" not in html
    assert card.get_absolute_url() in today
    assert "12:00" in today  # the time in the user's zone (Moscow)


def test_badge_counts_overdue_and_today(web_client_for, alice, now):
    make_task(alice, due_at=at(MOSCOW, 2026, 3, 9, 10))
    make_task(alice, due_at=at(MOSCOW, 2026, 3, 10, 18))
    make_task(alice, due_at=at(MOSCOW, 2026, 3, 11, 9))

    html = web_client_for(alice).get(reverse("tasks:badge")).content.decode()

    assert '<span class="nav-count" title="2">2</span>' in html


def test_nav_has_the_today_link(web_client_for, alice):
    html = web_client_for(alice).get(reverse("clients:list")).content.decode()

    assert f'href="{reverse("tasks:today")}"' in html
    assert f'hx-get="{reverse("tasks:badge")}"' in html


def test_create_from_today_page(web_client_for, alice, card, now):
    data = prefixed("new", new_task_post(card=str(card.number)))
    data["origin"] = "today"

    response = web_client_for(alice).post(reverse("tasks:new"), data, headers=HTMX)

    assert response.status_code == 200
    assert response["HX-Trigger"] == "tasks-changed"
    task = Task.objects.get()
    assert (task.client, task.assignee, task.title) == (card, alice, "Позвонить насчёт договора")
    assert task.due_at == at(MOSCOW, 2026, 3, 10, 15)
    assert "Позвонить насчёт договора" in response.content.decode()


def test_create_with_errors_keeps_the_input(web_client_for, alice, now):
    data = prefixed("new", new_task_post(title="", due_at="", repeat_interval="0", repeat="day"))
    data["origin"] = "today"

    response = web_client_for(alice).post(reverse("tasks:new"), data)

    assert response.status_code == 422
    html = response.content.decode()
    assert "This field is required." in html
    assert "Ensure this value is greater than or equal to 1." in html
    assert Task.objects.count() == 0


def test_card_section_lists_open_tasks_and_adds_one(web_client_for, alice, card, now):
    make_task(alice, client=card, title="Уже есть")
    client = web_client_for(alice)

    section = client.get(reverse("tasks:client-tasks", args=[card.pk]), headers=HTMX)
    added = client.post(
        reverse("tasks:client-task-create", args=[card.pk]),
        prefixed("task", new_task_post(title="")),
        headers=HTMX,
    )

    assert 'id="section-tasks"' in section.content.decode()
    assert "Уже есть" in section.content.decode()
    assert added.status_code == 200
    assert added["HX-Trigger"] == "card-changed, tasks-changed"
    new = Task.objects.get(title="Call: Петров Олег")
    assert new.client == card
    assert "Call: Петров Олег" in added.content.decode()


def test_card_page_loads_the_tasks_section(web_client_for, alice, card):
    html = web_client_for(alice).get(card.get_absolute_url()).content.decode()

    assert f'hx-get="{reverse("tasks:client-tasks", args=[card.pk])}"' in html


def test_complete_form_is_prefilled_for_a_call(web_client_for, alice, card, now):
    task = make_task(alice, client=card, title="Прайс на весну")

    response = web_client_for(alice).get(
        reverse("tasks:complete", args=[task.pk]) + "?origin=card", headers=HTMX
    )

    html = response.content.decode()
    assert 'name="done-log" id="id_done-log" checked' in html
    assert 'value="Прайс на весну"' in html
    assert 'name="log-kind" value="call"' in html
    assert 'hx-target="#section-tasks"' in html


def test_complete_form_does_not_tick_logging_for_an_email(web_client_for, alice, card, now):
    task = make_task(alice, client=card, kind="email")

    html = web_client_for(alice).get(reverse("tasks:complete", args=[task.pk])).content.decode()

    assert 'id="id_done-log" checked' not in html
    assert 'name="done-log"' in html


def complete_post(**overrides):
    data = {
        "done-log": "on",
        "log-kind": "call",
        "log-direction": "out",
        "log-occurred_at": "2026-03-10T12:00",
        "log-subject": "Прайс на весну",
        "log-outcome": "Договорились о встрече",
        "origin": "card",
    }
    data.update(overrides)
    return data


def test_complete_and_log_the_call_from_the_card(web_client_for, alice, card, now):
    task = make_task(alice, client=card, title="Прайс на весну")

    response = web_client_for(alice).post(
        reverse("tasks:complete", args=[task.pk]), complete_post(), headers=HTMX
    )

    assert response.status_code == 200
    assert response["HX-Trigger"] == "card-changed, tasks-changed"
    interaction = Interaction.objects.get()
    assert (interaction.client, interaction.kind, interaction.outcome) == (
        card,
        "call",
        "Договорились о встрече",
    )
    assert TimelineEvent.objects.get().title == "Outgoing call: Прайс на весну"
    saved = Task.objects.get()
    assert (saved.status, saved.interaction) == ("done", interaction)
    assert "No open tasks." in response.content.decode()


def test_complete_without_logging(web_client_for, alice, card, now):
    task = make_task(alice, client=card)
    data = complete_post()
    del data["done-log"]

    response = web_client_for(alice).post(reverse("tasks:complete", args=[task.pk]), data)

    assert response.status_code == 302
    assert response["Location"] == card.get_absolute_url()
    assert Interaction.objects.count() == 0
    assert Task.objects.get().status == "done"


def test_complete_with_a_bad_interaction_changes_nothing(web_client_for, alice, card, now):
    task = make_task(alice, client=card)
    data = complete_post(**{"log-subject": "", "log-outcome": "", "log-occurred_at": ""})

    response = web_client_for(alice).post(reverse("tasks:complete", args=[task.pk]), data)

    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    assert Task.objects.get().status == "open"
    assert Interaction.objects.count() == 0


def test_edit_page_saves(web_client_for, alice, card, now):
    task = make_task(alice, client=card)
    data = new_task_post(title="Новый заголовок", card=str(card.number), assignee=str(alice.pk))
    data["version"] = "1"

    response = web_client_for(alice).post(reverse("tasks:edit", args=[task.pk]), data)

    assert response.status_code == 302
    assert Task.objects.get().title == "Новый заголовок"


def test_edit_over_a_newer_save_is_a_conflict(web_client_for, alice, card, now):
    task = make_task(alice, client=card)
    services.task_update(actor=alice, task=task, expected_version=1, data={"title": "Чужая правка"})
    data = new_task_post(title="Моя правка", card=str(card.number), assignee=str(alice.pk))
    data["version"] = "1"

    response = web_client_for(alice).post(reverse("tasks:edit", args=[task.pk]), data)

    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else saved this task" in html
    assert 'value="Моя правка"' in html  # the input is kept
    assert 'name="version" value="2"' in html
    assert Task.objects.get().title == "Чужая правка"


def test_cancel_and_reopen(web_client_for, alice, now):
    task = make_task(alice)
    client = web_client_for(alice)

    client.post(reverse("tasks:cancel", args=[task.pk]))
    cancelled = Task.objects.get().status
    client.post(reverse("tasks:reopen", args=[task.pk]))

    assert cancelled == "cancelled"
    assert Task.objects.get().status == "open"


@pytest.mark.parametrize("view", ["day", "week", "month"])
def test_calendar_views(web_client_for, alice, card, now, view):
    make_task(alice, client=card, title="Звонок утром", due_at=at(MOSCOW, 2026, 3, 10, 9))
    make_task(
        alice,
        client=card,
        title="Встреча в офисе",
        kind="meeting",
        due_at=at(MOSCOW, 2026, 3, 10, 14),
        duration_minutes=90,
    )

    response = web_client_for(alice).get(
        reverse("tasks:calendar"), {"view": view, "date": "2026-03-10"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Звонок утром" in html
    assert "Встреча в офисе" in html
    assert "cal-meeting" in html
    if view != "month":
        assert "14:00–15:30" in html
    assert "date=2026-03-09" in html or "date=2026-03-03" in html or "date=2026-02-01" in html


def test_calendar_tolerates_a_bad_date(web_client_for, alice, now):
    response = web_client_for(alice).get(reverse("tasks:calendar"), {"date": "31-02", "view": "x"})

    assert response.status_code == 200


# --- Every role against every action (web) --------------------------------------------------

ROLES_CHANGE = {"ada": 302, "alice": 302, "mallory": 302, "bob": 403, "charlie": 404, "rita": 403}


@pytest.mark.parametrize(("username", "expected"), ROLES_CHANGE.items())
@pytest.mark.parametrize("action", ["complete", "cancel", "edit"])
def test_who_may_change_alices_task(web_client_for, users, card, username, expected, action):
    task = make_task(users["alice"], client=card)
    data = {"complete": {"origin": ""}, "cancel": {}, "edit": {}}[action]
    if action == "edit":
        data = new_task_post(title="Чужое", card=str(card.number), assignee=str(task.assignee_id))
        data["version"] = "1"
    changes_before = ObjectChange.objects.count()

    response = web_client_for(users[username]).post(
        reverse(f"tasks:{action}", args=[task.pk]), data
    )

    assert response.status_code == expected
    saved = Task.objects.get()
    if expected == 302:
        assert ObjectChange.objects.count() > changes_before
        return
    assert (saved.status, saved.title, saved.version) == ("open", "Перезвонить по прайсу", 1)
    assert ObjectChange.objects.count() == changes_before


@pytest.mark.parametrize(
    ("username", "expected"),
    [("ada", 200), ("alice", 200), ("bob", 200), ("mallory", 200), ("charlie", 404), ("rita", 403)],
)
def test_who_may_add_a_task_on_the_card(web_client_for, users, card, username, expected):
    response = web_client_for(users[username]).post(
        reverse("tasks:client-task-create", args=[card.pk]),
        prefixed("task", new_task_post(assignee=str(users[username].pk))),
        headers=HTMX,
    )

    assert response.status_code == expected
    assert Task.objects.count() == (1 if expected == 200 else 0)


@pytest.mark.parametrize(
    ("username", "expected"),
    [("ada", 200), ("alice", 200), ("bob", 200), ("mallory", 200), ("charlie", 404), ("rita", 200)],
)
def test_who_may_see_the_task_page(web_client_for, users, card, username, expected):
    task = make_task(users["alice"], client=card)

    response = web_client_for(users[username]).get(reverse("tasks:edit", args=[task.pk]))

    assert response.status_code == expected
    if username in ("bob", "rita"):
        assert "You may see this task but not change it." in response.content.decode()


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(reverse("tasks:today"))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- Query counts -----------------------------------------------------------------------------


def test_today_page_queries_do_not_grow_with_rows(
    web_client_for, users, card, now, django_assert_max_num_queries
):
    mallory = users["mallory"]
    client = web_client_for(mallory)
    for index in range(3):
        make_task(users["alice"], client=card, due_at=now + datetime.timedelta(hours=index))
        make_task(users["bob"], client=card, due_at=now - datetime.timedelta(days=index + 1))
    client.get(reverse("tasks:today"), {"scope": "team"})  # warm the session

    with django_assert_max_num_queries(12) as few:
        client.get(reverse("tasks:today"), {"scope": "team"})
    for index in range(6):
        make_task(users["alice"], client=card, due_at=now + datetime.timedelta(days=index % 5 + 1))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("tasks:today"), {"scope": "team"})

    assert response.content.decode().count('class="task-row') == 12


def test_calendar_and_section_queries_do_not_grow_with_rows(
    web_client_for, alice, card, now, django_assert_max_num_queries
):
    client = web_client_for(alice)
    make_task(alice, client=card, due_at=now)
    client.get(reverse("tasks:calendar"), {"view": "month"})
    url = reverse("tasks:client-tasks", args=[card.pk])
    with django_assert_max_num_queries(12) as calendar_few:
        client.get(reverse("tasks:calendar"), {"view": "month"})
    with django_assert_max_num_queries(12) as section_few:
        client.get(url, headers=HTMX)
    for index in range(8):
        make_task(alice, client=card, due_at=now + datetime.timedelta(days=index))

    with django_assert_max_num_queries(len(calendar_few.captured_queries)):
        client.get(reverse("tasks:calendar"), {"view": "month"})
    with django_assert_max_num_queries(len(section_few.captured_queries)):
        response = client.get(url, headers=HTMX)

    assert response.content.decode().count('class="task-row') == 9
