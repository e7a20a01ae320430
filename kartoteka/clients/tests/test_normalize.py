import pytest
from django.core.exceptions import ValidationError

from kartoteka.clients import normalize


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("+7 (916) 123-45-67", "+79161234567"),
        ("8 916 123 45 67", "+79161234567"),
        ("89161234567", "+79161234567"),
        ("007 916 1234567", "+79161234567"),
        ("+380 67 123 4567", "+380671234567"),
        ("+86 138 0013 8000", "+8613800138000"),
        ("+1 (212) 555-0123", "+12125550123"),
    ],
)
def test_phone_is_normalised_to_e164(typed, expected):
    assert normalize.normalize_phone(typed) == expected


@pytest.mark.parametrize("typed", ["123", "not a phone", "+7 916", ""])
def test_invalid_phone_is_refused_with_code(typed):
    with pytest.raises(ValidationError) as exc:
        normalize.normalize_phone(typed)
    assert exc.value.code == "invalid_phone"


def test_phone_region_setting_reads_local_numbers(settings):
    settings.KARTOTEKA_PHONE_REGION = "UA"

    assert normalize.normalize_phone("067 123 4567") == "+380671234567"


def test_email_is_lowercased_and_validated():
    assert normalize.normalize_email("  Ivan.Petrov@Mail.RU ") == "ivan.petrov@mail.ru"
    with pytest.raises(ValidationError) as exc:
        normalize.normalize_email("ivan@@mail")
    assert exc.value.code == "invalid_email"


@pytest.mark.parametrize(
    ("kind", "typed", "expected"),
    [
        ("telegram", "@Ivan_Petrov", "ivan_petrov"),
        ("telegram", "https://t.me/ivan_petrov", "ivan_petrov"),
        ("wechat", "wxid_Li88", "wxid_li88"),
        ("whatsapp", "8 916 123-45-67", "+79161234567"),
        ("viber", "+380671234567", "+380671234567"),
    ],
)
def test_messenger_handles_are_normalised(kind, typed, expected):
    assert normalize.normalize_messenger(kind, typed) == expected


@pytest.mark.parametrize(
    ("validator", "good", "bad", "code"),
    [
        (normalize.validate_inn, "7707083893", "7707083894", "invalid_inn"),
        (normalize.validate_inn, "500100732259", "500100732250", "invalid_inn"),
        (normalize.validate_ogrn, "1027700132195", "1027700132196", "invalid_ogrn"),
        (normalize.validate_ogrn, "304500116000157", "304500116000158", "invalid_ogrn"),
        (normalize.validate_kpp, "773601001", "77360100", "invalid_kpp"),
        (normalize.validate_edrpou, "32855961", "32855962", "invalid_edrpou"),
        (normalize.validate_rnokpp, "1759013776", "1759013770", "invalid_rnokpp"),
        (normalize.validate_uscc, "91110000600037341L", "91110000600037341M", "invalid_uscc"),
        (normalize.validate_vat, "DE136695976", "DE136695970", "invalid_vat"),
    ],
)
def test_registration_numbers_are_checked_by_checksum(validator, good, bad, code):
    assert validator(" " + good + " ") == good

    with pytest.raises(ValidationError) as exc:
        validator(bad)
    assert exc.value.code == code
