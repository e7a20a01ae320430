"""Reads of a card's change history: the core.ObjectChange rows of the card and its sections,
scoped to users who may see the card, filtered, paginated and shown field by field.

Only a card fetched through clients.selectors.client_get (so visible to the user) comes in
here; the rows themselves are found by ObjectChange.client_id, one indexed query per page.
"""

import datetime
import decimal
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format, number_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kartoteka.accounts.models import User
from kartoteka.clients.models import Client, ContactPoint
from kartoteka.clients.permissions import can_change_client, can_view_client
from kartoteka.core.changelog import snapshot
from kartoteka.core.models import ObjectChange

PER_PAGE = 50
MAX_PER_PAGE = 200

# Sections whose changes are shown without any values: health notes are special-category
# data, and their log rows carry only "health note changed" and the kind (care.health).
VALUELESS_SECTIONS = frozenset({"care.healthnote"})
# Never shown, whatever the model: secrets and stored (possibly encrypted) payloads.
HIDDEN_FIELD_MARKERS = ("password", "secret", "token", "stored_", "ciphertext", "key_hash")
# Snapshot keys of the card that are not model fields.
EXTRA_LABELS = {
    "contacts": gettext_lazy("contacts"),
    "tags": gettext_lazy("tags"),
}


def restorable_fields() -> frozenset[str]:
    """Fields of the card a restore may set back: what clients.services.client_update takes."""
    from kartoteka.clients.services import EDITABLE_FIELDS

    # "kind" switches the card between person and company and clears half of it: never
    # restored on its own.
    return frozenset(EDITABLE_FIELDS) - {"kind"} | {"contacts", "tags"}


def card_values(client: Client, names: Iterable[str]) -> dict[str, Any]:
    """The card's values of `names` in the change log's form, to compare with a change."""
    names = list(names)
    values = snapshot(client, [n for n in names if n not in ("contacts", "tags")])
    if "contacts" in names:
        values["contacts"] = sorted(
            f"{c.kind}:{c.value}" + (" *" if c.is_primary else "") for c in client.contacts.all()
        )
    if "tags" in names:
        values["tags"] = sorted(client.tags.values_list("name", flat=True))
    return values


@dataclass
class FieldChange:
    """One field of one change, as shown: its label and the before and after values."""

    name: str
    label: str
    before: str
    after: str
    restorable: bool = False


@dataclass
class Entry:
    """One change as the history shows it."""

    change: ObjectChange
    section: str
    section_key: str
    fields: list[FieldChange] = field(default_factory=list)
    is_card: bool = False
    note: str = ""
    restored_from: int | None = None

    @property
    def object_label(self) -> str:
        """How the changed object is named; never for valueless (health) sections."""
        return "" if self.section_key in VALUELESS_SECTIONS else self.change.object_repr

    @property
    def restorable_names(self) -> list[str]:
        return [f.name for f in self.fields if f.restorable]


@dataclass
class HistoryPage:
    """One page of a card's history, newest first."""

    entries: list[Entry]
    number: int
    has_next: bool
    per_page: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1


@dataclass
class HistoryFilters:
    """What the history is narrowed to; every part optional."""

    section: str = ""  # "app_label.model", e.g. "clients.client"
    actor: int | None = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None


def _card_changes(client: Client) -> QuerySet[ObjectChange]:
    return ObjectChange.objects.filter(client_id=client.pk)


def _ensure_visible(user: Any, client: Client) -> None:
    if not can_view_client(user, client):
        raise Http404("No such client")


def _section_content_type(section: str) -> ContentType | None:
    app_label, _dot, model = section.partition(".")
    if not app_label or not model:
        return None
    try:
        return ContentType.objects.get_by_natural_key(app_label, model)
    except ContentType.DoesNotExist:
        return None


