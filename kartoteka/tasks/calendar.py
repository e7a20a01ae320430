"""The calendar's layout: which days a day, week or month view covers, and where each task
sits in it (in the viewer's zone). Pure functions over tasks already fetched; the page is
server-rendered HTML and CSS, no JavaScript library."""

import datetime
import zoneinfo
from dataclasses import dataclass, field

from kartoteka.tasks.models import Task
from kartoteka.tasks.recurrence import add_months

VIEWS = ("day", "week", "month")
HOUR_HEIGHT = 48  # pixels per hour in the day and week grids
FIRST_HOUR, LAST_HOUR = 8, 20  # the hours always shown; earlier or later tasks widen the grid
MIN_BLOCK_MINUTES = 30  # a task without a duration is drawn half an hour tall


@dataclass
class Placed:
    """A task in a day column: its local start and its box in pixels."""

    task: Task
    start: datetime.datetime
    top: int = 0
    height: int = 0
    is_block: bool = False
    lane: int = 0  # side by side with the tasks it overlaps
    lanes: int = 1

    @property
    def is_compact(self) -> bool:
        """Too short for two lines: time and title share one."""
        return self.height < 36

    @property
    def end(self) -> datetime.datetime:
        return self.start + datetime.timedelta(minutes=self.task.duration_minutes or 0)

    @property
    def left_percent(self) -> float:
        return round(100 * self.lane / self.lanes, 2)

    @property
    def width_percent(self) -> float:
        return round(100 / self.lanes, 2)


@dataclass
class Day:
    date: datetime.date
    in_month: bool = True
    is_today: bool = False
    tasks: list[Placed] = field(default_factory=list)


@dataclass
class Layout:
    view: str
    date: datetime.date
    start: datetime.date  # the first day shown
    end: datetime.date  # the day after the last one shown
    days: list[Day]
    previous: datetime.date
    following: datetime.date
    hours: list[int] = field(default_factory=list)

    @property
    def last(self) -> datetime.date:
        return self.end - datetime.timedelta(days=1)

    @property
    def weeks(self) -> list[list[Day]]:
        return [self.days[i : i + 7] for i in range(0, len(self.days), 7)]

    @property
    def grid_height(self) -> int:
        return len(self.hours) * HOUR_HEIGHT


def span(view: str, day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """[first, after-last) dates a view around `day` covers: a day, a Monday-to-Sunday week,
    or the whole weeks around a month."""
    if view == "day":
        return day, day + datetime.timedelta(days=1)
    if view == "week":
        monday = day - datetime.timedelta(days=day.weekday())
        return monday, monday + datetime.timedelta(days=7)
    first = day.replace(day=1)
    start = first - datetime.timedelta(days=first.weekday())
    last = add_months(first, 1) - datetime.timedelta(days=1)
    end = last + datetime.timedelta(days=7 - last.weekday())
    return start, end


def neighbours(view: str, day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The dates "previous" and "next" lead to."""
    if view == "day":
        step = datetime.timedelta(days=1)
        return day - step, day + step
    if view == "week":
        step = datetime.timedelta(days=7)
        return day - step, day + step
    return add_months(day.replace(day=1), -1), add_months(day.replace(day=1), 1)


def layout(
    *,
    view: str,
    day: datetime.date,
    today: datetime.date,
    tasks: list[Task],
    zone: zoneinfo.ZoneInfo,
) -> Layout:
    """Place `tasks` (due in the window, see selectors.calendar_tasks) on the view's days."""
    start, end = span(view, day)
    previous, following = neighbours(view, day)
    count = (end - start).days
    days = [
        Day(
            date=start + datetime.timedelta(days=i),
            in_month=view != "month" or (start + datetime.timedelta(days=i)).month == day.month,
            is_today=start + datetime.timedelta(days=i) == today,
        )
        for i in range(count)
    ]
    by_date = {d.date: d for d in days}
    first_hour, last_hour = FIRST_HOUR, LAST_HOUR
    for task in tasks:
        local = task.due_at.astimezone(zone)
        target = by_date.get(local.date())
        if target is None:
            # A meeting that began the evening before: shown from the top of its first day.
            target = by_date.get(start)
            if target is None:
                continue
            local = datetime.datetime.combine(start, datetime.time.min, tzinfo=zone)
        target.tasks.append(Placed(task=task, start=local))
        first_hour = min(first_hour, local.hour)
        minutes = max(task.duration_minutes or 0, MIN_BLOCK_MINUTES)
        last_hour = max(last_hour, min(24, local.hour + 1 + (local.minute + minutes - 1) // 60))
    hours = list(range(first_hour, last_hour)) if view != "month" else []
    for target in days:
        lane_ends: list[int] = []
        for placed in target.tasks:
            minutes_in = (placed.start.hour - first_hour) * 60 + placed.start.minute
            duration = max(placed.task.duration_minutes or 0, MIN_BLOCK_MINUTES)
            duration = min(duration, (last_hour - first_hour) * 60 - minutes_in)
            placed.top = minutes_in * HOUR_HEIGHT // 60
            placed.height = max(duration * HOUR_HEIGHT // 60, 20)
            placed.is_block = bool(placed.task.duration_minutes)
            free = [i for i, end_px in enumerate(lane_ends) if end_px <= placed.top]
            placed.lane = free[0] if free else len(lane_ends)
            if free:
                lane_ends[placed.lane] = placed.top + placed.height
            else:
                lane_ends.append(placed.top + placed.height)
        for placed in target.tasks:
            placed.lanes = len(lane_ends)
    return Layout(
        view=view,
        date=day,
        start=start,
        end=end,
        days=days,
        previous=previous,
        following=following,
        hours=hours,
    )
