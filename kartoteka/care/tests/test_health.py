"""Health notes, special-category data: who sees them, that every view and change is recorded,
and that the text never leaks (web, API, change log, timeline, search, error messages)."""

import json
import pathlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import Client as DjangoClient
from django.urls import reverse

from kartoteka.activities.models import TimelineEvent
from kartoteka.care import health
from kartoteka.care.models import HealthAccessLog, HealthNote
from kartoteka.clients.tests.factories import make_person
from kartoteka.consent.tests.factories import give_health_consent
from kartoteka.core.context import change_context
from kartoteka.core.models import ObjectChange

pytestmark = pytest.mark.django_db

SECRET = "Аллергия на пенициллин — анафилаксия"
HTMX = {"HTTP_HX_REQUEST": "true"}


def grant(*users) -> None:
    for user in users:
        user.health_access = True
        user.save(update_fields=["health_access"])


@pytest.fixture
def card(alice):
    card = make_person(alice, last_name="Пациентова")
    give_health_consent(card)  # health data is entered only under the client's consent
    return card


@pytest.fixture
def note(card, ada):
    note, _text = health.health_note_create(actor=ada, client=card, kind="allergy", text=SECRET)
    return note


def shows_secret(content: bytes) -> bool:
    """Is the secret (or a telling piece of it) in a response body, as UTF-8 or JSON-escaped?"""
    pieces = [SECRET, "пенициллин"]
    forms = [piece.encode() for piece in pieces]
    forms += [json.dumps(piece)[1:-1].encode() for piece in pieces]
    return any(form in content for form in forms)


def views_of(card) -> list[HealthAccessLog]:
    return list(HealthAccessLog.objects.filter(client=card, action="view").order_by("pk"))


def leaked_anywhere() -> bool:
    """Is the secret in the change log or the timeline?"""
    in_changes = any(
        SECRET in str(row)
        for row in ObjectChange.objects.values_list("before", "after", "message", "object_repr")
    )
    in_timeline = any(
        SECRET in str(row) for row in TimelineEvent.objects.values_list("title", "summary")
    )
    return in_changes or in_timeline


# --- Access rule ------------------------------------------------------------------------------


def test_access_needs_the_card_and_the_health_flag(users, card):
    grant(users["alice"], users["charlie"], users["rita"])

    readers = {name for name, user in users.items() if health.can_access_health(user, card)}
    writers = {name for name, user in users.items() if health.can_change_health(user, card)}

    assert users["ada"].health_access is True  # administrators have it by default
    assert readers == {"ada", "alice", "rita"}
    assert writers == {"ada", "alice"}


def test_anonymous_has_no_access(card):
    from django.contrib.auth.models import AnonymousUser

    assert health.can_access_health(AnonymousUser(), card) is False


# --- Reads ------------------------------------------------------------------------------------


def test_reading_returns_text_by_kind_and_records_one_view(ada, card):
    health.health_note_create(actor=ada, client=card, kind="preference", text="Без латекса")
    health.health_note_create(actor=ada, client=card, kind="allergy", text="Пыльца")
    HealthAccessLog.objects.all().delete()

    with change_context(channel="cli"):
        notes = health.health_notes_for(user=ada, client=card)

    assert [(n.kind, text) for n, text in notes] == [
        ("allergy", "Пыльца"),
        ("preference", "Без латекса"),
    ]
    [view] = views_of(card)
    assert (view.user, view.action, view.channel) == (ada, "view", "cli")
    assert HealthAccessLog.objects.count() == 1


def test_an_empty_list_is_a_view_too(ada, card):
    assert health.health_notes_for(user=ada, client=card) == []
    assert len(views_of(card)) == 1


def test_reading_without_access_is_refused_and_records_nothing(bob, card, note):
    HealthAccessLog.objects.all().delete()

    with pytest.raises(PermissionDenied) as caught:
        health.health_notes_for(user=bob, client=card)
    with pytest.raises(PermissionDenied):
        health.health_note_get(user=bob, client=card, pk=note.pk)

    assert SECRET not in str(caught.value)
    assert HealthAccessLog.objects.count() == 0
    assert health.health_note_count(user=bob, client=card) == 1
    assert HealthAccessLog.objects.count() == 0


def test_one_note_of_another_card_is_404(ada, alice, note):
    other = make_person(alice, last_name="Другой")

    with pytest.raises(Http404):
        health.health_note_get(user=ada, client=other, pk=note.pk)
    with pytest.raises(Http404):
        health.health_note_ref(user=ada, client=other, pk=note.pk)


