"""The consents section of the card page and the health block of the care section: what each
role sees and may do, errors in place, and the gate's messages."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from kartoteka.care import health
from kartoteka.care.models import HealthNote
from kartoteka.clients.tests.factories import make_person
from kartoteka.consent.models import ConsentEvent, HealthErasureSchedule
from kartoteka.consent.tests.factories import give_consent, give_health_consent
from kartoteka.core.models import ObjectChange

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def card(alice):
    return make_person(alice, last_name="Согласова")


def section_url(card) -> str:
    return reverse("consent:client-consents", args=[card.pk])


def give_url(card) -> str:
    return reverse("consent:consent-give", args=[card.pk])


def withdraw_url(card, purpose="health") -> str:
    return reverse("consent:consent-withdraw", args=[card.pk, purpose])


def give_post(**overrides) -> dict[str, str]:
    now = timezone.localtime() - datetime.timedelta(minutes=5)
    data = {"purpose": "health", "legal_basis": "consent", "text_version": "health v1",
            "channel": "paper_form", "effective_at": now.strftime("%Y-%m-%dT%H:%M"),
            "expires_on": "", "evidence_reference": "Анкета № 5", "document": "",
            **overrides}  # fmt: skip
    return {f"consent-{key}": value for key, value in data.items()}


def withdraw_post(**overrides) -> dict[str, str]:
    data = {"channel": "email", "effective_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "evidence_reference": "", "document": "", **overrides}  # fmt: skip
    return {f"consent-withdraw-{key}": value for key, value in data.items()}


def test_the_card_page_loads_the_consents_section(alice, card, web_client_for):
    page = web_client_for(alice).get(card.get_absolute_url()).content.decode()

    assert f'hx-get="{section_url(card)}"' in page


def test_section_shows_state_badges_and_the_ledger(alice, card, web_client_for):
    give_consent(card, alice, purpose="sms", evidence_reference="SMS-анкета")
    give_consent(card, alice, purpose="calls", effective_at=timezone.now() - datetime.timedelta(1))
    web = web_client_for(alice)
    web.post(withdraw_url(card, "calls"), withdraw_post(), **HTMX)

    html = web.get(section_url(card), **HTMX).content.decode()

    assert html.lstrip().startswith("<section")
    assert 'id="consent-state-sms"' in html
    assert 'class="consent-purpose consent-given" id="consent-state-sms"' in html
    assert 'class="consent-purpose consent-withdrawn" id="consent-state-calls"' in html
    assert 'class="consent-purpose consent-never" id="consent-state-health"' in html
    assert html.count('class="consent-event ') == 3
    assert "SMS-анкета" in html
    assert "Alice" in html
    assert 'id="id_consent-purpose"' in html


def test_htmx_give_records_and_returns_the_section(alice, card, web_client_for):
    response = web_client_for(alice).post(give_url(card), give_post(), **HTMX)

    assert response.status_code == 200
    assert response["HX-Trigger"] == "card-changed, consent-changed"
    event = ConsentEvent.objects.get()
    assert (event.purpose, event.channel, event.text_version, event.door) == (
        "health",
        "paper_form",
        "health v1",
        "web",
    )
    assert 'class="consent-purpose consent-given" id="consent-state-health"' in (
        response.content.decode()
    )


def test_plain_give_redirects_to_the_card(alice, card, web_client_for):
    response = web_client_for(alice).post(give_url(card), give_post())

    assert response.status_code == 302
    assert response["Location"] == card.get_absolute_url()


def test_give_errors_are_shown_next_to_the_fields_in_the_users_language(
    alice, card, web_client_for
):
    alice.language = "ru"
    alice.save(update_fields=["language"])
    future = (timezone.localtime() + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")

    response = web_client_for(alice).post(
        give_url(card), give_post(text_version="", effective_at=future), **HTMX
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_consent-text_version_errors"' in html
    assert '<details class="consent-add u-mt-10" open>' in html
    assert ConsentEvent.objects.count() == 0


def test_future_date_is_refused_by_the_service(alice, card, web_client_for):
    future = (timezone.localtime() + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")

    response = web_client_for(alice).post(give_url(card), give_post(effective_at=future), **HTMX)

    html = response.content.decode()
    assert 'id="id_consent-effective_at_errors"' in html
    assert "This date is in the future." in html
    assert ConsentEvent.objects.count() == 0


def test_plain_post_with_errors_gets_a_page_with_422(alice, card, web_client_for):
    response = web_client_for(alice).post(give_url(card), give_post(purpose="telepathy"))

    assert response.status_code == 422
    assert "<html" in response.content.decode()


def test_withdraw_asks_first_and_names_the_erasure_date(alice, card, web_client_for, settings):
    settings.KARTOTEKA_HEALTH_ERASURE_GRACE_DAYS = 30
    give_health_consent(card, alice)

    html = web_client_for(alice).get(withdraw_url(card), **HTMX).content.decode()

    due = timezone.localdate() + datetime.timedelta(days=30)
    assert "Withdraw the consent to" in html
    assert due.strftime("%m/%d/%Y") in html
    assert 'id="id_consent-withdraw-channel"' in html
    assert ConsentEvent.objects.count() == 1


def test_withdraw_confirmation_without_javascript_is_a_page(alice, card, web_client_for):
    give_health_consent(card, alice)

    response = web_client_for(alice).get(withdraw_url(card))

    assert response.status_code == 200
    assert "<html" in response.content.decode()


def test_withdrawing_what_was_never_given_shows_why(alice, card, web_client_for):
    response = web_client_for(alice).post(withdraw_url(card, "sms"), withdraw_post(), **HTMX)

    assert "there is nothing to withdraw" in response.content.decode()
    assert ConsentEvent.objects.count() == 0


def test_unknown_purpose_is_404(alice, card, web_client_for):
    assert web_client_for(alice).get(withdraw_url(card, "telepathy")).status_code == 404


def test_section_lists_in_constant_queries(
    alice, card, web_client_for, django_assert_max_num_queries
):
    web = web_client_for(alice)
    web.get(section_url(card), **HTMX)
    for purpose in ConsentEvent.Purpose.values:
        give_consent(card, alice, purpose=purpose)
        give_consent(card, alice, purpose=purpose, text_version="v4")

    with django_assert_max_num_queries(12):
        response = web.get(section_url(card), **HTMX)

    assert response.content.decode().count('class="consent-event ') == 12


# --- Role matrix -------------------------------------------------------------------------------

EXPECTED = {"ada": 200, "mallory": 200, "alice": 200, "bob": 200, "rita": 403, "charlie": 404}


@pytest.mark.parametrize("role", [*EXPECTED, "anonymous"])
@pytest.mark.parametrize("action", ["view", "give", "withdraw"])
def test_web_authorization_matrix(role, action, users, card, web_client_for, client):
    give_health_consent(card, users["alice"])
    web = client if role == "anonymous" else web_client_for(users[role])
    counts = (ConsentEvent.objects.count(), ObjectChange.objects.count())

    if action == "view":
        response = web.get(section_url(card), **HTMX)
    elif action == "give":
        response = web.post(give_url(card), give_post(purpose="sms"), **HTMX)
    else:
        response = web.post(withdraw_url(card), withdraw_post(), **HTMX)

    if role == "anonymous":
        assert response.status_code == 302
        assert "/login" in response["Location"]
    elif action == "view" and role == "rita":
        assert response.status_code == 200
        assert give_url(card) not in response.content.decode()
        assert "Withdraw" not in response.content.decode()
    else:
        assert response.status_code == EXPECTED[role]
    if action == "view" or EXPECTED.get(role) != 200:
        assert (ConsentEvent.objects.count(), ObjectChange.objects.count()) == counts
    else:
        assert ConsentEvent.objects.count() == counts[0] + 1


# --- The care section's health block ----------------------------------------------------------


def care_html(web, card) -> str:
    return web.get(reverse("care:client-care", args=[card.pk]), **HTMX).content.decode()


def grant(*users) -> None:
    for user in users:
        user.health_access = True
        user.save(update_fields=["health_access"])


def test_care_section_asks_for_the_consent_before_health_notes(ada, card, web_client_for):
    grant(ada)
    web = web_client_for(ada)

    html = care_html(web, card)

    assert "Record the client's consent to processing of health data first." in html
    assert f"{section_url(card)}?give=health" in html
    assert reverse("care:health-note-create", args=[card.pk]) not in html


def test_health_note_post_without_consent_changes_nothing(ada, card, web_client_for):
    grant(ada)
    response = web_client_for(ada).post(
        reverse("care:health-note-create", args=[card.pk]),
        {"health-kind": "allergy", "health-text": "Латекс"},
        **HTMX,
    )

    assert response.status_code == 200
    assert "Record the client's consent to processing of health data first." in (
        response.content.decode()
    )
    assert HealthNote.objects.count() == 0


def test_the_give_link_opens_the_form_with_health_chosen(ada, card, web_client_for):
    html = web_client_for(ada).get(section_url(card) + "?give=health", **HTMX).content.decode()

    assert '<option value="health" selected>' in html
    assert 'consent-add u-mt-10" open' in html


def test_after_withdrawal_the_care_section_says_when_the_data_goes(
    ada, card, web_client_for, settings
):
    settings.KARTOTEKA_HEALTH_ERASURE_GRACE_DAYS = 30
    grant(ada)
    give_health_consent(card, ada)
    health.health_note_create(actor=ada, client=card, kind="allergy", text="Пенициллин")
    web = web_client_for(ada)
    assert "Пенициллин" in care_html(web, card)

    web.post(withdraw_url(card), withdraw_post(), **HTMX)

    html = care_html(web, card)
    due = HealthErasureSchedule.objects.get().due_at
    assert "Пенициллин" not in html
    assert "Consent withdrawn on" in html
    assert "health data scheduled for erasure on" in html
    assert timezone.localtime(due).strftime("%m/%d/%Y") in html
    assert "1 health note is hidden until the consent is given again." in html
    assert 'hx-trigger="consent-changed from:body"' in html
