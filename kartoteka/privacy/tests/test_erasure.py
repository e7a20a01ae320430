"""Erasure: irreversible, complete (canary nowhere in a raw database dump nor in the media
directory), accounting amounts kept, a DestructionRecord and a journal line written, and
re-applied idempotently after a restore."""

import datetime
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from kartoteka.activities.models import Interaction
from kartoteka.care.models import HealthNote
from kartoteka.clients.models import Client, ContactPoint
from kartoteka.clients.tests.test_views import post_data
from kartoteka.consent.models import ConsentEvent
from kartoteka.core.models import ObjectChange
from kartoteka.documents.models import Document
from kartoteka.documents.tests.files import pdf_bytes, upload
from kartoteka.finance.models import Invoice, Payment
from kartoteka.privacy import journal, services
from kartoteka.privacy.models import DataSubjectRequest, DestructionRecord
from kartoteka.privacy.tests.data import give_health_access, rich_card
from kartoteka.privacy.tests.factories import make_request
from kartoteka.sales.models import Order, OrderLine
from kartoteka.search.models import SearchEntry

CANARY = "zqxkanareyka"


def database_dump() -> str:
    """Every byte of the database as text: SQLite's iterdump, PostgreSQL's pg_dump."""
    if connection.vendor == "sqlite":
        return "\n".join(connection.connection.iterdump())
    params = connection.settings_dict
    command = ["pg_dump", "--no-owner", "--data-only", "-d", params["NAME"]]
    command += ["-h", params.get("HOST") or "127.0.0.1", "-U", params.get("USER") or "postgres"]
    if params.get("PORT"):
        command += ["-p", str(params["PORT"])]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def media_files_containing(root: Path, needle: bytes) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


