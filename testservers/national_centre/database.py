"""Opening the centre's store for a database setting (SQLite or PostgreSQL).

Kept apart from :mod:`.storage` (the protocol and its value types), which the backends
import: the backends are imported here, so no module imports back the one importing it.
"""

from __future__ import annotations

from .storage import Store

__all__ = ["open_store"]


def open_store(database: str) -> Store:
    """The store for a database setting: an SQLite path, ``sqlite:///path`` or an SQLite
    ``file:`` URI, or a ``postgresql://`` URL (psycopg connection URL; the tables are created
    when missing).

    Raises:
        StoreUnavailable: the database cannot be opened for writing (one line saying why).
    """
    if database.startswith(("postgresql://", "postgres://")):
        from ._postgres import PostgresStore

        return PostgresStore(database)
    from ._sqlite import SqliteStore

    if database.startswith("file:"):
        return SqliteStore(database, uri=True)
    path = database.removeprefix("sqlite:///") if database.startswith("sqlite:///") else database
    return SqliteStore(path)