def _day_start(day: datetime.date) -> datetime.datetime:
    """Midnight of `day` in the viewer's time zone (the middleware activated it)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def history_queryset(
    *, user: Any, client: Client, filters: HistoryFilters | None = None
) -> QuerySet[ObjectChange]:
    """The card's changes (the card and all its sections) narrowed by `filters`, newest first.

    Raises Http404 when `user` may not see the card.
    """
    _ensure_visible(user, client)
    filters = filters or HistoryFilters()
    queryset = _card_changes(client)
    if filters.section:
        content_type = _section_content_type(filters.section)
        if content_type is None:
            return queryset.none()
        queryset = queryset.filter(content_type=content_type)
    if filters.actor is not None:
        queryset = queryset.filter(actor_id=filters.actor)
    if filters.date_from is not None:
        queryset = queryset.filter(timestamp__gte=_day_start(filters.date_from))
    if filters.date_to is not None:
        queryset = queryset.filter(
            timestamp__lt=_day_start(filters.date_to + datetime.timedelta(days=1))
        )
    return queryset.select_related("actor").order_by("-timestamp", "-pk")


def history_page(
    *,
    user: Any,
    client: Client,
    filters: HistoryFilters | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> HistoryPage:
    """One page of the card's history, every change ready to show (labels, display values).

    A fixed number of queries whatever the page holds: the rows with their actors, then one
    query per kind of referenced object (employees, teams, cards, ...).
    """
    page = max(page, 1)
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    queryset = history_queryset(user=user, client=client, filters=filters)
    offset = (page - 1) * per_page
    rows = list(queryset[offset : offset + per_page + 1])
    has_next = len(rows) > per_page
    rows = rows[:per_page]
    return HistoryPage(
        entries=present(user=user, client=client, changes=rows),
        number=page,
        has_next=has_next,
        per_page=per_page,
    )


def history_change_get(*, user: Any, client: Client, pk: int) -> ObjectChange:
    """One change of the card; Http404 when it is not the card's or the card is not visible."""
    _ensure_visible(user, client)
    change = _card_changes(client).select_related("actor").filter(pk=pk).first()
    if change is None:
        raise Http404("No such change")
    return change


def history_section_choices(*, user: Any, client: Client) -> list[tuple[str, str]]:
    """The sections that have changes on this card: ("app_label.model", label), by label."""
    _ensure_visible(user, client)
    ids = _card_changes(client).values_list("content_type_id", flat=True).distinct()
    choices = []
    for content_type_id in set(ids):
        content_type = ContentType.objects.get_for_id(content_type_id)
        key = f"{content_type.app_label}.{content_type.model}"
        choices.append((key, _section_label(content_type)))
    return sorted(choices, key=lambda choice: choice[1].lower())


def history_actor_choices(*, user: Any, client: Client) -> list[tuple[int, str]]:
    """The people who changed this card or its sections: (user id, name), by name."""
    _ensure_visible(user, client)
    ids = (
        _card_changes(client)
        .filter(actor__isnull=False)
        .values_list("actor_id", flat=True)
        .distinct()
    )
    people = User.objects.filter(pk__in=list(set(ids)))
    return sorted(((u.pk, str(u)) for u in people), key=lambda choice: choice[1].lower())


# --- Presentation ----------------------------------------------------------------------------


def _section_label(content_type: ContentType) -> str:
    model = content_type.model_class()
    if model is None:
        return content_type.model
    if model is Client:
        return _("Card")  # what people call the client's own record here
    return str(capfirst(model._meta.verbose_name))


def _is_hidden(name: str) -> bool:
    return any(marker in name for marker in HIDDEN_FIELD_MARKERS)


def _model_field(model: type[models.Model] | None, name: str) -> models.Field | None:
    if model is None:
        return None
    try:
        found = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return found if isinstance(found, models.Field) else None


def field_label(model: type[models.Model] | None, name: str) -> str:
    if name in EXTRA_LABELS:
        return str(capfirst(EXTRA_LABELS[name]))
    model_field = _model_field(model, name)
    if model_field is None:
        return name.replace("_", " ").capitalize()
    return str(capfirst(model_field.verbose_name))


def _contact_text(raw: Any) -> str:
    """'phone:+7 916 … *' (the change log's form) -> 'Phone: +7 916 … (primary)'."""
    kind, _sep, rest = str(raw).partition(":")
    primary = rest.endswith(" *")
    value = rest.removesuffix(" *")
    label = dict(ContactPoint.Kind.choices).get(kind, kind)
    text = f"{label}: {value}"
    return text + " " + _("(primary)") if primary else text


def _related_model(model_field: models.Field | None) -> type[models.Model] | None:
    if model_field is None or not model_field.many_to_one:
        return None
    related = model_field.related_model
    return related if isinstance(related, type) else None


class _References:
    """Names of the objects the shown changes point to, one query per model.

    Cards are named only when the viewer may see them: a name must not leak a hidden card.
    """

    def __init__(self, user: Any) -> None:
        self.user = user
        self.wanted: dict[type[models.Model], set[int]] = {}
        self.names: dict[tuple[type[models.Model], int], str] = {}

    def want(self, model: type[models.Model], value: Any) -> None:
        if isinstance(value, int) and not isinstance(value, bool):
            self.wanted.setdefault(model, set()).add(value)

    def resolve(self) -> None:
        for model, ids in self.wanted.items():
            queryset: QuerySet[Any] = model._default_manager.filter(pk__in=ids)
            if model is Client:
                queryset = Client.objects.visible_to(self.user).filter(pk__in=ids)
            for obj in queryset:
                self.names[(model, obj.pk)] = str(obj)

    def name(self, model: type[models.Model], value: Any) -> str:
        found = self.names.get((model, value))
        if found is not None:
            return found
        if model is Client:
            return _("a card you cannot see or that no longer exists")
        return _("#%(id)s (no longer exists)") % {"id": value}


