"""An audit event for every door: card views on the web and API, changes from the CLI, import
runs, exports and their downloads, document downloads, merges, health-note views. None of
them holds a name, a contact or a health value."""

import datetime
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from kartoteka.audit import chain
from kartoteka.audit.models import AuditEvent
from kartoteka.care import health
from kartoteka.clients import services as client_services
from kartoteka.clients.tests.factories import make_person
from kartoteka.consent.tests.factories import give_health_consent
from kartoteka.core.models import ObjectChange
from kartoteka.dedupe import services as dedupe_services
from kartoteka.documents.services import document_upload
from kartoteka.documents.tests.files import pdf_bytes, upload
from kartoteka.exports import services as export_services
from kartoteka.imports import services as import_services
from kartoteka.imports.models import Import
from kartoteka.imports.tests import files as import_files

pytestmark = pytest.mark.django_db

CANARY_NAME = "Канарейкина"
CANARY_PHONE = "+79161234599"
CANARY_EMAIL = "canary.bird@example.org"
CANARY_HEALTH = "CANARY-аллергия-на-пенициллин"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AuditTest/1.0 " + "x" * 300


@pytest.fixture
def card(alice):
    return make_person(
        alice,
        last_name=CANARY_NAME,
        first_name="Зоя",
        contacts=[
            {"kind": "phone", "value": CANARY_PHONE},
            {"kind": "email", "value": CANARY_EMAIL},
        ],
    )


def last_event(**filters) -> AuditEvent:
    return AuditEvent.objects.filter(**filters).order_by("-id")[0]


def test_web_card_view_is_recorded_with_address_and_browser(alice, card, web_client_for):
    client = web_client_for(alice)

    response = client.get(
        reverse("clients:detail", args=[card.pk]),
        HTTP_USER_AGENT=BROWSER,
        REMOTE_ADDR="203.0.113.7",
    )

    assert response.status_code == 200
    event = AuditEvent.objects.get(action="view")
    assert (event.channel, event.object_type, event.object_id) == (
        "web",
        "clients.client",
        str(card.pk),
    )
    assert (event.client_id, event.actor, event.actor_username) == (card.pk, alice, "alice")
    assert event.ip == "203.0.113.7"
    assert event.user_agent == BROWSER[:200]
    assert event.request_id == response["X-Request-ID"]


def test_hidden_card_view_records_nothing(charlie, card, web_client_for, api_client_for):
    assert web_client_for(charlie).get(reverse("clients:detail", args=[card.pk])).status_code == 404
    assert api_client_for(charlie).get(f"/api/v1/clients/{card.pk}").status_code == 404

    assert not AuditEvent.objects.filter(action="view").exists()


def test_api_card_view_is_recorded(bob, card, api_client_for):
    response = api_client_for(bob).get(f"/api/v1/clients/{card.pk}", REMOTE_ADDR="198.51.100.2")

    assert response.status_code == 200
    event = AuditEvent.objects.get(action="view")
    assert (event.channel, event.actor, event.client_id) == ("api", bob, card.pk)
    assert event.ip == "198.51.100.2"


def test_web_change_is_recorded_with_field_names_only(alice, card, web_client_for):
    client_services.client_update(
        actor=alice, client=card, expected_version=None, data={"position": "Директор"}
    )

    event = last_event(action="update", object_type="clients.client")
    assert (
        event.details == {"fields": ["position", "version"]}
        or "position" in event.details["fields"]
    )
    assert "Директор" not in json.dumps(event.details, ensure_ascii=False)
    change = ObjectChange.objects.filter(action="update").latest("pk")
    assert event.client_id == change.client_id == card.pk


def test_cli_change_is_recorded_as_the_command_line(db):
    call_command("createuser", "zed", "--role", "employee", "--password", "Long-enough-pass-1")

    event = last_event(action="create", object_type="accounts.user")
    assert event.channel == "cli"
    assert event.actor is None


def test_import_run_is_one_event_with_counts(alice, django_capture_on_commit_callbacks):
    job = import_services.import_upload(
        actor=alice,
        file=SimpleUploadedFile("clients.csv", import_files.russian_excel_csv()),
    )
    before = AuditEvent.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        import_services.import_start(actor=alice, job=job)

    job.refresh_from_db()
    assert job.status == Import.Status.DONE
    run = AuditEvent.objects.get(action="import")
    assert (run.channel, run.actor, run.object_type) == ("import", alice, "imports.import")
    assert run.object_id == str(job.pk)
    assert run.details["status"] == "done"
    assert (run.details["created"], run.details["processed_rows"], run.details["error"]) == (
        3,
        3,
        0,
    )
    # The three cards it wrote add no event of their own ...
    assert not AuditEvent.objects.filter(id__gt=before, action="create").exists()
    # ... and carry the door "import" in the change log.
    assert set(
        ObjectChange.objects.filter(action="create", content_type__model="client").values_list(
            "channel", flat=True
        )
    ) == {"import"}


def test_import_undo_is_one_more_event(alice, django_capture_on_commit_callbacks):
    job = import_services.import_upload(
        actor=alice, file=SimpleUploadedFile("clients.csv", import_files.russian_excel_csv())
    )
    with django_capture_on_commit_callbacks(execute=True):
        import_services.import_start(actor=alice, job=job)
    job.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        import_services.import_undo(actor=alice, job=job)

    runs = list(AuditEvent.objects.filter(action="import").order_by("id"))
    assert [r.details["status"] for r in runs] == ["done", "undone"]
    assert runs[1].details["undone"] == 3
    assert not AuditEvent.objects.filter(action="delete").exists()


