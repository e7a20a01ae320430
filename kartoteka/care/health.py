"""Health notes: special-category data (allergies, chronic conditions, contraindications,
health preferences). THE one module that reads or writes HealthNote.stored_text.

- Who: a user who may see the card AND has `health_access` reads; one who may also change the
  card writes. Everyone else learns only how many notes a card has.
- Every read of the content writes a HealthAccessLog "view" row; every write a "create",
  "update" or "delete" row; each with the door it came through (web, api, cli).
- The text never goes to the timeline, the change log (it records "health note changed" and
  the kind only), search, or error messages.
- At rest the text is encrypted (AES-GCM, core.crypto, purpose "health-note") by `_seal` and
  decrypted by `_unseal`; a note that cannot be decrypted reads as a message saying so.
"""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.audit import services as audit_services
from kartoteka.care.models import HealthAccessLog, HealthNote
from kartoteka.clients import permissions
from kartoteka.clients.models import Client
from kartoteka.consent import selectors as consent_selectors
from kartoteka.core import crypto
from kartoteka.core.changelog import log_change
from kartoteka.core.context import current_channel
from kartoteka.core.models import ObjectChange

logger = logging.getLogger(__name__)

MAX_TEXT_LENGTH = 4000
CHANGE_MESSAGE = "health note changed"


# Bound into every sealed value (core.crypto): a health note's ciphertext copied into another
# encrypted column does not decrypt there, nor the other way round.
PURPOSE = "health-note"
# The one encrypted column here, for `kartoteka rotate_keys` (which re-encrypts it without
# ever reading the text through this module: no access log, nothing shown).
SEALED_COLUMN = (HealthNote, "stored_text", PURPOSE)


class UndecryptableText(str):
    """What a note reads as when its text cannot be decrypted (its key was removed from the key
    file, or the stored value was altered): the card shows this message instead of failing."""

    undecryptable = True


def _seal(text: str) -> str:
    """The text as stored: AES-GCM under the current key (core.crypto)."""
    return crypto.encrypt(text, purpose=PURPOSE)


def _unseal(stored: str) -> str:
    """The stored text as read (the inverse of `_seal`)."""
    if not crypto.is_encrypted(stored):
        return stored  # stored before encryption at rest (`rotate_keys --encrypt-existing`)
    try:
        return crypto.decrypt(stored, purpose=PURPOSE)
    except crypto.DecryptionError:
        logger.error("A health note cannot be decrypted (key missing or value altered).")
        return UndecryptableText(
            _(
                "This note cannot be decrypted: its key is missing from the key file or the "
                "stored value was altered."
            )
        )


# --- Who may -----------------------------------------------------------------------------------


def can_access_health(user: Any, client: Client) -> bool:
    """May `user` read the card's health notes?"""
    return permissions.can_view_client(user, client) and bool(getattr(user, "health_access", False))


def can_change_health(user: Any, client: Client) -> bool:
    """May `user` add, edit and delete the card's health notes?"""
    return permissions.can_change_client(user, client) and bool(
        getattr(user, "health_access", False)
    )


def ensure_can_access_health(user: Any, client: Client) -> None:
    if not can_access_health(user, client):
        raise PermissionDenied(_("You may not see health data."))


def ensure_can_change_health(user: Any, client: Client) -> None:
    if not can_change_health(user, client):
        raise PermissionDenied(_("You may not change health data."))


def ensure_health_consent(client: Client) -> None:
    """Special-category data is entered only under a valid health-data consent (consent app);
    without one, the notes are also hidden from every reader."""
    if not consent_selectors.health_data_allowed(client):
        raise ValidationError(
            _("Record the client's consent to processing of health data first."),
            code="health_consent_missing",
        )


# --- Reads -------------------------------------------------------------------------------------


def _notes(client: Client) -> QuerySet[HealthNote]:
    return HealthNote.objects.filter(client=client).select_related("author")


def _log_access(user: Any, client: Client, action: str) -> None:
    HealthAccessLog.objects.create(
        user=user if getattr(user, "pk", None) else None,
        client=client,
        action=action,
        channel=current_channel(),
    )


def health_note_count(*, user: Any, client: Client) -> int:
    """How many health notes the card has: what everyone who sees the card may know.

    `client` must have been fetched for `user`. Reads no content and logs nothing.
    """
    return HealthNote.objects.filter(client=client).count()


def health_notes_for(*, user: Any, client: Client) -> list[tuple[HealthNote, str]]:
    """The card's health notes with their text, ordered by kind; records the view.

    Raises PermissionDenied for a user without health access. Writes one HealthAccessLog
    "view" row per call.
    """
    ensure_can_access_health(user, client)
    if not consent_selectors.health_data_allowed(client):
        return []  # no valid consent (e.g. withdrawn): hidden from everyone, nothing read
    notes = [(note, _unseal(note.stored_text)) for note in _notes(client)]
    _log_access(user, client, HealthAccessLog.Action.VIEW)
    # The audit trail too: which card's notes, how many; never their content.
    audit_services.record(
        "view",
        object_type=HealthNote._meta.label_lower,
        client_id=client.pk,
        actor=user,
        details={"notes": len(notes)},
    )
    return notes


