"""Stored files (evidence, appeal documents) behind one interface: the local disk or an S3-compatible store.

A file is put under a key (`<32 hex>.<suffix>` for evidence, `appeals/<32 hex>.<suffix>` for a
director's appeal document), read or streamed back, deleted, and listed for backups. `LocalStore`
keeps the key as a path under EVIDENCE_DIR, the layout installs have always had; `S3Store` keeps it
as an object `S3_PREFIX + key` in S3_BUCKET. EVIDENCE_STORE (audit/config.py) picks one.

Files follow the database transaction, so that no row names a file that is not there and no file
lingers that no row names:

- `save(key, data)` writes the file at once (the row that names it commits after it) and records the
  key on the session; if that transaction, or the savepoint it was written in, rolls back or is closed
  without committing, the file is deleted again. A savepoint released (committed) decides nothing: its
  files follow the outer transaction.
- `discard(key)` deletes nothing yet: the file is deleted after the outermost transaction commits, and
  kept if it, or the savepoint the discard was made in, rolls back.

Only a process killed between a write and its commit leaves a file no row names; `flask storage
check` lists such files and `--delete-orphans` removes them (docs/operations.md).

A file is always served through the app (`send`), never by a redirect to the bucket: the app keeps
the headers, and no bucket address or key reaches a browser.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import sqlalchemy.orm as so
from flask import Flask, current_app, send_file
from sqlalchemy import event
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

log = logging.getLogger(__name__)

APPEALS = "appeals/"
"""Appeal documents live under this prefix (the folder EVIDENCE_DIR/appeals of local installs)."""
CHUNK = 1024 * 1024
KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,118}(/[A-Za-z0-9][A-Za-z0-9_.-]{0,118}){0,3}")
PARTIAL = ".partial-"
"""A local file being written has this in its name until it is complete; listings skip it."""


class StorageError(RuntimeError):
    """The store cannot be used as configured (a bad key, an unreachable bucket); the message says why."""


class MissingFile(LookupError):
    """No file under this key."""


@dataclass(frozen=True)
class StoredFile:
    """A file as a listing gives it: its key, its size, and when it was written (UTC)."""

    key: str
    size: int
    modified: datetime


@dataclass
class Opened:
    """An open file to read from, and its size in bytes; close it (or use `with`)."""

    body: IO[bytes]
    size: int

    def __enter__(self) -> Opened:
        return self

    def __exit__(self, *exc: object) -> None:
        self.body.close()


def check_key(key: str) -> str:
    """A key is a relative path of plain names (no '..', no leading '/'); anything else is refused."""
    if not KEY.fullmatch(key) or ".." in key or PARTIAL in key:
        raise StorageError(f"not a storage key: {key!r}")
    return key


def new_key(suffix: str, prefix: str = "") -> str:
    """A fresh random key: nobody can guess it, and it says nothing of who wrote the file or when."""
    return prefix + secrets.token_hex(16) + suffix


class Store(ABC):
    """Where stored files live. Keys are checked by `check_key` before any use."""

    @abstractmethod
    def put(self, key: str, data: bytes | IO[bytes]) -> None:
        """Write a whole file under `key` (bytes, or a binary file read to its end)."""

    @abstractmethod
    def open(self, key: str) -> Opened:
        """The file to read, streamed; MissingFile if there is none."""

    def read(self, key: str) -> bytes:
        with self.open(key) as opened:
            return opened.body.read()

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the file; nothing happens if it is already gone."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def list(self) -> Iterator[StoredFile]:
        """Every stored file, in key order."""

    @abstractmethod
    def describe(self) -> str:
        """Where the files are, for the operator's messages (never shown to a director)."""


class LocalStore(Store):
    """Files under a folder, one path per key: EVIDENCE_DIR/<key>, as installs have always kept them."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes | IO[bytes]) -> None:
        """Written beside its place and renamed into it: a reader never sees half a file."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + PARTIAL + secrets.token_hex(4))
        try:
            with partial.open("xb") as out:
                if isinstance(data, bytes):
                    out.write(data)
                else:
                    shutil.copyfileobj(data, out, CHUNK)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)

    def open(self, key: str) -> Opened:
        path = self._path(key)
        try:
            body = path.open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise MissingFile(key) from None
        return Opened(body, os.fstat(body.fileno()).st_size)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self) -> Iterator[StoredFile]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.rglob("*")):
            key = path.relative_to(self.root).as_posix()
            if not path.is_file() or path.is_symlink() or PARTIAL in path.name or not KEY.fullmatch(key):
                continue  # a file being written, or one no key could name (.DS_Store): not a stored file
            stat = path.stat()
            yield StoredFile(key, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC))

    def describe(self) -> str:
        return f"the folder {self.root}"


