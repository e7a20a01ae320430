"""Writes of the duplicates app: merging cards, undoing a merge, dismissing a candidate pair,
starting a scan. Permission check, validation, one transaction, change log.

Merge in one sentence: the survivor takes the field values the user picked, every row of
every model pointing at a merged card is re-pointed to the survivor (relations discovered
through Client._meta, so a model added later is moved too unless listed in KEEP), contacts
the survivor already has stay behind, and the merged cards are archived with a MergedCard
pointing at the survivor. Everything is recorded on a Merge row, which undo replays backwards.

Health notes move with the rest, also when the user has no health access: they belong to
the same person, their content is never shown during a merge (only their number, which every
user of the card already sees), and a HealthAccessLog "update" row records the move.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import Team, User
from kartoteka.audit import services as audit_services
from kartoteka.care.models import HealthAccessLog
from kartoteka.clients import permissions
from kartoteka.clients import services as client_services
from kartoteka.clients.models import Client, ContactPoint
from kartoteka.core.changelog import log_change
from kartoteka.core.context import current_channel
from kartoteka.core.models import ObjectChange
from kartoteka.dedupe.models import DuplicateCandidate, DuplicateScan, Merge, MergedCard
from kartoteka.search.indexing import index_clients

# Fields the user picks side by side ("kind" must agree; it is not picked).
MERGE_FIELDS = [f for f in client_services.EDITABLE_FIELDS if f != "kind"]
_FOREIGN_KEYS = {"responsible": User, "team": Team, "employer": Client}

# Relations to Client that a merge leaves where they are, and why. Every other relation is
# moved to the survivor (test_merge.py checks the list against Client._meta).
KEEP = {
    "search.SearchEntry.client": "rebuilt for each card by the search index",
    "quality.CardQuality.client": "computed for each card by the quality app",
    "care.HealthAccessLog.client": "an audit record of what was done to that card",
    "notifications.Notification.client": "a message already sent about that card",
    "dedupe.DuplicateCandidate.client_a": "the review queue's own record",
    "dedupe.DuplicateCandidate.client_b": "the review queue's own record",
    "dedupe.Merge.survivor": "the merge's own record",
    "dedupe.MergedCard.client": "the merge's own record",
    "dedupe.MergedCard.survivor": "the merge's own record",
    "clients.Client_tags.client": "tags are added to the survivor (see tags_added)",
}
CONTACTS = "clients.ContactPoint.client"


def client_relations() -> list[tuple[str, type[models.Model], str]]:
    """Every (label, model, field name) of a foreign key or many-to-many pointing at Client."""
    result: list[tuple[str, type[models.Model], str]] = []
    for rel in Client._meta.get_fields(include_hidden=True):
        if not (rel.is_relation and rel.auto_created and not rel.concrete):
            continue
        model: Any = rel.related_model
        field = rel.field  # type: ignore[union-attr]
        result.append((f"{model._meta.label}.{field.name}", model, field.name))
    return sorted(result, key=lambda item: item[0])


def moved_relations() -> list[tuple[str, type[models.Model], str]]:
    return [r for r in client_relations() if r[0] not in KEEP]


def _lock(pks: Sequence[int]) -> dict[int, Client]:
    cards = Client.objects.select_for_update().filter(pk__in=pks)
    return {c.pk: c for c in cards}


def _check_cards(actor: User, survivor: Client, others: Sequence[Client]) -> None:
    if not others:
        raise ValidationError(
            {"merged": ValidationError(_("Choose at least one other card."), code="too_few")}
        )
    for card in [survivor, *others]:
        if not permissions.can_change_client(actor, card):
            raise PermissionDenied(_("You may not change card %(number)s.") % {"number": card})
        if card.is_archived:
            raise ValidationError(
                _("Card %(name)s is archived; restore it before merging.") % {"name": card},
                code="archived",
            )
    if any(card.kind != survivor.kind for card in others):
        raise ValidationError(_("A person and a company cannot be merged."), code="kinds_differ")


def default_choices(survivor: Client, others: Sequence[Client]) -> dict[str, int]:
    """For each field, the card whose value is kept: the survivor's when not empty, else the
    first other card's non-empty value."""
    result = {}
    for name in MERGE_FIELDS:
        source = survivor
        if _empty(_raw(survivor, name)):
            source = next((c for c in others if not _empty(_raw(c, name))), survivor)
        result[name] = source.pk
    return result


