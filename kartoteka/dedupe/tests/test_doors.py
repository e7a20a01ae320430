"""The scan task and the queue, and the web and API doors: permissions per role, refused
actions change nothing, flat query counts."""

import datetime

import pytest

from kartoteka.clients.models import Client
from kartoteka.clients.tests.factories import make_company, make_person
from kartoteka.core.models import ObjectChange
from kartoteka.dedupe import selectors, services
from kartoteka.dedupe.models import DuplicateCandidate, DuplicateScan, Merge


@pytest.fixture
def base(alice):
    """A duplicate in two scripts, a family decoy and a company with its employee."""
    ivan = make_person(
        alice, contacts=[{"kind": "phone", "value": "8 (916) 555-12-34"}], middle_name=""
    )
    ivan_latin = make_person(
        alice,
        last_name="Ivanov",
        first_name="Ivan",
        middle_name="",
        contacts=[{"kind": "phone", "value": "+7 916 555 12 34"}],
    )
    mother = make_person(
        alice,
        last_name="Иванова",
        first_name="Мария",
        middle_name="Петровна",
        birth_date=datetime.date(1960, 1, 1),
        contacts=[{"kind": "phone", "value": "+79165551234"}],
    )
    firm = make_company(alice, contacts=[{"kind": "phone", "value": "+74951234567"}])
    worker = make_person(
        alice,
        last_name="Петров",
        first_name="Пётр",
        employer=firm,
        contacts=[{"kind": "phone", "value": "+74951234567"}],
    )
    return {"ivan": ivan, "latin": ivan_latin, "mother": mother, "firm": firm, "worker": worker}


