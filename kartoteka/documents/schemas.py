"""The shapes of documents in the REST API. Upload is multipart: these fields as form fields
and the file as `file`."""

import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Schema

from kartoteka.documents.models import Document

# Document.Kind spelt out (OpenAPI inlines literals; a test keeps them equal to the model's).
DocumentKind = Literal["contract", "invoice", "waybill", "act", "photo", "identity", "other"]


class RefOut(Schema):
    id: int
    name: str


class DocumentIn(Schema):
    kind: DocumentKind = "other"
    number: str = Field("", max_length=50)
    dated_on: datetime.date | None = None
    title: str = Field("", max_length=200)
    order: int | None = Field(None, description="An order of this card to attach it to.")


def _absolute(context: Any, path: str) -> str:
    request: HttpRequest | None = (context or {}).get("request")
    return request.build_absolute_uri(path) if request is not None else path


class DocumentOut(Schema):
    id: int
    client: int
    order: int | None
    kind: DocumentKind
    number: str
    dated_on: datetime.date | None
    title: str
    original_name: str = Field(description="The file's name as uploaded.")
    content_type: str = Field(description="Read from the content, not from the name.")
    size: int = Field(description="Bytes as stored (images are re-encoded).")
    sha256: str
    is_image: bool
    uploaded_by: RefOut | None
    uploaded_at: datetime.datetime
    download_url: str = Field(description="GET it with the same credentials.")
    thumbnail_url: str | None = Field(description="A small JPEG, for images only.")

    @staticmethod
    def resolve_client(obj: Document) -> int:
        return obj.client_id

    @staticmethod
    def resolve_order(obj: Document) -> int | None:
        return obj.order_id

    @staticmethod
    def resolve_uploaded_by(obj: Document) -> dict[str, Any] | None:
        user = obj.uploaded_by
        return None if user is None else {"id": user.pk, "name": str(user)}

    @staticmethod
    def resolve_download_url(obj: Document, context: Any) -> str:
        return _absolute(context, reverse("api:document_download", args=[obj.pk]))

    @staticmethod
    def resolve_thumbnail_url(obj: Document, context: Any) -> str | None:
        if not obj.thumbnail:
            return None
        return _absolute(context, reverse("api:document_thumbnail", args=[obj.pk]))
