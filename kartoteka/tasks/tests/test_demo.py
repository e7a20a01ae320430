"""Demo tasks: a working week for each demo user with cards, made once."""

import pytest

from kartoteka.clients.demo import Staff
from kartoteka.clients.tests.factories import make_person
from kartoteka.tasks import selectors
from kartoteka.tasks.demo import PLAN, demo_tasks_ensure
from kartoteka.tasks.models import Task

pytestmark = pytest.mark.django_db


def test_demo_tasks_fill_today_once(north, alice, mallory):
    make_person(alice)
    make_person(alice, last_name="Сидоров")
    staff = Staff(teams={north.pk: [mallory.pk, alice.pk]})

    made = demo_tasks_ensure(staff)
    again = demo_tasks_ensure(staff)

    assert made == len(PLAN) == Task.objects.filter(series_id__isnull=True).count() + 2
    assert again == 0
    assert set(Task.objects.values_list("assignee", flat=True)) == {alice.pk}  # mallory: no cards
    agenda = selectors.task_agenda(user=alice)
    assert (len(agenda.overdue), len(agenda.today), len(agenda.upcoming)) == (2, 3, 4)
    assert Task.objects.filter(status="done").count() == 1
    assert Task.objects.exclude(repeat="").count() == 2
