"""A labelled evaluation set for the duplicate scan: a realistic multilingual base (the demo
generator: ru, uk, zh, en people and companies) into which duplicates of every kind the issue
lists, and decoys that must not be paired, are injected. The truth is kept aside (never in
the database) and compared with the scan's queue: precision, recall, F1, overall and per kind.
"""

import datetime
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from kartoteka.clients.demo import CardGenerator, CardSpec, ContactSpec
from kartoteka.clients.normalize import normalize_email, normalize_phone

DUPLICATE_KINDS = [
    "phone_format",
    "other_phone",
    "missing_phone",
    "email_case",
    "name_typo",
    "swapped_order",
    "transliteration",
    "pinyin",
    "legal_form",
    "registration_number",
]
DECOY_KINDS = ["family", "employee"]

# Passport-style transliteration (ICAO 9303), deliberately not Unidecode's: the matcher must
# meet spellings it did not produce itself.
_ICAO = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "ie", "ы": "y", "ь": "", "э": "e", "ю": "iu", "я": "ia", "і": "i",
    "ї": "i", "є": "ie", "ґ": "g", "'": "", "’": "",
}  # fmt: skip
_LATIN_FORMS = ["LLC", "Ltd.", "Co., Ltd.", "Inc."]


def icao(value: str) -> str:
    text = "".join(_ICAO.get(ch, ch) for ch in value.lower())
    return text[:1].upper() + text[1:]


def pinyin_name(value: str, spaced: bool) -> str:
    from pypinyin import lazy_pinyin

    syllables = lazy_pinyin(value)
    text = " ".join(syllables) if spaced else "".join(syllables)
    return text.title() if spaced else text.capitalize()


@dataclass
class Truth:
    """Pairs of generated cards by position in the stream (position + first id = card id)."""

    duplicates: list[tuple[int, int, str]] = field(default_factory=list)
    decoys: list[tuple[int, int, str]] = field(default_factory=list)


def _copy(spec: CardSpec, key: int) -> CardSpec:
    contacts = [
        ContactSpec(c.kind, c.value, c.normalized, c.label, c.is_primary) for c in spec.contacts
    ]
    return CardSpec(key, dict(spec.fields), contacts, [], spec.employer_key)


def _phones(spec: CardSpec) -> list[ContactSpec]:
    return [c for c in spec.contacts if c.kind == "phone"]


def _without(spec: CardSpec, *kinds: str) -> None:
    spec.contacts = [c for c in spec.contacts if c.kind not in kinds]
    _primaries(spec)


def _primaries(spec: CardSpec) -> None:
    seen = set()
    for contact in spec.contacts:
        contact.is_primary = contact.kind not in seen
        seen.add(contact.kind)


