"""The documents section of the card page and the doors the files go out through.

Files are never served from a public URL: every download and thumbnail goes through
document_get (visibility of the card), then streams from storage with headers that keep
browsers and proxies from guessing or caching it publicly.
"""

import logging
from pathlib import PurePath

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kartoteka.audit import services as audit_services
from kartoteka.clients import permissions
from kartoteka.clients import selectors as client_selectors
from kartoteka.clients.models import Client
from kartoteka.core.encrypted_files import FileDecryptionError
from kartoteka.documents import selectors, services
from kartoteka.documents.forms import DocumentUploadForm
from kartoteka.documents.models import Document

SECTION_TEMPLATE = "documents/client_documents.html"
logger = logging.getLogger(__name__)


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _section(
    request: HttpRequest, client: Client, form: DocumentUploadForm | None = None, status: int = 200
) -> HttpResponse:
    can_change = permissions.can_change_client(request.user, client)
    if form is None and can_change:
        form = DocumentUploadForm(client=client)
    documents = selectors.document_list(user=request.user, client=client)
    for document in documents:
        document.extension = PurePath(document.original_name).suffix.lstrip(".").upper()  # type: ignore[attr-defined]
    context = {
        "client": client,
        "documents": documents,
        "form": form if can_change else None,
        "can_change": can_change,
        "open_form": bool(form is not None and form.is_bound),
    }
    return render(request, SECTION_TEMPLATE, context, status=status)


def _changed(response: HttpResponse) -> HttpResponse:
    """Tell the card page that its story changed (timeline and summary reload)."""
    response["HX-Trigger"] = "card-changed"
    return response


def add_service_errors(form: DocumentUploadForm, exc: ValidationError) -> None:
    """Put a service's ValidationError next to the form's fields (others above the form)."""
    errors = exc.error_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.error_list}
    for field, messages in errors.items():
        form.add_error(field if field in form.fields else None, messages)


@require_http_methods(["GET", "POST"])
def client_documents(request: HttpRequest, client_pk: int) -> HttpResponse:
    """GET: the section (list and upload form). POST (multipart): upload a file; the answer is
    the section again, with errors per field or the new document on top."""
    client = client_selectors.client_get(user=request.user, pk=client_pk)
    if request.method == "GET":
        return _section(request, client)
    permissions.ensure_can_change_client(request.user, client)
    form = DocumentUploadForm(request.POST, request.FILES, client=client)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.document_upload(
                actor=request.user,
                client=client,
                uploaded=data["file"],
                kind=data["kind"],
                number=data["number"],
                dated_on=data["dated_on"],
                title=data["title"],
                order=data["order"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if not _is_htmx(request):
                return redirect(client.get_absolute_url() + "#section-documents")
            return _changed(_section(request, client))
    if not _is_htmx(request):
        return render(
            request,
            "documents/document_upload_page.html",
            {"client": client, "form": form},
            status=422,
        )
    return _section(request, client, form=form, status=422)


@require_http_methods(["GET", "POST"])
def document_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: a confirmation page (without JavaScript); POST: delete and back to the card."""
    document = selectors.document_get(user=request.user, pk=pk)
    client = document.client
    permissions.ensure_can_change_client(request.user, client)
    if request.method == "GET":
        return render(
            request,
            "documents/document_confirm_delete.html",
            {"document": document, "client": client},
        )
    services.document_delete(actor=request.user, document=document)
    if not _is_htmx(request):
        return redirect(client.get_absolute_url() + "#section-documents")
    return _changed(_section(request, client))


def file_response(document: Document, *, thumbnail: bool = False) -> FileResponse:
    """Stream a document (or its thumbnail) with safe headers: attachment unless it is an
    image, the stored type, no sniffing, private caching only, no active content. Raises
    FileDecryptionError when an encrypted file does not decrypt (before anything is sent)."""
    is_image = thumbnail or document.is_image
    content_type = "image/jpeg" if thumbnail else document.content_type
    response = FileResponse(
        selectors.document_file(document, thumbnail=thumbnail),  # decrypts when encrypted
        content_type=content_type,
        as_attachment=not is_image,
        filename=document.original_name,
    )
    if document.key_id and not thumbnail:
        response["Content-Length"] = str(document.size)  # a decrypting stream has no length
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600" if thumbnail else "private, no-cache"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def unreadable_message() -> str:
    return _(
        "This file cannot be decrypted: its key is missing from the key file or the stored "
        "file was altered. Ask your administrator."
    )


def _unreadable(document: Document) -> HttpResponse:
    """An encrypted file that does not decrypt: said plainly, logged, never a stack trace."""
    logger.error("Document %s cannot be decrypted (key missing or file altered)", document.pk)
    response = HttpResponse(
        unreadable_message(), status=500, content_type="text/plain; charset=utf-8"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def document_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    document = selectors.document_get(user=request.user, pk=pk)
    try:
        response = file_response(document)
    except FileDecryptionError:
        return _unreadable(document)
    audit_services.record("download", obj=document, request=request)
    return response


@require_GET
def document_thumbnail(request: HttpRequest, pk: int) -> HttpResponseBase:
    document = selectors.document_get(user=request.user, pk=pk)
    if not document.thumbnail:
        raise Http404("No thumbnail")
    try:
        return file_response(document, thumbnail=True)
    except FileDecryptionError:
        return _unreadable(document)
