"""Reads of documents. A document is visible exactly when its card is; deleted ones are gone
for every reader (the file stays in storage until a later retention purge)."""

from typing import IO, Any

from django.db.models import QuerySet
from django.http import Http404

from kartoteka.clients.models import Client
from kartoteka.documents import crypto_files
from kartoteka.documents.models import Document
from kartoteka.sales.models import Order


def document_list(*, user: Any, client: Client) -> list[Document]:
    """The card's documents, newest first, with uploader and order (one query). The caller
    fetched `client` through clients.selectors.client_get, so `user` may see it."""
    return list(
        Document.objects.filter(client=client, is_deleted=False)
        .select_related("uploaded_by", "order")
        .order_by("-uploaded_at", "-pk")
    )


def document_get(*, user: Any, pk: int) -> Document:
    """The document `pk` when `user` may see its card and it is not deleted; Http404 else,
    so neither the document nor its card leaks."""
    document = (
        Document.objects.filter(
            pk=pk, is_deleted=False, client__in=Client.objects.visible_to(user).values("pk")
        )
        .select_related("client", "uploaded_by", "order")
        .first()
    )
    if document is None:
        raise Http404("No such document")
    return document


def document_order_choices(*, client: Client) -> QuerySet[Order]:
    """Orders of the card a document may be attached to, newest first."""
    return Order.objects.filter(client=client).order_by("-ordered_on", "-number")


def document_file(document: Document, *, thumbnail: bool = False) -> IO[bytes]:
    """THE way to a document's bytes: its file (or thumbnail) as the original bytes, decrypted
    on the fly when stored encrypted, read chunk by chunk; the caller closes it. Downloads
    (web and API) and every other reader (exports of a person's data ...) go through here.

    `document` must come from document_get (or another read scoped to the user): this
    checks nothing. A damaged file or a lost key raises core.encrypted_files.
    FileDecryptionError while reading.
    """
    return crypto_files.open_plain(document, thumbnail=thumbnail)
