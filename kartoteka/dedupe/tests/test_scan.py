"""What the full scan reads: active cards only, with the contacts that identify a person
(phones, messenger numbers, emails, addresses) and not the others; and that it leaves
Python's cycle collector as it found it."""

import gc

import pytest

from kartoteka.clients.services import client_archive
from kartoteka.clients.tests.factories import make_person
from kartoteka.dedupe import scan
from kartoteka.dedupe.models import DuplicateScan

pytestmark = pytest.mark.django_db


def test_cards_carry_their_identifying_contacts_only(alice):
    card = make_person(
        alice,
        contacts=[
            {"kind": "phone", "value": "+7 916 555-12-34"},
            {"kind": "whatsapp", "value": "+7 916 555-00-01"},
            {"kind": "email", "value": "Ivan@Example.ru"},
            {"kind": "telegram", "value": "@ivan_ivanov"},
            {"kind": "address", "value": "Москва, ул. Ленина, 1"},
        ],
    )

    loaded = scan.load_cards()[card.pk]

    assert loaded.phones == ("+79165551234", "+79165550001")
    assert loaded.emails == ("ivan@example.ru",)
    assert len(loaded.addresses) == 1
    assert not any("ivan_ivanov" in value for value in loaded.phones + loaded.emails)


def test_archived_cards_are_not_scanned(alice):
    kept = make_person(alice, last_name="Оставленный")
    archived = make_person(alice, last_name="Архивный")
    client_archive(actor=alice, client=archived)

    assert set(scan.load_cards()) == {kept.pk}


def test_a_telegram_handle_shared_by_two_people_does_not_pair_them(alice):
    make_person(alice, last_name="Первый", contacts=[{"kind": "telegram", "value": "@shared"}])
    make_person(alice, last_name="Второй", contacts=[{"kind": "telegram", "value": "@shared"}])

    found, stats = scan.find_pairs(scan.load_cards())

    assert found == {}
    assert stats["pairs"] == 0


@pytest.mark.parametrize("enabled", [True, False])
def test_the_scan_leaves_the_cycle_collector_as_it_was(alice, enabled):
    make_person(alice)
    record = DuplicateScan.objects.create()
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        scan.run_scan(record.pk)
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
    record.refresh_from_db()
    assert record.status == DuplicateScan.Status.DONE
