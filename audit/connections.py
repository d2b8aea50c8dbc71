"""Pooled database connections: one that sat idle is checked before use, a busy one is not.

SQLAlchemy's `pool_pre_ping` checks every checkout with a round trip (SELECT 1): on PostgreSQL that
was one request in eight of an auditor's save, on a path that needs every millisecond (`make bench`,
load rows). A connection the server or a firewall dropped is one that waited: a database restart,
an idle timeout. So a connection is pinged only when it comes back to use after DB_PING_AFTER_SECONDS
(default 5) in the pool; one that is handed from request to request is used as it is. A failed ping
raises DisconnectionError, on which the pool throws the connection away and opens a fresh one; the
request never sees it. A connection dropped while in constant use fails its request once (the
auditor's phone keeps the answers and sends them again) and SQLAlchemy replaces the pool's
connections that are older than the failure.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from flask import Flask

from .extensions import db

SQLITE_BUSY_SECONDS = 30
RETURNED_AT = "audit_returned_at"  # key in the pool record's info: when the connection last went back


def init_app(app: Flask) -> None:
    idle_limit = float(app.config.get("DB_PING_AFTER_SECONDS", 5))
    with app.app_context():
        engines = list(db.engines.values())
    for engine in engines:
        _watch(engine, idle_limit)


def _watch(engine: sa.Engine, idle_limit: float) -> None:
    dialect = engine.dialect
    if dialect.name == "sqlite":
        in_file = engine.url.database not in (None, "", ":memory:") and "mode=memory" not in str(engine.url)

        @sa.event.listens_for(engine, "connect")
        def _sqlite_settings(dbapi_connection: Any, _record: Any) -> None:
            # Write-ahead logging: readers never wait for a writer (a national publish holds the write lock for
            # seconds), and the web and the job worker share one file. synchronous=FULL keeps a committed
            # submission through a power cut as the rollback journal did (NORMAL could lose the last ones).
            # A writer still waits for another writer, up to SQLITE_BUSY_SECONDS, instead of failing at once.
            dbapi_connection.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_SECONDS * 1000)}")
            if in_file:
                dbapi_connection.execute("PRAGMA journal_mode = WAL")
                dbapi_connection.execute("PRAGMA synchronous = FULL")

    @sa.event.listens_for(engine, "checkin")
    def _returned(dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[RETURNED_AT] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        returned = record.info.get(RETURNED_AT)
        if returned is None or time.monotonic() - returned < idle_limit:
            return  # just opened, or just used: alive
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:  # whatever the driver raises for a dead connection
            raise sa.exc.DisconnectionError("the pooled connection did not answer") from exc