# --- Writes -----------------------------------------------------------------------------------


def test_writes_record_access_rows_and_log_changes_without_the_text(ada, card):
    with change_context(channel="web"):
        note, text = health.health_note_create(
            actor=ada, client=card, kind="allergy", text=f"  {SECRET}  "
        )
        assert text == SECRET
        health.health_note_update(actor=ada, note=note, kind="contraindication", text=SECRET + "!")
        health.health_note_update(actor=ada, note=note, text=SECRET + "?")
        health.health_note_delete(actor=ada, note=note)

    assert list(
        HealthAccessLog.objects.order_by("pk").values_list("action", "channel", "user")
    ) == [
        ("create", "web", ada.pk),
        ("update", "web", ada.pk),
        ("update", "web", ada.pk),
        ("delete", "web", ada.pk),
    ]
    changes = list(ObjectChange.objects.filter(content_type__model="healthnote").order_by("pk"))
    assert [c.action for c in changes] == ["create", "update", "update", "delete"]
    assert all(c.message == "health note changed" for c in changes)
    assert changes[0].after == {"client": card.pk, "kind": "allergy"}
    assert (changes[1].before, changes[1].after) == (
        {"kind": "allergy"},
        {"kind": "contraindication"},
    )
    assert changes[0].object_repr == "Allergy"
    assert not leaked_anywhere()
    assert TimelineEvent.objects.exclude(kind="consent").count() == 0  # the consent has its line
    assert HealthNote.objects.count() == 0


def test_update_stores_the_text(ada, note):
    note = health.health_note_ref(user=ada, client=note.client, pk=note.pk)

    _note, text = health.health_note_update(actor=ada, note=note, text="Пыльца берёзы")

    assert text == "Пыльца берёзы"
    assert health.health_note_get(user=ada, client=note.client, pk=note.pk)[1] == "Пыльца берёзы"
    assert HealthNote.objects.get().kind == "allergy"


@pytest.mark.parametrize(
    ("kind", "text", "field", "code"),
    [
        ("allergy", "   ", "text", "required"),
        ("allergy", SECRET * 200, "text", "max_length"),
        ("horoscope", SECRET, "kind", "invalid_choice"),
    ],
)
def test_invalid_notes_are_refused_without_quoting_the_text(ada, card, kind, text, field, code):
    with pytest.raises(ValidationError) as caught:
        health.health_note_create(actor=ada, client=card, kind=kind, text=text)

    assert [e.code for e in caught.value.error_dict[field]] == [code]
    assert SECRET not in str(caught.value.messages)
    assert HealthNote.objects.count() == 0
    assert HealthAccessLog.objects.count() == 0


def test_failed_update_keeps_the_kind(ada, note):
    with pytest.raises(ValidationError):
        health.health_note_update(actor=ada, note=note, kind="allergy", text="")

    assert note.kind == "allergy"
    assert HealthAccessLog.objects.filter(action="update").count() == 0


@pytest.mark.parametrize("role", ["bob", "rita", "charlie", "mallory"])
def test_writes_without_the_right_change_nothing(users, card, note, role):
    user = users[role]
    if role in ("rita", "charlie"):
        grant(user)  # health access alone is not enough: read-only / outsider
    HealthAccessLog.objects.all().delete()
    log_size = ObjectChange.objects.count()

    with pytest.raises(PermissionDenied):
        health.health_note_create(actor=user, client=card, kind="allergy", text="x")
    with pytest.raises(PermissionDenied):
        health.health_note_update(actor=user, note=note, text="x")
    with pytest.raises(PermissionDenied):
        health.health_note_delete(actor=user, note=note)

    assert HealthNote.objects.count() == 1
    assert health.health_notes_for(user=users["ada"], client=card)[0][1] == SECRET
    assert ObjectChange.objects.count() == log_size
    assert HealthAccessLog.objects.exclude(action="view").count() == 0


def test_the_text_passes_through_seal_and_unseal(ada, card, monkeypatch):
    monkeypatch.setattr(health, "_seal", lambda text: "sealed:" + text[::-1])
    monkeypatch.setattr(health, "_unseal", lambda stored: stored.removeprefix("sealed:")[::-1])

    note, _text = health.health_note_create(actor=ada, client=card, kind="chronic", text="Астма")

    assert HealthNote.objects.get().stored_text == "sealed:амтсА"
    assert health.health_notes_for(user=ada, client=card)[0][1] == "Астма"
    assert health.health_note_get(user=ada, client=card, pk=note.pk)[1] == "Астма"


