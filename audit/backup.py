"""Backups: the database and the evidence files in one archive, and their restore into an empty place.

A backup is one tar file, readable with `tar tvf`:

    manifest.json      when, which database, the schema revision, every table's row count, and the
                       size and SHA-256 of every other member
    database.sqlite3   SQLite: a copy made with SQLite's online backup API, consistent while the app writes
    database.pgdump    PostgreSQL: pg_dump's custom format, taken in the same snapshot as the row counts
    evidence/...       every stored file (evidence, and appeal documents under evidence/appeals/), read
                       from the configured store (audit/storage.py: the evidence folder or a bucket)

The manifest is the last member (each file's checksum is taken as it is written into the archive).

The database is copied first and the stored files after it: a file is written before the row that
names it is committed, never changes, and is deleted only after its row's deletion commits, so every
row in the copy finds its file (unless the file was deleted meanwhile; such keys are listed in the
manifest as missing).

A restore checks every checksum before it touches anything, refuses a database or a store that
already holds something, and compares each table's row count with the manifest afterwards. It
restores into the same kind of database it was taken from, and into either kind of store (a backup
of a local install restores into a bucket).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.engine import URL, make_url

from . import storage
from .storage import Store

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
PGDUMP_MEMBER = "database.pgdump"
EVIDENCE_PREFIX = "evidence/"
CHUNK = 1024 * 1024


class BackupError(RuntimeError):
    """A backup or restore that cannot be made safely; the message says why and what to do."""


@dataclass(frozen=True)
class Snapshot:
    """What the database held at the moment it was copied."""

    tables: dict[str, int]
    evidence_keys: list[str]
    revision: str | None


# --- taking a backup ----------------------------------------------------------------------------


def create_backup(database_url: str, store: Store, output_dir: Path) -> Path:
    """Write one archive of the database and every stored file into output_dir; returns its path."""
    url = make_url(database_url)
    output_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = output_dir / f"audit-backup-{stamp}.tar"
    with tempfile.TemporaryDirectory(prefix="audit-backup.") as tmp:
        if kind_of(url) == "sqlite":
            member, snapshot = SQLITE_MEMBER, _copy_sqlite(url, Path(tmp) / SQLITE_MEMBER)
        else:
            member, snapshot = PGDUMP_MEMBER, _dump_postgres(url, Path(tmp) / PGDUMP_MEMBER)
        files = {member: _digest(Path(tmp) / member)}
        partial = target.with_suffix(".tar.partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # personal data: owner only
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
            tar.add(Path(tmp) / member, arcname=member, recursive=False)
            stored = _add_stored(tar, store, files)
            manifest = {
                "format": FORMAT, "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "database": kind_of(url), "revision": snapshot.revision, "tables": snapshot.tables,
                "evidence_missing": sorted(set(snapshot.evidence_keys) - stored), "files": files,
            }
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode())
        partial.replace(target)  # a backup that exists is complete
    return target


def kind_of(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise BackupError("an in-memory SQLite database cannot be backed up")
        return "sqlite"
    if url.get_backend_name() == "postgresql":
        return "postgresql"
    raise BackupError(f"backups support SQLite and PostgreSQL, not {url.get_backend_name()}")


def _copy_sqlite(url: URL, target: Path) -> Snapshot:
    """SQLite's online backup API: a consistent copy even while other connections write."""
    source_path = Path(str(url.database))
    if not source_path.is_file():
        raise BackupError(f"no SQLite database at {source_path}")
    source = sqlite3.connect(f"file:{quote(str(source_path))}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        source.close()
    try:
        return _sqlite_snapshot(copy)
    finally:
        copy.close()


def _sqlite_snapshot(conn: sqlite3.Connection) -> Snapshot:
    names = [n for (n,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    tables = {n: conn.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0] for n in names}
    revision = conn.execute("SELECT version_num FROM alembic_version").fetchone() \
        if "alembic_version" in tables else None
    return Snapshot(tables, _stored_keys(conn, tables), revision[0] if revision else None)


def _stored_keys(conn: Any, tables: dict[str, int]) -> list[str]:
    """Every key the database names: evidence files, and appeal documents (kept under appeals/)."""
    keys = [k for (k,) in conn.execute("SELECT storage_key FROM evidence")] if "evidence" in tables else []
    if "appeal" in tables:
        keys += [storage.APPEALS + k for (k,) in conn.execute(
            "SELECT document_key FROM appeal WHERE document_key IS NOT NULL")]
    return keys


def _dump_postgres(url: URL, target: Path) -> Snapshot:
    """pg_dump in custom format, in a snapshot exported by a transaction that also counts every table."""
    import psycopg

    pg_dump = pg_tool("pg_dump")
    with psycopg.connect(**_connect_args(url)) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot_id = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]  # type: ignore[index]
        snapshot = _postgres_snapshot(conn)
        _run([pg_dump, "--format=custom", f"--snapshot={snapshot_id}", f"--file={target}",
              f"--dbname={_libpq_uri(url)}"], url, "pg_dump")
        conn.rollback()
    return snapshot


def _postgres_snapshot(conn: Any) -> Snapshot:
    from psycopg import sql

    names = [n for (n,) in conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")]
    tables = {n: conn.execute(sql.SQL("SELECT COUNT(*) FROM {}").format(sql.Identifier(n))).fetchone()[0]
              for n in names}
    revision = conn.execute("SELECT version_num FROM alembic_version").fetchone() \
        if "alembic_version" in tables else None
    return Snapshot(tables, _stored_keys(conn, tables), revision[0] if revision else None)


class _Hashing:
    """A file read through once, its SHA-256 taken on the way (into the archive)."""

    def __init__(self, body: Any) -> None:
        self.body, self.digest = body, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk: bytes = self.body.read(size)
        self.digest.update(chunk)
        return chunk


def _add_stored(tar: tarfile.TarFile, store: Store, files: dict[str, Any]) -> set[str]:
    """Every stored file into the archive, streamed (one file's chunk in memory at a time); their
    size and checksum into `files`. Returns the keys written: a file deleted since the listing is left out."""
    written = set()
    for item in store.list():
        try:
            opened = store.open(item.key)
        except storage.MissingFile:
            continue
        with opened:
            info = tarfile.TarInfo(EVIDENCE_PREFIX + item.key)
            info.size, info.mtime, info.mode = opened.size, int(item.modified.timestamp()), 0o600
            reader = _Hashing(opened.body)
            tar.addfile(info, reader)  # type: ignore[arg-type]
        files[info.name] = {"size": opened.size, "sha256": reader.digest.hexdigest()}
        written.add(item.key)
    return written


# --- PostgreSQL's tools -------------------------------------------------------------------------


def pg_tool(name: str) -> str:
    """A PostgreSQL client program: from PG_BIN, else Debian's newest /usr/lib/postgresql/N/bin, else PATH.

    The newest version is the right one: pg_dump reads servers of its own version and older.
    """
    candidates = [Path(os.environ["PG_BIN"]) / name] if os.environ.get("PG_BIN") else []
    candidates += sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                         key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
                         reverse=True)
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} not found: install Debian's postgresql-client package "
                          "(scripts/install-system-deps.sh installs postgresql), or set PG_BIN to its folder")
    return found


