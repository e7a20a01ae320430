"""Sales services: exact order arithmetic, currencies, credit limit, numbering, versions,
the catalogue and services rendered with photos."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from kartoteka.activities.models import TimelineEvent
from kartoteka.clients.models import CardNumberCounter
from kartoteka.clients.tests.factories import make_person
from kartoteka.core.models import ObjectChange, SiteSettings
from kartoteka.documents.models import Document
from kartoteka.finance.tests.factories import make_invoice
from kartoteka.sales import selectors, services
from kartoteka.sales.models import Order, OrderLine, Product, ServiceRecord
from kartoteka.sales.tests.factories import jpeg, line, make_order, make_product, pdf

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def card(alice):
    return make_person(alice, last_name="Смирнова", first_name="Анна")


def codes(exc: ValidationError) -> dict[str, list[str]]:
    return {field: [e.code for e in errors] for field, errors in exc.error_dict.items()}


def changes_of(obj):
    content_type = ContentType.objects.get_for_model(obj)
    return ObjectChange.objects.filter(content_type=content_type, object_id=obj.pk)


def timeline_of(obj) -> TimelineEvent:
    return TimelineEvent.objects.get(
        content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
    )


# --- Line arithmetic (pure) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "price", "discount", "vat", "net", "vat_amount", "total"),
    [
        # 33.335 × 3 = 100.005: half up to 100.01; VAT 20.002 -> 20.00.
        ("33.335", "3.00", "0", "20", "100.01", "20.00", "120.01"),
        # 3 × 33.33 = 99.99 exactly.
        ("3", "33.33", "0", "20", "99.99", "20.00", "119.99"),
        # Discount 12.5 %: 299.97 × 0.875 = 262.47375 -> 262.47; VAT 52.494 -> 52.49.
        ("3", "99.99", "12.5", "20", "262.47", "52.49", "314.96"),
        # VAT 0 %: the total is the net.
        ("2", "10.05", "0", "0", "20.10", "0.00", "20.10"),
        # Three-decimal quantity: 1.255 × 10.10 = 12.6755 -> 12.68; VAT 10 % 1.268 -> 1.27.
        ("1.255", "10.10", "0", "10", "12.68", "1.27", "13.95"),
        # Half a cent rounds up, never to even: 0.5 × 0.01 = 0.005 -> 0.01.
        ("0.5", "0.01", "0", "0", "0.01", "0.00", "0.01"),
        # VAT on 0.05 at 10 % = 0.005 -> 0.01.
        ("1", "0.05", "0", "10", "0.05", "0.01", "0.06"),
        # 100 % discount leaves nothing.
        ("2", "500.00", "100", "20", "0.00", "0.00", "0.00"),
        # Discount and VAT with fractions: 7 × 14.29 = 100.03 × 0.9 = 90.027 -> 90.03;
        # VAT 18 % = 16.2054 -> 16.21.
        ("7", "14.29", "10", "18", "90.03", "16.21", "106.24"),
    ],
)
def test_line_amounts_round_half_up_at_each_step(
    quantity, price, discount, vat, net, vat_amount, total
):
    amounts = services.line_amounts(
        quantity=D(quantity), unit_price=D(price), discount_percent=D(discount), vat_rate=D(vat)
    )

    assert amounts == services.LineAmounts(net=D(net), vat=D(vat_amount), total=D(total))
    assert str(amounts.total) == total


def test_order_totals_are_sums_of_rounded_lines():
    lines = [
        services.line_amounts(quantity=D("0.5"), unit_price=D("0.01"), vat_rate=D("0"))
        for _ in range(3)
    ] + [services.line_amounts(quantity=D("1"), unit_price=D("0.05"), vat_rate=D("10"))] * 3

    totals = services.order_totals(lines)

    # Rounding the unrounded sums instead would give 0.17 net (0.015 + 0.15) and 0.02 VAT.
    assert totals.subtotal == D("0.18")
    assert totals.vat_total == D("0.03")
    assert totals.total == D("0.21")
    assert totals.total_base == D("0.21")


# --- Orders: amounts stored --------------------------------------------------------------------


def test_order_create_computes_and_stores_exact_amounts(alice, card):
    order = make_order(
        alice,
        card,
        lines=[
            line("Краска", "33.335", "3.00", vat_rate=D("20")),
            line("Уход", "3", "99.99", discount_percent=D("12.5"), vat_rate=D("20")),
            line("Консультация", "1", "500.00", vat_rate=D("0")),
        ],
    )

    order.refresh_from_db()
    rows = list(order.lines.order_by("position"))
    assert [(r.name, r.net, r.vat, r.total) for r in rows] == [
        ("Краска", D("100.01"), D("20.00"), D("120.01")),
        ("Уход", D("262.47"), D("52.49"), D("314.96")),
        ("Консультация", D("500.00"), D("0.00"), D("500.00")),
    ]
    assert rows[0].quantity == D("33.335")
    assert (order.subtotal, order.vat_total, order.total) == (
        D("862.48"),
        D("72.49"),
        D("934.97"),
    )
    assert order.total == sum(r.total for r in rows)
    assert order.currency == "RUB"
    assert order.exchange_rate == D("1")
    assert order.total_base == D("934.97")
    assert order.responsible == alice
    assert order.version == 1


def test_order_in_cny_converts_exactly_to_base(alice, card):
    order = make_order(
        alice,
        card,
        currency="CNY",
        exchange_rate=D("12.345678"),
        lines=[line("Чай", "3", "41.15", vat_rate=D("0"))],
    )

    order.refresh_from_db()
    assert order.total == D("123.45")
    # 123.45 × 12.345678 = 1524.0739491 -> 1524.07
    assert order.total_base == D("1524.07")
    assert order.exchange_rate == D("12.345678")


def test_base_currency_order_with_rate_other_than_one_is_refused(alice, card):
    with pytest.raises(ValidationError) as caught:
        make_order(alice, card, currency="RUB", exchange_rate=D("1.5"))

    assert codes(caught.value) == {"exchange_rate": ["rate_must_be_one"]}
    assert Order.objects.count() == 0


def test_base_currency_follows_the_settings(alice, card):
    settings_row = SiteSettings.current()
    settings_row.base_currency = "EUR"
    settings_row.save()

    with pytest.raises(ValidationError) as caught:
        make_order(alice, card, currency="RUB")
    order = make_order(alice, card, currency="EUR", exchange_rate=D("1"))

    assert codes(caught.value) == {"exchange_rate": ["rate_required"]}
    assert order.exchange_rate == D("1")


@pytest.mark.parametrize(("rate", "code"), [(None, "rate_required"), (D("0"), "rate_positive")])
def test_foreign_currency_needs_a_positive_rate(alice, card, rate, code):
    with pytest.raises(ValidationError) as caught:
        make_order(alice, card, currency="USD", exchange_rate=rate)

    assert codes(caught.value) == {"exchange_rate": [code]}


def test_price_with_three_decimals_is_refused_on_its_line(alice, card):
    with pytest.raises(ValidationError) as caught:
        make_order(alice, card, lines=[line(), line("Краска", "3", "33.335")])

    assert list(codes(caught.value)) == ["lines.1.unit_price"]
    assert Order.objects.count() == 0


def test_order_needs_at_least_one_line(alice, card):
    with pytest.raises(ValidationError) as caught:
        make_order(alice, card, lines=[])

    assert codes(caught.value) == {"lines": ["no_lines"]}


def test_line_errors_name_the_line_and_field(alice, card):
    with pytest.raises(ValidationError) as caught:
        make_order(
            alice,
            card,
            lines=[
                line(),
                {"name": "", "quantity": D("1"), "unit_price": D("1")},
                {"name": "Без цены", "quantity": None, "unit_price": None},
                line("Скидка", discount_percent=D("120")),
            ],
        )

    assert codes(caught.value) == {
        "lines.1.name": ["required"],
        "lines.2.quantity": ["required"],
        "lines.2.unit_price": ["required"],
        "lines.3.discount_percent": ["max_value"],
    }


def test_line_with_product_copies_name_unit_price_and_vat(alice, mallory, card):
    product = make_product(mallory, name="Окрашивание", unit="усл", price=D("3200.00"))

    order = make_order(alice, card, lines=[{"product": product, "quantity": D("2")}])

    row = order.lines.get()
    assert (row.product, row.name, row.unit, row.unit_price, row.vat_rate) == (
        product,
        "Окрашивание",
        "усл",
        D("3200.00"),
        D("20.00"),
    )
    assert (row.net, row.vat, row.total) == (D("6400.00"), D("1280.00"), D("7680.00"))


def test_line_with_product_keeps_what_was_typed(alice, mallory, card):
    product = make_product(mallory, price=D("3200.00"))

    order = make_order(
        alice,
        card,
        lines=[
            {
                "product": product,
                "name": "Стрижка мужская",
                "quantity": D("1"),
                "unit_price": D("2500.00"),
                "vat_rate": D("0"),
            }
        ],
    )

    row = order.lines.get()
    assert (row.name, row.unit_price, row.vat_rate, row.total) == (
        "Стрижка мужская",
        D("2500.00"),
        D("0"),
        D("2500.00"),
    )


def test_catalogue_price_in_another_currency_must_be_typed(alice, mallory, card):
    product = make_product(mallory, currency="USD", price=D("10.00"))

    with pytest.raises(ValidationError) as caught:
        make_order(alice, card, lines=[{"product": product, "quantity": D("1")}])

    assert codes(caught.value) == {"lines.0.unit_price": ["price_currency_mismatch"]}


def test_inactive_product_refused_on_new_orders_but_kept_on_old_ones(alice, mallory, card):
    product = make_product(mallory)
    order = make_order(alice, card, lines=[{"product": product, "quantity": D("1")}])
    services.product_deactivate(actor=mallory, product=product)

    with pytest.raises(ValidationError) as caught:
        make_order(alice, card, lines=[{"product": product, "quantity": D("1")}])
    services.order_update(
        actor=alice,
        order=order,
        expected_version=1,
        data={},
        lines=[{"product": product, "quantity": D("2")}],
    )

    assert codes(caught.value) == {"lines.0.product": ["product_inactive"]}
    order.refresh_from_db()
    assert order.total == D("3600.00")


# --- Numbers -----------------------------------------------------------------------------------


def test_order_numbers_are_sequential_across_cards(alice, bob, card):
    other = make_person(bob, last_name="Петров")

    numbers = [make_order(alice, card).number, make_order(bob, other).number]
    numbers.append(make_order(alice, card).number)

    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]
    assert CardNumberCounter.objects.get(name="order").value == numbers[-1]


def test_order_numbering_continues_after_existing_orders(alice, card):
    first = make_order(alice, card)
    Order.objects.filter(pk=first.pk).update(number=41)
    CardNumberCounter.objects.filter(name="order").delete()

    assert make_order(alice, card).number == 42


def test_failed_order_takes_no_number(alice, card):
    first = make_order(alice, card)
    with pytest.raises(ValidationError):
        make_order(alice, card, lines=[])

    assert make_order(alice, card).number == first.number + 1


# --- Update, version, status -------------------------------------------------------------------


def test_order_update_replaces_lines_and_recomputes(alice, card):
    order = make_order(alice, card, lines=[line("A", "1", "10.00"), line("B", "1", "20.00")])

    services.order_update(
        actor=alice,
        order=order,
        expected_version=1,
        data={"notes": "Переделано", "payment_method": "card"},
        lines=[line("C", "2", "7.50", vat_rate=D("20"))],
    )

    order.refresh_from_db()
    assert [r.name for r in order.lines.all()] == ["C"]
    assert OrderLine.objects.count() == 1
    assert (order.subtotal, order.vat_total, order.total) == (D("15.00"), D("3.00"), D("18.00"))
    assert order.version == 2
    assert order.notes == "Переделано"
    change = changes_of(order).get(action="update")
    assert change.before["lines"] == [
        "A: 1.000 × 10.00, −0.00%, VAT 0.00% = 10.00",
        "B: 1.000 × 20.00, −0.00%, VAT 0.00% = 20.00",
    ]
    assert change.after["lines"] == ["C: 2.000 × 7.50, −0.00%, VAT 20.00% = 18.00"]
    event = timeline_of(order)
    assert event.title == f"Order № {order.number}"
    assert event.summary == "C"
    assert event.amount == D("18.00")


def test_order_update_without_lines_keeps_them(alice, card):
    order = make_order(alice, card, lines=[line("A", "2", "10.00")])

    services.order_update(actor=alice, order=order, expected_version=1, data={"notes": "x"})

    order.refresh_from_db()
    assert [r.name for r in order.lines.all()] == ["A"]
    assert order.total == D("20.00")


def test_stale_version_is_a_conflict_and_changes_nothing(alice, bob, card):
    order = make_order(alice, card)
    services.order_update(actor=bob, order=order, expected_version=1, data={"notes": "Боб"})
    log_size = ObjectChange.objects.count()

    with pytest.raises(services.VersionConflict) as caught:
        services.order_update(
            actor=alice,
            order=Order.objects.get(pk=order.pk),
            expected_version=1,
            data={"notes": "Алиса"},
            lines=[line("X", "9", "9.00")],
        )

    assert caught.value.current.version == 2
    order.refresh_from_db()
    assert (order.notes, order.version, order.total) == ("Боб", 2, D("100.00"))
    assert ObjectChange.objects.count() == log_size


def test_changing_currency_to_base_resets_the_rate(alice, card):
    order = make_order(alice, card, currency="USD", exchange_rate=D("90"))

    services.order_update(actor=alice, order=order, expected_version=1, data={"currency": "RUB"})

    order.refresh_from_db()
    assert (order.exchange_rate, order.total_base) == (D("1"), D("100.00"))


def test_status_change_is_logged_and_shown_on_timeline(alice, card):
    order = make_order(alice, card)

    services.order_set_status(actor=alice, order=order, status=Order.Status.COMPLETED)

    order.refresh_from_db()
    assert (order.status, order.version) == ("completed", 2)
    assert timeline_of(order).subkind == "completed"
    change = changes_of(order).get(action="update")
    assert (change.before, change.after) == ({"status": "new"}, {"status": "completed"})


def test_unknown_status_is_refused(alice, card):
    order = make_order(alice, card)

    with pytest.raises(ValidationError) as caught:
        services.order_set_status(actor=alice, order=order, status="lost")

    assert codes(caught.value) == {"status": ["invalid_choice"]}


def test_order_timeline_line(alice, card):
    order = make_order(
        alice, card, lines=[line("A"), line("B"), line("C")], currency="USD", exchange_rate=D(90)
    )

    event = timeline_of(order)
    assert event.kind == "order"
    assert event.client_id == card.pk
    assert event.title == f"Order № {order.number}"
    assert (event.amount, event.currency, event.subkind) == (D("300.00"), "USD", "new")
    assert event.summary == "A; B; C"
    assert timezone.localtime(event.occurred_at).date() == datetime.date(2024, 3, 1)
    assert event.author == alice


# --- Credit limit ------------------------------------------------------------------------------


@pytest.fixture
def limited(alice):
    card = make_person(alice, last_name="Должник", credit_limit=D("1000.00"))
    make_invoice(alice, card, "600.00", due_on=datetime.date(2030, 1, 1))
    return card


def test_order_beyond_credit_limit_is_refused_with_the_figures(alice, limited):
    with pytest.raises(services.CreditLimitExceeded) as caught:
        make_order(alice, limited, lines=[line("A", "1", "400.01")])

    assert (caught.value.balance, caught.value.limit, caught.value.would_be) == (
        D("600.00"),
        D("1000.00"),
        D("1000.01"),
    )
    assert Order.objects.count() == 0
    assert TimelineEvent.objects.filter(kind="order").count() == 0


def test_order_up_to_the_credit_limit_passes(alice, limited):
    assert make_order(alice, limited, lines=[line("A", "1", "400.00")]).total == D("400.00")


def test_order_beyond_credit_limit_allowed_when_asked(alice, limited):
    order = make_order(alice, limited, lines=[line("A", "1", "5000")], allow_over_limit=True)

    assert order.total_base == D("5000.00")


def test_credit_limit_counts_in_base_currency(alice, limited):
    with pytest.raises(services.CreditLimitExceeded) as caught:
        make_order(alice, limited, currency="USD", exchange_rate=D("90"), lines=[line("A", "5")])

    # 5 × 100.00 USD = 500.00 × 90 = 45000.00 base
    assert caught.value.would_be == D("45600.00")


def test_cancelled_orders_do_not_count_for_the_credit_limit(alice, limited):
    order = make_order(alice, limited, lines=[line("A", "1", "5000")], status="cancelled")

    with pytest.raises(services.CreditLimitExceeded):
        services.order_set_status(actor=alice, order=order, status="new")
    services.order_set_status(actor=alice, order=order, status="new", allow_over_limit=True)

    order.refresh_from_db()
    assert order.status == "new"


def test_editing_an_order_checks_the_limit_only_when_it_grows(alice, limited):
    order = make_order(alice, limited, lines=[line("A", "1", "300.00")])
    limited.credit_limit = D("500.00")
    limited.save()

    services.order_update(actor=alice, order=order, expected_version=1, data={"notes": "ok"})
    with pytest.raises(services.CreditLimitExceeded):
        services.order_update(
            actor=alice, order=order, expected_version=2, data={}, lines=[line("A", "1", "301")]
        )

    order.refresh_from_db()
    assert (order.total, order.version) == (D("300.00"), 2)


# --- Permissions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("ada", True), ("mallory", True), ("alice", True), ("bob", True), ("rita", False)],
)
def test_order_create_follows_card_rights(users, card, role, allowed):
    if allowed:
        assert make_order(users[role], card).responsible == users[role]
        return
    with pytest.raises(PermissionDenied):
        make_order(users[role], card)
    assert Order.objects.count() == 0
    assert not CardNumberCounter.objects.filter(name="order").exists()


def test_outsider_cannot_create_orders(charlie, card):
    with pytest.raises(PermissionDenied):
        make_order(charlie, card)

    assert Order.objects.count() == 0


def test_responsible_must_be_active(alice, bob, card):
    bob.is_active = False
    bob.save()

    with pytest.raises(ValidationError) as caught:
        make_order(alice, card, responsible=bob)

    assert codes(caught.value) == {"responsible": ["inactive_user"]}


# --- Catalogue ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("ada", True),
        ("mallory", True),
        ("alice", False),
        ("bob", False),
        ("charlie", False),
        ("rita", False),
    ],
)
def test_catalogue_is_kept_by_administrators_and_managers(users, role, allowed):
    if allowed:
        product = make_product(users[role])
        services.product_update(actor=users[role], product=product, data={"price": D("1")})
        services.product_deactivate(actor=users[role], product=product)
        product.refresh_from_db()
        assert (product.price, product.is_active) == (D("1.00"), False)
        assert changes_of(product).count() == 3
        return
    with pytest.raises(PermissionDenied):
        make_product(users[role])
    existing = make_product(users["ada"])
    with pytest.raises(PermissionDenied):
        services.product_update(actor=users[role], product=existing, data={"price": D("1")})
    with pytest.raises(PermissionDenied):
        services.product_deactivate(actor=users[role], product=existing)
    existing.refresh_from_db()
    assert (Product.objects.count(), existing.price, existing.is_active) == (
        1,
        D("1500.00"),
        True,
    )


def test_product_validation(ada):
    with pytest.raises(ValidationError) as caught:
        make_product(ada, name="", price=D("-1"), vat_rate=D("101"))

    assert set(codes(caught.value)) == {"name", "price", "vat_rate"}
    assert Product.objects.count() == 0


def test_editing_the_catalogue_leaves_past_orders_alone(ada, alice, card):
    product = make_product(ada, price=D("1000.00"))
    order = make_order(alice, card, lines=[{"product": product, "quantity": D("1")}])

    services.product_update(actor=ada, product=product, data={"price": D("2000.00"), "name": "X"})

    row = order.lines.get()
    assert (row.name, row.unit_price) == ("Стрижка", D("1000.00"))


# --- Services rendered -------------------------------------------------------------------------


def test_service_record_with_photos(alice, mallory, card):
    haircut = make_product(mallory, name="Стрижка")
    order = make_order(alice, card)

    record = services.service_record_create(
        actor=alice,
        client=card,
        data={
            "product": haircut,
            "performed_at": datetime.datetime(2024, 3, 2, 12, 30, tzinfo=datetime.UTC),
            "order": order,
            "feedback": "Очень довольна",
            "rating": 5,
        },
        before_photo=jpeg("before.jpg"),
        after_photo=jpeg("after.JPG"),
    )

    record.refresh_from_db()
    assert (record.name, record.performer, record.order, record.rating) == (
        "Стрижка",
        alice,
        order,
        5,
    )
    photos = [record.before_photo, record.after_photo]
    assert all(p.kind == Document.Kind.PHOTO and p.client == card for p in photos)
    assert all(p.thumbnail and p.content_type == "image/jpeg" for p in photos)
    assert {p.order for p in photos} == {order}
    # The photos belong to the service's line, not to lines of their own.
    assert TimelineEvent.objects.filter(kind="document").count() == 0
    event = timeline_of(record)
    assert (event.kind, event.title, event.summary) == (
        "service",
        "Service: Стрижка — ★★★★★",
        "Очень довольна",
    )


def test_service_rating_shown_with_empty_stars(alice, card):
    record = services.service_record_create(
        actor=alice, client=card, data={"name": "Маникюр", "rating": 3}
    )

    assert timeline_of(record).title == "Service: Маникюр — ★★★☆☆"
    assert record.performer == alice


def test_pdf_is_not_accepted_as_a_photo(alice, card):
    with pytest.raises(ValidationError) as caught:
        services.service_record_create(
            actor=alice,
            client=card,
            data={"name": "Маникюр"},
            before_photo=pdf(),
            after_photo=jpeg("after.png"),
        )

    assert codes(caught.value) == {
        "before_photo": ["not_an_image"],
        "after_photo": ["file_type_mismatch"],
    }
    assert "must be an image" in caught.value.error_dict["before_photo"][0].message
    assert ServiceRecord.objects.count() == 0
    assert Document.objects.count() == 0


def test_service_checks(alice, bob, mallory, card):
    product = make_product(mallory, kind=Product.Kind.PRODUCT, name="Шампунь")
    other_order = make_order(bob, make_person(bob, last_name="Другой"))
    bob.is_active = False
    bob.save()

    with pytest.raises(ValidationError) as caught:
        services.service_record_create(
            actor=alice,
            client=card,
            data={"product": product, "performer": bob, "order": other_order, "rating": 6},
        )

    assert codes(caught.value) == {
        "product": ["not_a_service"],
        "performer": ["inactive_user"],
        "order": ["order_mismatch"],
        "rating": ["max_value"],
    }


def test_service_needs_a_name_or_a_service(alice, card):
    with pytest.raises(ValidationError) as caught:
        services.service_record_create(actor=alice, client=card, data={})

    assert codes(caught.value) == {"name": ["required"]}


def test_service_update_replaces_and_removes_photos(alice, card):
    record = services.service_record_create(
        actor=alice,
        client=card,
        data={"name": "Стрижка"},
        before_photo=jpeg("a.jpg"),
        after_photo=jpeg("b.jpg"),
    )
    old_before, old_after = record.before_photo, record.after_photo

    services.service_record_update(
        actor=alice,
        record=record,
        expected_version=1,
        data={"rating": 4},
        before_photo=jpeg("c.jpg"),
        remove_photos=["after_photo"],
    )

    record.refresh_from_db()
    old_before.refresh_from_db()
    old_after.refresh_from_db()
    assert record.before_photo not in (None, old_before)
    assert record.after_photo is None
    assert (old_before.is_deleted, old_after.is_deleted) == (True, True)
    assert (record.rating, record.version) == (4, 2)
    assert timeline_of(record).title == "Service: Стрижка — ★★★★☆"


def test_service_update_version_conflict(alice, bob, card):
    record = services.service_record_create(actor=alice, client=card, data={"name": "Стрижка"})
    services.service_record_update(actor=bob, record=record, expected_version=1, data={})

    with pytest.raises(services.VersionConflict):
        services.service_record_update(
            actor=alice, record=record, expected_version=1, data={"name": "Другое"}
        )

    record.refresh_from_db()
    assert record.name == "Стрижка"


def test_service_delete_removes_record_line_and_photos(alice, card):
    record = services.service_record_create(
        actor=alice, client=card, data={"name": "Стрижка"}, before_photo=jpeg()
    )
    photo = record.before_photo
    pk = record.pk

    services.service_record_delete(actor=alice, record=record)

    assert ServiceRecord.objects.count() == 0
    assert TimelineEvent.objects.filter(kind="service").count() == 0
    photo.refresh_from_db()
    assert photo.is_deleted
    change = ObjectChange.objects.get(
        action="delete", object_id=pk, content_type=ContentType.objects.get_for_model(ServiceRecord)
    )
    assert change.before["name"] == "Стрижка"


def test_readonly_user_cannot_record_services(rita, card):
    with pytest.raises(PermissionDenied):
        services.service_record_create(
            actor=rita, client=card, data={"name": "X"}, before_photo=jpeg()
        )

    assert ServiceRecord.objects.count() == 0
    assert Document.objects.count() == 0


def test_order_summary(alice, card):
    make_order(alice, card, lines=[line("A", "1", "100.00")], ordered_on=datetime.date(2024, 1, 5))
    make_order(alice, card, lines=[line("A", "1", "50.01")], ordered_on=datetime.date(2024, 2, 5))
    make_order(
        alice,
        card,
        lines=[line("A", "1", "999")],
        ordered_on=datetime.date(2024, 3, 5),
        status="cancelled",
    )

    summary = selectors.order_summary(client=card)

    assert (summary.count, summary.lifetime_value_base, summary.average_base) == (
        2,
        D("150.01"),
        D("75.01"),
    )
    assert summary.last_ordered_on == datetime.date(2024, 2, 5)
