"""Bulk normalisation of stored values, with a preview and an exact undo.

- phones: every phone contact rewritten in the international format the forms produce
  ("8 (916) 123 45 67" -> "+7 916 123-45-67", normalised "+79161234567"); values that are
  not valid phones are left alone (the quality list shows them);
- names: the case of names typed in one case fixed ("ИВАНОВ иван" -> "Иванов Иван",
  "O'NEIL" -> "O'Neil", "MCDONALD" -> "McDonald"); names already in mixed case (McDonald,
  van der Berg) and names without letter case (Chinese) are never touched;
- emails: email contacts lower-cased.

Who: administrators and managers (it changes many cards at once), on the cards they may
see and change. Every changed value is kept with its before-image in a NormalisationRun;
undo restores exactly those values on cards nobody changed since, and reports the others.
Writes bump each card's version (so open editors get the usual conflict warning), write one
change-log entry per card, and refresh search documents and quality.
"""

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.clients.models import Client, ContactPoint
from kartoteka.clients.normalize import format_phone, normalize_email, normalize_phone
from kartoteka.clients.services import _derive
from kartoteka.core.changelog import log_change
from kartoteka.core.models import ObjectChange
from kartoteka.quality import services as quality_services
from kartoteka.quality.models import NormalisationChange, NormalisationRun
from kartoteka.search.indexing import index_clients

BATCH_SIZE = 1000
NAME_FIELDS = ["last_name", "first_name", "middle_name"]
Operation = NormalisationRun.Operation


def can_normalise(user: Any) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and (user.is_admin_role or user.role == User.Role.MANAGER)
    )


def ensure_can_normalise(user: Any) -> None:
    if not can_normalise(user):
        raise PermissionDenied(_("Only administrators and managers may tidy data in bulk."))


# --- The fixes themselves (pure) --------------------------------------------------------------

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Lower-case particles inside a name (Ludwig van Beethoven, Leonardo da Vinci).
PARTICLES = frozenset({"van", "der", "den", "de", "la", "le", "von", "du", "di", "da", "del"})


def _cap(word: str, first: bool) -> str:
    if any(ch.isupper() for ch in word) and any(ch.islower() for ch in word):
        return word  # already in mixed case on purpose: McDonald, DiCaprio
    lower = word.lower()
    if not first and lower in PARTICLES:
        return lower
    if len(lower) > 2 and lower.startswith("mc"):
        return "Mc" + lower[2:].capitalize()
    return lower.capitalize()


def fix_name_case(value: str) -> str:
    """'ИВАНОВ иван' -> 'Иванов Иван', 'иван-петр' -> 'Иван-Петр', "O'NEIL" -> "O'Neil",
    'MCDONALD' -> 'McDonald'. Words in mixed case and scripts without case (Chinese) are left
    as they are."""
    position = iter(range(10_000))
    return _WORD.sub(lambda m: _cap(m.group(0), next(position) == 0), value)


def fix_phone(value: str) -> tuple[str, str] | None:
    """(display value, E.164) when the phone can be written better; None when it is fine or
    cannot be read as a phone at all."""
    try:
        e164 = normalize_phone(value)
    except ValidationError:
        return None
    display = format_phone(e164)
    return None if display == value else (display, e164)


def fix_email(value: str) -> tuple[str, str] | None:
    lowered = value.strip().lower()
    if lowered == value:
        return None
    try:
        normalized = normalize_email(lowered)
    except ValidationError:
        return None
    return lowered, normalized


# --- Finding the changes ----------------------------------------------------------------------


@dataclass
class Change:
    client_id: int
    card_number: str
    display_name: str
    target: str  # "field" or "contact"
    name: str
    contact_id: int | None
    before: str
    after: str
    after_normalized: str = ""
    before_normalized: str = ""


def _scope(actor: User) -> Any:
    return Client.objects.visible_to(actor).filter(is_archived=False)


def _batches(actor: User) -> Iterator[list[Client]]:
    last = 0
    while True:
        batch = list(
            _scope(actor)
            .filter(pk__gt=last)
            .order_by("pk")
            .only("pk", "number", "kind", "display_name", *NAME_FIELDS)[:BATCH_SIZE]
        )
        if not batch:
            return
        yield batch
        last = batch[-1].pk