def _libpq_uri(url: URL) -> str:
    """The URL as libpq reads it: no SQLAlchemy driver name, no password (that goes in PGPASSWORD)."""
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)


def _connect_args(url: URL) -> dict[str, Any]:
    args: dict[str, Any] = {"conninfo": _libpq_uri(url)}
    if url.password:
        args["password"] = str(url.password)
    return args


def _run(command: list[str], url: URL, what: str) -> None:
    env = {**os.environ, **({"PGPASSWORD": str(url.password)} if url.password else {})}
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{what} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


# --- reading and checking an archive ------------------------------------------------------------


def read_manifest(archive: Path) -> dict[str, Any]:
    with tarfile.open(archive, "r:") as tar:
        member = tar.extractfile(MANIFEST)
        if member is None:
            raise BackupError(f"{archive} has no {MANIFEST}: not a backup of this app")
        manifest: dict[str, Any] = json.load(member)
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{archive}: backup format {manifest.get('format')} is not {FORMAT}")
    return manifest


def check_archive(archive: Path) -> dict[str, Any]:
    """Read every member and compare its size and SHA-256 with the manifest; returns the manifest."""
    manifest = read_manifest(archive)
    expected = dict(manifest["files"])
    with tarfile.open(archive, "r:") as tar:
        for member in tar:
            if member.name == MANIFEST:
                continue
            want = expected.pop(member.name, None)
            if want is None or not member.isfile() or not _safe_name(member.name):
                raise BackupError(f"{archive}: unexpected member {member.name!r}")
            source = tar.extractfile(member)
            assert source is not None
            digest = hashlib.sha256()
            while chunk := source.read(CHUNK):
                digest.update(chunk)
            if {"size": member.size, "sha256": digest.hexdigest()} != want:
                raise BackupError(f"{archive}: {member.name} is damaged (its checksum differs from the manifest)")
    if expected:
        raise BackupError(f"{archive}: missing {', '.join(sorted(expected))}")
    return manifest


