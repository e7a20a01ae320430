"""The backups page and its API: administrators only, on the web and the API."""

import pytest

from kartoteka.backups.models import BackupRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def runs(ada):
    return [
        BackupRun.objects.create(
            status=BackupRun.Status.OK, file_name="kartoteka-backup-20260101T000000Z.tar", size=4096
        ),
        BackupRun.objects.create(status=BackupRun.Status.FAILED, error="pg_dump failed: boom"),
    ]


def test_admin_sees_the_runs_with_sizes_and_status(web_client_for, ada, runs):
    response = web_client_for(ada).get("/backups/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "kartoteka-backup-20260101T000000Z.tar" in body
    assert "4.0\xa0KB" in body
    assert "pg_dump failed: boom" in body
    assert "Back up now" in body


def test_admin_menu_links_the_backups_page(web_client_for, ada, alice):
    assert 'href="/backups/"' in web_client_for(ada).get("/clients/").content.decode()
    assert 'href="/backups/"' not in web_client_for(alice).get("/clients/").content.decode()


@pytest.mark.parametrize("name", ["alice", "mallory", "rita"])
def test_non_admins_are_refused_on_the_web(web_client_for, users, runs, name):
    client = web_client_for(users[name])

    assert client.get("/backups/").status_code == 403
    assert client.post("/backups/run/").status_code == 403
    assert BackupRun.objects.count() == 2


def test_back_up_now_queues_a_run(web_client_for, ada, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = web_client_for(ada).post("/backups/run/")

    assert response.status_code == 302
    assert response["Location"] == "/backups/"
    run = BackupRun.objects.get()
    assert run.status == BackupRun.Status.QUEUED
    assert run.trigger == BackupRun.Trigger.MANUAL
    assert run.requested_by == ada
    assert len(callbacks) == 1


def test_api_lists_the_runs_for_admins(api_client_for, ada, runs):
    response = api_client_for(ada).get("/api/v1/backups")

    assert response.status_code == 200
    data = response.json()
    assert [row["status"] for row in data] == ["failed", "ok"]
    assert data[1]["file_name"] == "kartoteka-backup-20260101T000000Z.tar"
    assert data[1]["size"] == 4096
    assert data[1]["file_present"] is False
    assert data[0]["error"] == "pg_dump failed: boom"


@pytest.mark.parametrize("name", ["alice", "mallory", "rita", "charlie"])
def test_non_admins_are_refused_on_the_api(api_client_for, users, runs, name):
    client = api_client_for(users[name])

    assert client.get("/api/v1/backups").status_code == 403
    assert client.post("/api/v1/backups").status_code == 403
    assert BackupRun.objects.count() == 2


def test_api_needs_authentication(client):
    assert client.get("/api/v1/backups").status_code == 401


def test_api_queues_a_run(api_client_for, ada, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api_client_for(ada).post("/api/v1/backups")

    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    assert BackupRun.objects.get().requested_by == ada
    assert len(callbacks) == 1


def test_backups_are_in_the_openapi_schema(client):
    schema = client.get("/api/v1/openapi.json").json()

    assert "get" in schema["paths"]["/api/v1/backups"]
    assert "post" in schema["paths"]["/api/v1/backups"]
