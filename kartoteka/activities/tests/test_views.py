"""The interactions section of the card page: fragment, HTMX forms, plain-form fallbacks,
errors per field, version conflicts, the authorization matrix and the query count."""

import datetime

import pytest
from django.test import Client as DjangoClient
from django.urls import reverse
from django.utils import timezone

from kartoteka.activities import services
from kartoteka.activities.models import Interaction, TimelineEvent
from kartoteka.clients.tests.factories import make_company, make_person
from kartoteka.core.models import ObjectChange

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def section_url(card) -> str:
    return reverse("activities:client-interactions", args=[card.pk])


def create_url(card) -> str:
    return reverse("activities:interaction-create", args=[card.pk])


def edit_url(interaction) -> str:
    return reverse("activities:interaction-edit", args=[interaction.client_id, interaction.pk])


def delete_url(interaction) -> str:
    return reverse("activities:interaction-delete", args=[interaction.client_id, interaction.pk])


def add_data(**overrides) -> dict[str, str]:
    data = {
        "kind": "call",
        "direction": "out",
        "occurred_at": "2024-03-05T14:30",
        "duration_minutes": "7",
        "contact_person": "",
        "subject": "Счёт за март",
        "content": "Уточнили реквизиты.",
        "outcome": "Оплатит до 10-го",
        "next_step": "Проверить оплату",
        **overrides,
    }
    return {f"new-{key}": value for key, value in data.items()}


def edit_data(interaction, **overrides) -> dict[str, str]:
    data = {
        "kind": interaction.kind,
        "direction": interaction.direction,
        "occurred_at": timezone.localtime(interaction.occurred_at).strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": str(interaction.duration_minutes or ""),
        "contact_person": str(interaction.contact_person_id or ""),
        "subject": interaction.subject,
        "content": interaction.content,
        "outcome": interaction.outcome,
        "next_step": interaction.next_step,
        "version": str(interaction.version),
        **overrides,
    }
    return {f"edit-{interaction.pk}-{key}": value for key, value in data.items()}


def record(actor, card, **data) -> Interaction:
    fields = {"kind": "call", "direction": "in", "subject": "Звонок", "outcome": "Итог", **data}
    return services.interaction_create(actor=actor, client=card, data=fields)


# --- The section --------------------------------------------------------------------------------


