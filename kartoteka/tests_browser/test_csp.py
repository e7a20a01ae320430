"""The strict Content-Security-Policy in a real browser: the main pages, the admin and the API
docs load without a single violation or console error, and htmx still works (live filters,
section forms on the card, the duplicate probe) without eval, inline scripts or styles."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kartoteka.accounts.models import User
from kartoteka.accounts.services import team_get_or_create, user_create
from kartoteka.clients.tests.factories import make_company, make_person
from kartoteka.tasks.services import task_create
from kartoteka.tests_browser.helpers import wait_for_htmx

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"
# Every violation and console error of every document the page opens.
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(
    event.violatedDirective + " blocked " + (event.blockedURI || "inline") +
    " at " + event.sourceFile + ":" + event.lineNumber + " " + (event.sample || "")
  );
});
"""


class Watcher:
    def __init__(self, page) -> None:
        self.page = page
        self.console: list[str] = []
        page.add_init_script(WATCH)
        page.on(
            "console",
            lambda message: (
                self.console.append(f"{message.text} ({message.location.get('url')})")
                if message.type == "error" and not self._favicon(message)
                else None
            ),
        )

    @staticmethod
    def _favicon(message) -> bool:
        # Pages without an icon link (the admin, the API docs) make the browser try
        # /favicon.ico, which Kartoteka does not serve: not a policy matter.
        return (message.location.get("url") or "").endswith("/favicon.ico")

    def visit(self, url: str) -> None:
        response = self.page.goto(url)
        assert response is not None, url
        assert response.status == 200, url
        self.page.wait_for_load_state("networkidle")
        self.check(url)

    def check(self, where: str) -> None:
        violations = self.page.evaluate("window.__violations || []")
        assert violations == [], f"{where}: {violations}"
        assert self.console == [], f"{where}: {self.console}"


@pytest.fixture
def admin(transactional_db) -> User:
    user = user_create(
        actor=None,
        username="ada",
        password=PASSWORD,
        role=User.Role.ADMIN,
        first_name="Ada",
        teams=[team_get_or_create(actor=None, name="North")],
    )
    user.is_staff = user.is_superuser = True
    user.save()
    return user


def _log_in(page, live_server) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Clients")).to_be_visible()


def test_main_pages_run_under_the_policy(page, live_server, admin):
    card = make_person(admin, last_name="Строгова", first_name="Вера")
    make_company(admin, legal_name="ООО «Политика»", short_name="Политика")
    now = timezone.localtime()
    task_create(
        actor=admin,
        data={
            "title": "Встреча по договору",
            "kind": "meeting",
            "client": card,
            "due_at": now.replace(hour=10, minute=0, second=0, microsecond=0),
            "duration_minutes": 90,
        },
    )
    watcher = Watcher(page)
    _log_in(page, live_server)
    wait_for_htmx(page)
    watcher.check("sign-in")
    # htmx injects no style and evaluates nothing.
    assert page.evaluate("htmx.config.includeIndicatorStyles") is False
    assert page.evaluate("htmx.config.allowEval") is False
    assert page.evaluate("document.querySelectorAll('style').length") == 0

    base = live_server.url
    for path in (
        "/clients/",
        "/clients/new/",
        "/clients/new/?kind=company",
        "/tasks/",
        f"/tasks/calendar/?view=week&date={now.date():%Y-%m-%d}",
        f"/tasks/calendar/?view=day&date={now.date():%Y-%m-%d}",
        "/tasks/calendar/?view=month",
        "/dashboard/",
        "/plans/",
        "/imports/",
        "/duplicates/",
        "/quality/",
        "/settings/",
        "/accounts/preferences/",
        "/notifications/",
        "/exports/",
        "/catalogue/",
        "/recommendations/overdue/",
        "/api/v1/docs",
        "/admin/",
        "/admin/accounts/user/",
        f"/admin/accounts/user/{admin.pk}/change/",
    ):
        watcher.visit(base + path)

    # The calendar's timed item is placed by the nonce'd style block.
    page.goto(base + f"/tasks/calendar/?view=day&date={now.date():%Y-%m-%d}")
    item = page.locator(".cal-item").first
    expect(item).to_contain_text("Встреча по договору")
    box = item.bounding_box()
    assert box is not None
    assert box["height"] > 40
    # The API docs page really rendered its operations.
    page.goto(base + "/api/v1/docs")
    expect(page.locator(".opblock").first).to_be_visible()
    watcher.check("API docs")


def test_htmx_on_the_card_and_the_list_works_under_the_policy(page, live_server, admin):
    card = make_person(admin, last_name="Строгова", first_name="Вера", status="key")
    make_person(admin, last_name="Другова", first_name="Анна", status="lead")
    watcher = Watcher(page)
    _log_in(page, live_server)

    # The live filters: a ticked status narrows the list through htmx (no eval'd filter).
    page.goto(live_server.url + "/clients/")
    wait_for_htmx(page)
    page.locator("input[name=status][value=key]").check()
    expect(page).to_have_url(re.compile(r"[?&]status=key"))
    expect(page.locator("#client-table tbody tr")).to_have_count(1)
    watcher.check("client list")

    # The card: every section loads, then a section form opens and saves in place.
    page.goto(live_server.url + card.get_absolute_url())
    wait_for_htmx(page)
    expect(page.locator(".placeholder-line")).to_have_count(0)
    page.wait_for_load_state("networkidle")
    watcher.check("card page")
    interactions = page.locator("#section-interactions")
    # A card without interactions shows the form open; one click on the summary closes it.
    interactions.get_by_text("Add an interaction").click()
    expect(interactions.locator("details.interaction-add")).not_to_have_attribute("open", "")
    interactions.get_by_text("Add an interaction").click()
    interactions.get_by_label("Call").check()
    interactions.locator("[name$=subject]").fill("Звонок под строгой политикой")
    interactions.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#section-interactions")).to_contain_text("Звонок под строгой политикой")
    page.wait_for_load_state("networkidle")
    watcher.check("card after the form")

    # The duplicate probe on the new card form fires on a changed phone (no eval'd filter).
    phone = card.contacts.get().value
    page.goto(live_server.url + "/clients/new/")
    wait_for_htmx(page)
    page.get_by_label("Surname").fill("Строгова")
    page.locator("#id_contacts-0-value").fill(phone)
    page.locator("#id_contacts-0-value").blur()
    expect(page.locator("#duplicate-warning")).to_contain_text("Строгова")
    watcher.check("duplicate probe")
