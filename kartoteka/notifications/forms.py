"""The reminder settings form (input shape only; the rules live in services)."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kartoteka.notifications.models import ReminderRule

# What the number means for each rule.
AMOUNT_LABELS = {
    ReminderRule.Key.TASK_DUE: _("Minutes before the due time"),
    ReminderRule.Key.BIRTHDAY: _("Days before the birthday"),
    ReminderRule.Key.STALE_CARD: _("Days without confirmation"),
    ReminderRule.Key.OVERDUE_RECOMMENDATION: _("Days past the due date"),
    ReminderRule.Key.OVERDUE_DEBT: _("Days past the due date"),
    ReminderRule.Key.SILENT_CLIENT: _("At least this many days"),
}
HELP = {
    ReminderRule.Key.TASK_DUE: _("The assignee is reminded of each open task."),
    ReminderRule.Key.BIRTHDAY: _("People's birthdays; those born on 29 February on the 28th."),
    ReminderRule.Key.STALE_CARD: _("Cards nobody has confirmed as current, once per card."),
    ReminderRule.Key.OVERDUE_RECOMMENDATION: _("Pending recommendations past their due date."),
    ReminderRule.Key.OVERDUE_DEBT: _("Issued invoices past their due date and not fully paid."),
    ReminderRule.Key.SILENT_CLIENT: _(
        "Clients with three or more orders and no purchase for longer than their usual "
        "interval times the factor."
    ),
}


class ReminderRuleForm(forms.Form):
    enabled = forms.BooleanField(label=_("On"), required=False)
    amount = forms.IntegerField(label=_("Number"), min_value=0)
    factor = forms.DecimalField(label=_("Factor"), required=False, max_digits=4, decimal_places=2)
    email = forms.BooleanField(label=_("Email too"), required=False)

    def __init__(self, *args: Any, rule: ReminderRule, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", rule.key)
        kwargs.setdefault(
            "initial",
            {
                "enabled": rule.enabled,
                "amount": rule.amount,
                "factor": rule.factor,
                "email": rule.email,
            },
        )
        super().__init__(*args, **kwargs)
        self.rule = rule
        self.fields["amount"].label = AMOUNT_LABELS.get(rule.key, _("Number"))
        if rule.key != ReminderRule.Key.SILENT_CLIENT:
            del self.fields["factor"]

    @property
    def title(self) -> str:
        return str(self.rule.get_key_display())

    @property
    def help(self) -> str:
        return str(HELP.get(self.rule.key, ""))

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if data.get("factor") is None:
            data.pop("factor", None)
        return data

    def add_service_errors(self, exc: ValidationError) -> None:
        for field, errors in exc.message_dict.items():
            self.add_error(field if field in self.fields else None, errors)
