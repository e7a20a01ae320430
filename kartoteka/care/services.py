"""Writes of surveys and recommendations (health notes live in care/health.py).

Every change goes through these functions whichever door it comes from: permission check,
validation, save, change log and the card's timeline line, in one transaction.
"""

import datetime
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kartoteka.accounts.models import User
from kartoteka.activities.models import TimelineEvent
from kartoteka.activities.timeline import timeline_record, timeline_remove
from kartoteka.care.models import Recommendation, SurveyResponse
from kartoteka.clients import permissions
from kartoteka.clients.models import Client
from kartoteka.core.changelog import log_change, snapshot
from kartoteka.core.messages import Message
from kartoteka.core.models import ObjectChange

SURVEY_FIELDS = ["taken_on", "name", "scale", "score", "summary"]
SURVEY_LOG_FIELDS = [*SURVEY_FIELDS, "author"]
RECOMMENDATION_FIELDS = ["given_on", "text", "due_on", "period_days"]
RECOMMENDATION_LOG_FIELDS = [*RECOMMENDATION_FIELDS, "author", "status", "status_changed_at"]
NULLABLE_FIELDS = frozenset({"score", "due_on", "period_days", "taken_on", "given_on"})

# scale -> (lowest, highest) score; None: the score is optional.
SCORE_RANGES: dict[str, tuple[int, int]] = {
    SurveyResponse.Scale.NPS: (0, 10),
    SurveyResponse.Scale.CSAT: (1, 5),
    SurveyResponse.Scale.FREE: (0, 10),
}
SCORE_REQUIRED = frozenset({SurveyResponse.Scale.NPS, SurveyResponse.Scale.CSAT})
MAX_PERIOD_DAYS = 3650


def _apply(obj: Any, data: Mapping[str, Any], fields: list[str]) -> None:
    unknown = set(data) - set(fields)
    if unknown:
        raise ValidationError(
            {
                name: ValidationError(_("Unknown field."), code="unknown_field")
                for name in sorted(unknown)
            }
        )
    for name, value in data.items():
        if value is None and name not in NULLABLE_FIELDS:
            value = ""  # text fields store "" for "nothing", never NULL
        setattr(obj, name, value.strip() if isinstance(value, str) else value)


def _full_clean(obj: Any, rules: dict[str, ValidationError]) -> None:
    """The model's own checks and the service's rules, every error reported at once."""
    errors: dict[str, list[ValidationError]] = {}
    try:
        obj.full_clean(exclude=["client", "author"])
    except ValidationError as exc:
        errors.update(exc.error_dict)
    for name, error in rules.items():
        errors.setdefault(name, [error])
    if errors:
        raise ValidationError(errors)


def _not_in_future(value: Any, field: str, rules: dict[str, ValidationError]) -> None:
    if isinstance(value, datetime.date) and value > timezone.localdate():
        rules[field] = ValidationError(_("This date is in the future."), code="future_date")


# --- Surveys -----------------------------------------------------------------------------------


def _survey_rules(survey: SurveyResponse) -> dict[str, ValidationError]:
    rules: dict[str, ValidationError] = {}
    _not_in_future(survey.taken_on, "taken_on", rules)
    low, high = SCORE_RANGES.get(survey.scale, (0, 10))
    if survey.score is None:
        if survey.scale in SCORE_REQUIRED:
            rules["score"] = ValidationError(
                _("Enter a score from %(low)s to %(high)s.") % {"low": low, "high": high},
                code="score_required",
            )
    elif not low <= survey.score <= high:
        rules["score"] = ValidationError(
            _("The score is from %(low)s to %(high)s on this scale.") % {"low": low, "high": high},
            code="score_out_of_range",
        )
    return rules


def survey_title(survey: SurveyResponse) -> str | Message:
    """How the survey reads on the timeline: "NPS 9 — Visit feedback"."""
    if survey.score is None:
        return survey.name
    if survey.scale == SurveyResponse.Scale.FREE:
        return Message(
            gettext_noop("%(name)s: %(score)s"), {"name": survey.name, "score": survey.score}
        )
    return Message(
        gettext_noop("%(scale)s %(score)s — %(name)s"),
        {"scale": survey.scale.upper(), "score": survey.score, "name": survey.name},
    )


def _survey_on_timeline(survey: SurveyResponse) -> TimelineEvent:
    return timeline_record(
        client=survey.client,
        obj=survey,
        kind=TimelineEvent.Kind.SURVEY,
        subkind=survey.scale,
        occurred_at=survey.taken_on,
        title=survey_title(survey),
        summary=survey.summary,
        author=survey.author,
    )


