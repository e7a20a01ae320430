"""Web doors of the sales app: the orders and services sections of the card page, the order
page, the catalogue. Status codes, HTMX fragments, errors in place, the authorization matrix
and query counts. The rules themselves are tested in test_services."""

import datetime
import re
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client as DjangoClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kartoteka.clients.tests.factories import make_person
from kartoteka.core.models import ObjectChange
from kartoteka.documents.models import Document
from kartoteka.finance.tests.factories import make_invoice
from kartoteka.sales import services
from kartoteka.sales.models import Order, Product, ServiceRecord
from kartoteka.sales.tests.factories import jpeg, line, make_order, make_product, pdf

pytestmark = pytest.mark.django_db

D = Decimal
HTMX = {"HX-Request": "true"}


@pytest.fixture
def card(alice):
    return make_person(alice, last_name="Смирнова", first_name="Анна")


def orders_url(card) -> str:
    return reverse("sales:client-orders", args=[card.pk])


def services_url(card) -> str:
    return reverse("sales:client-services", args=[card.pk])


def order_data(lines: list[dict[str, Any]] | None = None, **fields: Any) -> dict[str, str]:
    """The order form as a browser posts it."""
    lines = (
        lines
        if lines is not None
        else [{"name": "Шампунь", "quantity": "2", "unit_price": "150.00"}]
    )
    data = {
        "ordered_on": "2024-03-01",
        "status": "new",
        "currency": "RUB",
        "exchange_rate": "",
        "payment_method": "",
        "responsible": "",
        "notes": "",
        "version": "",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "200",
    }
    for index, row in enumerate(lines):
        values = {
            "product": "",
            "prev_product": "",
            "name": "",
            "quantity": "1",
            "unit": "",
            "unit_price": "",
            "discount_percent": "0",
            "vat_rate": "",
            **row,
        }
        for name, value in values.items():
            data[f"lines-{index}-{name}"] = str(value)
    data.update({k: str(v) for k, v in fields.items()})
    return data


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- Orders section -----------------------------------------------------------------------------


def test_orders_section_is_a_fragment_listing_orders(alice, card, web_client_for):
    order = make_order(
        alice, card, lines=[line("A", "3", "1234.50"), line("B")], status="completed"
    )

    response = web_client_for(alice).get(orders_url(card), headers=HTMX)

    body = text(response)
    assert response.status_code == 200
    assert body.strip().startswith('<section class="panel" id="section-orders">')
    assert "<html" not in body
    assert f'href="/orders/{order.pk}/"' in body
    assert f"№ {order.number}" in body
    assert "3,803.50 RUB" in body  # 3 × 1234.50 + 100.00, grouped as the locale does
    assert "Completed" in body
    assert 'id="order-form-new"' in body


def test_orders_section_speaks_russian_money(alice, card, web_client_for):
    alice.language = "ru"
    alice.save()
    make_order(alice, card, lines=[line("A", "3", "1234.50")])

    body = text(web_client_for(alice).get(orders_url(card), headers=HTMX))

    assert "3\xa0703,50 RUB" in body or "3 703,50 RUB" in body


def test_orders_section_of_invisible_card_is_404(charlie, card, web_client_for):
    assert web_client_for(charlie).get(orders_url(card), headers=HTMX).status_code == 404


def test_readonly_user_sees_orders_without_the_form(alice, rita, card, web_client_for):
    make_order(alice, card)

    body = text(web_client_for(rita).get(orders_url(card), headers=HTMX))

    assert "№ 1" in body
    assert "order-form-new" not in body


def test_create_order_by_htmx_returns_the_section_and_tells_the_card(
    alice, mallory, card, web_client_for
):
    product = make_product(mallory, name="Окрашивание", price=D("3200.00"))
    data = order_data(
        [
            {"name": "Шампунь", "quantity": "2", "unit_price": "150.00", "vat_rate": "20"},
            {"product": product.pk, "prev_product": product.pk, "quantity": "1.5"},
        ],
        payment_method="card",
        responsible=alice.pk,
    )

    response = web_client_for(alice).post(orders_url(card), data, headers=HTMX)

    assert response.status_code == 200
    assert response["HX-Trigger"] == "card-changed"
    order = Order.objects.get()
    assert (order.client, order.payment_method, order.responsible) == (card, "card", alice)
    assert [(r.name, r.quantity, r.total) for r in order.lines.all()] == [
        ("Шампунь", D("2.000"), D("360.00")),
        ("Окрашивание", D("1.500"), D("5760.00")),
    ]
    assert order.total == D("6120.00")
    body = text(response)
    assert 'id="section-orders"' in body
    assert f"№ {order.number}" in body
    assert "6,120.00 RUB" in body


