"""Validation and normalisation of what people type into a card: phones, emails, messengers,
registration numbers. The normalised forms are what search and duplicate checks compare.

Pure functions raising django ValidationError with a code, so forms, the API and imports
report the same message.
"""

import contextlib
import contextvars
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from email_validator import EmailNotValidError, validate_email
from stdnum import exceptions as stdnum_exceptions
from stdnum.cn import uscc
from stdnum.eu import vat as eu_vat
from stdnum.ru import inn as ru_inn
from stdnum.ru import ogrn as ru_ogrn
from stdnum.ua import edrpou as ua_edrpou
from stdnum.ua import rntrc as ua_rntrc

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

_DIGITS = re.compile(r"\D+")


def digits(value: str) -> str:
    return _DIGITS.sub("", value or "")


# A region for numbers without a country code that holds for one piece of work (an import of
# a Ukrainian file into a Russian installation), set with `phone_region()`.
_REGION: contextvars.ContextVar[str] = contextvars.ContextVar("phone_region", default="")


@contextlib.contextmanager
def phone_region(region: str | None) -> Iterator[None]:
    """Read phones without a country code as numbers of `region` inside the block."""
    token = _REGION.set((region or "").upper())
    try:
        yield
    finally:
        _REGION.reset(token)


def normalize_phone(value: str, region: str | None = None) -> str:
    """'+7 (916) 123-45-67', '8 916 123 45 67' -> '+79161234567' (E.164)."""
    region = region or _REGION.get() or settings.KARTOTEKA_PHONE_REGION
    raw = (value or "").strip()
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            _("“%(value)s” is not a phone number."), code="invalid_phone", params={"value": value}
        ) from exc
    if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("“%(value)s” is not a valid phone number. Add the country code, e.g. +7, +380, +86."),
            code="invalid_phone",
            params={"value": value},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    """'+79161234567' -> '+7 916 123-45-67' for display."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def normalize_email(value: str) -> str:
    """Validate the syntax (no DNS look-up: the CRM must work offline) and lowercase it."""
    try:
        result = validate_email((value or "").strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError(
            _("“%(value)s” is not a valid email address."),
            code="invalid_email",
            params={"value": value},
        ) from exc
    return result.normalized.lower()


_HANDLE = re.compile(r"^@?[A-Za-z0-9_.\-]{3,64}$")


def normalize_messenger(kind: str, value: str) -> str:
    """Telegram/WeChat handles lowercased without '@'; WhatsApp/Viber numbers to E.164."""
    raw = (value or "").strip()
    if kind in {"whatsapp", "viber"}:
        return normalize_phone(raw)
    if kind == "telegram" and raw.startswith("+"):
        return normalize_phone(raw)
    raw = raw.removeprefix("https://t.me/").removeprefix("t.me/")
    if not _HANDLE.match(raw):
        raise ValidationError(
            _("“%(value)s” is not a valid user name."),
            code="invalid_handle",
            params={"value": value},
        )
    return raw.lstrip("@").lower()


def _stdnum_check(module: Any, value: str, message: "StrOrPromise", code: str) -> str:
    compact = module.compact(value)
    try:
        module.validate(compact)
    except stdnum_exceptions.ValidationError as exc:
        raise ValidationError(message, code=code, params={"value": value}) from exc
    return compact


def validate_inn(value: str) -> str:
    """Russian INN: 10 digits (organisation) or 12 (person, entrepreneur), checksum verified."""
    return _stdnum_check(
        ru_inn,
        value,
        _(
            "“%(value)s” is not a valid INN: it must have 10 or 12 "
            "digits with a correct check digit."
        ),
        "invalid_inn",
    )


def validate_kpp(value: str) -> str:
    """Russian KPP: 9 characters, 4 digits of tax office, 2 of reason (digits or A-Z), 3 digits."""
    compact = re.sub(r"\s", "", value or "").upper()
    if not re.fullmatch(r"\d{4}[\dA-Z]{2}\d{3}", compact):
        raise ValidationError(
            _("“%(value)s” is not a valid KPP: it must have 9 characters."),
            code="invalid_kpp",
            params={"value": value},
        )
    return compact


def validate_ogrn(value: str) -> str:
    """Russian OGRN (13 digits) or OGRNIP (15 digits), checksum verified."""
    return _stdnum_check(
        ru_ogrn,
        value,
        _(
            "“%(value)s” is not a valid OGRN/OGRNIP: it must have "
            "13 or 15 digits with a correct check digit."
        ),
        "invalid_ogrn",
    )


def validate_edrpou(value: str) -> str:
    """Ukrainian EDRPOU code of a legal entity: 8 digits, checksum verified."""
    return _stdnum_check(
        ua_edrpou,
        value,
        _(
            "“%(value)s” is not a valid EDRPOU code: it must have"
            " 8 digits with a correct check digit."
        ),
        "invalid_edrpou",
    )


def validate_rnokpp(value: str) -> str:
    """Ukrainian RNOKPP (individual tax number): 10 digits, checksum verified."""
    return _stdnum_check(
        ua_rntrc,
        value,
        _("“%(value)s” is not a valid RNOKPP: it must have 10 digits with a correct check digit."),
        "invalid_rnokpp",
    )


def validate_uscc(value: str) -> str:
    """Chinese unified social credit code: 18 characters, checksum verified."""
    return _stdnum_check(
        uscc,
        value,
        _(
            "“%(value)s” is not a valid unified social credit code: it "
            "must have 18 characters with a correct check character."
        ),
        "invalid_uscc",
    )


def validate_vat(value: str) -> str:
    """EU VAT number with its country prefix (DE123456789), checksum verified."""
    return _stdnum_check(
        eu_vat, value, _("“%(value)s” is not a valid EU VAT number."), "invalid_vat"
    )


# field name on Client -> validator. Shared by model clean(), search and duplicate checks.
REGISTRATION_VALIDATORS = {
    "inn": validate_inn,
    "kpp": validate_kpp,
    "ogrn": validate_ogrn,
    "edrpou": validate_edrpou,
    "rnokpp": validate_rnokpp,
    "uscc": validate_uscc,
    "vat_number": validate_vat,
}
# KPP identifies a branch, not a client, so it never marks a duplicate.
DUPLICATE_REGISTRATION_FIELDS = ["inn", "ogrn", "edrpou", "rnokpp", "uscc", "vat_number"]
