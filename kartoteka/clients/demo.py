"""Realistic demo cards in four locales, for `kartoteka demo`, first start and the benchmark.

`CardGenerator` makes card specifications (people and companies from Russia, Ukraine, China
and the USA, with valid phones, emails, messengers and registration numbers whose check
digits follow python-stdnum's algorithms). Faker fills pools of names, jobs and addresses
once; cards are then combined from the pools with a seeded `random.Random`, which is what
makes a million cards affordable.

Two ways to write them:
- `cards_create_through_services`: one `client_create` per card (full validation, change log,
  duplicate checks). Slow, exact.
- `cards_bulk_create`: the same rows the services would write (derived names, normalised
  contacts, search documents from `search.indexing.build_document`), inserted in batches
  with `executemany` inside transactions. For loading an otherwise idle database: demo data
  and the benchmark's million cards.
"""

import datetime
import itertools
import multiprocessing
import random
import secrets
import string
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from faker import Faker
from pypinyin import lazy_pinyin
from unidecode import unidecode

from kartoteka.accounts.models import Team, User
from kartoteka.accounts.services import team_get_or_create, user_create
from kartoteka.clients.models import CardNumberCounter, Client, ContactPoint
from kartoteka.core.bulk import fts_trigger_sql, insert_rows
from kartoteka.core.changelog import snapshot
from kartoteka.core.context import current_channel, current_request_id
from kartoteka.core.models import ObjectChange, Tag
from kartoteka.search.indexing import build_document
from kartoteka.search.models import SearchEntry

LOCALE_WEIGHTS: dict[str, int] = {"ru_RU": 45, "uk_UA": 20, "zh_CN": 20, "en_US": 15}
COUNTRIES = {"ru_RU": "RU", "uk_UA": "UA", "zh_CN": "CN", "en_US": "US"}

DEMO_TEAMS = ["Москва", "Київ", "Shanghai"]
# username, first name, last name, role, team index
DEMO_STAFF = [
    ("smirnova", "Елена", "Смирнова", User.Role.MANAGER, 0),
    ("kuznetsov", "Андрей", "Кузнецов", User.Role.EMPLOYEE, 0),
    ("orlova", "Мария", "Орлова", User.Role.EMPLOYEE, 0),
    ("bondarenko", "Олена", "Бондаренко", User.Role.MANAGER, 1),
    ("shevchuk", "Тарас", "Шевчук", User.Role.EMPLOYEE, 1),
    ("wang.fang", "芳", "王", User.Role.MANAGER, 2),
    ("li.wei", "伟", "李", User.Role.EMPLOYEE, 2),
    ("miller", "Kate", "Miller", User.Role.EMPLOYEE, 2),
]
DEMO_TAGS = [
    "VIP",
    "опт",
    "розница",
    "партнёр",
    "рассылка",
    "B2B",
    "постоянный",
    "重要",
    "newsletter",
]

STATUS_WEIGHTS = {"lead": 30, "active": 45, "key": 8, "inactive": 17}
SOURCES = {
    "ru_RU": ["сайт", "рекомендация", "выставка", "холодный звонок", "Яндекс.Директ", "Telegram"],
    "uk_UA": ["сайт", "рекомендація", "виставка", "Instagram", "Prom.ua"],
    "zh_CN": ["网站", "推荐", "展会", "微信", "广交会"],
    "en_US": ["website", "referral", "trade show", "LinkedIn", "cold call"],
}
INTERESTS = {
    "ru_RU": ["рыбалка", "теннис", "театр", "горные лыжи", "вино", "шахматы", "путешествия"],
    "uk_UA": ["футбол", "велоспорт", "кава", "риболовля", "музика", "подорожі"],
    "zh_CN": ["茶道", "书法", "高尔夫", "旅游", "摄影", "羽毛球"],
    "en_US": ["golf", "sailing", "jazz", "hiking", "craft beer", "baseball"],
}
ROLES_AT_COMPANY = {
    "ru_RU": ["ЛПР", "бухгалтер", "закупки", "секретарь", "технический специалист"],
    "uk_UA": ["ЛПР", "бухгалтер", "закупівлі", "юрист"],
    "zh_CN": ["决策人", "财务", "采购", "助理"],
    "en_US": ["decision maker", "accounts payable", "procurement", "assistant"],
}
INDUSTRIES = {
    "ru_RU": ["оптовая торговля", "строительство", "логистика", "IT", "производство", "HoReCa"],
    "uk_UA": ["агробізнес", "IT", "роздрібна торгівля", "логістика", "будівництво"],
    "zh_CN": ["电子制造", "进出口贸易", "物流", "纺织", "软件"],
    "en_US": ["software", "retail", "logistics", "manufacturing", "healthcare"],
}
CITIES = {
    "ru_RU": ["г. Москва", "г. Санкт-Петербург", "г. Екатеринбург", "г. Казань", "г. Новосибирск"],
    "uk_UA": ["м. Київ", "м. Львів", "м. Одеса", "м. Дніпро", "м. Харків"],
    "zh_CN": ["北京市", "上海市", "深圳市", "杭州市", "广州市"],
    "en_US": ["New York, NY", "Chicago, IL", "Austin, TX", "Seattle, WA", "Boston, MA"],
}
BRAND_ROOTS = {
    "ru_RU": ["Альфа", "Вектор", "Гранит", "Сибирь", "Техно", "Нева", "Урал", "Волга", "Север"],
    "uk_UA": ["Дніпро", "Карпати", "Поділля", "Галич", "Слобода", "Світанок", "Оберіг", "Десна"],
}
BRAND_SUFFIXES = {
    "ru_RU": ["Трейд", "Сервис", "Строй", "Пром", "Снаб", "Групп", "Инвест", "Софт", "Агро"],
    "uk_UA": ["Трейд", "Сервіс", "Буд", "Агро", "Пром", "Логістик", "Софт"],
}
EMAIL_DOMAINS = {
    "ru_RU": ["mail.ru", "yandex.ru", "gmail.com", "bk.ru", "inbox.ru", "rambler.ru"],
    "uk_UA": ["ukr.net", "gmail.com", "i.ua", "meta.ua"],
    "zh_CN": ["qq.com", "163.com", "126.com", "sina.com"],
    "en_US": ["gmail.com", "yahoo.com", "outlook.com", "icloud.com"],
}
TLD = {"ru_RU": "ru", "uk_UA": "com.ua", "zh_CN": "cn", "en_US": "com"}

