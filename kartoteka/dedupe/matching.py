"""Finding cards that describe the same client: blocking keys, then pairwise scoring.

Pure Python, no database: `scan.py` feeds it rows, the create/edit warning feeds it one card.

1. Each card becomes a `Card` of comparable forms: phones (E.164), emails (lower case),
   registration numbers, given name / surname / patronymic as loose Latin skeletons
   (Cyrillic transliterated, Chinese as pinyin, then `search.text.skeleton` so Yuliya, Iuliia
   and Юлия meet), a company's name without its legal form (ООО, ТОВ, LLC, GmbH, 有限公司 ...),
   city and address.
2. `blocking_keys` gives the keys under which two cards may meet: a shared phone, the last 7
   digits of a phone, an email, a registration number, the sorted name skeleton (so swapped
   order and other scripts meet), the company's core name. Only cards sharing a key are ever
   compared, which is what keeps a million cards affordable.
3. `score` weighs the evidence of one pair into 0..1 with reasons. Negative evidence caps the
   score, so family members (same surname, phone and city; different given names or birth
   dates), companies with different registration numbers and branches (same INN, different
   KPP) stay apart. A person and a company are never compared: an employee is not their
   employer.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.utils.translation import gettext_noop
from pypinyin import lazy_pinyin
from rapidfuzz.distance import OSA, Indel
from rapidfuzz.fuzz import token_sort_ratio
from unidecode import unidecode

from kartoteka.core.messages import Message
from kartoteka.search.text import has_cjk, skeleton

# A pair scoring at least this is put in the review queue (and counted as found by the
# evaluation). Chosen on the evaluation set (docs/performance.md, "Duplicates").
THRESHOLD = 0.7

PERSON_REGISTRATION = ("inn", "rnokpp")
COMPANY_REGISTRATION = ("inn", "ogrn", "edrpou", "uscc", "vat_number")

# A key shared by more cards than this is not a sign of one client (a shop's phone on 300
# cards, the name "Wang Wei"): its cards are compared only through their other keys.
MAX_BLOCK = 40
# Company name blocks larger than this are skipped: namesakes are common, and a name with an
# address never reaches the threshold anyway (person name blocks are split by birth date).
MAX_NAME_BLOCK = 12

_NOT_LETTER = re.compile(r"[^a-z]+")
_NOT_WORD = re.compile(r"[^\w]+")
_QUOTES = re.compile(r"[«»\"'“”„‘’`]")

# Legal forms, written in any of the scripts the CRM serves, and their transliterations.
LEGAL_FORMS = frozenset(
    {
        # Russian
        "ооо",
        "оао",
        "зао",
        "пао",
        "ао",
        "нао",
        "ип",
        "нко",
        "ано",
        "фгуп",
        "муп",
        "гуп",
        "общество",
        "с",
        "ограниченной",
        "ответственностью",
        "акционерное",
        "публичное",
        "индивидуальный",
        "предприниматель",
        # Ukrainian
        "тов",
        "пп",
        "прат",
        "пат",
        "ват",
        "зат",
        "фоп",
        "дп",
        "тзов",
        "товариство",
        "обмеженою",
        "відповідальністю",
        # Latin
        "llc",
        "ltd",
        "limited",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "gmbh",
        "ag",
        "kg",
        "ohg",
        "ug",
        "sa",
        "sarl",
        "sas",
        "bv",
        "nv",
        "plc",
        "llp",
        "lp",
        "oy",
        "ab",
        "as",
        "spa",
        "srl",
        "sp",
        "zoo",
        "kft",
        "sro",
        # transliterated Cyrillic forms (Romashka OOO, TOV Dnipro)
        "ooo",
        "oao",
        "zao",
        "pao",
        "ao",
        "ip",
        "tov",
        "pp",
        "prat",
        "pat",
        "fop",
    }
)
_CJK_LEGAL_SUFFIXES = (
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "集团公司",
    "集团",
    "公司",
    "股份",
)
# A Chinese company's legal name often starts with its city or province (北京市, 上海).
_CJK_PLACE_PREFIX = re.compile(r"^[\u4e00-\u9fff]{2,3}[市省]")
_CITY_PREFIX = re.compile(r"^(г|м|с|пгт|смт|город|місто)\.?\s+", re.IGNORECASE)


@lru_cache(maxsize=262144)
def latin(value: str) -> str:
    """`value` in lower-case Latin letters only: pinyin for Chinese, transliteration else."""
    if not value:
        return ""
    text = "".join(lazy_pinyin(value)) if has_cjk(value) else unidecode(value)
    return _NOT_LETTER.sub("", text.lower())


@lru_cache(maxsize=262144)
def name_part(value: str) -> str:
    """One name field as a loose Latin skeleton: 'Юлия', 'Yuliya' and 'Iuliia' agree."""
    text = latin(value.strip())
    return skeleton(text) if text else ""


@lru_cache(maxsize=65536)
def company_core(name: str) -> str:
    """A company name without legal form, quotes and punctuation, as a Latin skeleton.

    'ООО «Ромашка»', 'Romashka LLC' and 'ТОВ "Ромашка"' all give 'romaska'.
    """
    text = _QUOTES.sub(" ", name or "").strip()
    if has_cjk(text):
        text = _CJK_PLACE_PREFIX.sub("", text.replace(" ", ""))
        for suffix in _CJK_LEGAL_SUFFIXES:
            text = text.removesuffix(suffix)
        return name_part(text)
    tokens = [t for t in _NOT_WORD.split(text.lower()) if t]
    kept = [t for t in tokens if t not in LEGAL_FORMS and latin(t) not in LEGAL_FORMS]
    return " ".join(p for p in (name_part(t) for t in (kept or tokens)) if p)


@lru_cache(maxsize=65536)
def city_of(address: str) -> str:
    """The first part of an address ('г. Москва, ул. ...' -> 'moskva'), as a skeleton."""
    first = (address or "").split(",")[0].strip()
    first = _CITY_PREFIX.sub("", first)
    return name_part(first.replace(" ", "")) if first else ""


def _host(url: str) -> str:
    host = re.sub(r"^[a-z]+://", "", (url or "").strip().lower()).split("/")[0]
    return host.removeprefix("www.")


@dataclass(slots=True)
class Card:
    """What the matcher compares of one card (built once per card by `card_from_row`)."""

    pk: int
    kind: str
    label: str = ""
    last: str = ""
    first: str = ""
    middle: str = ""
    names: tuple[str, ...] = ()  # company: core names (short, legal)
    birth_date: datetime.date | str | None = None  # the scan keeps ISO text
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    registration: dict[str, str] = field(default_factory=dict)
    kpp: str = ""
    cities: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    website: str = ""

    @property
    def is_company(self) -> bool:
        return self.kind == "company"

    def name_key(self) -> str:
        """Sorted name skeleton: the same for swapped order and for any script."""
        if self.is_company:
            return ""
        return " ".join(sorted(p for p in (self.last, self.first) if p))


def card_from_row(row: Mapping[str, Any], contacts: Iterable[tuple[str, str]] = ()) -> Card:
    """A `Card` from a card's field values (names as on Client) and its (kind, normalized)
    contacts."""
    phones: list[str] = []
    emails: list[str] = []
    addresses: list[str] = []
    for kind, normalized in contacts:
        if not normalized:
            continue
        if kind in ("phone", "whatsapp", "viber"):
            phones.append(normalized)
        elif kind == "email":
            emails.append(normalized)
        elif kind == "address":
            addresses.append(normalized)
    kind = row.get("kind") or "person"
    card = Card(pk=row.get("pk") or row.get("id") or 0, kind=kind)
    card.phones = tuple(dict.fromkeys(phones))
    card.emails = tuple(dict.fromkeys(emails))
    registration_fields = COMPANY_REGISTRATION if kind == "company" else PERSON_REGISTRATION
    card.registration = {f: row[f] for f in registration_fields if row.get(f)}
    if kind == "company":
        legal, short = row.get("legal_name") or "", row.get("short_name") or ""
        card.label = short or legal
        card.names = tuple(
            dict.fromkeys(n for n in (company_core(short), company_core(legal)) if n)
        )
        card.kpp = row.get("kpp") or ""
        card.website = _host(row.get("website") or "")
        if row.get("legal_address"):
            addresses.append(" ".join(str(row["legal_address"]).lower().split()))
    else:
        card.last = name_part(row.get("last_name") or "")
        card.first = name_part(row.get("first_name") or "")
        card.middle = name_part(row.get("middle_name") or "")
        card.birth_date = row.get("birth_date")
    card.addresses = tuple(dict.fromkeys(addresses))
    card.cities = tuple(dict.fromkeys(c for c in (city_of(a) for a in addresses) if c))
    return card


# --- Blocking ----------------------------------------------------------------------------------


def blocking_keys(card: Card) -> Iterator[str]:
    """The keys under which `card` meets others; each starts with its family ('p:', 'e:' ...)."""
    kind = "c" if card.is_company else "h"
    for phone in card.phones:
        yield f"p:{phone}"
        if len(phone) > 8:
            yield f"t:{phone[-7:]}"
    for email in card.emails:
        yield f"e:{email}"
    for name, value in card.registration.items():
        yield f"r:{kind}:{name}:{value}"
    if card.website:
        yield f"w:{card.website}"
    if card.is_company:
        for core in card.names:
            yield f"n:c:{' '.join(sorted(core.split()))}"
    else:
        key = " ".join(sorted(p for p in (card.last, card.first) if p))
        if key:
            yield f"n:h:{key}"


def _pairs_of(members: Sequence[int]) -> Iterator[tuple[int, int]]:
    ordered = sorted(members)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            yield a, b


def candidate_pairs(cards: Mapping[int, Card]) -> tuple[set[tuple[int, int]], dict[str, int]]:
    """Every pair of cards (smaller pk first) sharing a usable blocking key, and statistics.

    Blocks larger than MAX_BLOCK are skipped; name blocks larger than MAX_NAME_BLOCK are split
    by birth date (a name shared by many is not evidence by itself).
    """
    # Most keys belong to one card only: they hold the bare pk, and a list is made only for
    # a key met twice (3.5 million keys at a million cards: half the time of the blocking).
    seen: dict[str, int | list[int]] = {}
    for card in cards.values():
        pk = card.pk
        for key in blocking_keys(card):
            members = seen.get(key)
            if members is None:
                seen[key] = pk
            elif type(members) is int:
                seen[key] = [members, pk]
            else:
                members.append(pk)  # type: ignore[union-attr]
    blocks = {key: members for key, members in seen.items() if type(members) is list}
    return pairs_from_blocks(blocks, cards)  # type: ignore[arg-type]


def pairs_from_blocks(
    blocks: Mapping[str, list[int]], cards: Mapping[int, Card]
) -> tuple[set[tuple[int, int]], dict[str, int]]:
    """Pairs of the given blocks (see `candidate_pairs`)."""
    pairs: set[tuple[int, int]] = set()
    stats = {"blocks": 0, "skipped_blocks": 0, "split_blocks": 0}
    for key, members in blocks.items():
        if len(members) < 2:
            continue
        stats["blocks"] += 1
        groups: Iterable[Sequence[int]]
        if key.startswith("n:h:"):
            # Two people sharing only a name (and at most a city) score at most 0.6, below
            # the threshold: a name pays off only with the same birth date, so the block is
            # split by it without losing a pair. Every other shared value (phone, email,
            # number) meets through its own key.
            stats["split_blocks"] += 1
            by_date: dict[datetime.date | str, list[int]] = {}
            for pk in members:
                born = cards[pk].birth_date
                if born is not None:
                    by_date.setdefault(born, []).append(pk)
            groups = [g for g in by_date.values() if 1 < len(g) <= MAX_BLOCK]
        elif key.startswith("n:c:") and len(members) > MAX_NAME_BLOCK:
            # Likewise a company name with at most an address stays below the threshold.
            stats["skipped_blocks"] += 1
            continue
        elif len(members) > MAX_BLOCK:
            stats["skipped_blocks"] += 1
            continue
        else:
            groups = [members]
        for group in groups:
            for a, b in _pairs_of(group):
                if cards[a].kind == cards[b].kind:
                    pairs.add((a, b))
    stats["pairs"] = len(pairs)
    return pairs, stats


# --- Scoring -----------------------------------------------------------------------------------

# A reason is a tuple: (code, *values). `reason_message` turns it into a translatable Message;
# scoring millions of pairs builds Messages only for the pairs that are kept.
Reason = tuple[Any, ...]


def _ratio(a: str, b: str) -> float:
    return float(Indel.normalized_similarity(a, b)) * 100


def _person_names(a: Card, b: Card) -> tuple[float | None, float | None, bool]:
    """(surname similarity, given-name similarity, swapped) under the better alignment."""
    straight = (
        _ratio(a.last, b.last) if a.last and b.last else None,
        _ratio(a.first, b.first) if a.first and b.first else None,
    )
    crossed = (
        _ratio(a.last, b.first) if a.last and b.first else None,
        _ratio(a.first, b.last) if a.first and b.last else None,
    )
    if sum(x or 0 for x in crossed) > sum(x or 0 for x in straight) + 1:
        return crossed[0], crossed[1], True
    return straight[0], straight[1], False


def _one_typo(a: Card, b: Card, swapped: bool) -> bool:
    """Do the given names differ by at most one typo (a letter dropped, added, changed, or
    two neighbours swapped)?"""
    other = b.last if swapped else b.first
    return int(OSA.distance(a.first, other)) <= 1


def _shared(a: Sequence[str], b: Sequence[str]) -> str | None:
    for value in a:
        if value in b:
            return value
    return None


def _common_evidence(a: Card, b: Card, reasons: list[Reason]) -> float:
    """Contacts and places: the evidence persons and companies share."""
    points = 0.0
    phone = _shared(a.phones, b.phones)
    if phone:
        points += 0.3
        reasons.append(("phone", phone))
    else:
        tails_a = {p[-7:] for p in a.phones if len(p) > 8}
        tail = next((p[-7:] for p in b.phones if len(p) > 8 and p[-7:] in tails_a), None)
        if tail:
            points += 0.1
            reasons.append(("phone_tail", tail))
    email = _shared(a.emails, b.emails)
    if email:
        points += 0.4 if not a.is_company else 0.35
        reasons.append(("email", email))
    if _shared(a.addresses, b.addresses):
        points += 0.1
        reasons.append(("address",))
    elif _shared(a.cities, b.cities):
        points += 0.05
        reasons.append(("city",))
    return points


def _registration(a: Card, b: Card, reasons: list[Reason]) -> tuple[float, float]:
    """(points, cap) from registration numbers: the same number is strong; a different
    number of the same kind means two different legal persons."""
    points, cap = 0.0, 1.0
    for name, value in a.registration.items():
        other = b.registration.get(name)
        if not other:
            continue
        if other == value:
            points = 0.75
            reasons.append(("registration", name, value))
        else:
            cap = min(cap, 0.2)
            reasons.append(("registration_differs", name))
    return points, cap


def _score_person(a: Card, b: Card, reasons: list[Reason]) -> float:
    last, first, swapped = _person_names(a, b)
    known = [x for x in (last, first) if x is not None]
    name_sim = sum(known) / len(known) if known else 0.0
    points, cap = _registration(a, b, reasons)
    if name_sim >= 92:
        points += 0.5
        reasons.append(("names_swapped",) if swapped else ("names_same",))
    elif name_sim >= 80:
        points += 0.4
        reasons.append(("names_similar", round(name_sim)))
    elif name_sim >= 65:
        points += 0.2
        reasons.append(("names_similar", round(name_sim)))
    points += _common_evidence(a, b, reasons)
    if a.birth_date and b.birth_date:
        if a.birth_date == b.birth_date:
            points += 0.35
            reasons.append(("birth_same", a.birth_date))
        else:
            cap = min(cap, 0.35)
            reasons.append(("birth_differs",))
    if first is not None and first < 85 and not _one_typo(a, b, swapped):
        # Ираида and Зинаида are two sisters; Жанна and Жнна one woman and a typo.
        cap = min(cap, 0.3)
        reasons.append(("given_differs",))
    if a.middle and b.middle and _ratio(a.middle, b.middle) < 75:
        cap = min(cap, 0.4)
        reasons.append(("middle_differs",))
    return min(points, cap)


def _score_company(a: Card, b: Card, reasons: list[Reason]) -> float:
    name_sim = 0.0
    for x in a.names:
        for y in b.names:
            name_sim = max(name_sim, float(token_sort_ratio(x, y)))
    points, cap = _registration(a, b, reasons)
    if a.kpp and b.kpp and a.kpp != b.kpp and any(r[0] == "registration" for r in reasons):
        # Same INN, another KPP: a branch of the same company, kept as its own card.
        cap = min(cap, 0.5)
        reasons.append(("kpp_differs",))
    if name_sim >= 90:
        points += 0.45
        reasons.append(("names_same",))
    elif name_sim >= 80:
        points += 0.35
        reasons.append(("names_similar", round(name_sim)))
    points += _common_evidence(a, b, reasons)
    if a.website and a.website == b.website:
        points += 0.3
        reasons.append(("website", a.website))
    return min(points, cap)


def score(a: Card, b: Card) -> tuple[float, list[Reason]]:
    """How likely `a` and `b` are one client, 0..1, and why. Different kinds score 0."""
    reasons: list[Reason] = []
    if a.kind != b.kind:
        return 0.0, [("kinds_differ",)]
    value = _score_company(a, b, reasons) if a.is_company else _score_person(a, b, reasons)
    return round(max(0.0, min(value, 1.0)), 2), reasons


# --- Reasons as messages -----------------------------------------------------------------------

_REGISTRATION_LABELS = {
    "inn": gettext_noop("INN"),
    "ogrn": gettext_noop("OGRN / OGRNIP"),
    "edrpou": gettext_noop("EDRPOU"),
    "rnokpp": gettext_noop("RNOKPP"),
    "uscc": gettext_noop("unified social credit code"),
    "vat_number": gettext_noop("EU VAT number"),
}
_MESSAGES = {
    "phone": gettext_noop("Same phone %(value)s"),
    "phone_tail": gettext_noop("Phones end in the same digits %(value)s"),
    "email": gettext_noop("Same email %(value)s"),
    "address": gettext_noop("Same address"),
    "city": gettext_noop("Same city"),
    "website": gettext_noop("Same website %(value)s"),
    "registration": gettext_noop("Same %(field)s %(value)s"),
    "registration_differs": gettext_noop("Different %(field)s"),
    "kpp_differs": gettext_noop("Different KPP: a branch, not a duplicate"),
    "names_same": gettext_noop("Same name"),
    "names_swapped": gettext_noop("Same name, in another order"),
    "names_similar": gettext_noop("Names %(percent)s%% alike"),
    "birth_same": gettext_noop("Same birth date %(date)s"),
    "birth_differs": gettext_noop("Different birth dates"),
    "given_differs": gettext_noop("Different given names"),
    "middle_differs": gettext_noop("Different patronymics"),
    "kinds_differ": gettext_noop("A person and a company"),
}


def reason_message(reason: Reason) -> Message:
    """The translatable message of one reason tuple."""
    code, *values = reason
    msgid = _MESSAGES[code]
    if code in ("registration", "registration_differs"):
        params: dict[str, Any] = {"field": Message(_REGISTRATION_LABELS[values[0]])}
        if code == "registration":
            params["value"] = values[1]
        return Message(msgid, params)
    if code == "names_similar":
        return Message(msgid, {"percent": values[0]})
    if code == "birth_same":
        born = values[0]
        if isinstance(born, str):  # the scan reads dates as ISO text
            born = datetime.date.fromisoformat(born)
        return Message(msgid, {"date": born})
    if values:
        return Message(msgid, {"value": values[0]})
    return Message(msgid)


def reasons_json(reasons: Iterable[Reason]) -> list[dict[str, Any]]:
    """Reasons as stored on a candidate: msgid and parameters, translated when shown."""
    return [reason_message(r).to_json() for r in reasons]
