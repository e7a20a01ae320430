"""Consent in a real browser, on the card page: the care section asks for the health-data
consent, it is recorded (basis consent, paper form, a text version), a health note is added,
then the consent is withdrawn: the notes disappear at once and the erasure date shows.
Screenshots: consent-given.png and consent-withdrawn.png."""

import pytest
from playwright.sync_api import expect

from kartoteka.accounts.models import User
from kartoteka.accounts.services import team_get_or_create, user_create
from kartoteka.clients.services import client_create
from kartoteka.consent.models import ConsentEvent, HealthErasureSchedule
from kartoteka.tests_browser.conftest import SCREENSHOTS
from kartoteka.tests_browser.helpers import wait_for_htmx

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"


def _log_in(page, live_server, username: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Clients")).to_be_visible()


def _shoot(page, name: str) -> None:
    """The care and consents sections together (they sit one under the other)."""
    boxes = [page.locator(f"#section-{s}").bounding_box() for s in ("care", "consents")]
    top = min(b["y"] for b in boxes) + page.evaluate("window.scrollY")
    bottom = max(b["y"] + b["height"] for b in boxes) + page.evaluate("window.scrollY")
    left = min(b["x"] for b in boxes)
    right = max(b["x"] + b["width"] for b in boxes)
    # At the top, the sticky header is drawn there, not over the sections.
    page.evaluate("window.scrollTo(0, 0)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(SCREENSHOTS / name),
        full_page=True,
        clip={"x": left - 8, "y": top - 8, "width": right - left + 16, "height": bottom - top + 16},
    )


def test_health_consent_given_then_withdrawn(page, live_server):
    team = team_get_or_create(actor=None, name="Салон на Тверской")
    manager = user_create(
        actor=None,
        username="elena",
        password=PASSWORD,
        role=User.Role.MANAGER,
        teams=[team],
        first_name="Елена",
        last_name="Смирнова",
    )
    manager.health_access = True
    manager.save(update_fields=["health_access"])
    card = client_create(
        actor=manager,
        data={"kind": "person", "last_name": "Кузнецова", "first_name": "Мария", "team": team},
    )
    page.set_viewport_size({"width": 1440, "height": 900})
    _log_in(page, live_server, "elena")
    page.goto(live_server.url + card.get_absolute_url())
    wait_for_htmx(page)

    care = page.locator("#section-care")
    consents = page.locator("#section-consents")
    expect(care).to_contain_text("Record the client's consent to processing of health data first.")
    expect(consents.locator("#consent-state-health")).to_contain_text("never")

    # The care section's button opens the consents form with the health purpose chosen.
    care.get_by_role("link", name="Record the consent").click()
    form = page.locator("#section-consents form.u-mt-10")
    expect(form.get_by_label("Purpose")).to_have_value("health")
    expect(form.get_by_label("Legal basis")).to_have_value("consent")
    form.get_by_label("Channel").select_option("paper_form")
    form.get_by_label("Text version").fill("согласие на обработку данных о здоровье v2 2026-05")
    form.get_by_label("Evidence").fill("Анкета клиента № 1187, подписана")
    form.get_by_role("button", name="Record the consent").click()

    health_row = page.locator("#section-consents #consent-state-health")
    expect(health_row.locator(".badge")).to_have_text("given")
    expect(page.locator("#section-consents .consent-event")).to_have_count(1)
    event = ConsentEvent.objects.get()
    assert (event.purpose, event.legal_basis, event.channel, event.door) == (
        "health",
        "consent",
        "paper_form",
        "web",
    )

    # The care section redrew itself: a health note can be added now.
    care = page.locator("#section-care")
    care.get_by_text("Add a health note").click()
    care.get_by_label("Kind").select_option("allergy")
    care.get_by_label("Note").fill("Пенициллин: крапивница")
    care.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#section-care .health-note")).to_contain_text("Пенициллин: крапивница")
    page.locator("#section-consents").scroll_into_view_if_needed()
    _shoot(page, "consent-given.png")

    # Withdraw: a confirmation first, then the notes are gone at once.
    page.locator("#section-consents #consent-state-health").get_by_role(
        "link", name="Withdraw"
    ).click()
    confirm = page.locator("#section-consents form.consent-withdraw")
    expect(confirm).to_contain_text("erased for good on")
    confirm.get_by_label("Channel").select_option("email")
    confirm.get_by_label("Evidence").fill("Письмо клиентки от 23.11")
    confirm.get_by_role("button", name="Withdraw").click()

    health_row = page.locator("#section-consents #consent-state-health")
    expect(health_row.locator(".badge")).to_have_text("withdrawn")
    due = HealthErasureSchedule.objects.get().due_at
    due_text = due.astimezone().strftime("%m/%d/%Y")
    expect(health_row).to_contain_text("health data scheduled for erasure on")
    care = page.locator("#section-care")
    expect(care).to_contain_text("Consent withdrawn on")
    expect(care).to_contain_text(due_text)
    expect(care).not_to_contain_text("Пенициллин")
    expect(page.locator("#section-consents .consent-event")).to_have_count(2)
    _shoot(page, "consent-withdrawn.png")