# Prefixes phonenumbers accepts as valid (checked in clients/tests/test_demo.py).
RU_MOBILE = [
    *range(900, 930),
    *(950, 951, 952, 953, 958),
    *range(960, 970),
    977,
    978,
    *range(980, 990),
    991,
    992,
    993,
    994,
    995,
    996,
    999,
]
RU_LANDLINE = [495, 499, 812, 343, 383, 846, 843]
UA_MOBILE = [50, 63, 66, 67, 68, 73, 93, 95, 96, 97, 98, 99]
CN_MOBILE = [*range(130, 140), 150, 151, 152, 153, 155, 156, 157, 158, 159, *range(180, 190)]
US_AREA = [212, 213, 312, 415, 617, 646, 718, 202, 305, 404, 512, 702, 206, 917, 650, 310, 773]

RU_REGIONS = ["77", "78", "50", "66", "16", "54", "23", "63", "52", "02"]
CN_REGIONS = ["110000", "310000", "440300", "330100", "440100", "320500", "510100"]
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


# --- Registration numbers (the algorithms of python-stdnum) ---------------------------------


def ru_inn_company(body: str) -> str:
    """10-digit INN of an organisation from its first nine digits."""
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    return body + str(sum(w * int(d) for w, d in zip(weights, body, strict=True)) % 11 % 10)


def ru_inn_person(body: str) -> str:
    """12-digit INN of a person or entrepreneur from its first ten digits."""
    weights1 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
    first = str(sum(w * int(d) for w, d in zip(weights1, body, strict=True)) % 11 % 10)
    weights2 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
    second = str(sum(w * int(d) for w, d in zip(weights2, body + first, strict=True)) % 11 % 10)
    return body + first + second


def ru_ogrn(body: str) -> str:
    """13-digit OGRN from its first twelve digits."""
    return body + str(int(body) % 11 % 10)


def ru_ogrnip(body: str) -> str | None:
    """15-digit OGRNIP from its first fourteen digits; None when the remainder is two digits
    (the law takes its last digit, python-stdnum refuses such numbers, so they are avoided)."""
    remainder = int(body) % 13
    return body + str(remainder) if remainder < 10 else None


def ua_edrpou(body: str) -> str:
    """8-digit EDRPOU code from its first seven digits."""
    weights = [1, 2, 3, 4, 5, 6, 7] if body[0] not in "345" else [7, 1, 2, 3, 4, 5, 6]
    total = sum(w * int(d) for w, d in zip(weights, body, strict=True))
    if total % 11 < 10:
        return body + str(total % 11)
    total = sum((w + 2) * int(d) for w, d in zip(weights, body, strict=True))
    return body + str(total % 11 % 10)


def cn_uscc(body: str) -> str:
    """18-character unified social credit code from its first seventeen characters."""
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(body, weights, strict=True))
    return body + USCC_ALPHABET[(31 - total) % 31]


# --- Card specifications --------------------------------------------------------------------


@dataclass
class ContactSpec:
    kind: str
    value: str
    normalized: str
    label: str = ""
    is_primary: bool = False


@dataclass
class CardSpec:
    """One generated card: model field values (foreign keys as *_id), contacts and tags.

    `key` numbers the specs of one generator; `employer_key` is the key of the company the
    person works at (a company always comes before its people).
    """

    key: int
    fields: dict[str, Any]
    contacts: list[ContactSpec]
    tags: list[str] = field(default_factory=list)
    employer_key: int | None = None


@dataclass
class Staff:
    """Who cards are assigned to: team id -> member user ids (the first is the manager)."""

    teams: dict[int, list[int]]
    password: str | None = None  # set only when the demo users were created just now


