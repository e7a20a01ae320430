"""Printing a card in a real browser: the card page's "Print" opens the printable card in a
new tab, laid out for A4 (print media), and the print is in the audit trail.
Screenshot: card-print.png."""

import pytest
from playwright.sync_api import expect

from kartoteka.audit.models import AuditEvent
from kartoteka.tests_browser.helpers import log_in, wait_for_htmx
from kartoteka.tests_browser.test_history import PASSWORD, _seed

pytestmark = pytest.mark.browser


def test_print_a_card_from_its_page(page, live_server, screenshot):
    card = _seed()
    log_in(page, live_server, "olga", PASSWORD)
    page.goto(live_server.url + card.get_absolute_url())
    wait_for_htmx(page)

    with page.context.expect_page() as opened:
        page.locator(".card-actions").get_by_role("link", name="Print").click()
    sheet = opened.value
    sheet.wait_for_load_state()

    expect(sheet.locator("h1")).to_have_text("Кузнецова Мария Андреевна")
    expect(sheet.get_by_role("button", name="Print")).to_be_visible()
    expect(sheet.locator(".events tbody tr")).to_have_count(2)  # the survey and the call
    expect(sheet.get_by_text("Health notes are never printed.")).to_be_visible()
    # As on paper: the toolbar is not printed.
    sheet.emulate_media(media="print")
    expect(sheet.locator(".print-toolbar")).to_be_hidden()
    sheet.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    screenshot(sheet, "card-print.png", full_page=True)
    event = AuditEvent.objects.get(action="print")
    assert event.client_id == card.pk
    assert event.actor_username == "olga"
