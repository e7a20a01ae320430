"""Template helpers of the card page: money with its currency sign, timeline icons, the
timeline's events."""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import template
from django.utils.formats import date_format, number_format, time_format
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime

register = template.Library()

SIGNS = {"RUB": "₽", "UAH": "₴", "CNY": "¥", "USD": "$", "EUR": "€"}


@register.filter
def money(amount: Decimal | None, currency: Any = "") -> str:
    """12345.5, "RUB" -> "12 345,50 ₽" in the reader's language; "" for no amount."""
    if amount is None or amount == "":
        return ""
    text = number_format(Decimal(amount), 2, use_l10n=True, force_grouping=True)
    sign = SIGNS.get(str(currency), str(currency))
    return f"{text}\u00a0{sign}" if sign else text


# The timeline's icons by kind (line drawings on a 24×24 grid), made once: a template include
# per event would cost more than the rest of the event's markup.
_ICON_PATHS = {
    "interaction": [
        "M5 5h14a1 1 0 0 1 1 1v9a1 1 0 0 1-1 1H10l-4.5 3.5V16H5a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1z",
        "M8 9.5h8M8 12.5h5",
    ],
    "order": ["M5 8h14l-1.2 11.2a1 1 0 0 1-1 .8H7.2a1 1 0 0 1-1-.8z", "M9 8V6.5a3 3 0 0 1 6 0V8"],
    "service": [
        "M12 3.5l1.9 4.6 4.6 1.9-4.6 1.9L12 16.5l-1.9-4.6L5.5 10l4.6-1.9z",
        "M18 15.5l.8 1.9 1.9.8-1.9.8-.8 1.9-.8-1.9-1.9-.8 1.9-.8z",
    ],
    "invoice": ["M6 3.5h12v17l-2-1.3-2 1.3-2-1.3-2 1.3-2-1.3-2 1.3z", "M9 8h6M9 11.5h6M9 15h3.5"],
    "payment": [
        "M5 6h14a2 2 0 0 1 2 2v8.5a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2z",
        "M3 10h18M7 15h3",
    ],
    "survey": ["M12 3.8l2.5 5.1 5.6.8-4 3.9.9 5.6-5-2.6-5 2.6.9-5.6-4-3.9 5.6-.8z"],
    "recommendation": [
        "M9 18h6M10 21h4",
        "M12 3a6 6 0 0 0-3.6 10.8c.6.5 1 1.2 1 2V16h5.2v-.2c0-.8.4-1.5 1-2A6 6 0 0 0 12 3z",
    ],
    "document": [
        "M14 3.5H7a1 1 0 0 0-1 1v15a1 1 0 0 0 1 1h10a1 1 0 0 0 1-1v-12z",
        "M14 3.5v4h4M9 12.5h6M9 16h6",
    ],
    "consent": ["M12 3l7 3v5c0 4.5-3 8.3-7 9.5-4-1.2-7-5-7-9.5V6z", "M9 12l2 2 4-4"],
}
TIMELINE_ICONS = {
    kind: mark_safe(
        '<span class="tl-icon" aria-hidden="true"><svg viewBox="0 0 24 24">'
        + "".join(f'<path d="{path}"/>' for path in paths)
        + "</svg></span>"
    )
    for kind, paths in _ICON_PATHS.items()
}


@register.filter
def timeline_icon(kind: str) -> str:
    """The icon of a timeline event's kind, as markup (decorative: hidden from readers)."""
    return TIMELINE_ICONS.get(kind, TIMELINE_ICONS["document"])


_EVENT = (
    '            <li class="tl-event tl-{kind}">\n'
    "              {icon}\n"
    '              <div class="tl-body">\n'
    '                <div class="tl-head">\n'
    "                  {title}\n"
    "                  {amount}\n"
    "                </div>\n"
    "                {summary}\n"
    '                <div class="tl-meta">\n'
    "                  {time}\n"
    "                  {author}\n"
    "                </div>\n"
    "              </div>\n"
    "            </li>\n"
)


def _text(value: Any) -> str:
    return conditional_escape(value if isinstance(value, str) else str(value))


@register.simple_tag
def timeline_events(events: Iterable[Any]) -> SafeString:
    """The timeline's events of one day, built in Python: the markup the template loop
    wrote (tested against it in test_timeline), without a variable lookup, filter and
    escape per field of each of the page's thirty events. `event.link` and
    `event.has_time` are set by the view."""
    out = []
    for event in events:
        kind = event.kind
        title = _text(event.display_title)
        if event.link:
            target = ' target="_blank" rel="noopener"' if kind == "document" else ""
            title = f'<a class="tl-title" href="{escape(event.link)}"{target}>{title}</a>'
        else:
            title = f'<span class="tl-title">{title}</span>'
        amount = ""
        if event.amount is not None:
            amount = f'<span class="tl-amount">{escape(money(event.amount, event.currency))}</span>'
        summary = ""
        if event.summary:
            summary = f'<div class="tl-summary">{_text(event.display_summary)}</div>'
        moment = ""
        if event.has_time:
            local = localtime(event.occurred_at)  # as the template's date filters show it
            moment = (
                f'<time datetime="{escape(date_format(local, "c"))}">'
                f"{escape(time_format(local, 'TIME_FORMAT'))}</time>"
            )
        author = ""
        if event.author:
            author = ("· " if event.has_time else "") + _text(event.author)
        out.append(
            _EVENT.format(
                kind=escape(kind),
                icon=timeline_icon(kind),
                title=title,
                amount=amount,
                summary=summary,
                time=moment,
                author=author,
            )
        )
    return mark_safe("".join(out))
