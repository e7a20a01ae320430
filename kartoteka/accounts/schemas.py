"""The shapes of the signed-in user and their API tokens in the REST API."""

import datetime
from typing import Literal

from ninja import Field, Schema
from pydantic import ConfigDict

from kartoteka.accounts.models import ApiToken, User


class TeamOut(Schema):
    id: int
    name: str


class MeOut(Schema):
    """Who the request is made as: the user, their role and teams."""

    id: int
    username: str
    name: str
    email: str
    role: str = Field(description="admin, manager, employee or readonly.")
    role_display: str
    language: str = Field(description="The interface language chosen; empty for the browser's.")
    teams: list[TeamOut]

    @staticmethod
    def resolve_name(obj: User) -> str:
        return str(obj)

    @staticmethod
    def resolve_role_display(obj: User) -> str:
        return str(obj.get_role_display())

    @staticmethod
    def resolve_teams(obj: User) -> list[dict[str, object]]:
        return [{"id": team.pk, "name": team.name} for team in obj.teams.order_by("name")]


class ApiTokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="The key's first characters, to tell tokens apart.")
    scope: str = Field(description="read (safe methods only) or write.")
    expires_at: datetime.datetime | None = Field(description="None: never expires.")
    created_at: datetime.datetime
    last_used_at: datetime.datetime | None
    revoked_at: datetime.datetime | None
    is_active: bool

    @staticmethod
    def resolve_is_active(obj: ApiToken) -> bool:
        return obj.revoked_at is None and not obj.is_expired


class ApiTokenCreatedOut(ApiTokenOut):
    key: str = Field(description="The secret key. Shown this once; store it now.")


class ApiTokenIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="What the token is for, e.g. 'website form'.")
    scope: Literal["read", "write"] = Field(
        "write", description="read: GET, HEAD and OPTIONS only; write: everything you may do."
    )
    expires_at: datetime.datetime | None = Field(
        None, description="When the token stops working; omit for never."
    )
