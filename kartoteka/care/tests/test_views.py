"""The care section of the card page and the overdue-recommendations page: fragments, HTMX
forms, plain-form fallbacks, errors per field, the authorization matrix and query counts.
(Health notes: test_health.py.)"""

import datetime
import re

import pytest
from django.db import connection
from django.test import Client as DjangoClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kartoteka.care import health, services
from kartoteka.care.models import Recommendation, SurveyResponse
from kartoteka.clients.tests.factories import make_person
from kartoteka.consent.tests.factories import give_health_consent
from kartoteka.core.models import ObjectChange

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
TODAY = datetime.date(2024, 5, 20)


@pytest.fixture(autouse=True)
def frozen_today(time_machine):
    time_machine.move_to(datetime.datetime(2024, 5, 20, 12, 0, tzinfo=datetime.UTC), tick=False)


def care_url(card) -> str:
    return reverse("care:client-care", args=[card.pk])


def survey(actor, card, **data) -> SurveyResponse:
    fields = {"name": "После визита", "scale": "nps", "score": 9, **data}
    return services.survey_create(actor=actor, client=card, data=fields)


def recommend(actor, card, **data) -> Recommendation:
    fields = {"given_on": datetime.date(2024, 5, 1), "text": "Повторить через месяц", **data}
    return services.recommendation_create(actor=actor, client=card, data=fields)


def survey_post(**overrides) -> dict[str, str]:
    data = {"taken_on": "2024-05-19", "name": "Опрос после визита", "scale": "nps", "score": "8",
            "summary": "Всё хорошо", **overrides}  # fmt: skip
    return {f"survey-{key}": value for key, value in data.items()}


def recommendation_post(**overrides) -> dict[str, str]:
    data = {"given_on": "2024-05-20", "text": "Увлажняющий крем дважды в день", "due_on": "",
            "period_days": "", **overrides}  # fmt: skip
    return {f"recommendation-{key}": value for key, value in data.items()}


# --- The section --------------------------------------------------------------------------------


