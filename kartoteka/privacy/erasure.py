"""Irreversible erasure of a card: what is destroyed, what the law makes us keep.

One transaction per card (and the cards merged into it, which hold the same person's data):

- the card: names, birth date, family status, workplace, notes, interests, preferences,
  custom fields, tags and a person's registration numbers are blanked; the name becomes
  "[erased]"; the card number, kind, status, responsible and team stay; it is archived;
- deleted: contact points, health notes, recommendations, notifications about the card,
  duplicate candidates, the search entry, the quality cache, the retention flag, timeline
  lines of everything but accounting records, and documents with their files and
  thumbnails, except accounting documents (ACCOUNTING_DOCUMENT_KINDS) which the law
  (402-FZ art. 29, tax codes) requires to keep: their row and file stay, title and
  original file name are blanked;
- blanked in place: interactions' subject, content, outcome and next step; order, invoice
  and payment notes (amounts, dates and numbers stay); service feedback; survey summaries;
  task titles and notes; consent evidence references; normalisation and import undo values;
  merge snapshots; data-subject requests' details and reply address;
- the change log (core.ObjectChange, not the hash-chained audit trail) of the card: every
  before/after value and the object's name become "[erased]" (the keys stay, so the history
  still says what kind of change happened when);
- kept as they are (no personal data): health access log, consent ledger rows (purpose,
  dates, basis), audit trail, order lines (products and amounts).

A DestructionRecord (counts per category, no personal data) proves it; on commit a line
goes to the erasure journal (privacy.journal) so a restore of an older backup re-erases it.
"""

import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.files.storage import Storage
from django.db import models, transaction
from django.utils import timezone

from kartoteka.activities.models import Interaction, TimelineEvent
from kartoteka.care.models import HealthNote, Recommendation, SurveyResponse
from kartoteka.clients.models import Client, ContactPoint
from kartoteka.consent.models import ConsentEvent
from kartoteka.core.changelog import log_change
from kartoteka.core.models import ObjectChange
from kartoteka.dedupe.models import DuplicateCandidate, Merge, MergedCard
from kartoteka.documents.models import Document
from kartoteka.finance.models import Invoice, Payment
from kartoteka.imports.models import ImportedCard
from kartoteka.notifications.models import Notification
from kartoteka.privacy import journal
from kartoteka.privacy.models import DataSubjectRequest, DestructionRecord, RetentionFlag
from kartoteka.quality.models import CardQuality, NormalisationChange
from kartoteka.sales.models import Order, ServiceRecord
from kartoteka.search.models import SearchEntry
from kartoteka.tasks.models import Task

ERASED = "[erased]"
ERASURE_REASONS = (
    DestructionRecord.Reason.REQUEST,
    DestructionRecord.Reason.RETENTION,
    DestructionRecord.Reason.REAPPLY,
    DestructionRecord.Reason.MANUAL,
)
ACCOUNTING_DOCUMENT_KINDS = (
    Document.Kind.INVOICE,
    Document.Kind.WAYBILL,
    Document.Kind.ACT,
    Document.Kind.CONTRACT,
)
ACCOUNTING_MODELS = (Order, Invoice, Payment)

# Card fields blanked on every card, and the ones blanked on person cards only (a company's
# legal name and registration numbers identify a business, not a person, and accounting
# records need the counterparty).
CARD_TEXT_FIELDS = [
    "notes",
    "source",
    "last_name",
    "first_name",
    "middle_name",
    "family_status",
    "workplace",
    "position",
    "company_role",
    "interests",
    "preferences",
    "rnokpp",
    "postal_address",
    "website",
]
PERSON_ONLY_TEXT_FIELDS = [
    "legal_name",
    "short_name",
    "inn",
    "kpp",
    "ogrn",
    "edrpou",
    "uscc",
    "vat_number",
    "legal_address",
    "industry",
    "country",
]

# Every model with a relation to Client and what erasure does with it; tests/test_coverage.py
# fails when a model appears that is not listed here.
ERASURE_COVERAGE: dict[str, str] = {
    "clients.Client": "anonymised (employer link of people at a company cleared)",
    "clients.ContactPoint": "deleted",
    "search.SearchEntry": "deleted",
    "activities.Interaction": "content blanked",
    "activities.TimelineEvent": "deleted except accounting lines (summary blanked)",
    "sales.Order": "notes blanked; amounts kept",
    "sales.ServiceRecord": "feedback blanked, photos deleted",
    "finance.Invoice": "notes blanked; amounts kept",
    "finance.Payment": "notes blanked; amounts kept",
    "care.SurveyResponse": "summary blanked",
    "care.Recommendation": "deleted",
    "care.HealthNote": "deleted",
    "care.HealthAccessLog": "kept: who looked when, no personal data",
    "documents.Document": "deleted with files, accounting documents kept",
    "tasks.Task": "title and notes blanked",
    "notifications.Notification": "deleted",
    "quality.CardQuality": "deleted (cache)",
    "quality.NormalisationChange": "values blanked",
    "dedupe.DuplicateCandidate": "deleted",
    "dedupe.Merge": "snapshots blanked",
    "dedupe.MergedCard": "kept: ids only; merged cards erased too",
    "consent.ConsentEvent": "evidence reference blanked",
    "consent.HealthErasureSchedule": "kept: dates and counts only",
    "privacy.DataSubjectRequest": "details and reply address blanked",
    "privacy.DestructionRecord": "kept: the proof, no personal data",
    "privacy.RetentionFlag": "deleted",
    "core.ObjectChange": "values rewritten to [erased]",
    "imports.ImportedCard": "undo values cleared",
}


