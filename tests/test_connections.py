"""Pooled connections on PostgreSQL: an idle one that the server dropped is replaced before use; a busy
one is not checked (audit/connections.py). PostgreSQL only: SQLite has no server to drop a connection."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import QueuePool

from audit import create_app
from audit.extensions import db

from .conftest import ROOT, fresh_postgres_database

pytestmark = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs a PostgreSQL server")


@pytest.fixture
def pooled(tmp_path):
    """An app factory on its own database with a real pool of one connection (as production has)."""
    with fresh_postgres_database(os.environ["TEST_DATABASE_URL"]) as url:
        made = []

        def make(ping_after: int):
            app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / f"i{len(made)}"),
                              "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", "RUBRICS_DIR": str(ROOT / "rubrics"),
                              "SQLALCHEMY_ENGINE_OPTIONS": {"poolclass": QueuePool, "pool_size": 1, "max_overflow": 0},
                              "DB_PING_AFTER_SECONDS": ping_after})
            made.append(app)
            return app

        yield make
        for app in made:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def backend_pid(app) -> int:
    with app.app_context():
        pid = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
        db.session.remove()  # the connection goes back to the pool
        return int(pid)


def drop_on_the_server(pid: int) -> None:
    admin = sa.create_engine(os.environ["TEST_DATABASE_URL"], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        assert conn.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}) is True
    admin.dispose()


def test_an_idle_connection_the_server_dropped_is_replaced_before_the_request_sees_it(pooled):
    app = pooled(ping_after=0)  # every checkout comes after "long enough"
    first = backend_pid(app)
    drop_on_the_server(first)
    second = backend_pid(app)  # would raise OperationalError if the dead connection were used
    assert second != first


def test_a_connection_in_constant_use_is_not_pinged(pooled):
    app = pooled(ping_after=3600)
    first = backend_pid(app)
    assert backend_pid(app) == first  # the same connection, handed on
    drop_on_the_server(first)
    # Not pinged: the dead connection is used and fails once; the pool then opens a fresh one.
    with app.app_context(), pytest.raises(sa.exc.OperationalError):
        db.session.scalar(sa.text("SELECT 1"))
    with app.app_context():
        db.session.remove()
    assert backend_pid(app) != first
