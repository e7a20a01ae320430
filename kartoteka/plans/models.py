import calendar
import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Plan(models.Model):
    """A target for one employee or one team over one period: "200 calls a week", "20 meetings
    a month", "1,500,000 of revenue a quarter".

    Exactly one of `employee` and `team` is set. `period_start` is always the first day of the
    period (a Monday, the 1st of a month, the 1st of January/April/July/October); the services
    snap any date to it. Progress is never stored: plans.selectors computes it from the logged
    interactions and orders, so it cannot drift from the card histories.

    `version` guards edits (optimistic locking); writes go through plans.services only.
    """

    class Metric(models.TextChoices):
        CALLS = "calls", _("Calls")
        MEETINGS = "meetings", _("Meetings")
        INTERACTIONS = "interactions", _("Interactions of any kind")
        ORDERS = "orders", _("Orders")
        REVENUE = "revenue", _("Revenue")

    class Period(models.TextChoices):
        WEEK = "week", _("Week")
        MONTH = "month", _("Month")
        QUARTER = "quarter", _("Quarter")

    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="plans",
        verbose_name=_("employee"),
    )
    team = models.ForeignKey(
        "accounts.Team",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="plans",
        verbose_name=_("team"),
    )
    metric = models.CharField(_("metric"), max_length=16, choices=Metric.choices)
    period = models.CharField(
        _("period"), max_length=8, choices=Period.choices, default=Period.MONTH
    )
    period_start = models.DateField(_("period start"))
    target = models.DecimalField(_("target"), max_digits=16, decimal_places=2)
    notes = models.CharField(_("notes"), max_length=300, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["-period_start", "period", "metric", "pk"]
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        indexes = [
            models.Index(fields=["employee", "-period_start"], name="plan_employee_idx"),
            models.Index(fields=["team", "-period_start"], name="plan_team_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(employee__isnull=False) & Q(team__isnull=True))
                | (Q(employee__isnull=True) & Q(team__isnull=False)),
                name="plan_for_employee_or_team",
                violation_error_message=_("A plan is for one employee or for one team."),
            ),
            models.CheckConstraint(
                condition=Q(target__gt=0),
                name="plan_target_positive",
                violation_error_message=_("The target must be greater than zero."),
            ),
            models.UniqueConstraint(
                fields=["employee", "metric", "period", "period_start"],
                condition=Q(employee__isnull=False),
                name="plan_one_per_employee_metric_period",
                violation_error_message=_("This employee already has this plan for the period."),
            ),
            models.UniqueConstraint(
                fields=["team", "metric", "period", "period_start"],
                condition=Q(team__isnull=False),
                name="plan_one_per_team_metric_period",
                violation_error_message=_("This team already has this plan for the period."),
            ),
        ]

    def __str__(self) -> str:
        subject = self.employee if self.employee_id else self.team
        return f"{subject}: {self.get_metric_display()} {self.period_start:%Y-%m-%d}"

    @property
    def subject(self) -> object:
        """Whom the plan is for: the employee or the team."""
        return self.employee if self.employee_id else self.team

    @property
    def is_money(self) -> bool:
        return self.metric == self.Metric.REVENUE

    @property
    def period_end(self) -> datetime.date:
        """The first day after the period (periods are half-open: [start, end))."""
        return period_bounds(self.period, self.period_start)[1]


def _add_months(day: datetime.date, months: int) -> datetime.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return day.replace(year=year, month=month, day=min(day.day, last_day))


def period_bounds(period: str, day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The period of kind `period` containing `day`, as [first day, first day after)."""
    if period == Plan.Period.WEEK:
        start = day - datetime.timedelta(days=day.weekday())
        return start, start + datetime.timedelta(days=7)
    if period == Plan.Period.MONTH:
        start = day.replace(day=1)
        return start, _add_months(start, 1)
    if period == Plan.Period.QUARTER:
        start = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
        return start, _add_months(start, 3)
    raise ValueError(f"Unknown period {period!r}")


COUNT_METRICS = frozenset(
    {Plan.Metric.CALLS, Plan.Metric.MEETINGS, Plan.Metric.INTERACTIONS, Plan.Metric.ORDERS}
)
