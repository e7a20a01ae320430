"""The matcher on small hand-made cards in several scripts: every kind of duplicate the issue
lists is found, every decoy is kept apart."""

import datetime

import pytest
from django.utils import translation

from kartoteka.dedupe import matching
from kartoteka.dedupe.matching import THRESHOLD, candidate_pairs, card_from_row, score

BORN = datetime.date(1980, 5, 17)


def person(pk, last, first, middle="", *, phones=(), emails=(), born=None, address="", **extra):
    contacts = [("phone", p) for p in phones] + [("email", e) for e in emails]
    if address:
        contacts.append(("address", address.lower()))
    row = {"pk": pk, "kind": "person", "last_name": last, "first_name": first}
    row.update(middle_name=middle, birth_date=born, **extra)
    return card_from_row(row, contacts)


def company(pk, legal, short="", *, phones=(), emails=(), address="", **extra):
    contacts = [("phone", p) for p in phones] + [("email", e) for e in emails]
    row = {"pk": pk, "kind": "company", "legal_name": legal, "short_name": short}
    row.update(legal_address=address, **extra)
    return card_from_row(row, contacts)


def found(a, b):
    """Do a and b meet through a blocking key, and score at least the threshold?"""
    pairs, _stats = candidate_pairs({a.pk: a, b.pk: b})
    return (min(a.pk, b.pk), max(a.pk, b.pk)) in pairs and score(a, b)[0] >= THRESHOLD


DUPLICATES = {
    # the service normalises '8 (916) 123-45-67' and '+7 916 123 45 67' to one E.164 form
    "phone_format": (
        person(1, "Иванов", "Иван", "Петрович", phones=["+79161234567"]),
        person(2, "Иванов", "Иван", "", phones=["+79161234567"]),
    ),
    "email_case_other_phone": (
        person(1, "Петрова", "Анна", phones=["+79161234567"], emails=["anna.petrova@mail.ru"]),
        person(2, "Петрова", "Анна", phones=["+79035550000"], emails=["anna.petrova@mail.ru"]),
    ),
    "missing_phone_same_birth_date": (
        person(1, "Коваленко", "Олена", "Іванівна", phones=["+380671234567"], born=BORN),
        person(2, "Коваленко", "Олена", "", born=BORN),
    ),
    "typo": (
        person(1, "Смирнов", "Алексей", phones=["+79161234567"]),
        person(2, "Смирнов", "Алекссей", phones=["+79161234567"]),
    ),
    "swapped_order": (
        person(1, "Сидоров", "Пётр", phones=["+79161234567"]),
        person(2, "Пётр", "Сидоров", phones=["+79161234567"]),
    ),
    "cyrillic_latin": (
        person(1, "Кузнецова", "Юлия", "Сергеевна", phones=["+79161234567"], born=BORN),
        person(2, "Kuznetsova", "Iuliia", born=BORN),
    ),
    "ukrainian_latin": (
        person(1, "Шевчук", "Тарас", phones=["+380501234567"]),
        person(2, "Shevchuk", "Taras", phones=["+380501234567"]),
    ),
    "chinese_pinyin": (
        person(1, "王", "小明", phones=["+8613812345678"]),
        person(2, "Wang", "Xiao Ming", phones=["+8613812345678"]),
    ),
    "chinese_pinyin_swapped": (
        person(1, "李", "伟", emails=["liwei@qq.com"]),
        person(2, "Wei", "Li", emails=["liwei@qq.com"]),
    ),
    "company_legal_form": (
        company(1, "ООО «Ромашка»", "Ромашка", phones=["+74951234567"]),
        company(2, "Romashka LLC", phones=["+74951234567"]),
    ),
    "company_ukrainian_form": (
        company(1, 'ТОВ "Карпати-Агро"', emails=["info@karpaty.com.ua"]),
        company(2, "Карпати-Агро", emails=["info@karpaty.com.ua"]),
    ),
    "company_chinese_form": (
        company(1, "北京市华为技术有限公司", "华为技术", phones=["+861012345678"]),
        company(2, "华为技术有限公司", phones=["+861012345678"]),
    ),
    "company_gmbh": (
        company(1, "Müller Logistik GmbH", website="https://mueller-logistik.de"),
        company(2, "Muller Logistik", website="http://www.mueller-logistik.de/kontakt"),
    ),
    "same_registration_number": (
        company(1, "ООО «Вектор»", inn="7707083893"),
        company(2, "Vektor Trade", inn="7707083893"),
    ),
}


