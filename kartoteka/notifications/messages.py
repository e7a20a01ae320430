"""What a notification says, in the language and time zone of whoever reads it.

Notifications store an English msgid (marked with gettext_noop where it is written, so
makemessages finds it) and its params. The text is made when it is shown: an employee who
switches to Chinese sees yesterday's reminders in Chinese too, and an email is written in the
recipient's language, not in the language of the worker or of whoever raised the reminder.

Param conventions: a key ending in `_at` holds an ISO instant, shown in the reader's zone;
`_on` an ISO date; anything else is shown as it is.
"""

import datetime
import zoneinfo
from typing import Any

from django.utils import formats
from django.utils.translation import gettext
from django.utils.translation import gettext_noop as N_

# The messages, by kind. Each is a msgid with %(name)s params. A time ends its sentence
# without a full stop: in English it may end in "a.m." already.
TASK_DUE = N_("Task “%(title)s” is due at %(due_at)s")
TASK_DUE_WITH_CLIENT = N_("Task “%(title)s” for %(client)s is due at %(due_at)s")
BIRTHDAY = N_("%(client)s has a birthday on %(birthday_on)s.")
STALE_CARD = N_("The card of %(client)s has not been confirmed for %(days)s days.")
OVERDUE_RECOMMENDATION = N_("A recommendation for %(client)s was due on %(due_on)s: %(text)s")
OVERDUE_DEBT = N_("Invoice %(number)s of %(client)s was due on %(due_on)s and is not paid.")
SILENT_CLIENT = N_(
    "%(client)s has bought nothing since %(last_on)s (usually every %(interval)s days)."
)


def _shown(key: str, value: Any, zone: zoneinfo.ZoneInfo) -> Any:
    if not isinstance(value, str):
        return value
    try:
        if key.endswith("_at"):
            instant = datetime.datetime.fromisoformat(value)
            return formats.date_format(instant.astimezone(zone), "SHORT_DATETIME_FORMAT")
        if key.endswith("_on"):
            return formats.date_format(datetime.date.fromisoformat(value), "DATE_FORMAT")
    except ValueError:
        return value
    return value


def render(msgid: str, params: dict[str, Any], *, zone: zoneinfo.ZoneInfo) -> str:
    """The message in the active language, its dates in `zone`.

    A translation that lost or misspelt a placeholder falls back to the English text rather
    than failing the page or the email.
    """
    shown = {key: _shown(key, value, zone) for key, value in (params or {}).items()}
    try:
        return gettext(msgid) % shown
    except (KeyError, ValueError, TypeError):
        try:
            return msgid % shown
        except (KeyError, ValueError, TypeError):
            return msgid
