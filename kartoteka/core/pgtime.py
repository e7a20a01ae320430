"""PostgreSQL: timestamps read by psycopg's C parser, with Django's time zone handling.

Django reads every `timestamp with time zone` through its own loader (`SpecificTzLoader`
in django.db.backends.postgresql.psycopg_any), a subclass of psycopg's pure-Python
loader: it parses the text with a regular expression, then sets the connection's time
zone. With psycopg's C extension installed (psycopg[binary]) that Python parse is the
slow part of reading a row: a list page of 50 cards holds some 400 timestamps (cards,
contacts, users), and measured at a million cards the three timestamps of 51 cards took
2.6 ms through Django's loader against 0.7 ms through psycopg's own (`SELECT created_at,
updated_at, actualized_at … WHERE id = ANY(…)`, median of 100).

`TzLoader` keeps Django's behaviour, value for value: the C loader parses, and the result
gets the connection's time zone exactly as Django's loader gives it (`replace(tzinfo=…)`).
It carries `timezone` like Django's, so Django's per-cursor check (`create_cursor`) sees
the right loader in place and leaves it. Installed on each new connection
(`connection_created`, see CoreConfig.ready); nothing happens without the C extension.
"""

from typing import Any

_C_LOADER: Any = None


def _c_loader() -> Any:
    """psycopg's C loader for timestamptz text, or None without the C extension."""
    global _C_LOADER
    if _C_LOADER is None:
        from psycopg import adapters, pq

        loader = adapters.get_loader(adapters.types["timestamptz"].oid, pq.Format.TEXT)
        _C_LOADER = loader if loader.__module__.startswith("psycopg_binary") else False
    return _C_LOADER or None


def tz_loader(timezone: Any) -> type:
    """A loader class like Django's `SpecificTzLoader` for `timezone`, parsing in C."""
    from psycopg.adapt import Loader

    c_loader = _c_loader()

    class TzLoader(Loader):
        def __init__(self, oid: int, context: Any = None) -> None:
            super().__init__(oid, context)
            self._parse = c_loader(oid, context).load

        def load(self, data: Any) -> Any:
            return self._parse(data).replace(tzinfo=self.timezone)

    TzLoader.timezone = timezone  # type: ignore[attr-defined]
    return TzLoader


def install(sender: Any, connection: Any, **kwargs: Any) -> None:
    """`connection_created` receiver: put `TzLoader` where Django put its loader."""
    if connection.vendor != "postgresql" or _c_loader() is None:
        return
    from psycopg import pq

    adapters = connection.connection.adapters
    current = adapters.get_loader(adapters.types["timestamptz"].oid, pq.Format.TEXT)
    if not hasattr(current, "timezone"):
        return  # not Django's loader: someone else's choice, left alone
    adapters.register_loader("timestamptz", tz_loader(current.timezone))
