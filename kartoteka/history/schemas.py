"""The shapes of a card's change history and of a restore in the REST API."""

import datetime

from ninja import Field, Schema
from pydantic import ConfigDict

from kartoteka.clients.schemas import RefOut
from kartoteka.history.selectors import MAX_PER_PAGE, PER_PAGE, Entry, HistoryFilters


class HistoryQuery(Schema):
    """Filters and page of GET /clients/{id}/history."""

    section: str | None = Field(
        None, description='Only changes of one section, as "app_label.model" (e.g. "sales.order").'
    )
    actor: int | None = Field(None, description="Only changes made by this user id.")
    date_from: datetime.date | None = Field(None, description="From this day (your time zone).")
    date_to: datetime.date | None = Field(None, description="Up to and including this day.")
    page: int = Field(1, ge=1)
    limit: int = Field(PER_PAGE, ge=1, le=MAX_PER_PAGE)

    def filters(self) -> HistoryFilters:
        return HistoryFilters(
            section=self.section or "",
            actor=self.actor,
            date_from=self.date_from,
            date_to=self.date_to,
        )


class FieldChangeOut(Schema):
    """One field of a change, values as people read them (labels, names, local formats)."""

    name: str
    label: str
    before: str
    after: str
    restorable: bool = Field(description="May this user set the field back to `before`?")


class ChangeOut(Schema):
    """One recorded change of the card or one of its sections."""

    id: int
    timestamp: datetime.datetime
    action: str
    action_label: str
    door: str = Field(description="web, api, cli, import or system")
    door_label: str
    actor: RefOut | None
    section: str = Field(description='"app_label.model" of the changed object')
    section_label: str
    object_id: int
    object_repr: str
    note: str
    restored_from: int | None = Field(description="The change this one restored values from.")
    fields: list[FieldChangeOut]

    @staticmethod
    def from_entry(entry: Entry) -> "ChangeOut":
        change = entry.change
        actor = change.actor
        return ChangeOut(
            id=change.pk,
            timestamp=change.timestamp,
            action=change.action,
            action_label=str(change.get_action_display()),
            door=change.channel,
            door_label=str(change.get_channel_display()),
            actor=None if actor is None else RefOut(id=actor.pk, name=str(actor)),
            section=entry.section_key,
            section_label=entry.section,
            object_id=change.object_id,
            object_repr=entry.object_label,
            note=entry.note,
            restored_from=entry.restored_from,
            fields=[
                FieldChangeOut(
                    name=f.name,
                    label=f.label,
                    before=f.before,
                    after=f.after,
                    restorable=f.restorable,
                )
                for f in entry.fields
            ],
        )


class HistoryPageOut(Schema):
    items: list[ChangeOut]
    page: int
    has_next: bool
    limit: int


class RestoreIn(Schema):
    """Which fields to set back to their values before the change (none: all of them)."""

    model_config = ConfigDict(extra="forbid")

    fields: list[str] | None = Field(
        None, description="Field names of the change; omitted or empty: every restorable one."
    )
    expected_version: int | None = Field(
        None,
        ge=1,
        description="The card version you saw; a later edit by someone else gives 409.",
    )
