"""The import's fast paths give what the card's own code gives.

The import validates and normalises each row in worker processes with shortcuts (one phone
parse instead of three, the field clean() of repeated values cached, the change-log entry
and search document built before the card has a number, matched cards changed in memory
and written per batch). These tests hold them to the same results as ContactPoint.clean,
search.indexing.build_document, core.changelog.snapshot, client_create and client_update.
"""

import datetime
import json

import phonenumbers
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from kartoteka.clients import services as client_services
from kartoteka.clients.models import Client, ContactPoint
from kartoteka.clients.normalize import format_phone, normalize_phone, phone_region
from kartoteka.core.changelog import snapshot
from kartoteka.core.models import ObjectChange
from kartoteka.imports import services
from kartoteka.imports.models import Import, ImportedCard
from kartoteka.imports.rows import RowOptions, RowPreparer, _messages, _valid_phone
from kartoteka.imports.tests import files
from kartoteka.quality.models import CardQuality
from kartoteka.search.indexing import _phone_forms, build_document
from kartoteka.search.models import SearchEntry


def _region_numbers() -> list[tuple[str, str]]:
    """(text as typed, region) for every region's example numbers of the common types, in
    national, international and 00-prefixed writing."""
    kinds = [
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.VOIP,
    ]
    cases = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in kinds:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
            international = phonenumbers.format_number(
                number, phonenumbers.PhoneNumberFormat.INTERNATIONAL
            )
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            cases += [(national, region), (international, region), ("00" + e164[1:], "RU")]
    return cases


REGION_NUMBERS = _region_numbers()
ODD_PHONES = [
    ("8 (916) 123-45-67", "RU"),
    ("+7 916 123 45 67 доб. 123", "RU"),
    ("+39 06 1234 5678", "IT"),
    ("+1 800 555 0199 ext 7", "US"),
    ("0044 20 7946 0958", "UA"),
    ("12345", "RU"),
    ("+7 916", "RU"),
    ("not a phone", "RU"),
    ("+999 123 456", "RU"),
    ("8 800 2000 600", "RU"),
]


def _reference(value: str, region: str) -> tuple[str, str, list[str]] | None:
    """ContactPoint.clean's value and normalised form and the search document's forms."""
    contact = ContactPoint(kind="phone", value=value)
    try:
        with phone_region(region):
            contact.clean()
    except ValidationError:
        return None
    return contact.value, contact.normalized, _phone_forms(contact.normalized)


def test_one_phone_parse_gives_what_contact_clean_and_the_document_give():
    assert len(REGION_NUMBERS) > 1500
    for value, region in REGION_NUMBERS + ODD_PHONES:
        assert _valid_phone(value, region) == _reference(value, region), (value, region)


def test_the_formatting_without_a_second_parse_is_format_phone():
    for value, region in REGION_NUMBERS:
        found = _valid_phone(value, region)
        if found is not None:
            assert found[0] == format_phone(normalize_phone(value, region)), (value, region)


HEADER = ["ФИО", "Компания", "Телефон", "E-mail", "ИНН", "КПП", "ОГРН", "ЄДРПОУ", "USCC",
          "VAT", "Страна", "Сайт", "Должность"]  # fmt: skip
MAPPING = {0: "full_name", 1: "company", 2: "phone", 3: "email", 4: "inn", 5: "kpp",
           6: "ogrn", 7: "edrpou", 8: "uscc", 9: "vat_number", 10: "country", 11: "website",
           12: "position"}  # fmt: skip
FIELD_OF = {4: "inn", 5: "kpp", 6: "ogrn", 7: "edrpou", 8: "uscc", 9: "vat_number",
            10: "country", 11: "website", 12: "position"}  # fmt: skip

