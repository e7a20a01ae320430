"""Completeness: every model of the project with a relation to Client is either in the access
export or excluded with a reason, and has a rule in the erasure. A model added later without
updating privacy/coverage.py and privacy/erasure.py fails here."""

from django.apps import apps

from kartoteka.clients.models import Client
from kartoteka.privacy import coverage, erasure


def _models_related_to_client() -> set[str]:
    found = set()
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if field.is_relation and field.concrete and field.related_model is Client:
                found.add(model._meta.label)
    return found


def test_every_relation_to_client_is_exported_or_excluded_with_a_reason():
    exported = {(r.label, r.field) for r in coverage.export_relations()}

    for relation in coverage.client_relations():
        key = (relation.label, relation.field)
        assert key in exported or coverage.EXPORT_EXCLUDED.get(key), (
            f"{relation.label}.{relation.field} points at Client but is neither in the access "
            "export nor in privacy.coverage.EXPORT_EXCLUDED"
        )


def test_the_walker_finds_the_known_models():
    labels = {r.label for r in coverage.client_relations()}

    assert labels >= {
        "clients.ContactPoint",
        "activities.Interaction",
        "sales.Order",
        "finance.Invoice",
        "finance.Payment",
        "care.HealthNote",
        "documents.Document",
        "tasks.Task",
        "consent.ConsentEvent",
        "privacy.DataSubjectRequest",
    }
    assert labels == _models_related_to_client()


def test_exclusions_name_real_relations():
    real = {(r.label, r.field) for r in coverage.client_relations()}

    assert set(coverage.EXPORT_EXCLUDED) <= real
    assert set(coverage.INDIRECT_EXCLUDED) <= set(coverage.INDIRECT_PATHS)


def test_every_model_related_to_client_has_an_erasure_rule():
    needed = _models_related_to_client() | set(coverage.INDIRECT_PATHS) - {"sales.OrderLine"}

    missing = sorted(needed - set(erasure.ERASURE_COVERAGE))

    assert missing == [], f"no erasure rule in privacy.erasure.ERASURE_COVERAGE for {missing}"