def test_section_is_a_fragment_with_surveys_and_recommendations(alice, web_client_for):
    card = make_person(alice)
    survey(alice, card, name="Первый опрос", score=3, taken_on=datetime.date(2024, 5, 1))
    survey(alice, card, name="CSAT визита", scale="csat", score=5)
    late = recommend(alice, card, text="Просроченная", due_on=datetime.date(2024, 5, 10))
    in_time = recommend(alice, card, text="В срок", due_on=datetime.date(2024, 6, 10))

    response = web_client_for(alice).get(care_url(card), **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith("<section")
    assert 'id="section-care"' in html
    assert '<span class="badge badge-archived score-badge" title="NPS (0–10)">NPS 3</span>' in html
    assert '<span class="badge badge-active score-badge" title="CSAT (1–5)">CSAT 5</span>' in html
    assert html.index("CSAT визита") < html.index("Первый опрос")
    rows = {
        match.group(2): match.group(1)
        for match in re.finditer(r'<li class="([^"]*)" id="recommendation-(\d+)"', html)
    }
    assert rows == {
        str(late.pk): "recommendation recommendation-pending recommendation-overdue",
        str(in_time.pk): "recommendation recommendation-pending",
    }
    assert reverse("care:survey-create", args=[card.pk]) in html
    assert reverse("care:recommendation-create", args=[card.pk]) in html
    assert "0 health notes — restricted" in html


def test_readonly_user_sees_everything_but_no_forms(alice, rita, web_client_for):
    card = make_person(alice)
    item = survey(alice, card, name="Для чтения")
    advice = recommend(alice, card, text="Совет для чтения")

    html = web_client_for(rita).get(care_url(card), **HTMX).content.decode()

    assert "Для чтения" in html
    assert "Совет для чтения" in html
    for name, args in [
        ("care:survey-create", [card.pk]),
        ("care:recommendation-create", [card.pk]),
        ("care:survey-edit", [card.pk, item.pk]),
        ("care:recommendation-status", [card.pk, advice.pk]),
    ]:
        assert reverse(name, args=args) not in html


def test_section_of_an_invisible_card_is_404(alice, charlie, web_client_for):
    card = make_person(alice)

    assert web_client_for(charlie).get(care_url(card), **HTMX).status_code == 404


def test_section_query_count_does_not_grow(ada, alice, web_client_for):
    card = make_person(alice)
    give_health_consent(card)
    web = web_client_for(ada)  # with health access: the notes are read too

    def count_for(rows: int) -> int:
        SurveyResponse.objects.all().delete()
        Recommendation.objects.all().delete()
        for note, _text in health.health_notes_for(user=ada, client=card):
            health.health_note_delete(actor=ada, note=note)
        for i in range(rows):
            survey(alice, card, name=f"Опрос {i}", score=i % 11)
            recommend(alice, card, text=f"Совет {i}", due_on=datetime.date(2024, 5, 1 + i))
            health.health_note_create(actor=ada, client=card, kind="allergy", text=f"Аллерген {i}")
        with CaptureQueriesContext(connection) as queries:
            response = web.get(care_url(card), **HTMX)
        assert response.status_code == 200
        return len(queries)

    assert count_for(2) == count_for(10)


# --- Surveys ------------------------------------------------------------------------------------


def test_htmx_survey_add_returns_the_section_and_triggers_card_changed(alice, web_client_for):
    card = make_person(alice)

    response = web_client_for(alice).post(
        reverse("care:survey-create", args=[card.pk]), survey_post(), **HTMX
    )

    assert response.status_code == 200
    assert response["HX-Trigger"] == "card-changed"
    saved = SurveyResponse.objects.get()
    assert (saved.name, saved.score, saved.taken_on) == (
        "Опрос после визита",
        8,
        datetime.date(2024, 5, 19),
    )
    assert "NPS 8" in response.content.decode()


def test_plain_survey_add_redirects_to_the_card(alice, web_client_for):
    card = make_person(alice)

    response = web_client_for(alice).post(
        reverse("care:survey-create", args=[card.pk]), survey_post()
    )

    assert response.status_code == 302
    assert response["Location"] == card.get_absolute_url()


def test_survey_errors_per_field_keep_the_input(alice, web_client_for):
    card = make_person(alice)

    response = web_client_for(alice).post(
        reverse("care:survey-create", args=[card.pk]),
        survey_post(scale="csat", score="9", summary="Мой отзыв"),
        **HTMX,
    )

    assert response.status_code == 200
    assert "HX-Trigger" not in response
    html = response.content.decode()
    assert 'id="id_survey-score_errors"' in html
    assert "The score is from 1 to 5 on this scale." in html
    assert "Мой отзыв" in html
    assert SurveyResponse.objects.count() == 0


def test_plain_survey_with_errors_is_a_422_page(alice, web_client_for):
    card = make_person(alice)

    response = web_client_for(alice).post(
        reverse("care:survey-create", args=[card.pk]), survey_post(name="")
    )

    assert response.status_code == 422
    assert 'id="id_survey-name_errors"' in response.content.decode()


def test_survey_inline_edit(alice, web_client_for):
    card = make_person(alice)
    item = survey(alice, card, score=6)
    url = reverse("care:survey-edit", args=[card.pk, item.pk])
    web = web_client_for(alice)

    form = web.get(url, **HTMX)
    saved = web.post(
        url,
        {
            f"survey-{item.pk}-taken_on": "2024-05-20",
            f"survey-{item.pk}-name": "Переименован",
            f"survey-{item.pk}-scale": "nps",
            f"survey-{item.pk}-score": "10",
            f"survey-{item.pk}-summary": "",
        },
        **HTMX,
    )

    assert form.status_code == 200
    assert form.content.decode().lstrip().startswith("<li")
    assert f'name="survey-{item.pk}-score" value="6"' in form.content.decode()
    assert saved["HX-Trigger"] == "card-changed"
    item.refresh_from_db()
    assert (item.name, item.score) == ("Переименован", 10)


def test_survey_delete(alice, web_client_for):
    card = make_person(alice)
    item = survey(alice, card)
    url = reverse("care:survey-delete", args=[card.pk, item.pk])
    web = web_client_for(alice)

    confirm = web.get(url)
    deleted = web.post(url, **HTMX)

    assert "Delete the survey?" in confirm.content.decode()
    assert deleted["HX-Trigger"] == "card-changed"
    assert SurveyResponse.objects.count() == 0


# --- Recommendations ----------------------------------------------------------------------------


def test_htmx_recommendation_add(alice, web_client_for):
    card = make_person(alice)

    response = web_client_for(alice).post(
        reverse("care:recommendation-create", args=[card.pk]),
        recommendation_post(period_days="14"),
        **HTMX,
    )

    assert response.status_code == 200
    assert response["HX-Trigger"] == "card-changed"
    saved = Recommendation.objects.get()
    assert (saved.text, saved.period_days, saved.due_on) == (
        "Увлажняющий крем дважды в день",
        14,
        datetime.date(2024, 6, 3),
    )
    assert "every 14 days" in response.content.decode()


def test_recommendation_errors_per_field(alice, web_client_for):
    card = make_person(alice)

    response = web_client_for(alice).post(
        reverse("care:recommendation-create", args=[card.pk]),
        recommendation_post(due_on="2024-05-01"),
        **HTMX,
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_recommendation-due_on_errors"' in html
    assert "Увлажняющий крем дважды в день" in html
    assert Recommendation.objects.count() == 0


def test_mark_followed_from_the_card(alice, web_client_for):
    card = make_person(alice)
    advice = recommend(alice, card, due_on=datetime.date(2024, 5, 10))
    url = reverse("care:recommendation-status", args=[card.pk, advice.pk])

    response = web_client_for(alice).post(url, {"status": "followed"}, **HTMX)

    assert response.status_code == 200
    assert response["HX-Trigger"] == "card-changed"
    advice.refresh_from_db()
    assert advice.status == "followed"
    assert advice.status_changed_at is not None
    assert "recommendation-overdue" not in response.content.decode()


def test_unknown_status_is_400(alice, web_client_for):
    card = make_person(alice)
    advice = recommend(alice, card)
    url = reverse("care:recommendation-status", args=[card.pk, advice.pk])

    response = web_client_for(alice).post(url, {"status": "done"}, **HTMX)

    assert response.status_code == 400
    advice.refresh_from_db()
    assert advice.status == "pending"


def test_plain_status_change_redirects_to_the_card(alice, web_client_for):
    card = make_person(alice)
    advice = recommend(alice, card)
    url = reverse("care:recommendation-status", args=[card.pk, advice.pk])

    response = web_client_for(alice).post(url, {"status": "not_followed"})

    assert response.status_code == 302
    assert response["Location"] == card.get_absolute_url()


def test_recommendation_inline_edit_and_delete(alice, web_client_for):
    card = make_person(alice)
    advice = recommend(alice, card)
    edit = reverse("care:recommendation-edit", args=[card.pk, advice.pk])
    web = web_client_for(alice)
    prefix = f"recommendation-{advice.pk}"

    form = web.get(edit, **HTMX)
    saved = web.post(
        edit,
        {
            f"{prefix}-given_on": "2024-05-01",
            f"{prefix}-text": "Исправленный совет",
            f"{prefix}-due_on": "2024-06-01",
            f"{prefix}-period_days": "",
        },
        **HTMX,
    )

    assert "Повторить через месяц" in form.content.decode()
    assert saved["HX-Trigger"] == "card-changed"
    advice.refresh_from_db()
    assert (advice.text, advice.due_on) == ("Исправленный совет", datetime.date(2024, 6, 1))

    deleted = web.post(reverse("care:recommendation-delete", args=[card.pk, advice.pk]), **HTMX)

    assert deleted["HX-Trigger"] == "card-changed"
    assert Recommendation.objects.count() == 0


# --- Overdue page -------------------------------------------------------------------------------


def test_overdue_page_lists_visible_overdue_recommendations(alice, charlie, web_client_for):
    north = make_person(alice, last_name="Северова")
    south = make_person(charlie, last_name="Южанин")
    recommend(alice, north, text="Просрочено на 5 дней", due_on=datetime.date(2024, 5, 15))
    recommend(alice, north, text="Ещё не срок", due_on=datetime.date(2024, 5, 25))
    recommend(charlie, south, text="Чужая просрочка", due_on=datetime.date(2024, 5, 1))

    response = web_client_for(alice).get(reverse("care:overdue"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert "Просрочено на 5 дней" in html
    assert "5 days" in html
    assert north.get_absolute_url() in html
    assert "Alice" in html
    assert "Ещё не срок" not in html
    assert "Чужая просрочка" not in html
    assert "1 overdue" in html


def test_overdue_page_empty_state(alice, web_client_for):
    response = web_client_for(alice).get(reverse("care:overdue"))

    assert "Nothing is overdue" in response.content.decode()


def test_overdue_quick_action_by_htmx_returns_the_marked_row(alice, web_client_for):
    card = make_person(alice)
    advice = recommend(alice, card, due_on=datetime.date(2024, 5, 1))
    url = reverse("care:overdue-status", args=[advice.pk])

    response = web_client_for(alice).post(url, {"status": "followed"}, **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="overdue-{advice.pk}"')
    assert "Followed" in html
    advice.refresh_from_db()
    assert advice.status == "followed"


def test_overdue_quick_action_without_htmx_goes_back_to_the_list(alice, web_client_for):
    card = make_person(alice)
    advice = recommend(alice, card, due_on=datetime.date(2024, 5, 1))

    response = web_client_for(alice).post(
        reverse("care:overdue-status", args=[advice.pk]), {"status": "not_followed"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("care:overdue")
    advice.refresh_from_db()
    assert advice.status == "not_followed"


@pytest.mark.parametrize(("role", "expected"), [("rita", 403), ("charlie", 404)])
def test_overdue_quick_action_refused(users, role, expected):
    card = make_person(users["alice"])
    advice = recommend(users["alice"], card, due_on=datetime.date(2024, 5, 1))
    web = DjangoClient()
    web.force_login(users[role])

    response = web.post(reverse("care:overdue-status", args=[advice.pk]), {"status": "followed"})

    assert response.status_code == expected
    advice.refresh_from_db()
    assert advice.status == "pending"


def test_readonly_user_sees_the_overdue_list_without_actions(alice, rita, web_client_for):
    card = make_person(alice)
    advice = recommend(alice, card, due_on=datetime.date(2024, 5, 1))

    html = web_client_for(rita).get(reverse("care:overdue")).content.decode()

    assert "Повторить через месяц" in html
    assert reverse("care:overdue-status", args=[advice.pk]) not in html


def test_overdue_page_query_count_does_not_grow(alice, bob, web_client_for):
    web = web_client_for(alice)

    def count_for(rows: int) -> int:
        Recommendation.objects.all().delete()
        for i in range(rows):
            card = make_person(alice if i % 2 else bob, last_name=f"Клиент {i}")
            recommend(alice, card, text=f"Совет {i}", due_on=datetime.date(2024, 5, 1 + i))
        with CaptureQueriesContext(connection) as queries:
            response = web.get(reverse("care:overdue"))
        assert response.content.decode().count("overdue-row") == rows
        return len(queries)

    assert count_for(2) == count_for(10)


# --- Authorization matrix (surveys and recommendations) -----------------------------------------

ROLES = ["ada", "mallory", "alice", "bob", "charlie", "rita", "anonymous"]
ACTIONS = ["view", "survey_add", "survey_edit", "survey_delete", "recommendation_add",
           "recommendation_status", "recommendation_delete"]  # fmt: skip
EXPECTED = {
    "ada": "ok", "mallory": "ok", "alice": "ok", "bob": "ok",
    "charlie": 404, "rita": 403, "anonymous": "login",
}  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
def test_authorization_matrix(role, action, users):
    alice = users["alice"]
    card = make_person(alice, last_name="Матрицына")
    item = survey(alice, card, score=5)
    advice = recommend(alice, card)
    web = DjangoClient()
    if role != "anonymous":
        web.force_login(users[role])
    expected = EXPECTED[role]
    if action == "view" and expected == 403:
        expected = "ok"
    log_size = ObjectChange.objects.count()

    if action == "view":
        response = web.get(care_url(card), **HTMX)
    elif action == "survey_add":
        response = web.post(reverse("care:survey-create", args=[card.pk]), survey_post(), **HTMX)
    elif action == "survey_edit":
        fields = {"taken_on": "2024-05-20", "name": "Правка", "scale": "nps", "score": "7"}
        data = {f"survey-{item.pk}-{key}": value for key, value in fields.items()}
        response = web.post(reverse("care:survey-edit", args=[card.pk, item.pk]), data, **HTMX)
    elif action == "survey_delete":
        response = web.post(reverse("care:survey-delete", args=[card.pk, item.pk]), **HTMX)
    elif action == "recommendation_add":
        url = reverse("care:recommendation-create", args=[card.pk])
        response = web.post(url, recommendation_post(), **HTMX)
    elif action == "recommendation_status":
        url = reverse("care:recommendation-status", args=[card.pk, advice.pk])
        response = web.post(url, {"status": "followed"}, **HTMX)
    else:
        url = reverse("care:recommendation-delete", args=[card.pk, advice.pk])
        response = web.post(url, **HTMX)

    if expected == "login":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    elif expected == "ok":
        assert response.status_code == 200
        if action != "view":
            assert response["HX-Trigger"] == "card-changed"
            assert ObjectChange.objects.count() == log_size + 1
            assert ObjectChange.objects.latest("pk").actor == users[role]
        return
    else:
        assert response.status_code == expected
    item.refresh_from_db()
    advice.refresh_from_db()
    assert (item.name, item.score) == ("После визита", 5)
    assert (advice.status, SurveyResponse.objects.count(), Recommendation.objects.count()) == (
        "pending",
        1,
        1,
    )
    assert ObjectChange.objects.count() == log_size
