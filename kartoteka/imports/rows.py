"""One file row -> one card as it will be saved, or the reasons it cannot be.

Validation is the card's own: every value goes through the Client model field's `clean`
(types, lengths, choices), `Client.clean` (names, registration numbers by checksum,
country) and `ContactPoint.clean` (phones to E.164, emails, messengers), the same code the
forms and the API reach through `clients.services`. Only parsing is import-specific:
splitting full names, dates in local formats, kind and status in four languages. Where the
same validators are called more cheaply (one phone parse, values cached), test_equivalence
holds the results to the card's own code.

Pure computation without database access, so it runs in worker processes; for a run that
writes it also builds the new card's rows (CardPayload), which the writer only inserts.
"""

import datetime
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import translation
from django.utils.translation import gettext as _

from kartoteka.clients.models import Client, ContactPoint
from kartoteka.clients.normalize import DUPLICATE_REGISTRATION_FIELDS, phone_region
from kartoteka.core.changelog import snapshot
from kartoteka.imports.mapping import CONTACT_TARGETS
from kartoteka.search.indexing import document_parts, phone_forms

# Targets that are Client fields as they are.
DIRECT_FIELDS = (
    "last_name", "first_name", "middle_name", "legal_name", "short_name", "status", "position",
    "birth_date", "inn", "kpp", "ogrn", "edrpou", "rnokpp", "uscc", "vat_number", "country",
    "industry", "website", "legal_address", "source", "interests", "notes",
)  # fmt: skip
PERSON_NAME_FIELDS = ("last_name", "first_name", "middle_name")
COMPANY_NAME_FIELDS = ("legal_name", "short_name")

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_PATRONYMIC = re.compile(r"(вич|вна|ична|інична|ьич|оглы|кызы|огли|кизи)$", re.IGNORECASE)
# Two-character Chinese surnames; every other surname is one character.
_CN_COMPOUND = (
    "欧阳司马诸葛上官东方皇甫慕容司徒夏侯令狐尉迟公孙长孙宇文轩辕端木独孤"
    "南宫西门呼延百里东郭澹台公冶太史申屠闻人万俟赫连钟离宗政濮阳淳于单于"
)
_CN_COMPOUND_SURNAMES = frozenset(_CN_COMPOUND[i : i + 2] for i in range(0, len(_CN_COMPOUND), 2))


@lru_cache(maxsize=65536)
def split_full_name(value: str) -> tuple[str, str, str]:
    """(surname, given name, patronymic or middle name) from a name in one cell.

    Chinese: 王小明 -> 王, 小明 (two-character surnames known). Cyrillic: surname first, as in
    lists and paperwork (Иванов Иван Иванович), unless the second word is a patronymic
    (Иван Иванович Иванов). Latin: given name first (John A. Smith), or "Smith, John".
    """
    text = " ".join(value.split())
    if not text:
        return "", "", ""
    if _CJK.search(text):
        compact = text.replace(" ", "")
        if " " in text:
            surname, _sep, given = text.partition(" ")
            return surname, given.replace(" ", ""), ""
        if compact[:2] in _CN_COMPOUND_SURNAMES and len(compact) > 2:
            return compact[:2], compact[2:], ""
        if len(compact) == 1:
            return compact, "", ""
        return compact[:1], compact[1:], ""
    if "," in text:
        surname, _sep, rest = (p.strip() for p in text.partition(","))
        given, _sep, middle = rest.partition(" ")
        return surname, given, middle.strip()
    words = text.split(" ")
    cyrillic = bool(re.search(r"[\u0400-\u04ff]", text))
    if len(words) == 1:
        return (words[0], "", "") if cyrillic else ("", words[0], "")
    if cyrillic:
        if len(words) >= 3 and _PATRONYMIC.search(words[1]) and not _PATRONYMIC.search(words[2]):
            return " ".join(words[2:]), words[0], words[1]
        if len(words) == 2:
            return words[0], words[1], ""
        return words[0], words[1], " ".join(words[2:])
    if len(words) == 2:
        return words[1], words[0], ""
    return words[-1], words[0], " ".join(words[1:-1])


