import pytest
from django.urls import reverse

from kartoteka.accounts.models import Team
from kartoteka.care import services as care_services
from kartoteka.clients.models import Client
from kartoteka.clients.services import client_archive, client_update
from kartoteka.clients.tests.factories import make_person
from kartoteka.core.models import ObjectChange


def _url(card):
    return reverse("history:client_history", args=[card.pk])


def _restore_url(card, change):
    return reverse("history:restore", args=[card.pk, change.pk])


def _edited(alice):
    card = make_person(alice, status="lead")
    client_update(
        actor=alice,
        client=card,
        expected_version=None,
        data={"status": "active", "last_name": "Сидоров"},
    )
    change = ObjectChange.objects.filter(client_id=card.pk).latest("pk")
    return Client.objects.get(pk=card.pk), change


def test_page_shows_changes_with_labels_before_and_after(alice, web_client_for):
    card, change = _edited(alice)

    response = web_client_for(alice).get(_url(card), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="change-{change.pk}"' in html
    assert "Status" in html
    assert "Lead" in html
    assert "Active" in html
    assert "Сидоров" in html
    assert "Restore this value" in html
    assert "Restore the card as it was before this change" in html


@pytest.mark.parametrize(
    ("name", "status"),
    [("ada", 200), ("alice", 200), ("bob", 200), ("mallory", 200), ("rita", 200), ("charlie", 404)],
)
def test_who_sees_the_history(alice, users, web_client_for, name, status):
    card, _change = _edited(alice)

    response = web_client_for(users[name]).get(_url(card))

    assert response.status_code == status


def test_readonly_sees_no_restore_buttons(alice, rita, web_client_for):
    card, _change = _edited(alice)

    html = web_client_for(rita).get(_url(card)).content.decode()

    assert "Сидоров" in html
    assert 'name="field"' not in html


@pytest.mark.parametrize(("name", "status"), [("rita", 403), ("charlie", 404)])
def test_restore_is_refused_and_changes_nothing(alice, users, web_client_for, name, status):
    card, change = _edited(alice)
    count = ObjectChange.objects.count()

    response = web_client_for(users[name]).post(
        _restore_url(card, change), {"field": "status", "version": card.version}
    )

    assert response.status_code == status
    assert Client.objects.get(pk=card.pk).status == "active"
    assert ObjectChange.objects.count() == count


@pytest.mark.parametrize("name", ["ada", "alice", "bob", "mallory"])
def test_restore_one_field_goes_back_to_the_card(alice, users, web_client_for, name):
    card, change = _edited(alice)

    response = web_client_for(users[name]).post(
        _restore_url(card, change), {"field": "status", "version": card.version}
    )

    assert response.status_code == 302
    assert response["Location"] == card.get_absolute_url()
    saved = Client.objects.get(pk=card.pk)
    assert (saved.status, saved.last_name) == ("lead", "Сидоров")
    last = ObjectChange.objects.latest("pk")
    assert last.message == f"restored from change #{change.pk}"
    assert last.actor == users[name]
    assert last.channel == "web"


def test_restore_whole_change(alice, web_client_for):
    card, change = _edited(alice)

    response = web_client_for(alice).post(_restore_url(card, change), {"version": card.version})

    assert response.status_code == 302
    saved = Client.objects.get(pk=card.pk)
    assert (saved.status, saved.last_name) == ("lead", "Иванов")


def test_restore_after_someone_else_saved_is_refused(alice, bob, web_client_for):
    card, change = _edited(alice)
    seen = card.version
    client_update(actor=bob, client=card, expected_version=None, data={"source": "сайт"})
    count = ObjectChange.objects.count()

    response = web_client_for(alice).post(
        _restore_url(card, change), {"field": "status", "version": seen}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 409
    assert "Someone changed this card" in response.content.decode()
    assert Client.objects.get(pk=card.pk).status == "active"
    assert ObjectChange.objects.count() == count


def test_restore_of_a_deleted_team_shows_the_field_error(ada, web_client_for):
    old = Team.objects.create(name="Старая")
    card = make_person(ada, team=old)
    client_update(
        actor=ada, client=card, expected_version=None, data={"team": Team.objects.create(name="B")}
    )
    change = ObjectChange.objects.filter(client_id=card.pk).latest("pk")
    old.delete()
    card.refresh_from_db()
    count = ObjectChange.objects.count()

    response = web_client_for(ada).post(
        _restore_url(card, change),
        {"field": "team", "version": card.version},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert "Nothing was restored." in html
    assert "Team: This team no longer exists." in html
    assert ObjectChange.objects.count() == count


def test_restore_of_an_unknown_field_is_refused(alice, web_client_for):
    card, change = _edited(alice)

    response = web_client_for(alice).post(_restore_url(card, change), {"field": "number"})

    assert response.status_code == 422
    assert Client.objects.get(pk=card.pk).status == "active"


def test_restore_needs_post(alice, web_client_for):
    card, change = _edited(alice)

    assert web_client_for(alice).get(_restore_url(card, change)).status_code == 405


def test_filters_and_bad_filter_input(alice, bob, web_client_for):
    card, change = _edited(alice)
    care_services.survey_create(actor=alice, client=card, data={"name": "Опрос", "scale": "free"})
    web = web_client_for(alice)

    only_surveys = web.get(_url(card), {"section": "care.surveyresponse"}).content.decode()
    bad = web.get(
        _url(card), {"date_from": "2024-05-02", "date_to": "2024-05-01"}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert "Опрос" in only_surveys
    assert f'id="change-{change.pk}"' not in only_surveys
    assert bad.status_code == 200
    assert "The end date must not be before the start date." in bad.content.decode()


def test_archived_card_offers_restore(alice, web_client_for):
    card = make_person(alice)
    client_archive(actor=alice, client=card)

    html = web_client_for(alice).get(_url(card), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert reverse("clients:restore", args=[card.pk]) in html


def test_card_page_links_to_history(alice, web_client_for):
    card = make_person(alice)

    html = web_client_for(alice).get(card.get_absolute_url()).content.decode()

    assert _url(card) in html


def test_history_page_queries_do_not_grow_with_rows(
    alice, bob, mallory, north, web_client_for, django_assert_max_num_queries
):
    card = make_person(alice, team=north)
    web = web_client_for(alice)
    web.get(_url(card))  # warm the content-type cache and the session

    def edit_many(times: int) -> None:
        for index in range(times):
            actor = [alice, bob, mallory][index % 3]
            client_update(
                actor=actor,
                client=card,
                expected_version=None,
                data={"status": ["active", "key"][index % 2], "responsible": alice},
            )
            care_services.survey_create(
                actor=actor, client=card, data={"name": f"S{index}", "scale": "free"}
            )

    edit_many(2)
    with django_assert_max_num_queries(30) as few:
        assert web.get(_url(card)).status_code == 200
    edit_many(10)
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        assert web.get(_url(card)).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


def test_restoring_a_responsible_the_user_may_not_assign_is_explained(
    alice, bob, mallory, north, web_client_for
):
    card = make_person(mallory, team=north, responsible=bob)
    client_update(actor=mallory, client=card, expected_version=None, data={"responsible": alice})
    change = ObjectChange.objects.latest("pk")
    card.refresh_from_db()
    count = ObjectChange.objects.count()

    response = web_client_for(alice).post(
        _restore_url(card, change),
        {"field": "responsible", "version": card.version},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 403
    assert "You may not hand the card to this employee or team." in response.content.decode()
    assert Client.objects.get(pk=card.pk).responsible == alice
    assert ObjectChange.objects.count() == count