# --- restoring ----------------------------------------------------------------------------------


def restore_backup(archive: Path, database_url: str, store: Store) -> dict[str, Any]:
    """Restore an archive into an empty database and an empty store; returns its manifest."""
    manifest = check_archive(archive)
    url = make_url(database_url)
    kind = kind_of(url)
    if manifest["database"] != kind:
        raise BackupError(f"this backup is of a {manifest['database']} database; restore it into the same kind "
                          f"(the target is {kind})")
    if next(iter(store.list()), None) is not None:
        raise BackupError(f"{store.describe()} is not empty; restore the files into an empty one")
    if kind == "postgresql":
        pg_restore = pg_tool("pg_restore")
        _refuse_non_empty_postgres(url)
    else:
        _refuse_non_empty_sqlite(Path(str(url.database)))
    with tempfile.TemporaryDirectory(prefix="audit-restore.") as tmp, tarfile.open(archive, "r:") as tar:
        members = {m.name: m for m in tar.getmembers()}
        if kind == "postgresql":
            dump = _extract(tar, members[PGDUMP_MEMBER], Path(tmp) / PGDUMP_MEMBER)
            _run([pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                  f"--dbname={_libpq_uri(url)}", str(dump)], url, "pg_restore")
        else:
            _restore_sqlite(_extract(tar, members[SQLITE_MEMBER], Path(tmp) / SQLITE_MEMBER), Path(str(url.database)))
        for name, member in members.items():
            if name.startswith(EVIDENCE_PREFIX):
                source = tar.extractfile(member)
                if not _safe_name(name) or not member.isfile() or source is None:
                    raise BackupError(f"refusing to extract {name!r}")
                store.put(name.removeprefix(EVIDENCE_PREFIX), source)
    restored = table_counts(url)
    if restored != manifest["tables"]:
        differ = sorted(k for k in set(restored) | set(manifest["tables"])
                        if restored.get(k) != manifest["tables"].get(k))
        raise BackupError(f"the restored database differs from the backup in: {', '.join(differ)}")
    return manifest


def table_counts(url: URL) -> dict[str, int]:
    """Every table's row count, as the manifest records them."""
    if kind_of(url) == "sqlite":
        conn = sqlite3.connect(f"file:{quote(str(url.database))}?mode=ro", uri=True)
        try:
            return _sqlite_snapshot(conn).tables
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(**_connect_args(url)) as conn:
        return _postgres_snapshot(conn).tables


