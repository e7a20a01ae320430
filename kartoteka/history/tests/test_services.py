import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kartoteka.accounts.models import Team
from kartoteka.care import services as care_services
from kartoteka.clients.models import Client
from kartoteka.clients.services import VersionConflict, client_archive, client_update
from kartoteka.clients.tests.factories import make_person
from kartoteka.core.models import ObjectChange
from kartoteka.history.services import history_restore


def _last_change(card: Client) -> ObjectChange:
    return ObjectChange.objects.filter(client_id=card.pk).latest("pk")


def _edited(alice, **data) -> tuple[Client, ObjectChange]:
    card = make_person(alice, status="lead", last_name="Иванов")
    client_update(actor=alice, client=card, expected_version=None, data=data)
    return Client.objects.get(pk=card.pk), _last_change(card)


def test_restore_one_field_sets_it_back_and_leaves_the_others(alice):
    card, change = _edited(alice, status="active", last_name="Сидоров")

    history_restore(actor=alice, client=card, change=change, fields=["status"])

    saved = Client.objects.get(pk=card.pk)
    assert (saved.status, saved.last_name) == ("lead", "Сидоров")
    restore = _last_change(card)
    assert restore.message == f"restored from change #{change.pk}"
    assert restore.actor == alice
    assert (restore.before, restore.after) == ({"status": "active"}, {"status": "lead"})


def test_restore_a_whole_change(alice):
    card, change = _edited(alice, status="active", last_name="Сидоров")
    version = card.version

    history_restore(actor=alice, client=card, change=change)

    saved = Client.objects.get(pk=card.pk)
    assert (saved.status, saved.last_name, saved.display_name) == (
        "lead",
        "Иванов",
        "Иванов Иван Петрович",
    )
    assert saved.version == version + 1
    assert _last_change(card).changed_fields == ["last_name", "status"]


def test_restore_is_refused_on_a_version_conflict_and_writes_nothing(alice, bob):
    card, change = _edited(alice, status="active")
    seen = card.version
    client_update(actor=bob, client=card, expected_version=None, data={"source": "выставка"})
    count = ObjectChange.objects.count()

    with pytest.raises(VersionConflict):
        history_restore(actor=alice, client=card, change=change, expected_version=seen)

    assert Client.objects.get(pk=card.pk).status == "active"
    assert ObjectChange.objects.count() == count


def test_restore_of_a_team_that_no_longer_exists_is_a_field_error(ada):
    old_team = Team.objects.create(name="Старая")
    card = make_person(ada, team=old_team)
    new_team = Team.objects.create(name="Новая")
    client_update(actor=ada, client=card, expected_version=None, data={"team": new_team})
    change = _last_change(card)
    old_team.delete()
    card.refresh_from_db()
    count = ObjectChange.objects.count()

    with pytest.raises(ValidationError) as caught:
        history_restore(actor=ada, client=card, change=change)

    assert caught.value.error_dict["team"][0].code == "reference_gone"
    assert Client.objects.get(pk=card.pk).team == new_team
    assert ObjectChange.objects.count() == count


def test_restore_of_an_invalid_value_writes_nothing(alice):
    card, change = _edited(alice, status="active")
    ObjectChange.objects.filter(pk=change.pk).update(
        before={"status": "vanished"}, after={"status": "active"}
    )
    change.refresh_from_db()
    count = ObjectChange.objects.count()

    with pytest.raises(ValidationError) as caught:
        history_restore(actor=alice, client=card, change=change)

    assert "status" in caught.value.error_dict
    assert Client.objects.get(pk=card.pk).status == "active"
    assert ObjectChange.objects.count() == count


@pytest.mark.parametrize("name", ["rita", "charlie"])
def test_readonly_and_outsiders_may_not_restore(alice, users, name):
    card, change = _edited(alice, status="active")
    count = ObjectChange.objects.count()

    with pytest.raises(PermissionDenied):
        history_restore(actor=users[name], client=card, change=change)

    assert Client.objects.get(pk=card.pk).status == "active"
    assert ObjectChange.objects.count() == count


def test_only_fields_of_the_change_may_be_restored(alice):
    card, change = _edited(alice, status="active")

    with pytest.raises(ValidationError) as caught:
        history_restore(actor=alice, client=card, change=change, fields=["source", "number"])

    assert set(caught.value.error_dict) == {"source", "number"}
    assert caught.value.error_dict["source"][0].code == "not_changed"


def test_only_edits_of_the_card_itself_may_be_restored(alice):
    card = make_person(alice)
    created = _last_change(card)
    care_services.survey_create(actor=alice, client=card, data={"name": "A", "scale": "free"})
    survey_change = _last_change(card)
    client_archive(actor=alice, client=card)
    archived = _last_change(card)

    for change in (created, survey_change, archived):
        with pytest.raises(ValidationError):
            history_restore(actor=alice, client=Client.objects.get(pk=card.pk), change=change)


def test_restore_brings_a_removed_phone_back_keeping_the_others(alice):
    card = make_person(
        alice,
        contacts=[
            {"kind": "phone", "value": "+79161234567", "label": "рабочий", "is_primary": True},
            {"kind": "email", "value": "ivan@example.com"},
        ],
    )
    email = card.contacts.get(kind="email")
    client_update(
        actor=alice,
        client=card,
        expected_version=None,
        data={},
        contacts=[{"kind": "email", "value": "ivan@example.com", "pk": email.pk}],
    )
    change = _last_change(card)

    history_restore(actor=alice, client=card, change=change, fields=["contacts"])

    contacts = {(c.kind, c.value, c.is_primary, c.pk == email.pk) for c in card.contacts.all()}
    assert contacts == {
        ("phone", "+7 916 123-45-67", True, False),
        ("email", "ivan@example.com", True, True),  # the only email is the primary one
    }


def test_restore_tags(alice):
    from kartoteka.clients.services import tags_from_names

    card = make_person(alice)
    client_update(
        actor=alice,
        client=card,
        expected_version=None,
        data={},
        tags=tags_from_names(actor=alice, names=["VIP"]),
    )
    client_update(actor=alice, client=card, expected_version=None, data={}, tags=[])
    change = _last_change(card)

    history_restore(actor=alice, client=card, change=change, fields=["tags"])

    assert list(card.tags.values_list("name", flat=True)) == ["VIP"]


def test_restoring_values_the_card_already_has_is_refused(alice):
    card, change = _edited(alice, status="active")
    history_restore(actor=alice, client=card, change=change)
    count = ObjectChange.objects.count()

    with pytest.raises(ValidationError) as caught:
        history_restore(actor=alice, client=card, change=change)

    assert caught.value.error_list[0].code == "already_restored"
    assert ObjectChange.objects.count() == count