def _tidy(contacts: list[ContactSpec]) -> list[ContactSpec]:
    """What the services would store: no contact twice (a second phone drawn equal to the
    first), exactly one primary contact of each kind."""
    unique: dict[tuple[str, str], ContactSpec] = {}
    for contact in contacts:
        unique.setdefault((contact.kind, contact.normalized), contact)
    result = list(unique.values())
    primary_kinds: set[str] = set()
    for contact in result:
        if contact.is_primary and contact.kind in primary_kinds:
            contact.is_primary = False
        elif contact.is_primary:
            primary_kinds.add(contact.kind)
    for contact in result:
        if contact.kind not in primary_kinds:
            contact.is_primary = True
            primary_kinds.add(contact.kind)
    return result


def _ascii_slug(value: str) -> str:
    latin = unidecode(value).lower()
    return "".join(c for c in latin if c in string.ascii_lowercase + string.digits)


@lru_cache(maxsize=8192)
def _latin(value: str) -> str:
    """A Latin spelling for emails and handles: pinyin for Chinese, transliteration otherwise."""
    if any("\u3400" <= c <= "\u9fff" for c in value):
        return _ascii_slug("".join(lazy_pinyin(value)))
    return _ascii_slug(value)


class _Pools:
    """Faker output for one locale, drawn once: combining from pools is ~100x faster."""

    def __init__(self, locale: str, seed: int, size: int) -> None:
        fake = Faker(locale)
        fake.seed_instance(seed)

        def draw(method: str, count: int = size) -> list[str]:
            func = getattr(fake, method, None)
            if func is None:
                return []
            return sorted({func() for _ in range(count)})

        self.last_male = draw("last_name_male") or draw("last_name")
        self.last_female = draw("last_name_female") or self.last_male
        self.first_male = draw("first_name_male")
        self.first_female = draw("first_name_female")
        self.middle_male = draw("middle_name_male") if locale in ("ru_RU", "uk_UA") else []
        self.middle_female = draw("middle_name_female") if locale in ("ru_RU", "uk_UA") else []
        self.jobs = [j[:150] for j in draw("job")]
        self.streets = draw("street_address")
        self.companies = draw("company")


