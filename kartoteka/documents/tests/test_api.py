"""Documents over REST: the same pipeline, visibility and errors as the web section."""

import datetime
import typing

import pytest
from django.db import connection
from django.test import Client as DjangoClient
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from kartoteka.activities.models import TimelineEvent
from kartoteka.clients.tests.factories import make_person
from kartoteka.core.models import ObjectChange
from kartoteka.documents.models import Document
from kartoteka.documents.schemas import DocumentKind
from kartoteka.documents.services import document_upload
from kartoteka.documents.tests.files import DAMAGED_JPEG, EXE, jpeg_bytes, pdf_bytes, upload
from kartoteka.sales.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def card(alice):
    return make_person(alice, last_name="Апиева")


@pytest.fixture
def pdf(alice, card):
    return document_upload(
        actor=alice,
        client=card,
        uploaded=upload("contract.pdf", pdf_bytes()),
        kind="contract",
        title="Договор",
    )


def list_url(card) -> str:
    return f"/api/v1/clients/{card.pk}/documents"


def doc_url(document, suffix: str = "") -> str:
    return f"/api/v1/documents/{document.pk}{suffix}"


def assert_error(response, status: int, code: str, field: str | None = None) -> None:
    assert response.status_code == status
    body = response.json()
    assert set(body) >= {"detail", "code", "errors"}
    assert body["code"] == code
    if field is not None:
        assert [e["field"] for e in body["errors"]] == [field]


def test_kind_literal_matches_the_model():
    assert set(typing.get_args(DocumentKind)) == set(Document.Kind.values)


def test_upload_read_download_delete(api_client_for, alice, card):
    api = api_client_for(alice)
    order = Order.objects.create(client=card, number=77, ordered_on=datetime.date(2025, 2, 1))

    created = api.post(
        list_url(card),
        {
            "kind": "photo",
            "number": "P-1",
            "dated_on": "2025-02-03",
            "title": "Фото до",
            "order": order.pk,
            "file": upload("before.jpg", jpeg_bytes(gps=True)),
        },
    )

    assert created.status_code == 201, created.content
    body = created.json()
    document = Document.objects.get()
    assert body["id"] == document.pk
    assert body["client"] == card.pk
    assert body["order"] == order.pk
    assert body["kind"] == "photo"
    assert body["number"] == "P-1"
    assert body["dated_on"] == "2025-02-03"
    assert body["title"] == "Фото до"
    assert body["original_name"] == "before.jpg"
    assert body["content_type"] == "image/jpeg"
    assert body["is_image"] is True
    assert body["size"] == document.size
    assert body["uploaded_by"] == {"id": alice.pk, "name": str(alice)}
    assert body["download_url"] == f"http://testserver/api/v1/documents/{document.pk}/download"
    assert body["thumbnail_url"] == f"http://testserver/api/v1/documents/{document.pk}/thumbnail"

    assert api.get(list_url(card)).json() == [body]
    assert api.get(doc_url(document)).json() == body

    download = api.get(doc_url(document, "/download"))
    assert download.status_code == 200
    data = b"".join(download.streaming_content)
    assert b"Exif" not in data
    assert download["Content-Type"] == "image/jpeg"
    assert download["Content-Disposition"].startswith("inline;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Cache-Control"].startswith("private")
    thumb = api.get(doc_url(document, "/thumbnail"))
    assert thumb.status_code == 200
    assert thumb["Content-Type"] == "image/jpeg"

    deleted = api.delete(doc_url(document))
    assert deleted.status_code == 204
    document.refresh_from_db()
    assert document.is_deleted is True
    assert api.get(list_url(card)).json() == []
    assert_error(api.get(doc_url(document)), 404, "not_found")
    assert_error(api.get(doc_url(document, "/download")), 404, "not_found")


def test_pdf_download_is_an_attachment(api_client_for, alice, pdf):
    response = api_client_for(alice).get(doc_url(pdf, "/download"))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="contract.pdf"'
    assert b"".join(response.streaming_content) == pdf_bytes()
    assert_error(api_client_for(alice).get(doc_url(pdf, "/thumbnail")), 404, "not_found")


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("setup.exe", EXE, "file_type_not_allowed"),
        ("photo.jpg", pdf_bytes(), "file_type_mismatch"),
        ("scan.pdf", jpeg_bytes(20, 20), "file_type_mismatch"),
        ("broken.jpg", DAMAGED_JPEG, "bad_image"),
    ],
)
def test_bad_files_are_422_on_file(api_client_for, alice, card, name, content, code):
    response = api_client_for(alice).post(list_url(card), {"file": upload(name, content)})
    assert_error(response, 422, "invalid", "file")
    assert response.json()["errors"][0]["code"] == code
    assert Document.objects.count() == 0


