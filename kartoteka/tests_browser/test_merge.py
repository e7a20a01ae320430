"""Duplicates in a real browser: open the review queue, open a pair, pick fields side by side,
merge, see the survivor with the history of both, undo. Screenshots duplicates-queue.png and
merge-screen.png."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kartoteka.accounts.models import User
from kartoteka.accounts.services import team_get_or_create, user_create
from kartoteka.activities.services import interaction_create
from kartoteka.clients.models import Client
from kartoteka.clients.services import client_create
from kartoteka.dedupe import scan
from kartoteka.dedupe.models import DuplicateScan

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"


def _populate() -> tuple[Client, Client]:
    team = team_get_or_create(actor=None, name="Москва")
    manager = user_create(
        actor=None,
        username="elena",
        password=PASSWORD,
        role=User.Role.MANAGER,
        teams=[team],
        first_name="Елена",
    )

    def person(data, contacts):
        return client_create(
            actor=manager,
            data={"kind": "person", **data},
            contacts=contacts,
            allow_duplicates=True,
        )

    first = person(
        {"last_name": "Кузнецова", "first_name": "Юлия", "middle_name": "Сергеевна"},
        [{"kind": "phone", "value": "8 (916) 234-56-78"}],
    )
    second = person(
        {
            "last_name": "Kuznetsova",
            "first_name": "Iuliia",
            "birth_date": datetime.date(1985, 3, 14),
        },
        [
            {"kind": "phone", "value": "+7 916 234 56 78"},
            {"kind": "email", "value": "Yulia.K@Mail.ru"},
        ],
    )
    person(
        {"last_name": "Кузнецов", "first_name": "Андрей", "middle_name": "Сергеевич"},
        [{"kind": "phone", "value": "+79162345678"}],
    )
    for card, subject in ((first, "Первый звонок"), (second, "Visit: consultation")):
        interaction_create(
            actor=manager,
            client=card,
            data={"kind": "call", "subject": subject, "occurred_at": timezone.now()},
        )
    scan.run_scan(DuplicateScan.objects.create().pk)
    return first, second


def test_merge_from_the_queue_and_undo(page, live_server, screenshot):
    first, second = _populate()
    page.goto(live_server.url + "/duplicates/")
    page.get_by_label("Username").fill("elena")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/duplicates/$"))

    rows = page.locator("table.duplicates-table tbody tr")
    expect(rows).to_have_count(1)  # the brother (Андрей) is not proposed
    expect(rows.first).to_contain_text("Same phone +79162345678")
    screenshot(page, "duplicates-queue.png")

    page.get_by_role("link", name="Compare and merge").click()
    expect(page.get_by_role("heading", name="Merge cards")).to_be_visible()
    # keep the survivor's Cyrillic surname but take the Latin card's birth date (the default)
    page.locator(f"input[name='field-last_name'][value='{first.pk}']").check()
    expect(page.locator(f"input[name='field-birth_date'][value='{second.pk}']")).to_be_checked()
    screenshot(page, "merge-screen.png", full_page=True)
    page.get_by_role("button", name=re.compile("Merge 2 cards")).click()

    expect(page.get_by_role("heading", name="Merge", exact=True)).to_be_visible()
    page.get_by_role("link", name=re.compile("Кузнецова")).first.click()
    body = page.locator("main")
    expect(body).to_contain_text("Первый звонок")
    expect(body).to_contain_text("Visit: consultation")
    expect(body).to_contain_text("yulia.k@mail.ru")

    page.go_back()
    page.get_by_role("button", name="Undo this merge").click()
    expect(page.locator("main")).to_contain_text("Undone by")
    second.refresh_from_db()
    assert not second.is_archived
    assert second.interactions.count() == 1