def _raw(client: Client, name: str) -> Any:
    field = Client._meta.get_field(name)
    return getattr(client, getattr(field, "attname", name))


def _empty(value: Any) -> bool:
    return value is None or value == ""


def _field_data(survivor: Client, cards: Mapping[int, Client], choices: Mapping[str, int]) -> dict:
    data: dict[str, Any] = {}
    for name, pk in choices.items():
        if name not in MERGE_FIELDS:
            raise ValidationError(
                {name: ValidationError(_("Unknown field."), code="unknown_field")}
            )
        if pk not in cards:
            raise ValidationError(
                {name: ValidationError(_("Choose one of the merged cards."), code="invalid_choice")}
            )
        if pk != survivor.pk and _raw(cards[pk], name) != _raw(survivor, name):
            data[name] = getattr(cards[pk], name)
    return data


def _before_image(client: Client) -> dict[str, Any]:
    from kartoteka.core.changelog import snapshot

    return snapshot(client, MERGE_FIELDS)


def _move_contacts(survivor: Client, others: Sequence[Client], moved: dict) -> list[int]:
    """Contacts the survivor lacks move to it (not primary when it has one of the kind);
    those it has already stay on the merged card. Returns ids whose primary flag was cleared."""
    have = set(survivor.contacts.values_list("kind", "normalized"))
    primary_kinds = set(survivor.contacts.filter(is_primary=True).values_list("kind", flat=True))
    unprimaried: list[int] = []
    for card in others:
        ids = []
        for contact in card.contacts.order_by("-is_primary", "pk"):
            key = (contact.kind, contact.normalized)
            if key in have:
                continue
            have.add(key)
            ids.append(contact.pk)
            if contact.is_primary and contact.kind in primary_kinds:
                unprimaried.append(contact.pk)
            primary_kinds.add(contact.kind)
        if ids:
            ContactPoint.objects.filter(pk__in=ids).update(client=survivor)
            moved.setdefault(CONTACTS, {})[str(card.pk)] = ids
    ContactPoint.objects.filter(pk__in=unprimaried).update(is_primary=False)
    return unprimaried


def _move_rows(actor: User, survivor: Client, others: Sequence[Client], moved: dict) -> None:
    for label, model, field in moved_relations():
        if label == CONTACTS:
            continue
        for card in others:
            queryset = model._default_manager.filter(**{field: card.pk})
            ids = list(queryset.values_list("pk", flat=True))
            if not ids:
                continue
            model._default_manager.filter(pk__in=ids).update(**{field: survivor.pk})
            moved.setdefault(label, {})[str(card.pk)] = ids
            if label == "care.HealthNote.client":
                for client in (card, survivor):
                    HealthAccessLog.objects.create(
                        user=actor, client=client, action="update", channel=current_channel()
                    )


