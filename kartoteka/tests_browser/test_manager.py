"""The manager's view in a real browser: the dashboard shows each person's plan progress; an
employee sets a task on a card, finds it in Today, completes it logging the call, and the
manager's dashboard moves on reload; a leaving employee's work is previewed and handed over.
Screenshots: manager-dashboard.png and reassign-preview.png."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kartoteka.accounts.models import User
from kartoteka.accounts.services import team_get_or_create, user_create
from kartoteka.activities.services import interaction_create
from kartoteka.clients.models import Client
from kartoteka.clients.services import client_create
from kartoteka.plans.selectors import business_today
from kartoteka.plans.services import plan_create
from kartoteka.sales.services import order_create
from kartoteka.tasks.models import Task

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"


def _person(username: str, first: str, last: str, role: str, team) -> User:
    return user_create(
        actor=None,
        username=username,
        password=PASSWORD,
        role=role,
        teams=[team],
        first_name=first,
        last_name=last,
    )


def _card(owner: User, last: str, first: str) -> Client:
    return client_create(
        actor=owner,
        data={"kind": "person", "last_name": last, "first_name": first},
        contacts=[{"kind": "phone", "value": f"+7 916 {abs(hash(last)) % 10_000_000:07d}"}],
        allow_duplicates=True,
    )


def _calls(author: User, card: Client, count: int) -> None:
    now = timezone.now()
    for i in range(count):
        interaction_create(
            actor=author,
            client=card,
            data={
                "kind": "call",
                "direction": "out",
                "occurred_at": now - datetime.timedelta(minutes=5 + i),
                "subject": "Звонок по прайсу",
            },
        )


def _task(assignee: User, card: Client, title: str, hours: int) -> Task:
    """An open task as the tasks pages leave it (due `hours` from now; negative: overdue)."""
    return Task.objects.create(
        client=card,
        title=title,
        assignee=assignee,
        created_by=assignee,
        due_at=timezone.now() + datetime.timedelta(hours=hours),
    )


def _sales_team():
    """A sales office: a manager, three employees with cards, calls, orders, tasks, plans."""
    team = team_get_or_create(actor=None, name="Отдел продаж")
    manager = _person("marina", "Марина", "Соколова", User.Role.MANAGER, team)
    alexey = _person("alexey", "Алексей", "Петров", User.Role.EMPLOYEE, team)
    olga = _person("olga", "Ольга", "Иванова", User.Role.EMPLOYEE, team)
    dmitry = _person("dmitry", "Дмитрий", "Козлов", User.Role.EMPLOYEE, team)
    week = business_today()
    cards = {
        alexey: [_card(alexey, "Кузнецова", "Мария"), _card(alexey, "Морозов", "Игорь")],
        olga: [_card(olga, "Васильева", "Анна")],
        dmitry: [_card(dmitry, "Новиков", "Павел")],
    }
    _calls(alexey, cards[alexey][0], 3)
    _calls(olga, cards[olga][0], 9)
    _calls(dmitry, cards[dmitry][0], 12)
    for person, target in ((alexey, 10), (olga, 12), (dmitry, 10)):
        plan_create(
            actor=manager,
            data={
                "employee": person,
                "metric": "calls",
                "period": "week",
                "period_start": week,
                "target": Decimal(target),
            },
        )
    plan_create(
        actor=manager,
        data={
            "employee": olga,
            "metric": "revenue",
            "period": "month",
            "period_start": week,
            "target": Decimal("150000"),
        },
    )
    plan_create(
        actor=manager,
        data={
            "team": team,
            "metric": "interactions",
            "period": "month",
            "period_start": week,
            "target": Decimal("120"),
        },
    )
    order_create(
        actor=olga,
        client=cards[olga][0],
        data={"ordered_on": week, "status": "completed"},
        lines=[
            {
                "name": "Годовое обслуживание",
                "quantity": Decimal("1"),
                "unit_price": Decimal("64500.00"),
            }
        ],
    )
    _task(alexey, cards[alexey][0], "Перезвонить Марии Кузнецовой", 3)
    _task(alexey, cards[alexey][1], "Отправить КП Морозову", -20)
    _task(olga, cards[olga][0], "Согласовать договор", 26)
    return manager, alexey, olga, cards[alexey][0]


def _log_in(page, live_server, username: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Clients")).to_be_visible()


def _calls_figures(page, user: User):
    return page.locator(f"#person-{user.pk} .plan-progress .plan-progress-figures").first


def test_a_logged_call_moves_the_managers_dashboard(page, browser, live_server, screenshot):
    _manager, alexey, _olga, card = _sales_team()

    _log_in(page, live_server, "marina")
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(_calls_figures(page, alexey)).to_contain_text("3 / 10")
    expect(page.locator(f"#person-{alexey.pk}")).to_contain_text("Алексей Петров")
    expect(page.locator(f"#person-{alexey.pk} .count-overdue")).to_have_text("1")
    expect(page.locator(".team-plan")).to_contain_text("Отдел продаж")
    expect(page.locator(".progress-chart")).to_be_visible()
    screenshot(page, "manager-dashboard.png", full_page=True)

    # The employee sets a task on the card, finds it in Today, completes it and logs the call.
    context = browser.new_context(viewport={"width": 1366, "height": 860}, locale="en-US")
    employee_page = context.new_page()
    employee_page.set_default_timeout(10_000)
    _log_in(employee_page, live_server, "alexey")
    employee_page.goto(live_server.url + card.get_absolute_url())
    tasks = employee_page.locator("#section-tasks")
    tasks.get_by_text("Add a task").click()
    tasks.get_by_label("Title").fill("Перезвонить по прайсу")
    tasks.get_by_role("button", name="Add the task").click()
    expect(tasks.locator(".task-row", has_text="Перезвонить по прайсу")).to_be_visible()
    employee_page.get_by_role("link", name="Today").first.click()
    row = employee_page.locator(".task-row", has_text="Перезвонить по прайсу")
    expect(row).to_be_visible()
    row.get_by_role("link", name="Done").click()
    completing = employee_page.locator(".task-completing")
    expect(completing.get_by_label("Log it on the card")).to_be_checked()
    completing.locator("[name$=outcome]").fill("Договорились о встрече")
    completing.get_by_role("button", name="Done").click()
    expect(employee_page.locator(".task-completing")).to_have_count(0)
    context.close()
    [task] = Task.objects.filter(title="Перезвонить по прайсу")
    assert task.status == Task.Status.DONE
    assert task.interaction is not None
    assert task.interaction.kind == "call"

    page.reload()
    expect(_calls_figures(page, alexey)).to_contain_text("4 / 10")
    expect(page.locator(f"#person-{alexey.pk} .plan-progress-percent").first).to_have_text("40%")
    expect(page.locator(f"#person-{alexey.pk} td[data-label=Done]")).to_have_text("1")
    expect(page.locator(f"#person-{alexey.pk} td[data-label='Open tasks']")).to_have_text("2")


def test_a_leavers_work_is_previewed_and_handed_over(page, live_server, screenshot):
    _manager, alexey, olga, _card = _sales_team()

    _log_in(page, live_server, "marina")
    page.goto(live_server.url + "/dashboard/")
    page.locator(f"#person-{alexey.pk}").get_by_role("link", name="Алексей Петров").click()
    expect(page.get_by_role("heading", name="Алексей Петров")).to_be_visible()
    expect(page.locator(".person-tasks")).to_contain_text("Отправить КП Морозову")
    page.get_by_role("link", name="Hand the work over…").click()
    page.get_by_label("Hand the work to").select_option(label="Ольга Иванова")
    page.get_by_role("button", name="Show what moves").click()
    expect(page.locator("#preview-cards")).to_have_text("2")
    expect(page.locator("#preview-tasks")).to_have_text("2")
    expect(page.locator("#reassign-preview")).to_contain_text("Кузнецова Мария")
    screenshot(page, "reassign-preview.png", full_page=True)

    page.get_by_role("button", name="Move to Ольга Иванова").click()

    expect(page.locator(".message-success")).to_contain_text("moved to Ольга Иванова")
    assert Client.objects.filter(responsible=olga).count() == 3
    assert not Task.objects.filter(assignee=alexey, status="open").exists()
