"""`kartoteka consent erase-due` and the worker's clock entry for it."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from kartoteka.care import health
from kartoteka.care.models import HealthNote
from kartoteka.clients.tests.factories import make_person
from kartoteka.consent import services
from kartoteka.consent.models import HealthErasureSchedule
from kartoteka.consent.tests.factories import give_health_consent
from kartoteka.core.models import ObjectChange
from kartoteka.notifications import scheduler

pytestmark = pytest.mark.django_db


@pytest.fixture
def withdrawn(alice):
    alice.health_access = True
    alice.save(update_fields=["health_access"])
    card = make_person(alice, last_name="Отозванова")
    give_health_consent(card, alice)
    health.health_note_create(actor=alice, client=card, kind="allergy", text="Пыльца")
    services.consent_withdraw(actor=alice, client=card, purpose="health", channel="email")
    return card


def run(*args) -> str:
    out = io.StringIO()
    call_command("consent", *args, stdout=out)
    return out.getvalue()


def test_erase_due_does_nothing_before_the_due_date(withdrawn):
    assert run("erase-due").strip().endswith("Erased 0 health notes on 0 cards.")
    assert HealthNote.objects.count() == 1


def test_erase_due_erases_once_due_and_logs_it_as_cli(withdrawn, time_machine):
    time_machine.move_to(timezone.now() + datetime.timedelta(days=31))

    assert run("erase-due", "--dry-run").strip().endswith("1 due")
    assert HealthNote.objects.count() == 1
    output = run("erase-due")

    assert "Erased 1 health notes on 1 cards." in output
    assert HealthNote.objects.count() == 0
    assert HealthErasureSchedule.objects.get().status == "done"
    change = ObjectChange.objects.get(message="health data erased")
    assert (change.channel, change.actor, change.client_id) == ("cli", None, withdrawn.pk)


def test_the_worker_clock_enqueues_the_erasure_hourly(withdrawn, time_machine, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    [entry] = [p for p in scheduler.PERIODIC if p.name == "health_erasure"]
    assert entry.every == datetime.timedelta(hours=1)
    time_machine.move_to(timezone.now() + datetime.timedelta(days=31))

    result = entry.task().enqueue()

    assert result.return_value == {"cards": 1, "notes": 1}
    assert HealthNote.objects.count() == 0
