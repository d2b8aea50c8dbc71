"""The embedded SQLite file in write-ahead-log mode (audit/connections.py): a reader never waits for a writer,
a commit is as durable as before, and a backup holds what is committed but not yet checkpointed into the file.
SQLite only: on PostgreSQL these are the server's own guarantees."""

from __future__ import annotations

import os
import sqlite3
import time

import pytest
import sqlalchemy as sa

from audit import connections
from audit.backup import check_archive, create_backup
from audit.extensions import db
from audit.models import Setting
from audit.storage import LocalStore

from .conftest import make_app

pytestmark = pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")), reason="SQLite only")


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setattr(connections, "SQLITE_BUSY_SECONDS", 1)  # a blocked reader fails within a second
    made = make_app(tmp_path)
    yield made
    with made.app_context():
        db.session.remove()
        db.engine.dispose()


def file_of(app) -> str:
    return str(sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database)


def settings(app) -> int:
    with app.app_context():
        found = db.session.scalar(sa.select(sa.func.count()).select_from(Setting))
        db.session.remove()
        return int(found or 0)


def test_the_file_is_in_wal_mode_with_full_sync(app):
    with app.app_context():
        assert db.session.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(sa.text("PRAGMA synchronous")).scalar() == 2  # FULL
        db.session.remove()


def test_a_reader_reads_the_last_commit_while_a_writer_holds_the_lock(app):
    """A writer holding SQLite's exclusive lock (as a national publish does while it commits) blocks readers in
    the rollback-journal mode ("database is locked" after the busy timeout); in WAL mode they read on."""
    with app.app_context():
        db.session.add(Setting(key="before", value="1"))
        db.session.commit()
        db.session.remove()
    writer = sqlite3.connect(file_of(app), isolation_level=None)
    try:
        writer.execute("BEGIN EXCLUSIVE")
        writer.execute("INSERT INTO setting (key, value) VALUES ('during', '1')")
        started = time.monotonic()
        assert settings(app) == 1  # the committed row, not the open one, and no wait
        assert time.monotonic() - started < 0.9
        writer.execute("COMMIT")
    finally:
        writer.close()
    assert settings(app) == 2


def test_a_backup_holds_commits_still_in_the_write_ahead_log(app, tmp_path):
    """A connection kept open keeps the log from being folded into the file; the backup (SQLite's backup API)
    reads through the log, so what was committed is in it."""
    keeper = sqlite3.connect(file_of(app))
    try:
        keeper.execute("PRAGMA wal_autocheckpoint = 0")
        keeper.execute("SELECT count(*) FROM setting").fetchone()
        with app.app_context():
            db.session.add_all([Setting(key=f"k{i}", value=str(i)) for i in range(20)])
            db.session.commit()
            db.session.remove()
        assert os.path.getsize(file_of(app) + "-wal") > 0
        archive = create_backup(app.config["SQLALCHEMY_DATABASE_URI"], LocalStore(tmp_path / "evidence"),
                                tmp_path / "backups")
    finally:
        keeper.close()
    assert check_archive(archive)["tables"]["setting"] == 20
