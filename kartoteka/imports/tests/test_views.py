import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kartoteka.clients.models import Client
from kartoteka.imports import services
from kartoteka.imports.models import Import
from kartoteka.imports.tests import files


def _upload(web, data: bytes = b"", name: str = "clients.csv"):
    return web.post(
        reverse("imports:list"),
        {"file": SimpleUploadedFile(name, data or files.russian_excel_csv())},
    )


def _settings(job: Import, **overrides) -> dict:
    data = {f"column_{k}": v for k, v in job.mapping.items()}
    data.update(
        match_by=job.match_by,
        on_match=job.on_match,
        default_kind=job.default_kind,
        responsible=job.responsible_id or "",
        team=job.team_id or "",
        encoding=job.encoding,
        delimiter=job.delimiter,
    )
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("username", "status"),
    [("ada", 200), ("alice", 200), ("mallory", 200), ("rita", 403)],
)
def test_import_page_per_role(users, web_client_for, username, status):
    response = web_client_for(users[username]).get(reverse("imports:list"))

    assert response.status_code == status


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(reverse("imports:list"))

    assert response.status_code == 302
    assert "/accounts/login" in response["Location"]


def test_nav_shows_import_only_to_those_who_may_create_cards(alice, rita, web_client_for):
    assert reverse("imports:list") in web_client_for(alice).get("/clients/").content.decode()
    assert reverse("imports:list") not in web_client_for(rita).get("/clients/").content.decode()


def test_read_only_user_cannot_upload(rita, web_client_for):
    response = _upload(web_client_for(rita))

    assert response.status_code == 403
    assert Import.objects.count() == 0


def test_upload_shows_the_mapping_screen_with_preview(alice, web_client_for):
    web = web_client_for(alice)

    response = _upload(web)

    job = Import.objects.get()
    assert response.status_code == 302
    assert response["Location"] == job.get_absolute_url()
    page = web.get(job.get_absolute_url()).content.decode()
    assert 'id="mapping-form"' in page
    assert 'name="column_0"' in page
    assert '<option value="full_name" selected>' in page
    # The preview shows rows as they will be saved: name split, phone in E.164 display form.
    assert "Иванов Иван Иванович" in page
    assert "+7 916 123-45-67" in page
    assert "ivanov@mail.ru" in page


def test_damaged_file_is_refused_with_a_clear_message(alice, web_client_for):
    response = _upload(web_client_for(alice), files.xlsx_bytes_merged_header()[:500], "a.xlsx")

    assert response.status_code == 400
    assert "damaged" in response.content.decode()
    assert Import.objects.count() == 0


def test_dry_run_then_import_then_undo_through_the_pages(
    alice, web_client_for, django_capture_on_commit_callbacks
):
    web = web_client_for(alice)
    rows = [*files.RU_ROWS, ["Плохой Телефон", "12345", "", "", "", "", ""]]
    _upload(web, files.russian_excel_csv(rows))
    job = Import.objects.get()
    url = job.get_absolute_url()

    with django_capture_on_commit_callbacks(execute=True):
        response = web.post(url, _settings(job, action="check"))

    assert response.status_code == 302
    page = web.get(url).content.decode()
    assert 'id="dry-run"' in page
    assert "12345" in page
    assert "is not a valid phone number" in page
    assert Client.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        web.post(url, _settings(job, action="start"))

    job.refresh_from_db()
    assert (job.status, job.created_count, job.error_count) == ("done", 3, 1)
    page = web.get(url).content.decode()
    assert 'id="undo-button"' in page
    assert 'id="row-errors"' in page

    with django_capture_on_commit_callbacks(execute=True):
        web.post(reverse("imports:undo", args=[job.pk]))

    job.refresh_from_db()
    assert job.status == "undone"
    assert Client.objects.count() == 0


def test_employee_cannot_assign_new_cards_to_a_colleague(alice, bob, web_client_for):
    web = web_client_for(alice)
    _upload(web)
    job = Import.objects.get()

    response = web.post(job.get_absolute_url(), _settings(job, responsible=bob.pk, action="start"))

    assert response.status_code == 200
    assert Client.objects.count() == 0
    job.refresh_from_db()
    assert (job.status, job.responsible_id) == ("uploaded", alice.pk)


def test_progress_fragment_polls_while_running(alice, web_client_for):
    web = web_client_for(alice)
    _upload(web)
    job = Import.objects.get()
    Import.objects.filter(pk=job.pk).update(status="running", total_rows=3, processed_rows=1)

    response = web.get(reverse("imports:progress", args=[job.pk]), headers={"HX-Request": "true"})

    content = response.content.decode()
    assert 'id="progress"' in content
    assert 'hx-trigger="every 1s"' in content
    assert "33%" in content
    assert "<html" not in content


def test_progress_asks_for_a_refresh_when_finished(alice, web_client_for):
    web = web_client_for(alice)
    _upload(web)
    job = Import.objects.get()

    response = web.get(reverse("imports:progress", args=[job.pk]), headers={"HX-Request": "true"})

    assert response.status_code == 204
    assert response["HX-Refresh"] == "true"


def test_a_user_sees_only_their_own_imports(alice, bob, ada, web_client_for):
    _upload(web_client_for(alice))
    job = Import.objects.get()

    assert web_client_for(bob).get(job.get_absolute_url()).status_code == 404
    assert job.file_name not in web_client_for(bob).get(reverse("imports:list")).content.decode()
    assert web_client_for(ada).get(job.get_absolute_url()).status_code == 200
    assert job.file_name in web_client_for(ada).get(reverse("imports:list")).content.decode()


def test_outsider_cannot_undo(alice, bob, web_client_for, committed):
    job = services.import_upload(
        actor=alice, file=SimpleUploadedFile("c.csv", files.russian_excel_csv())
    )
    committed(services.import_start, actor=alice, job=job)

    response = web_client_for(bob).post(reverse("imports:undo", args=[job.pk]))

    assert response.status_code == 404
    assert Client.objects.count() == 3


def test_import_list_query_count(alice, web_client_for, django_assert_max_num_queries, committed):
    web = web_client_for(alice)
    for _ in range(3):
        _upload(web)

    with django_assert_max_num_queries(12):
        response = web.get(reverse("imports:list"))

    assert response.content.decode().count("clients.csv") >= 3
