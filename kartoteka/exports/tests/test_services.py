"""Exports end to end through the services and the web: real files, visibility, audit,
permissions per role, the background path with progress, saved searches."""

import csv
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from kartoteka.care.health import health_note_create
from kartoteka.clients.models import Client
from kartoteka.consent.tests.factories import give_health_consent
from kartoteka.core.models import ObjectChange
from kartoteka.exports import selectors, services
from kartoteka.exports.models import Export, SavedSearch
from kartoteka.exports.tests.vcard_reader import read_cards, split_unescaped

EVIL = '=HYPERLINK("http://x","y")'


def _content(export: Export) -> bytes:
    with export.file.open("rb") as handle:
        return handle.read()


def _sheet_rows(export: Export) -> list[list]:
    sheet = load_workbook(io.BytesIO(_content(export))).active
    return [[c.value for c in row] for row in sheet.iter_rows()]


def test_xlsx_export_of_what_alice_sees(alice, cards):
    export = services.export_create(actor=alice, format="xlsx")
    assert export.status == Export.Status.DONE
    assert not export.background
    rows = _sheet_rows(export)
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Card number", "Kind", "Name"]
    names = {r[header.index("Name")] for r in body}
    assert "Иванова Мария Петровна" in names
    assert "王小明" in names
    assert "Скрытый Чужой" not in names  # charlie's card: not alice's to see
    assert export.row_count == 4
    maria = next(r for r in body if r[header.index("Name")] == "Иванова Мария Петровна")
    assert maria[header.index("Phones")] == "+7 916 123-45-67, +7 495 123-45-67"
    assert maria[header.index("Emails")] == "maria@example.com"
    assert maria[header.index("Company")] == "Ромашка"
    assert maria[header.index("Card number")] == cards["person"].card_number
    company = next(r for r in body if r[header.index("Name")] == "Ромашка")
    assert company[header.index("INN")] == "7707083893"
    evil = next(r for r in body if r[header.index("Given name")] == "Eve")
    assert evil[header.index("Surname")] == "'" + EVIL
    assert evil[header.index("Notes")] == "'" + EVIL
    assert all(not str(v).startswith("=") for r in rows for v in r if v is not None)


def test_export_is_in_the_change_log(alice, cards):
    export = services.export_create(actor=alice, format="csv", query="status=lead")
    change = ObjectChange.objects.get(object_id=export.pk, action="export")
    assert change.actor == alice
    assert change.after == {"format": "csv", "filters": "status=lead", "background": False}


def test_filters_apply_like_the_list(alice, cards):
    services.export_create(actor=alice, format="csv", query="kind=company")
    export = Export.objects.latest("pk")
    parsed = list(csv.reader(io.StringIO(_content(export).decode("utf-8"))))
    assert len(parsed) == 2
    assert parsed[1][2] == "Ромашка"


def test_cp1251_csv_with_chinese_name_and_health_notes_absent(alice, cards):
    alice.health_access = True
    alice.save(update_fields=["health_access"])
    give_health_consent(cards["chinese"])
    health_note_create(actor=alice, client=cards["chinese"], kind="allergy", text="Penicillin X9")
    export = services.export_create(actor=alice, format="csv_1251")
    raw = _content(export)
    text = raw.decode("cp1251")
    parsed = list(csv.reader(io.StringIO(text), delimiter=";"))
    names = [row[2] for row in parsed[1:]]
    assert "Wang Xiao Ming" in names
    assert "Иванова Мария Петровна" in names
    assert export.replaced == 3  # name, surname and given name of 王小明
    assert "Penicillin" not in text
    for fmt in ("xlsx", "csv", "vcard"):
        other = services.export_create(actor=alice, format=fmt)
        assert b"Penicillin" not in _content(other)


def test_vcard_export_parses_back(alice, cards):
    export = services.export_create(actor=alice, format="vcard")
    parsed = read_cards(_content(export).decode("utf-8"))
    assert len(parsed) == 4
    maria = next(c for c in parsed if "Иванова" in c["N"][0])
    assert maria["TEL"] == ["+7 916 123-45-67", "+7 495 123-45-67"]
    assert split_unescaped(maria["TITLE"][0], ";") == ["Главный бухгалтер; финансы"]
    assert split_unescaped(maria["NOTE"][0], ";") == ["Звонить после 10:00,\nлучше на мобильный"]
    assert maria["ORG"] == ["Ромашка"]
    company = next(c for c in parsed if "X-ABSHOWAS" in c)
    assert split_unescaped(company["ORG"][0], ";") == ["ООО «Ромашка»"]


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("ada", True), ("mallory", True), ("alice", True), ("bob", True), ("rita", False)],
)
def test_who_may_export(users, cards, role, allowed):
    user = users[role]
    if allowed:
        export = services.export_create(actor=user, format="csv")
        assert export.status == Export.Status.DONE
    else:
        with pytest.raises(PermissionDenied):
            services.export_create(actor=user, format="csv")
        assert not Export.objects.exists()


def test_bad_format_and_filters_are_refused(alice, cards):
    with pytest.raises(ValidationError) as exc:
        services.export_create(actor=alice, format="pdf")
    assert "format" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.export_create(actor=alice, format="csv", query="status=nonsense")
    assert "status" in exc.value.message_dict
    assert not Export.objects.exists()


