"""Field-level access of health data, door by door: a canary in a health note reaches only
users with health access who may see the card (the care section and the health-notes API),
and no one through the card page, the client API, the timeline, exports (XLSX, CSV, vCard,
whoever exports) or search.
"""

import io
import json
import zipfile

import pytest
from django.test import Client as DjangoClient
from django.urls import reverse

from kartoteka.care import health
from kartoteka.clients.tests.factories import make_person
from kartoteka.exports import services as export_services
from kartoteka.search.models import SearchEntry

pytestmark = pytest.mark.django_db

CANARY = "Ксимелофлоксофобия"
NOTE = f"Непереносимость: {CANARY}, анафилаксия"
HTMX = {"HTTP_HX_REQUEST": "true"}
ROLES = ["ada", "mallory", "alice", "bob", "charlie", "rita", "anonymous"]
WITH_HEALTH_ACCESS = {"ada", "alice"}  # ada: administrators by default; alice: granted
SEES_CARD = {"ada", "mallory", "alice", "bob", "rita"}


@pytest.fixture(autouse=True)
def key_file(tmp_path, settings):
    settings.KARTOTEKA_ENCRYPTION_KEY_FILE = tmp_path / "keys"


@pytest.fixture
def card(users):
    users["alice"].health_access = True
    users["alice"].save(update_fields=["health_access"])
    card = make_person(users["alice"], last_name="Скрытнова", first_name="Вера")
    try:
        from kartoteka.consent.tests.factories import give_health_consent
    except ImportError:  # no consent gate in this build
        pass
    else:
        give_health_consent(card)
    health.health_note_create(actor=users["ada"], client=card, kind="allergy", text=NOTE)
    return card


def leaks(content: bytes) -> bool:
    forms = [CANARY.encode(), json.dumps(CANARY)[1:-1].encode()]
    return any(form in content for form in forms)


def client_for(role, users, web_client_for, api_client_for, *, api: bool) -> DjangoClient:
    if role == "anonymous":
        return DjangoClient()
    return (api_client_for if api else web_client_for)(users[role])


@pytest.mark.parametrize("role", ROLES)
def test_web_card_page_and_care_section(role, users, card, web_client_for, api_client_for):
    web = client_for(role, users, web_client_for, api_client_for, api=False)

    page = web.get(card.get_absolute_url())
    care = web.get(reverse("care:client-care", args=[card.pk]), **HTMX)

    assert not leaks(page.content)  # the card page itself never carries the text
    if role in WITH_HEALTH_ACCESS:
        assert care.status_code == 200
        assert leaks(care.content)
    else:
        assert not leaks(care.content)
        expected = 200 if role in SEES_CARD else (404 if role != "anonymous" else 302)
        assert care.status_code == expected


@pytest.mark.parametrize("role", ROLES)
def test_api_card_timeline_and_care_endpoints(role, users, card, web_client_for, api_client_for):
    api = client_for(role, users, web_client_for, api_client_for, api=True)
    base = f"/api/v1/clients/{card.pk}"

    for url in [base, f"{base}/timeline", f"{base}/surveys", f"{base}/recommendations"]:
        response = api.get(url)
        assert not leaks(response.content), url

    notes = api.get(f"{base}/health-notes")
    if role in WITH_HEALTH_ACCESS:
        assert notes.status_code == 200
        assert [item["text"] for item in notes.json()] == [NOTE]
    else:
        expected = {"anonymous": 401}.get(role, 403 if role in SEES_CARD else 404)
        assert notes.status_code == expected
        assert not leaks(notes.content)


def _export_text(export) -> str:
    with export.file.open("rb") as handle:
        data = handle.read()
    if export.format != "xlsx":
        return data.decode("cp1251" if export.format == "csv_1251" else "utf-8")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:  # the cells live in compressed XML
        return "".join(archive.read(name).decode("utf-8") for name in archive.namelist())


@pytest.mark.parametrize("role", ["ada", "alice", "bob", "mallory"])
@pytest.mark.parametrize("fmt", ["xlsx", "csv", "vcard"])
def test_exports_never_carry_health_data(role, fmt, users, card):
    export = export_services.export_create(actor=users[role], format=fmt)

    text = _export_text(export)
    assert "Скрытнова" in text  # the card is in it...
    assert CANARY not in text  # ...its health note is not, whoever exports


@pytest.mark.parametrize("role", ROLES)
def test_search_does_not_find_a_card_by_its_health_note(
    role, users, card, web_client_for, api_client_for
):
    assert not SearchEntry.objects.filter(document__icontains=CANARY[:8]).exists()
    web = client_for(role, users, web_client_for, api_client_for, api=False)
    api = client_for(role, users, web_client_for, api_client_for, api=True)

    found = web.get(reverse("clients:list"), {"q": CANARY})
    listed = api.get("/api/v1/clients/", {"q": CANARY})

    assert card.get_absolute_url().encode() not in found.content
    assert "анафилаксия" not in found.content.decode()  # (the query itself is echoed back)
    if role != "anonymous":
        assert listed.status_code == 200
        assert listed.json()["items"] == []
    # The card is findable by its name, so the empty answer above means something.
    if role in SEES_CARD:
        by_name = api.get("/api/v1/clients/", {"q": "Скрытнова"})
        assert [item["id"] for item in by_name.json()["items"]] == [card.pk]
