"""plans.demo: the demo staff get plans for the periods running today, once."""

from io import StringIO

import pytest
from django.core.management import call_command

from kartoteka.accounts.models import User
from kartoteka.core.models import ObjectChange
from kartoteka.plans.models import Plan

pytestmark = pytest.mark.django_db


def test_demo_command_sets_current_plans_once():
    call_command("demo", count=5, seed=3, stdout=StringIO(), stderr=StringIO())
    first = Plan.objects.count()
    call_command("demo", count=5, seed=4, stdout=StringIO(), stderr=StringIO())

    assert first > 0
    assert Plan.objects.count() == first
    assert Plan.objects.filter(team__isnull=False).count() == 3  # one per demo team
    employees = set(
        Plan.objects.filter(employee__isnull=False).values_list("employee__role", flat=True)
    )
    assert employees <= {User.Role.EMPLOYEE, User.Role.MANAGER}
    assert ObjectChange.objects.filter(content_type__model="plan").count() == first