class S3Store(Store):
    """Objects in a bucket of an S3-compatible store (AWS S3, MinIO, Ceph, Garage...), keys under a prefix.

    `client` is a boto3 S3 client; `from_config` makes one from the app's settings.
    """

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client, self.bucket = client, bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    @classmethod
    def from_config(cls, config: Any) -> S3Store:
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "s3", endpoint_url=config.get("S3_ENDPOINT_URL") or None, region_name=config.get("S3_REGION") or None,
            aws_access_key_id=config.get("S3_ACCESS_KEY_ID") or None,
            aws_secret_access_key=config.get("S3_SECRET_ACCESS_KEY") or None,
            config=Config(s3={"addressing_style": config.get("S3_ADDRESSING_STYLE") or "auto"},
                          retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=10, read_timeout=60))
        return cls(client, config["S3_BUCKET"], config.get("S3_PREFIX") or "")

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, data: bytes | IO[bytes]) -> None:
        if isinstance(data, bytes):
            self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=data)
        else:
            self.client.upload_fileobj(data, self.bucket, self._name(key))

    def open(self, key: str) -> Opened:
        from botocore.exceptions import ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                raise MissingFile(key) from None
            raise
        return Opened(answer["Body"], int(answer["ContentLength"]))

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return False
            raise
        return True

    def list(self) -> Iterator[StoredFile]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for item in page.get("Contents", ()):
                yield StoredFile(item["Key"].removeprefix(self.prefix), int(item["Size"]),
                                 item["LastModified"].astimezone(UTC))

    def describe(self) -> str:
        return f"the bucket {self.bucket}" + (f" under {self.prefix}" if self.prefix else "")


# --- moving and checking ------------------------------------------------------------------------


@dataclass(frozen=True)
class Copied:
    copied: int
    already_there: int
    bytes: int


def copy_all(source: Store, target: Store) -> Copied:
    """Copy every file of `source` that `target` lacks (a key is written once, so a present one is the same
    file), streamed; then check that every key of `source` is in `target` with its size."""
    copied = present = size = 0
    for item in source.list():
        if target.exists(item.key):
            present += 1
            continue
        with source.open(item.key) as opened:
            target.put(item.key, opened.body)
        copied, size = copied + 1, size + item.size
    there = {f.key: f.size for f in target.list()}
    differ = [f.key for f in source.list() if there.get(f.key) != f.size]
    if differ:
        raise StorageError(f"{len(differ)} files differ in {target.describe()} after the copy, e.g. {differ[0]}")
    return Copied(copied, present, size)


@dataclass(frozen=True)
class Audit:
    """Stored files against the keys the database names."""

    missing: list[str]
    """Named by a row, not in the store: a file lost."""
    orphans: list[StoredFile]
    """In the store, named by no row: left by a process killed between a write and its commit."""


def audit_store(source: Store, named: set[str]) -> Audit:
    stored = list(source.list())
    keys = {f.key for f in stored}
    return Audit(sorted(named - keys), [f for f in stored if f.key not in named])


# --- the app's store --------------------------------------------------------------------------


def init_app(app: Flask) -> None:
    """Check the setting now; the store (and an S3 client) is made on first use, not at start-up."""
    kind = app.config.get("EVIDENCE_STORE", "local")
    if kind not in ("local", "s3"):
        raise StorageError(f"EVIDENCE_STORE must be local or s3, not {kind!r}")
    if kind == "s3" and not app.config.get("S3_BUCKET"):
        raise StorageError("EVIDENCE_STORE=s3 needs S3_BUCKET")


def store_of(app: Flask) -> Store:
    """The configured store of this app, made once."""
    made = app.extensions.get("audit_store")
    if made is None:
        if app.config.get("EVIDENCE_STORE", "local") == "s3":
            made = S3Store.from_config(app.config)
        else:
            made = LocalStore(Path(app.config["EVIDENCE_DIR"]))
        app.extensions["audit_store"] = made
    return made