_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y/%m/%d", "%d.%m.%y", "%Y.%m.%d", "%Y%m%d")
_CN_DATE = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$")


@lru_cache(maxsize=65536)
def parse_date(value: str) -> str | None:
    """A date in a format people use (ISO, 31.12.1980, 31/12/1980, 1980年12月31日) as ISO."""
    text = value.strip().split(" ")[0] if "年" not in value else value.strip()
    match = _CN_DATE.match(text)
    if match:
        text = "{}-{:0>2}-{:0>2}".format(*match.groups())
    for fmt in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date().isoformat()  # noqa: DTZ007
        except ValueError:
            continue
    return None


_KIND_WORDS = {
    "company": (
        "company", "organization", "organisation", "legal entity", "компания", "организация",
        "юрлицо", "юр лицо", "юридическое лицо", "юл", "компанія", "організація",
        "юридична особа", "公司", "企业", "法人", "单位",
    ),
    "person": (
        "person", "individual", "private", "физлицо", "физ лицо", "физическое лицо", "фл",
        "человек", "клиент", "фізична особа", "фізособа", "особа", "个人", "自然人",
    ),
}  # fmt: skip


@lru_cache(maxsize=1)
def _choice_words() -> tuple[dict[str, str], dict[str, str]]:
    """kind and status words -> value, the labels in every interface language included."""
    kinds = {w: kind for kind, words in _KIND_WORDS.items() for w in words}
    statuses: dict[str, str] = {}
    for code in ("en", "ru", "uk", "zh-hans"):
        with translation.override(code):
            for value, label in Client.Kind.choices:
                kinds.setdefault(str(label).lower(), value)
            for value, label in Client.Status.choices:
                statuses.setdefault(str(label).lower(), value)
    for value in Client.Status.values:
        statuses[value] = value
    for value in Client.Kind.values:
        kinds[value] = value
    return kinds, statuses


@dataclass
class RowOptions:
    """Choices that hold for every row of one import."""

    default_kind: str = Client.Kind.PERSON
    default_status: str = Client.Status.LEAD
    source: str = ""
    phone_region: str = ""  # phones without a country code; "" = KARTOTEKA_PHONE_REGION


@dataclass
class RowError:
    column: int | None
    header: str
    value: str
    message: str
    code: str


@dataclass(frozen=True)
class CardDefaults:
    """What every new card of one run gets besides its row: assignment and author."""

    responsible_id: int | None = None
    team_id: int | None = None
    created_by_id: int | None = None


@dataclass
class CardPayload:
    """A new card's rows, as client_create would write them, minus what only the writer
    knows: `values` are the clients_client columns (CLIENT_COLUMNS) as the database driver
    takes them, with id, number, created_at and updated_at left None; `document` the search
    document's parts after the card number (search.indexing.document_parts); `label` the
    card's name for the change log's object_repr ("" = "#number"); `after` the "create"
    change-log entry's data as the JSON text Django would store."""

    values: list[Any]
    document: list[str]
    label: str
    after: str


