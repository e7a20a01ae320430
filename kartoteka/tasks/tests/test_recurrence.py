"""Recurring tasks: the dates (every N days, weeks, months, in the task's wall-clock zone,
across DST), the next occurrence made once and only once, and the end of the rule."""

import datetime

import pytest

from kartoteka.clients.tests.factories import make_person
from kartoteka.core.models import ObjectChange
from kartoteka.tasks import services
from kartoteka.tasks.models import Task
from kartoteka.tasks.recurrence import add_months, occurrence_due
from kartoteka.tasks.tests.factories import BERLIN, MOSCOW, SHANGHAI, at, make_task, set_zone

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


@pytest.fixture
def before_everything(time_machine):
    """Time stands still on 1 January 2026, before every due date in this module."""
    time_machine.move_to(datetime.datetime(2026, 1, 1, tzinfo=UTC), tick=False)


def occurrences(series_root: Task) -> list[Task]:
    return list(Task.objects.filter(series=series_root).order_by("occurrence"))


def complete_chain(actor, task: Task, times: int) -> list[Task]:
    """Complete `task` and each next occurrence, `times` in all; the tasks in order."""
    chain = [task]
    for _ in range(times):
        services.task_complete(actor=actor, task=chain[-1])
        chain.append(Task.objects.get(series=task.series, occurrence__gt=chain[-1].occurrence))
    return chain


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (datetime.date(2026, 1, 31), 1, datetime.date(2026, 2, 28)),
        (datetime.date(2028, 1, 31), 1, datetime.date(2028, 2, 29)),
        (datetime.date(2026, 1, 31), 2, datetime.date(2026, 3, 31)),
        (datetime.date(2026, 1, 31), 3, datetime.date(2026, 4, 30)),
        (datetime.date(2026, 11, 15), 3, datetime.date(2027, 2, 15)),
        (datetime.date(2026, 3, 31), -1, datetime.date(2026, 2, 28)),
    ],
)
def test_add_months_clamps_to_the_month_end(day, months, expected):
    assert add_months(day, months) == expected


def test_monthly_dates_keep_the_anchor_day_of_month():
    anchor = at(MOSCOW, 2026, 1, 31, 10)

    dues = [
        occurrence_due(anchor=anchor, zone=MOSCOW, repeat="month", interval=1, occurrence=n)
        for n in range(4)
    ]

    assert [d.astimezone(MOSCOW).date() for d in dues] == [
        datetime.date(2026, 1, 31),
        datetime.date(2026, 2, 28),
        datetime.date(2026, 3, 31),
        datetime.date(2026, 4, 30),
    ]
    assert {d.astimezone(MOSCOW).time() for d in dues} == {datetime.time(10)}


def test_daily_moscow_task_stays_at_nine_moscow(alice, before_everything):
    task = make_task(alice, due_at=at(MOSCOW, 2026, 3, 2, 9), repeat="day", repeat_interval=1)

    chain = complete_chain(alice, task, 3)

    assert [t.due_at for t in chain] == [
        datetime.datetime(2026, 3, d, 6, 0, tzinfo=UTC) for d in (2, 3, 4, 5)
    ]
    assert [t.occurrence for t in chain] == [0, 1, 2, 3]
    assert {t.series_id for t in chain} == {task.pk}
    assert chain[-1].status == Task.Status.OPEN
    assert [t.status for t in chain[:-1]] == ["done"] * 3


def test_daily_shanghai_task_stays_at_nine_shanghai(alice, before_everything):
    set_zone(alice, "Asia/Shanghai")
    task = make_task(alice, due_at=at(SHANGHAI, 2026, 3, 2, 9), repeat="day")

    chain = complete_chain(alice, task, 2)

    assert task.time_zone == "Asia/Shanghai"
    assert [t.due_at for t in chain] == [
        datetime.datetime(2026, 3, d, 1, 0, tzinfo=UTC) for d in (2, 3, 4)
    ]
    assert {t.due_at.astimezone(SHANGHAI).time() for t in chain} == {datetime.time(9)}


def test_berlin_task_keeps_its_wall_clock_across_the_march_change(alice, before_everything):
    """Berlin moves to summer time on 29 March 2026: 09:00 is 08:00 UTC before, 07:00 after."""
    set_zone(alice, "Europe/Berlin")
    task = make_task(alice, due_at=at(BERLIN, 2026, 3, 28, 9), repeat="day")

    chain = complete_chain(alice, task, 2)

    assert [t.due_at for t in chain] == [
        datetime.datetime(2026, 3, 28, 8, 0, tzinfo=UTC),
        datetime.datetime(2026, 3, 29, 7, 0, tzinfo=UTC),
        datetime.datetime(2026, 3, 30, 7, 0, tzinfo=UTC),
    ]
    assert {t.due_at.astimezone(BERLIN).time() for t in chain} == {datetime.time(9)}


def test_berlin_weekly_task_across_the_october_change(alice, before_everything):
    set_zone(alice, "Europe/Berlin")
    task = make_task(alice, due_at=at(BERLIN, 2026, 10, 20, 18, 30), repeat="week")

    chain = complete_chain(alice, task, 1)

    assert chain[1].due_at == datetime.datetime(2026, 10, 27, 17, 30, tzinfo=UTC)
    assert chain[1].due_at.astimezone(BERLIN).time() == datetime.time(18, 30)