@pytest.mark.parametrize("kind", sorted(DUPLICATES))
def test_duplicate_is_found(kind):
    a, b = DUPLICATES[kind]

    assert found(a, b), score(a, b)


DECOYS = {
    "family_different_given_names": (
        person(
            1,
            "Иванов",
            "Иван",
            "Петрович",
            phones=["+79161234567"],
            address="г. Москва, ул. Ленина, 1",
        ),
        person(
            2,
            "Иванова",
            "Мария",
            "Петровна",
            phones=["+79161234567"],
            address="г. Москва, ул. Ленина, 1",
        ),
    ),
    "father_and_son": (
        person(
            1,
            "Иванов",
            "Иван",
            "Петрович",
            phones=["+79161234567"],
            address="г. Москва, ул. Ленина, 1",
        ),
        person(
            2,
            "Иванов",
            "Иван",
            "Иванович",
            phones=["+79161234567"],
            address="г. Москва, ул. Ленина, 1",
        ),
    ),
    "twins_named_alike_different_birth": (
        person(1, "王", "伟", phones=["+8613812345678"], born=BORN),
        person(2, "王", "伟", phones=["+8613812345678"], born=datetime.date(2010, 1, 2)),
    ),
    "namesakes": (
        person(1, "Wang", "Wei", phones=["+8613812345678"], address="北京市, 长安街 1号"),
        person(2, "Wang", "Wei", phones=["+8613999999999"], address="北京市, 长安街 1号"),
    ),
    "companies_with_different_registration": (
        company(1, "ООО «Альфа»", phones=["+74951234567"], inn="7707083893"),
        company(2, "ООО «Альфа»", phones=["+74951234567"], inn="7728168971"),
    ),
    "branch_same_inn_other_kpp": (
        company(1, "ООО «Альфа»", inn="7707083893", kpp="770701001"),
        company(2, "ООО «Альфа» филиал", inn="7707083893", kpp="781001001"),
    ),
}


@pytest.mark.parametrize("kind", sorted(DECOYS))
def test_decoy_is_not_paired(kind):
    a, b = DECOYS[kind]

    assert not found(a, b), score(a, b)


def test_company_and_its_employee_never_pair():
    employer = company(1, "ИП Петров Пётр Петрович", "ИП Петров", phones=["+79161234567"])
    employee = person(2, "Петров", "Пётр", "Петрович", phones=["+79161234567"])

    pairs, _stats = candidate_pairs({1: employer, 2: employee})

    assert pairs == set()
    assert score(employer, employee)[0] == 0.0


def test_reasons_are_stored_untranslated_and_shown_in_each_language():
    a, b = DUPLICATES["email_case_other_phone"]
    _score, reasons = score(a, b)

    stored = matching.reasons_json(reasons)

    assert {"m": "Same email %(value)s", "p": {"value": "anna.petrova@mail.ru"}} in stored
    assert {"m": "Same name"} in stored
    from kartoteka.core.messages import Message

    with translation.override("en"):
        assert Message.from_json(stored[0]).render() == "Same name"


def test_company_core_strips_legal_forms_in_every_script():
    assert matching.company_core("ООО «Ромашка»") == matching.company_core("Romashka LLC")
    assert matching.company_core('ТОВ "Ромашка"') == matching.company_core("Romashka Ltd.")
    assert matching.company_core("北京市华为技术有限公司") == matching.company_core("华为技术")
    assert matching.company_core("Siemens AG") == matching.company_core("SIEMENS")


def test_large_name_block_is_split_by_birth_date():
    cards = {
        pk: person(pk, "Wang", "Wei", phones=[f"+86138{pk:08d}"], born=BORN if pk < 3 else None)
        for pk in range(1, matching.MAX_NAME_BLOCK + 5)
    }

    pairs, stats = candidate_pairs(cards)

    assert pairs == {(1, 2)}
    assert stats["split_blocks"] == 1
