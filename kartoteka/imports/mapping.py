"""Which column of a file goes into which field of a card.

`TARGETS` is the vocabulary of the mapping screen; `auto_map` guesses a mapping from the
header names people use in Russian, Ukrainian, Chinese and English files and in exports of
common CRMs (amoCRM, Bitrix24, 1C, Google and Outlook contacts, phone address books).
"""

import re
from collections.abc import Mapping
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# target -> label. Several columns may map to the repeatable ones (phone, email, ...).
TARGETS: dict[str, Promise] = {
    "full_name": _("Full name"),
    "last_name": _("Surname"),
    "first_name": _("Given name"),
    "middle_name": _("Patronymic / middle name"),
    "company": _("Company or workplace"),
    "legal_name": _("Legal name"),
    "short_name": _("Short name"),
    "kind": _("Kind (person or company)"),
    "number": _("Card number"),
    "status": _("Status"),
    "position": _("Position"),
    "birth_date": _("Birth date"),
    "phone": _("Phone"),
    "email": _("Email"),
    "telegram": _("Telegram"),
    "whatsapp": _("WhatsApp"),
    "viber": _("Viber"),
    "wechat": _("WeChat"),
    "address": _("Address"),
    "inn": _("INN"),
    "kpp": _("KPP"),
    "ogrn": _("OGRN / OGRNIP"),
    "edrpou": _("EDRPOU"),
    "rnokpp": _("RNOKPP"),
    "uscc": _("Unified social credit code"),
    "vat_number": _("EU VAT number"),
    "country": _("Country"),
    "industry": _("Industry"),
    "website": _("Website"),
    "legal_address": _("Legal address"),
    "source": _("Source"),
    "tags": _("Tags"),
    "interests": _("Interests"),
    "notes": _("Notes"),
}
REPEATABLE = frozenset(
    {"phone", "email", "telegram", "whatsapp", "viber", "wechat", "address", "tags", "notes"}
)
CONTACT_TARGETS = ("phone", "email", "telegram", "whatsapp", "viber", "wechat", "address")

_SYNONYMS: dict[str, list[str]] = {
    "full_name": [
        "фио",
        "ф и о",
        "полное имя",
        "клиент",
        "контакт",
        "имя контакта",
        "ім'я та прізвище",
        "піб",
        "п і б",
        "姓名",
        "名字",
        "全名",
        "客户",
        "联系人",
        "客户名称",
        "full name",
        "name",
        "contact",
        "contact name",
        "client",
        "display name",
        "customer",
        "имя фамилия",
    ],
    "last_name": [
        "фамилия",
        "прізвище",
        "姓",
        "姓氏",
        "last name",
        "surname",
        "family name",
        "lastname",
    ],
    "first_name": [
        "имя",
        "ім'я",
        "імя",
        "名",
        "first name",
        "given name",
        "firstname",
        "forename",
    ],
    "middle_name": [
        "отчество",
        "по батькові",
        "middle name",
        "patronymic",
        "additional name",
        "middlename",
    ],
    "company": [
        "компания",
        "организация",
        "место работы",
        "работодатель",
        "компанія",
        "організація",
        "місце роботи",
        "公司",
        "单位",
        "公司名称",
        "工作单位",
        "company",
        "organization",
        "organisation",
        "employer",
        "account name",
        "company name",
        "контрагент",
    ],
    "legal_name": [
        "полное наименование",
        "юридическое название",
        "наименование",
        "юр название",
        "повна назва",
        "найменування",
        "法人名称",
        "企业名称",
        "legal name",
    ],
    "short_name": ["краткое наименование", "скорочена назва", "简称", "short name"],
    "kind": ["тип", "тип клиента", "вид", "тип клієнта", "类型", "kind", "type", "client type"],
    "number": [
        "номер карты",
        "номер карточки",
        "номер клиента",
        "№ карты",
        "номер картки",
        "卡号",
        "客户编号",
        "card number",
        "card no",
        "client number",
        "card",
        "number",
    ],
    "status": ["статус", "статус клиента", "状态", "status"],
    "position": [
        "должность",
        "посада",
        "职位",
        "职务",
        "position",
        "job title",
        "title",
        "role",
    ],
    "birth_date": [
        "дата рождения",
        "день рождения",
        "дата народження",
        "день народження",
        "出生日期",
        "生日",
        "birth date",
        "birthday",
        "date of birth",
        "dob",
        "birthdate",
    ],
    "phone": [
        "телефон",
        "тел",
        "мобильный",
        "мобильный телефон",
        "сотовый",
        "рабочий телефон",
        "домашний телефон",
        "номер телефона",
        "мобільний",
        "мобільний телефон",
        "номер телефону",
        "电话",
        "手机",
        "手机号",
        "手机号码",
        "电话号码",
        "联系电话",
        "座机",
        "phone",
        "telephone",
        "mobile",
        "mobile phone",
        "cell",
        "work phone",
        "home phone",
        "phone number",
        "tel",
        "primary phone",
        "business phone",
    ],
    "email": [
        "e-mail",
        "email",
        "эл почта",
        "электронная почта",
        "почта",
        "емейл",
        "електронна пошта",
        "ел пошта",
        "пошта",
        "邮箱",
        "电子邮件",
        "电子邮箱",
        "邮件",
        "mail",
        "e-mail address",
        "email address",
        "work email",
        "home email",
    ],
    "telegram": ["telegram", "телеграм", "телеграм", "tg"],
    "whatsapp": ["whatsapp", "ватсап", "вотсап"],
    "viber": ["viber", "вайбер"],
    "wechat": ["wechat", "微信", "微信号", "вичат"],
    "address": [
        "адрес",
        "почтовый адрес",
        "адреса",
        "地址",
        "联系地址",
        "address",
        "postal address",
        "home address",
        "mailing address",
    ],
    "inn": ["инн", "інн", "inn", "tax id", "taxpayer id", "инн клиента"],
    "kpp": ["кпп", "kpp"],
    "ogrn": ["огрн", "огрнип", "ogrn"],
    "edrpou": ["едрпоу", "єдрпоу", "код єдрпоу", "код едрпоу", "edrpou"],
    "rnokpp": ["рнокпп", "ипн", "іпн", "rnokpp"],
    "uscc": ["统一社会信用代码", "信用代码", "社会信用代码", "uscc", "unified social credit code"],
    "vat_number": ["vat", "vat number", "vat id", "ust-idnr", "ндс номер"],
    "country": ["страна", "країна", "国家", "country", "country code"],
    "industry": ["отрасль", "сфера деятельности", "галузь", "行业", "industry"],
    "website": ["сайт", "веб-сайт", "вебсайт", "网站", "网址", "website", "web site", "url", "web"],
    "legal_address": [
        "юридический адрес",
        "юр адрес",
        "юридична адреса",
        "注册地址",
        "legal address",
    ],
    "source": ["источник", "джерело", "来源", "source", "lead source"],
    "tags": ["теги", "метки", "тэги", "мітки", "теги клієнта", "标签", "tags", "labels"],
    "interests": ["интересы", "інтереси", "兴趣", "interests", "hobbies"],
    "notes": [
        "примечание",
        "примечания",
        "комментарий",
        "заметки",
        "примітка",
        "коментар",
        "备注",
        "说明",
        "notes",
        "note",
        "comment",
        "comments",
        "description",
    ],
}