@transaction.atomic
def survey_create(*, actor: User, client: Client, data: Mapping[str, Any]) -> SurveyResponse:
    """Record a survey the client answered (`taken_on` defaults to today).

    Raises PermissionDenied, ValidationError. Writes an ObjectChange and the timeline line.
    """
    permissions.ensure_can_change_client(actor, client)
    survey = SurveyResponse(client=client, author=actor)
    _apply(survey, data, SURVEY_FIELDS)
    if survey.taken_on is None:
        survey.taken_on = timezone.localdate()
    _full_clean(survey, _survey_rules(survey))
    survey.save()
    log_change(
        actor=actor,
        obj=survey,
        action=ObjectChange.Action.CREATE,
        after=snapshot(survey, SURVEY_LOG_FIELDS),
    )
    _survey_on_timeline(survey)
    return survey


@transaction.atomic
def survey_update(
    *, actor: User, survey: SurveyResponse, data: Mapping[str, Any]
) -> SurveyResponse:
    """Change the fields in `data`. Raises PermissionDenied, ValidationError. Writes an
    ObjectChange (changed fields) and refreshes the timeline line."""
    permissions.ensure_can_change_client(actor, survey.client)
    saved_state = survey.__dict__.copy()
    before = snapshot(survey, SURVEY_LOG_FIELDS)
    try:
        _apply(survey, data, SURVEY_FIELDS)
        if survey.taken_on is None:
            survey.taken_on = saved_state["taken_on"]
        _full_clean(survey, _survey_rules(survey))
    except ValidationError:
        survey.__dict__.clear()
        survey.__dict__.update(saved_state)
        raise
    survey.save()
    log_change(
        actor=actor,
        obj=survey,
        action=ObjectChange.Action.UPDATE,
        before=before,
        after=snapshot(survey, SURVEY_LOG_FIELDS),
    )
    _survey_on_timeline(survey)
    return survey


@transaction.atomic
def survey_delete(*, actor: User, survey: SurveyResponse) -> None:
    """Delete a survey: it leaves the card and its timeline; the change log keeps its content."""
    permissions.ensure_can_change_client(actor, survey.client)
    log_change(
        actor=actor,
        obj=survey,
        action=ObjectChange.Action.DELETE,
        before=snapshot(survey, SURVEY_LOG_FIELDS),
    )
    timeline_remove(obj=survey)
    survey.delete()


# --- Recommendations ---------------------------------------------------------------------------


def recommendation_anchor(recommendation: Recommendation) -> datetime.date:
    """The date a periodic recommendation counts from: when it was last followed, else when
    it was given."""
    if (
        recommendation.status == Recommendation.Status.FOLLOWED
        and recommendation.status_changed_at is not None
    ):
        return timezone.localdate(recommendation.status_changed_at)
    return recommendation.given_on


def _fill_due_date(recommendation: Recommendation) -> None:
    """A periodic recommendation without a due date is due one period after its anchor."""
    if recommendation.due_on is None and recommendation.period_days:
        recommendation.due_on = recommendation_anchor(recommendation) + datetime.timedelta(
            days=recommendation.period_days
        )


def _recommendation_rules(recommendation: Recommendation) -> dict[str, ValidationError]:
    rules: dict[str, ValidationError] = {}
    _not_in_future(recommendation.given_on, "given_on", rules)
    if (
        recommendation.due_on is not None
        and isinstance(recommendation.given_on, datetime.date)
        and recommendation.due_on < recommendation.given_on
    ):
        rules["due_on"] = ValidationError(
            _("The due date cannot be before the date the recommendation was given."),
            code="due_before_given",
        )
    if recommendation.period_days is not None and recommendation.period_days > MAX_PERIOD_DAYS:
        rules["period_days"] = ValidationError(
            _("A period is at most %(max)s days.") % {"max": MAX_PERIOD_DAYS},
            code="period_too_long",
        )
    return rules


def recommendation_title(recommendation: Recommendation) -> Message:
    """How the recommendation reads on the timeline: its first line, shortened."""
    first_line = (recommendation.text.strip().splitlines() or [""])[0]
    if len(first_line) > 120:
        first_line = first_line[:119].rstrip() + "…"
    return Message(gettext_noop("Recommendation: %(text)s"), {"text": first_line})


def _recommendation_on_timeline(recommendation: Recommendation) -> TimelineEvent:
    return timeline_record(
        client=recommendation.client,
        obj=recommendation,
        kind=TimelineEvent.Kind.RECOMMENDATION,
        subkind=recommendation.status,
        occurred_at=recommendation.given_on,
        title=recommendation_title(recommendation),
        summary=recommendation.text,
        author=recommendation.author,
    )


