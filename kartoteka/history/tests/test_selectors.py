import datetime

import pytest
from django.http import Http404
from django.utils import timezone, translation

from kartoteka.activities import services as activity_services
from kartoteka.care import health
from kartoteka.care import services as care_services
from kartoteka.clients.services import client_update
from kartoteka.clients.tests.factories import make_company, make_person
from kartoteka.consent.tests.factories import give_health_consent
from kartoteka.core.models import ObjectChange
from kartoteka.history import selectors
from kartoteka.history.selectors import HistoryFilters


def _fields(entry):
    return {f.name: (f.label, f.before, f.after) for f in entry.fields}


def test_history_lists_the_card_and_its_sections_newest_first_and_not_other_cards(alice):
    card = make_person(alice)
    other = make_person(alice, last_name="Петров")
    client_update(actor=alice, client=card, expected_version=None, data={"status": "active"})
    care_services.survey_create(
        actor=alice, client=card, data={"name": "После визита", "scale": "nps", "score": 9}
    )
    activity_services.interaction_create(
        actor=alice, client=card, data={"kind": "note", "content": "Любит чай"}
    )
    client_update(actor=alice, client=other, expected_version=None, data={"status": "key"})

    page = selectors.history_page(user=alice, client=card)

    assert [e.section_key for e in page.entries] == [
        "activities.interaction",
        "care.surveyresponse",
        "clients.client",
        "clients.client",
    ]
    assert [e.change.action for e in page.entries][-2:] == ["update", "create"]
    assert all(e.change.client_id == card.pk for e in page.entries)
    assert page.has_next is False


def test_fields_show_labels_choice_labels_and_names_of_references(alice, bob, mallory, north):
    card = make_person(alice, team=north)
    client_update(
        actor=mallory,
        client=card,
        expected_version=None,
        data={
            "status": "key",
            "responsible": bob,
            "birth_date": datetime.date(1990, 3, 7),
            "family_status": "married",
        },
    )

    with translation.override("en"):
        [entry] = selectors.history_page(
            user=alice, client=card, filters=HistoryFilters(section="clients.client")
        ).entries[:1]

    fields = _fields(entry)
    assert fields["status"] == ("Status", "Lead", "Key client")
    assert fields["responsible"] == ("Responsible", "Alice", "Bob")
    assert fields["birth_date"] == ("Birth date", "—", "03/07/1990")
    assert fields["family_status"] == ("Family status", "—", "Married")


def test_labels_follow_the_viewers_language(alice):
    card = make_person(alice)
    client_update(actor=alice, client=card, expected_version=None, data={"status": "active"})

    with translation.override("ru"):
        entry = selectors.history_page(user=alice, client=card).entries[0]

    label, before, after = _fields(entry)["status"]
    assert label == "Статус"
    assert (before, after) != ("Lead", "Active")


def test_a_hidden_employer_is_not_named(alice, charlie):
    company = make_company(charlie, legal_name="ООО «Тайна»", short_name="Тайна")
    card = make_person(alice)
    ObjectChange.objects.filter(client_id=card.pk).update(
        before={"employer": None}, after={"employer": company.pk}, action="update"
    )

    entry = selectors.history_page(user=alice, client=card).entries[0]

    _label, _before, after = _fields(entry)["employer"]
    assert "Тайна" not in after


def test_health_note_changes_show_no_values(alice, users):
    alice.health_access = True
    alice.save(update_fields=["health_access"])
    card = make_person(alice)
    give_health_consent(card)
    health.health_note_create(actor=alice, client=card, kind="allergy", text="пенициллин")

    entries = selectors.history_page(
        user=alice, client=card, filters=HistoryFilters(section="care.healthnote")
    ).entries

    assert len(entries) == 1
    assert entries[0].fields == []
    assert entries[0].object_label == ""
    assert "health" in entries[0].note.lower()
    assert "пенициллин" not in str(entries[0].__dict__)


def test_filters_by_section_actor_and_date(alice, bob):
    card = make_person(alice)
    client_update(actor=bob, client=card, expected_version=None, data={"status": "active"})
    care_services.survey_create(actor=alice, client=card, data={"name": "A", "scale": "free"})
    old = ObjectChange.objects.filter(client_id=card.pk, action="create").earliest("pk")
    ObjectChange.objects.filter(pk=old.pk).update(
        timestamp=timezone.now() - datetime.timedelta(days=30)
    )
    today = timezone.localdate()

    by_section = selectors.history_page(
        user=alice, client=card, filters=HistoryFilters(section="care.surveyresponse")
    )
    by_actor = selectors.history_page(user=alice, client=card, filters=HistoryFilters(actor=bob.pk))
    by_date = selectors.history_page(
        user=alice, client=card, filters=HistoryFilters(date_from=today, date_to=today)
    )
    unknown = selectors.history_page(
        user=alice, client=card, filters=HistoryFilters(section="nope.nothing")
    )

    assert [e.section_key for e in by_section.entries] == ["care.surveyresponse"]
    assert [e.change.actor for e in by_actor.entries] == [bob]
    assert len(by_date.entries) == 2
    assert old.pk not in [e.change.pk for e in by_date.entries]
    assert unknown.entries == []


def test_pages(alice):
    card = make_person(alice)
    for status in ["active", "key", "inactive", "lead"]:
        client_update(actor=alice, client=card, expected_version=None, data={"status": status})

    first = selectors.history_page(user=alice, client=card, per_page=2)
    third = selectors.history_page(user=alice, client=card, per_page=2, page=3)

    assert first.has_next is True
    assert len(first.entries) == 2
    assert third.has_next is False
    assert [e.change.action for e in third.entries] == ["create"]


def test_section_and_actor_choices(alice, bob):
    card = make_person(alice)
    client_update(actor=bob, client=card, expected_version=None, data={"status": "active"})
    care_services.survey_create(actor=alice, client=card, data={"name": "A", "scale": "free"})

    with translation.override("en"):
        sections = selectors.history_section_choices(user=alice, client=card)
    actors = selectors.history_actor_choices(user=alice, client=card)

    assert [key for key, _label in sections] == ["clients.client", "care.surveyresponse"]
    assert actors == [(alice.pk, "Alice"), (bob.pk, "Bob")]


def test_outsider_gets_404(alice, charlie):
    card = make_person(alice)

    with pytest.raises(Http404):
        selectors.history_page(user=charlie, client=card)
    with pytest.raises(Http404):
        selectors.history_change_get(
            user=charlie, client=card, pk=ObjectChange.objects.get(client_id=card.pk).pk
        )


def test_a_change_of_another_card_is_not_found(alice):
    card = make_person(alice)
    other = make_person(alice)
    foreign = ObjectChange.objects.get(client_id=other.pk)

    with pytest.raises(Http404):
        selectors.history_change_get(user=alice, client=card, pk=foreign.pk)


def test_restorable_only_for_users_who_may_change_the_card(alice, rita):
    card = make_person(alice)
    client_update(actor=alice, client=card, expected_version=None, data={"status": "active"})

    mine = selectors.history_page(user=alice, client=card).entries[0]
    readonly = selectors.history_page(user=rita, client=card).entries[0]

    assert mine.restorable_names == ["status"]
    assert readonly.restorable_names == []


def test_a_value_the_card_has_again_is_not_offered_for_restore(alice):
    card = make_person(alice)
    client_update(
        actor=alice,
        client=card,
        expected_version=None,
        data={"status": "active", "source": "сайт"},
    )
    client_update(actor=alice, client=card, expected_version=None, data={"status": "lead"})

    older = selectors.history_page(user=alice, client=card).entries[1]

    assert older.restorable_names == ["source"]