def store() -> Store:
    return store_of(current_app)


def session() -> so.Session:
    from .extensions import db

    return db.session()


# --- files that follow the transaction ----------------------------------------------------------

WRITTEN = "storage_written"
"""session.info[WRITTEN]: (transaction, store, key) of files written in a transaction not yet committed."""
DOOMED = "storage_doomed"
"""session.info[DOOMED]: (transaction, store, key) of files to delete once the transaction commits."""


def save(key: str, data: bytes | IO[bytes], on: so.Session | None = None, into: Store | None = None) -> str:
    """Write a file now, and delete it again if the session's transaction does not commit; returns the key."""
    on = on if on is not None else session()
    into = into if into is not None else store()
    transaction = _current(on)
    into.put(key, data)
    on.info.setdefault(WRITTEN, []).append((transaction, into, key))
    return key


def discard(key: str, on: so.Session | None = None, into: Store | None = None) -> None:
    """Delete a file once the session's transaction commits (kept if it rolls back)."""
    on = on if on is not None else session()
    on.info.setdefault(DOOMED, []).append((_current(on), into if into is not None else store(), check_key(key)))


def _current(on: so.Session) -> so.SessionTransaction:
    """The innermost transaction (a savepoint, or the session's own), begun now if none is."""
    return on.get_nested_transaction() or on.get_transaction() or on.begin()


def _within(transaction: so.SessionTransaction | None, ended: so.SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


def _split(on: so.Session, name: str, ended: so.SessionTransaction) -> list[tuple[Any, Store, str]]:
    """Take the entries recorded in `ended` (or a savepoint inside it) out of session.info[name]."""
    entries = on.info.get(name) or []
    taken = [e for e in entries if _within(e[0], ended)]
    if taken:
        on.info[name] = [e for e in entries if not _within(e[0], ended)]
    return taken


def _remove(entries: list[tuple[Any, Store, str]], why: str) -> None:
    for _transaction, where, key in entries:
        try:
            where.delete(key)
        except Exception:  # the database decided; a file left behind is found by `flask storage check`
            log.exception("could not delete stored file %s %s", key, why)


@event.listens_for(so.Session, "after_commit")
def _after_commit(on: so.Session) -> None:
    """The outermost transaction committed: what it wrote stays, what it discarded goes.

    SQLAlchemy fires this for a released savepoint too (still the session's nested transaction while the
    event runs): nothing is decided then, since the outer transaction may still roll back; its entries stay
    recorded under the savepoint, which `_within` counts as inside the outer transaction."""
    if on.get_nested_transaction() is not None:
        return
    on.info.pop(WRITTEN, None)
    _remove(on.info.pop(DOOMED, None) or [], "after its row's deletion was committed")


@event.listens_for(so.Session, "after_soft_rollback")
def _after_rollback(on: so.Session, previous_transaction: so.SessionTransaction) -> None:
    """A transaction or a savepoint rolled back: the files written in it go, its deletions are forgotten."""
    _split(on, DOOMED, previous_transaction)
    _remove(_split(on, WRITTEN, previous_transaction), "after its transaction rolled back")


@event.listens_for(so.Session, "after_transaction_end")
def _after_end(on: so.Session, transaction: so.SessionTransaction) -> None:
    """The session's own transaction ended without a commit or a rollback (the session was closed)."""
    if transaction.parent is None and transaction.nested is False:
        _split(on, DOOMED, transaction)
        _remove(_split(on, WRITTEN, transaction), "after its session closed without a commit")


# --- serving ------------------------------------------------------------------------------------


def send(key: str, *, mimetype: str, download_name: str, as_attachment: bool) -> Response:
    """A stored file streamed through the app under the given name and type; 404 if it is gone.

    No Last-Modified, no ETag: a file's write time is when an auditor uploaded it."""
    try:
        opened = store().open(key)
    except MissingFile:
        raise NotFound() from None
    response = send_file(opened.body, mimetype=mimetype, as_attachment=as_attachment, download_name=download_name,
                         conditional=False, etag=False, last_modified=None, max_age=0)
    response.content_length = opened.size
    return response