def test_only_care_health_reads_or_writes_the_stored_text():
    root = pathlib.Path(health.__file__).resolve().parents[1]
    allowed = {
        root / "care" / "health.py",
        root / "care" / "models.py",
        root / "care" / "admin.py",  # defers it, so the admin never loads it
    }
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "stored_text" in path.read_text(encoding="utf-8")
        and path not in allowed
        and "migrations" not in path.parts
        and "tests" not in path.parts
    ]

    assert offenders == []


# --- Web --------------------------------------------------------------------------------------


def care_url(card) -> str:
    return reverse("care:client-care", args=[card.pk])


def test_web_without_access_shows_the_count_never_the_text(bob, card, note, web_client_for):
    HealthAccessLog.objects.all().delete()

    response = web_client_for(bob).get(care_url(card), **HTMX)

    assert response.status_code == 200
    assert not shows_secret(response.content)
    assert "1 health note — restricted" in response.content.decode()
    assert reverse("care:health-note-create", args=[card.pk]) not in response.content.decode()
    assert HealthAccessLog.objects.count() == 0


def test_web_with_access_shows_the_text_and_records_each_view(ada, card, note, web_client_for):
    HealthAccessLog.objects.all().delete()
    web = web_client_for(ada)

    first = web.get(care_url(card), **HTMX)

    assert first.status_code == 200
    html = first.content.decode()
    assert SECRET in html
    assert "health-allergy alert alert-error" in html
    [view] = views_of(card)
    assert (view.user, view.channel) == (ada, "web")

    web.get(care_url(card), **HTMX)

    assert len(views_of(card)) == 2


def test_web_edit_form_is_a_recorded_view(ada, card, note, web_client_for):
    HealthAccessLog.objects.all().delete()
    url = reverse("care:health-note-edit", args=[card.pk, note.pk])

    response = web_client_for(ada).get(url, **HTMX)

    assert response.status_code == 200
    assert SECRET in response.content.decode()
    assert len(views_of(card)) == 1


def test_web_edit_page_without_javascript_is_one_recorded_view(ada, card, note, web_client_for):
    HealthAccessLog.objects.all().delete()
    url = reverse("care:health-note-edit", args=[card.pk, note.pk])

    response = web_client_for(ada).get(url)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert f'name="health-{note.pk}-text"' in html
    assert SECRET in html
    assert len(views_of(card)) == 1


def test_web_edit_saves_or_shows_errors_in_place(ada, card, note, web_client_for):
    url = reverse("care:health-note-edit", args=[card.pk, note.pk])
    web = web_client_for(ada)
    HealthAccessLog.objects.all().delete()

    invalid = web.post(
        url, {f"health-{note.pk}-kind": "allergy", f"health-{note.pk}-text": ""}, **HTMX
    )

    assert invalid.status_code == 200
    assert "HX-Trigger" not in invalid
    assert f'id="id_health-{note.pk}-text_errors"' in invalid.content.decode()
    assert HealthAccessLog.objects.filter(action="update").count() == 0

    saved = web.post(
        url, {f"health-{note.pk}-kind": "chronic", f"health-{note.pk}-text": "Астма"}, **HTMX
    )

    assert saved["HX-Trigger"] == "card-changed"
    assert health.health_note_get(user=ada, client=card, pk=note.pk)[1] == "Астма"
    assert HealthNote.objects.get().kind == "chronic"
    assert HealthAccessLog.objects.filter(action="update").count() == 1


def test_web_delete_confirmation_names_the_kind_only(ada, card, note, web_client_for):
    HealthAccessLog.objects.all().delete()
    url = reverse("care:health-note-delete", args=[card.pk, note.pk])

    response = web_client_for(ada).get(url)

    assert response.status_code == 200
    assert "Allergy" in response.content.decode()
    assert not shows_secret(response.content)
    assert HealthAccessLog.objects.count() == 0


def test_web_add_by_htmx_records_create_and_the_redrawn_view(ada, card, web_client_for):
    url = reverse("care:health-note-create", args=[card.pk])

    response = web_client_for(ada).post(
        url, {"health-kind": "allergy", "health-text": SECRET}, **HTMX
    )

    assert response.status_code == 200
    assert response["HX-Trigger"] == "card-changed"
    assert SECRET in response.content.decode()
    assert list(HealthAccessLog.objects.order_by("pk").values_list("action", "channel")) == [
        ("create", "web"),
        ("view", "web"),
    ]
    assert not leaked_anywhere()


