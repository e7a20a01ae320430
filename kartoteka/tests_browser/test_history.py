"""A card's history in a real browser: an administrator edits a card (status and name), opens
its history, reads the before and after of each field, restores one value and sees the card
show it again. Screenshots: card-history.png and card-history-restored.png."""

import pytest
from playwright.sync_api import expect

from kartoteka.accounts.models import User
from kartoteka.accounts.services import team_get_or_create, user_create
from kartoteka.activities import services as activity_services
from kartoteka.care import services as care_services
from kartoteka.clients.models import Client
from kartoteka.clients.services import client_create, client_update, tags_from_names
from kartoteka.tests_browser.helpers import log_in

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"


def _seed() -> Client:
    """A card with a few weeks of life: made by a manager, edited, a survey and a call."""
    team = team_get_or_create(actor=None, name="Салон на Тверской")
    user_create(
        actor=None, username="olga", password=PASSWORD, role=User.Role.ADMIN, teams=[team],
        first_name="Ольга", last_name="Орлова",
    )  # fmt: skip
    manager = user_create(
        actor=None, username="pavel", password=PASSWORD, role=User.Role.MANAGER, teams=[team],
        first_name="Павел", last_name="Соколов",
    )  # fmt: skip
    card = client_create(
        actor=manager,
        data={"kind": "person", "last_name": "Кузнецова", "first_name": "Мария",
              "middle_name": "Андреевна", "status": "lead", "team": team, "source": "Instagram"},
        contacts=[{"kind": "phone", "value": "+7 916 234-56-78", "is_primary": True}],
        allow_duplicates=True,
    )  # fmt: skip
    client_update(
        actor=manager,
        client=card,
        expected_version=None,
        data={"family_status": "married", "preferences": "Кофе без сахара"},
        contacts=[
            {"kind": "phone", "value": "+7 916 234-56-78", "is_primary": True,
             "pk": card.contacts.get().pk},
            {"kind": "email", "value": "m.kuznetsova@mail.ru"},
        ],
        tags=tags_from_names(actor=manager, names=["VIP"]),
    )  # fmt: skip
    care_services.survey_create(
        actor=manager, client=card, data={"name": "После окрашивания", "scale": "nps", "score": 10}
    )
    activity_services.interaction_create(
        actor=manager, client=card, data={"kind": "call", "content": "Записалась на 12 мая"}
    )
    return card


def test_edit_read_history_and_restore_a_value(page, live_server, screenshot):
    card = _seed()

    log_in(page, live_server, "olga", PASSWORD)

    # Edit the card: a new status and a corrected given name.
    page.goto(live_server.url + card.get_absolute_url())
    page.locator(".card-actions").get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Status", exact=True).select_option("key")
    page.get_by_label("Given name").fill("Марина")
    page.get_by_role("button", name="Save", exact=True).last.click()
    expect(page.locator("h1")).to_have_text("Кузнецова Марина Андреевна")

    # The history: the edit with each field's before and after.
    page.locator(".card-actions").get_by_role("link", name="History", exact=True).click()
    expect(page.get_by_role("heading", name="History of changes")).to_be_visible()
    edit = page.locator(".change-row").first
    expect(edit).to_contain_text("Ольга Орлова")
    expect(edit).to_contain_text("Web")
    status = edit.locator(".change-field[data-field='status']")
    expect(status.locator(".change-label")).to_have_text("Status")
    expect(status.locator(".change-before")).to_have_text("Lead")
    expect(status.locator(".change-after")).to_have_text("Key client")
    name = edit.locator(".change-field[data-field='first_name']")
    expect(name.locator(".change-before")).to_have_text("Мария")
    expect(name.locator(".change-after")).to_have_text("Марина")
    expect(page.locator(".change-table")).to_contain_text("После окрашивания")
    expect(page.locator(".change-table")).to_contain_text("m.kuznetsova@mail.ru")
    screenshot(page, "card-history.png", full_page=True)

    # Restore the old given name only: the card shows it, the status stays.
    name.get_by_role("button", name="Restore this value").click()
    expect(page.locator("h1")).to_have_text("Кузнецова Мария Андреевна")
    expect(page.locator(".messages")).to_contain_text("restored")
    expect(page.locator(".card-badges")).to_contain_text("Key client")
    saved = Client.objects.get(pk=card.pk)
    assert (saved.first_name, saved.status) == ("Мария", "key")

    page.locator(".card-actions").get_by_role("link", name="History", exact=True).click()
    restore = page.locator(".change-row").first
    expect(restore).to_contain_text("Restored from change #")
    expect(restore.locator(".change-field[data-field='first_name'] .change-after")).to_have_text(
        "Мария"
    )
    screenshot(page, "card-history-restored.png", full_page=True)
