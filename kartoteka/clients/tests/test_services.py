import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kartoteka.clients.models import CardNumberCounter, Client, ContactPoint
from kartoteka.clients.services import (
    DuplicateClients,
    VersionConflict,
    client_actualize,
    client_archive,
    client_create,
    client_restore,
    client_update,
    contact_point_add,
    contact_point_remove,
    contact_point_update,
    tags_from_names,
)
from kartoteka.clients.tests.factories import make_company, make_person
from kartoteka.core.context import change_context
from kartoteka.core.models import ObjectChange
from kartoteka.search.models import SearchEntry


def changes_of(client: Client) -> list[ObjectChange]:
    return list(
        ObjectChange.objects.filter(object_id=client.pk, content_type__model="client").order_by(
            "pk"
        )
    )


def test_create_person_normalises_contacts_and_records_change(alice, north):
    with change_context(channel="web"):
        client = client_create(
            actor=alice,
            data={
                "kind": "person",
                "last_name": " Иванов ",
                "first_name": "Иван",
                "middle_name": "Петрович",
                "status": "active",
            },
            contacts=[
                {"kind": "phone", "value": "8 (916) 123-45-67", "label": "mobile"},
                {"kind": "email", "value": "Ivan@Mail.RU"},
                {"kind": "phone", "value": "+7 495 123-45-67", "label": "work"},
            ],
        )

    assert client.display_name == "Иванов Иван Петрович"
    assert client.sort_name == "иванов иван петрович"
    assert client.responsible == alice
    assert client.team == north
    assert client.version == 1
    contacts = {c.normalized: c for c in client.contacts.all()}
    assert set(contacts) == {"+79161234567", "+74951234567", "ivan@mail.ru"}
    assert contacts["+79161234567"].value == "+7 916 123-45-67"
    assert contacts["+79161234567"].is_primary is True
    assert contacts["+74951234567"].is_primary is False
    assert contacts["ivan@mail.ru"].is_primary is True
    change = ObjectChange.objects.get(object_id=client.pk, content_type__model="client")
    assert change.action == "create"
    assert change.actor == alice
    assert change.channel == "web"
    assert change.after["last_name"] == "Иванов"
    assert change.after["contacts"] == [
        "email:ivan@mail.ru *",
        "phone:+7 495 123-45-67",
        "phone:+7 916 123-45-67 *",
    ]
    assert SearchEntry.objects.get(client=client).document


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        ({"last_name": "王", "first_name": "小明"}, "王小明"),
        ({"last_name": "Smith", "first_name": "John", "middle_name": "A."}, "John A. Smith"),
        (
            {"last_name": "Шевченко", "first_name": "Тарас", "middle_name": "Григорович"},
            "Шевченко Тарас Григорович",
        ),
    ],
)
def test_person_name_is_written_as_its_script_expects(alice, names, expected):
    client = client_create(actor=alice, data={"kind": "person", **names})

    assert client.display_name == expected


def test_card_numbers_are_sequential_and_unique(alice):
    first = make_person(alice)
    second = make_company(alice)
    third = make_person(alice)

    assert [first.number, second.number, third.number] == [1, 2, 3]
    assert second.card_number == "000002"
    assert CardNumberCounter.objects.get(name="client").value == 3


def test_all_errors_of_card_and_contacts_are_reported_at_once(alice):
    with pytest.raises(ValidationError) as exc:
        client_create(
            actor=alice,
            data={"kind": "company", "legal_name": "", "inn": "7707083894", "country": "Russia"},
            contacts=[
                {"kind": "phone", "value": "+79161234567"},
                {"kind": "email", "value": "not-an-email"},
            ],
        )

    errors = exc.value.message_dict
    assert set(errors) == {"legal_name", "inn", "country", "contacts.1.value"}
    assert "INN" in errors["inn"][0]
    assert Client.objects.count() == 0
    assert ContactPoint.objects.count() == 0
    assert ObjectChange.objects.filter(content_type__model="client").count() == 0


def test_same_contact_twice_on_one_card_is_refused(alice):
    with pytest.raises(ValidationError) as exc:
        client_create(
            actor=alice,
            data={"kind": "person", "last_name": "Петров"},
            contacts=[
                {"kind": "phone", "value": "+79161234567"},
                {"kind": "phone", "value": "8 916 123 45 67"},
            ],
        )

    assert exc.value.message_dict == {"contacts.1.value": ["This contact is listed twice."]}


def test_duplicate_phone_in_another_format_is_reported_before_saving(alice):
    existing = make_person(alice, contacts=[{"kind": "phone", "value": "+7 (916) 123-45-67"}])

    with pytest.raises(DuplicateClients) as exc:
        client_create(
            actor=alice,
            data={"kind": "person", "last_name": "Петров"},
            contacts=[{"kind": "phone", "value": "89161234567"}],
        )

    assert [(c.pk, reasons) for c, reasons in exc.value.duplicates] == [
        (existing.pk, ["Phone: +7 916 123-45-67"])
    ]
    assert Client.objects.count() == 1