@override_settings(KARTOTEKA_MAX_UPLOAD_MB=1)
def test_oversized_file_is_422(api_client_for, alice, card):
    response = api_client_for(alice).post(
        list_url(card), {"file": upload("big.pdf", pdf_bytes(1024 * 1024 + 10))}
    )
    assert_error(response, 422, "invalid", "file")
    assert response.json()["errors"][0]["code"] == "file_too_large"
    assert Document.objects.count() == 0


def test_missing_file_and_unknown_kind_are_422(api_client_for, alice, card):
    response = api_client_for(alice).post(list_url(card), {"kind": "virus"})
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"file", "kind"} <= fields
    assert Document.objects.count() == 0


def test_order_of_another_card_is_422(api_client_for, alice, card):
    other = make_person(alice, last_name="Чужой")
    order = Order.objects.create(client=other, number=78, ordered_on=datetime.date(2025, 2, 1))
    response = api_client_for(alice).post(
        list_url(card), {"order": order.pk, "file": upload("a.pdf", pdf_bytes())}
    )
    assert_error(response, 422, "invalid", "order")
    assert Document.objects.count() == 0


def test_list_query_count_does_not_grow(api_client_for, alice, card, django_assert_num_queries):
    api = api_client_for(alice)
    for index in range(2):
        document_upload(actor=alice, client=card, uploaded=upload(f"{index}.pdf", pdf_bytes()))
    api.get(list_url(card))
    with CaptureQueriesContext(connection) as two:
        assert len(api.get(list_url(card)).json()) == 2
    for index in range(8):
        document_upload(
            actor=alice, client=card, uploaded=upload(f"{index}.jpg", jpeg_bytes(10, 10))
        )
    with django_assert_num_queries(len(two.captured_queries)):
        assert len(api.get(list_url(card)).json()) == 10


def test_documents_are_in_the_openapi_document(api_client_for, alice):
    schema = api_client_for(alice).get("/api/v1/openapi.json").json()
    operations = {op["operationId"] for path in schema["paths"].values() for op in path.values()}
    assert {
        "document_list",
        "document_upload",
        "document_get",
        "document_download",
        "document_thumbnail",
        "document_delete",
    } <= operations
    upload_body = schema["paths"]["/api/v1/clients/{client_id}/documents"]["post"]["requestBody"]
    assert "multipart/form-data" in upload_body["content"]


# --- Authorization matrix -------------------------------------------------------------------

ROLES = ["ada", "mallory", "alice", "bob", "charlie", "rita", "anonymous"]
#             list  upload get   download delete
EXPECTED = {
    "ada": (200, 201, 200, 200, 204),
    "mallory": (200, 201, 200, 200, 204),
    "alice": (200, 201, 200, 200, 204),
    "bob": (200, 201, 200, 200, 204),
    "charlie": (404, 404, 404, 404, 404),
    "rita": (200, 403, 200, 200, 403),
    "anonymous": (401, 401, 401, 401, 401),
}
ACTIONS = ["list", "upload", "get", "download", "delete"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
def test_authorization_matrix(role, action, users, api_client_for, card, pdf):
    expected = EXPECTED[role][ACTIONS.index(action)]
    api = DjangoClient() if role == "anonymous" else api_client_for(users[role])
    documents, changes, events = (
        Document.objects.count(),
        ObjectChange.objects.count(),
        TimelineEvent.objects.count(),
    )

    if action == "list":
        response = api.get(list_url(card))
    elif action == "upload":
        response = api.post(list_url(card), {"kind": "act", "file": upload("m.pdf", pdf_bytes())})
    elif action == "get":
        response = api.get(doc_url(pdf))
    elif action == "download":
        response = api.get(doc_url(pdf, "/download"))
    else:
        response = api.delete(doc_url(pdf))

    assert response.status_code == expected
    pdf.refresh_from_db()
    if expected == 201:
        assert Document.objects.count() == documents + 1
        assert Document.objects.latest("pk").uploaded_by == users[role]
        return
    if expected == 204:
        assert pdf.is_deleted is True
        return
    if expected == 200:
        if action == "list":
            assert [d["id"] for d in response.json()] == [pdf.pk]
        return
    codes = {401: "not_authenticated", 403: "permission_denied", 404: "not_found"}
    assert response.json()["code"] == codes[expected]
    assert Document.objects.count() == documents
    assert ObjectChange.objects.count() == changes
    assert TimelineEvent.objects.count() == events
    assert pdf.is_deleted is False
