"""The tasks API: the same permissions as the web pages, the one error shape, versions,
completing with the interaction logged, the Today buckets and the OpenAPI document."""

import typing

import pytest

from kartoteka.activities.models import Interaction, TimelineEvent
from kartoteka.clients.tests.factories import make_person
from kartoteka.core.models import ObjectChange
from kartoteka.tasks import schemas, services
from kartoteka.tasks.models import Task
from kartoteka.tasks.tests.factories import MOSCOW, SHANGHAI, at, make_task, set_zone

pytestmark = pytest.mark.django_db

BASE = "/api/v1/tasks"


@pytest.fixture
def now(time_machine):
    moment = at(MOSCOW, 2026, 3, 10, 12)
    time_machine.move_to(moment, tick=False)
    return moment


@pytest.fixture
def card(alice):
    return make_person(alice, last_name="Петров", first_name="Олег", middle_name="")


def post(api, url, data):
    return api.post(url, data, content_type="application/json")


def patch(api, url, data):
    return api.patch(url, data, content_type="application/json")


def test_create_and_get(api_client_for, alice, card, now):
    api = api_client_for(alice)

    created = post(
        api,
        BASE,
        {"client": card.pk, "kind": "meeting", "due_at": "2026-03-11T10:00:00+03:00"},
    )
    got = api.get(f"{BASE}/{created.json()['id']}")

    assert created.status_code == 201
    body = got.json()
    assert body["title"] == "Meeting: Петров Олег"
    assert body["client"] == {"id": card.pk, "name": "Петров Олег"}
    assert body["assignee"] == {"id": alice.pk, "name": "Alice"}
    assert body["due_at"] == "2026-03-11T07:00:00Z"
    assert body["due_local"] == "2026-03-11T10:00:00+03:00"
    assert body["time_zone"] == "Europe/Moscow"
    assert body["version"] == 1


def test_due_time_without_offset_is_the_assignees_wall_clock(api_client_for, alice, bob, now):
    """09:00 for a Moscow assignee and 09:00 for a Shanghai assignee are different instants."""
    set_zone(bob, "Asia/Shanghai")
    api = api_client_for(alice)

    moscow = post(api, BASE, {"title": "Москва", "due_at": "2026-03-11T09:00:00"}).json()
    shanghai = post(
        api, BASE, {"title": "上海", "assignee": bob.pk, "due_at": "2026-03-11T09:00:00"}
    ).json()

    assert moscow["due_at"] == "2026-03-11T06:00:00Z"
    assert shanghai["due_at"] == "2026-03-11T01:00:00Z"
    assert shanghai["due_local"] == "2026-03-11T09:00:00+08:00"
    assert Task.objects.get(title="上海").due_at == at(SHANGHAI, 2026, 3, 11, 9)


def test_invalid_input_gets_per_field_errors(api_client_for, alice, charlie, now):
    hidden = make_person(charlie, last_name="Чужой")
    api = api_client_for(alice)

    missing = post(api, BASE, {"title": "x"})
    bad = post(
        api,
        BASE,
        {"due_at": "2026-03-11T09:00:00Z", "repeat": "day", "repeat_interval": 400, "kind": "fax"},
    )
    rules = post(
        api,
        BASE,
        {
            "due_at": "2026-03-11T09:00:00Z",
            "repeat": "day",
            "repeat_until": "2026-03-01",
            "client": hidden.pk,
        },
    )

    assert missing.status_code == 422
    assert missing.json()["errors"] == [
        {"field": "due_at", "message": "This field is required.", "code": "required"}
    ]
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"repeat_interval", "kind"}
    assert rules.status_code == 422
    assert rules.json()["code"] == "invalid"
    assert rules.json()["errors"] == [
        {"field": "client", "message": "Choose a card you can see.", "code": "client_invalid"}
    ]
    assert Task.objects.count() == 0