def _format_value(
    model: type[models.Model] | None, name: str, value: Any, references: _References
) -> str:
    if value in (None, "", [], {}):
        return "—"
    if name == "contacts" and isinstance(value, list):
        return "; ".join(_contact_text(item) for item in value)
    model_field = _model_field(model, name)
    related = _related_model(model_field)
    if related is not None:
        return references.name(related, value)
    if model_field is not None and model_field.choices:
        choices = dict(model_field.flatchoices)
        return str(choices.get(value, value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(model_field, models.DateTimeField) and isinstance(value, str):
        moment = parse_datetime(value)
        if moment is not None:
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment, datetime.UTC)
            return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")
    if isinstance(model_field, models.DateField) and isinstance(value, str):
        day = parse_date(value)
        if day is not None:
            return date_format(day, "SHORT_DATE_FORMAT")
    if isinstance(model_field, models.DecimalField):
        try:
            return number_format(decimal.Decimal(str(value)), use_l10n=True, force_grouping=True)
        except decimal.InvalidOperation:
            return str(value)
    return str(value)


def _field_order(model: type[models.Model] | None) -> dict[str, int]:
    """Position of each field in its model, so fields read in the order the form shows them."""
    if model is None:
        return {}
    return {f.name: index for index, f in enumerate(model._meta.get_fields())}


def _shown_names(change: ObjectChange, model: type[models.Model] | None) -> list[str]:
    if change.action == ObjectChange.Action.UPDATE:
        names = change.changed_fields
    else:
        # A created or deleted object shows what it was made with / what it had; empty
        # fields would only bury that.
        values = change.after if change.action == ObjectChange.Action.CREATE else change.before
        values = values or {**change.before, **change.after}
        names = [n for n, v in values.items() if v not in (None, "", [], {}, False)]
    order = _field_order(model)
    return sorted(
        (n for n in names if not _is_hidden(n)), key=lambda n: (order.get(n, len(order)), n)
    )


def present(*, user: Any, client: Client, changes: Iterable[ObjectChange]) -> list[Entry]:
    """Changes as the history shows them: section, field labels, values in the viewer's
    language and time zone, references by name (resolved in one query per model)."""
    changes = list(changes)
    references = _References(user)
    plan: list[tuple[ObjectChange, ContentType, type[models.Model] | None, list[str]]] = []
    for change in changes:
        content_type = ContentType.objects.get_for_id(change.content_type_id)
        key = f"{content_type.app_label}.{content_type.model}"
        model = content_type.model_class()
        names = [] if key in VALUELESS_SECTIONS else _shown_names(change, model)
        plan.append((change, content_type, model, names))
        for name in names:
            related = _related_model(_model_field(model, name))
            if related is not None:
                references.want(related, change.before.get(name))
                references.want(related, change.after.get(name))
    references.resolve()
    restorable = restorable_fields()
    # A value the card has again needs no restore button: ask the card once for all rows.
    current: dict[str, Any] = {}
    if can_change_client(user, client):
        wanted = {
            name
            for change, _ct, model, names in plan
            if model is Client and change.action == ObjectChange.Action.UPDATE
            for name in names
            if name in restorable
        }
        current = card_values(client, wanted) if wanted else {}
    entries = []
    for change, content_type, model, names in plan:
        key = f"{content_type.app_label}.{content_type.model}"
        is_card = model is Client
        is_update = change.action == ObjectChange.Action.UPDATE
        fields = [
            FieldChange(
                name=name,
                label=field_label(model, name),
                before=_format_value(model, name, change.before.get(name), references),
                after=_format_value(model, name, change.after.get(name), references),
                restorable=(
                    is_card
                    and is_update
                    and name in current
                    and current[name] != change.before.get(name)
                ),
            )
            for name in names
        ]
        restored_from = _restored_from(change)
        entries.append(
            Entry(
                change=change,
                section=_section_label(content_type),
                section_key=key,
                fields=fields,
                is_card=is_card,
                note=_note(change, key, restored_from),
                restored_from=restored_from,
            )
        )
    return entries


RESTORE_PREFIX = "restored from change #"


def _restored_from(change: ObjectChange) -> int | None:
    """The id of the change `change` restored values from (history.services), if any."""
    if not change.message.startswith(RESTORE_PREFIX):
        return None
    tail = change.message[len(RESTORE_PREFIX) :]
    return int(tail) if tail.isdigit() else None


def _note(change: ObjectChange, section_key: str, restored_from: int | None) -> str:
    """The change's message in the viewer's language; internal messages of other kinds are
    not shown (they are not written for people)."""
    if restored_from is not None:
        return _("Restored from change #%(id)s") % {"id": restored_from}
    if change.message == "actualized":
        return _("Data confirmed as current")
    if section_key in VALUELESS_SECTIONS:
        return _("Health note changed; its contents are never shown in the history.")
    return ""
