"""core.messages: phrases stored untranslated and shown in the reader's language; and the
card timeline, written by one user, read by others in their own languages."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import translation
from django.utils.translation import gettext_noop

from kartoteka.activities import services as activity_services
from kartoteka.activities.models import TimelineEvent
from kartoteka.clients.tests.factories import make_person
from kartoteka.core.messages import Message, render_stored
from kartoteka.finance import services as finance_services


def test_message_renders_in_the_active_language_and_round_trips_through_json():
    message = Message(gettext_noop("Invoice № %(number)s"), {"number": "000012"})
    stored = message.to_json()

    restored = Message.from_json(stored)
    with translation.override("ru"):
        assert restored.render() == "Счёт № 000012"
    with translation.override("zh-hans"):
        assert restored.render() == "账单 000012"
    with translation.override("en"):
        assert restored.render() == "Invoice № 000012"


def test_nested_labels_dates_and_decimals_are_rendered_for_the_reader():
    label = Message.label(activity_services.Interaction.Kind.MEETING.label)
    message = Message(
        gettext_noop("%(kind)s: %(subject)s"),
        {"kind": label, "subject": "Договор"},
    )
    due = Message(gettext_noop("due %(date)s"), {"date": datetime.date(2026, 3, 9)})
    amount = Message("%(amount)s", {"amount": Decimal("10.50")})

    stored = [m.to_json() for m in (message, due, amount)]
    with translation.override("ru"):
        texts = [Message.from_json(s).render() for s in stored]
    assert texts[0] == "Встреча: Договор"
    assert "09.03.2026" in texts[1]
    assert texts[2] == "10.50"
    with translation.override("en"):
        assert Message.from_json(stored[0]).render() == "Meeting: Договор"


def test_stored_plain_text_is_shown_as_it_is():
    assert render_stored(None, "Договор № 7.pdf") == "Договор № 7.pdf"
    assert render_stored({}, "text") == "text"


def test_datetimes_are_refused_because_the_zone_would_be_lost():
    with pytest.raises(TypeError):
        Message("%(when)s", {"when": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)}).to_json()


@pytest.mark.django_db
def test_timeline_written_in_russian_reads_in_each_readers_language(alice):
    card = make_person(alice)
    with translation.override("ru"):
        call = activity_services.interaction_create(
            actor=alice,
            client=card,
            data={"kind": "call", "direction": "out", "subject": "Прайс"},
        )
        invoice = finance_services.invoice_create(
            actor=alice,
            client=card,
            data={
                "amount": Decimal("100.00"),
                "currency": "RUB",
                "issued_on": datetime.date(2026, 3, 1),
                "due_on": datetime.date(2026, 3, 9),
            },
        )

    def event(obj) -> TimelineEvent:
        content_type = ContentType.objects.get_for_model(obj)
        return TimelineEvent.objects.get(content_type=content_type, object_id=obj.pk)

    call_event, invoice_event = event(call), event(invoice)
    # What is stored is the English text (for search and tools) plus the message.
    assert call_event.title == "Outgoing call: Прайс"
    assert call_event.title_msg["m"] == "%(kind)s: %(subject)s"
    with translation.override("zh-hans"):
        assert call_event.display_title == "呼出电话：Прайс"
        assert invoice_event.display_title == f"账单 {invoice.number}"
    with translation.override("ru"):
        assert call_event.display_title == "Исходящий звонок: Прайс"
        assert invoice_event.display_title == f"Счёт № {invoice.number}"
        assert "09.03.2026" in invoice_event.display_summary


@pytest.mark.django_db
def test_timeline_page_and_api_show_the_readers_language(alice, web_client_for, api_client_for):
    card = make_person(alice)
    with translation.override("ru"):
        activity_services.interaction_create(
            actor=alice, client=card, data={"kind": "call", "direction": "in", "subject": "Счёт"}
        )
    alice.language = "zh-hans"
    alice.save(update_fields=["language"])

    page = web_client_for(alice).get(f"/clients/{card.pk}/timeline/")
    assert "呼入电话：Счёт" in page.content.decode()

    alice.language = "en"
    alice.save(update_fields=["language"])
    data = api_client_for(alice).get(f"/api/v1/clients/{card.pk}/timeline").json()
    assert data["items"][0]["title"] == "Incoming call: Счёт"
