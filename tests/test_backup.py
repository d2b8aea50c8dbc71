"""Backup and restore, on SQLite and (under scripts/with-postgres.sh) on PostgreSQL.

The demo contest and an evidence file are backed up, restored into a fresh database and folder,
and compared: every table's row count, a checksum of each edition's ranking, and the evidence
bytes. A missing pg_dump or pg_restore fails with the message that says what to install.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image
from sqlalchemy.pool import NullPool

from audit import create_app, evidence, services, storage
from audit.backup import BackupError, backup_cli, check_archive, create_backup, restore_backup
from audit.extensions import db
from audit.models import Campaign, Contact, Evidence, Institution, Setting
from audit.storage import LocalStore

from .conftest import ROOT, fresh_postgres_database, s3_settings


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 120, 200)).save(out, "PNG")
    return out.getvalue()


def attach_evidence(app) -> str:
    """Store one evidence file for a demo contact, as an upload does; returns its storage key."""
    with app.app_context():
        contact = db.session.scalar(sa.select(Contact).order_by(Contact.id))
        cleaned = evidence.clean("notice-board.png", photo())
        key = storage.save(storage.new_key(cleaned.suffix), cleaned.content)
        db.session.add(Evidence(contact_id=contact.id, kind=cleaned.kind, original_name="notice-board.png",
                                content_type=cleaned.content_type, size=len(cleaned.content),
                                sha256=cleaned.sha256, storage_key=key))
        db.session.commit()
        return key


def fingerprint(app) -> dict[str, object]:
    """What a restore must reproduce: row counts, each edition's ranking, every evidence file's bytes."""
    with app.app_context():
        tables = sorted(sa.inspect(db.engine).get_table_names())
        counts = {t: db.session.scalar(sa.select(sa.func.count()).select_from(sa.table(t))) for t in tables}
        rankings = {}
        for campaign_id in db.session.scalars(sa.select(Campaign.id).order_by(Campaign.id)):
            standings = services.compute_standings(campaign_id)
            rankings[campaign_id] = hashlib.sha256(repr(standings).encode()).hexdigest()
        store = storage.store_of(app)
        files = {f.key: hashlib.sha256(store.read(f.key)).hexdigest() for f in store.list()}
        stored = {e.storage_key: e.sha256 for e in db.session.scalars(sa.select(Evidence))}
        db.session.remove()
    return {"counts": counts, "rankings": rankings, "files": files, "stored": stored}


@contextmanager
def empty_database(tmp_path: Path, source_url: str) -> Iterator[str]:
    """A new, empty database of the source's kind: a SQLite path, or a uniquely named PostgreSQL database."""
    url = sa.engine.make_url(source_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'audit.db'}"
        return
    with fresh_postgres_database(source_url) as fresh:
        yield fresh


def app_on(tmp_path: Path, url: str, **store_config: str):
    return create_app({
        "TESTING": True, "INSTANCE_PATH": str(tmp_path / "restored" / "instance"), "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"poolclass": NullPool}, "SECRET_KEY": "test-secret",
        "RUBRICS_DIR": str(ROOT / "rubrics"), "EVIDENCE_DIR": tmp_path / "restored" / "evidence", **store_config,
    })


def local(app) -> LocalStore:
    return LocalStore(Path(app.config["EVIDENCE_DIR"]))


def database_kind() -> str:
    return "postgresql" if os.environ.get("TEST_DATABASE_URL") else "sqlite"


