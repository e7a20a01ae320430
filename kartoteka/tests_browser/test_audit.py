"""The audit trail in a real browser: an administrator opens cards, an employee exports, the
administrator searches the trail by card and verifies the chain."""

import re

import pytest
from playwright.sync_api import expect

from kartoteka.accounts.models import User
from kartoteka.accounts.services import team_get_or_create, user_create
from kartoteka.audit import services as audit_services
from kartoteka.clients.services import client_create
from kartoteka.core.context import change_context

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"


def _log_in(page, live_server, username: str) -> None:
    page.goto(live_server.url + "/clients/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Clients")).to_be_visible()


def test_admin_searches_and_verifies_the_trail(page, live_server, screenshot):
    team = team_get_or_create(actor=None, name="Москва")
    admin = user_create(actor=None, username="olga", password=PASSWORD, role=User.Role.ADMIN,
                        first_name="Ольга", last_name="Смирнова")  # fmt: skip
    elena = user_create(actor=None, username="elena", password=PASSWORD,
                        role=User.Role.EMPLOYEE, teams=[team], first_name="Елена")  # fmt: skip
    cards = []
    with change_context(channel="web"):
        for last, first, phone in [
            ("Иванов", "Сергей", "+7 903 123-45-67"),
            ("Шевченко", "Олена", "+380 67 123 4567"),
            ("王", "小明", "+86 138 0013 8000"),
        ]:
            cards.append(
                client_create(
                    actor=elena,
                    data={"kind": "person", "last_name": last, "first_name": first,
                          "team": team, "responsible": elena},
                    contacts=[{"kind": "phone", "value": phone}],
                )
            )  # fmt: skip
    with change_context(channel="api"):
        audit_services.record("view", obj=cards[1], actor=elena)
        audit_services.record("export", actor=elena, details={"format": "xlsx", "rows": 3})

    _log_in(page, live_server, "olga")
    page.goto(live_server.url + cards[0].get_absolute_url())
    page.locator("details.menu summary").click()
    page.get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    first_row = page.locator(".audit-table tbody tr").first
    expect(first_row).to_contain_text("Viewed")
    expect(first_row).to_contain_text("olga")
    expect(first_row).to_contain_text(f"№ {cards[0].card_number}")
    screenshot(page, "audit-trail.png", full_page=True)

    page.get_by_label("Card").fill(str(cards[1].number))
    page.get_by_label("Action").select_option("view")
    page.get_by_role("button", name="Search").click()
    rows = page.locator(".audit-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("elena")
    expect(rows.first).to_contain_text("API")

    page.get_by_label("To").fill("2020-01-01")
    page.get_by_label("From").fill("2020-02-01")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("The end date is before the start date.")).to_be_visible()
    screenshot(page, "audit-trail-errors.png", full_page=True)

    page.get_by_role("button", name="Verify chain").click()
    expect(page.get_by_text(re.compile(r"Chain intact: \d+ events checked"))).to_be_visible()
    screenshot(page, "audit-verified.png")
    assert admin.pk
