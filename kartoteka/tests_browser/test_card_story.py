"""A card's whole story in a real browser, without leaving the card page: add a call, an
order with two lines, a payment, a recommendation and a photo from their sections, and see
each appear in the timeline and the summary header follow. Screenshots: card-story.png (the
whole page of a rich card) and card-timeline.png."""

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from kartoteka.accounts.models import User
from kartoteka.accounts.services import team_get_or_create, user_create
from kartoteka.activities.services import interaction_create
from kartoteka.care.services import survey_create
from kartoteka.clients.services import client_create
from kartoteka.documents.models import Document
from kartoteka.documents.services import document_upload
from kartoteka.finance.models import Payment
from kartoteka.finance.services import invoice_create, payment_create
from kartoteka.sales.models import Order
from kartoteka.sales.services import LineInput, order_create, product_create
from kartoteka.tests_browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"


def _photo() -> bytes:
    """A small picture (a sunset over a hill) with a camera's EXIF, as phones send them."""
    image = Image.new("RGB", (960, 640), (255, 196, 120))
    draw = ImageDraw.Draw(image)
    draw.ellipse((560, 140, 760, 340), fill=(255, 120, 60))
    draw.polygon([(0, 640), (0, 420), (380, 330), (960, 470), (960, 640)], fill=(70, 120, 80))
    exif = Image.Exif()
    exif[0x010F] = "PhoneCam"
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=exif.tobytes())
    return out.getvalue()


def _pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _rich_card(manager: User):
    """A client with a few months of history, made through the services."""
    card = client_create(
        actor=manager,
        data={
            "kind": "person",
            "last_name": "Кузнецова",
            "first_name": "Мария",
            "middle_name": "Андреевна",
            "status": "key",
            "credit_limit": Decimal("150000.00"),
            "notes": "Предпочитает звонки после 15:00.",
        },
        contacts=[
            {"kind": "phone", "value": "+7 916 234-56-78"},
            {"kind": "email", "value": "m.kuznetsova@example.ru"},
        ],
    )
    today = timezone.localdate()
    now = timezone.now()
    cream = product_create(
        actor=manager,
        data={
            "name": "Крем восстанавливающий",
            "kind": "product",
            "price": Decimal("2450.00"),
            "unit": "шт",
            "vat_rate": Decimal("20"),
        },
    )
    product_create(
        actor=manager,
        data={
            "name": "Консультация косметолога",
            "kind": "service",
            "price": Decimal("3500.00"),
            "unit": "час",
            "vat_rate": Decimal("0"),
        },
    )
    interaction_create(
        actor=manager,
        client=card,
        data={
            "kind": "meeting",
            "occurred_at": now - datetime.timedelta(days=40),
            "subject": "Первая консультация",
            "content": "Подобрали программу ухода.",
            "outcome": "Клиент записался на курс",
        },
    )
    first = order_create(
        actor=manager,
        client=card,
        data={"ordered_on": today - datetime.timedelta(days=38), "status": "completed"},
        lines=[LineInput(product=cream, quantity=Decimal("3"))],
    )
    invoice = invoice_create(
        actor=manager,
        client=card,
        data={
            "order": first,
            "issued_on": today - datetime.timedelta(days=38),
            "due_on": today - datetime.timedelta(days=24),
            "amount": first.total,
        },
    )
    payment_create(
        actor=manager,
        client=card,
        data={
            "invoice": invoice,
            "paid_on": today - datetime.timedelta(days=30),
            "amount": Decimal("4000.00"),
            "method": "card",
        },
    )
    survey_create(
        actor=manager,
        client=card,
        data={
            "taken_on": today - datetime.timedelta(days=20),
            "name": "NPS после курса",
            "scale": "nps",
            "score": 9,
            "summary": "Понравился результат",
        },
    )
    interaction_create(
        actor=manager,
        client=card,
        data={
            "kind": "email",
            "occurred_at": now - datetime.timedelta(days=6),
            "subject": "Напоминание о счёте",
            "content": "Отправили счёт повторно.",
        },
    )
    document_upload(
        actor=manager,
        client=card,
        uploaded=SimpleUploadedFile("Договор оказания услуг.pdf", _pdf()),
        kind="contract",
        number="Д-2025/17",
        dated_on=today - datetime.timedelta(days=40),
        title="Договор оказания услуг",
    )
    return card, invoice