def test_create_order_without_htmx_goes_back_to_the_card(alice, card, web_client_for):
    response = web_client_for(alice).post(orders_url(card), order_data())

    assert response.status_code == 302
    assert response["Location"] == card.get_absolute_url()
    assert Order.objects.get().total == D("300.00")


def test_blank_line_rows_are_skipped(alice, card, web_client_for):
    data = order_data([{"name": "A", "unit_price": "10"}, {}, {"name": "", "quantity": "1"}])

    web_client_for(alice).post(orders_url(card), data, headers=HTMX)

    assert [r.name for r in Order.objects.get().lines.all()] == ["A"]


def test_order_errors_land_on_their_line_and_keep_the_input(alice, card, web_client_for):
    data = order_data(
        [
            {"name": "Хорошая", "quantity": "1", "unit_price": "10"},
            {},
            {"name": "Плохая", "quantity": "1", "unit_price": "10", "discount_percent": "150"},
        ],
        notes="Мои заметки",
    )

    response = web_client_for(alice).post(orders_url(card), data, headers=HTMX)

    assert response.status_code == 200  # htmx swaps only 2xx
    assert "HX-Trigger" not in response
    assert Order.objects.count() == 0
    body = text(response)
    row = body.split('data-line="2"')[1].split("</tr>")[0]
    assert "field-invalid" in row
    assert "Ensure this value is less than or equal to 100" in row
    assert 'value="Плохая"' in row
    assert "Мои заметки" in body
    assert " open>" in body  # the form stays open


def test_order_without_lines_is_refused_in_place(alice, card, web_client_for):
    response = web_client_for(alice).post(orders_url(card), order_data([{}]))

    assert response.status_code == 422
    assert "Add at least one line." in text(response)
    assert Order.objects.count() == 0


def test_credit_limit_warns_then_creates_anyway(alice, card, web_client_for):
    card.credit_limit = D("500.00")
    card.save()
    make_invoice(alice, card, "400.00", due_on=datetime.date(2099, 1, 1))
    web = web_client_for(alice)
    data = order_data([{"name": "Крупный заказ", "quantity": "1", "unit_price": "100.01"}])

    warned = web.post(orders_url(card), data, headers=HTMX)

    body = text(warned)
    assert Order.objects.count() == 0
    assert "data-credit-warning" in body
    assert "the client would owe 500.01 RUB; the credit limit is 500.00 RUB" in body
    assert 'name="allow_over_limit"' in body
    assert 'value="Крупный заказ"' in body

    created = web.post(orders_url(card), {**data, "allow_over_limit": "on"}, headers=HTMX)

    assert created["HX-Trigger"] == "card-changed"
    assert Order.objects.get().total == D("100.01")


def test_plain_post_beyond_credit_limit_is_409(alice, card, web_client_for):
    card.credit_limit = D("10.00")
    card.save()

    response = web_client_for(alice).post(orders_url(card), order_data())

    assert response.status_code == 409
    assert "Beyond the credit limit" in text(response)


# --- Live recalculation -------------------------------------------------------------------------


def recalc(web: DjangoClient, card, data: dict[str, str]):
    return web.post(reverse("sales:order-form", args=[card.pk]), data, headers=HTMX)


def test_picking_a_product_fills_the_line_and_totals(alice, mallory, card, web_client_for):
    product = make_product(mallory, name="Окрашивание", price=D("3200.00"), unit="усл")
    data = order_data([{"product": product.pk, "quantity": "2", "vat_rate": "", "unit_price": ""}])

    response = recalc(web_client_for(alice), card, data)

    body = text(response)
    assert response.status_code == 200
    assert body.strip().startswith('<div id="order-form-new"')
    assert 'name="lines-0-name" value="Окрашивание"' in body
    assert 'name="lines-0-unit_price" value="3200.00"' in body
    assert f'name="lines-0-prev_product" value="{product.pk}"' in body
    assert 'id="order-form-new-total-0" data-total>7,680.00</span>' in body
    assert "data-order-total><strong>7,680.00 RUB</strong>" in body
    assert Order.objects.count() == 0