BAD_VALUES = [
    (2, "12345"),
    (2, "+7 916"),
    (2, "телефон"),
    (3, "not-an-email"),
    (3, "ivanov@@mail.ru"),
    (4, "1234567890"),
    (4, "12345"),
    (5, "12"),
    (6, "1027700132190"),
    (7, "32855962"),
    (8, "91110000802100433A"),
    (9, "DE12345678"),
    (10, "Russia"),
    (11, "not a url"),
    (12, "д" * 151),
]


def _import_errors(cells: list[str]) -> set[tuple[str, str]]:
    row = RowPreparer(HEADER, MAPPING, RowOptions()).prepare(2, cells)
    return {(e.message, e.code) for e in row.errors}


def _service_errors(actor, cells: list[str]) -> set[tuple[str, str]]:
    data: dict[str, str] = {"last_name": "Иванов"}
    contacts = []
    for column, value in enumerate(cells):
        if not value or column in (0, 1):
            continue
        if column in (2, 3):
            contacts.append({"kind": "phone" if column == 2 else "email", "value": value})
        else:
            data[FIELD_OF[column]] = value
    try:
        client_services.client_create(actor=actor, data=data, contacts=contacts)
    except ValidationError as exc:
        return set(_messages(exc))
    return set()


@pytest.mark.parametrize(("column", "value"), BAD_VALUES)
def test_a_bad_value_gets_the_same_errors_in_an_import_and_in_client_create(alice, column, value):
    cells = ["Иванов Иван"] + [""] * (len(HEADER) - 1)
    cells[column] = value

    from_import = _import_errors(cells)

    assert from_import
    assert from_import == _service_errors(alice, cells)


def test_a_person_without_a_name_gets_the_same_error(alice):
    cells = [""] * len(HEADER)
    cells[12] = "директор"
    row = RowPreparer(HEADER, MAPPING, RowOptions()).prepare(2, cells)
    with pytest.raises(ValidationError) as raised:
        client_services.client_create(actor=alice, data={"position": "директор"})

    assert {(e.message, e.code) for e in row.errors} == set(_messages(raised.value))


MIXED_ROWS = [
    ["ФИО", "Компания", "Телефон", "Мобильный", "E-mail", "ИНН", "Дата рождения", "Теги"],
    ["Иванов Иван Иванович", "ООО Ромашка", "8 (916) 123-45-67", "+7 903 765-43-21",
     "IVANOV@mail.ru", "", "01.02.1980", "VIP"],
    ["王小明", "", "+86 138 0013 8000", "", "xiaoming@qq.com", "", "1980年12月31日", ""],
    ["", "ПАО Сбербанк", "+7 495 987-65-43", "", "info@sber.ru", files.INN_COMPANY, "", ""],
    ["Ємельяненко Арсен Дмитрович", "", "+380 50 359 8948", "+380 67 569 6246",
     "a.emelianenko@i.ua", "", "03.08.1973", ""],
    ["John A. Smith", "Acme Inc", "+1 212-555-0100", "", "john@acme.com", "", "", ""],
    ["Ли Вэй", "", "000000", "", "", "", "", ""],
]  # fmt: skip


def _import(actor, rows, committed, **config) -> Import:
    job = services.import_upload(
        actor=actor, file=SimpleUploadedFile("clients.csv", files.csv_bytes(rows))
    )
    services.import_configure(actor=actor, job=job, **config)
    committed(services.import_start, actor=actor, job=job)
    return Import.objects.get(pk=job.pk)


def test_imported_cards_carry_client_creates_document_and_change_log(alice, committed):
    job = _import(alice, MIXED_ROWS, committed)

    assert (job.created_count, job.error_count) == (5, 1)
    for card in Client.objects.filter(pk__in=ImportedCard.objects.values("client_id")):
        contacts = list(card.contacts.order_by("pk"))
        assert SearchEntry.objects.get(client=card).document == build_document(card, contacts)
        change = ObjectChange.objects.get(
            content_type__model="client", object_id=card.pk, action="create"
        )
        after = snapshot(card, client_services.LOG_FIELDS)
        after["contacts"] = client_services._contacts_snapshot(contacts)
        after["tags"] = sorted(t.name for t in card.tags.all())
        assert change.after == after
        assert (change.client_id, change.object_repr, change.before) == (card.pk, str(card), {})
        if connection.vendor == "sqlite":  # the JSON text, byte for byte, as Django stores it
            with connection.cursor() as cursor:
                cursor.execute("SELECT after FROM core_objectchange WHERE id = %s", [change.pk])
                assert cursor.fetchone()[0] == json.dumps(after)