def test_the_card_page_and_search_never_show_the_text(ada, bob, card, note, web_client_for):
    for user in (ada, bob):
        web = web_client_for(user)
        page = web.get(card.get_absolute_url())
        found = web.get(reverse("clients:list"), {"q": "пенициллин"})
        assert page.status_code == 200
        assert not shows_secret(page.content)
        assert found.status_code == 200
        assert card.get_absolute_url().encode() not in found.content


# --- API --------------------------------------------------------------------------------------


def api_url(card, note=None) -> str:
    url = f"/api/v1/clients/{card.pk}/health-notes"
    return f"{url}/{note.pk}" if note is not None else url


def test_api_without_access_is_403_everywhere_while_the_card_reads_fine(
    bob, card, note, api_client_for
):
    api = api_client_for(bob)
    HealthAccessLog.objects.all().delete()
    log_size = ObjectChange.objects.count()

    responses = [
        api.get(api_url(card)),
        api.get(api_url(card, note)),
        api.post(api_url(card), {"kind": "allergy", "text": "x"}, content_type="application/json"),
        api.patch(api_url(card, note), {"text": "x"}, content_type="application/json"),
        api.delete(api_url(card, note)),
    ]

    assert [r.status_code for r in responses] == [403] * 5
    assert all(r.json()["code"] == "permission_denied" for r in responses)
    assert all(not shows_secret(r.content) for r in responses)
    card_response = api.get(f"/api/v1/clients/{card.pk}")
    assert card_response.status_code == 200
    assert not shows_secret(card_response.content)
    assert HealthAccessLog.objects.count() == 0
    assert ObjectChange.objects.count() == log_size
    assert HealthNote.objects.get().pk == note.pk


def test_api_with_access_lists_and_records_one_view_per_call(ada, card, note, api_client_for):
    api = api_client_for(ada)
    HealthAccessLog.objects.all().delete()

    listed = api.get(api_url(card))

    assert listed.status_code == 200
    [row] = listed.json()
    assert row["id"] == note.pk
    assert (row["kind"], row["text"]) == ("allergy", SECRET)
    assert row["author"] == {"id": ada.pk, "name": "Ada"}
    [view] = views_of(card)
    assert (view.user, view.channel) == (ada, "api")

    one = api.get(api_url(card, note))

    assert one.status_code == 200
    assert one.json() == row
    assert len(views_of(card)) == 2


def test_api_writes_record_their_rows(ada, card, api_client_for):
    api = api_client_for(ada)

    created = api.post(
        api_url(card), {"kind": "chronic", "text": "Диабет"}, content_type="application/json"
    )
    note = HealthNote.objects.get()
    patched = api.patch(
        api_url(card, note), {"kind": "contraindication"}, content_type="application/json"
    )
    deleted = api.delete(api_url(card, note))

    assert created.status_code == 201
    assert created.json()["text"] == "Диабет"
    assert patched.status_code == 200
    assert (patched.json()["kind"], patched.json()["text"]) == ("contraindication", "Диабет")
    assert deleted.status_code == 204
    assert list(HealthAccessLog.objects.order_by("pk").values_list("action", "channel")) == [
        ("create", "api"),
        ("update", "api"),
        ("delete", "api"),
    ]


def test_api_validation_error_does_not_quote_the_text(ada, card, api_client_for):
    response = api_client_for(ada).post(
        api_url(card), {"kind": "allergy", "text": SECRET * 200}, content_type="application/json"
    )

    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("text", "max_length")]
    assert not shows_secret(response.content)


def test_api_search_never_finds_the_text(ada, card, note, api_client_for):
    response = api_client_for(ada).get("/api/v1/clients/", {"q": "пенициллин"})

    assert response.status_code == 200
    assert response.json()["items"] == []


# --- Authorization matrix (web and API) -------------------------------------------------------

