"""The import wizard in a real browser: upload a Russian Excel CSV, check the mapping and the
preview, run the dry run and read its errors, import, watch the progress bar (HTMX polling),
undo. Screenshots: import-mapping.png, import-dry-run.png, import-progress.png."""

import re

import pytest
from playwright.sync_api import expect

from kartoteka.accounts.models import User
from kartoteka.accounts.services import team_get_or_create, user_create
from kartoteka.clients.models import Client
from kartoteka.imports.models import Import
from kartoteka.imports.tests import files

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"

ROWS = [
    ["ФИО", "Телефон", "Мобильный", "E-mail", "ИНН", "Компания", "Должность", "Дата рождения"],
    ["Иванов Сергей Петрович", "8 (903) 123-45-67", "", "S.Ivanov@mail.ru", "", "ООО Ромашка",
     "директор", "14.03.1978"],
    ["Шевченко Олена Василівна", "+380 67 123 4567", "", "olena@ukr.net", "", "", "", ""],
    ["王小明", "+86 138 0013 8000", "", "wang.xm@qq.com", "", "", "经理", "1990年5月1日"],
    ["", "+7 495 987-65-43", "", "info@sber.ru", files.INN_COMPANY, "ПАО Сбербанк", "", ""],
    ["Кузнецова Мария", "12-34", "", "maria@", "", "", "", "31.02.1985"],
    ["Emily Clarke", "+1 415 555 2671", "", "emily.clarke@example.com", "", "Acme LLC",
     "buyer", "1988-07-09"],
    ["Петров Пётр", "+7 916 111-22-33", "+7 916 111-22-33", "", "7707083894", "", "", ""],
]  # fmt: skip


def _log_in(page, live_server, username: str) -> None:
    page.goto(live_server.url + "/imports/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Import clients")).to_be_visible()


def test_import_wizard(page, live_server, screenshot, tmp_path):
    team = team_get_or_create(actor=None, name="Москва")
    user_create(
        actor=None, username="elena", password=PASSWORD, role=User.Role.MANAGER, teams=[team],
        first_name="Елена", last_name="Смирнова",
    )  # fmt: skip
    path = tmp_path / "клиенты.csv"
    # Excel's "CSV UTF-8" (a BOM, semicolons in a Russian locale): Chinese names need UTF-8.
    path.write_bytes(files.csv_bytes(ROWS, encoding="utf-8-sig", delimiter=";"))
    _log_in(page, live_server, "elena")

    page.locator("#id_file").set_input_files(str(path))
    page.get_by_role("button", name="Upload and map columns").click()

    expect(page.get_by_role("heading", name="Which column is what")).to_be_visible()
    expect(page.locator("#id_column_0")).to_have_value("full_name")
    expect(page.locator("#id_column_2")).to_have_value("phone")
    expect(page.locator("#id_column_4")).to_have_value("inn")
    preview = page.locator("#preview")
    expect(preview).to_contain_text("Иванов Сергей Петрович")
    expect(preview).to_contain_text("+7 903 123-45-67")
    expect(preview).to_contain_text("s.ivanov@mail.ru")
    expect(preview).to_contain_text("王小明")
    screenshot(page, "import-mapping.png", full_page=True)

    page.get_by_role("button", name="Check all rows (dry run)").click()

    expect(page.locator("#dry-run")).to_contain_text("Dry run: nothing was written yet")
    errors = page.locator("#row-errors")
    expect(errors).to_contain_text("12-34")
    expect(errors).to_contain_text("is not a valid phone number")
    expect(errors).to_contain_text("7707083894")
    expect(errors).to_contain_text("Not a date")
    assert Client.objects.count() == 0
    screenshot(page, "import-dry-run.png", full_page=True)

    page.get_by_role("button", name="Import", exact=True).click()

    expect(page.locator("#outcome")).to_contain_text("Imported")
    job = Import.objects.get()
    assert (job.created_count, job.error_count) == (5, 2)
    assert Client.objects.filter(last_name="王", first_name="小明").exists()

    # A long import in progress: the page polls and turns into the outcome when it ends.
    Import.objects.filter(pk=job.pk).update(
        status=Import.Status.RUNNING, total_rows=1_000_000, processed_rows=437_000,
        created_count=431_200, updated_count=3_900, unchanged_count=1_100, error_count=800,
    )  # fmt: skip
    page.goto(live_server.url + job.get_absolute_url())
    expect(page.locator("#import-progress")).to_have_attribute("value", "44")
    expect(page.locator("#progress")).to_contain_text("437,000 of 1,000,000 rows")
    screenshot(page, "import-progress.png")
    Import.objects.filter(pk=job.pk).update(
        status=Import.Status.DONE, total_rows=7, processed_rows=7, created_count=5,
        updated_count=0, unchanged_count=0, error_count=2,
    )  # fmt: skip
    expect(page.locator("#outcome")).to_contain_text("Imported", timeout=5000)

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#undo-button").click()

    expect(page.locator("#import-status")).to_have_text("Undone")
    assert Client.objects.count() == 0