@transaction.atomic
def recommendation_create(
    *, actor: User, client: Client, data: Mapping[str, Any]
) -> Recommendation:
    """Record advice given to the client (`given_on` defaults to today; a periodic one with no
    due date is due one period later). Raises PermissionDenied, ValidationError. Writes an
    ObjectChange and the timeline line."""
    permissions.ensure_can_change_client(actor, client)
    recommendation = Recommendation(client=client, author=actor)
    _apply(recommendation, data, RECOMMENDATION_FIELDS)
    if recommendation.given_on is None:
        recommendation.given_on = timezone.localdate()
    _fill_due_date(recommendation)
    _full_clean(recommendation, _recommendation_rules(recommendation))
    recommendation.save()
    log_change(
        actor=actor,
        obj=recommendation,
        action=ObjectChange.Action.CREATE,
        after=snapshot(recommendation, RECOMMENDATION_LOG_FIELDS),
    )
    _recommendation_on_timeline(recommendation)
    return recommendation


@transaction.atomic
def recommendation_update(
    *, actor: User, recommendation: Recommendation, data: Mapping[str, Any]
) -> Recommendation:
    """Change the fields in `data` (the status has its own service). Raises PermissionDenied,
    ValidationError. Writes an ObjectChange and refreshes the timeline line."""
    permissions.ensure_can_change_client(actor, recommendation.client)
    saved_state = recommendation.__dict__.copy()
    before = snapshot(recommendation, RECOMMENDATION_LOG_FIELDS)
    try:
        _apply(recommendation, data, RECOMMENDATION_FIELDS)
        if recommendation.given_on is None:
            recommendation.given_on = saved_state["given_on"]
        moved = (
            recommendation.period_days != saved_state["period_days"]
            or recommendation.given_on != saved_state["given_on"]
        )
        if moved and recommendation.period_days and recommendation.due_on == saved_state["due_on"]:
            # The due date was derived from the period: derive it again, unless it was typed.
            recommendation.due_on = None
        _fill_due_date(recommendation)
        _full_clean(recommendation, _recommendation_rules(recommendation))
    except ValidationError:
        recommendation.__dict__.clear()
        recommendation.__dict__.update(saved_state)
        raise
    recommendation.save()
    log_change(
        actor=actor,
        obj=recommendation,
        action=ObjectChange.Action.UPDATE,
        before=before,
        after=snapshot(recommendation, RECOMMENDATION_LOG_FIELDS),
    )
    _recommendation_on_timeline(recommendation)
    return recommendation


@transaction.atomic
def recommendation_set_status(
    *, actor: User, recommendation: Recommendation, status: str
) -> Recommendation:
    """Mark a recommendation pending, followed or not followed; records when.

    Following a periodic recommendation starts its next period: it is due again one period
    after today. Raises PermissionDenied, ValidationError (unknown status).
    """
    permissions.ensure_can_change_client(actor, recommendation.client)
    if status not in Recommendation.Status.values:
        raise ValidationError(
            {
                "status": ValidationError(
                    _("Select one of: %(expected)s.")
                    % {"expected": ", ".join(Recommendation.Status.values)},
                    code="invalid_choice",
                )
            }
        )
    periodic_followed = bool(
        recommendation.period_days and status == Recommendation.Status.FOLLOWED
    )
    if recommendation.status == status and not periodic_followed:
        return recommendation
    before = snapshot(recommendation, RECOMMENDATION_LOG_FIELDS)
    recommendation.status = status
    recommendation.status_changed_at = timezone.now()
    if periodic_followed:
        assert recommendation.period_days is not None
        recommendation.due_on = timezone.localdate() + datetime.timedelta(
            days=recommendation.period_days
        )
    recommendation.save(update_fields=["status", "status_changed_at", "due_on"])
    log_change(
        actor=actor,
        obj=recommendation,
        action=ObjectChange.Action.UPDATE,
        before=before,
        after=snapshot(recommendation, RECOMMENDATION_LOG_FIELDS),
    )
    _recommendation_on_timeline(recommendation)
    return recommendation


@transaction.atomic
def recommendation_delete(*, actor: User, recommendation: Recommendation) -> None:
    """Delete a recommendation: it leaves the card and its timeline; the change log keeps it."""
    permissions.ensure_can_change_client(actor, recommendation.client)
    log_change(
        actor=actor,
        obj=recommendation,
        action=ObjectChange.Action.DELETE,
        before=snapshot(recommendation, RECOMMENDATION_LOG_FIELDS),
    )
    timeline_remove(obj=recommendation)
    recommendation.delete()