@dataclass
class PreparedRow:
    """One row, validated: the card's field values (derived names included), contacts as
    (kind, value, normalized, label, is_primary), tags and match keys. `errors` non-empty
    means the row is not imported.

    For a run that writes (a preparer with `CardDefaults`), also what the card's rows will
    hold, computed where the row is validated so the writing process only inserts (see
    `CardPayload`); None after the writer merged another row into this one."""

    row: int
    errors: list[RowError] = field(default_factory=list)
    kind: str = Client.Kind.PERSON
    fields: dict[str, Any] = field(default_factory=dict)
    contacts: list[tuple[str, str, str, str, bool]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    card_number: int | None = None
    payload: CardPayload | None = None
    keys: list[tuple[str, str]] | None = None  # the writer's match keys (engine.row_keys)

    @property
    def registration_keys(self) -> list[tuple[str, str]]:
        return [
            (name, self.fields[name])
            for name in DUPLICATE_REGISTRATION_FIELDS
            if self.fields.get(name)
        ]

    @property
    def contact_keys(self) -> list[tuple[str, str]]:
        return [(k, n) for k, _v, n, _l, _p in self.contacts if k in ("phone", "email")]


class _Contact:
    """What ContactPoint.clean and build_document read of a contact, without the cost of
    a model instance (a third of the time per row at a million rows)."""

    __slots__ = ("kind", "normalized", "value")
    Kind = ContactPoint.Kind

    def __init__(self, kind: str, value: str = "", normalized: str = "") -> None:
        self.kind = kind
        self.value = value
        self.normalized = normalized


_VALUE_FIELD = ContactPoint._meta.get_field("value")
_E164 = phonenumbers.PhoneNumberFormat.E164
_INTERNATIONAL = phonenumbers.PhoneNumberFormat.INTERNATIONAL


def _valid_phone(value: str, region: str) -> tuple[str, str, list[str]] | None:
    """A valid phone's (value as stored, E.164, search forms) with one parse, or None.

    ContactPoint.clean runs normalize_phone (parse, possible and valid checks, E.164) and
    then format_phone (E.164 parsed again, international format); the search document
    parses it a third time. Here the number is parsed once: the E.164 form comes from the
    same calls as in normalize_phone, and the second and third parse are replaced by the
    number as parsing its E.164 form gives it (country code and national significant
    number, no extension). tests/test_equivalence.py holds both paths equal over every
    region's example numbers. Anything that is not a valid number returns None, and the
    caller takes ContactPoint.clean's own path, which words the error.
    """
    raw = value.strip()
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
        return None
    e164 = phonenumbers.format_number(number, _E164)
    canonical = phonenumbers.PhoneNumber(
        country_code=number.country_code,
        national_number=number.national_number,
        italian_leading_zero=number.italian_leading_zero,
        number_of_leading_zeros=number.number_of_leading_zeros,
    )
    return phonenumbers.format_number(canonical, _INTERNATIONAL), e164, phone_forms(e164, canonical)


@lru_cache(maxsize=100_000)
def _clean_contact(
    kind: str, value: str, region: str
) -> tuple[str, str, list[str] | None] | ValidationError:
    """(value as stored, normalised value, search forms of a phone or None) as
    ContactPoint's own clean() and its value field's validators make them, or the error;
    phones without a country code read as numbers of `region` (never "": the preparer
    puts in the installation's). Cached: phones and emails repeat across a file."""
    if kind == ContactPoint.Kind.PHONE and value.strip():
        found = _valid_phone(value, region)
        if found is not None:
            try:
                _VALUE_FIELD.run_validators(found[0])
            except ValidationError as exc:
                return exc
            return found
    contact = _Contact(kind, value)
    try:
        with phone_region(region):
            ContactPoint.clean(contact)  # type: ignore[arg-type]
        _VALUE_FIELD.run_validators(contact.value)
    except ValidationError as exc:
        return exc
    return contact.value, contact.normalized, None


def _messages(exc: ValidationError) -> list[tuple[str, str]]:
    """(message, code) pairs of an error, rendered in the active language."""
    if hasattr(exc, "error_dict"):
        errors = [e for field_errors in exc.error_dict.values() for e in field_errors]
    else:
        errors = exc.error_list
    result = []
    for error in errors:
        message = error.message % error.params if error.params else error.message
        result.append((str(message), error.code or "invalid"))
    return result


_LIST_SPLIT = re.compile(r"[,;\n]+")
_CLIENT_FIELDS = {f.name: f for f in Client._meta.concrete_fields}


class RowPreparer:
    """Turns rows of one file into PreparedRow objects with one mapping and one set of options."""

    def __init__(
        self,
        header: list[str],
        mapping: dict[int, str],
        options: RowOptions,
        defaults: CardDefaults | None = None,
    ) -> None:
        """`defaults` given: a run that writes, whose rows carry their CardPayload."""
        from kartoteka.clients.services import _derive

        # phonenumbers compiles its metadata's patterns through the re module's cache of
        # 512, which the patterns of four countries and the other validators overflow:
        # keeping them (phonenumbers' own switch) takes a fifth off every phone's check.
        phonenumbers.enable_pattern_cache()

        self.header = header
        self.mapping = sorted(mapping.items())
        self.options = options
        self.defaults = defaults
        self.region = options.phone_region.upper() or settings.KARTOTEKA_PHONE_REGION
        self.derive = _derive
        self.kinds, self.statuses = _choice_words()
        self._phone_forms: dict[str, list[str]] = {}
        self._blank_client = Client(
            status=options.default_status,
            responsible_id=defaults.responsible_id if defaults else None,
            team_id=defaults.team_id if defaults else None,
            created_by_id=defaults.created_by_id if defaults else None,
        )
        self._blank = {k: v for k, v in self._blank_client.__dict__.items() if k != "_state"}
        name_targets = ("full_name", "last_name", "first_name", "company", "legal_name")
        # Where "the name is missing" is reported when no name cell has a value.
        self.name_column = next((c for c, t in self.mapping if t in name_targets), None)

    def _error(self, row: PreparedRow, column: int | None, value: str, exc: Any, code: str = ""):
        header = self.header[column] if column is not None and column < len(self.header) else ""
        if isinstance(exc, ValidationError):
            for message, error_code in _messages(exc):
                row.errors.append(RowError(column, header, value, message, code or error_code))
        else:
            row.errors.append(RowError(column, header, value, str(exc), code or "invalid"))

    def prepare(self, number: int, cells: list[str]) -> PreparedRow:
        row = PreparedRow(row=number)
        values: dict[str, tuple[int, str]] = {}  # target -> (column, value), single-use
        contacts: list[tuple[int, str, str]] = []
        notes: list[str] = []
        for column, target in self.mapping:
            raw = cells[column].strip() if column < len(cells) else ""
            if not raw:
                continue
            if target in CONTACT_TARGETS:
                parts = [raw] if target == "address" else _LIST_SPLIT.split(raw)
                contacts.extend((column, target, p.strip()) for p in parts if p.strip())
            elif target == "tags":
                row.tags.extend(t.strip()[:64] for t in _LIST_SPLIT.split(raw) if t.strip())
            elif target == "notes":
                notes.append(raw)
                values.setdefault("notes", (column, ""))
            else:
                values.setdefault(target, (column, raw))
        if notes:
            values["notes"] = (values["notes"][0], "\n".join(notes))
        self._card(row, values)
        self._contacts(row, contacts)
        if not row.errors:
            self._finish(row)
        return row

    def _card(self, row: PreparedRow, values: dict[str, tuple[int, str]]) -> None:
        """Kind, names and every field through the model field's own clean()."""
        columns: dict[str, int] = {}
        data: dict[str, str] = {}
        for target, (column, raw) in values.items():
            if target in DIRECT_FIELDS:
                data[target] = raw
                columns[target] = column
        kind = self.options.default_kind
        if "kind" in values:
            column, raw = values["kind"]
            found = self.kinds.get(raw.lower().strip())
            if found is None:
                self._error(row, column, raw, _("Write “person” or “company”."), "invalid_kind")
            else:
                kind = found
        if "full_name" in values and not any(data.get(f) for f in PERSON_NAME_FIELDS):
            column, raw = values["full_name"]
            if kind == Client.Kind.COMPANY or (
                "kind" not in values and "company" not in values and _looks_like_company(raw)
            ):
                data.setdefault("legal_name", raw)
                columns.setdefault("legal_name", column)
                kind = Client.Kind.COMPANY
            else:
                parts = split_full_name(raw)
                for name, part in zip(PERSON_NAME_FIELDS, parts, strict=True):
                    if part:
                        data[name] = part
                        columns[name] = column
        has_person_name = any(data.get(f) for f in PERSON_NAME_FIELDS)
        if "company" in values:
            column, raw = values["company"]
            if kind == Client.Kind.COMPANY or (not has_person_name and "kind" not in values):
                kind = Client.Kind.COMPANY
                data.setdefault("legal_name", raw)
                columns.setdefault("legal_name", column)
            else:
                data["workplace"] = raw
                columns["workplace"] = column
        elif (
            "kind" not in values
            and not has_person_name
            and any(data.get(f) for f in COMPANY_NAME_FIELDS)
        ):
            kind = Client.Kind.COMPANY
        row.kind = kind
        if "number" in values:
            column, raw = values["number"]
            digits = raw.lstrip("#№ ").strip()
            if digits.isdigit() and 0 < int(digits) < 10**15:
                row.card_number = int(digits)
            else:
                self._error(
                    row, column, raw, _("A card number is a whole number."), "invalid_number"
                )
        if "status" in values:
            column, raw = values["status"]
            status = self.statuses.get(raw.lower().strip())
            if status is None:
                self._error(row, column, raw, _("Unknown status."), "invalid_status")
            data["status"] = status or self.options.default_status
        if "birth_date" in data:
            parsed = parse_date(data["birth_date"])
            if parsed is None:
                self._error(
                    row,
                    columns["birth_date"],
                    data["birth_date"],
                    _("Not a date. Write it as 31.12.1980 or 1980-12-31."),
                    "invalid_date",
                )
                del data["birth_date"]
            else:
                data["birth_date"] = parsed
        if self.options.source and "source" not in data:
            data["source"] = self.options.source
        # One instance reset per row: Model.__init__ would be a third of the row's cost.
        client = self._blank_client
        client.__dict__.update(self._blank)
        client.kind = kind
        for name, raw in data.items():
            value, error = _clean_field(name, raw)
            # As in Model.clean_fields, a value that fails stays as it was for clean().
            setattr(client, _CLIENT_FIELDS[name].attname, raw if error else value)
            if error is not None:
                self._error(row, columns.get(name), raw, error)
        try:
            client.clean()
        except ValidationError as exc:
            for name, errors in exc.error_dict.items():
                where = columns.get(name)
                if where is None and name in ("last_name", "legal_name"):
                    where = columns.get("legal_name", columns.get("last_name", self.name_column))
                for error in errors:
                    self._error(row, where, data.get(name, ""), error)
        row.fields = {name: getattr(client, _CLIENT_FIELDS[name].attname) for name in data}
        row.fields["kind"] = kind
        self.derive(client)
        row.fields["display_name"] = client.display_name
        row.fields["sort_name"] = client.sort_name
        self._client = client

    def _contacts(self, row: PreparedRow, contacts: list[tuple[int, str, str]]) -> None:
        seen: set[tuple[str, str]] = set()
        primary: set[str] = set()
        self._phone_forms = {}
        for column, kind, raw in contacts:
            result = _clean_contact(kind, raw[:400], self.region)
            if isinstance(result, ValidationError):
                self._error(row, column, raw, result)
                continue
            value, normalized, forms = result
            if forms is not None:
                self._phone_forms[normalized] = forms
            if (kind, normalized) in seen:
                continue  # the same number in "Phone" and "Mobile": one contact
            seen.add((kind, normalized))
            label = self.header[column][:50] if column < len(self.header) else ""
            is_primary = kind not in primary
            primary.add(kind)
            row.contacts.append((kind, value, normalized, label, is_primary))

    def _finish(self, row: PreparedRow) -> None:
        """What the card's rows will hold, for a run that writes."""
        if self.defaults is not None:
            row.payload = card_payload(self._client, row.contacts, row.tags, self._phone_forms)


@lru_cache(maxsize=65536)
def _clean_field(name: str, raw: str) -> tuple[Any, ValidationError | None]:
    """The Client field's own clean() of a value (its type, length, choices and validators
    depend on the value alone), cached: names, positions and dates repeat in a file."""
    try:
        return _CLIENT_FIELDS[name].clean(raw, None), None
    except ValidationError as exc:
        return None, exc


CLIENT_COLUMNS = [f.column for f in Client._meta.concrete_fields]
_CLIENT_ATTNAMES = [f.attname for f in Client._meta.concrete_fields]
CLIENT_WRITER_FILLS = {
    name: CLIENT_COLUMNS.index(name) for name in ("id", "number", "created_at", "updated_at")
}


@lru_cache(maxsize=1)
def _client_converters() -> tuple[tuple[int, Any], ...]:
    """(column position, converter) for values the database driver cannot take as they are
    (dates, JSON): what the fields' get_db_prep_save would give."""
    result: list[tuple[int, Any]] = []
    for position, model_field in enumerate(Client._meta.concrete_fields):
        internal = model_field.get_internal_type()
        if internal == "DateField":
            result.append((position, connection.ops.adapt_datefield_value))
        elif internal == "JSONField":
            encoder = getattr(model_field, "encoder", None)
            result.append((position, lambda value, encoder=encoder: json.dumps(value, cls=encoder)))
        elif internal == "DateTimeField":
            result.append((position, connection.ops.adapt_datetimefield_value))
    return tuple(result)


def card_payload(
    client: Client,
    contacts: Sequence[tuple[str, str, str, str, bool]],
    tags: Sequence[str],
    known_phone_forms: dict[str, list[str]] | None = None,
) -> CardPayload:
    """The rows of a new card (display and sort names derived, contacts validated) that the
    writer completes with id, number and time."""
    from kartoteka.clients.services import LOG_FIELDS

    values = [getattr(client, name) for name in _CLIENT_ATTNAMES]
    for position, convert in _client_converters():
        if values[position] is not None:
            values[position] = convert(values[position])
    points = [_Contact(kind, value, normalized) for kind, value, normalized, _l, _p in contacts]
    document = document_parts(client, points, known_phone_forms)  # type: ignore[arg-type]
    after = snapshot(client, LOG_FIELDS)
    after["contacts"] = sorted(
        f"{kind}:{value}" + (" *" if primary else "") for kind, value, _n, _l, primary in contacts
    )
    after["tags"] = sorted(set(tags))
    return CardPayload(values, document, client.display_name, json.dumps(after))


def payload_for(row: PreparedRow, defaults: CardDefaults) -> CardPayload:
    """card_payload of a row from its field values (after the writer merged a later row of
    the same client into it)."""
    from kartoteka.clients.services import _derive

    fields = {k: v for k, v in row.fields.items() if k not in ("display_name", "sort_name")}
    fields.setdefault("status", Client.Status.LEAD)
    client = Client(
        responsible_id=defaults.responsible_id,
        team_id=defaults.team_id,
        created_by_id=defaults.created_by_id,
        **fields,
    )
    _derive(client)
    return card_payload(client, row.contacts, row.tags)


_COMPANY_FORMS = re.compile(
    r"(^|\s|\")(ооо|оао|зао|пао|ао|ип|тов|пп|фоп|llc|ltd|inc|gmbh|corp|co\.|有限公司|公司|集团)"
    r"($|\s|\"|\.|,)",
    re.IGNORECASE,
)


@lru_cache(maxsize=65536)
def _looks_like_company(name: str) -> bool:
    """ООО «Ромашка», ТОВ "Світанок", Acme LLC, 华为技术有限公司: a legal form in the name."""
    return bool(_COMPANY_FORMS.search(name.replace("«", '"').replace("»", '"'))) or name.endswith(
        ("有限公司", "公司", "集团")
    )
