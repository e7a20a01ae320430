"""Which rows belong to a card, for the access export and the erasure.

Every model with a ForeignKey or OneToOne to clients.Client is found by Django's relation
introspection (`client_relations`). Each must be either exported (`EXPORT_PATHS` adds the
ones reached only indirectly) or excluded with a reason in `EXPORT_EXCLUDED`; the test
tests/test_coverage.py fails when a model added later is in neither, so the export never
silently misses data. The erasure has its own completeness list in privacy.erasure.
"""

from dataclasses import dataclass

from django.apps import apps
from django.db import models
from django.db.models import QuerySet

from kartoteka.clients.models import Client

# Models linked to the card without a relation field to Client: label -> lookup to filter by
# the card's id (a plain id column, or a path through another model).
INDIRECT_PATHS: dict[str, str] = {
    "sales.OrderLine": "order__client",
    "core.ObjectChange": "client_id",
    "imports.ImportedCard": "client_id",
}

# (model label, field name) of relations to Client left out of the access export, and why.
EXPORT_EXCLUDED: dict[tuple[str, str], str] = {
    ("clients.Client", "employer"): "the card itself is exported; people at a company are "
    "their own data subjects",
    ("search.SearchEntry", "client"): "search index: a derived copy of the card's fields",
    ("quality.CardQuality", "client"): "computed completeness score, a cache",
    ("activities.TimelineEvent", "client"): "timeline lines are a projection of rows "
    "exported in their own sections",
    ("dedupe.DuplicateCandidate", "client_a"): "internal guess that two cards may be the same "
    "person; names the other card",
    ("dedupe.DuplicateCandidate", "client_b"): "as client_a",
    ("dedupe.Merge", "survivor"): "bookkeeping of a merge, for undo; the merged data is on "
    "the card",
    ("dedupe.MergedCard", "client"): "ids of merged cards only",
    ("dedupe.MergedCard", "survivor"): "ids of merged cards only",
    ("quality.NormalisationChange", "client"): "undo log of formatting fixes; the current "
    "values are on the card and the history is in the change log",
    ("privacy.RetentionFlag", "client"): "internal review marker",
    ("privacy.DestructionRecord", "client"): "holds no personal data",
}
INDIRECT_EXCLUDED: dict[str, str] = {
    "imports.ImportedCard": "undo log of an import; the values are in the change log",
}


@dataclass(frozen=True)
class Relation:
    """One way a model points at a card: `lookup` filters the model by the card's id."""

    label: str
    field: str
    lookup: str

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.label)


def client_relations() -> list[Relation]:
    """Every concrete ForeignKey / OneToOne to Client in the project, sorted by label."""
    relations = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if (
                field.is_relation
                and field.concrete
                and not field.auto_created
                and field.related_model is Client
                and (field.many_to_one or field.one_to_one)
            ):
                relations.append(Relation(model._meta.label, field.name, field.name))
    return sorted(relations, key=lambda r: (r.label, r.field))


def export_relations() -> list[Relation]:
    """The relations whose rows go into the access export (direct and indirect)."""
    direct = [r for r in client_relations() if (r.label, r.field) not in EXPORT_EXCLUDED]
    indirect = [
        Relation(label, lookup, lookup)
        for label, lookup in INDIRECT_PATHS.items()
        if label not in INDIRECT_EXCLUDED
    ]
    return sorted(direct + indirect, key=lambda r: (r.label, r.field))


def rows_of(relation: Relation, client_ids: list[int]) -> QuerySet[models.Model]:
    """The rows of `relation`'s model that belong to the cards `client_ids`.

    Through the base manager: soft-deleted rows (hidden by default managers) are still data
    the business holds.
    """
    lookup = relation.lookup if relation.lookup.endswith("_id") else f"{relation.lookup}_id"
    return relation.model._base_manager.filter(**{f"{lookup}__in": client_ids})
