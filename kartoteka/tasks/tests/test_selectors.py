"""tasks.selectors: who sees which tasks, the Today lists in each user's own day (Moscow and
Shanghai), the card's tasks and the calendar window, each in a fixed number of queries."""

import datetime

import pytest

from kartoteka.clients.tests.factories import make_person
from kartoteka.tasks import selectors, services
from kartoteka.tasks.models import Task
from kartoteka.tasks.tests.factories import MOSCOW, SHANGHAI, at, make_task, set_zone

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


@pytest.fixture
def north_card(alice):
    return make_person(alice, last_name="Петров")


@pytest.fixture
def south_card(charlie):
    return make_person(charlie, last_name="Чжан")


@pytest.fixture
def tasks(users, north_card, south_card):
    """alice's task on a North card, bob's own task without a card, charlie's on a South card,
    and a task alice set for bob without a card."""
    return {
        "alice_card": make_task(users["alice"], client=north_card, title="A"),
        "bob_private": make_task(users["bob"], title="B"),
        "charlie_card": make_task(users["charlie"], client=south_card, title="C"),
        "alice_for_bob": make_task(users["alice"], assignee=users["bob"], title="D"),
    }


@pytest.mark.parametrize(
    ("username", "visible"),
    [
        ("ada", {"A", "B", "C", "D"}),
        ("alice", {"A", "D"}),
        ("bob", {"A", "B", "D"}),
        ("charlie", {"C"}),
        ("mallory", {"A", "B", "D"}),
        ("rita", {"A"}),
    ],
)
def test_visibility(users, tasks, username, visible):
    titles = set(selectors.task_visible(user=users[username]).values_list("title", flat=True))

    assert titles == visible


def test_invisible_task_is_not_found(users, tasks):
    from django.http import Http404

    with pytest.raises(Http404):
        selectors.task_get(user=users["charlie"], pk=tasks["alice_card"].pk)
    assert selectors.task_get(user=users["bob"], pk=tasks["alice_card"].pk).title == "A"


def test_today_is_the_users_local_day(alice, bob):
    """At 20:30 UTC on 2 March it is 23:30 in Moscow but already 04:30 on 3 March in Shanghai."""
    set_zone(alice, "Europe/Moscow")
    set_zone(bob, "Asia/Shanghai")
    now = datetime.datetime(2026, 3, 2, 20, 30, tzinfo=UTC)
    moscow_task = make_task(alice, due_at=at(MOSCOW, 2026, 3, 2, 9), title="Moscow 09:00")
    shanghai_task = make_task(bob, due_at=at(SHANGHAI, 2026, 3, 3, 9), title="Shanghai 09:00")

    alice_agenda = selectors.task_agenda(user=alice, now=now)
    bob_agenda = selectors.task_agenda(user=bob, now=now)

    assert moscow_task.due_at == datetime.datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    assert shanghai_task.due_at == datetime.datetime(2026, 3, 3, 1, 0, tzinfo=UTC)
    assert alice_agenda.today == [moscow_task]
    assert bob_agenda.today == [shanghai_task]
    # An hour later Moscow's day has turned: the 09:00 task is overdue there.
    later = now + datetime.timedelta(hours=1)
    assert selectors.task_agenda(user=alice, now=later).overdue == [moscow_task]
    assert selectors.task_due_count(user=alice, now=later) == 1


def test_agenda_buckets(alice):
    now = at(MOSCOW, 2026, 3, 10, 12)
    due = {
        "last week": at(MOSCOW, 2026, 3, 3, 9),
        "yesterday late": at(MOSCOW, 2026, 3, 9, 23, 59),
        "this morning": at(MOSCOW, 2026, 3, 10, 0, 0),
        "tonight": at(MOSCOW, 2026, 3, 10, 23, 59),
        "tomorrow": at(MOSCOW, 2026, 3, 11, 0, 0),
        "in a week": at(MOSCOW, 2026, 3, 17, 23, 0),
        "in eight days": at(MOSCOW, 2026, 3, 18, 0, 0),
    }
    for title, when in due.items():
        make_task(alice, title=title, due_at=when)
    services.task_complete(actor=alice, task=make_task(alice, title="done", due_at=now))

    agenda = selectors.task_agenda(user=alice, now=now)

    assert [t.title for t in agenda.overdue] == ["last week", "yesterday late"]
    assert [t.title for t in agenda.today] == ["this morning", "tonight"]
    assert [t.title for t in agenda.upcoming] == ["tomorrow", "in a week"]
    assert agenda.due_count == 4
    for bucket, expected in (("overdue", 2), ("today", 2), ("upcoming", 2)):
        listed = selectors.task_list(user=alice, filters={"bucket": bucket}, now=now)
        assert listed.count() == expected