def test_every_two_weeks(alice, before_everything):
    task = make_task(alice, due_at=at(MOSCOW, 2026, 3, 2, 9), repeat="week", repeat_interval=2)

    chain = complete_chain(alice, task, 2)

    assert [t.due_at.astimezone(MOSCOW).date() for t in chain] == [
        datetime.date(2026, 3, 2),
        datetime.date(2026, 3, 16),
        datetime.date(2026, 3, 30),
    ]


def test_monthly_task_from_31_january(alice, before_everything):
    task = make_task(alice, due_at=at(MOSCOW, 2026, 1, 31, 11), repeat="month")

    chain = complete_chain(alice, task, 3)

    assert [t.due_at.astimezone(MOSCOW) for t in chain] == [
        at(MOSCOW, 2026, 1, 31, 11),
        at(MOSCOW, 2026, 2, 28, 11),
        at(MOSCOW, 2026, 3, 31, 11),
        at(MOSCOW, 2026, 4, 30, 11),
    ]


def test_repetition_stops_at_repeat_until(alice, before_everything):
    task = make_task(
        alice,
        due_at=at(MOSCOW, 2026, 3, 2, 9),
        repeat="day",
        repeat_until=datetime.date(2026, 3, 3),
    )
    chain = complete_chain(alice, task, 1)

    services.task_complete(actor=alice, task=chain[-1])

    assert [t.due_at.astimezone(MOSCOW).date() for t in occurrences(task)] == [
        datetime.date(2026, 3, 2),
        datetime.date(2026, 3, 3),
    ]
    assert Task.objects.filter(status="open").count() == 0


def test_completing_twice_makes_one_next_occurrence(alice, before_everything):
    task = make_task(alice, repeat="day")
    stale_copy = Task.objects.get(pk=task.pk)

    services.task_complete(actor=alice, task=task)
    again = services.task_complete(actor=alice, task=task)
    from_stale = services.task_complete(actor=alice, task=stale_copy)

    assert Task.objects.count() == 2
    assert again.status == from_stale.status == Task.Status.DONE
    completions = ObjectChange.objects.filter(message="completed")
    assert completions.count() == 1
    assert ObjectChange.objects.filter(message="next occurrence").count() == 1


def test_reopen_and_complete_again_makes_no_second_next(alice, before_everything):
    task = make_task(alice, repeat="day")
    services.task_complete(actor=alice, task=task)

    services.task_reopen(actor=alice, task=task)
    services.task_complete(actor=alice, task=task)

    assert Task.objects.count() == 2
    assert Task.objects.get(occurrence=1).status == Task.Status.OPEN


def test_cancelling_an_occurrence_makes_the_next_and_keeps_it(alice, before_everything):
    task = make_task(alice, repeat="week")

    services.task_cancel(actor=alice, task=task)

    cancelled, following = occurrences(task)
    assert cancelled.status == Task.Status.CANCELLED
    assert following.status == Task.Status.OPEN
    assert following.due_at == task.due_at + datetime.timedelta(weeks=1)


def test_cancelling_with_stop_series_ends_the_repetition(alice, before_everything):
    task = make_task(alice, repeat="week")

    services.task_cancel(actor=alice, task=task, stop_series=True)

    assert list(Task.objects.values_list("status", "repeat")) == [("cancelled", "")]


def test_missed_occurrences_are_skipped_not_piled_up(alice, time_machine):
    time_machine.move_to(at(MOSCOW, 2026, 3, 6, 12), tick=False)
    task = make_task(alice, due_at=at(MOSCOW, 2026, 3, 2, 9), repeat="day")

    services.task_complete(actor=alice, task=task)

    following = Task.objects.get(occurrence__gt=0)
    assert following.due_at == at(MOSCOW, 2026, 3, 7, 9)
    assert following.occurrence == 5


def test_next_occurrence_copies_the_task(alice, before_everything):
    card = make_person(alice)
    task = make_task(
        alice,
        client=card,
        kind="meeting",
        title="Встреча по договору",
        duration_minutes=45,
        priority=3,
        notes="Взять образцы",
        repeat="month",
        repeat_interval=2,
    )

    services.task_complete(actor=alice, task=task)

    following = Task.objects.get(occurrence=1)
    assert (following.client, following.kind, following.title) == (card, "meeting", task.title)
    assert (following.duration_minutes, following.priority, following.notes) == (
        45,
        3,
        "Взять образцы",
    )
    assert (following.assignee, following.created_by) == (alice, alice)
    assert (following.repeat, following.repeat_interval) == ("month", 2)
    assert following.series_anchor == task.due_at
    assert following.interaction is None


def test_editing_the_due_time_restarts_the_series_from_that_occurrence(alice, before_everything):
    task = make_task(alice, due_at=at(MOSCOW, 2026, 3, 2, 9), repeat="day")
    services.task_complete(actor=alice, task=task)
    second = Task.objects.get(occurrence=1)

    services.task_update(
        actor=alice, task=second, expected_version=None, data={"due_at": at(MOSCOW, 2026, 3, 3, 15)}
    )
    services.task_complete(actor=alice, task=second)

    second.refresh_from_db()
    assert (second.series_id, second.occurrence) == (second.pk, 0)
    third = Task.objects.get(series=second, occurrence=1)
    assert third.due_at == at(MOSCOW, 2026, 3, 4, 15)