class CardGenerator:
    """Seeded generator of realistic card specifications in several locales."""

    def __init__(
        self,
        *,
        staff: Staff,
        seed: int = 0,
        locales: dict[str, int] | None = None,
        start: datetime.datetime | None = None,
        end: datetime.datetime | None = None,
        company_share: float = 0.25,
        pool_size: int = 600,
    ) -> None:
        self.random = random.Random(seed)
        self.locales = locales or dict(LOCALE_WEIGHTS)
        unknown = set(self.locales) - set(LOCALE_WEIGHTS)
        if unknown:
            raise ValueError(f"Unsupported locales: {', '.join(sorted(unknown))}")
        self.pools = {loc: _Pools(loc, seed, pool_size) for loc in self.locales}
        self.staff = staff
        self.team_ids = sorted(staff.teams)
        self.end = end or timezone.now()
        self.start = start or self.end - datetime.timedelta(days=3 * 365)
        self.company_share = company_share
        self._companies: dict[str, list[int]] = {loc: [] for loc in self.locales}
        self._generated = 0
        self._locale_list = list(self.locales)
        self._locale_cum = list(itertools.accumulate(self.locales.values()))
        self._status_list = list(STATUS_WEIGHTS)
        self._status_cum = list(itertools.accumulate(STATUS_WEIGHTS.values()))

    # -- helpers --

    def _pick_locale(self) -> str:
        return self.random.choices(self._locale_list, cum_weights=self._locale_cum)[0]

    def _digits(self, count: int) -> str:
        return "".join(self.random.choice(string.digits) for _ in range(count))

    def phone(self, locale: str, *, landline: bool = False) -> tuple[str, str]:
        """A valid number of the locale's country: (international display form, E.164).

        The display form is what `normalize.format_phone` gives, written directly because
        phonenumbers' formatter would be a third of the generation time.
        """
        r = self.random
        if locale == "ru_RU":
            code = r.choice(RU_LANDLINE if landline else RU_MOBILE)
            rest = str(r.randrange(2000000, 10000000))
            return f"+7 {code} {rest[:3]}-{rest[3:5]}-{rest[5:]}", f"+7{code}{rest}"
        if locale == "uk_UA":
            # Ukrainian offices get mobiles: Kyiv landlines have a variable-length area code.
            code = r.choice(UA_MOBILE)
            rest = str(r.randrange(2000000, 10000000))
            return f"+380 {code} {rest[:3]} {rest[3:]}", f"+380{code}{rest}"
        if locale == "zh_CN":
            code = r.choice(CN_MOBILE)
            rest = str(r.randrange(10000000, 100000000))
            return f"+86 {code} {rest[:4]} {rest[4:]}", f"+86{code}{rest}"
        area = r.choice(US_AREA)
        exchange = r.randrange(200, 1000)
        while exchange % 100 == 11 or exchange == 555:
            exchange = r.randrange(200, 1000)
        line = f"{r.randrange(0, 10000):04d}"
        return f"+1 {area}-{exchange}-{line}", f"+1{area}{exchange}{line}"

    def _phone_contact(self, locale: str, label: str, *, landline: bool = False) -> ContactSpec:
        display, e164 = self.phone(locale, landline=landline)
        return ContactSpec("phone", display, e164, label)

    def _moment(self, index: int, count: int) -> datetime.datetime:
        """Creation times spread over the period, growing with the card number."""
        span = (self.end - self.start).total_seconds()
        offset = span * (index + self.random.random()) / max(count, 1)
        return self.start + datetime.timedelta(seconds=min(offset, span - 1))

    def _assignment(self) -> tuple[int | None, int | None]:
        if not self.team_ids or self.random.random() < 0.04:
            return None, None
        team_id = self.random.choice(self.team_ids)
        members = self.staff.teams[team_id]
        responsible = self.random.choice(members) if self.random.random() < 0.92 else None
        return team_id, responsible

    def _common(self, locale: str, index: int, count: int) -> dict[str, Any]:
        r = self.random
        created = self._moment(index, count)
        updated = created + (self.end - created) * r.random() * r.random()
        actualized = None
        if r.random() < 0.6:
            actualized = created + (self.end - created) * r.random()
        team_id, responsible_id = self._assignment()
        return {
            "status": r.choices(self._status_list, cum_weights=self._status_cum)[0],
            "team_id": team_id,
            "responsible_id": responsible_id,
            "created_by_id": responsible_id,
            "source": r.choice(SOURCES[locale]) if r.random() < 0.7 else "",
            "created_at": created,
            "updated_at": max(updated, actualized or updated),
            "actualized_at": actualized,
            "actualized_by_id": responsible_id if actualized else None,
        }

    def _tags(self) -> list[str]:
        r = self.random.random()
        if r < 0.55:
            return []
        return self.random.sample(DEMO_TAGS, 1 if r < 0.85 else 2)

    def _email(self, locale: str, first: str, last: str) -> ContactSpec:
        r = self.random
        domain = r.choice(EMAIL_DOMAINS[locale])
        if domain == "qq.com":
            local = str(r.randrange(10**7, 10**10))
        else:
            first_latin, last_latin = _latin(first) or "user", _latin(last) or "mail"
            style = r.random()
            if style < 0.4:
                local = f"{first_latin}.{last_latin}"
            elif style < 0.7:
                local = f"{first_latin[0]}{last_latin}{r.randrange(1, 100)}"
            else:
                local = f"{last_latin}{r.randrange(1950, 2010)}"
            if r.random() < 0.6:
                local += str(r.randrange(1, 1000))
        address = f"{local}@{domain}".lower()
        return ContactSpec("email", address, address, "personal")

    # -- cards --

    def person(self, locale: str, key: int, index: int, count: int) -> CardSpec:
        r = self.random
        pool = self.pools[locale]
        male = r.random() < 0.5
        last = r.choice(pool.last_male if male else pool.last_female)
        first = r.choice(pool.first_male if male else pool.first_female)
        middle_pool = pool.middle_male if male else pool.middle_female
        middle = r.choice(middle_pool) if middle_pool and r.random() < 0.9 else ""
        fields = self._common(locale, index, count)
        fields.update(
            kind="person",
            last_name=last,
            first_name=first,
            middle_name=middle,
            family_status=r.choice(["", "", "single", "married", "married", "divorced"]),
            interests=", ".join(r.sample(INTERESTS[locale], r.randrange(0, 3))),
        )
        if r.random() < 0.7:
            age_days = r.randrange(18 * 365, 75 * 365)
            fields["birth_date"] = (self.end - datetime.timedelta(days=age_days)).date()
        employer_key = None
        companies = self._companies[locale]
        if companies and r.random() < 0.3:
            employer_key = r.choice(companies[-200:])
            fields["position"] = r.choice(pool.jobs)
            if r.random() < 0.5:
                fields["company_role"] = r.choice(ROLES_AT_COMPANY[locale])
        elif r.random() < 0.5:
            fields["position"] = r.choice(pool.jobs)
        contacts = [self._phone_contact(locale, "mobile")]
        contacts[0].is_primary = True
        if r.random() < 0.15:
            contacts.append(self._phone_contact(locale, "home"))
        if r.random() < 0.65:
            email = self._email(locale, first, last)
            email.is_primary = True
            contacts.append(email)
        mobile = contacts[0].normalized
        if locale in ("ru_RU", "uk_UA") and r.random() < 0.35:
            contacts.append(ContactSpec("telegram", "@" + self._handle(first, last), "", ""))
        if locale == "uk_UA" and r.random() < 0.3:
            contacts.append(ContactSpec("viber", contacts[0].value, mobile))
        if locale in ("ru_RU", "en_US") and r.random() < 0.15:
            contacts.append(ContactSpec("whatsapp", contacts[0].value, mobile))
        if locale == "zh_CN" and r.random() < 0.6:
            contacts.append(ContactSpec("wechat", "wxid_" + self._handle(first, last), "", ""))
        if r.random() < 0.15:
            address = f"{r.choice(CITIES[locale])}, {r.choice(pool.streets)}"
            contacts.append(ContactSpec("address", address, " ".join(address.lower().split())))
        for contact in contacts:
            if not contact.normalized:
                contact.normalized = contact.value.lstrip("@").lower()
        return CardSpec(key, fields, _tidy(contacts), self._tags(), employer_key)

    def _handle(self, first: str, last: str) -> str:
        base = f"{_latin(first)[:8]}_{_latin(last)[:12]}".strip("_") or "user"
        return f"{base}{self.random.randrange(1, 10000)}"

    def _company_names(self, locale: str) -> tuple[str, str]:
        r = self.random
        pool = self.pools[locale]
        if locale in BRAND_ROOTS:
            if r.random() < 0.6:
                brand = (
                    r.choice(BRAND_ROOTS[locale])
                    + r.choice(["", "-"])
                    + r.choice(BRAND_SUFFIXES[locale])
                )
            else:
                brand = f"{r.choice(pool.last_male)}"
                if r.random() < 0.5:
                    brand += " и партнёры" if locale == "ru_RU" else " і партнери"
            form = r.choice(
                ["ООО", "ООО", "ООО", "АО", "ПАО"]
                if locale == "ru_RU"
                else ["ТОВ", "ТОВ", "ТОВ", "ПрАТ", "ПП"]
            )
            return f"{form} «{brand}»", brand
        if locale == "zh_CN":
            name = r.choice(pool.companies)
            short = name.removesuffix("有限公司").removesuffix("股份")
            return r.choice(CITIES[locale]) + name, short
        name = r.choice(pool.companies)
        return f"{name}, {r.choice(['Inc.', 'LLC', 'Corp.'])}", name

    def company(self, locale: str, key: int, index: int, count: int) -> CardSpec:
        r = self.random
        fields = self._common(locale, index, count)
        fields.update(kind="company", country=COUNTRIES[locale])
        contacts = []
        if locale == "ru_RU" and r.random() < 0.12:
            # An individual entrepreneur: person's name, 12-digit INN, 15-digit OGRNIP.
            pool = self.pools[locale]
            last, first, middle = (
                r.choice(pool.last_male),
                r.choice(pool.first_male),
                r.choice(pool.middle_male),
            )
            fields.update(legal_name=f"ИП {last} {first} {middle}", short_name=f"ИП {last}")
            region = r.choice(RU_REGIONS)
            fields["inn"] = ru_inn_person(region + self._digits(8))
            ogrnip = None
            while ogrnip is None:
                ogrnip = ru_ogrnip("3" + f"{r.randrange(4, 25):02d}" + region + self._digits(9))
            fields["ogrn"] = ogrnip
        else:
            legal_name, short_name = self._company_names(locale)
            fields.update(legal_name=legal_name[:300], short_name=short_name[:150])
            if locale == "ru_RU":
                region = r.choice(RU_REGIONS)
                inn = ru_inn_company(region + self._digits(7))
                fields.update(
                    inn=inn,
                    kpp=inn[:4] + r.choice(["01", "01", "43"]) + "001",
                    ogrn=ru_ogrn(
                        r.choice("15") + f"{r.randrange(2, 25):02d}" + region + self._digits(7)
                    ),
                )
            elif locale == "uk_UA":
                fields["edrpou"] = ua_edrpou(r.choice("234") + self._digits(6))
            elif locale == "zh_CN":
                organisation = "".join(r.choice(USCC_ALPHABET) for _ in range(8))
                fields["uscc"] = cn_uscc(
                    "91" + r.choice(CN_REGIONS) + organisation + r.choice(string.digits)
                )
        fields.update(
            industry=r.choice(INDUSTRIES[locale]),
            size=r.choice(["1-10", "11-50", "11-50", "51-250", "251-1000", "1000+"]),
        )
        pool = self.pools[locale]
        address = f"{r.choice(CITIES[locale])}, {r.choice(pool.streets)}"
        fields["legal_address"] = address
        slug = _latin(fields["short_name"])[:20] or "company"
        slug = f"{slug}{r.randrange(1, 1000)}"
        if r.random() < 0.6:
            fields["website"] = f"https://{slug}.{TLD[locale]}"
        office = self._phone_contact(locale, "office", landline=r.random() < 0.5)
        office.is_primary = True
        contacts.append(office)
        email = f"info@{slug}.{TLD[locale]}".lower()
        contacts.append(ContactSpec("email", email, email, "office", True))
        if r.random() < 0.3:
            contacts.append(self._phone_contact(locale, "accounting"))
        if r.random() < 0.5:
            contacts.append(ContactSpec("address", address, " ".join(address.lower().split())))
        return CardSpec(key, fields, _tidy(contacts), self._tags())

    def generate(self, count: int) -> Iterator[CardSpec]:
        """`count` card specs, created over the generator's period in order; a quarter are
        companies, and some people work at one of the companies generated before them."""
        first = self._generated
        for position in range(count):
            key = first + position
            self._generated += 1
            locale = self._pick_locale()
            if self.random.random() < self.company_share:
                self._companies[locale].append(key)
                yield self.company(locale, key, position, count)
            else:
                yield self.person(locale, key, position, count)


