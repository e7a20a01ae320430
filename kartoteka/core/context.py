"""Where a change came from: the door (web, API, CLI) and the request, for the change log.

Set once at the edge (middleware, API auth, CLI) and read by core.changelog, so services
never need request objects.
"""

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

_channel: contextvars.ContextVar[str] = contextvars.ContextVar("channel", default="system")
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def current_channel() -> str:
    return _channel.get()


def current_request_id() -> str:
    return _request_id.get()


def set_channel(channel: str) -> None:
    _channel.set(channel)


@contextmanager
def change_context(*, channel: str, request_id: str | None = None) -> Iterator[str]:
    """Mark every change made inside the block as coming through `channel`."""
    rid = request_id or uuid.uuid4().hex
    channel_token = _channel.set(channel)
    rid_token = _request_id.set(rid)
    try:
        yield rid
    finally:
        _channel.reset(channel_token)
        _request_id.reset(rid_token)