def _log_in(page, live_server, username: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Clients")).to_be_visible()


def _choose(select, text: str) -> None:
    """Pick the option whose label contains `text`."""
    select.select_option(select.locator("option", has_text=text).get_attribute("value"))


def _figure(page, name: str):
    return page.locator(f'#card-summary [data-figure="{name}"]')


def _timeline(page):
    return page.locator("#section-timeline")


def test_the_whole_story_from_the_card_page(page, live_server, screenshot, tmp_path):
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
    card, invoice = _rich_card(manager)
    page.set_viewport_size({"width": 1440, "height": 900})
    _log_in(page, live_server, "elena")

    page.goto(live_server.url + card.get_absolute_url())
    for section in ("interactions", "orders", "services", "money", "care", "documents"):
        expect(page.locator(f"#section-{section}")).to_be_visible()
    expect(_timeline(page).locator(".tl-event")).to_have_count(7)
    expect(_figure(page, "orders")).to_have_text("1")
    expect(_figure(page, "lifetime-value")).to_have_text("8,820.00\u00a0₽")
    expect(_figure(page, "balance")).to_have_text("4,820.00\u00a0₽")
    expect(_figure(page, "overdue")).to_have_text("4,820.00\u00a0₽")
    expect(page.locator("#card-summary .figure-danger")).to_contain_text("Overdue debt")
    expect(_figure(page, "nps")).to_contain_text("9")
    url = page.url

    # A call, from the interactions section.
    interactions = page.locator("#section-interactions")
    interactions.get_by_text("Add an interaction").click()
    interactions.get_by_label("Call").check()
    interactions.locator("[name$=subject]").fill("Перенос визита на пятницу")
    interactions.locator("[name$=content]").fill("Клиентка попросила перенести визит.")
    interactions.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#section-interactions")).to_contain_text("Перенос визита на пятницу")
    expect(_timeline(page).locator(".tl-interaction").first).to_contain_text(
        "Перенос визита на пятницу"
    )
    expect(_timeline(page).locator(".tl-event")).to_have_count(8)
    expect(page.locator("#card-summary")).to_contain_text("Перенос визита на пятницу")
    expect(_figure(page, "last-contact")).to_have_text(timezone.localdate().strftime("%m/%d/%Y"))

    # An order with two lines, from the orders section.
    orders = page.locator("#section-orders")
    orders.get_by_text("New order").click()
    _choose(orders.locator("select[name='lines-0-product']"), "Крем")
    expect(orders.locator("input[name='lines-0-name']")).to_have_value("Крем восстанавливающий")
    orders.locator("input[name='lines-0-quantity']").fill("2")
    orders.locator("input[name='lines-0-quantity']").press("Tab")
    expect(orders.locator("[data-order-total]")).to_contain_text("5,880.00")
    orders.get_by_role("button", name="Add a line").click()
    expect(orders.locator("select[name='lines-1-product']")).to_be_visible()
    _choose(orders.locator("select[name='lines-1-product']"), "Консультация")
    expect(orders.locator("input[name='lines-1-name']")).to_have_value("Консультация косметолога")
    expect(orders.locator("[data-order-total]")).to_contain_text("9,380.00")
    orders.get_by_role("button", name="Create the order").click()
    expect(page.locator("#section-orders tr[data-order]")).to_have_count(2)
    new_order = Order.objects.order_by("-pk").first()
    assert new_order.lines.count() == 2
    assert new_order.total == Decimal("9380.00")
    expect(_timeline(page).locator(".tl-order").first).to_contain_text(f"№ {new_order.number}")
    expect(_timeline(page).locator(".tl-order").first).to_contain_text("9,380.00\u00a0₽")
    expect(_figure(page, "orders")).to_have_text("2")
    expect(_figure(page, "lifetime-value")).to_have_text("18,200.00\u00a0₽")

    # A payment of the overdue invoice, from the money section.
    money = page.locator("#section-money")
    money.get_by_text("New payment").click()
    new_payment = money.locator("details").filter(
        has=page.locator("summary", has_text="New payment")
    )
    new_payment.locator("[name=amount]").fill("4820.00")
    new_payment.locator("[name=invoice]").select_option(str(invoice.pk))
    new_payment.get_by_role("button", name="Register the payment").click()
    expect(_timeline(page).locator(".tl-payment").first).to_contain_text("4,820.00\u00a0₽")
    assert Payment.objects.filter(invoice=invoice).count() == 2
    expect(_figure(page, "overdue")).to_have_text("—")
    expect(page.locator("#card-summary .figure-danger")).to_have_count(0)
    expect(_figure(page, "balance")).to_have_text("0.00\u00a0₽")

    # A recommendation, from the care section.
    due = timezone.localdate() + datetime.timedelta(days=42)
    care = page.locator("#section-care")
    care.get_by_text("Add a recommendation").click()
    care.locator("[name='recommendation-text']").fill("Повторить курс ухода через 6 недель")
    care.locator("[name='recommendation-due_on']").fill(due.isoformat())
    care.locator("form:has([name='recommendation-text'])").get_by_role(
        "button", name=re.compile("^(Add|Save)")
    ).click()
    expect(page.locator("#section-care")).to_contain_text("Повторить курс ухода через 6 недель")
    expect(_timeline(page).locator(".tl-recommendation").first).to_contain_text(
        "Повторить курс ухода"
    )
    expect(_figure(page, "next-recommendation")).to_have_text(due.strftime("%m/%d/%Y"))
    expect(page.locator("#card-summary")).to_contain_text("Повторить курс ухода")

    # A photo, from the documents section.
    photo = tmp_path / "IMG_2041.jpg"
    photo.write_bytes(_photo())
    documents = page.locator("#section-documents")
    documents.get_by_text("Upload a document").click()
    documents.get_by_label("Kind").select_option("photo")
    documents.get_by_label("Title").fill("Результат после курса")
    documents.get_by_label("File").set_input_files(str(photo))
    documents.get_by_role("button", name="Upload").click()
    expect(page.locator("#section-documents .doc")).to_have_count(2)
    thumbnail = page.locator("#section-documents .doc-thumb img")
    expect(thumbnail).to_have_count(1)
    expect(thumbnail).to_have_js_property("complete", True)
    assert thumbnail.evaluate("img => img.naturalWidth") == 320
    expect(_timeline(page).locator(".tl-document").first).to_contain_text("Результат после курса")
    stored = Document.objects.get(kind="photo")
    with stored.file.open("rb") as file:
        assert b"PhoneCam" not in file.read()

    # All of it without leaving the page.
    assert page.url == url
    expect(_timeline(page).locator(".tl-event")).to_have_count(12)

    # The kind chips filter the story.
    _timeline(page).get_by_role("link", name="Payments").click()
    expect(_timeline(page).locator(".tl-event")).to_have_count(2)
    expect(_timeline(page).locator(".tl-event.tl-payment")).to_have_count(2)
    _timeline(page).get_by_role("link", name="All").click()
    expect(_timeline(page).locator(".tl-event")).to_have_count(12)

    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(200)  # let the thumbnails settle before the pictures
    screenshot(page, "card-story.png", full_page=True)
    # The timeline alone, cut from the top of the page (where the sticky bar does not cover it).
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    box = _timeline(page).bounding_box()
    assert box is not None
    page.screenshot(path=str(SCREENSHOTS / "card-timeline.png"), full_page=True, clip=box)
