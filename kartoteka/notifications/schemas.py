"""The shapes of notifications and reminder rules in the REST API (ninja schemas)."""

import datetime
from decimal import Decimal

from ninja import Field, Schema
from pydantic import ConfigDict


class NotificationOut(Schema):
    id: int
    kind: str = Field(
        description="task_due, birthday, stale_card, overdue_recommendation, overdue_debt, "
        "silent_client."
    )
    text: str = Field(description="The message in your language, dates in your time zone.")
    msgid: str = Field(description="The message untranslated (English), for programs.")
    params: dict = Field(description="The message's parameters (`_at` instants, `_on` dates).")
    link: str = Field(description="Where it points in the web UI (a path), or ''.")
    client_id: int | None
    task_id: int | None
    created_at: datetime.datetime
    read_at: datetime.datetime | None
    email_status: str = Field(description="'' (not emailed), pending, sending, sent, failed.")
    emailed_at: datetime.datetime | None


class NotificationPage(Schema):
    items: list[NotificationOut]
    next_before: int | None = Field(
        description="Pass as `before` for the next (older) page; null on the last."
    )


class NotificationPatch(Schema):
    model_config = ConfigDict(extra="forbid")
    read: bool


class UnreadCountOut(Schema):
    unread: int


class MarkedOut(Schema):
    marked: int


class ReminderRuleOut(Schema):
    key: str
    name: str
    enabled: bool
    amount: int = Field(
        description="Minutes before a task is due (task_due); days otherwise: before a "
        "birthday, without confirmation, past the due date, or the least silence."
    )
    factor: Decimal = Field(description="silent_client: times the client's usual interval.")
    email: bool
    last_run_on: datetime.date | None
    updated_at: datetime.datetime

    @staticmethod
    def resolve_name(obj) -> str:
        return str(obj.get_key_display())


class ReminderRulePatch(Schema):
    model_config = ConfigDict(extra="forbid")
    enabled: bool | None = None
    amount: int | None = None
    factor: Decimal | None = None
    email: bool | None = None
