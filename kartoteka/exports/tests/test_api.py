"""The exports API: create, status, download, saved searches; permissions per role; errors in
the one shape; in the OpenAPI document."""

import csv
import io

import pytest

from kartoteka.exports.models import Export, SavedSearch


@pytest.mark.parametrize(
    ("name", "status"),
    [("ada", 201), ("mallory", 201), ("alice", 201), ("bob", 201), ("charlie", 201), ("rita", 403)],
)
def test_create_export_per_role(users, cards, api_client_for, name, status):
    client = api_client_for(users[name])
    response = client.post(
        "/api/v1/exports/", {"format": "csv_1251", "filters": ""}, content_type="application/json"
    )
    assert response.status_code == status
    if status == 403:
        assert response.json()["code"] == "permission_denied"
        assert not Export.objects.exists()
        return
    body = response.json()
    assert body["status"] == "done"
    download = client.get(body["download_url"])
    assert download.status_code == 200
    text = b"".join(download.streaming_content).decode("cp1251")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    names = {row[2] for row in rows[1:]}
    if name == "charlie":
        assert names == {"Скрытый Чужой"}
    elif name in ("ada",):
        assert "Скрытый Чужой" in names
    else:
        assert "Скрытый Чужой" not in names
        assert "Wang Xiao Ming" in names


def test_status_and_download_are_the_owners(users, cards, api_client_for):
    created = (
        api_client_for(users["alice"])
        .post("/api/v1/exports/", {"format": "xlsx"}, content_type="application/json")
        .json()
    )
    url = f"/api/v1/exports/{created['id']}"
    assert api_client_for(users["alice"]).get(url).json()["row_count"] == 4
    assert api_client_for(users["ada"]).get(url + "/download").status_code == 200
    response = api_client_for(users["bob"]).get(url + "/download")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_validation_errors_in_the_one_shape(alice, cards, api_client_for):
    response = api_client_for(alice).post(
        "/api/v1/exports/",
        {"format": "pdf", "filters": "status=nonsense"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "format"


def test_saved_searches_via_api(alice, bob, cards, api_client_for):
    client = api_client_for(alice)
    created = client.post(
        "/api/v1/saved-searches/",
        {"name": "Companies", "filters": "kind=company", "shared": True},
        content_type="application/json",
    )
    assert created.status_code == 201
    search_id = created.json()["id"]
    assert [s["name"] for s in api_client_for(bob).get("/api/v1/saved-searches/").json()] == [
        "Companies"
    ]
    export = api_client_for(bob).post(
        "/api/v1/exports/",
        {"format": "vcard", "saved_search": search_id},
        content_type="application/json",
    )
    assert export.json()["row_count"] == 1
    assert api_client_for(bob).delete(f"/api/v1/saved-searches/{search_id}").status_code == 403
    assert client.delete(f"/api/v1/saved-searches/{search_id}").status_code == 204
    assert not SavedSearch.objects.exists()


def test_in_openapi(alice, api_client_for):
    paths = api_client_for(alice).get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/exports/" in paths
    assert "/api/v1/exports/{export_id}/download" in paths
    assert "/api/v1/saved-searches/" in paths
    assert "/api/v1/quality/attention" in paths
    assert "/api/v1/quality/normalisations/preview" in paths
