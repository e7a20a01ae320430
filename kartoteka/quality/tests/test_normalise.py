"""Bulk normalisation: the fixes, preview, apply (versions, change log, search, quality),
exact undo, refusal for cards changed since, permissions via web."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from kartoteka.clients.models import Client, ContactPoint
from kartoteka.clients.services import client_update
from kartoteka.clients.tests.factories import make_person
from kartoteka.core.models import ObjectChange
from kartoteka.quality import normalise
from kartoteka.quality.models import NormalisationRun


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ИВАНОВ", "Иванов"),
        ("иван", "Иван"),
        ("ИВАНОВ иван", "Иванов Иван"),
        ("O'NEIL", "O'Neil"),
        ("MCDONALD", "McDonald"),
        ("McDonald", "McDonald"),
        ("王小明", "王小明"),
        ("ludwig VAN beethoven", "Ludwig van Beethoven"),
        ("петрова-водкина", "Петрова-Водкина"),
    ],
)
def test_fix_name_case(value, expected):
    assert normalise.fix_name_case(value) == expected


def test_fix_phone_and_email():
    assert normalise.fix_phone("8 (916) 123 45 67") == ("+7 916 123-45-67", "+79161234567")
    assert normalise.fix_phone("+7 916 123-45-67") is None
    assert normalise.fix_phone("not a phone") is None
    assert normalise.fix_email("Maria@Example.COM") == ("maria@example.com", "maria@example.com")
    assert normalise.fix_email("maria@example.com") is None


@pytest.fixture
def messy(alice):
    shouting = make_person(alice, last_name="ИВАНОВ", first_name="иван", middle_name="")
    chinese = make_person(alice, last_name="王", first_name="小明", middle_name="")
    tidy = make_person(alice, last_name="Петров", first_name="Пётр", middle_name="")
    # As an old import left them (past the services).
    ContactPoint.objects.filter(client=tidy, kind="phone").update(value="8 (916) 555 44 33")
    ContactPoint.objects.create(
        client=tidy, kind="email", value="Petrov@Mail.RU", normalized="petrov@mail.ru"
    )
    return {"shouting": shouting, "chinese": chinese, "tidy": tidy}


def test_preview_writes_nothing(mallory, messy):
    before = list(Client.objects.values_list("pk", "version", "last_name"))
    preview = normalise.normalisation_preview(actor=mallory, operation="names", limit=1)
    assert preview.total == 2  # ИВАНОВ and иван; Chinese and mixed-case names untouched
    assert len(preview.sample) == 1
    assert (preview.sample[0].before, preview.sample[0].after) == ("ИВАНОВ", "Иванов")
    assert list(Client.objects.values_list("pk", "version", "last_name")) == before
    assert not NormalisationRun.objects.exists()


def test_apply_and_undo_names(mallory, messy):
    card = messy["shouting"]
    version = Client.objects.get(pk=card.pk).version
    run = normalise.normalisation_apply(actor=mallory, operation="names")
    card.refresh_from_db()
    assert (card.last_name, card.first_name, card.display_name) == ("Иванов", "Иван", "Иванов Иван")
    assert card.version == version + 1
    assert (run.card_count, run.value_count) == (1, 2)
    change = ObjectChange.objects.filter(object_id=card.pk, action="update").first()
    assert change.after == {"last_name": "Иванов", "first_name": "Иван"}
    assert change.actor == mallory
    assert Client.objects.get(pk=messy["chinese"].pk).display_name == "王小明"
    run = normalise.normalisation_undo(actor=mallory, run=run)
    card.refresh_from_db()
    assert (card.last_name, card.first_name) == ("ИВАНОВ", "иван")
    assert run.status == "undone"
    assert run.undone_count == 1
    with pytest.raises(ValidationError):
        normalise.normalisation_undo(actor=mallory, run=run)


def test_apply_and_undo_contacts(ada, messy):
    tidy = messy["tidy"]
    phones = normalise.normalisation_apply(actor=ada, operation="phones")
    emails = normalise.normalisation_apply(actor=ada, operation="emails")
    phone = ContactPoint.objects.get(client=tidy, kind="phone")
    email = ContactPoint.objects.get(client=tidy, kind="email")
    assert (phone.value, phone.normalized) == ("+7 916 555-44-33", "+79165554433")
    assert email.value == "petrov@mail.ru"
    normalise.normalisation_undo(actor=ada, run=emails)
    email.refresh_from_db()
    assert email.value == "Petrov@Mail.RU"
    # Undoing the e-mail run changed the card after the phone run: that run now leaves it.
    phones = normalise.normalisation_undo(actor=ada, run=phones)
    assert phones.skipped_count == 1
    phone.refresh_from_db()
    assert phone.value == "+7 916 555-44-33"


def test_undo_restores_phones_exactly(ada, messy):
    run = normalise.normalisation_apply(actor=ada, operation="phones")
    normalise.normalisation_undo(actor=ada, run=run)
    phone = ContactPoint.objects.get(client=messy["tidy"], kind="phone")
    assert phone.value == "8 (916) 555 44 33"


def test_undo_leaves_cards_changed_since(mallory, alice, messy):
    run = normalise.normalisation_apply(actor=mallory, operation="names")
    card = Client.objects.get(pk=messy["shouting"].pk)
    client_update(actor=alice, client=card, expected_version=None, data={"middle_name": "Ильич"})
    run = normalise.normalisation_undo(actor=mallory, run=run)
    card.refresh_from_db()
    assert card.last_name == "Иванов"  # kept: someone edited the card after the run
    assert (run.undone_count, run.skipped_count) == (0, 1)


@pytest.mark.parametrize(
    ("name", "allowed"), [("ada", True), ("mallory", True), ("alice", False), ("rita", False)]
)
def test_who_may_normalise(users, messy, web_client_for, name, allowed):
    user = users[name]
    if not allowed:
        with pytest.raises(PermissionDenied):
            normalise.normalisation_apply(actor=user, operation="names")
    client = web_client_for(user)
    preview = client.get(reverse("quality:normalise"), {"operation": "names"})
    apply = client.post(reverse("quality:normalise"), {"operation": "names", "confirm": "1"})
    if allowed:
        assert "ИВАНОВ" in preview.content.decode()
        assert apply.status_code == 302
        run = NormalisationRun.objects.get()
        undo = client.post(reverse("quality:normalise-undo", args=[run.pk]))
        assert undo.status_code == 302
        assert Client.objects.get(pk=messy["shouting"].pk).last_name == "ИВАНОВ"
    else:
        assert preview.status_code == 403
        assert apply.status_code == 403
        assert Client.objects.get(pk=messy["shouting"].pk).last_name == "ИВАНОВ"
        assert not NormalisationRun.objects.exists()


def test_manager_sees_only_their_teams_cards(mallory, charlie):
    make_person(charlie, last_name="ЧУЖОЙ", first_name="Чужой", middle_name="")
    assert normalise.normalisation_preview(actor=mallory, operation="names").total == 0
