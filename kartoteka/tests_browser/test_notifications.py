"""Reminders in a real browser: the worker's tick raises them, the bell in the top bar counts
the unread ones, the notifications page lists them, and marking one read lowers the count.
Screenshot: notifications.png."""

import datetime
import re
import zoneinfo

import pytest
from django.conf import settings
from playwright.sync_api import expect

from kartoteka.accounts.services import team_get_or_create, user_create
from kartoteka.clients.models import Client
from kartoteka.clients.tests.factories import make_person
from kartoteka.finance.tests.factories import make_invoice
from kartoteka.notifications.models import Notification
from kartoteka.notifications.services import reminders_tick
from kartoteka.tasks.models import Task

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"


def _reminders() -> None:
    """A morning's reminders for Olga: two calls coming due, a birthday, an unpaid invoice
    and a card nobody has confirmed for half a year, raised by the tick as the worker would."""
    north = team_get_or_create(actor=None, name="North")
    olga = user_create(
        actor=None,
        username="olga",
        password=PASSWORD,
        role="employee",
        teams=[north],
        first_name="Olga",
        last_name="Petrova",
        email="olga@example.test",
        language="en",
    )
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    today = datetime.datetime.now(zone).date()
    morning = datetime.datetime.combine(today, datetime.time(9, 0), zone)
    anna = make_person(
        olga,
        last_name="Smirnova",
        first_name="Anna",
        middle_name="",
        birth_date=(today + datetime.timedelta(days=3)).replace(year=1988),
    )
    ivan = make_person(olga, last_name="Ivanov", first_name="Ivan", middle_name="")
    Client.objects.filter(pk=ivan.pk).update(actualized_at=morning - datetime.timedelta(days=200))
    make_invoice(
        olga,
        ivan,
        "12500.00",
        number="2024-117",
        issued_on=today - datetime.timedelta(days=30),
        due_on=today - datetime.timedelta(days=5),
    )
    for title, client, minutes in (
        ("Confirm the delivery date", ivan, 10),
        ("Call about the new price list", anna, 5),
    ):
        Task.objects.create(
            title=title,
            client=client,
            assignee=olga,
            created_by=olga,
            due_at=morning + datetime.timedelta(minutes=minutes),
        )
    reminders_tick(now=morning)


def _log_in(page, live_server) -> None:
    page.goto(live_server.url + "/clients/")
    page.get_by_label("Username").fill("olga")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Clients")).to_be_visible()


def test_the_bell_counts_and_a_reminder_is_marked_read(page, live_server, screenshot):
    _reminders()
    total = Notification.objects.filter(recipient__username="olga").count()
    assert total == 5
    _log_in(page, live_server)

    bell = page.locator("#bell")
    expect(bell.locator(".bell-count")).to_have_text("5")
    bell.click()
    expect(page).to_have_url(re.compile(r"/notifications/$"))
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    rows = page.locator(".notification")
    expect(rows).to_have_count(5)
    expect(page.locator(".notification-unread")).to_have_count(5)
    expect(page.get_by_text(re.compile(r"Anna Smirnova has a birthday on"))).to_be_visible()
    expect(
        page.get_by_text(re.compile(r"Invoice 2024-117 of Ivan Ivanov was due on"))
    ).to_be_visible()

    call = page.locator(".notification", has_text="Call about the new price list")
    call.get_by_role("button", name="Mark read").click()
    expect(call.get_by_role("button", name="Mark unread")).to_be_visible()
    expect(page.locator(".notification-unread")).to_have_count(4)
    expect(page.locator("#unread-summary")).to_have_text("4 unread")
    # The bell hears the change and counts again, without reloading the page.
    expect(bell.locator(".bell-count")).to_have_text("4")
    assert (
        Notification.objects.filter(recipient__username="olga", read_at__isnull=True).count() == 4
    )
    screenshot(page, "notifications.png")

    # Another page: the bell loads its count again.
    page.goto(live_server.url + "/clients/")
    expect(page.locator("#bell .bell-count")).to_have_text("4")
