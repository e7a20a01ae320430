"""Bulk normalisation of a large base runs in the worker; its page shows the progress."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from kartoteka.clients.models import Client
from kartoteka.clients.tests.factories import make_person
from kartoteka.quality import normalise
from kartoteka.quality.models import NormalisationRun


@pytest.fixture
def shouting(alice):
    return [
        make_person(alice, last_name="ИВАНОВ", first_name="иван", middle_name=""),
        make_person(alice, last_name="ПЕТРОВА", first_name="анна", middle_name=""),
        make_person(alice, last_name="Сидоров", first_name="Олег", middle_name=""),
    ]


def test_large_scope_is_queued_then_run_by_the_worker_with_progress(
    mallory, shouting, settings, web_client_for, django_capture_on_commit_callbacks
):
    settings.KARTOTEKA_NORMALISE_INLINE_CARDS = 2
    web = web_client_for(mallory)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        posted = web.post(reverse("quality:normalise"), {"operation": "names", "confirm": "1"})
    run = NormalisationRun.objects.get()
    url = reverse("quality:normalise-run", args=[run.pk])
    waiting = web.get(url).content.decode()
    polled = web.get(url + "?part=progress")
    untouched = sorted(Client.objects.values_list("last_name", flat=True))

    for callback in callbacks:  # the commit: the task is enqueued and (immediate backend) run
        callback()
    run.refresh_from_db()
    finished_poll = web.get(url + "?part=progress")
    page = web.get(url).content.decode()

    assert posted.status_code == 302
    assert posted["Location"] == url
    assert 'id="normalise-progress"' in waiting
    assert "every 1s" in waiting
    assert polled.status_code == 200
    assert "<progress" in polled.content.decode()
    assert untouched == ["ИВАНОВ", "ПЕТРОВА", "Сидоров"]
    assert run.status == NormalisationRun.Status.APPLIED
    assert (run.total_cards, run.processed_cards) == (3, 3)
    assert (run.card_count, run.value_count) == (2, 4)
    assert run.progress == 100
    assert finished_poll.status_code == 204
    assert finished_poll["HX-Refresh"] == "true"
    assert 'id="normalise-progress"' not in page
    assert 'id="normalise-undo"' in page
    assert sorted(Client.objects.values_list("last_name", flat=True)) == [
        "Иванов",
        "Петрова",
        "Сидоров",
    ]


def test_small_scope_runs_at_once(mallory, shouting):
    run = normalise.normalisation_apply(actor=mallory, operation="names")

    assert run.status == NormalisationRun.Status.APPLIED
    assert run.card_count == 2
    assert run.finished_at is not None


def test_unfinished_run_cannot_be_undone_and_api_reports_progress(
    mallory, shouting, api_client_for
):
    run = normalise.normalisation_apply(actor=mallory, operation="names", background=True)

    with pytest.raises(ValidationError):
        normalise.normalisation_undo(actor=mallory, run=run)
    got = api_client_for(mallory).get(f"/api/v1/quality/normalisations/{run.pk}")

    assert run.status == NormalisationRun.Status.QUEUED
    assert got.status_code == 200
    assert got.json()["status"] == "queued"
    assert got.json()["progress"] == 0


def test_run_of_someone_who_lost_the_right_fails_cleanly(mallory, shouting):
    run = normalise.normalisation_apply(actor=mallory, operation="names", background=True)
    mallory.role = "employee"
    mallory.save(update_fields=["role"])

    done = normalise.normalisation_run(run_pk=run.pk)

    assert done.status == NormalisationRun.Status.FAILED
    assert done.error
    assert sorted(Client.objects.values_list("last_name", flat=True))[0] == "ИВАНОВ"
