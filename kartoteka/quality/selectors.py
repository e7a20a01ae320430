"""Reads of card quality: one card's assessment (live) and the list of cards that need
attention (from the stored rows), scoped to what the user may see."""

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.clients.models import Client
from kartoteka.quality.models import CardQuality
from kartoteka.quality.rules import PROBLEMS, Assessment, assess

# A card whose data nobody confirmed for this long is "stale".
STALE_DAYS = 365
PAGE_SIZE = 50
KINDS = ("incomplete", "invalid", "stale")


@dataclass
class CardReport:
    """One card's quality as the card page shows it."""

    client: Client
    assessment: Assessment
    days_since_actualized: int | None

    @property
    def stale(self) -> bool:
        days = self.days_since_actualized
        return days is None or days > STALE_DAYS

    @property
    def problems(self) -> list[tuple[str, str, str]]:
        """(code, label, field to edit) for each problem."""
        return [(p, str(PROBLEMS[p][0]), PROBLEMS[p][3]) for p in self.assessment.problems]


def days_since(moment: datetime.datetime | None) -> int | None:
    if moment is None:
        return None
    return (timezone.now() - moment).days


def card_report(*, user: Any, client: Client) -> CardReport:
    """The live assessment of a card the caller fetched visibly (a few small queries)."""
    has_people = (
        client.is_company
        and Client.objects.filter(employer_id=client.pk, is_archived=False).exists()
    )
    result = assess(client, client.contacts.all(), bool(has_people))
    return CardReport(client, result, days_since(client.actualized_at))


@dataclass
class AttentionPage:
    items: list[CardQuality]
    next_after: str | None


def attention_list(
    *,
    user: Any,
    kind: str = "",
    responsible: int | None = None,
    team: int | None = None,
    after: str | None = None,
    limit: int = PAGE_SIZE,
) -> AttentionPage:
    """Cards `user` sees that need attention, worst first (score, then card id), keyset-
    paginated by `after` ("score:id"). `kind`: incomplete, invalid, stale or "" (any)."""
    if kind and kind not in KINDS:
        raise ValidationError(
            {"kind": ValidationError(_("Unknown kind of problem."), code="invalid")}
        )
    visible = Client.objects.visible_to(user).filter(is_archived=False)
    queryset: QuerySet[CardQuality] = CardQuality.objects.filter(client__in=visible)
    stale_before = timezone.now() - datetime.timedelta(days=STALE_DAYS)
    stale = Q(client__actualized_at__isnull=True) | Q(client__actualized_at__lt=stale_before)
    if kind == "incomplete":
        queryset = queryset.filter(incomplete=True)
    elif kind == "invalid":
        queryset = queryset.filter(invalid=True)
    elif kind == "stale":
        queryset = queryset.filter(stale)
    else:
        queryset = queryset.filter(Q(score__lt=100) | stale)
    if responsible:
        queryset = queryset.filter(client__responsible_id=responsible)
    if team:
        queryset = queryset.filter(client__team_id=team)
    if after:
        try:
            score_text, pk_text = after.split(":")
            score, pk = int(score_text), int(pk_text)
        except ValueError as exc:
            raise ValidationError(
                {"after": ValidationError(_("This page link is no longer valid."), code="invalid")}
            ) from exc
        queryset = queryset.filter(Q(score__gt=score) | Q(score=score, client_id__gt=pk))
    rows = list(
        queryset.select_related("client", "client__responsible", "client__team").order_by(
            "score", "client_id"
        )[: limit + 1]
    )
    next_after = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_after = f"{rows[-1].score}:{rows[-1].client_id}"
    for row in rows:
        row.days_since_actualized = days_since(row.client.actualized_at)  # type: ignore[attr-defined]
        row.problem_labels = [str(PROBLEMS[p][0]) for p in row.problems if p in PROBLEMS]  # type: ignore[attr-defined]
    return AttentionPage(rows, next_after)


def unassessed_exist() -> bool:
    """Are there cards never assessed (written in bulk)? One index probe."""
    return Client.objects.filter(quality__isnull=True).exists()