class EvaluationSet:
    """Card specs with injected duplicates and decoys; `truth` fills while specs are drawn."""

    def __init__(self, generator: CardGenerator, *, seed: int = 7, share: float = 0.06) -> None:
        self.generator = generator
        self.random = random.Random(seed)
        self.share = share
        self.truth = Truth()
        self.key = 10**9  # keys of injected specs, apart from the generator's

    def _locale(self, spec: CardSpec) -> str:
        phones = _phones(spec)
        number = phones[0].normalized if phones else ""
        for prefix, locale in (("+7", "ru_RU"), ("+380", "uk_UA"), ("+86", "zh_CN")):
            if number.startswith(prefix):
                return locale
        return "en_US"

    def specs(self, count: int) -> Iterator[CardSpec]:
        """`count` specs in all, about `share` of them injected duplicates and decoys."""
        position = 0
        base = self.generator.generate(count)
        while position < count:
            spec = next(base)
            yield spec
            original = position
            position += 1
            if position >= count or self.random.random() >= self.share:
                continue
            injected = self._inject(spec)
            if injected is None:
                continue
            kind, extra, is_decoy = injected
            yield extra
            pair = (original, position, kind)
            (self.truth.decoys if is_decoy else self.truth.duplicates).append(pair)
            position += 1

    def _inject(self, spec: CardSpec) -> tuple[str, CardSpec, bool] | None:
        r = self.random
        self.key += 1
        copy = _copy(spec, self.key)
        locale = self._locale(spec)
        if spec.fields["kind"] == "company":
            if r.random() < 0.3:
                return "employee", self._employee(spec, locale), True
            registered = any(spec.fields.get(n) for n in ("inn", "edrpou", "uscc"))
            kind = r.choice(["legal_form", "registration_number"]) if registered else "legal_form"
            maker = self._legal_form if kind == "legal_form" else self._registration
            return kind, maker(copy, locale), False
        if r.random() < 0.25:
            return "family", self._family(spec, locale), True
        choices = ["phone_format", "name_typo", "swapped_order"]
        if any(c.kind == "email" for c in spec.contacts) or spec.fields.get("birth_date"):
            choices += ["other_phone", "missing_phone"]
        if any(c.kind == "email" for c in spec.contacts):
            choices.append("email_case")
        if locale in ("ru_RU", "uk_UA"):
            choices += ["transliteration", "transliteration"]
        if locale == "zh_CN":
            choices += ["pinyin", "pinyin"]
        kind = r.choice(choices)
        return kind, getattr(self, "_" + kind)(copy, locale), False

    # -- duplicates of a person --

    def _phone_format(self, spec: CardSpec, locale: str) -> CardSpec:
        for phone in _phones(spec):
            digits = phone.normalized
            if digits.startswith("+7"):
                n = digits[2:]
                phone.value = f"8 ({n[:3]}) {n[3:6]}-{n[6:8]}-{n[8:]}"
            elif digits.startswith("+380"):
                n = digits[4:]
                phone.value = f"0{n[:2]} {n[2:5]} {n[5:7]} {n[7:]}"
            else:
                phone.value = f"00{digits[1:]}"
            # what the services store: the typed form normalised
            phone.normalized = normalize_phone(phone.value, "RU" if locale == "ru_RU" else "UA")
        _without(spec, "email", "telegram", "wechat", "viber", "whatsapp")
        spec.fields["middle_name"] = ""
        return spec

    def _other_phone(self, spec: CardSpec, locale: str) -> CardSpec:
        _without(spec, "phone", "viber", "whatsapp", "telegram", "wechat", "address")
        display, e164 = self.generator.phone(locale)
        spec.contacts.insert(0, ContactSpec("phone", display, e164, "mobile", True))
        _primaries(spec)
        return spec

    def _missing_phone(self, spec: CardSpec, locale: str) -> CardSpec:
        _without(spec, "phone", "viber", "whatsapp", "telegram", "wechat", "address")
        return spec

    def _email_case(self, spec: CardSpec, locale: str) -> CardSpec:
        _without(spec, "phone", "viber", "whatsapp", "telegram", "wechat")
        for contact in spec.contacts:
            if contact.kind == "email":
                local, domain = contact.value.split("@")
                contact.value = f"{local.title()}@{domain.upper()}"
                contact.normalized = normalize_email(contact.value)
        spec.fields["birth_date"] = None
        return spec

    def _name_typo(self, spec: CardSpec, locale: str) -> CardSpec:
        r = self.random
        name = "last_name" if r.random() < 0.5 else "first_name"
        value = spec.fields[name]
        if len(value) >= 4:
            i = r.randrange(1, len(value) - 1)
            how = r.random()
            if how < 0.4:
                value = value[:i] + value[i + 1 :]  # a letter dropped
            elif how < 0.7:
                value = value[:i] + value[i] + value[i:]  # a letter doubled
            else:
                value = value[: i - 1] + value[i] + value[i - 1] + value[i + 1 :]  # swapped
        spec.fields[name] = value
        _without(spec, "email", "telegram", "wechat")
        return spec

    def _swapped_order(self, spec: CardSpec, locale: str) -> CardSpec:
        f = spec.fields
        f["last_name"], f["first_name"] = f["first_name"], f["last_name"]
        _without(spec, "email", "telegram", "wechat")
        return spec

    def _transliteration(self, spec: CardSpec, locale: str) -> CardSpec:
        f = spec.fields
        f["last_name"], f["first_name"] = icao(f["last_name"]), icao(f["first_name"])
        f["middle_name"] = ""
        _without(spec, "telegram", "viber", "address")
        if self.random.random() < 0.5:
            _without(spec, "email")
        return spec

    def _pinyin(self, spec: CardSpec, locale: str) -> CardSpec:
        f = spec.fields
        spaced = self.random.random() < 0.3
        last, first = pinyin_name(f["last_name"], False), pinyin_name(f["first_name"], spaced)
        if self.random.random() < 0.4:  # Western order, as many Chinese clients write it
            last, first = first, last
        f["last_name"], f["first_name"] = last, first
        _without(spec, "wechat", "address")
        return spec

    # -- duplicates of a company --

    def _legal_form(self, spec: CardSpec, locale: str) -> CardSpec:
        f = spec.fields
        short = f.get("short_name") or f["legal_name"]
        if locale in ("ru_RU", "uk_UA") and not short.startswith("ИП"):
            variant = self.random.choice(["latin", "no_quotes", "form_after"])
            if variant == "latin":
                f["legal_name"] = f"{icao(short)} {self.random.choice(_LATIN_FORMS)}"
            elif variant == "no_quotes":
                f["legal_name"] = f["legal_name"].replace("«", "").replace("»", "")
            else:
                form = f["legal_name"].split(" ", 1)[0]
                f["legal_name"] = f"{short} {form}"
        elif locale == "zh_CN":
            f["legal_name"] = short + "有限公司"
        else:
            f["legal_name"] = f"{short} {self.random.choice(_LATIN_FORMS)}"
        f["short_name"] = ""
        for name in ("inn", "kpp", "ogrn", "edrpou", "uscc"):
            f[name] = ""
        _without(spec, "email", "address")
        return spec

    def _registration(self, spec: CardSpec, locale: str) -> CardSpec:
        f = spec.fields
        f["legal_name"] = icao(f.get("short_name") or f["legal_name"])
        f["short_name"] = ""
        f["kpp"] = ""
        display, e164 = self.generator.phone(locale)
        spec.contacts = [ContactSpec("phone", display, e164, "office", True)]
        return spec

    # -- decoys --

    def _family(self, spec: CardSpec, locale: str) -> CardSpec:
        """A relative: same surname, phone and address, another given name and birth date."""
        r = self.random
        pool = self.generator.pools[locale]
        f = dict(spec.fields)
        names = (
            pool.first_male if spec.fields["first_name"] in pool.first_male else (pool.first_female)
        )
        others = [n for n in names if n != f["first_name"]]
        f["first_name"] = r.choice(others)
        if f.get("birth_date"):
            # A parent or an older sibling (days, not .replace(year=): 29 February).
            f["birth_date"] -= datetime.timedelta(days=r.randrange(2 * 365, 30 * 365))
        self.key += 1
        contacts = [
            ContactSpec(c.kind, c.value, c.normalized, c.label, c.is_primary)
            for c in spec.contacts
            if c.kind in ("phone", "address")
        ]
        return CardSpec(self.key, f, contacts, [], None)

    def _employee(self, spec: CardSpec, locale: str) -> CardSpec:
        """A person at the company: its office phone and city; for an entrepreneur (ИП), the
        entrepreneur's own name."""
        r = self.random
        pool = self.generator.pools[locale]
        f: dict[str, Any] = {
            k: v
            for k, v in spec.fields.items()
            if k
            in (
                "status",
                "team_id",
                "responsible_id",
                "created_by_id",
                "created_at",
                "updated_at",
            )
        }
        legal = spec.fields["legal_name"]
        if legal.startswith("ИП "):
            _ip, last, first, *middle = legal.split()
            f.update(last_name=last, first_name=first, middle_name=" ".join(middle))
        else:
            f.update(last_name=r.choice(pool.last_male), first_name=r.choice(pool.first_male))
        f.update(kind="person", position=r.choice(pool.jobs) if pool.jobs else "")
        self.key += 1
        contacts = [
            ContactSpec(c.kind, c.value, c.normalized, c.label, c.is_primary)
            for c in spec.contacts
            if c.kind == "phone"
        ][:1]
        return CardSpec(self.key, f, contacts, [], spec.key)


