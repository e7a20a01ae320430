"""The data-subject requests register in a real browser: an administrator opens it from the
user menu, sees overdue requests highlighted, registers a new request from a card, and the
register shows it. Screenshot: privacy-requests.png."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kartoteka.accounts.models import User
from kartoteka.accounts.services import team_get_or_create, user_create
from kartoteka.clients.services import client_create
from kartoteka.privacy import services
from kartoteka.privacy.models import DataSubjectRequest
from kartoteka.tests_browser.helpers import wait_for_htmx

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"


def _person(actor: User, team, last: str, first: str, middle: str):
    return client_create(
        actor=actor,
        data={"kind": "person", "last_name": last, "first_name": first, "middle_name": middle,
              "team": team},
        contacts=[],
        allow_duplicates=True,
    )  # fmt: skip


def test_register_with_overdue_requests_and_a_new_one(page, live_server, screenshot):
    team = team_get_or_create(actor=None, name="Офис на Лесной")
    admin = user_create(
        actor=None,
        username="olga",
        password=PASSWORD,
        role=User.Role.ADMIN,
        teams=[team],
        first_name="Ольга",
        last_name="Орлова",
    )
    today = timezone.localdate()
    cards = [
        _person(admin, team, "Кузнецова", "Мария", "Игоревна"),
        _person(admin, team, "Петров", "Андрей", "Сергеевич"),
        _person(admin, team, "Соколова", "Анна", "Викторовна"),
        _person(admin, team, "Морозов", "Дмитрий", "Олегович"),
    ]
    late = services.request_register(
        actor=admin, client=cards[0], kind="access", channel="post",
        received_on=today - datetime.timedelta(days=30), identity_checked=True,
    )  # fmt: skip
    services.request_start(actor=admin, dsr=late)
    extended = services.request_register(
        actor=admin, client=cards[1], kind="correction", channel="email",
        received_on=today - datetime.timedelta(days=9), details="Новая фамилия после брака",
    )  # fmt: skip
    services.request_extend(actor=admin, dsr=extended, reason="Ждём копию свидетельства")
    done = services.request_register(
        actor=admin, client=cards[2], kind="access", channel="email",
        received_on=today - datetime.timedelta(days=20),
    )  # fmt: skip
    services.request_complete(actor=admin, dsr=done, outcome="Выписка отправлена почтой")

    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("olga")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Clients")).to_be_visible()
    wait_for_htmx(page)

    page.goto(live_server.url + cards[3].get_absolute_url())
    page.get_by_role("link", name="Privacy request").click()
    expect(page.get_by_role("heading", name="Register a request")).to_be_visible()
    page.get_by_label("Kind").select_option("erasure")
    page.get_by_label("Channel").select_option("in_person")
    page.get_by_label("What is asked").fill("Удалить все данные, заявление от руки")
    page.get_by_label("Identity checked").check()
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_text("The request is registered")).to_be_visible()
    screenshot(page, "privacy-request-detail.png", full_page=True)
    assert DataSubjectRequest.objects.filter(client=cards[3], kind="erasure").count() == 1

    page.locator("details.menu summary").click()
    page.locator("details.menu").get_by_role("link", name="Privacy requests").click()
    expect(page.get_by_role("heading", name="Privacy requests")).to_be_visible()
    rows = page.locator("#privacy-requests tbody tr")
    expect(rows).to_have_count(4)
    expect(page.locator("#privacy-requests tr[data-overdue]")).to_have_count(1)
    expect(page.locator("#privacy-requests tr[data-overdue]")).to_contain_text("Кузнецова")
    screenshot(page, "privacy-requests.png")

    page.get_by_label("Overdue only").check()
    page.get_by_role("button", name="Show").click()
    expect(rows).to_have_count(1)
