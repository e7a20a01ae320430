"""Photos and identity documents are stored encrypted and go out decrypted, only to those who
may see the card; other kinds and files stored before encryption keep working as they were.
"""

import hashlib
import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client as DjangoClient
from django.urls import reverse
from PIL import Image

from kartoteka.activities.models import TimelineEvent
from kartoteka.clients.tests.factories import make_person
from kartoteka.core import crypto, encrypted_files
from kartoteka.core.models import ObjectChange
from kartoteka.documents import crypto_files
from kartoteka.documents.models import Document
from kartoteka.documents.selectors import document_file
from kartoteka.documents.services import document_upload
from kartoteka.documents.tests.files import jpeg_bytes, pdf_bytes, upload

pytestmark = pytest.mark.django_db

CANARY = b"CANARY-passport-4510-123456"


def id_pdf(size: int = 0) -> bytes:
    """A passport scan as a PDF with a recognisable number in it."""
    body = pdf_bytes().replace(b"%%EOF", b"(" + CANARY + b")\n%%EOF")
    if size > len(body):
        body += b"%" + b"7" * (size - len(body) - 1)
    return body


@pytest.fixture(autouse=True)
def key_file(tmp_path, settings):
    settings.KARTOTEKA_ENCRYPTION_KEY_FILE = tmp_path / "keys"
    return tmp_path / "keys"


@pytest.fixture
def card(alice):
    return make_person(alice, last_name="Шифрова")


@pytest.fixture
def passport(alice, card):
    return document_upload(
        actor=alice, client=card, uploaded=upload("passport.pdf", id_pdf()), kind="identity"
    )


@pytest.fixture
def photo(alice, card):
    return document_upload(
        actor=alice, client=card, uploaded=upload("face.jpg", jpeg_bytes()), kind="photo"
    )


def raw(name: str) -> bytes:
    with default_storage.open(name, "rb") as stored:
        return stored.read()


def body(response) -> bytes:
    return b"".join(response.streaming_content)


# --- At rest ----------------------------------------------------------------------------------


def test_identity_documents_and_photos_are_stored_encrypted(passport, photo):
    current = crypto.current_key_id()
    for document in (passport, photo):
        document.refresh_from_db()
        assert document.key_id == current
        stored = raw(document.file.name)
        assert encrypted_files.is_encrypted(stored)
        assert CANARY not in stored
        assert b"%PDF" not in stored
        assert b"\xff\xd8\xff" not in stored
    assert raw(photo.thumbnail.name).startswith(encrypted_files.MAGIC)
    # What the row says about the file is about the original (size, checksum).
    with document_file(passport) as plain:
        original = plain.read()
    assert original == id_pdf()
    assert passport.size == len(original)
    assert passport.sha256 == hashlib.sha256(original).hexdigest()


def test_other_kinds_are_stored_as_uploaded(alice, card):
    contract = document_upload(
        actor=alice, client=card, uploaded=upload("c.pdf", pdf_bytes()), kind="contract"
    )
    assert contract.key_id == ""
    assert raw(contract.file.name) == pdf_bytes()


def test_a_large_identity_document_is_encrypted_in_chunks_and_comes_back_whole(alice, card):
    content = id_pdf(size=3 * encrypted_files.CHUNK_SIZE + 123)
    document = document_upload(
        actor=alice, client=card, uploaded=upload("scan.pdf", content), kind="identity"
    )
    stored = raw(document.file.name)
    chunks = 4  # three full chunks and a short last one, each with its 16-byte tag
    assert len(stored) > len(content) + chunks * encrypted_files.TAG_BYTES
    with document_file(document) as plain:
        parts = iter(lambda: plain.read(10_000), b"")
        assert b"".join(parts) == content


def test_service_photos_are_photos_and_so_encrypted(alice, card):
    from kartoteka.sales import services as sales_services

    record = sales_services.service_record_create(
        actor=alice,
        client=card,
        data={"name": "Стрижка"},
        before_photo=upload("before.jpg", jpeg_bytes()),
    )
    before = record.before_photo
    assert before is not None
    assert before.kind == Document.Kind.PHOTO
    assert before.key_id
    assert encrypted_files.is_encrypted(raw(before.file.name))


# --- Going out --------------------------------------------------------------------------------


@pytest.mark.parametrize("door", ["web", "api"])
def test_downloads_are_decrypted_with_the_usual_headers(
    door, alice, passport, photo, web_client_for, api_client_for
):
    client = web_client_for(alice) if door == "web" else api_client_for(alice)

    def url(document, what="download"):
        if door == "web":
            return reverse(f"documents:{what}", args=[document.pk])
        return f"/api/v1/documents/{document.pk}/{what}"

    response = client.get(url(passport))
    assert response.status_code == 200
    assert body(response) == id_pdf()
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Length"] == str(len(id_pdf()))
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-cache"

    shown = client.get(url(photo))
    assert shown.status_code == 200
    assert shown["Content-Disposition"].startswith("inline")
    with Image.open(io.BytesIO(body(shown))) as image:
        assert image.format == "JPEG"
        assert image.size == (800, 600)
    thumb = client.get(url(photo, "thumbnail"))
    assert thumb.status_code == 200
    with Image.open(io.BytesIO(body(thumb))) as image:
        assert image.format == "JPEG"
        assert max(image.size) == 320