ROLES = ["ada", "mallory", "alice", "bob", "charlie", "rita", "anonymous"]
WITH_ACCESS = {"ada", "alice", "charlie", "rita"}  # ada by default, the others granted here
# action -> expected per role. The card belongs to alice (responsible) in team North.
WEB_EXPECTED = {
    "view": {"ada": "text", "mallory": "count", "alice": "text", "bob": "count",
             "charlie": 404, "rita": "text", "anonymous": "login"},
    "create": {"ada": "ok", "mallory": 403, "alice": "ok", "bob": 403,
               "charlie": 404, "rita": 403, "anonymous": "login"},
    "edit": {"ada": "ok", "mallory": 403, "alice": "ok", "bob": 403,
             "charlie": 404, "rita": 403, "anonymous": "login"},
    "delete": {"ada": "ok", "mallory": 403, "alice": "ok", "bob": 403,
               "charlie": 404, "rita": 403, "anonymous": "login"},
}  # fmt: skip
API_EXPECTED = {
    "list": {"ada": 200, "mallory": 403, "alice": 200, "bob": 403,
             "charlie": 404, "rita": 200, "anonymous": 401},
    "get": {"ada": 200, "mallory": 403, "alice": 200, "bob": 403,
            "charlie": 404, "rita": 200, "anonymous": 401},
    "create": {"ada": 201, "mallory": 403, "alice": 201, "bob": 403,
               "charlie": 404, "rita": 403, "anonymous": 401},
    "update": {"ada": 200, "mallory": 403, "alice": 200, "bob": 403,
               "charlie": 404, "rita": 403, "anonymous": 401},
    "delete": {"ada": 204, "mallory": 403, "alice": 204, "bob": 403,
               "charlie": 404, "rita": 403, "anonymous": 401},
}  # fmt: skip


@pytest.fixture
def matrix(users, card, note):
    grant(users["alice"], users["charlie"], users["rita"])
    HealthAccessLog.objects.all().delete()
    return card, note


def _unchanged(note, log_size) -> None:
    assert HealthNote.objects.count() == 1
    assert HealthNote.objects.get().kind == note.kind
    assert health.health_notes_for(user=note.author, client=note.client)[0][1] == SECRET
    assert ObjectChange.objects.count() == log_size


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(WEB_EXPECTED))
def test_web_authorization_matrix(role, action, users, matrix):
    card, note = matrix
    web = DjangoClient()
    if role != "anonymous":
        web.force_login(users[role])
    expected = WEB_EXPECTED[action][role]
    log_size = ObjectChange.objects.count()

    if action == "view":
        response = web.get(care_url(card), **HTMX)
    elif action == "create":
        url = reverse("care:health-note-create", args=[card.pk])
        response = web.post(url, {"health-kind": "chronic", "health-text": "Новое"}, **HTMX)
    elif action == "edit":
        url = reverse("care:health-note-edit", args=[card.pk, note.pk])
        data = {f"health-{note.pk}-kind": "preference", f"health-{note.pk}-text": "Иное"}
        response = web.post(url, data, **HTMX)
    else:
        response = web.post(reverse("care:health-note-delete", args=[card.pk, note.pk]), **HTMX)

    if expected == "login":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    elif expected in ("text", "count"):
        assert response.status_code == 200
        assert (shows_secret(response.content)) is (expected == "text")
        assert len(views_of(card)) == (1 if expected == "text" else 0)
        return
    elif expected == "ok":
        assert response.status_code == 200
        assert response["HX-Trigger"] == "card-changed"
        written = {"create": "create", "edit": "update", "delete": "delete"}[action]
        assert HealthAccessLog.objects.filter(action=written, user=users[role]).count() == 1
        return
    else:
        assert response.status_code == expected
        assert not shows_secret(response.content)
    assert HealthAccessLog.objects.count() == 0
    _unchanged(note, log_size)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(API_EXPECTED))
def test_api_authorization_matrix(role, action, users, matrix, api_client_for):
    card, note = matrix
    api = DjangoClient() if role == "anonymous" else api_client_for(users[role])
    expected = API_EXPECTED[action][role]
    log_size = ObjectChange.objects.count()
    json = "application/json"

    if action == "list":
        response = api.get(api_url(card))
    elif action == "get":
        response = api.get(api_url(card, note))
    elif action == "create":
        response = api.post(api_url(card), {"kind": "chronic", "text": "Новое"}, content_type=json)
    elif action == "update":
        response = api.patch(api_url(card, note), {"kind": "preference"}, content_type=json)
    else:
        response = api.delete(api_url(card, note))

    assert response.status_code == expected, response.content
    if expected < 400:
        if action in ("list", "get"):
            assert shows_secret(response.content)
            assert [(v.user, v.channel) for v in views_of(card)] == [(users[role], "api")]
        else:
            written = {"create": "create", "update": "update", "delete": "delete"}[action]
            assert list(HealthAccessLog.objects.values_list("action", "user")) == [
                (written, users[role].pk)
            ]
        return
    assert not shows_secret(response.content)
    assert HealthAccessLog.objects.count() == 0
    _unchanged(note, log_size)
