"""Writes for documents: the upload pipeline (limits, real type from the content, images
re-encoded without metadata, thumbnails) and deletion. Every path that stores a client's file
goes through document_upload."""

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from kartoteka.activities.timeline import timeline_record, timeline_remove
from kartoteka.clients import permissions
from kartoteka.clients.models import Client
from kartoteka.core.changelog import log_change
from kartoteka.documents import crypto_files
from kartoteka.documents.models import Document

# Pillow refuses images above this many pixels (decompression bombs) with an error.
Image.MAX_IMAGE_PIXELS = 50_000_000
THUMBNAIL_SIZE = (320, 320)


@dataclass(frozen=True)
class FileType:
    content_type: str
    extensions: tuple[str, ...]
    is_image: bool = False


PDF = FileType("application/pdf", (".pdf",))
JPEG = FileType("image/jpeg", (".jpg", ".jpeg", ".jfif"), is_image=True)
PNG = FileType("image/png", (".png",), is_image=True)
WEBP = FileType("image/webp", (".webp",), is_image=True)
DOCX = FileType(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",)
)
XLSX = FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",))
ODT = FileType("application/vnd.oasis.opendocument.text", (".odt",))
ODS = FileType("application/vnd.oasis.opendocument.spreadsheet", (".ods",))
ALLOWED_EXTENSIONS = sorted(
    {e for t in (PDF, JPEG, PNG, WEBP, DOCX, XLSX, ODT, ODS) for e in t.extensions}
)


def _zip_type(head: bytes, data: IO[bytes]) -> FileType | None:
    data.seek(0)
    try:
        with zipfile.ZipFile(data) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                mimetype = archive.read("mimetype").decode("ascii", "replace").strip()
                return {ODT.content_type: ODT, ODS.content_type: ODS}.get(mimetype)
            if "[Content_Types].xml" in names:
                if any(n.startswith("word/") for n in names):
                    return DOCX
                if any(n.startswith("xl/") for n in names):
                    return XLSX
    except zipfile.BadZipFile:
        return None
    return None


def sniff(data: IO[bytes]) -> FileType | None:
    """The file's real type, read from its first bytes (never from its name or headers)."""
    data.seek(0)
    head = data.read(16)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(head, data)
    return None


def _max_bytes() -> int:
    return int(getattr(settings, "KARTOTEKA_MAX_UPLOAD_MB", 20)) * 1024 * 1024


