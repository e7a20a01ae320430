"""Export, data quality and normalisation in a real browser: filter the client list, export
it to XLSX, watch the progress page and download the file; open the list of cards that need
attention and a card's quality panel; tidy the case of names with a preview, then undo.
Screenshots: export.png, quality-list.png, normalise-preview.png."""

import datetime
import io
import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from kartoteka.accounts.models import User
from kartoteka.accounts.services import team_get_or_create, user_create
from kartoteka.clients.models import Client
from kartoteka.clients.services import client_create

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"

CARDS = [
    # last, first, middle, phone, email, status, birth date
    ("Иванов", "Сергей", "Петрович", "+7 903 123-45-67", "s.ivanov@mail.ru", "active", True),
    ("ШЕВЧЕНКО", "олена", "", "+380 67 123 4567", "", "lead", False),
    ("王", "小明", "", "+86 138 0013 8000", "wang.xm@qq.com", "lead", True),
    ("O'NEIL", "EMILY", "", "", "", "lead", False),
    ("Кузнецова", "Мария", "Андреевна", "+7 916 234-56-78", "", "key", True),
    ("Müller", "Hans", "", "+49 30 12345678", "h.mueller@example.de", "inactive", False),
]


def _populate(employee: User) -> None:
    for last, first, middle, phone, email, status, born in CARDS:
        contacts = [{"kind": "phone", "value": phone}] if phone else []
        if email:
            contacts.append({"kind": "email", "value": email})
        client_create(
            actor=employee,
            data={
                "kind": "person",
                "last_name": last,
                "first_name": first,
                "middle_name": middle,
                "status": status,
                "birth_date": datetime.date(1985, 3, 14) if born else None,
            },
            contacts=contacts,
            allow_duplicates=True,
        )
    client_create(
        actor=employee,
        data={"kind": "company", "legal_name": "ООО «Вектор»", "short_name": "Вектор"},
        allow_duplicates=True,
    )


def _log_in(page, live_server, username: str) -> None:
    page.context.clear_cookies()
    page.goto(live_server.url + "/clients/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Clients")).to_be_visible()


def test_export_quality_and_normalisation(page, live_server, screenshot):
    north = team_get_or_create(actor=None, name="North")
    employee = user_create(
        actor=None,
        username="alice",
        password=PASSWORD,
        role=User.Role.EMPLOYEE,
        teams=[north],
        first_name="Alice",
        last_name="Andersen",
    )
    user_create(
        actor=None, username="mallory", password=PASSWORD, role=User.Role.MANAGER, teams=[north]
    )
    _populate(employee)
    page.set_default_timeout(30_000)  # the machine is shared; exports write real files

    # 1. Filter the list to leads, export it to XLSX, see the progress page, download.
    _log_in(page, live_server, "alice")
    page.get_by_label("Lead", exact=True).check()
    expect(page).to_have_url(re.compile(r"status=lead"))
    page.locator("#export-menu-button").click()
    panel = page.locator("#export-menu-panel")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("Status: Lead")
    panel.get_by_label("Excel (XLSX)").check()
    panel.get_by_role("button", name="Export", exact=True).click()
    expect(page.locator("#export-status")).to_have_text("Ready")
    expect(page.locator("progress")).to_have_attribute("value", "100")
    screenshot(page, "export.png")
    with page.expect_download() as download_info:
        page.locator("#export-download").click()
    path = download_info.value.path()
    with open(path, "rb") as handle:
        sheet = load_workbook(io.BytesIO(handle.read())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][2] == "Name"
    expected = ["ШЕВЧЕНКО олена", "王小明", "EMILY O'NEIL", "Вектор"]
    assert sorted(r[2] for r in rows[1:]) == sorted(expected)

    # 2. Cards that need attention, worst first; a card's quality panel.
    page.locator(".nav-more summary").click()  # the less frequent pages are under "More"
    page.get_by_role("link", name="Data quality").click()
    table = page.locator("#attention-table")
    expect(table).to_contain_text("Вектор")
    expect(table.locator("tbody tr").first).to_contain_text("No registration number")
    screenshot(page, "quality-list.png")
    page.get_by_role("link", name="EMILY O'NEIL").click()
    quality = page.locator("#quality-panel")
    expect(quality).to_contain_text("No phone or email")
    expect(quality).to_contain_text("never been confirmed")
    expect(quality.get_by_role("link", name="edit").first).to_be_visible()

    # 3. The manager tidies the case of names: preview, apply, undo.
    _log_in(page, live_server, "mallory")
    page.goto(live_server.url + "/quality/normalise/")
    page.get_by_label(re.compile("Fix the case of names")).check()
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#normalise-preview")
    expect(preview).to_contain_text("4 values would change")
    expect(preview).to_contain_text("Шевченко")
    expect(preview).not_to_contain_text("王")
    screenshot(page, "normalise-preview.png")
    page.locator("#normalise-apply").click()
    expect(page.locator("#run-status")).to_have_text("Applied")
    assert Client.objects.filter(last_name="Шевченко", first_name="Олена").exists()
    assert Client.objects.filter(last_name="O'Neil", first_name="Emily").exists()
    page.locator("#normalise-undo").click()
    expect(page.locator("#run-status")).to_have_text("Undone")
    assert Client.objects.filter(last_name="ШЕВЧЕНКО", first_name="олена").exists()
    assert Client.objects.filter(last_name="O'NEIL", first_name="EMILY").exists()