def test_a_chinese_name_in_two_fields_keeps_every_pinyin_form(alice, committed):
    rows = [["Фамилия", "Имя", "Телефон"], ["王", "小明", "+86 138 0013 8000"]]

    _import(alice, rows, committed)

    card = Client.objects.get()
    document = SearchEntry.objects.get(client=card).document
    assert document == build_document(card, list(card.contacts.all()))
    assert "wang xiao ming" in document


def _comparable(card: Client) -> dict:
    values = Client.objects.filter(pk=card.pk).values().get()
    for name in ("id", "number", "created_at", "updated_at", "display_name", "sort_name"):
        values.pop(name)
    return values


def test_an_imported_card_is_the_card_client_create_makes(alice, committed):
    rows = [MIXED_ROWS[0][:7], MIXED_ROWS[1][:7]]
    _import(alice, rows, committed)
    imported = Client.objects.get()

    made = client_services.client_create(
        actor=alice,
        data={
            "last_name": "Иванов",
            "first_name": "Иван",
            "middle_name": "Иванович",
            "workplace": "ООО Ромашка",
            "birth_date": imported.birth_date,
        },
        contacts=[
            {"kind": "phone", "value": "8 (916) 123-45-67", "label": "Телефон"},
            {"kind": "phone", "value": "+7 903 765-43-21", "label": "Мобильный"},
            {"kind": "email", "value": "IVANOV@mail.ru", "label": "E-mail"},
        ],
        allow_duplicates=True,
    )

    assert _comparable(imported) == _comparable(made)
    assert (imported.display_name, imported.sort_name) == (made.display_name, made.sort_name)
    fields = ("kind", "value", "normalized", "label", "is_primary")
    assert list(imported.contacts.order_by("pk").values_list(*fields)) == list(
        made.contacts.order_by("pk").values_list(*fields)
    )
    assert (
        SearchEntry.objects.get(client=imported).document.split(" ")[2:]
        == (SearchEntry.objects.get(client=made).document.split(" ")[2:])
    )