def test_export_and_its_download_are_recorded(alice, card, api_client_for):
    client = api_client_for(alice)

    response = client.post(
        "/api/v1/exports/", {"format": "csv", "filters": ""}, content_type="application/json"
    )
    download = client.get(response.json()["download_url"])

    assert download.status_code == 200
    export = AuditEvent.objects.get(action="export")
    assert (export.actor, export.object_type) == (alice, "exports.export")
    assert export.details == {"format": "csv", "rows": 1}
    fetched = AuditEvent.objects.get(action="download")
    assert (fetched.channel, fetched.object_id) == ("api", export.object_id)
    assert fetched.details == {"format": "csv", "rows": 1}


def test_export_download_on_the_web_is_recorded(alice, card, web_client_for):
    export = export_services.export_create(actor=alice, format="csv")

    response = web_client_for(alice).get(reverse("exports:download", args=[export.public_id]))

    assert response.status_code == 200
    assert AuditEvent.objects.get(action="download").channel == "web"


def test_document_download_is_recorded_in_both_doors(alice, card, web_client_for, api_client_for):
    document = document_upload(
        actor=alice, client=card, uploaded=upload("Договор.pdf", pdf_bytes()), kind="contract"
    )

    web = web_client_for(alice).get(reverse("documents:download", args=[document.pk]))
    api = api_client_for(alice).get(f"/api/v1/documents/{document.pk}/download")

    assert (web.status_code, api.status_code) == (200, 200)
    events = list(AuditEvent.objects.filter(action="download").order_by("id"))
    assert [(e.channel, e.object_type, e.object_id, e.client_id) for e in events] == [
        ("web", "documents.document", str(document.pk), card.pk),
        ("api", "documents.document", str(document.pk), card.pk),
    ]
    assert "Договор" not in str(events[0].details)


def test_merge_and_undo_are_recorded_per_merged_card(alice, card):
    other = make_person(alice, last_name=CANARY_NAME, first_name="Зоя")

    merge = dedupe_services.merge_cards(actor=alice, survivor=card, merged=[other])
    dedupe_services.merge_undo(actor=alice, merge=merge)

    events = list(AuditEvent.objects.filter(action="merge").order_by("id"))
    assert [(e.client_id, e.details) for e in events] == [
        (other.pk, {"merge": merge.pk, "into": card.pk}),
        (other.pk, {"merge": merge.pk, "into": card.pk, "undone": True}),
    ]
    assert {e.actor for e in events} == {alice}


def test_health_views_are_recorded_without_content(ada, card, web_client_for, api_client_for):
    ada.health_access = True
    ada.save(update_fields=["health_access"])
    give_health_consent(card)
    note, _text = health.health_note_create(
        actor=ada, client=card, kind="allergy", text=CANARY_HEALTH
    )

    health.health_notes_for(user=ada, client=card)
    health.health_note_get(user=ada, client=card, pk=note.pk)

    views = list(AuditEvent.objects.filter(action="view").order_by("id"))
    assert [(v.object_type, v.object_id, v.client_id) for v in views] == [
        ("care.healthnote", "", card.pk),
        ("care.healthnote", str(note.pk), card.pk),
    ]
    assert views[0].details == {"notes": 1}
    assert str(views[0].object_label) == "health note"


def test_no_personal_data_in_any_audit_row(ada, alice, card, web_client_for, api_client_for):
    """A canary name, phone, email and health text go through every door; none of them is
    in any audit row, in any column."""
    ada.health_access = True
    ada.save(update_fields=["health_access"])
    give_health_consent(card)
    note, _text = health.health_note_create(
        actor=ada, client=card, kind="allergy", text=CANARY_HEALTH
    )
    health.health_note_update(actor=ada, note=note, text=CANARY_HEALTH + " 2")
    health.health_notes_for(user=ada, client=card)
    web_client_for(alice).get(reverse("clients:detail", args=[card.pk]))
    api_client_for(alice).get(f"/api/v1/clients/{card.pk}")
    client_services.client_update(
        actor=alice,
        client=card,
        expected_version=None,
        data={"first_name": "Канарейка", "notes": CANARY_HEALTH},
    )
    other = make_person(alice, last_name=CANARY_NAME, contacts=[])
    card.refresh_from_db()
    dedupe_services.merge_cards(actor=alice, survivor=card, merged=[other])
    export_services.export_create(actor=alice, format="csv")
    card.refresh_from_db()
    client_services.client_archive(actor=alice, client=card)

    rows = list(AuditEvent.objects.values())
    assert len(rows) > 10
    text = json.dumps(rows, default=str, ensure_ascii=False)
    for canary in (
        CANARY_NAME,
        "Канарейка",
        "Зоя",
        CANARY_PHONE,
        "1234599",
        CANARY_EMAIL,
        CANARY_HEALTH,
        "пенициллин",
    ):
        assert canary not in text, canary
    assert chain.verify().intact


def test_every_event_of_a_busy_day_chains(alice, card, web_client_for):
    client = web_client_for(alice)
    for _ in range(3):
        client.get(reverse("clients:detail", args=[card.pk]))
    client_services.client_archive(actor=alice, client=card)
    client_services.client_restore(actor=alice, client=card)

    result = chain.verify(batch=2)

    assert result.intact
    assert result.checked == AuditEvent.objects.count()
    assert list(
        AuditEvent.objects.filter(action__in=["archive", "restore"])
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["archive", "restore"]
    assert datetime.datetime.now(datetime.UTC) >= AuditEvent.objects.latest("id").at