def _scan(actor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.scan_start(actor=actor)


def test_scan_fills_the_queue_with_the_duplicate_only(
    ada, base, django_capture_on_commit_callbacks
):
    scan = _scan(ada, django_capture_on_commit_callbacks)

    scan.refresh_from_db()
    assert scan.status == DuplicateScan.Status.DONE
    assert scan.progress == 100
    assert scan.cards == 5
    pair = DuplicateCandidate.objects.get()
    assert {pair.client_a, pair.client_b} == {base["ivan"], base["latin"]}
    assert pair.score >= 0.7
    assert {"m": "Same phone %(value)s", "p": {"value": "+79165551234"}} in pair.reasons


def test_dismissed_pair_never_comes_back(ada, alice, base, django_capture_on_commit_callbacks):
    _scan(ada, django_capture_on_commit_callbacks)
    pair = DuplicateCandidate.objects.get()
    services.candidate_dismiss(actor=alice, candidate=pair)

    _scan(ada, django_capture_on_commit_callbacks)

    assert DuplicateCandidate.objects.get().status == DuplicateCandidate.Status.DISMISSED
    assert not selectors.candidate_list(user=alice).exists()


def test_queue_is_scoped_to_cards_the_user_sees(users, base, django_capture_on_commit_callbacks):
    _scan(users["ada"], django_capture_on_commit_callbacks)

    seen = {name: selectors.candidate_list(user=u).count() for name, u in users.items()}

    assert seen == {"ada": 1, "alice": 1, "bob": 1, "charlie": 0, "mallory": 1, "rita": 1}


def test_queue_page_query_count_is_flat(ada, alice, web_client_for, django_assert_max_num_queries):
    for index in range(6):
        a = make_person(alice, first_name=f"Иван{index}")
        b = make_person(alice, first_name=f"Иван{index}")
        DuplicateCandidate.objects.create(
            client_a=a, client_b=b, score=0.8, reasons=[{"m": "Same name"}]
        )
    web = web_client_for(alice)

    with django_assert_max_num_queries(14):
        response = web.get("/duplicates/")

    assert response.status_code == 200
    assert response.content.decode().count('id="pair-') == 6


def test_web_merge_and_undo(alice, base, web_client_for):
    web = web_client_for(alice)
    ivan, latin = base["ivan"], base["latin"]

    page = web.get(f"/duplicates/merge/?ids={ivan.pk}&ids={latin.pk}")
    assert page.status_code == 200
    assert "Ivanov" in page.content.decode()
    response = web.post(
        "/duplicates/merge/",
        {
            "ids": [ivan.pk, latin.pk],
            "survivor": ivan.pk,
            "field-last_name": latin.pk,
            "merge": "1",
        },
    )

    merge = Merge.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/duplicates/merges/{merge.pk}/"
    assert Client.objects.get(pk=ivan.pk).last_name == "Ivanov"
    assert Client.objects.get(pk=latin.pk).is_archived
    detail = web.get(response["Location"])
    assert "Undo this merge" in detail.content.decode()

    undone = web.post(f"/duplicates/merges/{merge.pk}/undo/")

    assert undone.status_code == 302
    assert Client.objects.get(pk=ivan.pk).last_name == "Иванов"
    assert not Client.objects.get(pk=latin.pk).is_archived


def test_web_merge_refused_for_read_only_changes_nothing(rita, base, web_client_for):
    changes = ObjectChange.objects.count()
    ivan, latin = base["ivan"], base["latin"]

    response = web_client_for(rita).post(
        "/duplicates/merge/", {"ids": [ivan.pk, latin.pk], "survivor": ivan.pk, "merge": "1"}
    )

    assert response.status_code == 422
    assert "You may not change" in response.content.decode()
    assert ObjectChange.objects.count() == changes
    assert not Merge.objects.exists()


def test_web_merge_of_cards_an_outsider_cannot_see_is_404(charlie, base, web_client_for):
    ivan, latin = base["ivan"], base["latin"]

    response = web_client_for(charlie).post(
        "/duplicates/merge/", {"ids": [ivan.pk, latin.pk], "merge": "1"}
    )

    assert response.status_code == 404
    assert not Merge.objects.exists()


@pytest.mark.parametrize(
    ("username", "status"),
    [("ada", 201), ("alice", 201), ("mallory", 201), ("rita", 403), ("charlie", 404)],
)
def test_api_merge_per_role(users, base, api_client_for, username, status):
    ivan, latin = base["ivan"], base["latin"]
    api = api_client_for(users[username])
    changes = ObjectChange.objects.count()

    response = api.post(
        "/api/v1/duplicates/merges",
        {"survivor": ivan.pk, "merged": [latin.pk], "choices": {"last_name": latin.pk}},
        content_type="application/json",
    )

    assert response.status_code == status, response.content
    if status == 201:
        body = response.json()
        assert body["survivor"]["id"] == ivan.pk
        assert [c["id"] for c in body["merged"]] == [latin.pk]
        assert Client.objects.get(pk=latin.pk).is_archived
    else:
        assert set(response.json()) >= {"detail", "code"}
        assert ObjectChange.objects.count() == changes
        assert not Merge.objects.exists()


def test_api_queue_dismiss_merge_detail_and_undo(
    ada, alice, base, api_client_for, django_capture_on_commit_callbacks
):
    _scan(ada, django_capture_on_commit_callbacks)
    api = api_client_for(alice)

    listed = api.get("/api/v1/duplicates/candidates?min_score=0.5").json()
    assert len(listed) == 1
    assert listed[0]["reasons"][0] in {"Same name", "Same name, in another order"}
    dismissed = api.post(f"/api/v1/duplicates/candidates/{listed[0]['id']}/dismiss")
    assert dismissed.json()["status"] == "dismissed"
    again = api.post(f"/api/v1/duplicates/candidates/{listed[0]['id']}/dismiss")
    assert again.status_code == 422
    assert [e["code"] for e in again.json()["errors"]] == ["decided"]

    merged = api.post(
        "/api/v1/duplicates/merges",
        {"survivor": base["ivan"].pk, "merged": [base["latin"].pk]},
        content_type="application/json",
    ).json()
    detail = api.get(f"/api/v1/duplicates/merges/{merged['id']}").json()
    assert detail["status"] == "done"
    undone = api.post(f"/api/v1/duplicates/merges/{merged['id']}/undo")
    assert undone.json()["status"] == "undone"
    refused = api.post(f"/api/v1/duplicates/merges/{merged['id']}/undo")
    assert refused.status_code == 422
    assert [e["code"] for e in refused.json()["errors"]] == ["already_undone"]


def test_api_is_in_openapi(ada, api_client_for):
    schema = api_client_for(ada).get("/api/v1/openapi.json").json()

    operations = {op["operationId"] for path in schema["paths"].values() for op in path.values()}
    assert {
        "duplicate_candidate_list",
        "duplicate_candidate_dismiss",
        "duplicate_merge_create",
        "duplicate_merge_get",
        "duplicate_merge_undo",
    } <= operations
