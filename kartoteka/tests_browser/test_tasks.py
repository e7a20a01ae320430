"""Tasks in a real browser: set a task from a card, find it in Today, complete it and log the
call in the same step (the call then shows on the card's timeline). Screenshots of Today and
the calendar (week and month) go to docs/screenshots/ with `make screenshots`."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kartoteka.accounts.models import User
from kartoteka.accounts.services import team_get_or_create, user_create
from kartoteka.activities.models import Interaction
from kartoteka.clients.services import client_create
from kartoteka.tasks.models import Task
from kartoteka.tasks.services import task_complete, task_create

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"
TITLE = "Перезвонить: условия поставки"


def _card(actor: User, last: str, first: str, middle: str, phone: str):
    return client_create(
        actor=actor,
        data={
            "kind": "person",
            "last_name": last,
            "first_name": first,
            "middle_name": middle,
            "status": "active",
            "responsible": actor,
        },
        contacts=[{"kind": "phone", "value": phone}],
    )


def _populate(manager: User, colleague: User) -> dict[str, object]:
    """A working week around today: overdue calls, today's meetings, the next days' visits."""
    cards = [
        _card(manager, "Петров", "Олег", "Иванович", "+7 903 111-22-33"),
        _card(manager, "Шевченко", "Олена", "Василівна", "+380 67 123 4567"),
        _card(manager, "王", "小明", "", "+86 138 0013 8000"),
        _card(manager, "Clarke", "Emily", "", "+1 415 555 2671"),
        _card(manager, "Кузнецова", "Мария", "Андреевна", "+7 916 234-56-78"),
    ]
    zone = manager.zone
    today = timezone.now().astimezone(zone).date()

    def at(days: int, hour: int, minute: int = 0) -> datetime.datetime:
        day = today + datetime.timedelta(days=days)
        return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=zone)

    plan = [
        (cards[1], "call", "Напомнить об оплате счёта", at(-2, 10), None, 3, manager, ""),
        (cards[2], "email", "Send the price list", at(-1, 15, 30), None, 2, manager, ""),
        (cards[3], "call", "Follow-up call", at(0, 9), None, 2, manager, "week"),
        (cards[4], "meeting", "Встреча: новый договор", at(0, 11, 30), 60, 4, manager, ""),
        (cards[1], "email", "Отправить предложение", at(0, 16), None, 2, colleague, ""),
        (cards[2], "visit", "Визит в офис клиента", at(1, 10), 90, 2, manager, ""),
        (cards[3], "call", "Quarterly review call", at(2, 14), None, 3, manager, ""),
        (cards[4], "meeting", "Презентация каталога", at(3, 15), 45, 2, manager, ""),
        (cards[1], "other", "Подготовить подарок ко дню рождения", at(5, 12), None, 1, manager, ""),
        (cards[2], "call", "Уточнить сроки доставки", at(-6, 11), None, 2, manager, ""),
    ]
    for client, kind, title, due, minutes, priority, assignee, repeat in plan:
        task_create(
            actor=manager,
            data={
                "client": client,
                "kind": kind,
                "title": title,
                "due_at": due,
                "duration_minutes": minutes,
                "priority": priority,
                "assignee": assignee,
                "repeat": repeat,
            },
        )
    # One done earlier this week, so the calendar shows a ticked-off task too.
    done = Task.objects.get(title="Уточнить сроки доставки")
    task_complete(actor=manager, task=done)
    return {"card": cards[0], "today": today}


def _log_in(page, live_server, username: str) -> None:
    page.goto(live_server.url + "/clients/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Clients")).to_be_visible()


def test_task_from_card_to_today_to_logged_call(page, live_server, screenshot):
    team = team_get_or_create(actor=None, name="Moscow office")
    manager = user_create(
        actor=None,
        username="elena",
        password=PASSWORD,
        role=User.Role.MANAGER,
        first_name="Elena",
        last_name="Smirnova",
        teams=[team],
    )
    colleague = user_create(
        actor=None,
        username="andrey",
        password=PASSWORD,
        role=User.Role.EMPLOYEE,
        first_name="Andrey",
        last_name="Kuznetsov",
        teams=[team],
    )
    setup = _populate(manager, colleague)
    card = setup["card"]
    _log_in(page, live_server, "elena")

    # On the card: the Tasks section loads itself; add a call for now (today, the user's day).
    page.goto(live_server.url + card.get_absolute_url())
    section = page.locator("#section-tasks")
    expect(section).to_contain_text("No open tasks.")
    section.get_by_text("+ Add a task").click()
    due = timezone.now().astimezone(manager.zone).strftime("%Y-%m-%dT%H:%M")
    section.get_by_label("Title").fill(TITLE)
    section.get_by_label("Due").fill(due)
    section.get_by_label("Priority").select_option("3")
    section.get_by_role("button", name="Add the task").click()
    expect(section.locator(".task-row")).to_have_count(1)
    expect(section).to_contain_text(TITLE)
    task = Task.objects.get(title=TITLE)
    assert (task.client, task.assignee, task.priority) == (card, manager, 3)

    # Today: the task is in today's list, the nav badge counts overdue and today's tasks.
    page.get_by_role("link", name=re.compile(r"^Today")).first.click()
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()
    today_section = page.locator(".task-section-today")
    expect(today_section).to_contain_text(TITLE)
    expect(page.locator(".task-section-overdue .task-row")).to_have_count(2)
    expect(page.locator(".nav-count")).to_have_text("5")  # 2 overdue + 3 of hers today
    page.get_by_role("link", name="My team").click()
    expect(today_section.locator(".task-row")).to_have_count(4)
    screenshot(page, "today.png", full_page=True)
    page.get_by_role("link", name="Mine").click()
    expect(today_section.locator(".task-row")).to_have_count(3)

    # Done: the complete form opens in place, the call prefilled, "log it on the card" ticked.
    row = page.locator(".task-row", has_text=TITLE)
    row.get_by_role("link", name=re.compile("Done")).click()
    form = page.locator(".complete-form")
    expect(form.get_by_label("Log it on the card")).to_be_checked()
    expect(form.get_by_label("Subject")).to_have_value(TITLE)
    expect(form.get_by_label("Call", exact=True)).to_be_checked()
    form.get_by_label("Direction").select_option("out")
    form.get_by_label("Outcome").fill("Согласен на поставку в марте")
    form.get_by_role("button", name=re.compile("Done")).click()
    expect(page.locator(".task-section-today")).not_to_contain_text(TITLE)
    expect(page.locator(".nav-count")).to_have_text("4")

    interaction = Interaction.objects.get(client=card)
    assert (interaction.kind, interaction.direction) == ("call", "out")
    assert interaction.outcome == "Согласен на поставку в марте"
    task.refresh_from_db()
    assert (task.status, task.interaction) == ("done", interaction)

    # The card: the call is on its timeline and in its interactions; no open task is left.
    page.goto(live_server.url + card.get_absolute_url())
    expect(page.locator("#section-timeline")).to_contain_text(f"Outgoing call: {TITLE}")
    expect(page.locator("#section-interactions")).to_contain_text("Согласен на поставку в марте")
    expect(page.locator("#section-tasks")).to_contain_text("No open tasks.")

    # Completed on the card itself: the logged call shows in the interactions section in place.
    assignee = User.objects.get(pk=task.assignee_id)
    task_create(
        actor=assignee,
        data={
            "client": card,
            "kind": "call",
            "title": "Звонок с карточки",
            "due_at": timezone.now(),
            "assignee": assignee,
        },
    )
    page.reload()
    tasks_section = page.locator("#section-tasks")
    tasks_section.get_by_role("link", name=re.compile("Done")).click()
    complete = tasks_section.locator(".complete-form")
    complete.get_by_label("Outcome").fill("Перезвонит в апреле")
    complete.get_by_role("button", name=re.compile("Done")).click()
    expect(page.locator("#section-interactions")).to_contain_text("Перезвонит в апреле")
    expect(page.locator("#section-tasks")).to_contain_text("No open tasks.")

    # The calendar: the week with hours (meetings as blocks), then the month grid.
    page.goto(live_server.url + "/tasks/calendar/?view=week&scope=team")
    expect(page.locator(".cal-grid-week")).to_be_visible()
    expect(page.locator(".cal-block", has_text="Встреча: новый договор")).to_be_visible()
    screenshot(page, "calendar-week.png", full_page=True)
    page.get_by_role("link", name="Month", exact=True).click()
    expect(page.locator(".cal-month")).to_be_visible()
    expect(page.locator(".cal-today")).to_contain_text("Follow-up call")
    screenshot(page, "calendar-month.png", full_page=True)
    page.get_by_role("link", name="Day", exact=True).click()
    expect(page.locator(".cal-grid-day")).to_be_visible()
    expect(page.locator(".cal-day-list")).to_contain_text("Встреча: новый договор")