def _changes_in(operation: str, batch: list[Client]) -> Iterator[Change]:
    if operation == Operation.NAMES:
        for client in batch:
            if client.is_company:
                continue
            for name in NAME_FIELDS:
                before = getattr(client, name)
                after = fix_name_case(before) if before else before
                if after != before:
                    yield Change(
                        client.pk,
                        client.card_number,
                        client.display_name,
                        "field",
                        name,
                        None,
                        before,
                        after,
                    )
        return
    kind = ContactPoint.Kind.PHONE if operation == Operation.PHONES else ContactPoint.Kind.EMAIL
    fix = fix_phone if operation == Operation.PHONES else fix_email
    by_id = {c.pk: c for c in batch}
    contacts = ContactPoint.objects.filter(client_id__in=list(by_id), kind=kind).order_by("pk")
    for contact in contacts:
        fixed = fix(contact.value)
        if fixed is None:
            continue
        client = by_id[contact.client_id]
        yield Change(
            client.pk,
            client.card_number,
            client.display_name,
            "contact",
            kind,
            contact.pk,
            contact.value,
            fixed[0],
            fixed[1],
            contact.normalized,
        )


def _check_operation(operation: str) -> None:
    if operation not in Operation.values:
        raise ValidationError(
            {"operation": ValidationError(_("Choose what to tidy."), code="invalid_choice")}
        )


@dataclass
class Preview:
    operation: str
    total: int
    sample: list[Change]


def normalisation_preview(*, actor: User, operation: str, limit: int = 20) -> Preview:
    """The first `limit` changes the run would make and how many in all (nothing written)."""
    ensure_can_normalise(actor)
    _check_operation(operation)
    total = 0
    sample: list[Change] = []
    for batch in _batches(actor):
        for change in _changes_in(operation, batch):
            total += 1
            if len(sample) < limit:
                sample.append(change)
    return Preview(operation, total, sample)


# --- Applying and undoing ---------------------------------------------------------------------


def _write_batch(
    actor: User, run: NormalisationRun, changes: list[Change], *, undo: bool = False
) -> int:
    """Write one batch of changes card by card group; returns the number of cards."""
    by_client: dict[int, list[Change]] = defaultdict(list)
    for change in changes:
        by_client[change.client_id].append(change)
    clients = Client.objects.in_bulk(list(by_client))
    records = []
    touched = []
    for client_id, items in by_client.items():
        client = clients[client_id]
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        contacts = []
        for item in items:
            key = item.name if item.target == "field" else f"contact:{item.contact_id}"
            before[key], after[key] = item.before, item.after
            if item.target == "field":
                setattr(client, item.name, item.after)
            else:
                contacts.append(
                    ContactPoint(
                        pk=item.contact_id,
                        client_id=client_id,
                        value=item.after,
                        normalized=item.after_normalized,
                    )
                )
        if contacts:
            ContactPoint.objects.bulk_update(contacts, ["value", "normalized"])
        _derive(client)
        Client.objects.filter(pk=client_id).update(
            **{name: getattr(client, name) for name in NAME_FIELDS},
            display_name=client.display_name,
            sort_name=client.sort_name,
            version=F("version") + 1,
            updated_at=timezone.now(),
        )
        client.version += 1
        touched.append(client)
        log_change(
            actor=actor,
            obj=client,
            action=ObjectChange.Action.UPDATE,
            before=before,
            after=after,
            message=("undo normalisation #%s" if undo else "normalisation #%s") % run.pk,
        )
        if not undo:
            records += [
                NormalisationChange(
                    run=run,
                    client_id=client_id,
                    target=item.target,
                    name=item.name if item.target == "field" else "",
                    contact_id=item.contact_id,
                    before=item.before,
                    before_normalized=item.before_normalized,
                    after=item.after,
                    version_after=client.version,
                )
                for item in items
            ]
    NormalisationChange.objects.bulk_create(records)
    index_clients(touched)
    quality_services.quality_refresh_many([c.pk for c in touched])
    return len(touched)


def normalisation_apply(
    *, actor: User, operation: str, background: bool | None = None
) -> NormalisationRun:
    """Apply the operation to every card in the actor's scope, a batch per transaction.

    Small scopes run at once; larger ones (more than KARTOTEKA_NORMALISE_INLINE_CARDS, or
    `background=True`) run in the worker and the run's page shows the progress. Returns the
    run (with its counts once finished), the handle for undo.
    """
    ensure_can_normalise(actor)
    _check_operation(operation)
    limit = settings.KARTOTEKA_NORMALISE_INLINE_CARDS
    if background is None:
        background = _scope(actor).values("pk")[: limit + 1].count() > limit
    with transaction.atomic():
        run = NormalisationRun.objects.create(
            actor=actor, operation=operation, status=NormalisationRun.Status.QUEUED
        )
        if background:
            transaction.on_commit(lambda: _enqueue(run.pk))
    if not background:
        normalisation_run(run_pk=run.pk)
        run.refresh_from_db()
    return run