def test_typed_change_sends_back_only_the_computed_amounts(alice, mallory, card, web_client_for):
    product = make_product(mallory, name="Крем", price=D("2450.00"), vat_rate=D("20"))
    data = order_data(
        [
            {"name": "Набрано", "quantity": "2", "unit_price": "10.00", "discount_percent": "12.5"},
            {"product": product.pk, "quantity": "2"},
        ]
    )
    url = reverse("sales:order-form", args=[card.pk]) + "?part=amounts"

    response = web_client_for(alice).post(url, data, headers=HTMX)

    body = text(response)
    assert response.status_code == 200
    # Amounts and totals, each swapped in by its id; what the user types is left alone.
    assert '<span id="order-form-new-net-0" data-net hx-swap-oob="true">17.50</span>' in body
    assert '<span id="order-form-new-total-1" data-total hx-swap-oob="true">5,880.00</span>' in body
    assert 'id="order-form-new-totals" hx-swap-oob="true"' in body
    assert "<strong>5,897.50 RUB</strong>" in body
    assert "lines-0-name" not in body
    assert "lines-0-quantity" not in body
    # The row whose product was just picked gets the inputs it filled.
    assert 'name="lines-1-name" value="Крем"' in body
    assert 'name="lines-1-unit_price" value="2450.00"' in body
    assert body.count('hx-swap-oob="true"') == 3 * 2 + 1 + 5
    assert "<form" not in body
    assert Order.objects.count() == 0


def test_a_product_picked_before_keeps_the_typed_price(alice, mallory, card, web_client_for):
    product = make_product(mallory, price=D("3200.00"))
    data = order_data(
        [{"product": product.pk, "prev_product": product.pk, "name": "Моё", "unit_price": "1.00"}]
    )

    body = text(recalc(web_client_for(alice), card, data))

    assert 'name="lines-0-name" value="Моё"' in body
    assert 'name="lines-0-unit_price" value="1.00"' in body


def test_recalc_shows_the_total_in_base_currency(alice, card, web_client_for):
    data = order_data(
        [{"name": "Чай", "quantity": "3", "unit_price": "41.15"}],
        currency="CNY",
        exchange_rate="12.345678",
    )

    body = text(recalc(web_client_for(alice), card, data))

    assert "data-order-total><strong>123.45 CNY</strong>" in body
    assert "data-total-base>1,524.07 RUB" in body


def test_add_and_remove_line_rows(alice, card, web_client_for):
    web = web_client_for(alice)
    data = order_data([{"name": "A", "unit_price": "1"}, {"name": "B", "unit_price": "2"}])

    added = text(recalc(web, card, {**data, "add_line": "1"}))
    removed = text(recalc(web, card, {**data, "remove_line": "0"}))

    assert 'name="lines-TOTAL_FORMS" value="3"' in added
    assert 'name="lines-2-quantity" value="1"' in added
    assert 'name="lines-TOTAL_FORMS" value="1"' in removed
    assert 'name="lines-0-name" value="B"' in removed
    assert "data-order-total><strong>2.00 RUB</strong>" in removed
    assert Order.objects.count() == 0


def test_recalc_shows_no_errors_yet(alice, card, web_client_for):
    data = order_data([{"name": "A", "quantity": "abc", "unit_price": "1"}], ordered_on="")

    body = text(recalc(web_client_for(alice), card, data))

    assert "field-errors" not in body


def test_recalc_needs_the_right_to_change(rita, card, web_client_for):
    assert recalc(web_client_for(rita), card, order_data()).status_code == 403


# --- Order page ---------------------------------------------------------------------------------


def test_order_page_shows_lines_and_totals(alice, card, web_client_for):
    order = make_order(
        alice, card, lines=[line("Краска", "33.335", "3.00", vat_rate=D("20")), line("Уход")]
    )

    response = web_client_for(alice).get(reverse("sales:order-detail", args=[order.pk]))

    body = text(response)
    assert response.status_code == 200
    assert f"Order № {order.number}" in body
    assert "Краска" in body
    assert "33.335" in body
    assert "data-order-total><strong>220.01 RUB</strong>" in body
    assert 'id="order-form-edit"' in body


