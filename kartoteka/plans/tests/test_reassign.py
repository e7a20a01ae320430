"""plans.services.reassign_employee: a leaving employee's cards and open tasks go to someone
else in one transaction, exactly as previewed, with a change-log row per moved card and task
and one summary; refused reassignments change nothing."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kartoteka.accounts.models import User
from kartoteka.clients import services as client_services
from kartoteka.clients.models import Client
from kartoteka.clients.tests.factories import make_person
from kartoteka.core.models import ObjectChange
from kartoteka.plans import selectors, services
from kartoteka.tasks.models import Task

pytestmark = pytest.mark.django_db


def make_task(assignee: User, card: Client | None, status: str = "open", **extra) -> Task:
    """A task row as tasks.services would leave it (the reassignment only reads and moves
    existing tasks, so their creation rules are not what is tested here)."""
    done = status == Task.Status.DONE
    return Task.objects.create(
        client=card,
        title=extra.pop("title", "Перезвонить"),
        assignee=assignee,
        created_by=assignee,
        due_at=extra.pop("due_at", timezone.now() + datetime.timedelta(days=1)),
        status=status,
        completed_at=timezone.now() if done else None,
        completed_by=assignee if done else None,
        **extra,
    )


@pytest.fixture
def alices_work(alice, bob):
    cards = [make_person(alice, last_name=f"Клиент-{i}") for i in range(3)]
    archived = make_person(alice, last_name="Архивный")
    client_services.client_archive(actor=alice, client=archived)
    bobs_card = make_person(bob, last_name="Бобов")
    tasks = {
        "open": make_task(alice, cards[0]),
        "in_progress": make_task(alice, cards[1], status="in_progress"),
        "done": make_task(alice, cards[0], status="done"),
        "cancelled": make_task(alice, cards[2], status="cancelled"),
        "bobs": make_task(bob, bobs_card),
    }
    return {"cards": [*cards, archived], "bobs_card": bobs_card, "tasks": tasks}


def changes_for(model, pks) -> list[ObjectChange]:
    content_type = ContentType.objects.get_for_model(model)
    return list(
        ObjectChange.objects.filter(content_type=content_type, object_id__in=pks).order_by("pk")
    )


def snapshot_state():
    return (
        sorted(Client.objects.values_list("pk", "responsible_id", "version")),
        sorted(Task.objects.values_list("pk", "assignee_id", "version", "status")),
        ObjectChange.objects.count(),
        sorted(User.objects.values_list("pk", "is_active")),
    )


def test_moves_cards_and_open_tasks_exactly_as_previewed(mallory, alice, bob, alices_work):
    preview = selectors.reassignment_preview(user=mallory, from_user=alice, to_user=bob)
    card_versions = dict(Client.objects.values_list("pk", "version"))
    logged_before = ObjectChange.objects.count()

    result = services.reassign_employee(mallory, alice, bob)

    moved_cards = {c.pk for c in alices_work["cards"]}
    tasks = alices_work["tasks"]
    moved_tasks = {tasks["open"].pk, tasks["in_progress"].pk}
    assert (preview.card_count, preview.task_count) == (4, 2)
    assert {c.pk for c in preview.cards} == moved_cards
    assert {t.pk for t in preview.tasks} == moved_tasks
    assert (result.cards, result.tasks, result.deactivated) == (4, 2, False)
    assert set(Client.objects.filter(responsible=bob).values_list("pk", flat=True)) == (
        moved_cards | {alices_work["bobs_card"].pk}
    )
    assert not Client.objects.filter(responsible=alice).exists()
    for pk in moved_cards:
        assert Client.objects.get(pk=pk).version == card_versions[pk] + 1
    assert set(Task.objects.filter(assignee=bob).values_list("pk", flat=True)) == (
        moved_tasks | {tasks["bobs"].pk}
    )
    # Done and cancelled tasks keep their assignee: the history says who did them.
    assert set(Task.objects.filter(assignee=alice).values_list("status", flat=True)) == {
        "done",
        "cancelled",
    }
    assert Task.objects.get(pk=tasks["open"].pk).version == 2
    card_rows = changes_for(Client, moved_cards)[-4:]
    assert {c.object_id for c in card_rows} == moved_cards
    for change in card_rows:
        assert (change.action, change.actor, change.message) == ("update", mallory, "reassigned")
        assert change.before["responsible"] == alice.pk
        assert change.after["responsible"] == bob.pk
        assert change.after["version"] == change.before["version"] + 1
    task_rows = changes_for(Task, moved_tasks)
    assert {(c.object_id, c.before["assignee"], c.after["assignee"]) for c in task_rows} == {
        (pk, alice.pk, bob.pk) for pk in moved_tasks
    }
    summary = changes_for(User, [alice.pk])[-1]
    assert summary.pk == result.summary.pk
    assert summary.after == {"reassigned_to": bob.pk, "cards": 4, "tasks": 2}
    assert ObjectChange.objects.count() == logged_before + 4 + 2 + 1
    assert User.objects.get(pk=alice.pk).is_active is True


def test_an_edit_form_opened_before_the_move_gets_a_conflict(mallory, alice, bob, alices_work):
    card = Client.objects.get(pk=alices_work["cards"][0].pk)
    seen_version = card.version

    services.reassign_employee(mallory, alice, bob)

    with pytest.raises(client_services.VersionConflict):
        client_services.client_update(
            actor=alice, client=card, expected_version=seen_version, data={"notes": "старое"}
        )
    assert Client.objects.get(pk=card.pk).responsible == bob


def test_only_cards_or_only_tasks(mallory, alice, bob, alices_work):
    result = services.reassign_employee(mallory, alice, bob, include_tasks=False)

    assert (result.cards, result.tasks) == (4, 0)
    assert Task.objects.filter(assignee=alice, status="open").count() == 1

    result = services.reassign_employee(mallory, alice, bob, include_cards=False)

    assert (result.cards, result.tasks) == (0, 2)


def test_admin_may_switch_the_leaver_off(ada, alice, bob, alices_work):
    result = services.reassign_employee(ada, alice, bob, deactivate=True)

    assert result.deactivated is True
    assert User.objects.get(pk=alice.pk).is_active is False
    summary = changes_for(User, [alice.pk])[-1]
    assert summary.before == {"is_active": True}
    assert summary.after["is_active"] is False


@pytest.mark.parametrize(
    ("actor", "from_name"),
    [
        ("alice", "bob"),  # employees reassign nothing
        ("rita", "alice"),  # read-only
        ("mallory", "charlie"),  # not in the manager's teams
        ("mallory", "mallory"),  # a manager's own work goes through an administrator
        ("charlie", "alice"),
    ],
)
def test_who_may_not_reassign(users, alices_work, actor, from_name):
    before = snapshot_state()
    to_user = users["bob"] if from_name != "bob" else users["alice"]

    with pytest.raises(PermissionDenied):
        selectors.reassignment_preview(user=users[actor], from_user=users[from_name])
    with pytest.raises(PermissionDenied):
        services.reassign_employee(users[actor], users[from_name], to_user)

    assert snapshot_state() == before


@pytest.mark.parametrize(
    ("to_name", "options", "field", "code"),
    [
        ("alice", {}, "to_user", "same_user"),
        ("rita", {}, "to_user", "read_only_user"),
        ("charlie", {}, "to_user", "not_in_your_teams"),
        (None, {}, "to_user", "required"),
        (
            "bob",
            {"include_cards": False, "include_tasks": False},
            "include_cards",
            "nothing_chosen",
        ),
        ("bob", {"deactivate": True}, "deactivate", "admin_only"),
    ],
)
def test_refused_reassignments_change_nothing(users, alices_work, to_name, options, field, code):
    before = snapshot_state()

    with pytest.raises(ValidationError) as caught:
        services.reassign_employee(users["mallory"], users["alice"], users.get(to_name), **options)

    assert [e.code for e in caught.value.error_dict[field]] == [code]
    assert snapshot_state() == before


def test_inactive_receiver_is_refused(ada, alice, bob, alices_work):
    bob.is_active = False
    bob.save()
    before = snapshot_state()

    with pytest.raises(ValidationError) as caught:
        services.reassign_employee(ada, alice, bob)

    assert caught.value.error_dict["to_user"][0].code == "inactive_user"
    assert snapshot_state() == before


def test_receiver_must_be_allowed_to_hold_every_card(ada, mallory, alice, bob, south):
    make_person(alice)
    make_person(ada, responsible=alice, team=south)  # a South card in Alice's hands
    before = snapshot_state()

    with pytest.raises(ValidationError) as caught:
        services.reassign_employee(mallory, alice, bob)

    assert caught.value.error_dict["to_user"][0].code == "cannot_hold_cards"
    assert snapshot_state() == before
    assert services.reassign_employee(ada, alice, bob).cards == 2  # an administrator may


def test_nothing_to_move_is_said_so(mallory, bob, alice):
    with pytest.raises(ValidationError) as caught:
        services.reassign_employee(mallory, bob, alice)

    assert caught.value.error_list[0].code == "nothing_to_move"


def test_query_count_does_not_grow_with_the_base(mallory, alice, bob):
    def move_and_count(n: int) -> int:
        for i in range(n):
            card = make_person(alice, last_name=f"Клиент-{i}")
            make_task(alice, card)
        with CaptureQueriesContext(connection) as context:
            services.reassign_employee(mallory, alice, bob)
        services.reassign_employee(mallory, bob, alice)
        return len(context)

    move_and_count(1)  # warms the content-type cache, as a running server has it
    small, large = move_and_count(2), move_and_count(40)

    # Not one query per card: 40 cards cost at most one more bulk INSERT of change rows than 2
    # (SQLite caps the parameters of one statement, so a large bulk_create is split).
    assert large <= small + 1
    assert large <= 15
