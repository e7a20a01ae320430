"""Template helpers of the plans pages: plan values as people read them, progress colours."""

from decimal import Decimal
from typing import Any

from django import template
from django.utils.formats import number_format

from kartoteka.plans.models import Plan

register = template.Library()


@register.filter
def plan_value(value: Decimal | int | None, plan: Plan) -> str:
    """200 for counts, 12 250,00 for revenue (in the locale's format)."""
    if value is None:
        return "—"
    if plan.is_money:
        return number_format(Decimal(value), 2, force_grouping=True)
    return number_format(int(value), 0, force_grouping=True)


@register.filter
def progress_class(state: str) -> str:
    return {
        "done": "progress-done",
        "on_track": "progress-on-track",
        "behind": "progress-behind",
        "missed": "progress-missed",
    }.get(state, "progress-upcoming")


LABEL_WIDTH = 190
BAR_SPACE = 360
BAR_HEIGHT = 20
BAR_GAP = 10


@register.simple_tag
def progress_chart(rows: list[Any]) -> dict[str, Any]:
    """Geometry of the dashboard's bar chart: one bar per person with plans, the length their
    average completion (capped at 100 %), in SVG user units."""
    bars = []
    y = 0
    for row in rows:
        percent = row.average_percent
        if percent is None:
            continue
        bars.append(
            {
                "name": str(row.employee),
                "percent": percent,
                "y": y,
                "text_y": y + BAR_HEIGHT - 5,
                "width": max(percent * BAR_SPACE // 100, 2),
                "state": "done" if percent >= 100 else "good",
            }
        )
        y += BAR_HEIGHT + BAR_GAP
    return {
        "bars": bars,
        "height": max(y - BAR_GAP, 0),
        "label_width": LABEL_WIDTH,
        "bar_space": BAR_SPACE,
        "bar_height": BAR_HEIGHT,
        "width": LABEL_WIDTH + BAR_SPACE + 60,
        "full_x": LABEL_WIDTH + BAR_SPACE,
        "half_x": LABEL_WIDTH + BAR_SPACE // 2,
    }