def test_background_export_reports_progress(alice, cards, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        export = services.export_create(actor=alice, format="xlsx", background=True)
    export.refresh_from_db()
    assert export.background
    assert export.status == Export.Status.DONE
    assert export.expected_rows == 4
    assert export.row_count == 4
    assert export.progress == 100
    assert len(_sheet_rows(export)) == 5


def test_pages_are_walked_with_flat_queries(
    alice, cards, monkeypatch, django_assert_max_num_queries
):
    from kartoteka.clients.tests.factories import make_person

    for index in range(7):
        make_person(alice, last_name=f"Петров{index}")
    monkeypatch.setattr(selectors, "PAGE_SIZE", 3)
    with django_assert_max_num_queries(60) as few:
        rows = list(selectors.export_rows(user=alice, query=""))
    assert len(rows) == 11
    for index in range(12):
        make_person(alice, last_name=f"Сидоров{index}")
    monkeypatch.setattr(selectors, "PAGE_SIZE", 6)
    with django_assert_max_num_queries(len(few.captured_queries)):
        rows = list(selectors.export_rows(user=alice, query=""))
    assert len(rows) == 23


def test_failed_export_is_marked(alice, cards, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("disk full")
        yield  # pragma: no cover

    monkeypatch.setattr(selectors, "export_rows", broken)
    export = services.export_create(actor=alice, format="csv")
    assert export.status == Export.Status.FAILED
    assert "disk full" in export.error
    assert not export.file


# --- web ------------------------------------------------------------------------------------


def test_web_export_download_only_by_owner_or_admin(users, cards, web_client_for):
    alice = users["alice"]
    response = web_client_for(alice).post(
        reverse("exports:new"), {"format": "xlsx", "query": "kind=person&status=lead"}
    )
    export = Export.objects.get()
    assert response.status_code == 302
    assert response["Location"] == export.get_absolute_url()
    page = web_client_for(alice).get(export.get_absolute_url())
    assert "Download" in page.content.decode()
    url = reverse("exports:download", args=[export.public_id])
    download = web_client_for(alice).get(url)
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    body = b"".join(download.streaming_content)
    assert len(_rows_from(body)) == 4  # header + 3 people
    assert web_client_for(users["ada"]).get(url).status_code == 200
    for name in ("bob", "mallory", "charlie", "rita"):
        assert web_client_for(users[name]).get(url).status_code == 404


def _rows_from(body: bytes) -> list:
    sheet = load_workbook(io.BytesIO(body)).active
    return list(sheet.iter_rows(values_only=True))


def test_web_read_only_cannot_export(rita, cards, web_client_for):
    client = web_client_for(rita)
    menu = client.get(reverse("exports:new"), {"status": "lead"}, headers={"HX-Request": "true"})
    assert "does not allow exporting" in menu.content.decode()
    response = client.post(reverse("exports:new"), {"format": "csv", "query": ""})
    assert response.status_code == 403
    assert not Export.objects.exists()


def test_web_menu_carries_the_list_filters(alice, cards, web_client_for):
    response = web_client_for(alice).get(
        reverse("exports:new"),
        {"kind": "person", "q": "", "status": ["lead", "key"]},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert 'value="kind=person&amp;status=lead&amp;status=key"' in html
    assert "Lead, Key client" in html


def test_client_list_has_the_export_button(alice, cards, web_client_for):
    html = web_client_for(alice).get(reverse("clients:list")).content.decode()
    assert 'id="export-menu-button"' in html


def test_progress_fragment_polls_until_done(alice, cards, web_client_for):
    export = Export.objects.create(owner=alice, format="csv", expected_rows=10, row_count=5)
    client = web_client_for(alice)
    fragment = client.get(
        export.get_absolute_url(), {"part": "progress"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert 'hx-trigger="every 1s"' in fragment
    assert "50%" in fragment
    services.export_run(export_pk=export.pk)
    fragment = client.get(
        export.get_absolute_url(), {"part": "progress"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert "every 1s" not in fragment
    assert "export-download" in fragment


# --- saved searches -------------------------------------------------------------------------


def test_saved_searches_own_and_shared(alice, bob, charlie, cards):
    mine = services.saved_search_create(actor=alice, name="Leads", query="status=lead&cursor=x")
    assert mine.query == "status=lead"
    services.saved_search_create(actor=alice, name="Team leads", query="status=lead", shared=True)
    assert [s.name for s in selectors.saved_search_list(user=alice)] == ["Leads", "Team leads"]
    assert [s.name for s in selectors.saved_search_list(user=bob)] == ["Team leads"]
    assert list(selectors.saved_search_list(user=charlie)) == []
    with pytest.raises(ValidationError) as exc:
        services.saved_search_create(actor=alice, name="Leads", query="")
    assert "name" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        services.saved_search_delete(actor=bob, search=mine)
    export = services.export_create(actor=bob, format="csv", saved_search=mine)
    # bob exports alice's filters with his own visibility
    assert export.query == "status=lead"
    services.saved_search_delete(actor=alice, search=mine)
    assert not SavedSearch.objects.filter(pk=mine.pk).exists()


def test_web_save_and_delete_search(rita, cards, web_client_for):
    client = web_client_for(rita)  # read-only users may still save searches
    response = client.post(
        reverse("exports:search-create"), {"name": "Mine", "query": "kind=company"}
    )
    search = SavedSearch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("clients:list") + "?kind=company"
    client.post(
        reverse("exports:search-delete", args=[search.pk]), {"next": "https://evil.example/"}
    )
    assert not SavedSearch.objects.exists()
    assert Client.objects.count() == 5
