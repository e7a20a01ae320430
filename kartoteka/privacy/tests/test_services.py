"""The register's write path: due dates copied from the law, status changes, field errors,
and the change log (which never holds the request's personal text)."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from kartoteka.clients.tests.factories import make_person
from kartoteka.core.models import ObjectChange, SiteSettings
from kartoteka.privacy import services
from kartoteka.privacy.models import DataSubjectRequest
from kartoteka.privacy.tests.factories import make_request

pytestmark = pytest.mark.django_db
FRIDAY = datetime.date(2026, 3, 6)


@pytest.fixture
def card(alice):
    return make_person(alice, last_name="Субъектова")


def set_law(code: str) -> None:
    site = SiteSettings.current()
    site.jurisdiction = code
    site.save()


@time_machine.travel(datetime.datetime(2026, 3, 9, 10, tzinfo=datetime.UTC))
@pytest.mark.parametrize(
    ("law", "due"),
    [
        ("ru", datetime.date(2026, 3, 20)),
        ("ua", datetime.date(2026, 4, 5)),
        ("cn", datetime.date(2026, 3, 27)),
        ("eu", datetime.date(2026, 4, 6)),
    ],
)
def test_register_copies_the_law_and_computes_the_due_date(alice, card, law, due):
    set_law(law)

    dsr = make_request(alice, card, received_on=FRIDAY)

    assert (dsr.jurisdiction, dsr.due_on, dsr.original_due_on) == (law, due, due)
    assert dsr.status == "received"
    assert dsr.client_number == card.number
    change = ObjectChange.objects.get(object_id=dsr.pk, content_type__model="datasubjectrequest")
    assert change.client_id == card.pk
    assert "details" not in change.after
    assert "reply_to" not in change.after


def test_a_later_change_of_law_does_not_move_registered_deadlines(alice, card):
    set_law("ru")
    dsr = make_request(alice, card, received_on=FRIDAY)

    set_law("eu")
    dsr.refresh_from_db()

    assert dsr.jurisdiction == "ru"
    assert dsr.due_on == datetime.date(2026, 3, 20)


def test_register_gives_field_errors(alice, card):
    with pytest.raises(ValidationError) as caught:
        make_request(
            alice,
            card,
            kind="nonsense",
            channel="pigeon",
            received_on=timezone.localdate() + datetime.timedelta(days=3),
            by_representative=True,
            representative_name=" ",
        )

    assert set(caught.value.message_dict) == {
        "kind",
        "channel",
        "received_on",
        "representative_name",
    }
    assert DataSubjectRequest.objects.count() == 0


def test_read_only_and_outsiders_may_not_register(rita, charlie, card):
    for user in (rita, charlie):
        with pytest.raises(PermissionDenied):
            make_request(user, card)
    assert DataSubjectRequest.objects.count() == 0


def test_start_extend_complete(ada, alice, card):
    set_law("ru")
    dsr = make_request(alice, card, received_on=FRIDAY)

    dsr = services.request_start(actor=ada, dsr=dsr)
    assert (dsr.status, dsr.handled_by) == ("in_progress", ada)

    dsr = services.request_extend(actor=ada, dsr=dsr, reason="Нужны архивы за 2019 год")
    assert (dsr.status, dsr.due_on, dsr.original_due_on) == (
        "extended",
        datetime.date(2026, 3, 27),
        datetime.date(2026, 3, 20),
    )
    with pytest.raises(ValidationError) as caught:
        services.request_extend(actor=ada, dsr=dsr, reason="ещё раз")
    assert caught.value.code == "already_extended"

    dsr = services.request_complete(actor=ada, dsr=dsr, outcome="Выписка отправлена")
    assert dsr.status == "done"
    assert dsr.completed_at is not None
    messages = list(
        ObjectChange.objects.filter(object_id=dsr.pk, content_type__model="datasubjectrequest")
        .order_by("pk")
        .values_list("message", flat=True)
    )
    assert messages == ["", "started", "extended", "done"]


def test_extend_needs_a_reason_and_a_law_that_allows_it(ada, alice, card):
    set_law("ua")
    dsr = make_request(alice, card)

    with pytest.raises(ValidationError) as caught:
        services.request_extend(actor=ada, dsr=dsr, reason="  ")
    assert caught.value.message_dict == {"extension_reason": [caught.value.messages[0]]}

    with pytest.raises(ValidationError) as caught:
        services.request_extend(actor=ada, dsr=dsr, reason="Причина")
    assert caught.value.code == "not_extendable"
    dsr.refresh_from_db()
    assert dsr.status == "received"


def test_refuse_needs_a_reason_and_closes_the_request(ada, alice, card):
    dsr = make_request(alice, card)

    with pytest.raises(ValidationError):
        services.request_refuse(actor=ada, dsr=dsr, reason="")
    dsr = services.request_refuse(actor=ada, dsr=dsr, reason="Личность не подтверждена")

    assert dsr.status == "refused"
    with pytest.raises(ValidationError) as caught:
        services.request_complete(actor=ada, dsr=dsr, outcome="x")
    assert caught.value.code == "request_closed"


def test_an_erasure_request_is_not_done_before_the_card_is_erased(ada, alice, card):
    dsr = make_request(alice, card, kind="erasure")

    with pytest.raises(ValidationError) as caught:
        services.request_complete(actor=ada, dsr=dsr, outcome="Удалено")

    assert caught.value.code == "erasure_not_performed"


def test_managers_decide_on_their_teams_cards_only(mallory, charlie, alice, card):
    dsr = make_request(alice, card)
    outsider_card = make_person(charlie, last_name="Южный")
    other = make_request(charlie, outsider_card)

    services.request_start(actor=mallory, dsr=dsr)
    with pytest.raises(PermissionDenied):
        services.request_start(actor=mallory, dsr=other)
    with pytest.raises(PermissionDenied):
        services.request_start(actor=alice, dsr=make_request(alice, card))


@time_machine.travel(datetime.datetime(2026, 3, 30, 10, tzinfo=datetime.UTC))
def test_overdue_is_open_and_past_due(alice, card, ada):
    set_law("ru")
    late = make_request(alice, card, received_on=FRIDAY)  # due 20 March
    closed = make_request(alice, card, received_on=FRIDAY)
    services.request_refuse(actor=ada, dsr=closed, reason="Повтор")
    closed.refresh_from_db()

    assert late.is_overdue is True
    assert closed.is_overdue is False
