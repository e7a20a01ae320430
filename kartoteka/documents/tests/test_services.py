"""The upload pipeline: limits, the real type from the content, honest names, images
re-encoded without metadata, thumbnails; deletion. Every web and API upload goes through it."""

import hashlib
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from PIL import Image

from kartoteka.activities.models import TimelineEvent
from kartoteka.clients.tests.factories import make_person
from kartoteka.core.models import ObjectChange
from kartoteka.documents.models import Document
from kartoteka.documents.selectors import document_file
from kartoteka.documents.services import document_delete, document_upload
from kartoteka.documents.tests.files import (
    DAMAGED_JPEG,
    EXE,
    docx_bytes,
    jpeg_bytes,
    pdf_bytes,
    png_bytes,
    upload,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def card(alice):
    return make_person(alice, last_name="Документова")


def _error_code(exc: pytest.ExceptionInfo[ValidationError], field: str = "file") -> str:
    return exc.value.error_dict[field][0].code


def _nothing_stored() -> None:
    assert Document.objects.count() == 0
    assert TimelineEvent.objects.count() == 0
    assert not ObjectChange.objects.filter(content_type__model="document").exists()


def test_pdf_is_stored_as_is_with_a_random_name_a_change_and_a_timeline_line(alice, card):
    content = pdf_bytes()
    document = document_upload(
        actor=alice,
        client=card,
        uploaded=upload("Договор №7.pdf", content, "text/html"),
        kind="contract",
        number=" 7 ",
        title="Договор поставки",
    )

    document.refresh_from_db()
    assert document.content_type == "application/pdf"  # from the content, not the browser
    assert document.original_name == "Договор №7.pdf"
    assert document.number == "7"
    assert document.size == len(content)
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert document.uploaded_by == alice
    assert not document.thumbnail
    assert document.file.name.startswith(f"documents/{card.pk}/")
    assert "Договор" not in document.file.name
    with document.file.open("rb") as stored:
        assert stored.read() == content
    event = TimelineEvent.objects.get(client=card)
    assert (event.kind, event.subkind, event.title) == ("document", "contract", "Договор поставки")
    assert event.author == alice
    change = ObjectChange.objects.get(content_type__model="document")
    assert change.action == "create"


def test_office_document_is_recognised_from_its_zip_content(alice, card):
    document = document_upload(actor=alice, client=card, uploaded=upload("act.docx", docx_bytes()))
    assert document.content_type.endswith("wordprocessingml.document")


def test_jpeg_loses_exif_and_gps_and_gets_a_thumbnail(alice, card):
    original = jpeg_bytes(1200, 900, gps=True)
    assert b"SpyCam" in original
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)

    document = document_upload(
        actor=alice, client=card, uploaded=upload("photo.jpg", original), kind="photo"
    )

    with document_file(document) as stored:  # photos are stored encrypted
        data = stored.read()
    assert b"Exif" not in data
    assert b"SpyCam" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        assert image.size == (1200, 900)
        exif = image.getexif()
        assert len(exif) == 0
        assert not exif.get_ifd(0x8825)
    assert document.content_type == "image/jpeg"
    assert document.size == len(data)
    assert document.sha256 == hashlib.sha256(data).hexdigest()
    assert document.thumbnail
    with document_file(document, thumbnail=True) as thumb, Image.open(thumb) as image:
        assert image.format == "JPEG"
        assert max(image.size) == 320
        assert image.size == (320, 240)


def test_png_with_transparency_stays_png(alice, card):
    document = document_upload(
        actor=alice, client=card, uploaded=upload("logo.png", png_bytes(alpha=True))
    )
    assert document.content_type == "image/png"
    with document.file.open("rb") as stored, Image.open(stored) as image:
        assert image.format == "PNG"
        assert image.mode == "RGBA"


