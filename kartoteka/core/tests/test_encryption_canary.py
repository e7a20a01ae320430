"""Proof that encryption at rest holds: a health note, a photo and an identity document are
entered through the real web forms, then their content (a canary) is looked for in a raw dump
of the database (SQLite: iterdump; PostgreSQL: pg_dump) and in every file under MEDIA_ROOT.
It must be in neither, while the card and the API still show the note and serve the original
files to a user who may see them.
"""

import io
import os
import subprocess
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse
from PIL import Image

from kartoteka.care.models import HealthNote
from kartoteka.clients.tests.factories import make_person
from kartoteka.documents.models import Document

# Tests that pg_dump must see committed data: each commits and the tables are flushed after.
pytestmark = pytest.mark.django_db(transaction=True)

CANARY_NOTE = "CANARY-note-Аллергия-на-амоксициллин-83f1"
CANARY_BYTES = b"CANARY-passport-4509-771122-b7e2"
HTMX = {"HTTP_HX_REQUEST": "true"}


def passport_pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n"
        b"2 0 obj (" + CANARY_BYTES + b") endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )


def photo_jpeg() -> bytes:
    image = Image.new("RGB", (640, 480), (90, 140, 200))
    for x in range(0, 640, 7):
        image.putpixel((x, (x * 3) % 480), (250, 10, 10))
    exif = Image.Exif()
    exif[0x010E] = CANARY_BYTES.decode()  # ImageDescription: dropped by the re-encoding anyway
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


@pytest.fixture
def disk(settings, tmp_path):
    """Files on a real disk (a temporary MEDIA_ROOT) and a key file of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    settings.KARTOTEKA_ENCRYPTION_KEY_FILE = tmp_path / "keys" / "encryption.keys"
    return tmp_path / "media"


def database_dump() -> bytes:
    """Everything in the test database, as text, the way a stolen backup would hold it."""
    if connection.vendor == "sqlite":
        return "\n".join(connection.connection.iterdump()).encode()
    assert connection.vendor == "postgresql"
    params = connection.settings_dict
    env = {**os.environ}
    if params.get("PASSWORD"):
        env["PGPASSWORD"] = params["PASSWORD"]
    result = subprocess.run(
        [
            "pg_dump",
            "--data-only",
            "--no-owner",
            "-h",
            params.get("HOST") or "127.0.0.1",
            "-p",
            str(params.get("PORT") or 5432),
            "-U",
            params.get("USER") or "postgres",
            params["NAME"],
        ],
        capture_output=True,
        env=env,
        timeout=120,
        check=True,
    )
    return result.stdout


def files_under(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes() for path in root.rglob("*") if path.is_file()
    }


def test_canaries_are_nowhere_at_rest_but_shown_to_those_allowed(
    ada, alice, bob, disk, web_client_for, api_client_for
):
    card = make_person(alice, last_name="Канареечная")
    try:
        from kartoteka.consent.tests.factories import give_health_consent
    except ImportError:  # no consent gate in this build
        pass
    else:
        give_health_consent(card, ada)
    web = web_client_for(ada)  # an administrator: health access by default

    # The real forms, as the card page posts them.
    note = web.post(
        reverse("care:health-note-create", args=[card.pk]),
        {"health-kind": "allergy", "health-text": CANARY_NOTE},
    )
    assert note.status_code == 302, note.content
    documents_url = reverse("documents:client-documents", args=[card.pk])
    for kind, name, content in [
        ("photo", "face.jpg", photo_jpeg()),
        ("identity", "passport.pdf", passport_pdf()),
    ]:
        uploaded = web.post(
            documents_url,
            {"kind": kind, "title": "", "number": "", "dated_on": "", "file": _file(name, content)},
        )
        assert uploaded.status_code == 302, uploaded.content
    photo = Document.objects.get(client=card, kind="photo")
    passport = Document.objects.get(client=card, kind="identity")
    assert HealthNote.objects.filter(client=card).count() == 1

    # What the users get back: the note on the card, the original files.
    care = web.get(reverse("care:client-care", args=[card.pk]), **HTMX)
    assert CANARY_NOTE in care.content.decode()
    api = api_client_for(ada)
    listed = api.get(f"/api/v1/clients/{card.pk}/health-notes").json()
    assert [item["text"] for item in listed] == [CANARY_NOTE]
    downloaded = web.get(reverse("documents:download", args=[passport.pk]))
    assert b"".join(downloaded.streaming_content) == passport_pdf()
    via_api = api.get(f"/api/v1/documents/{passport.pk}/download")
    assert b"".join(via_api.streaming_content) == passport_pdf()
    shown = web_client_for(bob).get(reverse("documents:download", args=[photo.pk]))
    served_photo = b"".join(shown.streaming_content)
    assert served_photo.startswith(b"\xff\xd8\xff")
    served_thumbnail = b"".join(
        web.get(reverse("documents:thumbnail", args=[photo.pk])).streaming_content
    )
    # A photo's canary is its own pixels (the re-encoding drops anything hidden in it): a run
    # of bytes from the middle of the served photo and of its thumbnail.
    photo_canaries = [
        served_photo[len(served_photo) // 2 : len(served_photo) // 2 + 48],
        served_thumbnail[len(served_thumbnail) // 2 : len(served_thumbnail) // 2 + 48],
    ]

    # What a stolen disk or backup holds: none of it.
    canaries = [CANARY_NOTE.encode(), "амоксициллин".encode(), CANARY_BYTES, *photo_canaries]
    dump = database_dump()
    assert "Канареечная".encode() in dump  # the dump did see this test's data
    assert [c for c in canaries if c in dump] == []
    stored = files_under(disk)
    assert len(stored) == 3  # the photo, its thumbnail and the passport
    leaks = [name for name, data in stored.items() for c in canaries if c in data]
    assert leaks == []
    assert all(data.startswith(b"KTENC") for data in stored.values())


def _file(name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/octet-stream")