def erasure_records(client: Client) -> models.QuerySet[DestructionRecord]:
    return DestructionRecord.objects.filter(client=client, reason__in=ERASURE_REASONS)


def is_erased(client: Client) -> bool:
    """Has the card been erased? (A DestructionRecord of an erasure reason exists.)"""
    return erasure_records(client).exists()


def erased_at(client: Client) -> datetime.datetime | None:
    first = erasure_records(client).order_by("performed_at").first()
    return first.performed_at if first else None


def _merged_into(client: Client) -> list[Client]:
    """Cards merged into `client` (transitively): archived copies of the same person."""
    found: dict[int, Client] = {}
    frontier = [client.pk]
    while frontier:
        rows = MergedCard.objects.filter(survivor_id__in=frontier).exclude(
            client_id__in=[client.pk, *found]
        )
        frontier = []
        for merged in rows.select_related("client"):
            if merged.client_id not in found:
                found[merged.client_id] = merged.client
                frontier.append(merged.client_id)
    return list(found.values())


def _scrub_json(value: Any) -> Any:
    """The same shape with every value replaced by "[erased]" (dict keys kept)."""
    if isinstance(value, dict):
        return {key: _scrub_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [ERASED for _ in value]
    if value is None:
        return None
    return ERASED


def _scrub_change_log(ids: list[int]) -> int:
    privacy_types = ContentType.objects.filter(app_label="privacy")
    changes = (
        ObjectChange.objects.filter(client_id__in=ids)
        .exclude(content_type__in=privacy_types)
        .only("pk", "before", "after", "object_repr")
    )
    batch: list[ObjectChange] = []
    count = 0
    for change in changes.iterator(chunk_size=500):
        change.before = _scrub_json(change.before or {})
        change.after = _scrub_json(change.after or {})
        change.object_repr = ERASED
        batch.append(change)
        if len(batch) >= 500:
            ObjectChange.objects.bulk_update(batch, ["before", "after", "object_repr"])
            count += len(batch)
            batch = []
    if batch:
        ObjectChange.objects.bulk_update(batch, ["before", "after", "object_repr"])
        count += len(batch)
    return count


def _documents(ids: list[int], destroyed: dict[str, int], retained: dict[str, int]) -> list[str]:
    """Delete the cards' documents (not accounting ones); returns storage names to remove."""
    rows = Document.objects.filter(client_id__in=ids)
    files: list[str] = []
    gone = rows.exclude(kind__in=ACCOUNTING_DOCUMENT_KINDS)
    for name, thumb in gone.values_list("file", "thumbnail"):
        files.extend(n for n in (name, thumb) if n)
    destroyed["documents"] = len(gone.values_list("pk"))
    destroyed["document_files"] = len(files)
    gone.delete()  # consent evidence and service photos pointing here are set to NULL
    kept = rows.filter(kind__in=ACCOUNTING_DOCUMENT_KINDS)
    retained["accounting_documents"] = kept.update(title="", original_name="document")
    return files


def _blank(queryset: models.QuerySet[Any], **values: Any) -> int:
    return queryset.update(**values)


def _anonymise_cards(cards: list[Client], now: datetime.datetime) -> None:
    for card in cards:
        for field in CARD_TEXT_FIELDS:
            setattr(card, field, "")
        if not card.is_company:
            for field in PERSON_ONLY_TEXT_FIELDS:
                setattr(card, field, "")
        card.birth_date = None
        card.employer = None
        card.custom_field_data = {}
        card.display_name = ERASED
        card.sort_name = ERASED
        card.version += 1
        # Archived at the moment of erasure (even if archived before): the card page shows
        # "erased on" from it without a query.
        card.is_archived = True
        card.archived_at = now
        card.save()
        card.tags.clear()


def _destroy(ids: list[int]) -> tuple[dict[str, int], dict[str, int], list[str]]:
    """Destroy and blank the cards' linked rows; returns (destroyed, retained, files)."""
    destroyed: dict[str, int] = {}
    retained: dict[str, int] = {}
    files = _documents(ids, destroyed, retained)
    destroyed["contacts"] = ContactPoint.objects.filter(client_id__in=ids).delete()[0]
    destroyed["health_notes"] = HealthNote.objects.filter(client_id__in=ids).delete()[0]
    destroyed["recommendations"] = Recommendation.objects.filter(client_id__in=ids).delete()[0]
    destroyed["notifications"] = Notification.objects.filter(client_id__in=ids).delete()[0]
    destroyed["duplicate_candidates"] = DuplicateCandidate.objects.filter(
        models.Q(client_a_id__in=ids) | models.Q(client_b_id__in=ids)
    ).delete()[0]
    SearchEntry.objects.filter(client_id__in=ids).delete()
    CardQuality.objects.filter(client_id__in=ids).delete()
    RetentionFlag.objects.filter(client_id__in=ids).delete()
    accounting_types = [ContentType.objects.get_for_model(m) for m in ACCOUNTING_MODELS]
    timeline = TimelineEvent.objects.filter(client_id__in=ids)
    destroyed["timeline_lines"] = timeline.exclude(content_type__in=accounting_types).delete()[0]
    timeline.update(summary="", summary_msg=None)
    destroyed["interactions"] = _blank(
        Interaction._base_manager.filter(client_id__in=ids),
        subject="",
        content="",
        outcome="",
        next_step="",
        contact_person=None,
    )
    retained["orders"] = _blank(Order._base_manager.filter(client_id__in=ids), notes="")
    retained["invoices"] = _blank(Invoice._base_manager.filter(client_id__in=ids), notes="")
    retained["payments"] = _blank(Payment._base_manager.filter(client_id__in=ids), notes="")
    destroyed["service_feedback"] = _blank(
        ServiceRecord._base_manager.filter(client_id__in=ids), feedback=""
    )
    destroyed["survey_texts"] = _blank(
        SurveyResponse._base_manager.filter(client_id__in=ids), summary=""
    )
    destroyed["tasks"] = _blank(
        Task._base_manager.filter(client_id__in=ids), title=ERASED, notes=""
    )
    # The ledger refuses edits through its own manager (evidence is never changed); erasure
    # is the one lawful exception, for the evidence reference only (purpose, basis and
    # dates stay as proof that processing was lawful).
    destroyed["consent_evidence"] = (
        ConsentEvent._base_manager.filter(client_id__in=ids)
        .exclude(evidence_reference="")
        .update(evidence_reference=ERASED)
    )
    _blank(
        NormalisationChange.objects.filter(client_id__in=ids),
        before=ERASED,
        before_normalized=ERASED,
        after=ERASED,
    )
    _blank(ImportedCard.objects.filter(client_id__in=ids), before=None)
    _blank(Merge.objects.filter(survivor_id__in=ids), survivor_before={}, choices={})
    _blank(
        DataSubjectRequest.objects.filter(client_id__in=ids).exclude(details="", reply_to=""),
        details=ERASED,
        reply_to="",
    )
    destroyed["change_log_entries"] = _scrub_change_log(ids)
    return destroyed, retained, files


def _delete_files(storage: Storage, names: list[str]) -> None:
    for name in names:
        if storage.exists(name):
            storage.delete(name)


@transaction.atomic
def erase_client(
    client: Client,
    actor: Any,
    *,
    request: DataSubjectRequest | None,
    reason: str,
    journal: bool,
) -> DestructionRecord:
    """See privacy.services.erase_client and this module's docstring."""
    card = Client.objects.select_for_update().get(pk=client.pk)
    now = timezone.now()
    cards = [card, *_merged_into(card)]
    ids = [c.pk for c in cards]
    destroyed, retained, files = _destroy(ids)
    destroyed["cards"] = len(cards)
    _anonymise_cards(cards, now)
    record = DestructionRecord.objects.create(
        client=card,
        client_number=card.number,
        request=request,
        reason=reason,
        destroyed=destroyed,
        retained={key: value for key, value in retained.items() if value},
        performed_by=actor if getattr(actor, "pk", None) else None,
        performed_at=now,
    )
    for other in cards[1:]:
        DestructionRecord.objects.create(
            client=other,
            client_number=other.number,
            request=request,
            reason=reason,
            destroyed={"merged_into": card.number},
            performed_by=record.performed_by,
            performed_at=now,
        )
    log_change(
        actor=actor,
        obj=card,
        action=ObjectChange.Action.UPDATE,
        before={},
        after={"erased": True, "destruction_record": record.pk},
        message="erased",
    )
    # Files go last and inside the transaction: should the commit fail, the rows of a card
    # being erased point at missing files (a retry finishes the job), which is better than
    # personal files outliving an erasure that did commit.
    _delete_files(Document._meta.get_field("file").storage, files)
    if journal:
        transaction.on_commit(lambda: _journal_append(cards, now, request, record.pk))
    client.refresh_from_db()
    return record


def _journal_append(
    cards: list[Client],
    now: datetime.datetime,
    request: DataSubjectRequest | None,
    record_id: int,
) -> None:
    for card in cards:
        journal.append_entry(
            client_id=card.pk,
            number=card.card_number,
            erased_at=now,
            request_id=request.pk if request else None,
            destruction_id=record_id,
        )