def _reencode(data: IO[bytes]) -> tuple[bytes, bytes, str]:
    """Decode and encode the image again: drops EXIF, GPS and anything hidden after the
    pixels. Returns (image bytes, thumbnail bytes, content type)."""
    data.seek(0)
    try:
        with Image.open(data) as opened:
            width, height = opened.size
            if width * height > (Image.MAX_IMAGE_PIXELS or 0):
                # Pillow only warns up to twice its limit; such a picture is refused here.
                raise Image.DecompressionBombError(f"{width}x{height}")
            opened.load()
            upright = ImageOps.exif_transpose(opened)
            has_alpha = upright.mode in ("RGBA", "LA") or "transparency" in upright.info
            image = upright.convert("RGBA" if has_alpha else "RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError) as exc:
        raise ValidationError(
            {
                "file": ValidationError(
                    _("The image is damaged or too large to open."), code="bad_image"
                )
            }
        ) from exc
    out = io.BytesIO()
    if has_alpha:
        image.save(out, format="PNG", optimize=True)
        content_type = "image/png"
    else:
        image.save(out, format="JPEG", quality=88, optimize=True)
        content_type = "image/jpeg"
    thumb = image.convert("RGB")
    thumb.thumbnail(THUMBNAIL_SIZE)
    thumb_out = io.BytesIO()
    thumb.save(thumb_out, format="JPEG", quality=80)
    return out.getvalue(), thumb_out.getvalue(), content_type


def _digest(uploaded: Any) -> tuple[int, str]:
    """Size and SHA-256 of an upload, read chunk by chunk."""
    uploaded.seek(0)
    digest = hashlib.sha256()
    size = 0
    for chunk in iter(lambda: uploaded.read(64 * 1024), b""):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def validate_upload(uploaded: Any) -> tuple[FileType, str]:
    """Check size, real type and that the name does not lie about it. Returns (type, name)."""
    name = PurePath(getattr(uploaded, "name", "") or "file").name[:255]
    size = getattr(uploaded, "size", None)
    if not size:
        raise ValidationError({"file": ValidationError(_("The file is empty."), code="empty_file")})
    if size > _max_bytes():
        raise ValidationError(
            {
                "file": ValidationError(
                    _("The file is %(size)s MB; the limit is %(limit)s MB."),
                    code="file_too_large",
                    params={
                        "size": round(size / 1024 / 1024, 1),
                        "limit": _max_bytes() // 1024 // 1024,
                    },
                )
            }
        )
    file_type = sniff(uploaded)
    if file_type is None:
        raise ValidationError(
            {
                "file": ValidationError(
                    _("This kind of file is not accepted. Allowed: %(allowed)s."),
                    code="file_type_not_allowed",
                    params={"allowed": ", ".join(ALLOWED_EXTENSIONS)},
                )
            }
        )
    extension = PurePath(name).suffix.lower()
    if extension not in file_type.extensions:
        raise ValidationError(
            {
                "file": ValidationError(
                    _("The file is named “%(name)s” but its content is %(real)s."),
                    code="file_type_mismatch",
                    params={"name": name, "real": file_type.extensions[0]},
                )
            }
        )
    return file_type, name


@transaction.atomic
def document_upload(
    *,
    actor: Any,
    client: Client,
    uploaded: Any,
    kind: str = Document.Kind.OTHER,
    number: str = "",
    dated_on: Any = None,
    title: str = "",
    order: Any = None,
    on_timeline: bool = True,
) -> Document:
    """Store a file on a card. Images are re-encoded (metadata stripped) with a thumbnail;
    photos and identity documents are stored encrypted (documents.crypto_files).

    Raises PermissionDenied, ValidationError (field "file": empty_file, file_too_large,
    file_type_not_allowed, file_type_mismatch, bad_image). Writes an ObjectChange and,
    unless `on_timeline` is False (photos attached to a service), a timeline line.
    """
    permissions.ensure_can_change_client(actor, client)
    if order is not None and order.client_id != client.pk:
        raise ValidationError(
            {
                "order": ValidationError(
                    _("The order belongs to another card."), code="order_mismatch"
                )
            }
        )
    file_type, name = validate_upload(uploaded)
    thumbnail = b""
    source: IO[bytes]
    if file_type.is_image:
        content, thumbnail, content_type = _reencode(uploaded)
        size, sha256, source = (
            len(content),
            hashlib.sha256(content).hexdigest(),
            io.BytesIO(content),
        )
    else:
        # Read in chunks, never whole: memory stays bounded up to the size limit.
        size, sha256 = _digest(uploaded)
        content_type, source = file_type.content_type, uploaded
    document = Document(
        client=client,
        order=order,
        kind=kind,
        number=number.strip(),
        dated_on=dated_on,
        title=title.strip(),
        original_name=name,
        content_type=content_type,
        size=size,
        sha256=sha256,
        uploaded_by=actor,
    )
    document.full_clean(exclude=["file", "thumbnail"])
    source.seek(0)
    crypto_files.store(document, source, thumbnail)  # encrypted for photos and identity papers
    document.save()
    log_change(
        actor=actor,
        obj=document,
        action="create",
        after={"client": client.pk, "kind": kind, "name": name, "size": size},
    )
    if on_timeline:
        timeline_record(
            client=client,
            obj=document,
            kind="document",
            occurred_at=document.uploaded_at,
            title=str(document),
            summary=document.get_kind_display(),
            author=actor,
            subkind=kind,
        )
    return document


@transaction.atomic
def document_delete(*, actor: Any, document: Document) -> None:
    """Hide a document from the card (kept in storage; a later issue purges per retention)."""
    permissions.ensure_can_change_client(actor, document.client)
    document.is_deleted = True
    document.save(update_fields=["is_deleted"])
    log_change(
        actor=actor,
        obj=document,
        action="delete",
        before={"is_deleted": False},
        after={"is_deleted": True},
    )
    timeline_remove(obj=document)