@transaction.atomic
def _merge(
    actor: User,
    survivor_pk: int,
    merged_pks: Sequence[int],
    choices: Mapping[str, int] | None,
    expected_versions: Mapping[int, int] | None,
) -> Merge:
    pks = [survivor_pk, *[pk for pk in dict.fromkeys(merged_pks) if pk != survivor_pk]]
    cards = _lock(pks)
    if set(pks) - set(cards):
        raise ValidationError(_("One of the cards no longer exists."), code="not_found")
    survivor, others = cards[survivor_pk], [cards[pk] for pk in pks[1:]]
    _check_cards(actor, survivor, others)
    for pk, version in (expected_versions or {}).items():
        if pk in cards and cards[pk].version != version:
            raise ValidationError(
                _("Card %(name)s was changed by someone else meanwhile; look again.")
                % {"name": cards[pk]},
                code="changed_meanwhile",
            )
    picked = {**default_choices(survivor, others), **(choices or {})}
    data = _field_data(survivor, cards, picked)
    record = Merge(actor=actor, survivor=survivor, choices=picked)
    record.survivor_before = _before_image(survivor)
    moved: dict[str, dict[str, list[int]]] = {}
    record.contacts_unprimaried = _move_contacts(survivor, others, moved)
    _move_rows(actor, survivor, others, moved)
    record.moved = moved
    survivor_tags = set(survivor.tags.values_list("pk", flat=True))
    added = set()
    for card in others:
        added |= set(card.tags.values_list("pk", flat=True)) - survivor_tags
    record.tags_added = sorted(added)
    if added:
        survivor.tags.add(*added)
    client_services.client_update(
        actor=actor, client=survivor, expected_version=None, data=data, allow_duplicates=True
    )
    record.survivor_version = survivor.version
    record.save()
    now = timezone.now()
    for card in others:
        Client.objects.filter(pk=card.pk).update(
            is_archived=True, archived_at=now, version=F("version") + 1
        )
        card.refresh_from_db()
        MergedCard.objects.create(
            merge=record,
            client=card,
            survivor=survivor,
            was_archived=False,
            version_after=card.version,
        )
        log_change(
            actor=actor,
            obj=card,
            action=ObjectChange.Action.ARCHIVE,
            before={"is_archived": False},
            after={"is_archived": True, "merged_into": survivor.pk},
            message=f"merged into {survivor.pk}",
        )
        audit_services.record(
            "merge", obj=card, actor=actor, details={"merge": record.pk, "into": survivor.pk}
        )
    counts = {label: sum(len(ids) for ids in by.values()) for label, by in moved.items()}
    log_change(
        actor=actor,
        obj=survivor,
        action=ObjectChange.Action.UPDATE,
        after={"merged": [c.pk for c in others], "moved": counts, "tags_added": len(added)},
        message=f"merge {record.pk}",
    )
    pairs = DuplicateCandidate.objects.filter(client_a_id__in=pks, client_b_id__in=pks)
    pairs.update(status=DuplicateCandidate.Status.MERGED, merge=record, decided_by=actor)
    pairs.update(decided_at=now)
    index_clients([survivor, *others])
    return record


def merge_cards(
    *,
    actor: User,
    survivor: Client,
    merged: Sequence[Client],
    choices: Mapping[str, int] | None = None,
    expected_versions: Mapping[int, int] | None = None,
) -> Merge:
    """Merge `merged` into `survivor`; `choices` maps a field to the card whose value to keep.

    Requires permission to change every card. Raises PermissionDenied, ValidationError (also
    when a card changed since `expected_versions` were read). One transaction: on any error
    nothing changes.
    """
    try:
        return _merge(actor, survivor.pk, [c.pk for c in merged], choices, expected_versions)
    except IntegrityError as exc:
        raise ValidationError(
            _("These cards cannot be merged: %(error)s") % {"error": exc}, code="merge_conflict"
        ) from exc


def _undo_problem(record: Merge) -> str | None:
    """Why undoing `record` would lose or scramble data, or None when it is safe."""
    survivor = Client.objects.get(pk=record.survivor_id)
    if survivor.version != record.survivor_version:
        return _("The surviving card was changed after the merge; undoing would lose that change.")
    for merged in record.cards.select_related("client"):
        if merged.client.version != merged.version_after or not merged.client.is_archived:
            return _("Card %(name)s was changed after the merge.") % {"name": merged.client}
    relations = {label: (model, field) for label, model, field in client_relations()}
    for label, by_card in record.moved.items():
        model, field = relations[label]
        ids = [pk for pks in by_card.values() for pk in pks]
        elsewhere = model._default_manager.filter(pk__in=ids).exclude(**{field: survivor.pk})
        if elsewhere.exists():
            return _("Some of the moved records now belong to another card.")
    return None