def test_order_page_of_invisible_card_is_404(alice, charlie, card, web_client_for):
    order = make_order(alice, card)

    response = web_client_for(charlie).get(reverse("sales:order-detail", args=[order.pk]))

    assert response.status_code == 404


def test_edit_order_replaces_lines(alice, card, web_client_for):
    order = make_order(alice, card, lines=[line("A"), line("B")])
    data = order_data([{"name": "C", "quantity": "4", "unit_price": "2.50"}], version=1)

    response = web_client_for(alice).post(reverse("sales:order-detail", args=[order.pk]), data)

    assert response.status_code == 302
    assert response["Location"] == reverse("sales:order-detail", args=[order.pk])
    order.refresh_from_db()
    assert ([r.name for r in order.lines.all()], order.total, order.version) == (
        ["C"],
        D("10.00"),
        2,
    )


def test_edit_order_with_stale_version_shows_conflict_and_saves_nothing(
    alice, bob, card, web_client_for
):
    order = make_order(alice, card)
    services.order_update(actor=bob, order=order, expected_version=1, data={"notes": "Боб"})
    data = order_data([{"name": "Моё", "unit_price": "5"}], version=1, notes="Алиса")

    response = web_client_for(alice).post(reverse("sales:order-detail", args=[order.pk]), data)

    assert response.status_code == 409
    body = text(response)
    assert "Someone else saved this order" in body
    assert 'name="version" value="2"' in body
    assert 'value="Моё"' in body
    order.refresh_from_db()
    assert (order.notes, order.version, order.total) == ("Боб", 2, D("100.00"))


def test_status_change(alice, card, web_client_for):
    order = make_order(alice, card)

    response = web_client_for(alice).post(
        reverse("sales:order-status", args=[order.pk]), {"status": "in_progress"}
    )

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "in_progress"


# --- Services section ---------------------------------------------------------------------------


def test_record_service_with_photos_by_htmx(alice, mallory, card, web_client_for):
    haircut = make_product(mallory, name="Стрижка")
    data = {
        "product": haircut.pk,
        "name": "",
        "performed_at": "2024-03-02T12:30",
        "performer": alice.pk,
        "rating": "5",
        "feedback": "Очень довольна",
        "before_photo": jpeg("before.jpg"),
        "after_photo": jpeg("after.jpg"),
    }

    response = web_client_for(alice).post(services_url(card), data, headers=HTMX)

    assert response.status_code == 200
    assert response["HX-Trigger"] == "card-changed"
    record = ServiceRecord.objects.get()
    assert (record.name, record.rating, record.feedback) == ("Стрижка", 5, "Очень довольна")
    body = text(response)
    assert body.strip().startswith('<section class="panel" id="section-services">')
    before = reverse("documents:thumbnail", args=[record.before_photo_id])
    after = reverse("documents:thumbnail", args=[record.after_photo_id])
    assert f'src="{before}"' in body
    assert f'src="{after}"' in body
    assert "★★★★★" in body
    assert 'hx-encoding="multipart/form-data"' in body


def test_pdf_as_photo_is_refused_on_its_field(alice, card, web_client_for):
    data = {"name": "Маникюр", "performed_at": "2024-03-02T12:30", "before_photo": pdf()}

    response = web_client_for(alice).post(services_url(card), data, headers=HTMX)

    body = text(response)
    assert "HX-Trigger" not in response
    assert ServiceRecord.objects.count() == 0
    assert Document.objects.count() == 0
    field = body.split('for="id_service-before_photo"')[1].split("</div>")[0]
    assert "A photo must be an image (JPEG, PNG or WebP); this file is .pdf." in field
    assert 'value="Маникюр"' in body