@override_settings(KARTOTEKA_MAX_UPLOAD_MB=1)
def test_oversized_file_is_refused(alice, card):
    big = pdf_bytes(1024 * 1024 + 1)
    with pytest.raises(ValidationError) as exc:
        document_upload(actor=alice, client=card, uploaded=upload("big.pdf", big))
    assert _error_code(exc) == "file_too_large"
    assert (
        "1 MB" in exc.value.error_dict["file"][0].message % exc.value.error_dict["file"][0].params
    )
    _nothing_stored()


@override_settings(KARTOTEKA_MAX_UPLOAD_MB=1)
def test_a_file_at_the_limit_is_accepted(alice, card):
    document_upload(actor=alice, client=card, uploaded=upload("ok.pdf", pdf_bytes(1024 * 1024)))
    assert Document.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("setup.exe", EXE),
        ("invoice.pdf", EXE),  # an executable posing as a PDF
        ("page.html", b"<html><script>alert(1)</script></html>"),
        ("image.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>'),
    ],
)
def test_files_of_other_kinds_are_refused(alice, card, name, content):
    with pytest.raises(ValidationError) as exc:
        document_upload(actor=alice, client=card, uploaded=upload(name, content))
    assert _error_code(exc) == "file_type_not_allowed"
    _nothing_stored()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("holiday.jpg", pdf_bytes()),  # PDF bytes named .jpg
        ("contract.pdf", jpeg_bytes(50, 50)),  # JPEG bytes named .pdf
        ("scan.png", jpeg_bytes(50, 50)),
        ("report", pdf_bytes()),  # no extension says nothing true
    ],
)
def test_a_file_whose_name_lies_about_its_content_is_refused(alice, card, name, content):
    with pytest.raises(ValidationError) as exc:
        document_upload(actor=alice, client=card, uploaded=upload(name, content))
    assert _error_code(exc) == "file_type_mismatch"
    _nothing_stored()


def test_a_damaged_image_is_refused(alice, card):
    with pytest.raises(ValidationError) as exc:
        document_upload(actor=alice, client=card, uploaded=upload("broken.jpg", DAMAGED_JPEG))
    assert _error_code(exc) == "bad_image"
    _nothing_stored()


def test_an_empty_file_is_refused(alice, card):
    with pytest.raises(ValidationError) as exc:
        document_upload(actor=alice, client=card, uploaded=upload("empty.pdf", b""))
    assert _error_code(exc) == "empty_file"
    _nothing_stored()


def test_read_only_user_may_not_upload(rita, card):
    with pytest.raises(PermissionDenied):
        document_upload(actor=rita, client=card, uploaded=upload("a.pdf", pdf_bytes()))
    _nothing_stored()


def test_photo_of_a_service_can_stay_off_the_timeline(alice, card):
    document_upload(
        actor=alice,
        client=card,
        uploaded=upload("after.jpg", jpeg_bytes(40, 40)),
        on_timeline=False,
    )
    assert Document.objects.count() == 1
    assert TimelineEvent.objects.count() == 0


def test_delete_hides_the_document_and_drops_its_timeline_line(alice, bob, card, rita):
    document = document_upload(actor=alice, client=card, uploaded=upload("a.pdf", pdf_bytes()))

    with pytest.raises(PermissionDenied):
        document_delete(actor=rita, document=document)
    document.refresh_from_db()
    assert document.is_deleted is False
    assert TimelineEvent.objects.count() == 1

    document_delete(actor=bob, document=document)
    document.refresh_from_db()
    assert document.is_deleted is True
    assert TimelineEvent.objects.count() == 0
    assert ObjectChange.objects.filter(content_type__model="document", action="delete").count() == 1


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_an_image_with_too_many_pixels_is_refused(alice, card, monkeypatch):
    """A decompression bomb: small file, huge picture. Refused before it is decoded."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100 * 100)
    with pytest.raises(ValidationError) as exc:
        document_upload(actor=alice, client=card, uploaded=upload("bomb.png", _png(101, 100)))
    assert _error_code(exc) == "bad_image"
    _nothing_stored()
    document_upload(actor=alice, client=card, uploaded=upload("ok.png", _png(100, 100)))
    assert Document.objects.count() == 1


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("L", (width, height), 255).save(out, "PNG")
    return out.getvalue()