def test_duplicate_registration_number_and_email_are_reported(alice):
    existing = make_company(
        alice, inn="7707083893", contacts=[{"kind": "email", "value": "info@romashka.ru"}]
    )

    with pytest.raises(DuplicateClients) as exc:
        client_create(
            actor=alice,
            data={"kind": "company", "legal_name": "Ромашка ООО", "inn": "7707 083 893"},
            contacts=[{"kind": "email", "value": "INFO@romashka.ru"}],
        )

    ((found, reasons),) = exc.value.duplicates
    assert found == existing
    assert sorted(reasons) == ["Email: info@romashka.ru", "INN: 7707083893"]


def test_duplicate_check_ignores_cards_the_user_cannot_see(alice, charlie):
    make_person(charlie, contacts=[{"kind": "phone", "value": "+79161234567"}])

    client = client_create(
        actor=alice,
        data={"kind": "person", "last_name": "Петров"},
        contacts=[{"kind": "phone", "value": "+79161234567"}],
    )

    assert client.pk is not None


def test_archived_card_still_counts_as_duplicate(alice):
    existing = make_person(alice, contacts=[{"kind": "phone", "value": "+79161234567"}])
    client_archive(actor=alice, client=existing)

    with pytest.raises(DuplicateClients):
        client_create(
            actor=alice,
            data={"kind": "person", "last_name": "Петров"},
            contacts=[{"kind": "phone", "value": "+79161234567"}],
        )


def test_allow_duplicates_saves_anyway(alice):
    make_person(alice, contacts=[{"kind": "phone", "value": "+79161234567"}])

    client = client_create(
        actor=alice,
        data={"kind": "person", "last_name": "Петрова"},
        contacts=[{"kind": "phone", "value": "+79161234567"}],
        allow_duplicates=True,
    )

    assert client.contacts.get().normalized == "+79161234567"


def test_update_records_before_and_after_and_bumps_version(alice):
    client = make_person(alice, status="lead")

    client_update(
        actor=alice,
        client=client,
        expected_version=1,
        data={"status": "active", "position": "Директор"},
    )

    client.refresh_from_db()
    assert client.version == 2
    change = changes_of(client)[-1]
    assert change.action == "update"
    assert change.before == {"status": "lead", "position": ""}
    assert change.after == {"status": "active", "position": "Директор"}


def test_second_editor_with_stale_version_is_refused_and_nothing_is_lost(alice, bob):
    client = make_person(alice)
    stale_copy = Client.objects.get(pk=client.pk)
    client_update(actor=alice, client=client, expected_version=1, data={"notes": "Alice's note"})

    with pytest.raises(VersionConflict) as exc:
        client_update(
            actor=bob, client=stale_copy, expected_version=1, data={"notes": "Bob's note"}
        )

    assert exc.value.current.notes == "Alice's note"
    assert exc.value.current.version == 2
    client.refresh_from_db()
    assert client.notes == "Alice's note"
    assert client.version == 2
    assert len(changes_of(client)) == 2


def test_update_replaces_contact_list(alice):
    client = make_person(
        alice,
        contacts=[
            {"kind": "phone", "value": "+79161234567"},
            {"kind": "email", "value": "old@mail.ru"},
        ],
    )
    phone = client.contacts.get(kind="phone")

    client_update(
        actor=alice,
        client=client,
        expected_version=1,
        data={},
        contacts=[
            {"pk": phone.pk, "kind": "phone", "value": "+79161234567", "label": "mobile"},
            {"kind": "telegram", "value": "@ivan_p"},
        ],
    )

    rows = list(client.contacts.order_by("kind").values_list("kind", "normalized", "label"))
    assert rows == [("phone", "+79161234567", "mobile"), ("telegram", "ivan_p", "")]
    assert client.contacts.get(kind="phone").pk == phone.pk
    assert changes_of(client)[-1].before["contacts"] == [
        "email:old@mail.ru *",
        "phone:+7 916 123-45-67 *",
    ]


def test_invalid_contact_on_update_changes_nothing(alice):
    client = make_person(alice, contacts=[{"kind": "phone", "value": "+79161234567"}])

    with pytest.raises(ValidationError) as exc:
        client_update(
            actor=alice,
            client=client,
            expected_version=1,
            data={"notes": "x"},
            contacts=[{"kind": "phone", "value": "12"}],
        )

    assert list(exc.value.message_dict) == ["contacts.0.value"]
    client.refresh_from_db()
    assert client.version == 1
    assert client.notes == ""
    assert client.contacts.get().normalized == "+79161234567"


def test_contact_point_services_keep_one_primary_and_bump_version(alice):
    client = make_person(alice, contacts=[{"kind": "phone", "value": "+79161234567"}])

    added = contact_point_add(
        actor=alice, client=client, kind="phone", value="+74951234567", is_primary=True
    )
    contact_point_update(actor=alice, contact=added, data={"label": "work"})
    original = client.contacts.get(normalized="+79161234567")
    contact_point_remove(actor=alice, contact=original)

    client.refresh_from_db()
    assert client.version == 4
    assert list(client.contacts.values_list("normalized", "label", "is_primary")) == [
        ("+74951234567", "work", True)
    ]


