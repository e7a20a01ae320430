"""care.selectors: the overdue list across cards, and what each user sees."""

import datetime

import pytest
from django.http import Http404

from kartoteka.care import selectors, services
from kartoteka.clients.services import client_archive
from kartoteka.clients.tests.factories import make_person

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2024, 5, 20)


@pytest.fixture(autouse=True)
def frozen_today(time_machine):
    time_machine.move_to(datetime.datetime(2024, 5, 20, 12, 0, tzinfo=datetime.UTC), tick=False)


def recommend(actor, card, text, **data):
    fields = {"given_on": datetime.date(2024, 1, 1), "text": text, **data}
    return services.recommendation_create(actor=actor, client=card, data=fields)


def test_overdue_lists_open_recommendations_past_due_longest_first(alice):
    card = make_person(alice)
    due_long_ago = recommend(alice, card, "Давно", due_on=datetime.date(2024, 3, 1))
    due_yesterday = recommend(alice, card, "Вчера", due_on=datetime.date(2024, 5, 19))
    recommend(alice, card, "Сегодня", due_on=TODAY)
    recommend(alice, card, "Завтра", due_on=datetime.date(2024, 5, 21))
    recommend(alice, card, "Без срока")
    followed = recommend(alice, card, "Выполнено", due_on=datetime.date(2024, 2, 1))
    services.recommendation_set_status(actor=alice, recommendation=followed, status="followed")
    declined = recommend(alice, card, "Отказ", due_on=datetime.date(2024, 2, 1))
    services.recommendation_set_status(actor=alice, recommendation=declined, status="not_followed")

    overdue = list(selectors.recommendation_overdue(user=alice))

    assert [r.text for r in overdue] == ["Давно", "Вчера"]
    assert [selectors.days_overdue(r) for r in overdue] == [80, 1]
    assert [selectors.is_overdue(r) for r in (due_long_ago, due_yesterday)] == [True, True]


def test_overdue_takes_the_day_to_judge_by(alice):
    card = make_person(alice)
    recommend(alice, card, "Срок 1 июня", due_on=datetime.date(2024, 6, 1))

    assert list(selectors.recommendation_overdue(user=alice, today=datetime.date(2024, 6, 1))) == []
    later = selectors.recommendation_overdue(user=alice, today=datetime.date(2024, 6, 3))
    assert [r.text for r in later] == ["Срок 1 июня"]
    assert selectors.days_overdue(later[0], datetime.date(2024, 6, 3)) == 2


def test_a_followed_periodic_recommendation_is_overdue_again_after_its_period(alice, time_machine):
    card = make_person(alice)
    periodic = recommend(alice, card, "Каждые 10 дней", period_days=10)
    services.recommendation_set_status(actor=alice, recommendation=periodic, status="followed")
    assert periodic.due_on == datetime.date(2024, 5, 30)

    assert list(selectors.recommendation_overdue(user=alice)) == []
    overdue = selectors.recommendation_overdue(user=alice, today=datetime.date(2024, 6, 2))
    assert [r.pk for r in overdue] == [periodic.pk]


def test_overdue_covers_only_current_cards_the_user_sees(alice, bob, charlie, mallory, rita, ada):
    north_card = make_person(alice, last_name="Северный")
    south_card = make_person(charlie, last_name="Южный")
    archived = make_person(alice, last_name="Архивный")
    due = {"due_on": datetime.date(2024, 5, 1)}
    on_north = recommend(alice, north_card, "Север", **due)
    on_south = recommend(charlie, south_card, "Юг", **due)
    recommend(alice, archived, "Архив", **due)
    client_archive(actor=alice, client=archived)

    def seen(user):
        return {r.pk for r in selectors.recommendation_overdue(user=user)}

    assert seen(alice) == {on_north.pk}
    assert seen(bob) == {on_north.pk}
    assert seen(mallory) == {on_north.pk}
    assert seen(rita) == {on_north.pk}
    assert seen(charlie) == {on_south.pk}
    assert seen(ada) == {on_north.pk, on_south.pk}


def test_recommendation_by_id_alone_only_when_its_card_is_visible(alice, charlie):
    card = make_person(alice)
    recommendation = recommend(alice, card, "Совет")

    assert selectors.recommendation_visible_get(user=alice, pk=recommendation.pk) == recommendation
    with pytest.raises(Http404):
        selectors.recommendation_visible_get(user=charlie, pk=recommendation.pk)


def test_per_card_reads_stay_on_the_card(alice):
    card = make_person(alice)
    other = make_person(alice, last_name="Другой")
    survey = services.survey_create(
        actor=alice, client=other, data={"name": "Опрос", "scale": "nps", "score": 8}
    )
    recommendation = recommend(alice, other, "Совет")

    with pytest.raises(Http404):
        selectors.survey_get(user=alice, client=card, pk=survey.pk)
    with pytest.raises(Http404):
        selectors.recommendation_get(user=alice, client=card, pk=recommendation.pk)
    assert selectors.survey_get(user=alice, client=other, pk=survey.pk) == survey


def test_next_due_and_latest_nps_for_the_summary(alice):
    card = make_person(alice)
    recommend(alice, card, "Позже", due_on=datetime.date(2024, 7, 1))
    sooner = recommend(alice, card, "Раньше", due_on=datetime.date(2024, 6, 1))
    closed = recommend(alice, card, "Закрыто", due_on=datetime.date(2024, 5, 25))
    services.recommendation_set_status(actor=alice, recommendation=closed, status="not_followed")
    for day, score in [(1, 6), (10, 9)]:
        services.survey_create(
            actor=alice,
            client=card,
            data={
                "name": "NPS",
                "scale": "nps",
                "score": score,
                "taken_on": datetime.date(2024, 5, day),
            },
        )
    services.survey_create(
        actor=alice,
        client=card,
        data={"name": "CSAT", "scale": "csat", "score": 2, "taken_on": datetime.date(2024, 5, 15)},
    )

    assert selectors.recommendation_next_due(user=alice, client=card) == sooner
    latest = selectors.survey_latest_nps(user=alice, client=card)
    assert latest is not None
    assert latest.score == 9
