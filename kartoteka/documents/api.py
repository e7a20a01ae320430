"""Documents over REST: list and upload (multipart) on a card, fetch, download, delete.

The same selectors and upload pipeline as the web section: a document is visible when its card
is (404 otherwise), uploads are checked for size, real type and an honest name (422 on
`file`), read-only users get 403.
"""

import logging

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from kartoteka.audit import services as audit_services
from kartoteka.clients import permissions
from kartoteka.clients import selectors as client_selectors
from kartoteka.core.encrypted_files import FileDecryptionError
from kartoteka.documents import selectors, services
from kartoteka.documents.models import Document
from kartoteka.documents.schemas import DocumentIn, DocumentOut
from kartoteka.documents.views import file_response, unreadable_message
from kartoteka.sales.models import Order

logger = logging.getLogger(__name__)
router = Router(tags=["documents"])


def _file(document: Document, *, thumbnail: bool = False) -> FileResponse:
    """The file response, or a 500 in the error shape when an encrypted file does not decrypt
    (its key is gone from the key file, or the stored file was altered)."""
    try:
        return file_response(document, thumbnail=thumbnail)
    except FileDecryptionError:
        logger.error("Document %s cannot be decrypted (key missing or file altered)", document.pk)
        raise HttpError(500, unreadable_message()) from None


@router.get(
    "/clients/{int:client_id}/documents",
    response=list[DocumentOut],
    operation_id="document_list",
)
def document_list(request: HttpRequest, client_id: int):
    """The card's documents, newest first."""
    user = request.auth  # type: ignore[attr-defined]
    client = client_selectors.client_get(user=user, pk=client_id)
    return selectors.document_list(user=user, client=client)


@router.post(
    "/clients/{int:client_id}/documents",
    response={201: DocumentOut},
    operation_id="document_upload",
)
def document_upload(
    request: HttpRequest,
    client_id: int,
    payload: Form[DocumentIn],
    file: File[UploadedFile],
):
    """Upload a file (multipart/form-data). Images are re-encoded without EXIF/GPS and get a
    thumbnail. 422 on `file`: `file_too_large`, `file_type_not_allowed`, `file_type_mismatch`
    (the name says one type, the content another), `bad_image`, `empty_file`."""
    user = request.auth  # type: ignore[attr-defined]
    client = client_selectors.client_get(user=user, pk=client_id)
    permissions.ensure_can_change_client(user, client)  # 403 before any question about input
    order = None
    if payload.order is not None:
        order = Order.objects.filter(pk=payload.order, client=client).first()
        if order is None:
            raise ValidationError(
                {"order": ValidationError(_("No such order on this card."), code="invalid_choice")}
            )
    document = services.document_upload(
        actor=user,
        client=client,
        uploaded=file,
        kind=payload.kind,
        number=payload.number,
        dated_on=payload.dated_on,
        title=payload.title,
        order=order,
    )
    return Status(201, selectors.document_get(user=user, pk=document.pk))


@router.get("/documents/{int:document_id}", response=DocumentOut, operation_id="document_get")
def document_get(request: HttpRequest, document_id: int):
    """One document's description (not its content: see download)."""
    return selectors.document_get(user=request.auth, pk=document_id)  # type: ignore[attr-defined]


@router.get(
    "/documents/{int:document_id}/download",
    operation_id="document_download",
    response={200: None},
    openapi_extra={
        "responses": {200: {"description": "The file, as stored.", "content": {"*/*": {}}}}
    },
)
def document_download(request: HttpRequest, document_id: int) -> FileResponse:
    """The file itself: `attachment` unless it is an image, with its stored content type."""
    document = selectors.document_get(user=request.auth, pk=document_id)  # type: ignore[attr-defined]
    response = _file(document)
    audit_services.record("download", obj=document, request=request)
    return response


@router.get(
    "/documents/{int:document_id}/thumbnail",
    operation_id="document_thumbnail",
    response={200: None},
    openapi_extra={
        "responses": {200: {"description": "A JPEG thumbnail.", "content": {"image/jpeg": {}}}}
    },
)
def document_thumbnail(request: HttpRequest, document_id: int) -> FileResponse:
    """A small JPEG of an image document; 404 for other files."""
    document = selectors.document_get(user=request.auth, pk=document_id)  # type: ignore[attr-defined]
    if not document.thumbnail:
        raise Http404("No thumbnail")
    return _file(document, thumbnail=True)


@router.delete("/documents/{int:document_id}", response={204: None}, operation_id="document_delete")
def document_delete(request: HttpRequest, document_id: int):
    """Remove the document from the card and its timeline."""
    user = request.auth  # type: ignore[attr-defined]
    document = selectors.document_get(user=user, pk=document_id)
    services.document_delete(actor=user, document=document)
    return Status(204, None)