def test_contact_point_add_reports_plain_field_errors(alice):
    client = make_person(alice)

    with pytest.raises(ValidationError) as exc:
        contact_point_add(actor=alice, client=client, kind="email", value="nope")

    assert list(exc.value.message_dict) == ["value"]


def test_archive_and_restore_are_recorded(alice):
    client = make_person(alice)

    client_archive(actor=alice, client=client)
    assert Client.objects.get(pk=client.pk).is_archived is True
    client_restore(actor=alice, client=client)

    client.refresh_from_db()
    assert client.is_archived is False
    assert client.archived_at is None
    assert [c.action for c in changes_of(client)] == ["create", "archive", "restore"]


def test_actualize_sets_date_and_user(alice, bob):
    client = make_person(alice)

    client_actualize(actor=bob, client=client)

    client.refresh_from_db()
    assert client.actualized_by == bob
    assert client.actualized_at is not None
    assert changes_of(client)[-1].message == "actualized"


def test_read_only_user_cannot_create_and_nothing_is_written(rita):
    with pytest.raises(PermissionDenied):
        client_create(actor=rita, data={"kind": "person", "last_name": "Петров"})

    assert Client.objects.count() == 0
    assert ObjectChange.objects.filter(content_type__model="client").count() == 0


def test_employee_cannot_archive_teammates_card(alice, bob):
    client = make_person(alice)

    with pytest.raises(PermissionDenied):
        client_archive(actor=bob, client=client)

    client.refresh_from_db()
    assert client.is_archived is False
    assert client.version == 1


def test_employee_cannot_hand_card_to_a_colleague_but_manager_can(alice, bob, mallory, charlie):
    client = make_person(alice)

    with pytest.raises(PermissionDenied):
        client_update(actor=alice, client=client, expected_version=1, data={"responsible": bob})
    with pytest.raises(PermissionDenied):
        client_update(
            actor=mallory, client=client, expected_version=1, data={"responsible": charlie}
        )
    client_update(actor=mallory, client=client, expected_version=1, data={"responsible": bob})

    client.refresh_from_db()
    assert client.responsible == bob
    assert client.version == 2


def test_employer_must_be_a_visible_company(alice, charlie):
    person = make_person(alice)
    other_person = make_person(alice)
    hidden_company = make_company(charlie)

    for employer in (other_person, hidden_company):
        with pytest.raises(ValidationError) as exc:
            client_update(
                actor=alice, client=person, expected_version=None, data={"employer": employer}
            )
        assert list(exc.value.message_dict) == ["employer"]
    company = make_company(alice)
    client_update(
        actor=alice,
        client=person,
        expected_version=None,
        data={"employer": company, "position": "Бухгалтер"},
    )

    assert list(company.people.all()) == [person]


def test_unknown_field_is_refused(alice):
    with pytest.raises(ValidationError) as exc:
        client_create(actor=alice, data={"kind": "person", "last_name": "X", "number": 5})

    assert list(exc.value.message_dict) == ["number"]


def test_tags_are_reused_case_insensitively(alice):
    first = tags_from_names(actor=alice, names=["VIP", " опт ", ""])
    second = tags_from_names(actor=alice, names=["vip"])

    assert [t.name for t in first] == ["VIP", "опт"]
    assert second == [first[0]]


def test_accepted_duplicate_does_not_block_later_edits_but_new_one_does(alice):
    first = make_person(alice, contacts=[{"kind": "phone", "value": "+79161234567"}])
    other = make_person(alice, contacts=[{"kind": "email", "value": "other@mail.ru"}])
    second = client_create(
        actor=alice,
        data={"kind": "person", "last_name": "Петров"},
        contacts=[{"kind": "phone", "value": "+79161234567"}],
        allow_duplicates=True,
    )

    client_update(actor=alice, client=second, expected_version=None, data={"notes": "ok"})
    with pytest.raises(DuplicateClients) as exc:
        client_update(
            actor=alice,
            client=second,
            expected_version=None,
            data={},
            contacts=[
                {"kind": "phone", "value": "+79161234567"},
                {"kind": "email", "value": "OTHER@mail.ru"},
            ],
        )

    assert [c.pk for c, _ in exc.value.duplicates] == [other.pk]
    assert first.pk != other.pk
    second.refresh_from_db()
    assert second.contacts.count() == 1


def test_link_to_a_company_the_editor_cannot_see_survives_their_edit(alice, charlie, ada):
    hidden = make_company(ada, responsible=charlie, team=None)
    person = make_person(ada, responsible=alice, team=None, employer=hidden)

    client_update(actor=alice, client=person, expected_version=None, data={"notes": "звонила"})

    person.refresh_from_db()
    assert person.employer == hidden
    assert person.notes == "звонила"
