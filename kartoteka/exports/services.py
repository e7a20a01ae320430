"""Writes for exports and saved searches: who may export, the Export record, the run that
writes the file, and saved searches.

Who may export (docs/configuration.md, "Exports"): administrators everything; managers and
employees the cards they may see; read-only users nothing — they may look at cards but
taking the base out of the system in bulk is a different right. Visibility is applied by
the selector (exports.selectors.export_rows), as the exporting user, so a card the user
cannot see can never reach a file. Every export is recorded in the change log (action
"export") with its format and filters.

Small exports (at most INLINE_MAX_ROWS cards) are written right away in the request; larger
ones run in the background (django-tasks) and report progress on their Export record.
"""

import datetime
import logging
import tempfile
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.audit import services as audit_services
from kartoteka.clients.filters import ClientFilterSet
from kartoteka.clients.models import Client
from kartoteka.core.changelog import log_change
from kartoteka.exports import formats, selectors
from kartoteka.exports.models import Export, SavedSearch

logger = logging.getLogger(__name__)

EXPORT_ACTION = "export"
# Up to this many cards the file is written in the request (a second or two at most);
# above, in the background with a progress bar.
INLINE_MAX_ROWS = 2000
# Progress is saved at most once per this many rows (one UPDATE), not per row.
PROGRESS_EVERY = 1000


def can_export(user: Any) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return bool(user.is_admin_role or user.role != User.Role.READ_ONLY)


def ensure_can_export(user: Any) -> None:
    if not can_export(user):
        raise PermissionDenied(_("You may not export cards."))


def _check_filters(actor: User, query: str) -> None:
    """Refuse invalid filters up front, with the list's own per-field messages."""
    filterset = ClientFilterSet(
        data=selectors.filters_from_query(query), queryset=Client.objects.none()
    )
    if not filterset.is_valid():
        raise ValidationError(filterset.errors.as_data())


def export_create(
    *,
    actor: User,
    format: str,
    query: str = "",
    saved_search: SavedSearch | None = None,
    background: bool | None = None,
) -> Export:
    """Record an export of the list `query` describes and write it (small) or queue it.

    `background` None decides by size (INLINE_MAX_ROWS). Raises PermissionDenied,
    ValidationError (format, filters).
    """
    ensure_can_export(actor)
    if format not in Export.Format.values:
        raise ValidationError(
            {"format": ValidationError(_("Choose a file format."), code="invalid_choice")}
        )
    if saved_search is not None:
        query = saved_search.query
    query = selectors.clean_query(selectors.filters_from_query(query))
    _check_filters(actor, query)
    if background is None:
        count = selectors.at_most(user=actor, query=query, limit=INLINE_MAX_ROWS)
        background = count > INLINE_MAX_ROWS
    with transaction.atomic():
        export = Export.objects.create(
            owner=actor,
            format=format,
            query=query,
            saved_search=saved_search,
            language=translation.get_language() or "en",
            background=background,
        )
        log_change(
            actor=actor,
            obj=export,
            action=EXPORT_ACTION,
            after={"format": format, "filters": query, "background": background},
        )
        if background:
            transaction.on_commit(lambda: _enqueue(export.pk))
    if not background:
        export_run(export_pk=export.pk)
        export.refresh_from_db()
    return export


def _enqueue(export_pk: int) -> None:
    from kartoteka.exports import tasks

    tasks.export_run_task.enqueue(export_pk)


def _file_name(export: Export) -> str:
    stamp = timezone.localtime(export.created_at).strftime("%Y%m%d-%H%M")
    return f"clients-{stamp}-{export.pk}.{export.extension}"


def export_run(*, export_pk: int) -> Export:
    """Write the export's file (called inline or by the background task).

    Safe to call twice: a finished or running export is left alone. A failure marks the
    export failed with its reason; nothing half-written is offered for download.
    """
    claimed = Export.objects.filter(pk=export_pk, status=Export.Status.QUEUED).update(
        status=Export.Status.RUNNING, started_at=timezone.now()
    )
    export = Export.objects.select_related("owner").get(pk=export_pk)
    if not claimed:
        return export
    with translation.override(export.language):
        try:
            _write(export)
        except Exception as exc:  # any failure must end on the record, not in a stuck bar
            logger.exception("Export %s failed", export.pk)
            message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            Export.objects.filter(pk=export.pk).update(
                status=Export.Status.FAILED, error=message[:2000], finished_at=timezone.now()
            )
            export.refresh_from_db()
    return export