def test_section_is_a_fragment_with_the_latest_ten(alice, web_client_for):
    card = make_person(alice)
    start = datetime.datetime(2024, 1, 1, 9, 0, tzinfo=datetime.UTC)
    for day in range(12):
        record(alice, card, subject=f"Тема {day:02d}", occurred_at=start + datetime.timedelta(day))

    response = web_client_for(alice).get(section_url(card), **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith("<section")
    assert 'id="section-interactions"' in html
    assert [f"Тема {day:02d}" in html for day in range(12)] == [False, False] + [True] * 10
    assert html.index("Тема 11") < html.index("Тема 02")
    assert "12 in all" in html
    assert f'hx-post="{create_url(card)}"' in html
    assert "HX-Request" in response["Vary"]


def test_section_shows_the_record(alice, web_client_for):
    company = make_company(alice)
    person = make_person(alice, last_name="Петрова", first_name="Ольга", employer=company)
    record(
        alice,
        company,
        kind="call",
        direction="out",
        subject="Договор",
        content="Обсудили сроки",
        outcome="Подпишут",
        next_step="Выслать оригинал",
        duration_minutes=15,
        contact_person=person,
    )

    html = web_client_for(alice).get(section_url(company), **HTMX).content.decode()

    assert "Outgoing call: Договор" in html
    assert "15 min" in html
    assert "Обсудили сроки" in html
    assert "Подпишут" in html
    assert "Выслать оригинал" in html
    assert person.get_absolute_url() in html
    assert 'name="new-contact_person"' in html  # the picker of people at the company


def test_person_picker_only_on_company_cards(alice, web_client_for):
    card = make_person(alice)

    html = web_client_for(alice).get(section_url(card), **HTMX).content.decode()

    assert 'name="new-contact_person"' not in html
    assert 'name="new-subject"' in html


def test_readonly_user_sees_interactions_but_no_forms(alice, rita, web_client_for):
    card = make_person(alice)
    interaction = record(alice, card, subject="Для чтения")

    html = web_client_for(rita).get(section_url(card), **HTMX).content.decode()

    assert "Для чтения" in html
    assert create_url(card) not in html
    assert edit_url(interaction) not in html
    assert delete_url(interaction) not in html


def test_section_of_an_invisible_card_is_404(alice, charlie, web_client_for):
    card = make_person(alice)

    response = web_client_for(charlie).get(section_url(card), **HTMX)

    assert response.status_code == 404


def test_section_query_count_does_not_grow(alice, web_client_for, django_assert_num_queries):
    company = make_company(alice)
    people = [make_person(alice, last_name=f"Л{i}", employer=company) for i in range(3)]
    web = web_client_for(alice)

    def count_for(rows: int) -> int:
        Interaction.objects.all().delete()
        for i in range(rows):
            record(alice, company, contact_person=people[i % 3], subject=f"S{i}")
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            response = web.get(section_url(company), **HTMX)
        assert response.status_code == 200
        return len(queries)

    two, ten = count_for(2), count_for(10)

    assert two == ten
    with django_assert_num_queries(ten):
        web.get(section_url(company), **HTMX)


# --- Quick add ----------------------------------------------------------------------------------


def test_htmx_add_returns_the_section_with_the_new_record_and_triggers_card_changed(
    alice, web_client_for
):
    card = make_person(alice)

    response = web_client_for(alice).post(create_url(card), add_data(), **HTMX)

    assert response.status_code == 200
    assert response["HX-Trigger"] == "card-changed"
    interaction = Interaction.objects.get()
    assert interaction.client == card
    assert interaction.author == alice
    assert interaction.subject == "Счёт за март"
    assert interaction.duration_minutes == 7
    assert timezone.localtime(interaction.occurred_at).strftime("%Y-%m-%d %H:%M") == (
        "2024-03-05 14:30"
    )
    html = response.content.decode()
    assert html.lstrip().startswith("<section")
    assert "Outgoing call: Счёт за март" in html
    assert 'value="Счёт за март"' not in html  # a fresh, empty form
    assert TimelineEvent.objects.filter(client=card).count() == 1


def test_plain_add_redirects_to_the_card(alice, web_client_for):
    card = make_person(alice)

    response = web_client_for(alice).post(create_url(card), add_data())

    assert response.status_code == 302
    assert response["Location"] == card.get_absolute_url()
    assert Interaction.objects.count() == 1


def test_htmx_add_with_errors_shows_them_per_field_and_keeps_input(alice, web_client_for):
    card = make_person(alice)
    data = add_data(kind="note", subject="", content="", outcome="", next_step="Перезвонить")

    response = web_client_for(alice).post(create_url(card), data, **HTMX)

    assert response.status_code == 200
    assert "HX-Trigger" not in response
    html = response.content.decode()
    assert 'id="id_new-direction_errors"' in html
    assert "Only calls, emails and messages have a direction." in html
    assert 'id="id_new-duration_minutes_errors"' in html
    assert 'id="id_new-subject_errors"' in html
    assert 'value="Перезвонить"' in html
    assert Interaction.objects.count() == 0
    assert ObjectChange.objects.filter(content_type__model="interaction").count() == 0


def test_htmx_add_with_a_bad_date_names_the_field(alice, web_client_for):
    card = make_person(alice)

    response = web_client_for(alice).post(create_url(card), add_data(occurred_at="вчера"), **HTMX)

    assert response.status_code == 200
    assert 'id="id_new-occurred_at_errors"' in response.content.decode()
    assert Interaction.objects.count() == 0


def test_plain_add_with_errors_is_a_422_page(alice, web_client_for):
    card = make_person(alice)

    response = web_client_for(alice).post(create_url(card), add_data(duration_minutes="5000"))

    assert response.status_code == 422
    html = response.content.decode()
    assert "<html" in html
    assert 'id="id_new-duration_minutes_errors"' in html
    assert Interaction.objects.count() == 0


def test_add_with_a_person_from_another_company_is_refused(alice, web_client_for):
    company = make_company(alice)
    other = make_company(alice, legal_name="ООО «Иное»")
    outsider = make_person(alice, last_name="Чужая", employer=other)

    response = web_client_for(alice).post(
        create_url(company), add_data(contact_person=str(outsider.pk)), **HTMX
    )

    assert response.status_code == 200
    assert 'id="id_new-contact_person_errors"' in response.content.decode()
    assert Interaction.objects.count() == 0


# --- Edit and delete ----------------------------------------------------------------------------


def test_htmx_edit_form_replaces_the_row(alice, web_client_for):
    card = make_person(alice)
    interaction = record(alice, card, subject="Старая тема")

    response = web_client_for(alice).get(edit_url(interaction), **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("<li class=")
    assert f'id="interaction-{interaction.pk}"' in html.split(">")[0]
    assert 'value="Старая тема"' in html
    assert f'name="edit-{interaction.pk}-version" value="1"' in html


def test_edit_without_htmx_is_a_page(alice, web_client_for):
    card = make_person(alice)
    interaction = record(alice, card, subject="Старая тема")

    response = web_client_for(alice).get(edit_url(interaction))

    assert response.status_code == 200
    assert "<html" in response.content.decode()


def test_htmx_edit_saves_and_triggers_card_changed(alice, web_client_for):
    card = make_person(alice)
    interaction = record(alice, card, subject="Старая тема")

    response = web_client_for(alice).post(
        edit_url(interaction), edit_data(interaction, subject="Новая тема"), **HTMX
    )

    assert response.status_code == 200
    assert response["HX-Trigger"] == "card-changed"
    assert "Incoming call: Новая тема" in response.content.decode()
    interaction.refresh_from_db()
    assert (interaction.subject, interaction.version) == ("Новая тема", 2)


def test_plain_edit_redirects_to_the_card(alice, web_client_for):
    card = make_person(alice)
    interaction = record(alice, card)

    response = web_client_for(alice).post(
        edit_url(interaction), edit_data(interaction, outcome="Готово")
    )

    assert response.status_code == 302
    assert response["Location"] == card.get_absolute_url()


def test_edit_errors_stay_in_the_row(alice, web_client_for):
    card = make_person(alice)
    interaction = record(alice, card)

    response = web_client_for(alice).post(
        edit_url(interaction), edit_data(interaction, kind="visit"), **HTMX
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="id_edit-{interaction.pk}-direction_errors"' in html
    assert "HX-Trigger" not in response
    interaction.refresh_from_db()
    assert (interaction.kind, interaction.version) == ("call", 1)


def test_edit_over_a_newer_save_is_refused_and_keeps_the_input(alice, bob, web_client_for):
    card = make_person(alice)
    interaction = record(alice, card, outcome="Исходный")
    form_data = edit_data(interaction, outcome="Мой вариант")
    services.interaction_update(
        actor=bob, interaction=interaction, expected_version=1, data={"outcome": "Вариант Боба"}
    )
    log_size = ObjectChange.objects.count()

    response = web_client_for(alice).post(edit_url(interaction), form_data, **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Someone else saved this interaction" in html
    assert 'value="Мой вариант"' in html
    assert f'name="edit-{interaction.pk}-version" value="2"' in html
    interaction.refresh_from_db()
    assert (interaction.outcome, interaction.version) == ("Вариант Боба", 2)
    assert ObjectChange.objects.count() == log_size

    again = web_client_for(alice).post(
        edit_url(interaction), edit_data(interaction, outcome="Мой вариант"), **HTMX
    )

    assert again["HX-Trigger"] == "card-changed"
    interaction.refresh_from_db()
    assert (interaction.outcome, interaction.version) == ("Мой вариант", 3)


def test_plain_edit_conflict_is_a_409_page(alice, bob, web_client_for):
    card = make_person(alice)
    interaction = record(alice, card)
    form_data = edit_data(interaction, outcome="Мой вариант")
    services.interaction_update(
        actor=bob, interaction=interaction, expected_version=1, data={"outcome": "Вариант Боба"}
    )

    response = web_client_for(alice).post(edit_url(interaction), form_data)

    assert response.status_code == 409
    assert "Someone else saved this interaction" in response.content.decode()


def test_delete_asks_first_without_javascript(alice, web_client_for):
    card = make_person(alice)
    interaction = record(alice, card, subject="Удаляемое")

    response = web_client_for(alice).get(delete_url(interaction))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Delete the interaction?" in html
    assert "Удаляемое" in html
    interaction.refresh_from_db()
    assert interaction.is_deleted is False


def test_htmx_delete_confirms_in_the_browser_and_returns_the_section(alice, web_client_for):
    card = make_person(alice)
    interaction = record(alice, card, subject="Удаляемое")
    section = web_client_for(alice).get(section_url(card), **HTMX).content.decode()
    assert f'hx-post="{delete_url(interaction)}"' in section
    assert "hx-confirm=" in section

    response = web_client_for(alice).post(delete_url(interaction), **HTMX)

    assert response.status_code == 200
    assert response["HX-Trigger"] == "card-changed"
    assert "Удаляемое" not in response.content.decode()
    interaction.refresh_from_db()
    assert interaction.is_deleted is True
    assert TimelineEvent.objects.count() == 0


def test_plain_delete_redirects_to_the_card(alice, web_client_for):
    card = make_person(alice)
    interaction = record(alice, card)

    response = web_client_for(alice).post(delete_url(interaction))

    assert response.status_code == 302
    assert response["Location"] == card.get_absolute_url()


def test_deleted_interaction_is_404(alice, web_client_for):
    card = make_person(alice)
    interaction = record(alice, card)
    services.interaction_delete(actor=alice, interaction=interaction)
    web = web_client_for(alice)

    assert web.get(edit_url(interaction), **HTMX).status_code == 404
    assert web.post(delete_url(interaction), **HTMX).status_code == 404


def test_interaction_of_another_card_is_404(alice, web_client_for):
    card = make_person(alice)
    other = make_person(alice, last_name="Другой")
    interaction = record(alice, other)
    url = reverse("activities:interaction-edit", args=[card.pk, interaction.pk])

    assert web_client_for(alice).get(url, **HTMX).status_code == 404


# --- Authorization matrix -----------------------------------------------------------------------

ROLES = ["ada", "mallory", "alice", "bob", "charlie", "rita", "anonymous"]
ACTIONS = ["view", "create", "edit", "delete"]
# The card belongs to alice (responsible) in team North.
EXPECTED = {
    "ada": (200, "ok", "ok", "ok"),
    "mallory": (200, "ok", "ok", "ok"),
    "alice": (200, "ok", "ok", "ok"),
    "bob": (200, "ok", "ok", "ok"),
    "charlie": (404, 404, 404, 404),
    "rita": (200, 403, 403, 403),
    "anonymous": ("login", "login", "login", "login"),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
def test_authorization_matrix(role, action, users):
    card = make_person(users["alice"], last_name="Матрицына")
    interaction = record(users["alice"], card, subject="Исходная тема")
    web = DjangoClient()
    if role != "anonymous":
        web.force_login(users[role])
    expected = EXPECTED[role][ACTIONS.index(action)]
    log_size = ObjectChange.objects.count()

    if action == "view":
        response = web.get(section_url(card), **HTMX)
    elif action == "create":
        response = web.post(create_url(card), add_data(), **HTMX)
    elif action == "edit":
        response = web.post(edit_url(interaction), edit_data(interaction, subject="Правка"), **HTMX)
    else:
        response = web.post(delete_url(interaction), **HTMX)

    interaction.refresh_from_db()
    if expected == "login":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    elif expected == "ok":
        assert response.status_code == 200
        assert response["HX-Trigger"] == "card-changed"
        if action == "create":
            assert Interaction.objects.latest("pk").author == users[role]
        elif action == "edit":
            assert interaction.subject == "Правка"
        else:
            assert interaction.is_deleted is True
        return
    else:
        assert response.status_code == expected
    if action == "view":
        return
    assert Interaction.objects.count() == 1
    assert (interaction.subject, interaction.version, interaction.is_deleted) == (
        "Исходная тема",
        1,
        False,
    )
    assert ObjectChange.objects.count() == log_size
