"""The consent ledger: append-only rows, the state per purpose, the rules of giving and
withdrawing, the health-data gate, and the erasure a withdrawal schedules."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from kartoteka.care import health
from kartoteka.care.models import HealthAccessLog, HealthNote
from kartoteka.clients.tests.factories import make_person
from kartoteka.consent import selectors, services
from kartoteka.consent.models import ConsentEvent, HealthErasureSchedule, LedgerIsAppendOnly
from kartoteka.consent.tests.factories import give_consent, give_health_consent
from kartoteka.core.models import ObjectChange

pytestmark = pytest.mark.django_db

HEALTH = ConsentEvent.Purpose.HEALTH
DAY = datetime.timedelta(days=1)


def ago(**kwargs) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(**kwargs)


def grant(*users) -> None:
    for user in users:
        user.health_access = True
        user.save(update_fields=["health_access"])


@pytest.fixture
def card(alice):
    return make_person(alice, last_name="Согласова")


def withdraw(card, actor, purpose=HEALTH, **kwargs):
    kwargs.setdefault("channel", ConsentEvent.Channel.EMAIL)
    return services.consent_withdraw(actor=actor, client=card, purpose=purpose, **kwargs)


# --- The ledger is append-only ----------------------------------------------------------------


def test_an_event_cannot_be_changed_or_deleted(card, alice):
    event = give_consent(card, alice)

    event.text_version = "forged"
    with pytest.raises(LedgerIsAppendOnly):
        event.save()
    with pytest.raises(LedgerIsAppendOnly):
        event.delete()
    with pytest.raises(LedgerIsAppendOnly):
        ConsentEvent.objects.filter(pk=event.pk).update(text_version="forged")
    with pytest.raises(LedgerIsAppendOnly):
        ConsentEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(LedgerIsAppendOnly):
        ConsentEvent.objects.bulk_update([event], ["text_version"])

    assert ConsentEvent.objects.get().text_version == "privacy-notice v3 2026-05"


def test_a_merge_may_move_an_event_to_the_surviving_card(card, alice):
    event = give_consent(card, alice)
    survivor = make_person(alice, last_name="Выживший")

    ConsentEvent.objects.filter(pk=event.pk).update(client=survivor)

    assert ConsentEvent.objects.get().client == survivor


# --- Giving -----------------------------------------------------------------------------------


def test_give_records_every_field_and_logs_the_change(card, alice):
    event = services.consent_give(
        actor=alice,
        client=card,
        purpose=ConsentEvent.Purpose.MARKETING_EMAIL,
        legal_basis=ConsentEvent.LegalBasis.CONSENT,
        text_version=" newsletter v2 ",
        channel=ConsentEvent.Channel.WEB_FORM,
        evidence_reference="form #17",
        effective_at=ago(hours=2),
        expires_on=timezone.localdate() + 365 * DAY,
    )

    assert (event.action, event.text_version, event.recorded_by, event.door) == (
        "given",
        "newsletter v2",
        alice,
        "system",
    )
    change = ObjectChange.objects.get(object_id=event.pk, content_type__model="consentevent")
    assert (change.action, change.client_id, change.actor) == ("create", card.pk, alice)
    assert change.after["purpose"] == "marketing_email"
    assert change.after["evidence_reference"] == "form #17"


def test_give_reports_every_field_error_at_once(card, alice):
    with pytest.raises(ValidationError) as caught:
        services.consent_give(
            actor=alice,
            client=card,
            purpose="telepathy",
            legal_basis="whim",
            text_version="",
            channel="pigeon",
            effective_at=timezone.now() + DAY,
        )

    assert set(caught.value.error_dict) == {
        "purpose",
        "legal_basis",
        "text_version",
        "channel",
        "effective_at",
    }
    assert caught.value.error_dict["effective_at"][0].code == "future_date"
    assert ConsentEvent.objects.count() == 0


def test_expiry_must_follow_the_date_given(card, alice):
    with pytest.raises(ValidationError) as caught:
        give_consent(card, alice, expires_on=timezone.localdate() - DAY)

    assert caught.value.error_dict["expires_on"][0].code == "expires_before_effective"


def test_the_document_must_be_on_the_same_card(card, alice):
    from kartoteka.documents.models import Document

    other = make_person(alice, last_name="Чужой")
    scan = Document.objects.create(
        client=other, original_name="scan.pdf", content_type="application/pdf", size=1, sha256=""
    )
    own = Document.objects.create(
        client=card, original_name="own.pdf", content_type="application/pdf", size=1, sha256=""
    )

    with pytest.raises(ValidationError) as caught:
        give_consent(card, alice, document=scan.pk)

    assert caught.value.error_dict["document"][0].code == "document_not_on_card"
    assert give_consent(card, alice, document=own).document == own


def test_an_entry_cannot_be_dated_before_the_last_one(card, alice):
    give_consent(card, alice, effective_at=ago(days=2))

    with pytest.raises(ValidationError) as caught:
        give_consent(card, alice, effective_at=ago(days=5))

    assert caught.value.error_dict["effective_at"][0].code == "before_last_entry"


# --- The state per purpose --------------------------------------------------------------------


def test_state_of_every_purpose_starts_as_never(card):
    state = selectors.consent_state(card)

    assert list(state) == ConsentEvent.Purpose.values
    assert {s.status for s in state.values()} == {"never"}


def test_state_follows_give_withdraw_and_give_again(card, alice):
    given = give_consent(card, alice, effective_at=ago(days=3), text_version="v1")
    assert selectors.consent_state(card)["processing"].status == "given"
    assert selectors.consent_state(card)["processing"].since == given.effective_at

    withdrawn = withdraw(card, alice, purpose="processing", effective_at=ago(days=2))
    state = selectors.consent_state(card)["processing"]
    assert (state.status, state.since, state.text_version) == (
        "withdrawn",
        withdrawn.effective_at,
        "v1",
    )
    assert state.legal_basis == "consent"

    give_consent(card, alice, text_version="v2")
    state = selectors.consent_state(card)["processing"]
    assert (state.status, state.text_version) == ("given", "v2")
    assert selectors.consent_state(card)["sms"].status == "never"


def test_state_at_a_moment_in_the_past(card, alice):
    give_consent(card, alice, effective_at=ago(days=10))
    withdraw(card, alice, purpose="processing", effective_at=ago(days=5))

    assert selectors.has_valid_consent(card, "processing", at=ago(days=7))
    assert not selectors.has_valid_consent(card, "processing", at=ago(days=3))
    assert not selectors.has_valid_consent(card, "processing", at=ago(days=11))


def test_a_consent_expires_the_day_after_its_expiry_date(card, alice, time_machine):
    expires = timezone.localdate() + 10 * DAY
    give_consent(card, alice, purpose="sms", expires_on=expires)
    assert selectors.has_valid_consent(card, "sms")

    time_machine.move_to(timezone.now() + 12 * DAY)

    state = selectors.consent_state(card)["sms"]
    assert (state.status, state.since) == ("expired", expires)
    assert not selectors.has_valid_consent(card, "sms")
    with pytest.raises(ValidationError) as caught:
        withdraw(card, alice, purpose="sms")
    assert caught.value.error_dict["purpose"][0].code == "consent_not_in_force"


def test_state_reads_in_one_query(card, alice, django_assert_num_queries):
    for purpose in ["processing", "sms", "calls"]:
        give_consent(card, alice, purpose=purpose)

    with django_assert_num_queries(1):
        selectors.consent_state(card)


# --- Withdrawing ------------------------------------------------------------------------------


@pytest.mark.parametrize("history", ["never", "withdrawn"])
def test_withdrawing_what_is_not_in_force_is_refused(card, alice, history):
    if history == "withdrawn":
        give_consent(card, alice, effective_at=ago(days=2))
        withdraw(card, alice, purpose="processing", effective_at=ago(days=1))
    before = ConsentEvent.objects.count()

    with pytest.raises(ValidationError) as caught:
        withdraw(card, alice, purpose="processing")

    error = caught.value.error_dict["purpose"][0]
    assert error.code == "consent_not_in_force"
    expected = "already withdrawn" if history == "withdrawn" else "has not given this consent"
    assert expected in error.message
    assert ConsentEvent.objects.count() == before


def test_a_withdrawal_cannot_predate_the_consent(card, alice):
    give_consent(card, alice, effective_at=ago(days=1))

    with pytest.raises(ValidationError) as caught:
        withdraw(card, alice, purpose="processing", effective_at=ago(days=3))

    assert caught.value.error_dict["effective_at"][0].code == "before_last_entry"


# --- Who may record ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("ada", True), ("mallory", True), ("alice", True), ("bob", True), ("rita", False),
     ("charlie", False)],
)  # fmt: skip
def test_who_may_record_consents(users, card, role, allowed):
    user = users[role]
    give_consent(card, None, purpose="calls", effective_at=ago(hours=1))
    counts = (ConsentEvent.objects.count(), ObjectChange.objects.count())

    if allowed:
        give_consent(card, user, purpose="sms")
        withdraw(card, user, purpose="calls")
        assert ConsentEvent.objects.count() == counts[0] + 2
        return
    with pytest.raises(PermissionDenied):
        give_consent(card, user, purpose="sms")
    with pytest.raises(PermissionDenied):
        withdraw(card, user, purpose="calls")
    assert (ConsentEvent.objects.count(), ObjectChange.objects.count()) == counts


# --- The health-data gate ---------------------------------------------------------------------


def test_health_notes_are_refused_without_the_consent_and_accepted_with_it(card, ada):
    with pytest.raises(ValidationError) as caught:
        health.health_note_create(actor=ada, client=card, kind="allergy", text="Латекс")
    assert caught.value.code == "health_consent_missing"
    assert "Record the client's consent to processing of health data first" in str(
        caught.value.message
    )
    assert HealthNote.objects.count() == 0

    give_health_consent(card, ada)
    note, _text = health.health_note_create(actor=ada, client=card, kind="allergy", text="Латекс")

    assert HealthNote.objects.get() == note


def test_updating_a_note_is_refused_once_the_consent_expired(card, ada, time_machine):
    give_health_consent(card, ada, expires_on=timezone.localdate() + 2 * DAY)
    note, _text = health.health_note_create(actor=ada, client=card, kind="allergy", text="Латекс")
    time_machine.move_to(timezone.now() + 5 * DAY)

    with pytest.raises(Http404):
        health.health_note_ref(user=ada, client=card, pk=note.pk)
    note.client = card
    with pytest.raises(ValidationError):
        health.health_note_update(actor=ada, note=note, text="Другое")

    assert health.health_notes_for(user=ada, client=card) == []


@pytest.fixture
def noted(card, ada, alice, mallory):
    grant(alice, mallory)
    give_health_consent(card, alice)
    for kind, text in [("allergy", "Пенициллин"), ("chronic", "Астма")]:
        health.health_note_create(actor=alice, client=card, kind=kind, text=text)
    return card


@pytest.mark.parametrize("role", ["ada", "mallory", "alice"])
def test_withdrawal_hides_the_notes_from_everyone_at_once(users, noted, alice, role):
    user = users[role]
    grant(user)
    note = HealthNote.objects.earliest("pk")
    views = HealthAccessLog.objects.filter(action="view").count()

    withdraw(noted, alice)

    assert health.health_notes_for(user=user, client=noted) == []
    with pytest.raises(Http404):
        health.health_note_get(user=user, client=noted, pk=note.pk)
    assert HealthAccessLog.objects.filter(action="view").count() == views  # nothing was read
    assert HealthNote.objects.count() == 2  # hidden, not yet erased


def test_withdrawal_schedules_the_erasure_after_the_grace_period(noted, alice, settings):
    settings.KARTOTEKA_HEALTH_ERASURE_GRACE_DAYS = 30

    event = withdraw(noted, alice)

    schedule = HealthErasureSchedule.objects.get()
    assert (schedule.client, schedule.withdrawal, schedule.status) == (noted, event, "pending")
    assert schedule.due_at == event.recorded_at + 30 * DAY
    gate = selectors.health_gate(noted)
    assert (gate.is_open, gate.state.status, gate.erasure) == (False, "withdrawn", schedule)
    assert ObjectChange.objects.filter(message="health data erasure scheduled").count() == 1


def test_due_erasure_deletes_the_notes_for_good(noted, alice, time_machine):
    withdraw(noted, alice)
    assert services.health_erasure_run_due() == []  # not due yet

    time_machine.move_to(timezone.now() + 31 * DAY)
    done = services.health_erasure_run_due()

    assert len(done) == 1
    schedule = HealthErasureSchedule.objects.get()
    assert (schedule.status, schedule.notes_erased) == ("done", 2)
    assert HealthNote.objects.count() == 0
    erased = HealthAccessLog.objects.filter(client=noted, action="delete").get()
    assert erased.user is None
    deletes = ObjectChange.objects.filter(content_type__model="healthnote", action="delete")
    assert deletes.count() == 2
    assert all(set(change.before) == {"client", "kind"} for change in deletes)
    assert ObjectChange.objects.filter(message="health data erased").count() == 1
    assert services.health_erasure_run_due() == []  # done once


def test_giving_again_before_the_due_date_cancels_the_erasure(noted, alice, time_machine):
    withdraw(noted, alice)
    time_machine.move_to(timezone.now() + 10 * DAY)

    give_health_consent(noted, alice, text_version="health consent v2")

    schedule = HealthErasureSchedule.objects.get()
    assert schedule.status == "cancelled"
    assert len(health.health_notes_for(user=alice, client=noted)) == 2
    time_machine.move_to(timezone.now() + 40 * DAY)
    assert services.health_erasure_run_due() == []
    assert HealthNote.objects.count() == 2


def test_a_grace_of_zero_days_erases_at_once(noted, alice, settings):
    settings.KARTOTEKA_HEALTH_ERASURE_GRACE_DAYS = 0

    withdraw(noted, alice)

    assert HealthNote.objects.count() == 0
    assert HealthErasureSchedule.objects.get().status == "done"


def test_withdrawing_another_purpose_leaves_health_notes_alone(noted, alice):
    give_consent(noted, alice, purpose="sms")

    withdraw(noted, alice, purpose="sms")

    assert HealthErasureSchedule.objects.count() == 0
    assert len(health.health_notes_for(user=alice, client=noted)) == 2


def test_each_entry_puts_a_line_on_the_timeline_in_the_readers_language(card, alice):
    from django.utils import translation

    from kartoteka.activities.models import TimelineEvent

    give_consent(card, alice, purpose="sms", effective_at=ago(hours=2))
    withdraw(card, alice, purpose="sms")

    lines = list(TimelineEvent.objects.filter(client=card, kind="consent").order_by("occurred_at"))
    assert [line.subkind for line in lines] == ["given", "withdrawn"]
    assert lines[0].title == "Consent given: SMS"
    assert lines[1].summary == "Consent · Email"
    with translation.override("ru"):
        assert lines[1].display_title != ""
        assert lines[1].display_title.startswith(("Согласие", "Consent"))


def test_merging_two_cards_with_pending_erasures_keeps_both(noted, alice, mallory):
    from kartoteka.dedupe.services import merge_cards

    twin = make_person(alice, last_name="Согласова", first_name="Мария")
    give_health_consent(twin, alice)
    health.health_note_create(actor=alice, client=twin, kind="preference", text="Без отдушек")
    withdraw(noted, alice)
    withdraw(twin, alice)

    merge_cards(actor=mallory, survivor=noted, merged=[twin])

    assert HealthErasureSchedule.objects.filter(client=noted, status="pending").count() == 2
    assert ConsentEvent.objects.filter(client=noted).count() == 4
    assert health.health_notes_for(user=alice, client=noted) == []
    give_health_consent(noted, alice, text_version="v5", effective_at=timezone.now())
    assert set(HealthErasureSchedule.objects.values_list("status", flat=True)) == {"cancelled"}
    assert len(health.health_notes_for(user=alice, client=noted)) == 3