@pytest.fixture
def media(settings, tmp_path):
    """Files on disk (the tests' default storage keeps them in memory)."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


@pytest.mark.django_db(transaction=True)
def test_canary_written_through_the_web_is_gone_from_the_dump_and_the_media(
    ada, web_client_for, media
):
    give_health_access(ada)
    web = web_client_for(ada)
    fields = {"kind": "person", "last_name": f"Иванов{CANARY}", "first_name": "Иван"}
    fields["notes"] = f"заметка {CANARY}"
    contacts: list[dict[str, Any]] = [
        {"kind": "phone", "value": "+7 916 555-77-88", "label": CANARY, "is_primary": True},
        {"kind": "email", "value": f"{CANARY}@example.com", "label": ""},
    ]
    response = web.post(reverse("clients:create"), post_data(fields, contacts))
    assert response.status_code == 302, response.content.decode()[:2000]
    card = Client.objects.get(last_name=f"Иванов{CANARY}")
    response = web.post(
        reverse("activities:interaction-create", args=[card.pk]),
        {f"new-{key}": value for key, value in {
            "kind": "call", "direction": "out", "occurred_at": "2024-03-05T14:30",
            "duration_minutes": "7", "contact_person": "", "subject": f"тема {CANARY}",
            "content": f"разговор {CANARY}", "outcome": "", "next_step": ""}.items()},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()
    effective = (timezone.localtime() - datetime.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    response = web.post(
        reverse("consent:consent-give", args=[card.pk]),
        {"consent-purpose": "health", "consent-legal_basis": "consent",
         "consent-text_version": "health v1", "consent-channel": "paper_form",
         "consent-effective_at": effective, "consent-expires_on": "",
         "consent-evidence_reference": f"анкета {CANARY}", "consent-document": ""},
    )  # fmt: skip
    assert response.status_code in (200, 302)
    assert ConsentEvent.objects.filter(client=card).count() == 1
    response = web.post(
        reverse("care:health-note-create", args=[card.pk]),
        {"health-kind": "allergy", "health-text": f"аллергия {CANARY}"},
    )
    assert response.status_code in (200, 302)
    assert HealthNote.objects.filter(client=card).count() == 1
    response = web.post(
        reverse("documents:client-documents", args=[card.pk]),
        {"kind": "other", "number": "", "dated_on": "", "title": f"скан {CANARY}", "order": "",
         "file": upload("scan.pdf", pdf_bytes() + f"% {CANARY}".encode())},
    )  # fmt: skip
    assert response.status_code == 302
    assert CANARY in database_dump()
    assert media_files_containing(media, CANARY.encode())
    response = web.post(
        reverse("privacy:new") + f"?client={card.pk}",
        {"kind": "erasure", "received_on": timezone.localdate().isoformat(),
         "channel": "email", "details": "", "reply_to": f"{CANARY}@example.com"},
    )  # fmt: skip
    dsr = DataSubjectRequest.objects.get()
    assert response.status_code == 302

    response = web.post(reverse("privacy:erase", args=[dsr.pk]), {"confirm_number": card.number})

    assert response.status_code == 302
    dump = database_dump()
    assert CANARY not in dump
    assert CANARY.upper() not in dump.upper()
    assert media_files_containing(media, CANARY.encode()) == []
    assert list(media.rglob("*.pdf")) == []
    card.refresh_from_db()
    assert (card.display_name, card.is_archived) == ("[erased]", True)
    dsr.refresh_from_db()
    assert dsr.status == "done"
    lines = journal.read_entries()
    assert [(e["client_id"], e["request_id"]) for e in lines] == [(card.pk, dsr.pk)]


@pytest.mark.django_db
def test_erasure_keeps_accounting_and_records_what_was_destroyed(ada, media):
    give_health_access(ada)
    rich = rich_card(ada, secret=CANARY)
    card = rich["card"]
    order_totals = (rich["order"].subtotal, rich["order"].vat_total, rich["order"].total)
    line_totals = list(OrderLine.objects.filter(order__client=card).values_list("total", "name"))
    dsr = make_request(ada, card, kind="erasure")

    record = services.request_erase(actor=ada, dsr=dsr, confirm_number=f"{card.number:06d}")

    order = Order.objects.get(pk=rich["order"].pk)
    assert (order.subtotal, order.vat_total, order.total, order.number) == (
        *order_totals,
        rich["order"].number,
    )
    assert order.notes == ""
    assert list(OrderLine.objects.filter(order=order).values_list("total", "name")) == line_totals
    invoice = Invoice.objects.get(pk=rich["invoice"].pk)
    assert (invoice.amount, invoice.number, invoice.issued_on, invoice.notes) == (
        rich["invoice"].amount,
        rich["invoice"].number,
        rich["invoice"].issued_on,
        "",
    )
    payment = Payment.objects.get(pk=rich["payment"].pk)
    assert (payment.amount, payment.paid_on, payment.notes) == (
        rich["payment"].amount,
        rich["payment"].paid_on,
        "",
    )
    contract = Document.objects.get()  # the photo is gone, the contract is an accounting paper
    assert (contract.pk, contract.title, contract.number) == (rich["contract"].pk, "", "Д-1")
    assert ContactPoint.objects.filter(client=card).count() == 0
    assert HealthNote.objects.filter(client=card).count() == 0
    assert SearchEntry.objects.filter(client=card).count() == 0
    interaction = Interaction._base_manager.get(pk=rich["interaction"].pk)
    assert (interaction.subject, interaction.content) == ("", "")
    assert record.destroyed["contacts"] == 2
    assert record.destroyed["health_notes"] == 1
    assert record.destroyed["documents"] == 1
    assert record.retained == {
        "accounting_documents": 1,
        "orders": 1,
        "invoices": 1,
        "payments": 1,
    }
    assert (record.request, record.performed_by, record.reason) == (dsr, ada, "request")
    assert CANARY not in json.dumps(record.destroyed) + json.dumps(record.retained)
    for change in ObjectChange.objects.filter(client_id=card.pk).exclude(message="erased"):
        assert CANARY not in json.dumps([change.before, change.after, change.object_repr])
    assert services.is_erased(card)


@pytest.mark.django_db
def test_erasure_needs_the_card_number_and_an_erasure_request(ada):
    card = rich_card(give_health_access(ada), secret="Стоп")["card"]
    access_request = make_request(ada, card)
    erasure_request = make_request(ada, card, kind="erasure")

    with pytest.raises(services.ValidationError) as caught:
        services.request_erase(actor=ada, dsr=erasure_request, confirm_number="123")
    assert caught.value.message_dict["confirm_number"]
    with pytest.raises(services.ValidationError) as caught:
        services.request_erase(actor=ada, dsr=access_request, confirm_number=str(card.number))
    assert caught.value.code == "not_an_erasure_request"

    card.refresh_from_db()
    assert card.last_name == "СекретоваСтоп"
    assert DestructionRecord.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_journal_and_reapply_after_a_restore_are_idempotent(ada, data_dir):
    give_health_access(ada)
    first = rich_card(ada, secret="Первый")["card"]
    second = rich_card(ada, secret="Второй")["card"]
    services.erase_client(first, ada)
    services.erase_client(second, ada)
    entries = journal.read_entries()
    assert [e["client_id"] for e in entries] == [first.pk, second.pk]
    assert journal.journal_path() == data_dir / "erasures.jsonl"
    # A restore of an older backup brings the first card back as it was.
    DestructionRecord.objects.filter(client=first).delete()
    Client.objects.filter(pk=first.pk).update(last_name="СекретоваПервый", display_name="X")
    ContactPoint.objects.create(client=first, kind="email", value="back@example.com")
    since = entries[0]["erased_at_dt"] - datetime.timedelta(seconds=1)

    assert journal.reapply_erasures(since) == 1
    assert journal.reapply_erasures(since) == 0

    first.refresh_from_db()
    assert (first.last_name, first.display_name) == ("", "[erased]")
    assert ContactPoint.objects.filter(client=first).count() == 0
    assert DestructionRecord.objects.get(client=first).reason == "reapply"
    assert len(journal.read_entries()) == 2  # re-applying writes no new lines
    assert journal.reapply_erasures(timezone.now()) == 0


@pytest.mark.django_db
def test_a_torn_journal_line_is_skipped(data_dir):
    journal.journal_path().write_text('{"client_id": 1, "erased_at": "2026-01-01T00:00:00+00:00"\n')

    assert journal.read_entries() == []
    assert journal.reapply_erasures(datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)) == 0


@pytest.mark.django_db(transaction=True)
def test_reapply_command(ada, data_dir):
    from io import StringIO

    from django.core.management import CommandError, call_command

    card = rich_card(give_health_access(ada), secret="Команда")["card"]
    services.erase_client(card, ada)
    DestructionRecord.objects.all().delete()
    out = StringIO()

    call_command("reapply_erasures", "--since", "2000-01-01T00:00:00+00:00", stdout=out)

    assert out.getvalue().startswith("1 card(s) erased again")
    with pytest.raises(CommandError):
        call_command("reapply_erasures", "--since", "yesterday")


@pytest.mark.django_db
def test_access_export_is_audited_and_logged(ada, alice):
    from kartoteka.audit.models import AuditEvent

    card = rich_card(give_health_access(ada), secret="Аудит")["card"]
    dsr = make_request(ada, card)

    name, archive = services.request_export(actor=ada, dsr=dsr)

    assert name.startswith(f"kartoteka-subject-{card.card_number}-")
    assert archive.startswith(b"PK")
    event = AuditEvent.objects.filter(action="export").latest("pk")
    assert event.client_id == card.pk
    assert "Аудит" not in str(event.details)
    assert ObjectChange.objects.filter(message="access export downloaded").count() == 1