def test_team_scope_for_managers(users, tasks):
    mallory = users["mallory"]
    now = at(MOSCOW, 2026, 3, 2, 8)

    mine = selectors.task_agenda(user=mallory, scope="mine", now=now)
    team = selectors.task_agenda(user=mallory, scope="team", now=now)
    employee_team = selectors.task_agenda(user=users["alice"], scope="team", now=now)

    assert mine.today == []
    assert {t.title for t in team.today} == {"A", "B", "D"}
    assert {t.title for t in employee_team.today} == {"A"}  # employees see only their own
    assert selectors.scope_choices(mallory) == ["mine", "team"]
    assert selectors.scope_choices(users["alice"]) == ["mine"]


def test_list_filters(users, tasks, north_card):
    ada = users["ada"]

    by_client = selectors.task_list(user=ada, filters={"client": north_card.pk})
    by_assignee = selectors.task_list(user=ada, filters={"assignee": users["bob"].pk})
    window = selectors.task_list(
        user=ada,
        filters={"due_from": at(MOSCOW, 2026, 3, 2, 9), "due_to": at(MOSCOW, 2026, 3, 2, 9, 1)},
    )
    services.task_complete(actor=ada, task=tasks["bob_private"])
    done = selectors.task_list(user=ada, filters={"status": ["done"]})

    assert [t.title for t in by_client] == ["A"]
    assert {t.title for t in by_assignee} == {"B", "D"}
    assert window.count() == 4
    assert [t.title for t in done] == ["B"]


def test_client_tasks_are_the_open_ones(alice, north_card):
    make_task(alice, client=north_card, title="later", due_at=at(MOSCOW, 2026, 3, 5, 9))
    make_task(alice, client=north_card, title="sooner", due_at=at(MOSCOW, 2026, 3, 4, 9))
    services.task_complete(actor=alice, task=make_task(alice, client=north_card, title="done"))

    titles = [t.title for t in selectors.client_task_list(user=alice, client=north_card)]

    assert titles == ["sooner", "later"]


def test_calendar_window_includes_meetings_running_into_it(alice):
    start, end = at(MOSCOW, 2026, 3, 2), at(MOSCOW, 2026, 3, 3)
    make_task(alice, title="before", due_at=at(MOSCOW, 2026, 3, 1, 22))
    make_task(
        alice,
        title="overnight",
        kind="meeting",
        due_at=at(MOSCOW, 2026, 3, 1, 23),
        duration_minutes=120,
    )
    make_task(alice, title="midnight", due_at=start)
    make_task(alice, title="inside", due_at=at(MOSCOW, 2026, 3, 2, 15))
    make_task(alice, title="end", due_at=end)
    services.task_cancel(actor=alice, task=make_task(alice, title="cancelled", due_at=start))

    titles = [t.title for t in selectors.calendar_tasks(user=alice, start=start, end=end)]

    assert titles == ["overnight", "midnight", "inside"]


def test_lists_take_a_fixed_number_of_queries(users, north_card, django_assert_max_num_queries):
    mallory = users["mallory"]
    for index in range(6):
        for username in ("alice", "bob"):
            make_task(
                users[username],
                client=north_card,
                title=f"{username} {index}",
                due_at=at(MOSCOW, 2026, 3, 1 + index, 9),
            )
    now = at(MOSCOW, 2026, 3, 3, 8)
    fresh = type(mallory).objects.get(pk=mallory.pk)

    with django_assert_max_num_queries(3):
        agenda = selectors.task_agenda(user=fresh, scope="team", now=now)
        rows = agenda.overdue + agenda.today + agenda.upcoming
        labels = [(t.client.display_name, str(t.assignee)) for t in rows]
    with django_assert_max_num_queries(1):
        listed = [
            (t.client.display_name, str(t.assignee)) for t in selectors.task_list(user=users["ada"])
        ]
    with django_assert_max_num_queries(1):
        calendar = [
            (t.client.display_name, str(t.assignee))
            for t in selectors.calendar_tasks(
                user=users["ada"],
                start=at(MOSCOW, 2026, 3, 1),
                end=at(MOSCOW, 2026, 3, 8),
                scope="all",
            )
        ]

    assert len(labels) == 12
    assert len(listed) == 12
    assert len(calendar) == 12
    assert Task.objects.count() == 12