def health_note_get(*, user: Any, client: Client, pk: int) -> tuple[HealthNote, str]:
    """One health note of the card with its text; records the view.

    Raises PermissionDenied without health access, Http404 when the card has no such note.
    """
    ensure_can_access_health(user, client)
    note = _notes(client).filter(pk=pk).first()
    if note is None or not consent_selectors.health_data_allowed(client):
        raise Http404("No such health note")
    _log_access(user, client, HealthAccessLog.Action.VIEW)
    audit_services.record("view", obj=note, client_id=client.pk, actor=user)
    return note, _unseal(note.stored_text)


def health_note_ref(*, user: Any, client: Client, pk: int) -> HealthNote:
    """A health note of the card to change or delete, without reading its text.

    Raises PermissionDenied without health access, Http404 when the card has no such note.
    """
    ensure_can_access_health(user, client)
    note = _notes(client).defer("stored_text").filter(pk=pk).first()
    if note is None or not consent_selectors.health_data_allowed(client):
        raise Http404("No such health note")
    note.client = client
    return note


# --- Writes ------------------------------------------------------------------------------------


def _validate(note: HealthNote, text: str | None) -> None:
    """Field errors for the kind and the text; messages never quote the text."""
    errors: dict[str, list[ValidationError]] = {}
    try:
        note.full_clean(exclude=["client", "author", "stored_text"])
    except ValidationError as exc:
        errors.update(exc.error_dict)
    if text is not None:
        if not text:
            errors["text"] = [ValidationError(_("This field is required."), code="required")]
        elif len(text) > MAX_TEXT_LENGTH:
            errors["text"] = [
                ValidationError(
                    _("Keep it under %(max)s characters.") % {"max": MAX_TEXT_LENGTH},
                    code="max_length",
                )
            ]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def health_note_create(
    *, actor: User, client: Client, kind: str, text: str
) -> tuple[HealthNote, str]:
    """Add a health note to the card; returns it with its text as stored.

    Raises PermissionDenied, ValidationError (kind, text). Writes a HealthAccessLog "create"
    row and an ObjectChange without the text.
    """
    ensure_can_change_health(actor, client)
    ensure_health_consent(client)
    text = (text or "").strip()
    note = HealthNote(client=client, author=actor, kind=kind or "")
    _validate(note, text)
    note.stored_text = _seal(text)
    note.save()
    log_change(
        actor=actor,
        obj=note,
        action=ObjectChange.Action.CREATE,
        after={"client": client.pk, "kind": note.kind},
        message=CHANGE_MESSAGE,
    )
    _log_access(actor, client, HealthAccessLog.Action.CREATE)
    return note, text


@transaction.atomic
def health_note_update(
    *, actor: User, note: HealthNote, kind: str | None = None, text: str | None = None
) -> tuple[HealthNote, str]:
    """Change a note's kind and/or text (None: keep); returns it with its text as stored.

    Raises PermissionDenied, ValidationError. Writes a HealthAccessLog "update" row (which
    covers handing the text back to the writer) and an ObjectChange without the text.
    """
    client = note.client
    ensure_can_change_health(actor, client)
    ensure_health_consent(client)
    before = {"kind": note.kind}
    saved_kind = note.kind
    if kind is not None:
        note.kind = kind
    if text is not None:
        text = text.strip()
    try:
        _validate(note, text)
    except ValidationError:
        note.kind = saved_kind
        raise
    fields = ["kind", "updated_at"]
    if text is not None:
        note.stored_text = _seal(text)
        fields.append("stored_text")
    note.save(update_fields=fields)
    log_change(
        actor=actor,
        obj=note,
        action=ObjectChange.Action.UPDATE,
        before=before,
        after={"kind": note.kind},
        message=CHANGE_MESSAGE,
    )
    _log_access(actor, client, HealthAccessLog.Action.UPDATE)
    return note, _unseal(note.stored_text)


@transaction.atomic
def health_note_delete(*, actor: User, note: HealthNote) -> None:
    """Delete a health note. Raises PermissionDenied. Writes a HealthAccessLog "delete" row and
    an ObjectChange without the text."""
    client = note.client
    ensure_can_change_health(actor, client)
    log_change(
        actor=actor,
        obj=note,
        action=ObjectChange.Action.DELETE,
        before={"client": client.pk, "kind": note.kind},
        message=CHANGE_MESSAGE,
    )
    _log_access(actor, client, HealthAccessLog.Action.DELETE)
    note.delete()


def health_access_log(*, user: Any, client: Client, limit: int = 50) -> list[HealthAccessLog]:
    """Who viewed or changed the card's health notes, newest first (for those with access)."""
    ensure_can_access_health(user, client)
    return list(HealthAccessLog.objects.filter(client=client).select_related("user")[:limit])


def health_notes_for_subject(*, actor: Any, client: Client) -> list[tuple[HealthNote, str]]:
    """Every health note of the card with its text, for the person's own access export.

    Used by privacy.access only: the subject has the right to these notes whatever the
    consent state, so no consent gate; the caller checks its own permission. Records one
    HealthAccessLog "view" row (actor None means the system).
    """
    notes = [(note, _unseal(note.stored_text)) for note in _notes(client)]
    _log_access(actor, client, HealthAccessLog.Action.VIEW)
    return notes
