"""Reads of surveys and recommendations (health notes: care/health.py only).

A card's records are visible exactly when the card is: per-card reads take a card fetched
with clients.selectors.client_get; reads across cards start from Client.objects.visible_to.
"""

import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from kartoteka.care.models import Recommendation, SurveyResponse
from kartoteka.clients.models import Client

# Recommendations still to be followed: pending ones, and periodic ones followed before
# (each time they are followed their next period starts).
OPEN_RECOMMENDATIONS = Q(status=Recommendation.Status.PENDING) | Q(
    status=Recommendation.Status.FOLLOWED, period_days__isnull=False
)


def survey_list(*, user: Any, client: Client) -> QuerySet[SurveyResponse]:
    """The card's surveys, newest first. `client` was fetched for `user`."""
    return SurveyResponse.objects.filter(client=client).select_related("author")


def survey_get(*, user: Any, client: Client, pk: int) -> SurveyResponse:
    """One survey of the card; Http404 when the card has no such survey."""
    survey = survey_list(user=user, client=client).filter(pk=pk).first()
    if survey is None:
        raise Http404("No such survey")
    survey.client = client
    return survey


def survey_latest_nps(*, user: Any, client: Client) -> SurveyResponse | None:
    """The card's latest NPS answer (for the card's summary header)."""
    return (
        survey_list(user=user, client=client)
        .filter(scale=SurveyResponse.Scale.NPS, score__isnull=False)
        .first()
    )


def recommendation_list(*, user: Any, client: Client) -> QuerySet[Recommendation]:
    """The card's recommendations, newest first. `client` was fetched for `user`."""
    return Recommendation.objects.filter(client=client).select_related("author")


def recommendation_get(*, user: Any, client: Client, pk: int) -> Recommendation:
    """One recommendation of the card; Http404 when the card has no such recommendation."""
    recommendation = recommendation_list(user=user, client=client).filter(pk=pk).first()
    if recommendation is None:
        raise Http404("No such recommendation")
    recommendation.client = client
    return recommendation


def recommendation_visible_get(*, user: Any, pk: int) -> Recommendation:
    """A recommendation by id alone, if `user` may see its card; Http404 otherwise."""
    recommendation = (
        Recommendation.objects.filter(
            pk=pk, client__in=Client.objects.visible_to(user).values("pk")
        )
        .select_related("client", "author")
        .first()
    )
    if recommendation is None:
        raise Http404("No such recommendation")
    return recommendation


def recommendation_next_due(*, user: Any, client: Client) -> Recommendation | None:
    """The card's open recommendation due soonest (overdue ones first), for the summary."""
    return (
        recommendation_list(user=user, client=client)
        .filter(OPEN_RECOMMENDATIONS, due_on__isnull=False)
        .order_by("due_on", "pk")
        .first()
    )


def is_overdue(recommendation: Recommendation, today: datetime.date | None = None) -> bool:
    """Is the recommendation still to be followed and past its due date?"""
    today = today or timezone.localdate()
    is_open = recommendation.status == Recommendation.Status.PENDING or (
        recommendation.status == Recommendation.Status.FOLLOWED
        and recommendation.period_days is not None
    )
    return is_open and recommendation.due_on is not None and recommendation.due_on < today


def recommendation_overdue(
    *, user: Any, today: datetime.date | None = None
) -> QuerySet[Recommendation]:
    """Recommendations past their due date and not yet followed, over every current (not
    archived) card `user` may see; the longest overdue first, with card and author joined."""
    today = today or timezone.localdate()
    cards = Client.objects.visible_to(user).filter(is_archived=False)
    return (
        Recommendation.objects.filter(OPEN_RECOMMENDATIONS, due_on__lt=today)
        .filter(client__in=cards.values("pk"))
        .select_related("client", "author")
        .order_by("due_on", "pk")
    )


def days_overdue(recommendation: Recommendation, today: datetime.date | None = None) -> int:
    """Whole days since the recommendation was due (0 when it is not overdue)."""
    today = today or timezone.localdate()
    if recommendation.due_on is None:
        return 0
    return max((today - recommendation.due_on).days, 0)
