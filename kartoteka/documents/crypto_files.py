"""How a document's bytes are kept in storage: encrypted for the kinds in
Document.ENCRYPTED_KINDS (photos, identity documents, and so the before/after photos of
services), as uploaded for the others and for files stored before encryption existed.

THE one place that writes a document's file or thumbnail to storage and the one place that
reads them back (`open_plain`, reached by everyone through documents.selectors.document_file).
Document.key_id says how a row's files are stored: "" as uploaded, else encrypted under that
key, so old plaintext files keep serving and `kartoteka rotate_keys` knows what to convert.
Files go through Django's storage API either way (local disk or an S3 bucket): encrypted
before `save`, decrypted after `open`.
"""

import logging
from typing import IO

from django.core.files.base import ContentFile, File
from django.db import transaction
from django.db.models import Q, QuerySet

from kartoteka.core import crypto, encrypted_files
from kartoteka.documents.models import Document

logger = logging.getLogger(__name__)

# Bound into every chunk: a thumbnail cannot be passed off as the file, nor either as
# another purpose's ciphertext.
FILE_PURPOSE = "document-file"
THUMBNAIL_PURPOSE = "document-thumbnail"


def should_encrypt(document: Document) -> bool:
    return document.kind in Document.ENCRYPTED_KINDS


def store(document: Document, source: IO[bytes], thumbnail: bytes = b"") -> None:
    """Save `source` (read from where it stands, chunk by chunk) and the thumbnail bytes as the
    document's files, encrypted when its kind asks for it; sets `key_id`. Does not save the
    row."""
    if should_encrypt(document):
        sealed, key_id = encrypted_files.encrypt_stream(source, purpose=FILE_PURPOSE)
        with sealed:
            document.file.save("file", File(sealed), save=False)
        if thumbnail:
            sealed_thumbnail = encrypted_files.encrypt_bytes(thumbnail, purpose=THUMBNAIL_PURPOSE)
            document.thumbnail.save("thumb.jpg", ContentFile(sealed_thumbnail), save=False)
        document.key_id = key_id
        return
    document.file.save("file", File(source), save=False)
    if thumbnail:
        document.thumbnail.save("thumb.jpg", ContentFile(thumbnail), save=False)
    document.key_id = ""


def open_plain(document: Document, *, thumbnail: bool = False) -> IO[bytes]:
    """The document's file (or thumbnail) as a stream of its original bytes, decrypting on
    the fly; the caller closes it. A damaged file or a missing key raises
    FileDecryptionError while reading."""
    field = document.thumbnail if thumbnail else document.file
    stored = field.storage.open(field.name, "rb")
    if not document.key_id:
        return stored
    purpose = THUMBNAIL_PURPOSE if thumbnail else FILE_PURPOSE
    return encrypted_files.DecryptingReader(stored, purpose=purpose)  # type: ignore[return-value]


def needs_rewrite(document: Document, *, encrypt_plain: bool) -> bool:
    """Is the document stored under an old key (or as uploaded, when `encrypt_plain` and its
    kind is encrypted)?"""
    if document.key_id:
        return document.key_id != crypto.current_key_id()
    return encrypt_plain and should_encrypt(document)


def rewrite(document: Document) -> bool:
    """Store the document's file and thumbnail again, encrypted under the current key, and
    delete the old copies. Returns False when another process changed the row meanwhile (the
    new copies are then removed and nothing changes).

    New files are written first under new names and the row switched in one UPDATE, so a
    crash at any point leaves the row pointing at files that read back correctly.
    """
    old_key_id, old_file, old_thumbnail = (
        document.key_id,
        document.file.name,
        document.thumbnail.name,
    )
    with open_plain(document) as plain:
        sealed, key_id = encrypted_files.encrypt_stream(plain, purpose=FILE_PURPOSE)
    storage = document.file.storage
    with sealed:
        new_file = storage.save(
            document.file.field.generate_filename(document, "file"), File(sealed)
        )
    new_thumbnail = ""
    if old_thumbnail:
        with open_plain(document, thumbnail=True) as plain_thumbnail:
            sealed_thumbnail = encrypted_files.encrypt_bytes(
                plain_thumbnail.read(), purpose=THUMBNAIL_PURPOSE
            )
        new_thumbnail = storage.save(
            document.thumbnail.field.generate_filename(document, "thumb.jpg"),
            ContentFile(sealed_thumbnail),
        )
    with transaction.atomic():
        switched = Document.objects.filter(
            pk=document.pk, key_id=old_key_id, file=old_file, thumbnail=old_thumbnail
        ).update(file=new_file, thumbnail=new_thumbnail, key_id=key_id)
    gone, kept = ((old_file, old_thumbnail), (new_file, new_thumbnail))
    if not switched:
        gone, kept = kept, gone
    for name in gone:
        if name:
            try:
                storage.delete(name)
            except OSError:  # left behind: ciphertext or an old copy, reported not fatal
                logger.warning(
                    "Could not delete %s after re-encrypting document %s", name, document.pk
                )
    if switched:
        document.file.name, document.thumbnail.name, document.key_id = kept[0], kept[1], key_id
    return bool(switched)


def pending(key_id: str, *, encrypt_plain: bool) -> QuerySet[Document]:
    """Documents (deleted ones too: their files stay in storage) not yet stored under key
    `key_id`; with `encrypt_plain`, also those of encrypted kinds still stored as uploaded."""
    rows = Document.objects.exclude(key_id=key_id)
    if encrypt_plain:
        return rows.filter(~Q(key_id="") | Q(kind__in=Document.ENCRYPTED_KINDS))
    return rows.exclude(key_id="")


def using_key(key_id: str) -> int:
    """How many documents are stored under key `key_id`."""
    return Document.objects.filter(key_id=key_id).count()
