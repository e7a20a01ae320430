"""Legal deadlines for answering data-subject requests, per jurisdiction.

- RU, 152-FZ art. 14(3) and 20: 10 working days, extendable once by 5 working days with a
  reasoned notice to the subject.
- UA, Law "On Personal Data Protection" art. 16: 30 calendar days; no extension modelled
  (the law allows a deferral only with a written notice and reasons, which a refusal with
  reason covers).
- CN, PIPL art. 50 sets no number of days; the national standard GB/T 35273-2020 §8.7 asks
  for an answer within 15 working days, which is what is used. Not extendable.
- EU, GDPR art. 12(3): one month (the same day of the next month, clamped to the month's
  last day), extendable by two further months.

Working days skip Saturdays and Sundays. Public holidays are not known to Kartoteka: list
them in KARTOTEKA_HOLIDAYS (ISO dates, comma-separated) and they are skipped too; otherwise
a deadline may come a day or two earlier than the strict legal one, which is the safe side.
"""

import calendar
import datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from kartoteka.core.models import Jurisdiction


def holidays() -> frozenset[datetime.date]:
    """Dates that are not working days besides weekends (settings.KARTOTEKA_HOLIDAYS)."""
    days = set()
    for value in getattr(settings, "KARTOTEKA_HOLIDAYS", ()) or ():
        if isinstance(value, datetime.date):
            days.add(value)
            continue
        try:
            days.add(datetime.date.fromisoformat(str(value)))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"KARTOTEKA_HOLIDAYS: {value!r} is not an ISO date (YYYY-MM-DD)."
            ) from exc
    return frozenset(days)


def is_working_day(day: datetime.date) -> bool:
    return day.weekday() < 5 and day not in holidays()


def add_working_days(start: datetime.date, days: int) -> datetime.date:
    """The date `days` working days after `start` (the day of receipt is not counted)."""
    day = start
    remaining = days
    while remaining > 0:
        day += datetime.timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def add_months(start: datetime.date, months: int) -> datetime.date:
    """The same day `months` months later, clamped to the end of a shorter month."""
    month_index = start.month - 1 + months
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return datetime.date(year, month, min(start.day, last))


def due_date(jurisdiction: str, received_on: datetime.date) -> datetime.date:
    """The legal due date of a request received on `received_on` under `jurisdiction`."""
    if jurisdiction == Jurisdiction.RU:
        return add_working_days(received_on, 10)
    if jurisdiction == Jurisdiction.UA:
        return received_on + datetime.timedelta(days=30)
    if jurisdiction == Jurisdiction.CN:
        return add_working_days(received_on, 15)
    if jurisdiction == Jurisdiction.EU:
        return add_months(received_on, 1)
    raise ValueError(f"Unknown jurisdiction {jurisdiction!r}")


def can_extend(jurisdiction: str) -> bool:
    """Does the law of `jurisdiction` allow extending the deadline?"""
    return jurisdiction in (Jurisdiction.RU, Jurisdiction.EU)


def extended_due_date(
    jurisdiction: str, received_on: datetime.date, due_on: datetime.date
) -> datetime.date:
    """The due date after the one extension the law allows.

    EU: three months from receipt (so a clamped first month does not shorten the rest).
    """
    if jurisdiction == Jurisdiction.RU:
        return add_working_days(due_on, 5)
    if jurisdiction == Jurisdiction.EU:
        return add_months(received_on, 3)
    raise ValueError(f"{jurisdiction!r} allows no extension")
