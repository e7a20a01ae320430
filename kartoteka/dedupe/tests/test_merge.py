"""Merging cards and undoing it: every related model moves, undo restores exactly, refused
merges change nothing."""

import datetime
import decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils import timezone

from kartoteka.accounts.models import User
from kartoteka.clients.models import Client, ContactPoint
from kartoteka.clients.services import client_update, tags_from_names
from kartoteka.clients.tests.factories import make_company, make_person
from kartoteka.core.models import ObjectChange
from kartoteka.dedupe import services
from kartoteka.dedupe.models import DuplicateCandidate, Merge, MergedCard


def _value(field: models.Field, client: Client, user: User, depth: int):
    if isinstance(field, models.ForeignKey):
        target = field.related_model
        if target is Client:
            return client
        if target is User:
            return user
        if target is ContentType:
            return ContentType.objects.get_for_model(Client)
        return make_row(target, client, user, depth + 1)
    if field.choices:
        return field.choices[0][0]
    if isinstance(field, models.DecimalField):
        return decimal.Decimal("1")
    if isinstance(field, models.DateTimeField):
        return timezone.now()
    if isinstance(field, models.DateField):
        return datetime.date(2024, 1, 2)
    if isinstance(field, models.IntegerField | models.FloatField):
        return 1
    if isinstance(field, models.BooleanField):
        return False
    if isinstance(field, models.JSONField):
        return {}
    if isinstance(field, models.FileField):
        return "x.txt"
    return "x"


def make_row(model: type[models.Model], client: Client, user: User, depth: int = 0):
    """One row of `model` with every required field filled, pointing at `client`: works for
    a model added later without touching this test."""
    assert depth < 4
    if model is Client:
        return make_person(user, last_name="Сотрудник")
    values = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.has_default() or getattr(field, "auto_now", False):
            continue
        if getattr(field, "auto_now_add", False):
            continue
        if field.null and not (
            isinstance(field, models.ForeignKey) and field.related_model is Client
        ):
            continue
        values[field.name] = _value(field, client, user, depth)
    return model._default_manager.create(**values)


@pytest.fixture
def pair(alice):
    survivor = make_person(
        alice,
        last_name="Иванов",
        first_name="Иван",
        middle_name="",
        birth_date=None,
        contacts=[{"kind": "phone", "value": "+79161110000"}],
    )
    other = make_person(
        alice,
        last_name="Ivanov",
        first_name="Ivan",
        middle_name="Петрович",
        birth_date=datetime.date(1980, 5, 17),
        contacts=[
            {"kind": "phone", "value": "+79161110000"},
            {"kind": "phone", "value": "+79162220000"},
            {"kind": "email", "value": "Ivan@Mail.ru"},
        ],
    )
    return survivor, other


def test_every_relation_to_client_is_moved_or_kept_on_purpose():
    labels = {label for label, _model, _field in services.client_relations()}

    moved = {label for label, _model, _field in services.moved_relations()}

    assert set(services.KEEP) <= labels
    assert moved == labels - set(services.KEEP)
    # These must move: the issue names them.
    for label in [
        "clients.ContactPoint.client",
        "clients.Client.employer",
        "activities.Interaction.client",
        "activities.TimelineEvent.client",
        "sales.Order.client",
        "sales.ServiceRecord.client",
        "finance.Invoice.client",
        "finance.Payment.client",
        "care.SurveyResponse.client",
        "care.Recommendation.client",
        "care.HealthNote.client",
        "documents.Document.client",
        "tasks.Task.client",
    ]:
        assert label in moved


def test_merge_moves_a_row_of_every_related_model_and_undo_moves_it_back(alice, pair):
    survivor, other = pair
    rows = {}
    for label, model, field in services.moved_relations():
        if label == services.CONTACTS:
            continue
        row = make_row(model, other, alice)
        setattr(row, field, other)
        row.save()
        rows[label] = (model, field, row.pk)

    merge = services.merge_cards(actor=alice, survivor=survivor, merged=[other])

    for label, (model, field, pk) in rows.items():
        assert getattr(model._default_manager.get(pk=pk), f"{field}_id") == survivor.pk, label
        assert pk in merge.moved[label][str(other.pk)]

    services.merge_undo(actor=alice, merge=merge)

    for label, (model, field, pk) in rows.items():
        assert getattr(model._default_manager.get(pk=pk), f"{field}_id") == other.pk, label


