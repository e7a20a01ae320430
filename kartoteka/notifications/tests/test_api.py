"""The notifications API: my notifications only, marking read, the unread count, and the
reminder rules for administrators only; one error shape; in the OpenAPI document."""

import pytest

from kartoteka.notifications.models import Notification, ReminderRule
from kartoteka.notifications.services import ensure_rules
from kartoteka.notifications.tests.test_views import notify


@pytest.mark.django_db
def test_my_notifications_newest_first_a_page_at_a_time(api_client_for, alice, bob):
    alice.language, alice.time_zone = "ru", "Asia/Shanghai"
    alice.save()
    first = notify(alice, client="Первая")
    notify(alice, client="Вторая", read=True)
    third = notify(alice, client="Третья")
    notify(bob, client="Чужая")
    api = api_client_for(alice)
    body = api.get("/api/v1/notifications?limit=2").json()
    assert [item["id"] for item in body["items"]] == [third.pk, third.pk - 1]
    # In the reader's language (Russian dates), whoever raised it.
    assert "Третья" in body["items"][0]["text"]
    assert "18 июня 2026" in body["items"][0]["text"]
    assert body["items"][0]["msgid"] == "%(client)s has a birthday on %(birthday_on)s."
    assert body["items"][0]["params"]["client"] == "Третья"
    older = api.get(f"/api/v1/notifications?limit=2&before={body['next_before']}").json()
    assert [item["id"] for item in older["items"]] == [first.pk]
    assert older["next_before"] is None
    unread = api.get("/api/v1/notifications?unread=true").json()
    assert {item["id"] for item in unread["items"]} == {first.pk, third.pk}
    assert api.get("/api/v1/notifications/unread-count").json() == {"unread": 2}


@pytest.mark.django_db
def test_marking_read_one_and_all(api_client_for, alice, bob):
    mine = notify(alice)
    notify(alice)
    others = notify(bob)
    api = api_client_for(alice)
    response = api.patch(
        f"/api/v1/notifications/{mine.pk}", {"read": True}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["read_at"] is not None
    assert api.get("/api/v1/notifications/unread-count").json() == {"unread": 1}
    response = api.patch(
        f"/api/v1/notifications/{mine.pk}", {"read": False}, content_type="application/json"
    )
    assert response.json()["read_at"] is None
    assert api.post("/api/v1/notifications/read-all").json() == {"marked": 2}
    others.refresh_from_db()
    assert others.read_at is None


@pytest.mark.django_db
def test_bad_input_gets_the_shared_error_shape(api_client_for, alice):
    mine = notify(alice)
    api = api_client_for(alice)
    response = api.patch(
        f"/api/v1/notifications/{mine.pk}", {"read": "maybe"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"
    assert response.json()["errors"][0]["field"] == "read"
    response = api.patch(
        f"/api/v1/notifications/{mine.pk}", {"seen": True}, content_type="application/json"
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} >= {"seen"}
    mine.refresh_from_db()
    assert mine.read_at is None


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["ada", "bob", "charlie", "mallory", "rita"])
def test_nobody_reads_or_marks_anothers_notification(api_client_for, users, role):
    theirs = notify(users["alice"])
    api = api_client_for(users[role])
    assert api.get(f"/api/v1/notifications/{theirs.pk}").status_code == 404
    response = api.patch(
        f"/api/v1/notifications/{theirs.pk}", {"read": True}, content_type="application/json"
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert api.get("/api/v1/notifications").json()["items"] == []
    api.post("/api/v1/notifications/read-all")
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.django_db
def test_anonymous_requests_are_refused(client):
    response = client.get("/api/v1/notifications")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.django_db
def test_an_administrator_changes_a_rule(api_client_for, ada):
    api = api_client_for(ada)
    rules = api.get("/api/v1/reminder-rules").json()
    assert [rule["key"] for rule in rules] == ReminderRule.Key.values
    response = api.patch(
        "/api/v1/reminder-rules/silent_client",
        {"factor": "2.5", "email": True},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["factor"] == "2.50"
    rule = ReminderRule.objects.get(key="silent_client")
    assert (str(rule.factor), rule.email, rule.amount) == ("2.50", True, 14)


@pytest.mark.django_db
def test_a_bad_rule_change_is_refused_per_field_and_saves_nothing(api_client_for, ada):
    api = api_client_for(ada)
    response = api.patch(
        "/api/v1/reminder-rules/birthday",
        {"amount": 400, "email": False},
        content_type="application/json",
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"] == [
        {"field": "amount", "message": "Enter a number from 0 to 60.", "code": "out_of_range"}
    ]
    rule = ReminderRule.objects.get(key="birthday")
    assert (rule.amount, rule.email) == (3, True)
    assert (
        api.patch(
            "/api/v1/reminder-rules/nonsense", {"amount": 1}, content_type="application/json"
        ).status_code
        == 404
    )


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["alice", "mallory", "rita"])
def test_only_administrators_see_or_change_rules(api_client_for, users, role):
    ensure_rules()
    api = api_client_for(users[role])
    assert api.get("/api/v1/reminder-rules").status_code == 403
    response = api.patch(
        "/api/v1/reminder-rules/birthday", {"amount": 9}, content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert ReminderRule.objects.get(key="birthday").amount == 3


@pytest.mark.django_db
def test_the_operations_are_in_the_openapi_document(client):
    schema = client.get("/api/v1/openapi.json").json()
    operations = {
        operation["operationId"] for path in schema["paths"].values() for operation in path.values()
    }
    assert {
        "notification_list",
        "notification_unread",
        "notification_read_all",
        "notification_get",
        "notification_update",
        "reminder_rule_list",
        "reminder_rule_update",
    } <= operations
    assert Notification.Kind.values  # the kinds the schema describes exist