def test_update_with_version_and_conflict(api_client_for, alice, card, now):
    task = make_task(alice, client=card)
    api = api_client_for(alice)

    first = patch(api, f"{BASE}/{task.pk}", {"version": 1, "priority": 4})
    stale = patch(api, f"{BASE}/{task.pk}", {"version": 1, "title": "Другое"})

    assert first.status_code == 200
    assert first.json()["version"] == 2
    assert stale.status_code == 409
    assert stale.json()["code"] == "version_conflict"
    assert stale.json()["current"]["priority"] == 4
    assert Task.objects.get().title == "Перезвонить по прайсу"


def test_complete_with_log(api_client_for, alice, card, now):
    task = make_task(alice, client=card, title="Прайс на весну")
    api = api_client_for(alice)

    response = post(
        api,
        f"{BASE}/{task.pk}/complete",
        {"log": {"direction": "out", "outcome": "Ждёт КП"}},
    )
    again = post(api, f"{BASE}/{task.pk}/complete", {"log": {}})

    assert response.status_code == 200
    interaction = Interaction.objects.get()
    assert response.json()["interaction_id"] == interaction.pk
    assert response.json()["status"] == "done"
    assert (interaction.kind, interaction.subject, interaction.outcome) == (
        "call",
        "Прайс на весну",
        "Ждёт КП",
    )
    assert TimelineEvent.objects.count() == 1
    assert again.status_code == 200
    assert Interaction.objects.count() == 1


def test_complete_with_a_bad_log_is_refused_whole(api_client_for, alice, card, now):
    task = make_task(alice, client=card, kind="meeting")

    response = post(
        api_client_for(alice), f"{BASE}/{task.pk}/complete", {"log": {"direction": "in"}}
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "log.direction",
            "message": "Only calls, emails and messages have a direction.",
            "code": "direction_not_allowed",
        }
    ]
    assert Task.objects.get().status == "open"
    assert Interaction.objects.count() == 0


def test_cancel_and_reopen(api_client_for, alice, now):
    task = make_task(alice, repeat="week")
    api = api_client_for(alice)

    cancelled = post(api, f"{BASE}/{task.pk}/cancel", {"stop_series": True})
    reopened = post(api, f"{BASE}/{task.pk}/reopen", {})

    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["repeat"] == ""
    assert reopened.json()["status"] == "open"
    assert Task.objects.count() == 1


def test_list_filters_and_buckets(api_client_for, alice, bob, card, now):
    make_task(alice, client=card, title="вчера", due_at=at(MOSCOW, 2026, 3, 9, 9))
    make_task(alice, title="сегодня", due_at=at(MOSCOW, 2026, 3, 10, 18))
    make_task(alice, title="завтра", due_at=at(MOSCOW, 2026, 3, 11, 9))
    make_task(bob, title="у Боба", due_at=at(MOSCOW, 2026, 3, 10, 18))
    api = api_client_for(alice)

    def titles(query):
        response = api.get(BASE, query)
        assert response.status_code == 200
        return [t["title"] for t in response.json()]

    assert titles({"bucket": "overdue"}) == ["вчера"]
    assert titles({"bucket": "today"}) == ["сегодня"]
    assert titles({"bucket": "upcoming"}) == ["завтра"]
    assert titles({"client": card.pk}) == ["вчера"]
    assert titles({"assignee": alice.pk, "due_from": "2026-03-10T00:00:00+03:00"}) == [
        "сегодня",
        "завтра",
    ]
    assert titles({"status": ["done"]}) == []
    assert titles({"limit": 1, "offset": 1}) == ["сегодня"]
    assert api.get(BASE, {"bucket": "someday"}).status_code == 422


def test_list_takes_a_fixed_number_of_queries(
    api_client_for, ada, alice, bob, card, now, django_assert_max_num_queries
):
    api = api_client_for(ada)
    for index in range(3):
        services.task_complete(actor=alice, task=make_task(alice, client=card, title=f"{index}"))
    api.get(BASE)
    with django_assert_max_num_queries(10) as few:
        api.get(BASE)
    for index in range(5):
        make_task(bob, client=card, title=f"b{index}")

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = api.get(BASE)

    assert len(response.json()) == 8