def measure(truth: Truth, first_pk: int, found: set[tuple[int, int]]) -> dict[str, Any]:
    """Precision, recall and F1 of `found` pairs (card ids) against the truth."""

    def ids(a: int, b: int) -> tuple[int, int]:
        return (first_pk + a, first_pk + b)

    truth_pairs = {ids(a, b): kind for a, b, kind in truth.duplicates}
    tp = sum(1 for pair in found if pair in truth_pairs)
    precision = tp / len(found) if found else 1.0
    recall = tp / len(truth_pairs) if truth_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    per_kind = {}
    for kind in DUPLICATE_KINDS:
        pairs = [p for p, k in truth_pairs.items() if k == kind]
        hit = sum(1 for p in pairs if p in found)
        per_kind[kind] = {
            "injected": len(pairs),
            "found": hit,
            "recall": round(hit / len(pairs), 4) if pairs else None,
        }
    decoys = {}
    for kind in DECOY_KINDS:
        pairs = [ids(a, b) for a, b, k in truth.decoys if k == kind]
        paired = sum(1 for p in pairs if p in found)
        decoys[kind] = {"injected": len(pairs), "paired_wrongly": paired}
    decoy_pairs = {ids(a, b) for a, b, _kind in truth.decoys}
    wrong = sorted(p for p in found if p not in truth_pairs)
    return {
        "false_positive_sample": [[a, b, (a, b) in decoy_pairs] for a, b in wrong[:20]],
        "missed_sample": sorted(p for p in truth_pairs if p not in found)[:20],
        "found": len(found),
        "true_positives": tp,
        "false_positives": len(found) - tp,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "per_kind": per_kind,
        "decoys": decoys,
    }


