"""The bell, the notifications page and the reminder settings, for each role."""

import datetime
import itertools

import pytest

from kartoteka.accounts.models import User
from kartoteka.core.models import ObjectChange
from kartoteka.notifications import messages
from kartoteka.notifications.models import Notification, ReminderRule
from kartoteka.notifications.services import ensure_rules

_seq = itertools.count(1)


def notify(user: User, *, read: bool = False, link: str = "", **params) -> Notification:
    n = next(_seq)
    return Notification.objects.create(
        recipient=user,
        kind=Notification.Kind.BIRTHDAY,
        subject=f"client:{n}",
        occurrence="2026-06-18",
        msgid=messages.BIRTHDAY,
        params={"client": params.get("client", f"Клиент {n}"), "birthday_on": "2026-06-18"},
        link=link,
        read_at=datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC) if read else None,
    )


@pytest.mark.django_db
def test_the_bell_counts_only_my_unread(web_client_for, alice, bob):
    notify(alice)
    notify(alice)
    notify(alice, read=True)
    notify(bob)
    response = web_client_for(alice).get("/notifications/bell/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'data-count="2"' in response.text
    response = web_client_for(bob).get("/notifications/bell/")
    assert 'data-count="1"' in response.text


@pytest.mark.django_db
def test_the_bell_is_on_every_page(web_client_for, alice):
    page = web_client_for(alice).get("/clients/")
    assert 'hx-get="/notifications/bell/"' in page.text
    assert "every 60s" in page.text


@pytest.mark.django_db
def test_the_page_lists_only_mine_in_my_language(web_client_for, alice, bob):
    alice.language = "ru"
    alice.save()
    notify(alice, client="Смирнова Анна")
    notify(bob, client="Чужая Клиентка")
    page = web_client_for(alice).get("/notifications/")
    assert page.status_code == 200
    assert "Смирнова Анна" in page.text
    assert "18 июня 2026" in page.text  # the birthday in Russian, whoever wrote it
    assert "Чужая Клиентка" not in page.text


@pytest.mark.django_db
def test_marking_read_and_unread(web_client_for, alice):
    mine = notify(alice)
    web = web_client_for(alice)
    response = web.post(f"/notifications/{mine.pk}/read/")
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.read_at is not None
    response = web.post(
        f"/notifications/{mine.pk}/read/", {"read": "0"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "notifications-changed"
    assert f'id="notification-{mine.pk}"' in response.text
    assert "notification-unread" in response.text
    mine.refresh_from_db()
    assert mine.read_at is None


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["ada", "bob", "charlie", "mallory", "rita"])
def test_nobody_marks_anothers_notification(web_client_for, users, role):
    theirs = notify(users["alice"])
    web = web_client_for(users[role])
    assert web.post(f"/notifications/{theirs.pk}/read/").status_code == 404
    assert web.get(f"/notifications/{theirs.pk}/open/").status_code == 404
    web.post("/notifications/read-all/")
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.django_db
def test_mark_all_read_marks_only_mine(web_client_for, alice, bob):
    notify(alice)
    notify(alice)
    others = notify(bob)
    response = web_client_for(alice).post("/notifications/read-all/")
    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=alice, read_at__isnull=True).exists()
    others.refresh_from_db()
    assert others.read_at is None


@pytest.mark.django_db
def test_opening_a_notification_marks_it_read_and_follows_its_link(web_client_for, alice):
    mine = notify(alice, link="/clients/")
    response = web_client_for(alice).get(f"/notifications/{mine.pk}/open/")
    assert response.status_code == 302
    assert response["Location"] == "/clients/"
    mine.refresh_from_db()
    assert mine.read_at is not None


@pytest.mark.django_db
def test_signed_out_visitors_are_sent_to_the_login(client):
    assert client.get("/notifications/").status_code == 302
    assert client.get("/notifications/bell/").status_code == 302


# --- Reminder settings --------------------------------------------------------------------


def settings_form(**overrides) -> dict[str, str]:
    ensure_rules()
    data: dict[str, str] = {}
    for rule in ReminderRule.objects.all():
        if rule.enabled:
            data[f"{rule.key}-enabled"] = "on"
        if rule.email:
            data[f"{rule.key}-email"] = "on"
        data[f"{rule.key}-amount"] = str(rule.amount)
        if rule.key == "silent_client":
            data[f"{rule.key}-factor"] = str(rule.factor)
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.django_db
def test_an_administrator_changes_the_reminders(web_client_for, ada):
    web = web_client_for(ada)
    assert web.get("/notifications/settings/").status_code == 200
    data = settings_form(**{"birthday-amount": "7", "stale_card-enabled": None})
    response = web.post("/notifications/settings/", data)
    assert response.status_code == 302
    birthday = ReminderRule.objects.get(key="birthday")
    assert birthday.amount == 7
    assert birthday.updated_by == ada
    assert not ReminderRule.objects.get(key="stale_card").enabled
    logged = ObjectChange.objects.filter(object_repr__in=["Client birthdays"]).get()
    assert logged.after == {"amount": 7}
    # The two rules changed are logged, the unchanged ones are not.
    assert ObjectChange.objects.filter(content_type__model="reminderrule").count() == 2


@pytest.mark.django_db
def test_a_bad_number_is_refused_with_everything_kept(web_client_for, ada):
    web = web_client_for(ada)
    data = settings_form(**{"birthday-amount": "7", "stale_card-amount": "0"})
    response = web.post("/notifications/settings/", data)
    assert response.status_code == 422
    assert "Enter a number from 1 to 3650." in response.text
    assert 'value="7"' in response.text  # the other rule's input is kept
    assert ReminderRule.objects.get(key="birthday").amount == 3  # and nothing was saved
    response = web.post("/notifications/settings/", settings_form(**{"silent_client-factor": "20"}))
    assert response.status_code == 422
    assert "Enter a number from 1 to 10." in response.text


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["alice", "mallory", "rita"])
def test_only_administrators_see_or_change_the_reminders(web_client_for, users, role):
    web = web_client_for(users[role])
    assert web.get("/notifications/settings/").status_code == 403
    response = web.post("/notifications/settings/", settings_form(**{"birthday-amount": "9"}))
    assert response.status_code == 403
    assert ReminderRule.objects.get(key="birthday").amount == 3
