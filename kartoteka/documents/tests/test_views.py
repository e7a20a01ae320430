"""The documents section of the card page, and the doors files go out through.

Files go out only to users who may see the card, never from a public URL, with headers that
stop browsers guessing their type or caching them publicly.
"""

import datetime
import io

import pytest
from django.test import Client as DjangoClient
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from PIL import Image

from kartoteka.activities.models import TimelineEvent
from kartoteka.clients.tests.factories import make_person
from kartoteka.core.models import ObjectChange
from kartoteka.documents.models import Document
from kartoteka.documents.services import document_upload
from kartoteka.documents.tests.files import EXE, jpeg_bytes, pdf_bytes, upload
from kartoteka.sales.models import Order

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def card(alice):
    return make_person(alice, last_name="Документова", first_name="Дина")


@pytest.fixture
def pdf(alice, card):
    return document_upload(
        actor=alice,
        client=card,
        uploaded=upload("Договор.pdf", pdf_bytes()),
        kind="contract",
        number="Д-17",
        dated_on=datetime.date(2025, 3, 14),
        title="Договор оказания услуг",
    )


@pytest.fixture
def photo(alice, card):
    return document_upload(
        actor=alice,
        client=card,
        uploaded=upload("IMG_0001.jpg", jpeg_bytes(gps=True)),
        kind="photo",
    )


def section_url(card) -> str:
    return reverse("documents:client-documents", args=[card.pk])


def form_data(**overrides):
    data = {"kind": "contract", "number": "", "dated_on": "", "title": "", "order": ""}
    data.update(overrides)
    return data


# --- The section ----------------------------------------------------------------------------


def test_section_lists_documents_with_thumbnails_and_the_upload_form(
    web_client_for, alice, card, pdf, photo
):
    response = web_client_for(alice).get(section_url(card), **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(
        '<section class="panel section-documents" id="section-documents"'
    )
    assert "{% extends" not in html
    assert "<html" not in html
    assert "Договор оказания услуг" in html
    assert "№ Д-17" in html
    assert "IMG_0001.jpg" in html
    assert reverse("documents:thumbnail", args=[photo.pk]) in html
    assert reverse("documents:thumbnail", args=[pdf.pk]) not in html
    assert reverse("documents:download", args=[pdf.pk]) in html
    assert 'hx-encoding="multipart/form-data"' in html
    assert reverse("documents:delete", args=[pdf.pk]) in html
    assert "hx-confirm=" in html
    # Newest first.
    assert html.index("IMG_0001.jpg") < html.index("Договор оказания услуг")
    assert "/media/" not in html


def test_read_only_user_sees_the_list_without_form_or_delete(web_client_for, rita, card, pdf):
    html = web_client_for(rita).get(section_url(card), **HTMX).content.decode()
    assert "Договор оказания услуг" in html
    assert "<form" not in html
    assert reverse("documents:delete", args=[pdf.pk]) not in html


def test_section_offers_only_this_cards_orders(web_client_for, alice, card):
    other = make_person(alice, last_name="Другой")
    mine = Order.objects.create(client=card, number=901, ordered_on=datetime.date(2025, 1, 2))
    Order.objects.create(client=other, number=902, ordered_on=datetime.date(2025, 1, 3))
    html = web_client_for(alice).get(section_url(card), **HTMX).content.decode()
    assert f'value="{mine.pk}"' in html
    assert "№ 901" in html
    assert "№ 902" not in html


def test_section_query_count_does_not_grow_with_documents(
    web_client_for, alice, card, django_assert_num_queries
):
    web = web_client_for(alice)
    for index in range(2):
        document_upload(actor=alice, client=card, uploaded=upload(f"{index}.pdf", pdf_bytes()))
    web.get(section_url(card), **HTMX)  # warm caches (content types, sessions)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as two:
        web.get(section_url(card), **HTMX)
    for index in range(8):
        document_upload(
            actor=alice, client=card, uploaded=upload(f"m{index}.jpg", jpeg_bytes(20, 20))
        )
    with django_assert_num_queries(len(two.captured_queries)):
        response = web.get(section_url(card), **HTMX)
    assert response.content.decode().count('class="doc"') == 10


# --- Upload -----------------------------------------------------------------------------------


def test_htmx_upload_answers_with_the_section_and_tells_the_card_it_changed(
    web_client_for, alice, card
):
    order = Order.objects.create(client=card, number=903, ordered_on=datetime.date(2025, 1, 2))
    data = form_data(kind="act", number="A-1", dated_on="2025-04-01", title="Акт", order=order.pk)
    data["file"] = upload("act.pdf", pdf_bytes())

    response = web_client_for(alice).post(section_url(card), data, **HTMX)

    assert response.status_code == 200
    assert response["HX-Trigger"] == "card-changed"
    document = Document.objects.get()
    assert (document.kind, document.number, document.title) == ("act", "A-1", "Акт")
    assert document.dated_on == datetime.date(2025, 4, 1)
    assert document.order == order
    assert document.uploaded_by == alice
    html = response.content.decode()
    assert 'id="section-documents"' in html
    assert "Акт" in html
    assert TimelineEvent.objects.filter(client=card, kind="document").count() == 1


def test_plain_upload_redirects_to_the_card(web_client_for, alice, card):
    data = form_data(file=upload("scan.pdf", pdf_bytes()))
    response = web_client_for(alice).post(section_url(card), data)
    assert response.status_code == 302
    assert response["Location"] == card.get_absolute_url() + "#section-documents"
    assert Document.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("setup.exe", EXE, "This kind of file is not accepted"),
        ("holiday.jpg", pdf_bytes(), "is named “holiday.jpg” but its content is .pdf"),
        ("contract.pdf", jpeg_bytes(30, 30), "is named “contract.pdf” but its content is .jpg"),
    ],
)
def test_upload_errors_show_next_to_the_file_field_and_keep_the_input(
    web_client_for, alice, card, name, content, message
):
    data = form_data(title="Мой заголовок", number="N-5", file=upload(name, content))

    response = web_client_for(alice).post(section_url(card), data, **HTMX)

    assert response.status_code == 422
    assert "HX-Trigger" not in response
    html = response.content.decode()
    assert 'id="section-documents"' in html
    assert "field-invalid" in html
    assert message in html
    assert 'value="Мой заголовок"' in html
    assert 'value="N-5"' in html
    assert '<details class="section-form" open>' in html
    assert Document.objects.count() == 0


