"""activities.services: interactions written with validation, versions, change log and the
card's timeline line; deleting keeps the history."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError

from kartoteka.activities import selectors, services
from kartoteka.activities.models import Interaction, TimelineEvent
from kartoteka.clients.tests.factories import make_company, make_person
from kartoteka.core.models import ObjectChange

pytestmark = pytest.mark.django_db


def call_data(**overrides):
    return {
        "kind": "call",
        "direction": "out",
        "occurred_at": datetime.datetime(2024, 3, 5, 14, 30, tzinfo=datetime.UTC),
        "duration_minutes": 12,
        "subject": "Прайс-лист",
        "content": "Обсудили новые цены на весенний сезон.",
        "outcome": "Ждёт коммерческое предложение",
        "next_step": "Отправить КП до пятницы",
        **overrides,
    }


def changes_of(obj) -> list[ObjectChange]:
    content_type = ContentType.objects.get_for_model(obj)
    return list(
        ObjectChange.objects.filter(content_type=content_type, object_id=obj.pk).order_by("pk")
    )


def timeline_of(obj) -> TimelineEvent:
    content_type = ContentType.objects.get_for_model(obj)
    return TimelineEvent.objects.get(content_type=content_type, object_id=obj.pk)


def test_create_saves_logs_and_writes_the_timeline_line(alice):
    card = make_person(alice)

    interaction = services.interaction_create(actor=alice, client=card, data=call_data())

    saved = Interaction.objects.get()
    assert saved.pk == interaction.pk
    assert saved.client == card
    assert saved.author == alice
    assert (saved.kind, saved.direction, saved.duration_minutes) == ("call", "out", 12)
    assert saved.version == 1
    assert saved.is_deleted is False
    [change] = changes_of(saved)
    assert change.action == ObjectChange.Action.CREATE
    assert change.actor == alice
    assert change.after["subject"] == "Прайс-лист"
    assert change.after["author"] == alice.pk
    event = timeline_of(saved)
    assert event.client == card
    assert event.kind == TimelineEvent.Kind.INTERACTION
    assert event.subkind == "call"
    assert event.title == "Outgoing call: Прайс-лист"
    assert event.summary == "Ждёт коммерческое предложение"
    assert event.occurred_at == saved.occurred_at
    assert event.author == alice


def test_occurred_at_defaults_to_now(alice, time_machine):
    time_machine.move_to(datetime.datetime(2024, 6, 1, 9, 0, tzinfo=datetime.UTC), tick=False)
    card = make_person(alice)

    interaction = services.interaction_create(
        actor=alice, client=card, data={"kind": "note", "content": "Любит зелёный чай"}
    )

    assert interaction.occurred_at == datetime.datetime(2024, 6, 1, 9, 0, tzinfo=datetime.UTC)
    event = timeline_of(interaction)
    assert event.title == "Note"
    assert event.summary == "Любит зелёный чай"


@pytest.mark.parametrize(
    ("kind", "direction", "title"),
    [
        ("call", "in", "Incoming call: Тема"),
        ("call", "", "Call: Тема"),
        ("email", "out", "Outgoing email: Тема"),
        ("message", "in", "Incoming message: Тема"),
        ("meeting", "", "Meeting: Тема"),
        ("visit", "", "Visit: Тема"),
    ],
)
def test_timeline_title_names_kind_and_direction(alice, kind, direction, title):
    card = make_person(alice)
    data = {"kind": kind, "direction": direction, "subject": "Тема"}

    interaction = services.interaction_create(actor=alice, client=card, data=data)

    assert timeline_of(interaction).title == title


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"kind": "meeting", "direction": "in"}, "direction", "direction_not_allowed"),
        ({"kind": "note", "direction": ""}, "duration_minutes", "duration_not_allowed"),
        ({"kind": "email", "duration_minutes": 5}, "duration_minutes", "duration_not_allowed"),
        ({"duration_minutes": 24 * 60 + 1}, "duration_minutes", "duration_too_long"),
        ({"subject": "", "content": "", "outcome": ""}, "subject", "empty_interaction"),
        ({"kind": "fax"}, "kind", "invalid_choice"),
        ({"direction": "up"}, "direction", "invalid_choice"),
        ({"subject": "x" * 301}, "subject", "max_length"),
    ],
)
def test_invalid_input_is_refused_per_field(alice, overrides, field, code):
    card = make_person(alice)

    with pytest.raises(ValidationError) as caught:
        services.interaction_create(actor=alice, client=card, data=call_data(**overrides))

    assert [e.code for e in caught.value.error_dict[field]] == [code]
    assert Interaction.objects.count() == 0
    assert TimelineEvent.objects.count() == 0


def test_every_broken_rule_is_reported_at_once(alice):
    card = make_person(alice)
    data = {"kind": "note", "direction": "in", "duration_minutes": 3}

    with pytest.raises(ValidationError) as caught:
        services.interaction_create(actor=alice, client=card, data=data)

    assert set(caught.value.error_dict) == {"direction", "duration_minutes", "subject"}


def test_unknown_field_is_refused(alice):
    card = make_person(alice)

    with pytest.raises(ValidationError) as caught:
        services.interaction_create(actor=alice, client=card, data=call_data(client=card))

    assert caught.value.error_dict["client"][0].code == "unknown_field"


def test_contact_person_must_work_at_the_company(alice, bob):
    company = make_company(alice)
    employee = make_person(alice, last_name="Сотрудникова", employer=company)
    stranger = make_person(alice, last_name="Посторонний")
    other_company = make_company(alice, legal_name="ООО «Другая»")
    elsewhere = make_person(alice, last_name="Чужой", employer=other_company)

    ok = services.interaction_create(
        actor=alice, client=company, data=call_data(contact_person=employee)
    )

    assert ok.contact_person == employee
    for person in (stranger, elsewhere, other_company):
        with pytest.raises(ValidationError) as caught:
            services.interaction_create(
                actor=alice, client=company, data=call_data(contact_person=person)
            )
        assert caught.value.error_dict["contact_person"][0].code == "contact_person_invalid"
    assert Interaction.objects.count() == 1


def test_contact_person_only_on_company_cards(alice):
    card = make_person(alice)
    other = make_person(alice, last_name="Другой")

    with pytest.raises(ValidationError) as caught:
        services.interaction_create(actor=alice, client=card, data=call_data(contact_person=other))

    assert caught.value.error_dict["contact_person"][0].code == "contact_person_not_allowed"


def test_contact_person_the_actor_cannot_see_is_refused(alice, charlie, ada, south):
    company = make_company(alice)
    hidden = make_person(ada, last_name="Скрытый", employer=company, team=south, responsible=None)

    with pytest.raises(ValidationError) as caught:
        services.interaction_create(
            actor=alice, client=company, data=call_data(contact_person=hidden)
        )

    assert caught.value.error_dict["contact_person"][0].code == "contact_person_invalid"


def test_a_hidden_person_someone_else_linked_stays_on_edit(alice, ada, south):
    company = make_company(alice)
    hidden = make_person(ada, last_name="Скрытый", employer=company, team=south, responsible=None)
    interaction = services.interaction_create(
        actor=ada, client=company, data=call_data(contact_person=hidden)
    )

    services.interaction_update(
        actor=alice,
        interaction=interaction,
        expected_version=1,
        data={"outcome": "Договорились", "contact_person": hidden},
    )

    interaction.refresh_from_db()
    assert interaction.contact_person == hidden
    assert interaction.outcome == "Договорились"


def test_update_bumps_version_logs_changed_fields_and_refreshes_the_timeline(alice, bob):
    card = make_person(alice)
    interaction = services.interaction_create(actor=alice, client=card, data=call_data())

    services.interaction_update(
        actor=bob,
        interaction=interaction,
        expected_version=1,
        data={"direction": "in", "outcome": "Согласен на встречу"},
    )

    interaction.refresh_from_db()
    assert interaction.version == 2
    assert interaction.author == alice  # the author stays who recorded it
    update = changes_of(interaction)[-1]
    assert update.action == ObjectChange.Action.UPDATE
    assert update.actor == bob
    assert update.before == {"direction": "out", "outcome": "Ждёт коммерческое предложение"}
    assert update.after == {"direction": "in", "outcome": "Согласен на встречу"}
    event = timeline_of(interaction)
    assert event.title == "Incoming call: Прайс-лист"
    assert event.summary == "Согласен на встречу"
    assert TimelineEvent.objects.count() == 1


def test_stale_version_is_a_conflict_and_changes_nothing(alice, bob):
    card = make_person(alice)
    interaction = services.interaction_create(actor=alice, client=card, data=call_data())
    services.interaction_update(
        actor=alice, interaction=interaction, expected_version=1, data={"outcome": "Первый"}
    )
    stale = Interaction.objects.get(pk=interaction.pk)
    stale.version = 1
    log_size = ObjectChange.objects.count()

    with pytest.raises(services.InteractionVersionConflict) as caught:
        services.interaction_update(
            actor=bob, interaction=stale, expected_version=1, data={"outcome": "Второй"}
        )

    assert caught.value.current.version == 2
    assert caught.value.current.outcome == "Первый"
    assert (stale.outcome, stale.version) == ("Первый", 1)  # the caller's copy is untouched
    interaction.refresh_from_db()
    assert (interaction.outcome, interaction.version) == ("Первый", 2)
    assert ObjectChange.objects.count() == log_size
    assert timeline_of(interaction).summary == "Первый"


def test_failed_update_keeps_version_and_instance(alice):
    card = make_person(alice)
    interaction = services.interaction_create(actor=alice, client=card, data=call_data())

    with pytest.raises(ValidationError):
        services.interaction_update(
            actor=alice, interaction=interaction, expected_version=1, data={"kind": "note"}
        )

    assert interaction.kind == "call"
    assert interaction.version == 1
    interaction.refresh_from_db()
    assert (interaction.kind, interaction.version) == ("call", 1)


def test_delete_is_soft_keeps_content_in_the_log_and_leaves_the_timeline(alice, bob):
    card = make_person(alice)
    interaction = services.interaction_create(actor=alice, client=card, data=call_data())

    services.interaction_delete(actor=bob, interaction=interaction)

    row = Interaction.objects.get(pk=interaction.pk)
    assert row.is_deleted is True
    assert row.content == "Обсудили новые цены на весенний сезон."
    deletion = changes_of(row)[-1]
    assert deletion.action == ObjectChange.Action.DELETE
    assert deletion.actor == bob
    assert deletion.before["content"] == "Обсудили новые цены на весенний сезон."
    assert deletion.before["subject"] == "Прайс-лист"
    assert TimelineEvent.objects.count() == 0
    assert list(selectors.interaction_list(user=alice, client=card)) == []


def test_deleted_interaction_cannot_be_edited(alice):
    card = make_person(alice)
    interaction = services.interaction_create(actor=alice, client=card, data=call_data())
    services.interaction_delete(actor=alice, interaction=interaction)
    interaction.refresh_from_db()

    with pytest.raises(services.InteractionVersionConflict) as caught:
        services.interaction_update(
            actor=alice, interaction=interaction, expected_version=None, data={"outcome": "x"}
        )

    assert caught.value.current.is_deleted is True
    assert TimelineEvent.objects.count() == 0


@pytest.mark.parametrize("role", ["rita", "charlie"])
def test_users_who_may_not_change_the_card_write_nothing(users, role):
    alice = users["alice"]
    card = make_person(alice)
    interaction = services.interaction_create(actor=alice, client=card, data=call_data())
    log_size = ObjectChange.objects.count()

    with pytest.raises(PermissionDenied):
        services.interaction_create(actor=users[role], client=card, data=call_data())
    with pytest.raises(PermissionDenied):
        services.interaction_update(
            actor=users[role], interaction=interaction, expected_version=1, data={"outcome": "x"}
        )
    with pytest.raises(PermissionDenied):
        services.interaction_delete(actor=users[role], interaction=interaction)

    interaction.refresh_from_db()
    assert Interaction.objects.count() == 1
    assert (interaction.version, interaction.is_deleted) == (1, False)
    assert ObjectChange.objects.count() == log_size
    assert TimelineEvent.objects.count() == 1


def test_list_is_newest_first_without_deleted_and_hides_people_the_user_cannot_see(
    alice, ada, south
):
    company = make_company(alice)
    visible = make_person(alice, last_name="Видимая", employer=company)
    hidden = make_person(ada, last_name="Скрытый", employer=company, team=south, responsible=None)
    at = datetime.datetime(2024, 1, 10, 10, 0, tzinfo=datetime.UTC)
    first = services.interaction_create(
        actor=ada, client=company, data=call_data(occurred_at=at, contact_person=hidden)
    )
    second = services.interaction_create(
        actor=alice,
        client=company,
        data=call_data(occurred_at=at + datetime.timedelta(days=1), contact_person=visible),
    )
    gone = services.interaction_create(
        actor=alice, client=company, data=call_data(occurred_at=at + datetime.timedelta(days=2))
    )
    services.interaction_delete(actor=alice, interaction=gone)

    rows = selectors.interaction_latest(user=alice, client=company)

    assert [r.pk for r in rows] == [second.pk, first.pk]
    assert rows[0].contact_person == visible
    assert rows[1].contact_person is None
    assert [r.contact_person for r in selectors.interaction_latest(user=ada, client=company)] == [
        visible,
        hidden,
    ]
    assert Interaction.objects.get(pk=first.pk).contact_person == hidden