def test_a_photo_stored_before_encryption_still_serves(alice, card, web_client_for):
    name = default_storage.save(f"documents/{card.pk}/legacy", ContentFile(jpeg_bytes()))
    legacy = Document.objects.create(
        client=card,
        kind="photo",
        file=name,
        original_name="old.jpg",
        content_type="image/jpeg",
        size=len(jpeg_bytes()),
        sha256=hashlib.sha256(jpeg_bytes()).hexdigest(),
    )
    response = web_client_for(alice).get(reverse("documents:download", args=[legacy.pk]))
    assert response.status_code == 200
    assert body(response) == jpeg_bytes()
    assert crypto_files.needs_rewrite(legacy, encrypt_plain=True)
    assert not crypto_files.needs_rewrite(legacy, encrypt_plain=False)


def _tamper(document):
    stored = bytearray(raw(document.file.name))
    stored[-5] ^= 0x01
    default_storage.delete(document.file.name)
    default_storage.save(document.file.name, ContentFile(bytes(stored)))


@pytest.mark.parametrize("damage", ["altered", "key gone"])
def test_a_file_that_does_not_decrypt_is_a_clear_error(
    damage, alice, passport, key_file, web_client_for, api_client_for
):
    if damage == "altered":
        _tamper(passport)
    else:
        key_file.write_text("9:" + crypto._b64(b"k" * 32) + "\n")  # the key it needs is gone
        crypto._keyring.cache_clear()

    web = web_client_for(alice).get(reverse("documents:download", args=[passport.pk]))
    assert web.status_code == 500
    assert web["Content-Type"].startswith("text/plain")
    assert "cannot be decrypted" in web.content.decode()
    assert CANARY not in web.content

    api = api_client_for(alice).get(f"/api/v1/documents/{passport.pk}/download")
    assert api.status_code == 500
    assert "cannot be decrypted" in api.json()["detail"]


# --- Who may ----------------------------------------------------------------------------------

#             web download  api download  api upload of an identity document
EXPECTED = {
    "ada": (200, 200, 201),
    "mallory": (200, 200, 201),
    "alice": (200, 200, 201),
    "bob": (200, 200, 201),
    "charlie": (404, 404, 404),
    "rita": (200, 200, 403),
    "anonymous": (302, 401, 401),
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_encrypted_files_go_only_to_those_who_may_see_the_card(
    role, users, card, passport, web_client_for, api_client_for
):
    web_status, api_status, upload_status = EXPECTED[role]
    user = users.get(role)
    web = web_client_for(user) if user else DjangoClient()
    api = api_client_for(user) if user else DjangoClient()
    before = (Document.objects.count(), ObjectChange.objects.count(), TimelineEvent.objects.count())
    files_before = set(default_storage.listdir(f"documents/{card.pk}")[1])

    downloaded = web.get(reverse("documents:download", args=[passport.pk]))
    assert downloaded.status_code == web_status
    if web_status == 200:
        assert body(downloaded) == id_pdf()
    else:
        assert CANARY not in downloaded.content
    fetched = api.get(f"/api/v1/documents/{passport.pk}/download")
    assert fetched.status_code == api_status
    if api_status == 200:
        assert body(fetched) == id_pdf()

    uploaded = api.post(
        f"/api/v1/clients/{card.pk}/documents",
        {"kind": "identity", "file": upload("id.pdf", id_pdf())},
    )
    assert uploaded.status_code == upload_status
    if upload_status == 201:
        assert Document.objects.get(pk=uploaded.json()["id"]).key_id
        return
    assert (
        Document.objects.count(),
        ObjectChange.objects.count(),
        TimelineEvent.objects.count(),
    ) == before
    assert set(default_storage.listdir(f"documents/{card.pk}")[1]) == files_before


def test_the_upload_form_offers_identity_documents(alice, card, web_client_for):
    page = web_client_for(alice).get(reverse("documents:client-documents", args=[card.pk]))
    assert b'value="identity"' in page.content


def test_the_subject_access_export_holds_the_decrypted_files_and_skips_a_broken_one(
    ada, card, passport, photo
):
    import zipfile

    from kartoteka.privacy.access import build_zip

    with document_file(photo) as plain:
        photo_bytes = plain.read()
    _tamper(passport)

    with zipfile.ZipFile(io.BytesIO(build_zip(card, ada))) as archive:
        files = {
            name: archive.read(name) for name in archive.namelist() if name.startswith("documents/")
        }

    assert list(files.values()) == [photo_bytes]  # the passport is listed in data.json only
