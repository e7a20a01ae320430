"""tasks.services: validation per field, permissions, optimistic locking, the change log, and
completing a task that logs the interaction on the card in the same step."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError

from kartoteka.activities.models import Interaction, TimelineEvent
from kartoteka.clients.tests.factories import make_person
from kartoteka.core.models import ObjectChange
from kartoteka.sales.services import order_create
from kartoteka.tasks import services
from kartoteka.tasks.models import Task
from kartoteka.tasks.tests.factories import MOSCOW, at, make_task

pytestmark = pytest.mark.django_db


def changes_of(obj) -> list[ObjectChange]:
    content_type = ContentType.objects.get_for_model(obj)
    return list(
        ObjectChange.objects.filter(content_type=content_type, object_id=obj.pk).order_by("pk")
    )


def error_codes(exc: ValidationError) -> dict[str, list[str]]:
    return {name: [e.code for e in errors] for name, errors in exc.error_dict.items()}


@pytest.fixture
def card(alice):
    return make_person(alice, last_name="Петров", first_name="Олег", middle_name="")


def test_create_saves_and_logs(alice, card):
    task = make_task(alice, client=card, title="Позвонить", priority=3, notes="после обеда")

    saved = Task.objects.get()
    assert saved.pk == task.pk
    assert (saved.client, saved.assignee, saved.created_by) == (card, alice, alice)
    assert (saved.title, saved.kind, saved.priority, saved.status) == (
        "Позвонить",
        "call",
        3,
        "open",
    )
    assert saved.due_at == datetime.datetime(2026, 3, 2, 6, 0, tzinfo=datetime.UTC)
    assert saved.time_zone == "Europe/Moscow"
    assert saved.version == 1
    assert saved.series_id is None
    [change] = changes_of(saved)
    assert change.action == ObjectChange.Action.CREATE
    assert change.actor == alice
    assert change.after["title"] == "Позвонить"
    assert change.after["assignee"] == alice.pk


def test_title_is_derived_from_the_kind_and_card(alice, card):
    task = make_task(alice, client=card, title="", kind="meeting")

    assert task.title == "Meeting: Петров Олег"


def test_recurring_task_starts_its_own_series(alice):
    task = make_task(alice, repeat="week", repeat_interval=2)

    saved = Task.objects.get()
    assert (saved.series_id, saved.occurrence) == (task.pk, 0)
    assert saved.series_anchor == saved.due_at


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"title": "", "client": None}, {"title": ["required"]}),
        ({"due_at": None}, {"due_at": ["required"]}),
        (
            {"repeat": "day", "repeat_interval": 0},
            {"repeat_interval": ["repeat_interval_out_of_range"]},
        ),
        (
            {"repeat": "day", "repeat_interval": 366},
            {"repeat_interval": ["repeat_interval_out_of_range"]},
        ),
        (
            {"repeat": "day", "repeat_until": datetime.date(2026, 3, 1)},
            {"repeat_until": ["repeat_until_before_due"]},
        ),
        ({"duration_minutes": 24 * 60 + 1}, {"duration_minutes": ["duration_too_long"]}),
        ({"kind": "fax"}, {"kind": ["invalid_choice"]}),
        ({"priority": 9}, {"priority": ["invalid_choice"]}),
        ({"nonsense": 1}, {"nonsense": ["unknown_field"]}),
    ],
)
def test_invalid_input_is_refused_per_field(alice, data, expected):
    with pytest.raises(ValidationError) as caught:
        make_task(alice, **data)

    assert error_codes(caught.value) == expected
    assert Task.objects.count() == 0
    assert ObjectChange.objects.filter(content_type__model="task").count() == 0


def test_every_broken_rule_is_reported_at_once(alice):
    with pytest.raises(ValidationError) as caught:
        make_task(alice, title="", due_at=None, repeat="month", repeat_interval=500)

    assert set(caught.value.error_dict) == {"title", "due_at", "repeat_interval"}


def test_order_must_belong_to_the_client(alice, card):
    other = make_person(alice, last_name="Сидоров")
    order = order_create(
        actor=alice,
        client=other,
        data={"ordered_on": datetime.date(2026, 2, 1)},
        lines=[{"name": "Консультация", "quantity": 1, "unit_price": "1000"}],
    )

    with pytest.raises(ValidationError) as caught:
        make_task(alice, client=card, order=order)

    assert error_codes(caught.value) == {"order": ["order_other_client"]}
    task = make_task(alice, client=other, order=order)
    assert task.order == order


def test_the_card_must_be_visible_to_the_actor(charlie, card):
    with pytest.raises(ValidationError) as caught:
        make_task(charlie, client=card)

    assert error_codes(caught.value) == {"client": ["client_invalid"]}
    assert Task.objects.count() == 0


def test_the_assignee_must_see_the_card(ada, charlie, card):
    with pytest.raises(ValidationError) as caught:
        make_task(ada, client=card, assignee=charlie)

    assert error_codes(caught.value) == {"assignee": ["assignee_cannot_see_client"]}


@pytest.mark.parametrize(
    ("actor", "assignee", "allowed"),
    [
        ("ada", "charlie", True),
        ("ada", "alice", True),
        ("mallory", "alice", True),
        ("mallory", "charlie", False),
        ("alice", "alice", True),
        ("alice", "bob", True),
        ("alice", "mallory", True),
        ("alice", "charlie", False),
        ("charlie", "alice", False),
        ("alice", "rita", False),
        ("rita", "rita", False),
    ],
)
def test_who_may_set_a_task_for_whom(users, actor, assignee, allowed):
    if allowed:
        task = make_task(users[actor], assignee=users[assignee])
        assert Task.objects.get().assignee == users[assignee] == task.assignee
        return
    with pytest.raises(PermissionDenied):
        make_task(users[actor], assignee=users[assignee])
    assert Task.objects.count() == 0
    assert ObjectChange.objects.filter(content_type__model="task").count() == 0


def test_update_changes_fields_and_logs_only_them(alice, card):
    task = make_task(alice, client=card)

    services.task_update(
        actor=alice,
        task=task,
        expected_version=1,
        data={"title": "Перезвонить завтра", "due_at": at(MOSCOW, 2026, 3, 3, 10)},
    )

    saved = Task.objects.get()
    assert (saved.title, saved.version) == ("Перезвонить завтра", 2)
    assert saved.due_at == at(MOSCOW, 2026, 3, 3, 10)
    change = changes_of(saved)[-1]
    assert change.action == ObjectChange.Action.UPDATE
    assert set(change.after) == {"title", "due_at"}
    assert change.before["title"] == "Перезвонить по прайсу"


def test_stale_version_is_refused_and_changes_nothing(alice, card):
    task = make_task(alice, client=card)
    services.task_update(
        actor=alice, task=Task.objects.get(), expected_version=1, data={"priority": 4}
    )

    with pytest.raises(services.TaskVersionConflict) as caught:
        services.task_update(actor=alice, task=task, expected_version=1, data={"title": "Другое"})

    assert caught.value.current.priority == 4
    assert caught.value.current.version == 2
    saved = Task.objects.get()
    assert (saved.title, saved.priority, saved.version) == ("Перезвонить по прайсу", 4, 2)
    assert task.title == "Перезвонить по прайсу"  # the caller's instance is left as it was
    assert len(changes_of(saved)) == 2


def test_reassigning_takes_the_new_assignees_zone(alice, bob, card):
    bob.time_zone = "Asia/Shanghai"
    bob.save(update_fields=["time_zone"])
    task = make_task(alice, client=card)

    services.task_update(actor=alice, task=task, expected_version=None, data={"assignee": bob})

    saved = Task.objects.get()
    assert (saved.assignee, saved.time_zone) == (bob, "Asia/Shanghai")
    assert saved.due_at == at(MOSCOW, 2026, 3, 2, 9)  # the same moment


def test_status_may_only_move_between_open_and_in_progress(alice):
    task = make_task(alice)

    services.task_update(
        actor=alice, task=task, expected_version=None, data={"status": "in_progress"}
    )
    with pytest.raises(ValidationError) as caught:
        services.task_update(actor=alice, task=task, expected_version=None, data={"status": "done"})

    assert error_codes(caught.value) == {"status": ["status_not_editable"]}
    assert Task.objects.get().status == "in_progress"


def test_complete_with_log_creates_one_interaction_and_one_timeline_event(
    alice, card, time_machine
):
    time_machine.move_to(at(MOSCOW, 2026, 3, 2, 9, 20), tick=False)
    task = make_task(alice, client=card, title="Прайс на весну", duration_minutes=15)

    services.task_complete(
        actor=alice, task=task, log={"direction": "out", "outcome": "Согласен на встречу"}
    )

    interaction = Interaction.objects.get()
    assert interaction.client == card
    assert (interaction.kind, interaction.direction) == ("call", "out")
    assert (interaction.subject, interaction.outcome) == ("Прайс на весну", "Согласен на встречу")
    assert interaction.duration_minutes == 15
    assert interaction.author == alice
    assert interaction.occurred_at == at(MOSCOW, 2026, 3, 2, 9, 20)
    event = TimelineEvent.objects.get()
    assert (event.kind, event.subkind, event.client) == ("interaction", "call", card)
    assert event.title == "Outgoing call: Прайс на весну"
    saved = Task.objects.get()
    assert (saved.status, saved.completed_by, saved.interaction) == ("done", alice, interaction)
    assert saved.completed_at == at(MOSCOW, 2026, 3, 2, 9, 20)
    assert changes_of(saved)[-1].message == "completed"


def test_complete_without_log_records_no_interaction(alice, card):
    task = make_task(alice, client=card)

    services.task_complete(actor=alice, task=task)

    assert Interaction.objects.count() == 0
    assert TimelineEvent.objects.count() == 0
    assert Task.objects.get().status == "done"


def test_complete_twice_with_log_logs_once(alice, card):
    task = make_task(alice, client=card)

    services.task_complete(actor=alice, task=task, log={})
    services.task_complete(actor=alice, task=Task.objects.get(), log={})

    assert Interaction.objects.count() == 1
    assert TimelineEvent.objects.count() == 1


def test_invalid_log_leaves_the_task_open(alice, card):
    task = make_task(alice, client=card, kind="meeting")

    with pytest.raises(ValidationError) as caught:
        services.task_complete(actor=alice, task=task, log={"subject": "", "direction": "in"})

    assert error_codes(caught.value) == {
        "log.direction": ["direction_not_allowed"],
        "log.subject": ["empty_interaction"],
    }
    assert Task.objects.get().status == "open"
    assert Task.objects.get().version == 1
    assert Interaction.objects.count() == 0
    assert task.status == "open"


def test_log_needs_a_card(alice):
    task = make_task(alice)

    with pytest.raises(ValidationError) as caught:
        services.task_complete(actor=alice, task=task, log={})

    assert error_codes(caught.value) == {"log": ["no_client"]}
    assert Task.objects.get().status == "open"


def test_cancel_keeps_the_task(alice, card):
    task = make_task(alice, client=card)

    services.task_cancel(actor=alice, task=task)

    saved = Task.objects.get()
    assert (saved.status, saved.completed_by) == ("cancelled", alice)
    assert changes_of(saved)[-1].message == "cancelled"
    with pytest.raises(ValidationError):
        services.task_complete(actor=alice, task=saved)


def test_reopen_clears_the_completion(alice):
    task = make_task(alice)
    services.task_complete(actor=alice, task=task)

    services.task_reopen(actor=alice, task=task)

    saved = Task.objects.get()
    assert (saved.status, saved.completed_at, saved.completed_by) == ("open", None, None)
    assert changes_of(saved)[-1].message == "reopened"


ACTIONS = {
    "update": lambda actor, task: services.task_update(
        actor=actor, task=task, expected_version=None, data={"title": "Чужое"}
    ),
    "complete": lambda actor, task: services.task_complete(actor=actor, task=task, log={}),
    "cancel": lambda actor, task: services.task_cancel(actor=actor, task=task),
}


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize(
    ("username", "allowed"),
    [
        ("ada", True),
        ("alice", True),
        ("mallory", True),
        ("bob", False),
        ("charlie", False),
        ("rita", False),
    ],
)
def test_who_may_change_alices_task(users, card, action, username, allowed):
    task = make_task(users["alice"], client=card)
    logged_before = ObjectChange.objects.count()

    if allowed:
        ACTIONS[action](users[username], task)
        assert ObjectChange.objects.count() > logged_before
        return
    with pytest.raises(PermissionDenied):
        ACTIONS[action](users[username], task)
    saved = Task.objects.get()
    assert (saved.title, saved.status, saved.version) == ("Перезвонить по прайсу", "open", 1)
    assert ObjectChange.objects.count() == logged_before
    assert Interaction.objects.count() == 0


def test_the_setter_may_change_a_task_set_for_a_teammate(alice, bob, card):
    task = make_task(alice, client=card, assignee=bob)

    services.task_update(actor=alice, task=task, expected_version=None, data={"priority": 4})
    services.task_complete(actor=bob, task=task)

    assert Task.objects.get().status == "done"