# --- Every role against every action (API) ---------------------------------------------------

CHANGE = {"ada": 200, "alice": 200, "mallory": 200, "bob": 403, "charlie": 404, "rita": 403}
VIEW = {"ada": 200, "alice": 200, "mallory": 200, "bob": 200, "charlie": 404, "rita": 200}


@pytest.mark.parametrize(("username", "expected"), VIEW.items())
def test_who_may_get_alices_task(api_client_for, users, card, username, expected):
    task = make_task(users["alice"], client=card)

    response = api_client_for(users[username]).get(f"{BASE}/{task.pk}")

    assert response.status_code == expected
    if expected == 404:
        assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(("username", "expected"), CHANGE.items())
@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("complete", {"log": {}}),
        ("cancel", {}),
        ("update", {"version": 1, "title": "Чужое"}),
        ("reopen", {}),
    ],
)
def test_who_may_change_alices_task(api_client_for, users, card, username, expected, action, body):
    task = make_task(users["alice"], client=card)
    if action == "reopen":
        services.task_complete(actor=users["alice"], task=task)
    api = api_client_for(users[username])
    before = Task.objects.values().get()
    changes_before = ObjectChange.objects.count()

    if action == "update":
        response = patch(api, f"{BASE}/{task.pk}", body)
    else:
        response = post(api, f"{BASE}/{task.pk}/{action}", body)

    assert response.status_code == expected
    if expected == 200:
        assert ObjectChange.objects.count() > changes_before
        return
    assert response.json()["code"] in ("permission_denied", "not_found")
    assert Task.objects.values().get() == before
    assert ObjectChange.objects.count() == changes_before
    assert Interaction.objects.count() == 0


@pytest.mark.parametrize(
    ("username", "assignee", "expected"),
    [
        ("ada", "alice", 201),
        ("alice", "alice", 201),
        ("alice", "bob", 201),
        ("bob", "bob", 201),
        ("mallory", "alice", 201),
        ("charlie", "charlie", 422),  # the card is not charlie's to see
        ("alice", "charlie", 403),
        ("rita", "rita", 403),
    ],
)
def test_who_may_create_a_task_on_the_card(
    api_client_for, users, card, username, assignee, expected
):
    response = post(
        api_client_for(users[username]),
        BASE,
        {"client": card.pk, "assignee": users[assignee].pk, "due_at": "2026-03-11T09:00:00Z"},
    )

    assert response.status_code == expected
    assert Task.objects.count() == (1 if expected == 201 else 0)


def test_anonymous_gets_401(client):
    response = client.get(BASE)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_schema_literals_match_the_model():
    assert set(typing.get_args(schemas.TaskKind)) == set(Task.Kind.values)
    assert set(typing.get_args(schemas.TaskStatus)) == set(Task.Status.values)
    assert set(typing.get_args(schemas.TaskRepeat)) == set(Task.Repeat.values)


def test_operations_appear_in_openapi(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    operations = {
        op["operationId"] for path, ops in paths.items() if "/tasks" in path for op in ops.values()
    }
    assert operations >= {
        "task_list",
        "task_create",
        "task_get",
        "task_update",
        "task_complete",
        "task_cancel",
        "task_reopen",
    }


def test_due_in_a_zone_with_a_seconds_offset_comes_out_as_a_valid_date_time(
    api_client_for, alice, now
):
    """Moscow kept local mean time (+02:30:17) before 1916: RFC 3339 has no seconds in an
    offset, so such a due time comes out in UTC instead of as an invalid date-time."""
    api = api_client_for(alice)

    body = post(api, BASE, {"title": "Old", "due_at": "1825-01-21T18:59:30"}).json()

    assert body["due_at"] == "1825-01-21T16:29:13Z"
    assert body["due_local"] == "1825-01-21T16:29:13Z"
    assert body["time_zone"] == "Europe/Moscow"