def test_edit_and_delete_service(alice, card, web_client_for):
    record = services.service_record_create(
        actor=alice, client=card, data={"name": "Стрижка"}, before_photo=jpeg()
    )
    web = web_client_for(alice)
    edit_url = reverse("sales:service-edit", args=[record.pk])

    form = text(web.get(edit_url, headers=HTMX))
    saved = web.post(
        edit_url,
        {
            "name": "Стрижка и укладка",
            "performed_at": "2024-03-02T12:30",
            "version": "1",
            "remove_before_photo": "on",
        },
        headers=HTMX,
    )

    assert 'value="Стрижка"' in form
    assert "remove_before_photo" in form
    assert saved["HX-Trigger"] == "card-changed"
    record.refresh_from_db()
    assert (record.name, record.before_photo, record.version) == ("Стрижка и укладка", None, 2)

    deleted = web.post(reverse("sales:service-delete", args=[record.pk]), headers=HTMX)

    assert deleted["HX-Trigger"] == "card-changed"
    assert ServiceRecord.objects.count() == 0


# --- Catalogue ----------------------------------------------------------------------------------


def test_catalogue_lists_entries_for_everyone_signed_in(ada, rita, web_client_for):
    make_product(ada, name="Стрижка", price=D("1500"))
    old = make_product(ada, name="Старая услуга")
    services.product_deactivate(actor=ada, product=old)

    page = text(web_client_for(rita).get(reverse("sales:catalogue")))
    everything = text(web_client_for(rita).get(reverse("sales:catalogue") + "?inactive=1"))

    assert "Стрижка" in page
    assert "1,500.00 RUB" in page
    assert "Старая услуга" not in page
    assert "Старая услуга" in everything
    assert 'id="catalogue-form"' not in page


def test_manager_adds_edits_and_retires_entries(mallory, web_client_for):
    web = web_client_for(mallory)
    data = {
        "name": "Маникюр",
        "kind": "service",
        "price": "900.50",
        "currency": "RUB",
        "unit": "усл",
        "vat_rate": "0",
        "is_active": "on",
    }

    created = web.post(reverse("sales:catalogue"), data)
    product = Product.objects.get()
    edited = web.post(reverse("sales:product-edit", args=[product.pk]), {**data, "price": "950"})
    retired = web.post(reverse("sales:product-deactivate", args=[product.pk]))

    assert [r.status_code for r in (created, edited, retired)] == [302, 302, 302]
    product.refresh_from_db()
    assert (product.price, product.is_active) == (D("950.00"), False)


def test_catalogue_form_errors(mallory, web_client_for):
    response = web_client_for(mallory).post(
        reverse("sales:catalogue"),
        {"name": "", "kind": "service", "price": "-1", "currency": "RUB"},
    )

    assert response.status_code == 422
    assert "This field is required." in text(response)
    assert Product.objects.count() == 0


# --- Authorization matrix ------------------------------------------------------------------------

ROLES = ["ada", "mallory", "alice", "bob", "charlie", "rita", "anonymous"]
ACTIONS = [
    "orders",
    "order_create",
    "order_page",
    "order_edit",
    "order_status",
    "services",
    "service_create",
    "service_delete",
    "catalogue",
    "product_create",
]
# The card belongs to alice (responsible) in team North.
EXPECTED = {
    "ada": ["ok"] * 10,
    "mallory": ["ok"] * 10,
    "alice": ["ok"] * 9 + [403],
    "bob": ["ok"] * 9 + [403],
    "charlie": [404] * 8 + ["ok", 403],
    "rita": ["ok", 403, "ok", 403, 403, "ok", 403, 403, "ok", 403],
    "anonymous": ["login"] * 10,
}


@pytest.fixture
def matrix(users):
    card = make_person(users["alice"], last_name="Матрицына")
    order = make_order(users["alice"], card, lines=[line("Исходная")])
    record = services.service_record_create(
        actor=users["alice"], client=card, data={"name": "Исходная"}
    )
    return card, order, record