def parse_locales(value: str | None) -> dict[str, int]:
    """'ru_RU,uk_UA' or 'ru_RU:60,en_US:40' -> weights; empty -> the default mix."""
    if not value:
        return dict(LOCALE_WEIGHTS)
    result: dict[str, int] = {}
    for item in value.split(","):
        name, _sep, weight = item.strip().partition(":")
        if name not in LOCALE_WEIGHTS:
            raise ValueError(f"Unknown locale {name!r}; choose from {', '.join(LOCALE_WEIGHTS)}.")
        result[name] = int(weight) if weight else LOCALE_WEIGHTS[name]
    return result


# --- Demo users and teams --------------------------------------------------------------------


def demo_staff_ensure(*, actor: User | None = None) -> Staff:
    """The demo teams and their people, created through the account services when missing.

    The password of newly created demo users is random and returned once in `Staff.password`.
    """
    teams = [team_get_or_create(actor=actor, name=name) for name in DEMO_TEAMS]
    password: str | None = None
    members: dict[int, list[int]] = {team.pk: [] for team in teams}
    for username, first, last, role, team_index in DEMO_STAFF:
        team = teams[team_index]
        user = User.objects.filter(username=username).first()
        if user is None:
            if password is None:
                password = "demo-" + secrets.token_urlsafe(9)
            user = user_create(
                actor=actor,
                username=username,
                password=password,
                role=role,
                first_name=first,
                last_name=last,
                email=f"{username}@example.com",
                teams=[team],
            )
        members[team.pk].append(user.pk)
    return Staff(teams=members, password=password)


