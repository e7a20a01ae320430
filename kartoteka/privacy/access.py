"""The access export: everything the business holds about one person, in one ZIP.

- data.json: one section per model (privacy.coverage.export_relations), each a list of rows
  with every concrete field (foreign keys as ids, choices with their label); health notes
  with their text read through care.health; the card itself first.
- index.html: the same, readable and printable (privacy/subject_export.html).
- documents/: the card's files, read through documents.views.file_response, the function
  the download view uses (so files encrypted at rest come out decrypted).
One query per section; the ZIP is built in memory (a person's files, not the whole base).
"""

import datetime
import decimal
import io
import json
import re
import uuid
import zipfile
from typing import Any

from django.db import models
from django.template.loader import render_to_string
from django.utils import timezone

from kartoteka.care import health
from kartoteka.care.models import HealthNote
from kartoteka.clients.models import Client
from kartoteka.core.models import SiteSettings
from kartoteka.documents.models import Document
from kartoteka.privacy import coverage

# Fields never exported as they are: internal plumbing or read another way.
SKIPPED_FIELDS = {
    "documents.Document": {"file", "thumbnail"},  # the file itself is in documents/
}
# A health note's fields besides its text, which only care.health reads (and unseals).
HEALTH_NOTE_FIELDS = ("id", "client", "kind", "author", "created_at", "updated_at")


def _value(obj: models.Model, field: models.Field[Any, Any]) -> Any:
    value = getattr(obj, field.attname)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or ""
    return value


def serialize(obj: models.Model, only: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every concrete field of `obj` (or those in `only`) as JSON data; choices get a
    `<name>_label` beside them."""
    skipped = SKIPPED_FIELDS.get(obj._meta.label, set())
    row: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if field.name in skipped or (only and field.name not in only):
            continue
        row[field.attname if field.is_relation else field.name] = _value(obj, field)
        if field.choices and getattr(obj, field.attname) not in (None, ""):
            row[f"{field.name}_label"] = str(getattr(obj, f"get_{field.name}_display")())
    return row


def _safe_name(name: str) -> str:
    return re.sub(r"[^\w.\-]+", "_", name, flags=re.UNICODE).strip("._") or "file"


def collect(client: Client, actor: Any = None) -> dict[str, Any]:
    """The export's data: {"card": ..., "sections": {label: {"title":..., "rows": [...]}}}."""
    ids = [client.pk]
    sections: dict[str, dict[str, Any]] = {}
    for relation in coverage.export_relations():
        model = relation.model
        if model is HealthNote:
            rows = [
                {**serialize(note, HEALTH_NOTE_FIELDS), "text": text}
                for note, text in health.health_notes_for_subject(actor=actor, client=client)
            ]
        else:
            rows = [serialize(obj) for obj in coverage.rows_of(relation, ids).order_by("pk")]
        if model is Client:
            rows = [r for r in rows if r.get("id") != client.pk]  # the card is "card" below
        if not rows:
            continue
        section = sections.setdefault(
            model._meta.label,
            {"title": str(model._meta.verbose_name_plural), "rows": []},
        )
        seen = {r.get("id") for r in section["rows"]}
        section["rows"].extend(r for r in rows if r.get("id") not in seen)
    site = SiteSettings.current()
    return {
        "format": "kartoteka-subject-access/1",
        "generated_at": timezone.now().isoformat(),
        "controller": site.company_name,
        "card": serialize(client),
        "tags": list(client.tags.values_list("name", flat=True)),
        "sections": sections,
    }


def _document_files(client: Client) -> list[tuple[str, bytes]]:
    from kartoteka.core.crypto import DecryptionError
    from kartoteka.documents.views import file_response

    files = []
    documents = Document._base_manager.filter(client=client).order_by("pk")
    for document in documents:
        if not document.file:
            continue
        try:
            response = file_response(document)
        except (FileNotFoundError, OSError, DecryptionError):
            # A missing file, or an encrypted one whose key is gone or which was altered: the
            # row (in data.json) still says it existed.
            continue
        data = b"".join(response.streaming_content)  # type: ignore[arg-type]
        # Close the file only: response.close() would send request_finished, which closes
        # the database connection in the middle of the caller's transaction.
        if response.file_to_stream is not None:
            response.file_to_stream.close()
        files.append((f"documents/{document.pk}-{_safe_name(document.original_name)}", data))
    return files


def build_zip(client: Client, actor: Any = None) -> bytes:
    """The ZIP archive of the access export (data.json, index.html, documents/)."""
    data = collect(client, actor)
    files = _document_files(client)
    data["files"] = [name for name, _ in files]
    html = render_to_string(
        "privacy/subject_export.html",
        {"data": data, "client": client, "files": data["files"]},
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "data.json", json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False)
        )
        archive.writestr("index.html", html)
        for name, content in files:
            archive.writestr(name, content)
    return buffer.getvalue()