_NOISE = re.compile(r"[\s_.:*#№()\[\]/\\,-]+")


def _key(name: str) -> str:
    return _NOISE.sub(" ", name.lower().replace("ё", "е")).strip()


_LOOKUP: dict[str, str] = {}
for _target, _names in _SYNONYMS.items():
    for _name in _names:
        _LOOKUP.setdefault(_key(_name), _target)

_NUMBERED = re.compile(r"^(.*?)\s*\d{1,2}$")


def guess_target(header: str) -> str:
    """The target a column name means, or "" when unknown.

    Tries the whole name, then without a trailing number ("Телефон 2"), then the part after
    a group title ("Контакты / Телефон"), then the first known word ("Телефон мобильный").
    """
    candidates = [header, *reversed(header.split(" / "))] if " / " in header else [header]
    for candidate in candidates:
        key = _key(candidate)
        if not key:
            continue
        if key in _LOOKUP:
            return _LOOKUP[key]
        numbered = _NUMBERED.match(key)
        if numbered and numbered.group(1) in _LOOKUP:
            return _LOOKUP[numbered.group(1)]
        for word in key.split(" "):
            if word in _LOOKUP and _LOOKUP[word] in REPEATABLE:
                return _LOOKUP[word]
    return ""


def auto_map(header: list[str]) -> dict[int, str]:
    """Column index -> target for the columns whose names are recognised. A single-use
    target claimed twice keeps its first column (the user can change it on screen)."""
    mapping: dict[int, str] = {}
    used: set[str] = set()
    for index, name in enumerate(header):
        target = guess_target(name)
        if not target or (target in used and target not in REPEATABLE):
            continue
        mapping[index] = target
        used.add(target)
    if "full_name" in used and ({"last_name", "first_name"} & used):
        # Separate name columns are more exact than a combined one ("Name" beside "Surname").
        mapping = {i: t for i, t in mapping.items() if t != "full_name"}
    return mapping


def clean_mapping(raw: Mapping[Any, str], width: int) -> dict[int, str]:
    """A mapping from the screen or the API (keys may be strings), with unknown targets and
    columns dropped and single-use targets kept once."""
    mapping: dict[int, str] = {}
    used: set[str] = set()
    for key, target in sorted(raw.items(), key=lambda item: int(item[0])):
        index = int(key)
        if not target or target not in TARGETS or not 0 <= index < width:
            continue
        if target in used and target not in REPEATABLE:
            continue
        mapping[index] = target
        used.add(target)
    return mapping