@transaction.atomic
def merge_undo(*, actor: User, merge: Merge) -> Merge:
    """Undo a merge: rows move back, the survivor's fields and tags are restored, the merged
    cards come back from the archive. Refused (ValidationError) when anything involved changed
    since, so that nothing is lost; PermissionDenied unless the actor may change every card."""
    record = Merge.objects.select_for_update().get(pk=merge.pk)
    if record.status != Merge.Status.DONE:
        raise ValidationError(_("This merge was undone already."), code="already_undone")
    pks = [record.survivor_id, *record.cards.values_list("client_id", flat=True)]
    cards = _lock(pks)
    for card in cards.values():
        if not permissions.can_change_client(actor, card):
            raise PermissionDenied(_("You may not change card %(number)s.") % {"number": card})
    problem = _undo_problem(record)
    if problem:
        raise ValidationError(problem, code="unsafe_undo")
    survivor = cards[record.survivor_id]
    relations = {label: (model, field) for label, model, field in client_relations()}
    for label, by_card in record.moved.items():
        model, field = relations[label]
        for old_pk, ids in by_card.items():
            model._default_manager.filter(pk__in=ids).update(**{field: int(old_pk)})
    ContactPoint.objects.filter(pk__in=record.contacts_unprimaried).update(is_primary=True)
    if record.tags_added:
        survivor.tags.remove(*record.tags_added)
    data = {}
    for name, value in record.survivor_before.items():
        target = _FOREIGN_KEYS.get(name)
        if target is not None and value is not None:
            value = target._default_manager.filter(pk=value).first()
        data[name] = value
    client_services.client_update(
        actor=actor, client=survivor, expected_version=None, data=data, allow_duplicates=True
    )
    for merged in record.cards.all():
        card = cards[merged.client_id]
        Client.objects.filter(pk=card.pk).update(
            is_archived=merged.was_archived,
            archived_at=None if not merged.was_archived else card.archived_at,
            version=F("version") + 1,
        )
        card.refresh_from_db()
        log_change(
            actor=actor,
            obj=card,
            action=ObjectChange.Action.RESTORE,
            before={"is_archived": True},
            after={"is_archived": merged.was_archived},
            message=f"merge {record.pk} undone",
        )
        audit_services.record(
            "merge",
            obj=card,
            actor=actor,
            details={"merge": record.pk, "into": survivor.pk, "undone": True},
        )
    log_change(
        actor=actor,
        obj=survivor,
        action=ObjectChange.Action.UPDATE,
        after={"unmerged": pks[1:]},
        message=f"merge {record.pk} undone",
    )
    DuplicateCandidate.objects.filter(merge=record).update(
        status=DuplicateCandidate.Status.OPEN, merge=None, decided_by=None, decided_at=None
    )
    record.status = Merge.Status.UNDONE
    record.undone_at = timezone.now()
    record.undone_by = actor
    record.save(update_fields=["status", "undone_at", "undone_by"])
    index_clients(cards.values())
    return record


@transaction.atomic
def candidate_dismiss(*, actor: User, candidate: DuplicateCandidate) -> DuplicateCandidate:
    """Mark a pair "not a duplicate": it leaves the queue and no later scan brings it back."""
    for card in (candidate.client_a, candidate.client_b):
        if not permissions.can_change_client(actor, card):
            raise PermissionDenied(_("You may not change card %(number)s.") % {"number": card})
    if candidate.status != DuplicateCandidate.Status.OPEN:
        raise ValidationError(_("This pair was decided already."), code="decided")
    candidate.status = DuplicateCandidate.Status.DISMISSED
    candidate.decided_by = actor
    candidate.decided_at = timezone.now()
    candidate.save(update_fields=["status", "decided_by", "decided_at"])
    log_change(
        actor=actor,
        obj=candidate.client_a,
        action=ObjectChange.Action.UPDATE,
        after={"not_duplicate_of": candidate.client_b_id},
        message="not a duplicate",
    )
    return candidate


def can_start_scan(user: Any) -> bool:
    return permissions.can_create_client(user)


def scan_start(*, actor: User | None) -> DuplicateScan:
    """Queue a full scan (background task); one at a time: a running scan is returned."""
    if actor is not None and not can_start_scan(actor):
        raise PermissionDenied(_("You may not start a duplicate scan."))
    active = DuplicateScan.objects.filter(
        status__in=[DuplicateScan.Status.QUEUED, DuplicateScan.Status.RUNNING]
    ).first()
    if active is not None:
        return active
    scan = DuplicateScan.objects.create(created_by=actor)
    from kartoteka.dedupe.tasks import duplicate_scan_task

    transaction.on_commit(lambda: duplicate_scan_task.enqueue(scan.pk))
    return scan
