"""THE filter vocabulary for client lists: the web list, the API and exports all use it."""

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from kartoteka.accounts.models import Team, User
from kartoteka.clients.models import Client
from kartoteka.core.models import Tag
from kartoteka.search.backends import match_filter

ARCHIVED_CHOICES = [("no", _("Current")), ("yes", _("Archived")), ("all", _("All"))]


class DateInput(forms.DateInput):
    input_type = "date"


class ClientFilterSet(django_filters.FilterSet):
    """Filters for the client list. `archived` defaults to current cards only."""

    q = django_filters.CharFilter(method="filter_q", label=_("Search"))
    kind = django_filters.ChoiceFilter(choices=Client.Kind.choices, label=_("Kind"))
    status = django_filters.MultipleChoiceFilter(choices=Client.Status.choices, label=_("Status"))
    tag = django_filters.ModelMultipleChoiceFilter(
        field_name="tags",
        queryset=Tag.objects.all(),
        label=_("Tags"),
        distinct=False,
    )
    responsible = django_filters.ModelChoiceFilter(
        queryset=User.objects.filter(is_active=True),
        label=_("Responsible"),
    )
    team = django_filters.ModelChoiceFilter(queryset=Team.objects.all(), label=_("Team"))
    created_from = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", label=_("Created from"), widget=DateInput
    )
    created_to = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label=_("Created to"), widget=DateInput
    )
    actualized_from = django_filters.DateFilter(
        field_name="actualized_at",
        lookup_expr="date__gte",
        label=_("Confirmed from"),
        widget=DateInput,
    )
    actualized_to = django_filters.DateFilter(
        method="filter_actualized_to",
        label=_("Confirmed before"),
        widget=DateInput,
    )
    archived = django_filters.ChoiceFilter(
        choices=ARCHIVED_CHOICES, method="filter_archived", label=_("Archive"), empty_label=None
    )

    class Meta:
        model = Client
        fields: list[str] = []

    def filter_q(self, queryset: QuerySet[Client], name: str, value: str) -> QuerySet[Client]:
        condition = match_filter(value or "")
        return queryset if condition is None else queryset.filter(condition)

    def filter_actualized_to(self, queryset, name, value):
        # Never-confirmed cards are the stalest of all, so they belong to "confirmed before".
        return queryset.filter(Q(actualized_at__date__lte=value) | Q(actualized_at__isnull=True))

    def filter_archived(self, queryset, name, value):
        if value == "all":
            return queryset
        return queryset.filter(is_archived=value == "yes")

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("archived"):
            queryset = queryset.filter(is_archived=False)
        return queryset