def _enqueue(run_pk: int) -> None:
    from kartoteka.quality.tasks import normalisation_task

    normalisation_task.enqueue(run_pk)


def normalisation_run(*, run_pk: int) -> NormalisationRun:
    """Do a queued run: batch after batch, each in its own transaction, progress saved after
    each, so the page can show it and a crash leaves whole batches (undo still works)."""
    claimed = NormalisationRun.objects.filter(
        pk=run_pk, status=NormalisationRun.Status.QUEUED
    ).update(status=NormalisationRun.Status.RUNNING)
    run = NormalisationRun.objects.select_related("actor").get(pk=run_pk)
    if not claimed:
        return run
    actor = run.actor
    try:
        if actor is None:
            raise PermissionDenied(_("The person who started it no longer exists."))
        ensure_can_normalise(actor)
        NormalisationRun.objects.filter(pk=run.pk).update(total_cards=_scope(actor).count())
        cards = values = seen = 0
        for batch in _batches(actor):
            changes = list(_changes_in(run.operation, batch))
            if changes:
                with transaction.atomic():
                    cards += _write_batch(actor, run, changes)
                values += len(changes)
            seen += len(batch)
            NormalisationRun.objects.filter(pk=run.pk).update(
                processed_cards=seen, card_count=cards, value_count=values
            )
    except Exception as exc:
        NormalisationRun.objects.filter(pk=run.pk).update(
            status=NormalisationRun.Status.FAILED, error=str(exc), finished_at=timezone.now()
        )
        if not isinstance(exc, PermissionDenied):
            raise
        return NormalisationRun.objects.get(pk=run.pk)
    with transaction.atomic():
        NormalisationRun.objects.filter(pk=run.pk).update(
            status=NormalisationRun.Status.APPLIED, finished_at=timezone.now()
        )
        run.refresh_from_db()
        log_change(
            actor=actor,
            obj=run,
            action=ObjectChange.Action.CREATE,
            after={"operation": run.operation, "cards": cards, "values": values},
        )
    return run


@transaction.atomic
def normalisation_undo(*, actor: User, run: NormalisationRun) -> NormalisationRun:
    """Put back every value the run changed, on cards nobody changed since (their version is
    still the one the run left). Others are skipped and counted in `skipped_count`."""
    ensure_can_normalise(actor)
    if run.actor_id != actor.pk and not actor.is_admin_role:
        raise PermissionDenied(_("Only the person who ran it or an administrator may undo it."))
    run = NormalisationRun.objects.select_for_update().get(pk=run.pk)
    if run.status == NormalisationRun.Status.UNDONE:
        raise ValidationError(_("This run has already been undone."), code="already_undone")
    if not run.is_finished:
        raise ValidationError(_("Wait until the run has finished."), code="running")
    versions = dict(
        Client.objects.filter(pk__in=run.changes.values("client_id")).values_list("pk", "version")
    )
    undo: list[Change] = []
    skipped: set[int] = set()
    for item in run.changes.all().iterator(chunk_size=BATCH_SIZE):
        if versions.get(item.client_id) != item.version_after:
            skipped.add(item.client_id)
            continue
        undo.append(
            Change(
                item.client_id,
                "",
                "",
                item.target,
                item.name,
                item.contact_id,
                item.after,
                item.before,
                item.before_normalized,
            )
        )
    restored = _write_batch(actor, run, undo, undo=True) if undo else 0
    run.status = NormalisationRun.Status.UNDONE
    run.undone_at = timezone.now()
    run.undone_count = restored
    run.skipped_count = len(skipped)
    run.save(update_fields=["status", "undone_at", "undone_count", "skipped_count"])
    return run


def normalisation_get(*, user: Any, pk: int) -> NormalisationRun:
    """A run the user may see: their own, or any for administrators (404 otherwise)."""
    from django.http import Http404

    queryset = NormalisationRun.objects.all()
    if not getattr(user, "is_admin_role", False):
        queryset = queryset.filter(actor_id=user.pk)
    run = queryset.filter(pk=pk).first()
    if run is None:
        raise Http404("No such run")
    return run
