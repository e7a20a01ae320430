"""Reads of imports, scoped to the user: their own imports (administrators: all)."""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from kartoteka.clients.models import Client, ContactPoint
from kartoteka.imports import engine
from kartoteka.imports.mapping import TARGETS
from kartoteka.imports.models import Import, ImportRowError
from kartoteka.imports.parsers import FileProblem
from kartoteka.imports.rows import PreparedRow


def import_list(*, user: Any) -> QuerySet[Import]:
    """The imports `user` may see, newest first."""
    return (
        Import.objects.visible_to(user).select_related("created_by").order_by("-created_at", "-pk")
    )


def import_get(*, user: Any, pk: int) -> Import:
    """One import `user` may see; Http404 otherwise (its existence does not leak)."""
    job = (
        Import.objects.visible_to(user)
        .select_related("created_by", "responsible", "team")
        .filter(pk=pk)
        .first()
    )
    if job is None:
        raise Http404
    return job


@dataclass
class PreviewRow:
    """A file row as the card it will become: what the preview table shows."""

    prepared: PreparedRow
    cells: list[str]
    contacts: list[tuple[str, str]]
    details: list[tuple[str, str]]


_SHOWN = [
    "middle_name", "workplace", "position", "birth_date", "inn", "kpp", "ogrn", "edrpou",
    "rnokpp", "uscc", "vat_number", "country", "industry", "website", "legal_address", "status",
    "source", "interests", "notes",
]  # fmt: skip


def import_preview(*, job: Import, limit: int = 8) -> tuple[list[PreviewRow], str]:
    """The first rows validated and normalised as the import would save them, and a
    message instead when the file cannot be read with the chosen options."""
    try:
        table = engine.open_job_table(job)
        preparer = engine.job_preparer(job, table.header)
        result = []
        for number, cells in table.rows():
            prepared = preparer.prepare(number, cells)
            kinds = dict(ContactPoint.Kind.choices)
            contacts = [(str(kinds.get(k, k)), value) for k, value, _n, _l, _p in prepared.contacts]
            details = []
            for name in _SHOWN:
                value = prepared.fields.get(name)
                if value in (None, ""):
                    continue
                label = getattr(Client._meta.get_field(name), "verbose_name", name)
                if name == "status":
                    value = Client.Status(value).label
                details.append((str(label), str(value)))
            result.append(PreviewRow(prepared, cells, contacts, details))
            if len(result) >= limit:
                break
    except FileProblem as exc:
        return [], " ".join(str(m) for m in exc.messages)
    finally:
        job.file.close()
    return result, ""


def import_errors(*, job: Import, dry_run: bool, limit: int = 200) -> list[ImportRowError]:
    """Row errors of the dry run or of the run, first rows first."""
    return list(
        ImportRowError.objects.filter(job=job, is_dry_run=dry_run).order_by("row", "pk")[:limit]
    )


def target_choices() -> list[tuple[str, str]]:
    return [(key, str(label)) for key, label in TARGETS.items()]
