"""care.services: surveys and recommendations written with validation, change log and the
card's timeline line."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from kartoteka.activities.models import TimelineEvent
from kartoteka.care import services
from kartoteka.care.models import Recommendation, SurveyResponse
from kartoteka.clients.tests.factories import make_person
from kartoteka.core.models import ObjectChange

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2024, 5, 20)


@pytest.fixture(autouse=True)
def frozen_today(time_machine):
    time_machine.move_to(datetime.datetime(2024, 5, 20, 12, 0, tzinfo=datetime.UTC), tick=False)


def changes_of(obj) -> list[ObjectChange]:
    content_type = ContentType.objects.get_for_model(obj)
    return list(
        ObjectChange.objects.filter(content_type=content_type, object_id=obj.pk).order_by("pk")
    )


def timeline_of(obj) -> TimelineEvent:
    content_type = ContentType.objects.get_for_model(obj)
    return TimelineEvent.objects.get(content_type=content_type, object_id=obj.pk)


# --- Surveys ------------------------------------------------------------------------------------


def test_survey_create_saves_logs_and_writes_the_timeline_line(alice):
    card = make_person(alice)
    data = {
        "taken_on": datetime.date(2024, 5, 18),
        "name": "После визита",
        "scale": "nps",
        "score": 9,
        "summary": "Понравился мастер",
    }

    survey = services.survey_create(actor=alice, client=card, data=data)

    saved = SurveyResponse.objects.get()
    assert saved.pk == survey.pk
    assert (saved.client, saved.author, saved.score) == (card, alice, 9)
    [change] = changes_of(saved)
    assert change.action == ObjectChange.Action.CREATE
    assert change.after["name"] == "После визита"
    assert change.after["score"] == 9
    event = timeline_of(saved)
    assert (event.client, event.kind, event.subkind) == (card, "survey", "nps")
    assert event.title == "NPS 9 — После визита"
    assert event.summary == "Понравился мастер"
    assert timezone.localtime(event.occurred_at).date() == datetime.date(2024, 5, 18)


def test_survey_taken_on_defaults_to_today(alice):
    card = make_person(alice)

    survey = services.survey_create(
        actor=alice, client=card, data={"name": "CSAT", "scale": "csat", "score": 4}
    )

    assert survey.taken_on == TODAY
    assert timeline_of(survey).title == "CSAT 4 — CSAT"


@pytest.mark.parametrize(
    ("scale", "score", "title"),
    [("free", None, "Анкета"), ("free", 7, "Анкета: 7"), ("csat", 1, "CSAT 1 — Анкета")],
)
def test_survey_titles(alice, scale, score, title):
    card = make_person(alice)

    survey = services.survey_create(
        actor=alice, client=card, data={"name": "Анкета", "scale": scale, "score": score}
    )

    assert timeline_of(survey).title == title


@pytest.mark.parametrize(
    ("scale", "score", "code"),
    [
        ("nps", None, "score_required"),
        ("nps", 11, "max_value"),
        ("csat", None, "score_required"),
        ("csat", 0, "score_out_of_range"),
        ("csat", 6, "score_out_of_range"),
        ("nps", -1, "min_value"),
    ],
)
def test_survey_score_must_fit_the_scale(alice, scale, score, code):
    card = make_person(alice)

    with pytest.raises(ValidationError) as caught:
        services.survey_create(
            actor=alice, client=card, data={"name": "Опрос", "scale": scale, "score": score}
        )

    assert [e.code for e in caught.value.error_dict["score"]] == [code]
    assert SurveyResponse.objects.count() == 0
    assert TimelineEvent.objects.count() == 0


@pytest.mark.parametrize("score", [0, 10])
def test_nps_takes_zero_to_ten(alice, score):
    card = make_person(alice)

    survey = services.survey_create(
        actor=alice, client=card, data={"name": "Опрос", "scale": "nps", "score": score}
    )

    assert survey.score == score


def test_survey_other_field_errors(alice):
    card = make_person(alice)

    with pytest.raises(ValidationError) as caught:
        services.survey_create(
            actor=alice,
            client=card,
            data={"name": "", "scale": "stars", "taken_on": datetime.date(2024, 5, 21)},
        )

    errors = caught.value.error_dict
    assert [e.code for e in errors["name"]] == ["blank"]
    assert [e.code for e in errors["scale"]] == ["invalid_choice"]
    assert [e.code for e in errors["taken_on"]] == ["future_date"]


def test_survey_update_logs_changes_and_refreshes_the_timeline(alice, bob):
    card = make_person(alice)
    survey = services.survey_create(
        actor=alice, client=card, data={"name": "Опрос", "scale": "nps", "score": 6}
    )

    services.survey_update(actor=bob, survey=survey, data={"score": 10})

    survey.refresh_from_db()
    assert survey.score == 10
    change = changes_of(survey)[-1]
    assert (change.action, change.actor) == (ObjectChange.Action.UPDATE, bob)
    assert (change.before, change.after) == ({"score": 6}, {"score": 10})
    assert timeline_of(survey).title == "NPS 10 — Опрос"


def test_survey_update_refused_keeps_the_instance(alice):
    card = make_person(alice)
    survey = services.survey_create(
        actor=alice, client=card, data={"name": "Опрос", "scale": "nps", "score": 6}
    )

    with pytest.raises(ValidationError):
        services.survey_update(actor=alice, survey=survey, data={"scale": "csat"})

    assert (survey.scale, survey.score) == ("nps", 6)
    survey.refresh_from_db()
    assert survey.scale == "nps"
    assert len(changes_of(survey)) == 1


def test_survey_delete_keeps_the_content_in_the_log_and_leaves_the_timeline(alice):
    card = make_person(alice)
    survey = services.survey_create(
        actor=alice, client=card, data={"name": "Опрос", "scale": "nps", "score": 3}
    )
    pk = survey.pk

    services.survey_delete(actor=alice, survey=survey)

    assert SurveyResponse.objects.count() == 0
    assert TimelineEvent.objects.count() == 0
    deletion = ObjectChange.objects.get(action=ObjectChange.Action.DELETE, object_id=pk)
    assert deletion.before["name"] == "Опрос"
    assert deletion.before["score"] == 3


# --- Recommendations ----------------------------------------------------------------------------


def test_recommendation_create_saves_logs_and_writes_the_timeline_line(alice):
    card = make_person(alice)
    data = {
        "given_on": datetime.date(2024, 5, 1),
        "text": "Повторить пилинг через шесть недель\nИзбегать солнца",
        "due_on": datetime.date(2024, 6, 12),
    }

    recommendation = services.recommendation_create(actor=alice, client=card, data=data)

    saved = Recommendation.objects.get()
    assert saved.pk == recommendation.pk
    assert (saved.author, saved.status, saved.status_changed_at) == (alice, "pending", None)
    [change] = changes_of(saved)
    assert change.action == ObjectChange.Action.CREATE
    assert change.after["due_on"] == "2024-06-12"
    event = timeline_of(saved)
    assert (event.kind, event.subkind) == ("recommendation", "pending")
    assert event.title == "Recommendation: Повторить пилинг через шесть недель"
    assert timezone.localtime(event.occurred_at).date() == datetime.date(2024, 5, 1)


def test_periodic_recommendation_is_due_one_period_after_it_was_given(alice):
    card = make_person(alice)

    recommendation = services.recommendation_create(
        actor=alice,
        client=card,
        data={"given_on": datetime.date(2024, 5, 1), "text": "Коррекция", "period_days": 30},
    )

    assert recommendation.due_on == datetime.date(2024, 5, 31)


def test_periodic_recommendation_may_name_its_first_due_date(alice):
    card = make_person(alice)

    recommendation = services.recommendation_create(
        actor=alice,
        client=card,
        data={"text": "Коррекция", "period_days": 30, "due_on": datetime.date(2024, 6, 5)},
    )

    assert (recommendation.given_on, recommendation.due_on) == (TODAY, datetime.date(2024, 6, 5))


def test_changing_the_period_moves_a_derived_due_date_but_not_a_typed_one(alice):
    card = make_person(alice)
    recommendation = services.recommendation_create(
        actor=alice,
        client=card,
        data={"given_on": datetime.date(2024, 5, 1), "text": "Коррекция", "period_days": 30},
    )

    services.recommendation_update(
        actor=alice, recommendation=recommendation, data={"period_days": 10}
    )
    assert recommendation.due_on == datetime.date(2024, 5, 11)

    services.recommendation_update(
        actor=alice,
        recommendation=recommendation,
        data={"period_days": 20, "due_on": datetime.date(2024, 7, 1)},
    )
    assert recommendation.due_on == datetime.date(2024, 7, 1)


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"text": ""}, "text", "blank"),
        ({"text": "x", "given_on": datetime.date(2024, 5, 21)}, "given_on", "future_date"),
        (
            {
                "text": "x",
                "given_on": datetime.date(2024, 5, 10),
                "due_on": datetime.date(2024, 5, 9),
            },
            "due_on",
            "due_before_given",
        ),
        ({"text": "x", "period_days": 0}, "period_days", "min_value"),
        ({"text": "x", "period_days": 4000}, "period_days", "period_too_long"),
        ({"text": "x", "status": "followed"}, "status", "unknown_field"),
    ],
)
def test_recommendation_invalid_input(alice, data, field, code):
    card = make_person(alice)

    with pytest.raises(ValidationError) as caught:
        services.recommendation_create(actor=alice, client=card, data=data)

    assert [e.code for e in caught.value.error_dict[field]] == [code]
    assert Recommendation.objects.count() == 0


def test_set_status_records_when_and_updates_the_timeline(alice, bob, time_machine):
    card = make_person(alice)
    recommendation = services.recommendation_create(
        actor=alice, client=card, data={"text": "Пить больше воды", "due_on": TODAY}
    )

    services.recommendation_set_status(actor=bob, recommendation=recommendation, status="followed")

    recommendation.refresh_from_db()
    assert recommendation.status == "followed"
    assert recommendation.status_changed_at == datetime.datetime(
        2024, 5, 20, 12, 0, tzinfo=datetime.UTC
    )
    assert recommendation.due_on == TODAY  # a one-off keeps its date
    change = changes_of(recommendation)[-1]
    assert change.actor == bob
    assert change.before["status"] == "pending"
    assert change.after["status"] == "followed"
    assert timeline_of(recommendation).subkind == "followed"


def test_setting_the_same_status_again_writes_nothing(alice):
    card = make_person(alice)
    recommendation = services.recommendation_create(actor=alice, client=card, data={"text": "x"})
    services.recommendation_set_status(
        actor=alice, recommendation=recommendation, status="not_followed"
    )
    log_size = ObjectChange.objects.count()

    services.recommendation_set_status(
        actor=alice, recommendation=recommendation, status="not_followed"
    )

    assert ObjectChange.objects.count() == log_size


def test_following_a_periodic_recommendation_starts_the_next_period(alice, time_machine):
    card = make_person(alice)
    recommendation = services.recommendation_create(
        actor=alice,
        client=card,
        data={"given_on": datetime.date(2024, 4, 1), "text": "Коррекция", "period_days": 28},
    )
    assert recommendation.due_on == datetime.date(2024, 4, 29)

    services.recommendation_set_status(
        actor=alice, recommendation=recommendation, status="followed"
    )

    assert recommendation.due_on == datetime.date(2024, 6, 17)
    time_machine.move_to(datetime.datetime(2024, 6, 20, 12, 0, tzinfo=datetime.UTC), tick=False)
    services.recommendation_set_status(
        actor=alice, recommendation=recommendation, status="followed"
    )
    recommendation.refresh_from_db()
    assert recommendation.due_on == datetime.date(2024, 7, 18)
    assert recommendation.status_changed_at.date() == datetime.date(2024, 6, 20)


def test_unknown_status_is_refused(alice):
    card = make_person(alice)
    recommendation = services.recommendation_create(actor=alice, client=card, data={"text": "x"})

    with pytest.raises(ValidationError) as caught:
        services.recommendation_set_status(
            actor=alice, recommendation=recommendation, status="done"
        )

    assert caught.value.error_dict["status"][0].code == "invalid_choice"
    recommendation.refresh_from_db()
    assert recommendation.status == "pending"


def test_recommendation_delete_keeps_it_in_the_log(alice):
    card = make_person(alice)
    recommendation = services.recommendation_create(
        actor=alice, client=card, data={"text": "Совет"}
    )
    pk = recommendation.pk

    services.recommendation_delete(actor=alice, recommendation=recommendation)

    assert Recommendation.objects.count() == 0
    assert TimelineEvent.objects.count() == 0
    assert ObjectChange.objects.get(action="delete", object_id=pk).before["text"] == "Совет"


@pytest.mark.parametrize("role", ["rita", "charlie"])
def test_users_who_may_not_change_the_card_write_nothing(users, role):
    alice = users["alice"]
    card = make_person(alice)
    survey = services.survey_create(
        actor=alice, client=card, data={"name": "Опрос", "scale": "nps", "score": 5}
    )
    recommendation = services.recommendation_create(actor=alice, client=card, data={"text": "x"})
    actor = users[role]
    log_size = ObjectChange.objects.count()
    attempts = [
        lambda: services.survey_create(actor=actor, client=card, data={"name": "n", "score": 1}),
        lambda: services.survey_update(actor=actor, survey=survey, data={"score": 9}),
        lambda: services.survey_delete(actor=actor, survey=survey),
        lambda: services.recommendation_create(actor=actor, client=card, data={"text": "y"}),
        lambda: services.recommendation_update(
            actor=actor, recommendation=recommendation, data={"text": "y"}
        ),
        lambda: services.recommendation_set_status(
            actor=actor, recommendation=recommendation, status="followed"
        ),
        lambda: services.recommendation_delete(actor=actor, recommendation=recommendation),
    ]

    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()

    survey.refresh_from_db()
    recommendation.refresh_from_db()
    assert (survey.score, recommendation.text, recommendation.status) == (5, "x", "pending")
    assert SurveyResponse.objects.count() == 1
    assert Recommendation.objects.count() == 1
    assert ObjectChange.objects.count() == log_size
    assert TimelineEvent.objects.count() == 2