@override_settings(KARTOTEKA_MAX_UPLOAD_MB=1)
def test_too_large_upload_is_an_error_on_the_file_field(web_client_for, alice, card):
    data = form_data(file=upload("big.pdf", pdf_bytes(2 * 1024 * 1024)))
    response = web_client_for(alice).post(section_url(card), data, **HTMX)
    assert response.status_code == 422
    assert "The file is 2.0 MB; the limit is 1 MB." in response.content.decode()
    assert Document.objects.count() == 0


def test_missing_file_and_bad_kind_are_field_errors(web_client_for, alice, card):
    response = web_client_for(alice).post(section_url(card), form_data(kind="virus"), **HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert "This field is required." in html
    assert "Select a valid choice." in html
    assert Document.objects.count() == 0


def test_plain_upload_with_errors_shows_a_page_with_the_form(web_client_for, alice, card):
    response = web_client_for(alice).post(section_url(card), form_data(file=upload("a.exe", EXE)))
    assert response.status_code == 422
    html = response.content.decode()
    assert "<html" in html
    assert "This kind of file is not accepted" in html


# --- Download and thumbnail -----------------------------------------------------------------


def test_pdf_downloads_as_an_attachment_with_safe_headers(web_client_for, alice, pdf):
    response = web_client_for(alice).get(reverse("documents:download", args=[pdf.pk]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf_bytes()
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert (
        "filename*=utf-8''%D0%94%D0%BE%D0%B3%D0%BE%D0%B2%D0%BE%D1%80.pdf"
        in response["Content-Disposition"]
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"].startswith("private")
    assert "public" not in response["Cache-Control"]
    assert "sandbox" in response["Content-Security-Policy"]


def test_image_is_shown_inline_without_its_metadata(web_client_for, alice, photo):
    response = web_client_for(alice).get(reverse("documents:download", args=[photo.pk]))

    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("inline;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"].startswith("private")
    assert b"Exif" not in data
    assert b"SpyCam" not in data


def test_thumbnail_is_a_small_jpeg_and_only_images_have_one(web_client_for, alice, photo, pdf):
    web = web_client_for(alice)
    response = web.get(reverse("documents:thumbnail", args=[photo.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("inline;")
    assert response["Cache-Control"].startswith("private")
    with Image.open(io.BytesIO(b"".join(response.streaming_content))) as image:
        assert max(image.size) <= 320
    assert web.get(reverse("documents:thumbnail", args=[pdf.pk])).status_code == 404


@pytest.mark.parametrize("view", ["download", "thumbnail"])
def test_outsider_and_anonymous_cannot_fetch_files(web_client_for, charlie, photo, view):
    url = reverse(f"documents:{view}", args=[photo.pk])
    assert web_client_for(charlie).get(url).status_code == 404
    anonymous = DjangoClient().get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("view", ["download", "thumbnail"])
def test_deleted_documents_are_gone_for_everyone(web_client_for, ada, alice, photo, view):
    from kartoteka.documents.services import document_delete

    document_delete(actor=alice, document=photo)
    url = reverse(f"documents:{view}", args=[photo.pk])
    assert web_client_for(alice).get(url).status_code == 404
    assert web_client_for(ada).get(url).status_code == 404


def test_read_only_user_can_download_but_not_upload_or_delete(web_client_for, rita, card, pdf):
    web = web_client_for(rita)
    assert web.get(reverse("documents:download", args=[pdf.pk])).status_code == 200
    changes = ObjectChange.objects.count()

    upload_response = web.post(
        section_url(card), form_data(file=upload("a.pdf", pdf_bytes())), **HTMX
    )
    delete_response = web.post(reverse("documents:delete", args=[pdf.pk]), **HTMX)

    assert upload_response.status_code == 403
    assert delete_response.status_code == 403
    assert Document.objects.count() == 1
    pdf.refresh_from_db()
    assert pdf.is_deleted is False
    assert ObjectChange.objects.count() == changes


def test_media_files_have_no_public_url(settings, pdf):
    """Nothing in the URL configuration serves the storage directory."""
    from django.views.static import serve

    def callbacks(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from callbacks(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                yield pattern.callback

    assert serve not in list(callbacks(get_resolver().url_patterns))
    assert not settings.MEDIA_URL or settings.MEDIA_URL in ("/", "")
    assert DjangoClient().get("/media/" + pdf.file.name).status_code in (302, 404)


# --- Delete -----------------------------------------------------------------------------------


def test_delete_confirmation_page_then_delete(web_client_for, alice, card, pdf):
    web = web_client_for(alice)
    url = reverse("documents:delete", args=[pdf.pk])
    page = web.get(url)
    assert page.status_code == 200
    assert "Договор оказания услуг" in page.content.decode()
    pdf.refresh_from_db()
    assert pdf.is_deleted is False

    response = web.post(url)
    assert response.status_code == 302
    assert response["Location"] == card.get_absolute_url() + "#section-documents"
    pdf.refresh_from_db()
    assert pdf.is_deleted is True


def test_htmx_delete_answers_with_the_section(web_client_for, alice, card, pdf):
    response = web_client_for(alice).post(reverse("documents:delete", args=[pdf.pk]), **HTMX)
    assert response.status_code == 200
    assert response["HX-Trigger"] == "card-changed"
    assert "Договор оказания услуг" not in response.content.decode()
    assert TimelineEvent.objects.filter(kind="document").count() == 0


# --- Authorization matrix -------------------------------------------------------------------

ROLES = ["ada", "mallory", "alice", "bob", "charlie", "rita", "anonymous"]
#             section upload  download delete
EXPECTED = {
    "ada": (200, "ok", 200, "ok"),
    "mallory": (200, "ok", 200, "ok"),
    "alice": (200, "ok", 200, "ok"),
    "bob": (200, "ok", 200, "ok"),
    "charlie": (404, 404, 404, 404),
    "rita": (200, 403, 200, 403),
    "anonymous": ("login", "login", "login", "login"),
}
ACTIONS = ["section", "upload", "download", "delete"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
def test_authorization_matrix(role, action, users, card, pdf):
    expected = EXPECTED[role][ACTIONS.index(action)]
    web = DjangoClient()
    if role != "anonymous":
        web.force_login(users[role])
    documents, changes, events = (
        Document.objects.count(),
        ObjectChange.objects.count(),
        TimelineEvent.objects.count(),
    )

    if action == "section":
        response = web.get(section_url(card), **HTMX)
    elif action == "upload":
        response = web.post(section_url(card), form_data(file=upload("m.pdf", pdf_bytes())), **HTMX)
    elif action == "download":
        response = web.get(reverse("documents:download", args=[pdf.pk]))
    else:
        response = web.post(reverse("documents:delete", args=[pdf.pk]), **HTMX)

    pdf.refresh_from_db()
    if expected == "login":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
    elif expected == "ok":
        assert response.status_code == 200
        assert response["HX-Trigger"] == "card-changed"
        if action == "upload":
            assert Document.objects.count() == documents + 1
            assert Document.objects.latest("pk").uploaded_by == users[role]
        else:
            assert pdf.is_deleted is True
        return
    else:
        assert response.status_code == expected
    if action in ("upload", "delete"):
        assert Document.objects.count() == documents
        assert ObjectChange.objects.count() == changes
        assert TimelineEvent.objects.count() == events
        assert pdf.is_deleted is False