def test_a_matched_card_is_changed_as_client_update_changes_it(alice, committed):
    def existing() -> Client:
        return client_services.client_create(
            actor=alice,
            data={"last_name": "Иванов", "first_name": "Иван", "position": "инженер"},
            contacts=[{"kind": "phone", "value": "+7 916 123-45-67"}],
            allow_duplicates=True,
        )

    matched, reference = existing(), existing()
    # The second row about the card only fills what is still empty (its birth date), and
    # leaves the position the first row set.
    rows = [["ФИО", "Телефон", "E-mail", "Должность", "Дата рождения"],
            ["Иванов Иван Иванович", "8 916 123 45 67", "ivanov@mail.ru", "директор", ""],
            ["Иванов Иван", "+7 916 123-45-67", "", "главный инженер", "01.02.1980"]]  # fmt: skip

    job = _import(alice, rows, committed)

    assert (job.created_count, job.updated_count) == (0, 2)
    first = {"middle_name": "Иванович", "position": "директор"}
    contacts = [
        {"kind": "phone", "value": "+7 916 123-45-67", "label": "", "is_primary": True,
         "pk": reference.contacts.get().pk},
        {"kind": "email", "value": "ivanov@mail.ru", "label": "E-mail", "is_primary": True},
    ]  # fmt: skip
    client_services.client_update(
        actor=alice, client=reference, expected_version=None, data=first, contacts=contacts,
        allow_duplicates=True,
    )  # fmt: skip
    reference = Client.objects.get(pk=reference.pk)
    client_services.client_update(
        actor=alice, client=reference, expected_version=None,
        data={"birth_date": datetime.date(1980, 2, 1)}, allow_duplicates=True,
    )  # fmt: skip
    matched.refresh_from_db()
    reference.refresh_from_db()

    assert _comparable(matched) == _comparable(reference)
    assert matched.version == reference.version == 3
    fields = ("kind", "value", "normalized", "label", "is_primary")
    assert list(matched.contacts.values_list(*fields)) == list(
        reference.contacts.values_list(*fields)
    )
    documents = [SearchEntry.objects.get(client=c).document.split(" ")[2:] for c in
                 (matched, reference)]  # fmt: skip
    assert documents[0] == documents[1]
    logged = [
        list(ObjectChange.objects.filter(content_type__model="client", object_id=c.pk,
                                         action="update").order_by("pk")
             .values_list("before", "after", "client_id", "object_repr"))
        for c in (matched, reference)
    ]  # fmt: skip
    assert [entry[:2] for entry in logged[0]] == [entry[:2] for entry in logged[1]]
    assert all(entry[2] == matched.pk for entry in logged[0])
    scores = [CardQuality.objects.get(client=c) for c in (matched, reference)]
    assert (scores[0].score, scores[0].problems, scores[0].client_version) == (
        scores[1].score, scores[1].problems, scores[1].client_version,
    )  # fmt: skip
    record = ImportedCard.objects.get(job=job)
    assert (record.action, record.before["fields"]["position"]) == ("updated", "инженер")


def test_a_row_matching_a_card_of_an_earlier_batch_updates_it(alice, committed, settings):
    settings.KARTOTEKA_IMPORT_BATCH_SIZE = 1
    rows = [["ФИО", "Телефон", "E-mail"],
            ["Петров Пётр", "+7 916 111-22-33", ""],
            ["Петров Пётр Петрович", "+7 916 111-22-33", "petrov@mail.ru"]]  # fmt: skip

    job = _import(alice, rows, committed)

    assert (job.created_count, job.updated_count) == (1, 1)
    card = Client.objects.get()
    assert card.middle_name == "Петрович"
    contacts = list(card.contacts.order_by("pk"))
    assert [c.normalized for c in contacts] == ["+79161112233", "petrov@mail.ru"]
    assert SearchEntry.objects.get(client=card).document == build_document(card, contacts)
    update = ObjectChange.objects.get(
        content_type__model="client", object_id=card.pk, action="update"
    )
    assert update.after["contacts"] == client_services._contacts_snapshot(contacts)


# --- core.changelog.snapshot and search.indexing.build_document: the same output as before --


def _snapshot_before(obj, fields):
    """core.changelog.snapshot as it was before it was made faster for the import."""
    from kartoteka.core.changelog import _jsonable

    data = {}
    for name in fields:
        field = obj._meta.get_field(name)
        data[name] = _jsonable(getattr(obj, getattr(field, "attname", name)))
    return data


def _document_before(client, contacts) -> str:
    """search.indexing.build_document as it was before document_parts was split off."""
    from kartoteka.clients.normalize import REGISTRATION_VALIDATORS
    from kartoteka.search.text import has_cjk, variants, words

    parts = [client.card_number, str(client.number)]
    names = ["last_name", "first_name", "middle_name", "legal_name", "short_name"]
    name_text = " ".join(getattr(client, f) for f in names if getattr(client, f))
    for word in words(name_text):
        parts.extend(variants(word))
    if has_cjk(name_text):
        parts.extend(variants(client.display_name))
    for field in REGISTRATION_VALIDATORS:
        if getattr(client, field):
            parts.append(getattr(client, field).lower())
    for contact in contacts:
        if contact.kind in ("phone", "whatsapp", "viber") or (
            contact.kind == "telegram" and contact.normalized.isdigit()
        ):
            parts.extend(_phone_forms(contact.normalized))
        elif contact.kind in ("email", "telegram", "wechat"):
            parts.append(contact.normalized)
    return " ".join(dict.fromkeys(p for p in parts if p))


