"""The card's whole life in a real browser: log in, create a person and a company, find them
by phone digits and by a name fragment (live HTMX search), edit, hit a duplicate warning,
archive and restore. Screenshots of the key screens go to docs/screenshots/."""

import re

import pytest
from playwright.sync_api import expect

from kartoteka.accounts.models import User
from kartoteka.accounts.services import team_get_or_create, user_create
from kartoteka.clients.models import Client
from kartoteka.clients.services import client_create, client_update, tags_from_names
from kartoteka.tests_browser.helpers import wait_for_htmx

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"

# A realistic base: people and companies from the four markets Kartoteka is made for.
PEOPLE = [
    ("Иванов", "Сергей", "Петрович", "+7 903 123-45-67", "s.ivanov@mail.ru", "active", ["VIP"]),
    ("Шевченко", "Олена", "Василівна", "+380 67 123 4567", "olena@ukr.net", "key", ["опт"]),
    ("王", "小明", "", "+86 138 0013 8000", "wang.xm@qq.com", "lead", []),
    ("Clarke", "Emily", "", "+1 415 555 2671", "emily.clarke@example.com", "active", ["VIP"]),
    ("Кузнецова", "Мария", "Андреевна", "+7 916 234-56-78", "", "lead", ["салон"]),
    ("Коваленко", "Андрій", "Миколайович", "+380 50 765 4321", "", "active", []),
    ("李", "娜", "", "+86 139 1234 5678", "lina@163.com", "key", ["VIP", "опт"]),
    ("Müller", "Hans", "", "+49 30 12345678", "h.mueller@example.de", "inactive", []),
    ("Смирнов", "Дмитрий", "Олегович", "+7 921 555-00-11", "dsmirnov@yandex.ru", "active", []),
]
COMPANIES = [
    ("ООО «Альфа-Снаб»", "Альфа-Снаб", "RU", {"inn": "7736207543"}, "+7 812 333-44-55", "key"),
    ("ТОВ «Київхліб»", "Київхліб", "UA", {"edrpou": "32855961"}, "+380 44 234 5678", "active"),
    (
        "深圳市腾讯计算机系统有限公司",
        "腾讯",
        "CN",
        {"uscc": "91440300708461136T"},
        "+86 755 8601 3388",
        "lead",
    ),
    (
        "Nordwind GmbH",
        "Nordwind",
        "DE",
        {"vat_number": "DE136695976"},
        "+49 89 2190 4000",
        "active",
    ),
    ("ООО «Вектор»", "Вектор", "RU", {"inn": "7710140679"}, "", "inactive"),
]


def _sections_loaded(page) -> None:
    """Wait until every section of the card page has replaced its loading placeholder."""
    expect(page.locator(".placeholder-line")).to_have_count(0)


def _populate(manager: User, colleague: User) -> None:
    """Fifteen cards made through the services, as a team's first weeks would leave them."""
    for index, (last, first, middle, phone, email, status, tags) in enumerate(PEOPLE):
        contacts = [{"kind": "phone", "value": phone}]
        if email:
            contacts.append({"kind": "email", "value": email})
        client_create(
            actor=manager,
            data={
                "kind": "person",
                "last_name": last,
                "first_name": first,
                "middle_name": middle,
                "status": status,
                "responsible": colleague if index % 3 == 1 else manager,
            },
            contacts=contacts,
            tags=tags_from_names(actor=manager, names=tags),
        )
    for legal, short, country, numbers, phone, status in COMPANIES:
        client_create(
            actor=manager,
            data={
                "kind": "company",
                "legal_name": legal,
                "short_name": short,
                "country": country,
                "status": status,
                **numbers,
            },
            contacts=[{"kind": "phone", "value": phone}] if phone else [],
        )


def _log_in(page, live_server, username: str) -> None:
    page.goto(live_server.url + "/clients/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Clients")).to_be_visible()


def _search(page, text: str) -> None:
    box = page.locator("#id_q")
    box.fill(text)
    expect(page).to_have_url(re.compile(r"[?&]q="))