@pytest.mark.parametrize("evidence_store", ["local", "s3"])
def test_a_backup_restores_the_same_contest_rankings_and_evidence(demo_app, tmp_path, evidence_store, request):
    key = attach_evidence(demo_app)
    before = fingerprint(demo_app)
    assert key in before["files"] and before["counts"]["contact"] > 200 and before["rankings"]

    made = demo_app.test_cli_runner().invoke(backup_cli, ["create", "--output", str(tmp_path / "backups")])
    assert made.exit_code == 0, made.output
    archive = next((tmp_path / "backups").glob("audit-backup-*.tar"))
    assert archive.stat().st_mode & 0o077 == 0  # personal data: readable by its owner only
    manifest = check_archive(archive)
    assert manifest["database"] == database_kind() and manifest["tables"] == before["counts"]
    assert manifest["evidence_missing"] == []

    with empty_database(tmp_path, demo_app.config["SQLALCHEMY_DATABASE_URI"]) as url:
        into = s3_settings(request.getfixturevalue("s3_server")) if evidence_store == "s3" else {}
        restored = app_on(tmp_path, url, **into)  # a new bucket, or a new folder
        done = restored.test_cli_runner().invoke(backup_cli, ["restore", str(archive)])
        assert done.exit_code == 0, done.output
        assert "counts checked" in done.output
        assert fingerprint(restored) == before
        with restored.app_context():  # the restored sequences go on after the restored ids
            db.session.add(Institution(name="Nowy ośrodek", category="utility", city="Nowe", region="R", channels=[]))
            db.session.commit()
            db.session.remove()


def test_a_backup_taken_while_a_write_is_open_holds_only_committed_data(demo_app, tmp_path):
    with demo_app.app_context():
        settings = db.session.scalar(sa.select(sa.func.count()).select_from(Setting))
        db.session.remove()
    writer = sa.create_engine(demo_app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool)
    with writer.connect() as conn:
        conn.execute(sa.insert(Setting.__table__).values(key="half-written", value="1"))  # not committed yet
        archive = create_backup(demo_app.config["SQLALCHEMY_DATABASE_URI"], local(demo_app),
                                tmp_path)
        conn.commit()
    writer.dispose()
    assert check_archive(archive)["tables"]["setting"] == settings


def test_a_restore_refuses_a_database_or_folder_that_holds_something(demo_app, tmp_path):
    attach_evidence(demo_app)
    source = demo_app.config["SQLALCHEMY_DATABASE_URI"]
    archive = create_backup(source, local(demo_app), tmp_path / "backups")
    with pytest.raises(BackupError, match="already"):
        restore_backup(archive, source, LocalStore(tmp_path / "new-evidence"))
    with empty_database(tmp_path, source) as url, pytest.raises(BackupError, match="not empty"):
        restore_backup(archive, url, local(demo_app))


def test_a_damaged_archive_is_refused_before_anything_is_restored(demo_app, tmp_path):
    attach_evidence(demo_app)
    archive = create_backup(demo_app.config["SQLALCHEMY_DATABASE_URI"], local(demo_app),
                            tmp_path / "backups")
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.startswith("evidence/"))
    data = bytearray(archive.read_bytes())
    data[member.offset_data + 10] ^= 0xFF  # one flipped bit in the photo
    archive.write_bytes(bytes(data))
    checked = demo_app.test_cli_runner().invoke(backup_cli, ["check", str(archive)])
    assert checked.exit_code != 0 and "damaged" in checked.output
    with empty_database(tmp_path, demo_app.config["SQLALCHEMY_DATABASE_URI"]) as url:
        with pytest.raises(BackupError, match="damaged"):
            restore_backup(archive, url, LocalStore(tmp_path / "restored" / "evidence"))
        assert not (tmp_path / "restored" / "evidence").exists()
        if url.startswith("sqlite"):
            assert not (tmp_path / "restored" / "audit.db").exists()


def test_a_backup_restores_only_into_its_own_kind_of_database(demo_app, tmp_path):
    archive = create_backup(demo_app.config["SQLALCHEMY_DATABASE_URI"], local(demo_app),
                            tmp_path)
    other = "postgresql+psycopg://nobody@127.0.0.1:1/none" if database_kind() == "sqlite" \
        else f"sqlite:///{tmp_path / 'other.db'}"
    with pytest.raises(BackupError, match=f"backup is of a {database_kind()} database"):
        restore_backup(archive, other, LocalStore(tmp_path / "evidence"))
