"""Messages stored untranslated and translated when shown.

A line written for the record (a timeline title, a notification) is read later by people who
use other languages than its writer: a Russian manager and a Chinese colleague open the same
card. So what is stored is the English msgid with its parameters, as JSON, and the reader's
language is applied at display time.

    title = Message(gettext_noop("Invoice № %(number)s"), {"number": "12"})
    event.title_msg = title.to_json()         # stored
    Message.from_json(event.title_msg).render()  # "Счёт № 12" for a Russian reader

The msgid must be a literal marked with gettext_noop (or a choices label passed through
`Message.label`) so that makemessages extracts it. Parameters may be plain values, dates
(shown in the reader's date format) or other Messages (a translated label inside a sentence).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils import formats, translation
from django.utils.translation import gettext


@dataclass(frozen=True)
class Message:
    """A translatable msgid with its parameters; `render()` translates it now."""

    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def label(cls, lazy_label: Any) -> Message:
        """A lazy label (a choices label, a gettext_lazy string) kept as its msgid."""
        with translation.override(None):
            return cls(str(lazy_label))

    def render(self) -> str:
        text = gettext(self.msgid) if self.msgid else ""
        if not self.params:
            return text
        values = {name: _render_value(value) for name, value in self.params.items()}
        try:
            return text % values
        except (KeyError, TypeError, ValueError):
            # A translation that lost a placeholder must not break the page: fall back to
            # the English text, which has them all.
            return self.msgid % values

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"m": self.msgid}
        if self.params:
            data["p"] = {name: _encode(value) for name, value in self.params.items()}
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Message:
        params = {name: _decode(value) for name, value in (data.get("p") or {}).items()}
        return cls(str(data.get("m", "")), params)

    def __str__(self) -> str:
        return self.render()


def render_stored(data: Mapping[str, Any] | None, fallback: str) -> str:
    """Render a stored message, or the stored plain text when there is none (older rows)."""
    if not data:
        return fallback
    return Message.from_json(data).render()


def _render_value(value: Any) -> Any:
    if isinstance(value, Message):
        return value.render()
    if isinstance(value, datetime.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    return value


def _encode(value: Any) -> Any:
    if isinstance(value, Message):
        return {"msg": value.to_json()}
    if isinstance(value, datetime.datetime):
        raise TypeError("Store dates, not datetimes, in messages: the zone would be lost.")
    if isinstance(value, datetime.date):
        return {"date": value.isoformat()}
    if isinstance(value, int | float | str) or value is None:
        return value
    return str(value)  # Decimal and the like, as their exact text


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "msg" in value:
            return Message.from_json(value["msg"])
        if "date" in value:
            return datetime.date.fromisoformat(value["date"])
    return value
