"""The register's screens and API beyond permissions: field errors in the user's language,
filters, overdue highlighting, constant query counts, the card page link."""

import datetime
import json

import pytest
import time_machine
from django.urls import reverse

from kartoteka.clients.tests.factories import make_person
from kartoteka.core.models import SiteSettings
from kartoteka.privacy.models import DataSubjectRequest
from kartoteka.privacy.tests.factories import make_request

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 3, 30, 10, tzinfo=datetime.UTC)


@pytest.fixture
def card(alice):
    return make_person(alice, last_name="Видова")


def test_the_card_page_links_to_a_new_request_for_those_who_may_register(
    card, alice, rita, web_client_for
):
    url = reverse("privacy:new") + f"?client={card.pk}"

    assert url in web_client_for(alice).get(card.get_absolute_url()).content.decode()
    assert url not in web_client_for(rita).get(card.get_absolute_url()).content.decode()


def test_admins_find_the_register_in_the_user_menu(ada, alice, web_client_for, card):
    link = f'href="{reverse("privacy:list")}"'

    assert link in web_client_for(ada).get(card.get_absolute_url()).content.decode()
    assert link not in web_client_for(alice).get(card.get_absolute_url()).content.decode()


def test_register_form_shows_field_errors_in_the_users_language(card, alice, web_client_for):
    web = web_client_for(alice)
    web.cookies["django_language"] = "ru"

    response = web.post(
        reverse("privacy:new") + f"?client={card.pk}",
        {"kind": "", "received_on": "2999-01-01", "channel": "email", "by_representative": "on"},
        HTTP_ACCEPT_LANGUAGE="ru",
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Обязательное поле." in html
    assert DataSubjectRequest.objects.count() == 0


def test_register_by_card_number_from_the_register(card, alice, web_client_for):
    web = web_client_for(alice)
    data = {"kind": "access", "received_on": "2026-03-02", "channel": "post"}

    wrong = web.post(reverse("privacy:new"), {**data, "card_number": "999999"})
    assert "There is no card with this number that you can see." in wrong.content.decode()

    response = web.post(reverse("privacy:new"), {**data, "card_number": str(card.number)})
    dsr = DataSubjectRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == dsr.get_absolute_url()
    assert dsr.client == card


def test_service_errors_go_next_to_the_field(card, alice, web_client_for):
    response = web_client_for(alice).post(
        reverse("privacy:new") + f"?client={card.pk}",
        {"kind": "access", "received_on": "2999-01-01", "channel": "email",
         "by_representative": "on", "representative_name": ""},
    )  # fmt: skip

    html = response.content.decode()
    assert "A request cannot be received in the future." in html
    assert "Name the representative." in html


def test_erase_with_a_wrong_number_says_so_and_erases_nothing(card, ada, web_client_for):
    dsr = make_request(ada, card, kind="erasure")

    response = web_client_for(ada).post(
        reverse("privacy:erase", args=[dsr.pk]), {"confirm_number": str(card.number + 1)}
    )

    assert response.status_code == 200
    assert "Type the card number" in response.content.decode()
    card.refresh_from_db()
    assert card.last_name == "Видова"


def test_extend_without_a_reason_shows_the_error(card, ada, web_client_for):
    dsr = make_request(ada, card)

    response = web_client_for(ada).post(
        reverse("privacy:extend", args=[dsr.pk]), {"extend-text": ""}
    )

    assert response.status_code == 200
    assert 'id="id_extend-text_errors"' in response.content.decode()


@time_machine.travel(NOW)
def test_list_filters_and_highlights_overdue(card, ada, web_client_for):
    site = SiteSettings.current()
    site.jurisdiction = "ru"
    site.save()
    late = make_request(ada, card, received_on=datetime.date(2026, 3, 2))
    fresh = make_request(ada, card, kind="erasure", received_on=datetime.date(2026, 3, 27))
    web = web_client_for(ada)

    page = web.get(reverse("privacy:list")).content.decode()
    assert page.count("data-overdue") == 1
    assert "row-overdue" in page

    overdue = web.get(reverse("privacy:list"), {"overdue": "on"}).context["requests"]
    assert overdue == [late]
    erasures = web.get(reverse("privacy:list"), {"kind": "erasure"}).context["requests"]
    assert erasures == [fresh]
    done = web.get(reverse("privacy:list"), {"status": "done"}).context["requests"]
    assert done == []


def test_list_query_count_does_not_grow(
    card, ada, alice, web_client_for, api_client_for, django_assert_max_num_queries
):
    make_request(alice, card)
    make_request(alice, card, kind="correction")
    web = web_client_for(ada)
    api = api_client_for(ada)
    web.get(reverse("privacy:list"))
    with django_assert_max_num_queries(50) as few:
        web.get(reverse("privacy:list"))
    # Counted now: the next request resets the connection's query log.
    web_baseline = len(few.captured_queries)
    api.get("/api/v1/privacy/requests")
    with django_assert_max_num_queries(50) as few_api:
        api.get("/api/v1/privacy/requests")
    api_baseline = len(few_api.captured_queries)
    assert web_baseline > 0
    assert api_baseline > 0
    for n in range(6):
        other = make_person(alice, last_name=f"Другая{n}")
        make_request(alice, other, kind="erasure")

    with django_assert_max_num_queries(web_baseline):
        response = web.get(reverse("privacy:list"))
    assert len(response.context["requests"]) == 8
    with django_assert_max_num_queries(api_baseline):
        assert len(api.get("/api/v1/privacy/requests").json()) == 8


def test_api_create_gives_field_errors_in_the_one_shape(card, alice, api_client_for):
    response = api_client_for(alice).post(
        "/api/v1/privacy/requests",
        json.dumps({"client": card.pk, "kind": "x", "received_on": "2999-01-01",
                    "channel": "email"}),
        content_type="application/json",
    )  # fmt: skip

    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"kind", "received_on"}
    assert DataSubjectRequest.objects.count() == 0


def test_api_roundtrip(card, ada, api_client_for):
    api = api_client_for(ada)
    created = api.post(
        "/api/v1/privacy/requests",
        json.dumps({"client": card.pk, "kind": "erasure", "received_on": "2026-03-02",
                    "channel": "email", "reply_to": "a@example.com"}),
        content_type="application/json",
    ).json()  # fmt: skip
    assert created["card_number"] == card.card_number
    assert created["status"] == "received"

    erased = api.post(
        f"/api/v1/privacy/requests/{created['id']}/erase",
        json.dumps({"confirm_number": card.card_number}),
        content_type="application/json",
    )

    assert erased.status_code == 200
    assert erased.json()["reason"] == "request"
    after = api.get(f"/api/v1/privacy/requests/{created['id']}").json()
    assert (after["status"], after["reply_to"]) == ("done", "")


def test_openapi_lists_the_privacy_operations(ada, api_client_for):
    schema = api_client_for(ada).get("/api/v1/openapi.json").json()
    operations = {op["operationId"] for path in schema["paths"].values() for op in path.values()}

    assert {
        "privacy_request_list",
        "privacy_request_create",
        "privacy_request_get",
        "privacy_request_complete",
        "privacy_request_export",
        "privacy_request_erase",
    } <= operations
