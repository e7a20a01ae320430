import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kartoteka.clients.models import Client
from kartoteka.imports.models import Import
from kartoteka.imports.tests import files


def _upload(api, data: bytes = b"", name: str = "clients.csv"):
    return api.post(
        "/api/v1/imports", {"file": SimpleUploadedFile(name, data or files.russian_excel_csv())}
    )


@pytest.mark.parametrize(
    ("username", "status"),
    [("ada", 201), ("alice", 201), ("mallory", 201), ("rita", 403)],
)
def test_upload_per_role(users, api_client_for, username, status):
    response = _upload(api_client_for(users[username]))

    assert response.status_code == status
    assert Import.objects.count() == (1 if status == 201 else 0)


def test_anonymous_gets_401(client, db):
    assert client.get("/api/v1/imports").status_code == 401


def test_full_cycle_upload_configure_dry_run_start_progress_undo(
    alice, api_client_for, django_capture_on_commit_callbacks
):
    api = api_client_for(alice)
    rows = [*files.RU_ROWS, ["Плохой Телефон", "12345", "", "", "", "", ""]]

    created = _upload(api, files.russian_excel_csv(rows)).json()

    assert created["encoding"] == "cp1251"
    assert created["mapping"]["0"] == "full_name"
    job_url = f"/api/v1/imports/{created['id']}"
    patched = api.patch(job_url, {"on_match": "skip"}, content_type="application/json")
    assert patched.status_code == 200
    assert patched.json()["on_match"] == "skip"
    preview = api.get(job_url + "/preview").json()
    assert preview[0]["display_name"] == "Иванов Иван Иванович"
    assert preview[0]["contacts"][0]["normalized"] == "+79161234567"
    assert preview[3]["errors"][0]["code"] == "invalid_phone"

    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(job_url + "/check").status_code == 202
    checked = api.get(job_url).json()
    assert checked["status"] == "checked"
    assert checked["dry_run"]["errors"] == 1
    errors = api.get(job_url + "/errors?dry_run=true").json()
    assert [(e["row"], e["header"], e["value"]) for e in errors] == [(5, "Телефон", "12345")]
    assert Client.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(job_url + "/start").status_code == 202
    done = api.get(job_url).json()
    assert (done["status"], done["created_count"], done["percent"]) == ("done", 3, 100)

    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(job_url + "/undo").status_code == 202
    assert api.get(job_url).json()["status"] == "undone"
    assert Client.objects.count() == 0


def test_unreadable_file_is_a_422_on_file(alice, api_client_for):
    response = _upload(api_client_for(alice), b"PK\x03\x04broken", "x.xlsx")

    assert response.status_code == 422
    assert "file" in response.content.decode()


def test_employee_cannot_assign_to_a_colleague(alice, bob, api_client_for):
    api = api_client_for(alice)
    job_id = _upload(api).json()["id"]

    response = api.patch(
        f"/api/v1/imports/{job_id}", {"responsible_id": bob.pk}, content_type="application/json"
    )

    assert response.status_code == 403
    assert Import.objects.get().responsible_id == alice.pk


def test_others_imports_are_404_and_not_listed(alice, bob, ada, api_client_for):
    job_id = _upload(api_client_for(alice)).json()["id"]

    assert api_client_for(bob).get(f"/api/v1/imports/{job_id}").status_code == 404
    assert api_client_for(bob).post(f"/api/v1/imports/{job_id}/start").status_code == 404
    assert api_client_for(bob).get("/api/v1/imports").json() == []
    assert [j["id"] for j in api_client_for(ada).get("/api/v1/imports").json()] == [job_id]
    assert Import.objects.get().status == "uploaded"


def test_undo_of_an_unfinished_import_is_422(alice, api_client_for):
    api = api_client_for(alice)
    job_id = _upload(api).json()["id"]

    response = api.post(f"/api/v1/imports/{job_id}/undo")

    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "not_done"


def test_openapi_describes_the_import_operations(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    operations = {op["operationId"] for path in schema["paths"].values() for op in path.values()}

    assert {
        "import_upload", "import_configure", "import_preview", "import_check", "import_start",
        "import_get", "import_errors", "import_resume", "import_undo", "import_rollback",
    } <= operations  # fmt: skip