def _request(web: DjangoClient, action: str, card, order, record):
    if action == "orders":
        return web.get(orders_url(card), headers=HTMX)
    if action == "order_create":
        return web.post(orders_url(card), order_data(), headers=HTMX)
    if action == "order_page":
        return web.get(reverse("sales:order-detail", args=[order.pk]))
    if action == "order_edit":
        data = order_data([{"name": "Изменено", "unit_price": "1"}], version=order.version)
        return web.post(reverse("sales:order-detail", args=[order.pk]), data)
    if action == "order_status":
        return web.post(reverse("sales:order-status", args=[order.pk]), {"status": "completed"})
    if action == "services":
        return web.get(services_url(card), headers=HTMX)
    if action == "service_create":
        data = {"name": "Новая", "performed_at": "2024-03-02T12:30", "before_photo": jpeg()}
        return web.post(services_url(card), data, headers=HTMX)
    if action == "service_delete":
        return web.post(reverse("sales:service-delete", args=[record.pk]), headers=HTMX)
    if action == "catalogue":
        return web.get(reverse("sales:catalogue"))
    data = {"name": "Новая", "kind": "service", "price": "1", "currency": "RUB", "vat_rate": "0"}
    return web.post(reverse("sales:catalogue"), data)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
def test_authorization_matrix(role, action, users, matrix):
    card, order, record = matrix
    expected = EXPECTED[role][ACTIONS.index(action)]
    web = DjangoClient()
    if role != "anonymous":
        web.force_login(users[role])
    before = (
        Order.objects.count(),
        ServiceRecord.objects.count(),
        Product.objects.count(),
        Document.objects.count(),
        ObjectChange.objects.count(),
    )

    response = _request(web, action, card, order, record)

    if expected == "ok":
        assert response.status_code in (200, 302)
        changed = action in {
            "order_create",
            "order_edit",
            "order_status",
            "service_create",
            "service_delete",
            "product_create",
        }
        assert (ObjectChange.objects.count() > before[-1]) is changed
        return
    if expected == "login":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    else:
        assert response.status_code == expected
    order.refresh_from_db()
    assert (order.status, order.version, [r.name for r in order.lines.all()]) == (
        "new",
        1,
        ["Исходная"],
    )
    after = (
        Order.objects.count(),
        ServiceRecord.objects.count(),
        Product.objects.count(),
        Document.objects.count(),
        ObjectChange.objects.count(),
    )
    assert after == before


# --- Query counts -------------------------------------------------------------------------------


def _fill(alice, card, count: int) -> None:
    product = make_product(alice.__class__.objects.get(username="mallory"), name=f"P{count}")
    for index in range(count):
        make_order(alice, card, lines=[line(f"L{index}"), {"product": product, "quantity": D(1)}])
        services.service_record_create(
            actor=alice,
            client=card,
            data={"name": f"S{index}", "rating": 4, "order": Order.objects.first()},
            before_photo=jpeg(),
            after_photo=jpeg(),
        )


@pytest.mark.parametrize("section", ["orders", "services"])
def test_sections_take_the_same_queries_for_2_and_10_rows(
    alice, mallory, section, web_client_for, django_assert_num_queries
):
    small = make_person(alice, last_name="Малый", credit_limit=D("1000000"))
    large = make_person(alice, last_name="Большой", credit_limit=D("1000000"))
    _fill(alice, small, 2)
    _fill(alice, large, 10)
    web = web_client_for(alice)
    url = orders_url if section == "orders" else services_url
    web.get(url(small), headers=HTMX)  # warm the session and content types

    with CaptureQueriesContext(connection) as small_queries:
        assert web.get(url(small), headers=HTMX).status_code == 200
    with django_assert_num_queries(len(small_queries.captured_queries)):
        assert web.get(url(large), headers=HTMX).status_code == 200


def test_order_page_and_catalogue_query_counts_do_not_grow(
    alice, mallory, web_client_for, django_assert_num_queries
):
    card = make_person(alice)
    two = make_order(alice, card, lines=[line(f"L{i}") for i in range(2)])
    ten = make_order(alice, card, lines=[line(f"L{i}") for i in range(10)])
    for index in range(3):
        make_product(mallory, name=f"P{index}")
    web = web_client_for(alice)
    web.get(reverse("sales:order-detail", args=[two.pk]))

    with CaptureQueriesContext(connection) as small:
        web.get(reverse("sales:order-detail", args=[two.pk]))
    with django_assert_num_queries(len(small.captured_queries)):
        web.get(reverse("sales:order-detail", args=[ten.pk]))

    with CaptureQueriesContext(connection) as few:
        web.get(reverse("sales:catalogue"))
    for index in range(3, 12):
        make_product(mallory, name=f"P{index}")
    with django_assert_num_queries(len(few.captured_queries)):
        web.get(reverse("sales:catalogue"))