def staff_from_database() -> Staff:
    """Cards assigned to the existing teams and their members (for the benchmark)."""
    teams: dict[int, list[int]] = {}
    for team in Team.objects.prefetch_related("members"):
        ids = [u.pk for u in team.members.all() if u.is_active]
        if ids:
            teams[team.pk] = ids
    return Staff(teams=teams)


def demo_tags_ensure() -> dict[str, int]:
    """Demo tags by name -> id (created without a change entry: they are labels, not data)."""
    existing = {t.name: t.pk for t in Tag.objects.filter(name__in=DEMO_TAGS)}
    for name in DEMO_TAGS:
        if name not in existing:
            existing[name] = Tag.objects.create(name=name).pk
    return existing


# --- Writing ----------------------------------------------------------------------------------


def service_arguments(
    spec: CardSpec, companies: dict[int, Client] | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]], list[str]]:
    """`client_create` arguments for a spec: data (foreign keys as objects), contacts and tag
    names. Dates the services set themselves are left out."""
    data: dict[str, Any] = {}
    responsible_id = spec.fields.get("responsible_id")
    users = {u.pk: u for u in User.objects.filter(pk=responsible_id)} if responsible_id else {}
    for name, value in spec.fields.items():
        if name in ("created_at", "updated_at", "actualized_at", "created_by_id"):
            continue
        if name == "actualized_by_id":
            continue
        if name == "responsible_id":
            data["responsible"] = users.get(value)
        elif name == "team_id":
            data["team"] = Team.objects.filter(pk=value).first() if value else None
        else:
            data[name] = value
    if spec.employer_key is not None and companies:
        data["employer"] = companies.get(spec.employer_key)
    contacts = [
        {"kind": c.kind, "value": c.value, "label": c.label, "is_primary": c.is_primary}
        for c in spec.contacts
    ]
    return data, contacts, list(spec.tags)


def cards_create_through_services(specs: Iterable[CardSpec], *, actor: User) -> list[Client]:
    """Create every card with `client_create` (validation, change log; duplicates allowed).

    The spec's dates, which services set themselves (created, updated, confirmed), are
    written afterwards so the demo base looks lived-in.
    """
    from kartoteka.clients.services import client_create

    tags_by_name = {t.name: t for t in Tag.objects.all()}
    created: list[Client] = []
    companies: dict[int, Client] = {}
    dates = ("created_at", "updated_at", "actualized_at", "actualized_by_id", "created_by_id")
    for spec in specs:
        data, contacts, tag_names = service_arguments(spec, companies)
        client = client_create(
            actor=actor,
            data=data,
            contacts=contacts,
            tags=[tags_by_name[name] for name in tag_names if name in tags_by_name],
            allow_duplicates=True,
        )
        Client.objects.filter(pk=client.pk).update(
            **{name: spec.fields[name] for name in dates if name in spec.fields}
        )
        created.append(client)
        if client.is_company:
            companies[spec.key] = client
    return created


class _RowMaker:
    """Turns card specs into table rows, the way `client_create` would store them."""

    def __init__(self) -> None:
        from kartoteka.clients.services import _derive

        self.derive = _derive
        self.client_names = [f.attname for f in Client._meta.concrete_fields]
        self.client_position = {name: i for i, name in enumerate(self.client_names)}
        self.client_template = [f.get_default() for f in Client._meta.concrete_fields]
        self.client_convert = self._converters(Client)
        self.contact_names = [f.attname for f in ContactPoint._meta.concrete_fields]
        self.contact_template = [f.get_default() for f in ContactPoint._meta.concrete_fields]
        self.contact_convert = self._converters(ContactPoint)

    @staticmethod
    def _converters(model: Any) -> list[tuple[int, Callable[[Any], Any]]]:
        """(column position, converter) for values the driver cannot take as they are."""
        ops = connection.ops
        result: list[tuple[int, Callable[[Any], Any]]] = []
        for position, model_field in enumerate(model._meta.concrete_fields):
            internal = model_field.get_internal_type()
            if internal == "DateTimeField" and connection.vendor == "sqlite":
                result.append((position, _sqlite_datetime))
            elif internal == "DateField":
                result.append((position, ops.adapt_datefield_value))
            elif internal == "JSONField":
                result.append((position, _json_converter(model_field)))
        return result

    def client(self, spec: CardSpec, pk: int, number: int, employer_id: int | None) -> Client:
        values = self.client_template.copy()
        position = self.client_position
        for name, value in spec.fields.items():
            values[position[name]] = value
        values[position["id"]] = pk
        values[position["number"]] = number
        values[position["employer_id"]] = employer_id
        client = Client(*values)
        self.derive(client)
        return client

    def client_row(self, client: Client) -> list[Any]:
        row = [getattr(client, name) for name in self.client_names]
        for position, convert in self.client_convert:
            if row[position] is not None:
                row[position] = convert(row[position])
        return row

    def contact_row(self, client: Client, pk: int, contact: ContactSpec) -> list[Any]:
        values = dict(zip(self.contact_names, self.contact_template, strict=True))
        values.update(
            id=pk,
            client_id=client.pk,
            kind=contact.kind,
            value=contact.value,
            normalized=contact.normalized,
            label=contact.label,
            is_primary=contact.is_primary,
            created_at=client.created_at,
        )
        row = list(values.values())
        for position, convert in self.contact_convert:
            if row[position] is not None:
                row[position] = convert(row[position])
        return row


