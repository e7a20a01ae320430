"""Dates of a recurring task's occurrences: pure arithmetic on wall-clock time.

An occurrence's due time is computed from the series' anchor (the first occurrence's due time)
in the task's own zone, never from the previous occurrence, so nothing drifts: a daily 09:00
task in Moscow stays at 09:00 Moscow, one in Berlin stays at 09:00 Berlin across the change to
summer time (its UTC instant moves by an hour instead), and a monthly task anchored on 31
January falls on 28 (or 29) February and then on 31 March again.
"""

import calendar
import datetime
import zoneinfo


def add_months(day: datetime.date, months: int) -> datetime.date:
    """`day` moved by `months`, its day of month clamped to the target month's length."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return day.replace(year=year, month=month + 1, day=min(day.day, last))


def occurrence_due(
    *,
    anchor: datetime.datetime,
    zone: zoneinfo.ZoneInfo,
    repeat: str,
    interval: int,
    occurrence: int,
) -> datetime.datetime:
    """The due instant of occurrence number `occurrence` (0 is the anchor itself).

    `repeat` is "day", "week" or "month" (Task.Repeat). A wall-clock time that does not exist
    in the zone (inside a spring-forward gap) lands on the same instant as the hour before
    the change plus the gap, as zoneinfo resolves it.
    """
    wall = anchor.astimezone(zone).replace(tzinfo=None)
    steps = interval * occurrence
    if repeat == "day":
        wall += datetime.timedelta(days=steps)
    elif repeat == "week":
        wall += datetime.timedelta(weeks=steps)
    elif repeat == "month":
        wall = datetime.datetime.combine(add_months(wall.date(), steps), wall.time())
    else:
        raise ValueError(f"Not a repeat rule: {repeat!r}")
    return wall.replace(tzinfo=zone)
