"""The shapes of the audit trail in the REST API (ninja schemas, hence OpenAPI)."""

import datetime
from typing import Any, Literal

from ninja import Field, Schema

AuditAction = Literal[
    "view",
    "create",
    "update",
    "archive",
    "restore",
    "delete",
    "export",
    "print",
    "download",
    "merge",
    "import",
]
AuditDoor = Literal["web", "api", "cli", "import", "system"]


class AuditEventOut(Schema):
    id: int = Field(description="Position in the chain (gapless).")
    at: datetime.datetime = Field(description="When, in UTC.")
    actor_id: int | None
    actor_username: str
    action: str
    door: str = Field(description="web, api, cli, import or system.")
    object_type: str = Field(description="app.model of the object, e.g. clients.client.")
    object_id: str
    client_id: int | None = Field(description="The card the event concerns.")
    ip: str
    user_agent: str
    request_id: str
    details: dict[str, Any] = Field(description="Field names, counts, formats; never values.")
    prev_hash: str
    hash: str

    @staticmethod
    def resolve_door(obj: Any) -> str:
        return str(obj.channel)

    @staticmethod
    def resolve_at(obj: Any) -> datetime.datetime:
        return obj.at.astimezone(datetime.UTC)


class AuditEventPageOut(Schema):
    items: list[AuditEventOut]
    next_before: int | None = Field(description="Pass as `before` for the next (older) page.")


class AuditVerifyOut(Schema):
    intact: bool
    checked: int
    broken_id: int | None
    reason: str