def test_merge_picks_fields_dedupes_contacts_and_archives_the_other(alice, pair):
    survivor, other = pair
    [tag] = tags_from_names(actor=alice, names=["VIP"])
    other.tags.add(tag)

    merge = services.merge_cards(
        actor=alice, survivor=survivor, merged=[other], choices={"last_name": other.pk}
    )

    survivor.refresh_from_db()
    other.refresh_from_db()
    assert survivor.last_name == "Ivanov"
    assert survivor.first_name == "Иван"  # the survivor's own non-empty value
    assert survivor.middle_name == "Петрович"  # empty on the survivor: the other's
    assert survivor.birth_date == datetime.date(1980, 5, 17)
    assert sorted(survivor.contacts.values_list("normalized", flat=True)) == [
        "+79161110000",
        "+79162220000",
        "ivan@mail.ru",
    ]
    # the shared phone stays with the archived card instead of being listed twice
    assert list(other.contacts.values_list("normalized", flat=True)) == ["+79161110000"]
    assert survivor.contacts.filter(kind="phone", is_primary=True).count() == 1
    assert list(survivor.tags.all()) == [tag]
    assert other.is_archived
    assert MergedCard.objects.get(client=other).survivor == survivor
    assert merge.survivor_before["last_name"] == "Иванов"
    assert ObjectChange.objects.filter(object_id=other.pk, action="archive").count() == 1


def test_undo_restores_exactly(alice, pair):
    survivor, other = pair
    before_survivor = Client.objects.values().get(pk=survivor.pk)
    contacts_before = sorted(ContactPoint.objects.values_list("pk", "client_id", "is_primary"))
    merge = services.merge_cards(
        actor=alice, survivor=survivor, merged=[other], choices={"last_name": other.pk}
    )

    services.merge_undo(actor=alice, merge=merge)

    after = Client.objects.values().get(pk=survivor.pk)
    for name in services.MERGE_FIELDS:
        key = Client._meta.get_field(name).attname
        assert after[key] == before_survivor[key], name
    assert sorted(ContactPoint.objects.values_list("pk", "client_id", "is_primary")) == (
        contacts_before
    )
    other.refresh_from_db()
    assert not other.is_archived
    assert Merge.objects.get().status == Merge.Status.UNDONE
    with pytest.raises(ValidationError) as info:
        services.merge_undo(actor=alice, merge=merge)
    assert info.value.code == "already_undone"


def test_undo_refused_when_the_survivor_changed_since(alice, pair):
    survivor, other = pair
    merge = services.merge_cards(actor=alice, survivor=survivor, merged=[other])
    survivor.refresh_from_db()
    client_update(actor=alice, client=survivor, expected_version=None, data={"notes": "new"})

    with pytest.raises(ValidationError) as info:
        services.merge_undo(actor=alice, merge=merge)

    assert info.value.code == "unsafe_undo"
    other.refresh_from_db()
    assert other.is_archived
    assert Merge.objects.get().status == Merge.Status.DONE


@pytest.mark.parametrize("username", ["charlie", "rita"])
def test_refused_merge_changes_nothing(users, pair, username):
    survivor, other = pair
    changes = ObjectChange.objects.count()
    contacts = sorted(ContactPoint.objects.values_list("pk", "client_id"))

    with pytest.raises(PermissionDenied):
        services.merge_cards(actor=users[username], survivor=survivor, merged=[other])

    assert ObjectChange.objects.count() == changes
    assert sorted(ContactPoint.objects.values_list("pk", "client_id")) == contacts
    assert not Client.objects.get(pk=other.pk).is_archived
    assert not Merge.objects.exists()


def test_person_and_company_cannot_be_merged(alice, pair):
    survivor, _other = pair
    company = make_company(alice)

    with pytest.raises(ValidationError) as info:
        services.merge_cards(actor=alice, survivor=survivor, merged=[company])

    assert info.value.code == "kinds_differ"
    assert not Merge.objects.exists()


def test_merging_companies_moves_their_employees(alice):
    first = make_company(alice, inn="7707083893")
    second = make_company(alice, legal_name="Romashka LLC", short_name="")
    employee = make_person(alice, employer=second)

    services.merge_cards(actor=alice, survivor=first, merged=[second])

    employee.refresh_from_db()
    assert employee.employer == first


def test_merge_marks_the_candidate_and_dismissed_pairs_stay_dismissed(alice, pair):
    survivor, other = pair
    candidate = DuplicateCandidate.objects.create(
        client_a=survivor, client_b=other, score=0.9, reasons=[]
    )

    merge = services.merge_cards(actor=alice, survivor=survivor, merged=[other])

    candidate.refresh_from_db()
    assert candidate.status == DuplicateCandidate.Status.MERGED
    assert candidate.merge == merge
    services.merge_undo(actor=alice, merge=merge)
    candidate.refresh_from_db()
    assert candidate.status == DuplicateCandidate.Status.OPEN
    services.candidate_dismiss(actor=alice, candidate=candidate)
    candidate.refresh_from_db()
    assert candidate.status == DuplicateCandidate.Status.DISMISSED