def _write(export: Export) -> None:
    owner = export.owner
    if export.background:
        # For the progress bar only; one COUNT is affordable in the background.
        expected = selectors.export_queryset(user=owner, query=export.query).count()
        Export.objects.filter(pk=export.pk).update(expected_rows=expected)
        export.expected_rows = expected

    def on_row(done: int) -> None:
        if done % PROGRESS_EVERY == 0:
            Export.objects.filter(pk=export.pk).update(row_count=done)

    rows = selectors.export_rows(user=owner, query=export.query)
    with tempfile.TemporaryFile() as out:
        if export.format == Export.Format.XLSX:
            stats = formats.write_xlsx(
                out, selectors.columns(), rows, sheet_title=_("Clients"), on_row=on_row
            )
        elif export.format == Export.Format.VCARD:
            stats = formats.write_vcard(out, rows, on_row=on_row)
        elif export.format == Export.Format.CSV_1251:
            stats = formats.write_csv(
                out, selectors.columns(), rows, encoding="cp1251", delimiter=";", on_row=on_row
            )
        else:
            stats = formats.write_csv(
                out,
                selectors.columns(),
                rows,
                bom=export.format == Export.Format.CSV_BOM,
                on_row=on_row,
            )
        size = out.tell()
        out.seek(0)
        export.file.save(_file_name(export), File(out), save=False)
    Export.objects.filter(pk=export.pk).update(
        file=export.file.name,
        file_size=size,
        row_count=stats.rows,
        replaced=stats.replaced,
        status=Export.Status.DONE,
        finished_at=timezone.now(),
    )
    export.refresh_from_db()
    # On the audit trail: who exported how many cards, in which format (never the rows).
    audit_services.record(
        "export",
        obj=export,
        actor=owner,
        details={"format": export.format, "rows": stats.rows},
    )


def export_delete_file(*, actor: User, export: Export) -> None:
    """Remove an export's file (its record stays, for the audit)."""
    if export.owner_id != actor.pk and not actor.is_admin_role:
        raise PermissionDenied(_("You may not delete this export."))
    if export.file:
        export.file.delete(save=False)
    Export.objects.filter(pk=export.pk).update(file="", file_size=0)


def exports_expire(*, now: datetime.datetime | None = None) -> int:
    """Delete the files of exports older than KARTOTEKA_EXPORT_KEEP_DAYS (run daily by the
    worker): a spreadsheet of client data should not lie on the server for ever. The export's
    record stays (who exported what, when), only its file goes. Returns how many went."""
    days = settings.KARTOTEKA_EXPORT_KEEP_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    removed = 0
    for export in Export.objects.filter(created_at__lt=cutoff).exclude(file="").iterator():
        export.file.delete(save=False)
        Export.objects.filter(pk=export.pk).update(file="", file_size=0)
        removed += 1
    return removed


# --- Saved searches ---------------------------------------------------------------------------


@transaction.atomic
def saved_search_create(*, actor: User, name: str, query: str, shared: bool = False) -> SavedSearch:
    """Save the list's filters under a name. Anyone who may see cards may save searches.

    Raises ValidationError (name: empty or taken).
    """
    if actor is None or not actor.is_authenticated or not actor.is_active:
        raise PermissionDenied(_("You may not save searches."))
    search = SavedSearch(
        owner=actor,
        name=(name or "").strip(),
        query=selectors.clean_query(selectors.filters_from_query(query or "")),
        shared=bool(shared),
    )
    search.full_clean(validate_constraints=False)
    if SavedSearch.objects.filter(owner=actor, name=search.name).exists():
        raise ValidationError(
            {"name": ValidationError(_("You already have a search with this name."), code="unique")}
        )
    _check_filters(actor, search.query)
    try:
        with transaction.atomic():
            search.save()
    except IntegrityError as exc:  # a race with the same name: the same message as clean()
        raise ValidationError(
            {"name": ValidationError(_("You already have a search with this name."))}
        ) from exc
    log_change(
        actor=actor,
        obj=search,
        action="create",
        after={"name": search.name, "query": search.query, "shared": search.shared},
    )
    return search


@transaction.atomic
def saved_search_delete(*, actor: User, search: SavedSearch) -> None:
    """Delete a saved search: only its owner or an administrator."""
    if search.owner_id != actor.pk and not actor.is_admin_role:
        raise PermissionDenied(_("Only its owner may delete this search."))
    log_change(
        actor=actor,
        obj=search,
        action="delete",
        before={"name": search.name, "query": search.query, "shared": search.shared},
    )
    search.delete()