def _sqlite_datetime(value: datetime.datetime) -> Any:
    # What DatabaseOperations.adapt_datetimefield_value gives for UTC values, at a fifth of
    # the cost: the benchmark converts millions of them.
    if value.tzinfo is datetime.UTC:
        return str(value.replace(tzinfo=None))
    return connection.ops.adapt_datetimefield_value(value)


def _json_converter(model_field: Any) -> Callable[[Any], Any]:
    empty = model_field.get_db_prep_save({}, connection)

    def convert(value: Any) -> Any:
        return empty if value == {} else model_field.get_db_prep_save(value, connection)

    return convert


@dataclass
class _Batch:
    clients: list[list[Any]]
    contacts: list[list[Any]]
    entries: list[tuple[int, str]]
    tags: list[tuple[int, int]]
    changes: list[tuple[int, str, dict[str, Any]]]  # pk, repr, "after" of the change entry
    size: int
    last_number: int


def _batches(
    specs: Iterable[CardSpec],
    *,
    next_pk: int,
    next_number: int,
    next_contact_pk: int,
    tag_ids: dict[str, int],
    batch_size: int,
    log_changes: bool,
) -> Iterator[_Batch]:
    """Rows for the specs, batch by batch. Pure computation: no database access."""
    from kartoteka.clients.services import LOG_FIELDS

    rows = _RowMaker()
    company_pks: dict[int, int] = {}
    iterator = iter(specs)
    while specs_batch := list(itertools.islice(iterator, batch_size)):
        batch = _Batch([], [], [], [], [], len(specs_batch), 0)
        for spec in specs_batch:
            employer_id = None if spec.employer_key is None else company_pks.get(spec.employer_key)
            client = rows.client(spec, next_pk, next_number, employer_id)
            if client.kind == Client.Kind.COMPANY:
                company_pks[spec.key] = client.pk
            for contact in spec.contacts:
                batch.contacts.append(rows.contact_row(client, next_contact_pk, contact))
                next_contact_pk += 1
            batch.clients.append(rows.client_row(client))
            # Specs carry `kind` and `normalized` like ContactPoint rows: the same document.
            document = build_document(client, spec.contacts)  # type: ignore[arg-type]
            batch.entries.append((client.pk, document))
            batch.tags.extend((client.pk, tag_ids[name]) for name in spec.tags if name in tag_ids)
            if log_changes:
                after = snapshot(client, LOG_FIELDS)
                after["contacts"] = sorted(
                    f"{c.kind}:{c.value}" + (" *" if c.is_primary else "") for c in spec.contacts
                )
                after["tags"] = sorted(spec.tags)
                batch.changes.append((client.pk, str(client)[:300], after))
            batch.last_number = next_number
            next_pk += 1
            next_number += 1
        yield batch


def _produce(batches: Iterator[_Batch], queue: Any) -> None:
    """Child process: build the batches and hand them over; None marks the end."""
    try:
        for batch in batches:
            queue.put(batch)
    finally:
        queue.put(None)


def _from_child(batches: Iterator[_Batch]) -> Iterator[_Batch]:
    """Build batches in a forked child process while this one writes: both cores busy."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue(maxsize=4)
    child = context.Process(target=_produce, args=(batches, queue), daemon=True)
    child.start()
    try:
        while (batch := queue.get()) is not None:
            yield batch
    finally:
        child.join(timeout=5)
        if child.is_alive():
            child.terminate()
    if child.exitcode:
        raise RuntimeError(f"Card generation failed in the child process ({child.exitcode}).")


TRIGRAM_INDEX = "search_bucket_trgm"  # search migration 0003, PostgreSQL only


def _trigram_index_sql() -> str | None:
    """PostgreSQL: the statement that creates the search documents' trigram index."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [TRIGRAM_INDEX])
        found = cursor.fetchone()
    return found[0] if found else None