def test_client_card_life(page, live_server, screenshot):
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
        username="taras",
        password=PASSWORD,
        first_name="Taras",
        last_name="Bondar",
        teams=[team],
    )
    _populate(manager, colleague)

    # Log in; htmx is served by the app itself and loaded.
    _log_in(page, live_server, "elena")
    # The script is deferred: wait for it rather than race the page load.
    wait_for_htmx(page)
    expect(page.locator("#client-table tbody tr")).to_have_count(14)

    # A company with a wrong INN and a broken email: every error next to its field.
    page.goto(live_server.url + "/clients/new/?kind=company")
    page.get_by_label("Legal name").fill("ООО «Северный ветер»")
    page.get_by_label("Short name").fill("Северный ветер")
    page.get_by_label("Country").fill("RU")
    page.get_by_label("INN").fill("7707083894")
    page.locator("#id_contacts-0-value").fill("+7 495 123-45-67")
    page.locator("#id_contacts-1-value").fill("office@@veter")
    page.get_by_role("button", name="Save", exact=True).last.click()
    expect(page.locator(".alert-error")).to_contain_text("correct the marked fields")
    expect(page.locator("#id_inn_errors")).to_contain_text("is not a valid INN")
    expect(page.locator("[data-contact-row]").nth(1).locator(".field-errors")).to_contain_text(
        "is not a valid email address"
    )
    expect(page.locator("#id_contacts-0-value")).to_have_value("+7 495 123-45-67")
    expect(page.get_by_label("Short name")).to_have_value("Северный ветер")
    screenshot(page, "client-form-errors.png", full_page=True)

    page.get_by_label("INN").fill("7707083893")
    page.locator("#id_contacts-1-value").fill("office@veter.ru")
    page.get_by_label("Website").fill("veter.ru")
    page.get_by_label("Industry").fill("Логистика")
    page.get_by_label("KPP", exact=True).fill("770701001")
    page.get_by_label("Legal address").fill("125009, Москва, ул. Тверская, д. 7, офис 12")
    page.get_by_role("button", name="Save", exact=True).last.click()
    expect(page.locator("h1")).to_have_text("Северный ветер")
    expect(page.locator(".card-head")).to_contain_text("Company")
    company = Client.objects.get(inn="7707083893")
    assert company.contacts.get(kind="phone").normalized == "+74951234567"

    # A person working there, with a phone typed the way people type it.
    page.goto(live_server.url + f"/clients/new/?kind=person&employer={company.pk}")
    expect(page.locator("#id_employer")).to_have_value(str(company.pk))
    page.get_by_label("Surname").fill("Петрова")
    page.get_by_label("Given name").fill("Анна")
    page.get_by_label("Patronymic / middle name").fill("Сергеевна")
    page.get_by_label("Birth date").fill("1988-04-12")
    page.get_by_label("Position").fill("Главный бухгалтер")
    page.locator("#id_contacts-0-value").fill("+7 (916) 555-12-34")
    page.locator("#id_contacts-0-label").fill("mobile")
    page.locator("#id_contacts-1-value").fill("anna.petrova@veter.ru")
    page.get_by_role("button", name="+ Add contact").click()
    page.locator("#id_contacts-2-kind").select_option("telegram")
    page.locator("#id_contacts-2-value").fill("@anna_petrova")
    page.get_by_label("Tags").fill("бухгалтерия, VIP")
    page.get_by_label("Interests").fill("Горные лыжи, джаз")
    page.get_by_label("Notes").fill(
        "Предпочитает звонки после 14:00.\nОтвечает за сверку актов с поставщиками."
    )
    page.get_by_role("button", name="Save", exact=True).last.click()
    expect(page.locator("h1")).to_have_text("Петрова Анна Сергеевна")
    person = Client.objects.get(last_name="Петрова")
    expect(page.locator(".contact-list a[href='tel:+79165551234']")).to_have_text(
        "+7 916 555-12-34"
    )
    expect(page.locator(".contact-list a[href='mailto:anna.petrova@veter.ru']")).to_be_visible()
    expect(page.locator(".subtitle")).to_contain_text("Северный ветер")

    # Confirm the data is current: the freshness block refreshes in place.
    expect(page.locator("#freshness")).to_contain_text("never")
    page.get_by_role("button", name="Confirm data is current").click()
    expect(page.locator("#freshness")).to_contain_text("by Elena Smirnova")
    page.reload()
    expect(page.locator(".history")).to_contain_text("Data confirmed")
    _sections_loaded(page)
    screenshot(page, "client-card.png", full_page=True)

    page.goto(live_server.url + company.get_absolute_url())
    expect(page.locator(".people-list")).to_contain_text("Петрова Анна Сергеевна")
    _sections_loaded(page)
    screenshot(page, "company-card.png", full_page=True)

    # Live search: phone digits in any format, then a fragment of the name.
    page.goto(live_server.url + "/clients/")
    expect(page.locator("#client-table tbody tr")).to_have_count(16)
    page.evaluate("window.notReloaded = true")
    _search(page, "9165551234")
    expect(page.locator("#client-table tbody tr")).to_have_count(1)
    expect(page.locator("#client-table")).to_contain_text("Петрова Анна Сергеевна")
    _search(page, "Петро")
    expect(page.locator("#client-table tbody tr")).to_have_count(1)
    expect(page.locator("#client-table")).to_contain_text("Петрова Анна Сергеевна")
    _search(page, "")
    expect(page.locator("#client-table tbody tr")).to_have_count(16)
    assert page.evaluate("window.notReloaded") is True  # HTMX swapped the table in place
    screenshot(page, "client-list.png")

    # Edit the person: the change is saved and shows in the card's history.
    page.goto(live_server.url + person.get_absolute_url())
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Position").fill("Финансовый директор")
    page.get_by_label("Status", exact=True).select_option("key")
    page.get_by_role("button", name="Save", exact=True).last.click()
    expect(page.locator(".messages")).to_contain_text("The card is saved.")
    expect(page.locator(".subtitle")).to_contain_text("Финансовый директор")
    expect(page.locator(".history")).to_contain_text("Главный бухгалтер → Финансовый директор")

    # Two people edit at once: the later save is refused with a comparison; nothing is lost.
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Notes").fill("Просит присылать акты до 5 числа.")
    client_update(
        actor=colleague,
        client=Client.objects.get(pk=person.pk),
        expected_version=None,
        data={"position": "Финансовый контролёр"},
    )
    page.get_by_role("button", name="Save", exact=True).last.click()
    conflict = page.locator("#version-conflict")
    expect(conflict).to_contain_text("Taras Bondar saved this card at")
    expect(conflict.locator("tr", has_text="Position")).to_contain_text("Финансовый контролёр")
    expect(page.get_by_label("Notes")).to_have_value("Просит присылать акты до 5 числа.")
    screenshot(page, "version-conflict.png", full_page=True)
    page.get_by_role("button", name="Save", exact=True).last.click()
    expect(page.locator(".messages")).to_contain_text("The card is saved.")
    expect(page.locator(".notes")).to_contain_text("Просит присылать акты до 5 числа.")

    # Another card with the same phone: the warning appears while typing, before saving.
    page.goto(live_server.url + "/clients/new/?kind=person")
    page.get_by_label("Surname").fill("Петрова")
    page.get_by_label("Given name").fill("Аня")
    page.locator("#id_contacts-0-value").fill("8 916 555 12 34")
    page.locator("#id_contacts-0-value").blur()
    warning = page.locator("#duplicate-warning .alert-warning")
    expect(warning).to_contain_text("This client may already have a card")
    link = warning.get_by_role("link", name=re.compile("Петрова Анна Сергеевна"))
    expect(link).to_have_attribute("href", person.get_absolute_url())
    expect(link).to_have_attribute("target", "_blank")
    expect(warning).to_contain_text("Phone: +7 916 555-12-34")
    screenshot(page, "duplicate-warning.png", full_page=True)
    page.get_by_role("button", name="Save", exact=True).last.click()
    expect(page.locator("#duplicate-warning .alert-warning")).to_be_visible()
    assert Client.objects.filter(last_name="Петрова").count() == 1

    # Archive and restore.
    page.goto(live_server.url + person.get_absolute_url())
    page.get_by_role("button", name="Archive").click()
    expect(page.locator(".banner-archived")).to_contain_text("This card is archived.")
    page.goto(live_server.url + "/clients/?q=9165551234")
    expect(page.locator("#client-table")).to_contain_text("No cards match")
    page.goto(live_server.url + person.get_absolute_url())
    page.locator(".card-actions").get_by_role("button", name="Restore").click()
    expect(page.locator(".banner-archived")).to_have_count(0)
    expect(page.locator(".messages")).to_contain_text("The card is restored.")

    # The language switch answers at once and is remembered on the user.
    page.locator("#language-select").select_option("uk")
    expect(page.locator("html")).to_have_attribute("lang", "uk")
    manager.refresh_from_db()
    assert manager.language == "uk"
    page.locator("#language-select").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    # The same list on a phone: the table becomes stacked cards, the menu folds away.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/clients/")
    expect(page.locator(".nav-panel")).to_be_hidden()
    screenshot(page, "mobile-list.png")
    page.get_by_label("Menu").click()
    expect(page.get_by_role("link", name="New card")).to_be_visible()
    page.get_by_label("Menu").click()
    page.goto(live_server.url + person.get_absolute_url())
    _sections_loaded(page)
    screenshot(page, "mobile-card.png", full_page=True)