def evaluate_in_memory(count: int, *, seed: int = 1, share: float = 0.06) -> dict[str, Any]:
    """The matcher alone on `count` generated cards, without a database: the cards go from the
    generator straight into matching.Card, so the figures are the blocking and scoring cost
    (CPU seconds of this process) and their F1, at sizes a shared machine cannot load into a
    database in time."""
    import time

    from kartoteka.clients.demo import Staff
    from kartoteka.dedupe import matching

    generator = CardGenerator(staff=Staff(teams={1: [1]}), seed=seed)
    evaluation = EvaluationSet(generator, seed=seed, share=share)
    specs = list(evaluation.specs(count))
    started, cpu = time.perf_counter(), time.process_time()
    cards = {}
    for position, spec in enumerate(specs, start=1):
        row = dict(spec.fields, pk=position)
        contacts = [(c.kind, c.normalized) for c in spec.contacts]
        cards[position] = matching.card_from_row(row, contacts)
    built = time.process_time() - cpu
    pairs, stats = matching.candidate_pairs(cards)
    found = set()
    for a, b in pairs:
        if matching.score(cards[a], cards[b])[0] >= matching.THRESHOLD:
            found.add((a, b))
    figures = measure(evaluation.truth, 1, found)
    figures.update(
        cards=len(specs),
        pairs_compared=stats["pairs"],
        matcher_seconds=round(time.perf_counter() - started, 1),
        matcher_cpu_seconds=round(time.process_time() - cpu, 1),
        cards_built_cpu_seconds=round(built, 1),
    )
    return figures