def card_rows_insert(
    cursor: Any,
    *,
    clients: Sequence[Sequence[Any]],
    contacts: Sequence[Sequence[Any]],
    entries: Sequence[tuple[int, str]],
    tags: Sequence[tuple[int, int]],
    trigger_sql: str | None,
) -> None:
    """Insert cards as `_RowMaker` rows, with their contacts, search entries and tags.

    Call inside a transaction: on SQLite the FTS trigger (`core.bulk.fts_trigger_sql`) is
    dropped and re-created around the direct FTS insert, all or nothing.
    """
    client_columns = [f.column for f in Client._meta.concrete_fields]
    contact_columns = [f.column for f in ContactPoint._meta.concrete_fields]
    entry_table = SearchEntry._meta.db_table
    insert_rows(cursor, Client._meta.db_table, client_columns, clients)
    if contacts:
        insert_rows(cursor, ContactPoint._meta.db_table, contact_columns, contacts)
    if trigger_sql:
        cursor.execute("DROP TRIGGER search_fts_ai")
        insert_rows(cursor, entry_table, ["client_id", "document"], entries)
        cursor.executemany("INSERT INTO search_fts (rowid, document) VALUES (%s, %s)", entries)
        cursor.execute(trigger_sql)
    else:
        insert_rows(cursor, entry_table, ["client_id", "document"], entries)
    if tags:
        insert_rows(cursor, Client.tags.through._meta.db_table, ["client_id", "tag_id"], tags)


def cards_bulk_create(
    specs: Iterable[CardSpec],
    *,
    tag_ids: dict[str, int] | None = None,
    batch_size: int = 5000,
    log_changes: bool = False,
    progress: Callable[[int], None] | None = None,
    parallel: bool = False,
) -> int:
    """Insert generated cards in batches, each batch in one transaction.

    Writes what `client_create` writes — the card with derived names, its contacts, tags and
    search document (`build_document`) — and, with `log_changes`, a "create" change entry
    through the current channel. Card numbers continue after the highest existing one and
    the card-number counter is left at the maximum. Meant for a database nobody else writes
    to meanwhile (first start, the benchmark): ids are assigned here, not by the database.
    With `parallel` (POSIX only), a forked child builds the rows while this process writes.
    """
    trigger_sql = fts_trigger_sql()

    existing = Client.objects.count()
    trigram_index_sql = _trigram_index_sql() if existing == 0 else None
    with transaction.atomic():
        counter, _created = CardNumberCounter.objects.select_for_update().get_or_create(
            name="client", defaults={"value": 0}
        )
        last_number = max(
            counter.value,
            Client.objects.order_by("-number").values_list("number", flat=True).first() or 0,
        )
    batches = _batches(
        specs,
        next_pk=(Client.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1,
        next_number=last_number + 1,
        next_contact_pk=(
            ContactPoint.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        )
        + 1,
        tag_ids=tag_ids or {},
        batch_size=batch_size,
        log_changes=log_changes,
    )
    if parallel and "fork" in multiprocessing.get_all_start_methods():
        batches = _from_child(batches)
    total = 0
    if trigram_index_sql:
        # An empty base: building the trigram index once at the end is many times faster
        # than updating it row by row (a million documents of ~300 trigrams each).
        with connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")
    try:
        for batch in batches:
            with transaction.atomic(), connection.cursor() as cursor:
                card_rows_insert(
                    cursor,
                    clients=batch.clients,
                    contacts=batch.contacts,
                    entries=batch.entries,
                    tags=batch.tags,
                    trigger_sql=trigger_sql,
                )
                if batch.changes:
                    _log_creations(batch.changes)
            last_number = batch.last_number
            total += batch.size
            if progress:
                progress(total)
    finally:
        with transaction.atomic():
            CardNumberCounter.objects.filter(name="client").update(value=last_number)
            _reset_sequences()
        if trigram_index_sql:
            with connection.cursor() as cursor:
                if connection.in_atomic_block:
                    # Deferred foreign-key checks must run before an index can be built.
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET maintenance_work_mem = '256MB'")
                cursor.execute(trigram_index_sql)
                cursor.execute("RESET maintenance_work_mem")
    if trigger_sql and total >= existing:
        # The load left one FTS segment per batch; merged into one, every search term is a
        # single b-tree lookup, and the next small inserts do not trigger large merges.
        # (Seconds for a million cards; skipped when the load is small next to the base.)
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO search_fts (search_fts) VALUES ('optimize')")
    return total


def _log_creations(changes: list[tuple[int, str, dict[str, Any]]]) -> None:
    from django.contrib.contenttypes.models import ContentType

    content_type = ContentType.objects.get_for_model(Client)
    channel, request_id = current_channel(), current_request_id()
    ObjectChange.objects.bulk_create(
        [
            ObjectChange(
                content_type=content_type,
                object_id=pk,
                object_repr=label,
                action=ObjectChange.Action.CREATE,
                actor=None,
                channel=channel,
                request_id=request_id,
                after=after,
                message="demo data",
            )
            for pk, label, after in changes
        ],
        batch_size=1000,
    )


def _reset_sequences() -> None:
    """PostgreSQL: ids were given explicitly, so move the id sequences past them."""
    if connection.vendor != "postgresql":
        return
    from django.core.management.color import no_style

    statements = connection.ops.sequence_reset_sql(no_style(), [Client, ContactPoint])
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