def _refuse_non_empty_postgres(url: URL) -> None:
    import psycopg

    try:
        with psycopg.connect(**_connect_args(url)) as conn:
            found = conn.execute("SELECT COUNT(*) FROM pg_tables WHERE schemaname NOT IN "
                                 "('pg_catalog', 'information_schema')").fetchone()[0]  # type: ignore[index]
    except psycopg.OperationalError as exc:
        raise BackupError(f"cannot connect to the target database ({exc}); create it first "
                          "(createdb, or CREATE DATABASE)") from exc
    if found:
        raise BackupError(f"the database {url.database} already has {found} tables; restore into an empty database")


def _refuse_non_empty_sqlite(path: Path) -> None:
    if path.exists() and path.stat().st_size > 0:
        raise BackupError(f"{path} already exists; restore into a new file")


def _restore_sqlite(copy: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    source, dest = sqlite3.connect(copy), sqlite3.connect(target)
    try:
        source.backup(dest)
        status = dest.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        source.close()
        dest.close()
    if status != "ok":
        raise BackupError(f"the restored SQLite database fails its integrity check: {status}")


# --- small helpers ------------------------------------------------------------------------------


def _digest(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return {"size": path.stat().st_size, "sha256": digest.hexdigest()}


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(datetime.now(UTC).timestamp()), 0o600
    tar.addfile(info, io.BytesIO(data))


def _safe_name(name: str) -> bool:
    """Only names the backup writes itself: relative, no '..', inside the evidence folder or the database."""
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and (
        name in (SQLITE_MEMBER, PGDUMP_MEMBER) or name.startswith(EVIDENCE_PREFIX))


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> Path:
    """One regular member to `target`, byte by byte (never tar's own extraction: no links, no modes)."""
    if not _safe_name(member.name) or not member.isfile():
        raise BackupError(f"refusing to extract {member.name!r}")
    source = tar.extractfile(member)
    assert source is not None
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("xb") as out:
        shutil.copyfileobj(source, out, CHUNK)
    return target


# --- the command line ---------------------------------------------------------------------------


backup_cli = AppGroup("backup", help="Back up the database and evidence files; check and restore a backup.")


@contextmanager
def _errors_as_click() -> Iterator[None]:
    try:
        yield
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None


@backup_cli.command("create")
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the archive (default: instance/backups). Copy it off this machine.")
def create_command(output: Path | None) -> None:
    """Back up the configured database and stored files (evidence, appeal documents) into one archive."""
    with _errors_as_click():
        path = create_backup(current_app.config["SQLALCHEMY_DATABASE_URI"], storage.store_of(current_app),
                             output or Path(current_app.instance_path) / "backups")
        manifest = read_manifest(path)
    click.echo(f"{path}: {sum(manifest['tables'].values()):,} rows in {len(manifest['tables'])} tables, "
               f"{len(manifest['files']) - 1} evidence files, {path.stat().st_size:,} bytes")
    for key in manifest["evidence_missing"]:
        click.echo(f"warning: evidence {key} is named in the database but was not in the store", err=True)


@backup_cli.command("check")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def check_command(archive: Path) -> None:
    """Verify every checksum of an archive and summarise it (restores nothing)."""
    with _errors_as_click():
        manifest = check_archive(archive)
    revision = f", schema revision {manifest['revision']}" if manifest["revision"] else ""
    click.echo(f"{archive}: intact; {manifest['database']} taken {manifest['created_at']}{revision}, "
               f"{sum(manifest['tables'].values()):,} rows, {len(manifest['files']) - 1} evidence files")


@backup_cli.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore_command(archive: Path) -> None:
    """Restore an archive into the configured (empty) database and (empty) store of files."""
    with _errors_as_click():
        manifest = restore_backup(archive, current_app.config["SQLALCHEMY_DATABASE_URI"],
                                  storage.store_of(current_app))
    click.echo(f"restored {archive.name}: {sum(manifest['tables'].values()):,} rows in {len(manifest['tables'])} "
               f"tables (counts checked), {len(manifest['files']) - 1} evidence files (checksums checked)")