def test_snapshot_and_document_are_what_they_were(alice, committed):
    _import(alice, MIXED_ROWS, committed)
    client_services.client_create(
        actor=alice,
        data={
            "kind": "company",
            "legal_name": "ООО «Альфа»",
            "inn": files.INN_COMPANY,
            "edrpou": files.EDRPOU,
            "uscc": files.USCC,
            "country": "ru",
            "credit_limit": "1500.50",
        },
        contacts=[
            {"kind": "whatsapp", "value": "+380 50 359 8948"},
            {"kind": "telegram", "value": "@Alfa_Trade"},
            {"kind": "wechat", "value": "alfa-cn"},
            {"kind": "viber", "value": "+7 903 765-43-21"},
            {"kind": "address", "value": "г. Москва, ул. Тверская, 1"},
        ],
        allow_duplicates=True,
    )
    cards = list(Client.objects.all())
    assert len(cards) == 6
    for card in cards:
        contacts = list(card.contacts.order_by("pk"))
        fields = [*client_services.LOG_FIELDS, "created_at", "birth_date", "employer"]
        assert json.dumps(snapshot(card, fields)) == json.dumps(_snapshot_before(card, fields))
        assert build_document(card, contacts) == _document_before(card, contacts)
        forms = {c.normalized: _phone_forms(c.normalized) for c in contacts}
        assert build_document(card, contacts, forms) == _document_before(card, contacts)


def test_many_matched_cards_getting_contacts_in_one_batch(alice, committed):
    cards = [
        client_services.client_create(
            actor=alice,
            data={"last_name": f"Клиентов{i}"},
            contacts=[{"kind": "phone", "value": f"+7 916 {i:07d}"}],
        )
        for i in range(300)
    ]
    rows = [["Фамилия", "Телефон", "E-mail"]] + [
        [f"Клиентов{i}", f"+7 916 {i:07d}", f"client{i}@mail.ru"] for i in range(300)
    ]

    job = _import(alice, rows, committed)

    assert (job.created_count, job.updated_count, job.error_count) == (0, 300, 0)
    assert ContactPoint.objects.filter(kind="email").count() == 300
    for card in cards[::37]:
        assert sorted(card.contacts.values_list("kind", flat=True)) == ["email", "phone"]
        document = SearchEntry.objects.get(client=card).document
        assert document == build_document(card, list(card.contacts.order_by("pk")))


SAME_CLIENT_TWICE = [
    ["ФИО", "Телефон", "E-mail"],
    ["Петров Пётр", "+7 916 111-22-33", ""],
    ["Петров Пётр Петрович", "+7 916 111-22-33", "petrov@mail.ru"],
]


def test_undo_removes_a_card_that_only_the_imports_own_rows_changed(alice, committed, settings):
    settings.KARTOTEKA_IMPORT_BATCH_SIZE = 1
    job = _import(alice, SAME_CLIENT_TWICE, committed)
    assert Client.objects.get().version == 2

    committed(services.import_undo, actor=alice, job=job)

    assert Client.objects.count() == 0
    assert SearchEntry.objects.count() == 0


def test_undo_archives_such_a_card_when_someone_else_changed_it(alice, committed, settings):
    settings.KARTOTEKA_IMPORT_BATCH_SIZE = 1
    job = _import(alice, SAME_CLIENT_TWICE, committed)
    card = Client.objects.get()
    client_services.client_update(
        actor=alice, client=card, expected_version=None, data={"position": "директор"}
    )

    committed(services.import_undo, actor=alice, job=job)

    card.refresh_from_db()
    assert (card.is_archived, card.position) == (True, "директор")
