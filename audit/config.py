"""Configuration from the environment.

DATABASE_URL   SQLAlchemy URL; default: SQLite in instance/audit.db
DB_PING_AFTER_SECONDS  a pooled connection idle this long is checked before use (audit/connections.py); default 5
SECRET_KEY     required when AUDIT_ENV=production; otherwise generated once into instance/
AUDIT_ENV      "production" turns on secure cookies and HSTS, and refuses to start without SECRET_KEY
RUBRICS_DIR    where rubric YAML files live; default: rubrics/ beside the package
EVIDENCE_DIR   where evidence files are stored with EVIDENCE_STORE=local (never under static/);
               default: instance/evidence (appeal documents in its appeals/ folder)

Stored files: evidence and appeal documents (audit/storage.py, docs/operations.md, "Stored files").
EVIDENCE_STORE  "local" (default: files in EVIDENCE_DIR, enough for one machine) or "s3" (an
                S3-compatible object store, for several web machines sharing one database)
S3_BUCKET       the bucket (required with EVIDENCE_STORE=s3); it must exist and must not be public
S3_PREFIX       a folder inside the bucket for this install's files, e.g. audyt/; default none
S3_ENDPOINT_URL the store's address for a store other than AWS (MinIO, Ceph, Garage, a cloud's
                S3-compatible service), e.g. https://s3.example.org; default AWS's own
S3_REGION       the bucket's region, e.g. eu-central-1; default boto3's (AWS_DEFAULT_REGION)
S3_ADDRESSING_STYLE  "path" (bucket in the path: most self-hosted stores), "virtual" or "auto" (default)
S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY   the store's credentials; without them boto3 looks where it
                always does (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ~/.aws, an instance role)
TRUSTED_PROXIES       how many reverse proxies stand in front (their X-Forwarded-* headers are
                      believed); default 0: forwarded headers are ignored
SESSION_IDLE_MINUTES  a session unused this long ends; default 240
SESSION_MAX_HOURS     a session ends this long after login whatever its use; default 12
DISPLAY_TIMEZONE      the zone times are shown in (stored in UTC); default Europe/Warsaw, DST included

Mail (docs/operations.md, "Mail"). With no SMTP_HOST, messages wait in the outbox and organisers
read them under "Sent mail"; nothing is lost, they go out once a server is configured.
PUBLIC_URL      the address people open the app at, e.g. https://audyt.example.org: links in mail
                are made from it (a worker has no request to take the host from); required with SMTP_HOST
SMTP_HOST       the mail server; default none (mail waits in the outbox)
SMTP_PORT       default 587 (465 with SMTP_SECURITY=ssl)
SMTP_SECURITY   "starttls" (default: upgrade the connection, refuse a server that cannot),
                "ssl" (TLS from the first byte, port 465), or "none" (only for a relay on the same machine)
SMTP_USER, SMTP_PASSWORD   login at the server, if it asks for one
SMTP_CA_FILE    a PEM file of the certificate authority that signed the server's certificate, for a
                server with a private one; default: the system's trusted authorities
SMTP_TIMEOUT    seconds to wait for the server; default 30
MAIL_FROM       the sender, e.g. "Audyt Zaufania <audyt@example.org>"; default Audyt Zaufania <noreply@localhost>
MAIL_RETRY_SECONDS   the first wait before a failed message is tried again (doubling each time, at
                     most an hour); default 60
MAIL_MAX_ATTEMPTS    attempts before a message is marked failed; default 12 (about seven hours of an unreachable server)
REMINDER_DAYS   how many days before a last day reminders go out (an assignment's window, an edition's
                appeal window); default 3

Background jobs (audit/jobs.py, huey):
JOBS_URL        where huey keeps its queue: default the app's PostgreSQL database (tables huey_*),
                or on SQLite a file instance/jobs.sqlite3 beside it
JOBS_LEASE_SECONDS   a message claimed by a worker that died is taken again after this long; default 300
JOBS_STALL_SECONDS   a running job that has reported no progress for this long is taken to be dead (its
                     worker was killed) and is run again; default 300
JOBS_DIR        where jobs keep the files they make (exports, fairness results); default instance/jobs
JOBS_KEEP_HOURS      an export's file is removed this long after it was made; default 24
JOBS_RETRY_SECONDS   the first wait before a failed job is tried again (doubling); default 30
JOBS_MAX_ATTEMPTS    attempts before a job is marked failed and organisers are mailed; default 3
FAIRNESS_INLINE_CONTACTS  an edition with at most this many accepted contacts gets its fairness
                     analysis computed in the request; a larger one by a job; default 3000
PUBLISH_INLINE_INSTITUTIONS  an edition ranking at most this many institutions is published in the
                     organiser's request; a larger one by a job (after the same confirmation); default 1000
IMPORT_INLINE_ROWS   an institution import of at most this many new rows is added in the request; a
                     larger one by a job; default 1000
IMPORT_CHUNK_ROWS    such a job adds and commits this many rows at a time (a short write each, with its
                     progress); default 500
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """The environment does not allow the app to start safely."""


def database_url(instance_path: str) -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return "sqlite:///" + str(Path(instance_path) / "audit.db")
    if url.startswith("postgres://"):  # the form many hosts hand out
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def secret_key(instance_path: str, production: bool) -> str:
    """SECRET_KEY from the environment, else (outside production) one kept in instance/."""
    key = os.environ.get("SECRET_KEY", "").strip()
    if key:
        return key
    if production:
        raise ConfigError("SECRET_KEY must be set when AUDIT_ENV=production")
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _whole_number(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise ConfigError(f"{name} must be a whole number, not {raw!r}")
    return int(raw)


def display_timezone() -> str:
    """DISPLAY_TIMEZONE, checked at start-up: a typo must not show every time an hour off."""
    name = os.environ.get("DISPLAY_TIMEZONE", "").strip() or "Europe/Warsaw"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"DISPLAY_TIMEZONE {name!r} is not a known time zone (e.g. Europe/Warsaw)") from None
    return name


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, "").strip() or default


def mail_settings(production: bool) -> dict[str, Any]:
    """SMTP and outbox settings; refuses combinations that could only fail later, in a worker."""
    security = _env("SMTP_SECURITY", "starttls").lower()
    if security not in ("starttls", "ssl", "none"):
        raise ConfigError(f"SMTP_SECURITY must be starttls, ssl or none, not {security!r}")
    host, public_url = _env("SMTP_HOST"), _env("PUBLIC_URL").rstrip("/")
    if host and not public_url:
        raise ConfigError("PUBLIC_URL must be set with SMTP_HOST: links in mail are made from it")
    if not (_env("SMTP_USER") + (os.environ.get("SMTP_PASSWORD") or "")).isascii():
        # smtplib logs in with ASCII only: a worker would fail at every message, so refuse at start-up
        raise ConfigError("SMTP_USER and SMTP_PASSWORD must be ASCII (smtplib cannot send other characters)")
    if (public_url and not public_url.startswith(("https://", "http://"))) or (production and public_url.startswith("http://")):
        raise ConfigError(f"PUBLIC_URL must be an https:// address, not {public_url!r}")
    return {
        "PUBLIC_URL": public_url or None,
        "SMTP_HOST": host or None,
        "SMTP_PORT": _whole_number("SMTP_PORT", 465 if security == "ssl" else 587),
        "SMTP_SECURITY": security,
        "SMTP_USER": _env("SMTP_USER") or None,
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD") or None,
        "SMTP_CA_FILE": _env("SMTP_CA_FILE") or None,
        "SMTP_TIMEOUT": _whole_number("SMTP_TIMEOUT", 30),
        "MAIL_FROM": _env("MAIL_FROM", "Audyt Zaufania <noreply@localhost>"),
        "MAIL_RETRY_SECONDS": _whole_number("MAIL_RETRY_SECONDS", 60),
        "MAIL_MAX_ATTEMPTS": _whole_number("MAIL_MAX_ATTEMPTS", 12),
        "REMINDER_DAYS": _whole_number("REMINDER_DAYS", 3),
        "JOBS_URL": _env("JOBS_URL") or None,
        "JOBS_LEASE_SECONDS": _whole_number("JOBS_LEASE_SECONDS", 300),
        "JOBS_STALL_SECONDS": _whole_number("JOBS_STALL_SECONDS", 300),
        "JOBS_KEEP_HOURS": _whole_number("JOBS_KEEP_HOURS", 24),
        "JOBS_RETRY_SECONDS": _whole_number("JOBS_RETRY_SECONDS", 30),
        "JOBS_MAX_ATTEMPTS": max(1, _whole_number("JOBS_MAX_ATTEMPTS", 3)),
        "FAIRNESS_INLINE_CONTACTS": _whole_number("FAIRNESS_INLINE_CONTACTS", 3000),
        "PUBLISH_INLINE_INSTITUTIONS": _whole_number("PUBLISH_INLINE_INSTITUTIONS", 1000),
        "IMPORT_INLINE_ROWS": _whole_number("IMPORT_INLINE_ROWS", 1000),
        "IMPORT_CHUNK_ROWS": max(1, _whole_number("IMPORT_CHUNK_ROWS", 500)),
    }


def store_settings() -> dict[str, Any]:
    """Where evidence and appeal documents are kept; a setting that could only fail at the first upload is refused now."""
    kind = _env("EVIDENCE_STORE", "local").lower()
    if kind not in ("local", "s3"):
        raise ConfigError(f"EVIDENCE_STORE must be local or s3, not {kind!r}")
    if kind == "s3" and not _env("S3_BUCKET"):
        raise ConfigError("EVIDENCE_STORE=s3 needs S3_BUCKET")
    style = _env("S3_ADDRESSING_STYLE", "auto").lower()
    if style not in ("auto", "path", "virtual"):
        raise ConfigError(f"S3_ADDRESSING_STYLE must be auto, path or virtual, not {style!r}")
    return {
        "EVIDENCE_STORE": kind,
        "S3_BUCKET": _env("S3_BUCKET") or None,
        "S3_PREFIX": _env("S3_PREFIX"),
        "S3_ENDPOINT_URL": _env("S3_ENDPOINT_URL") or None,
        "S3_REGION": _env("S3_REGION") or None,
        "S3_ADDRESSING_STYLE": style,
        "S3_ACCESS_KEY_ID": _env("S3_ACCESS_KEY_ID") or None,
        "S3_SECRET_ACCESS_KEY": os.environ.get("S3_SECRET_ACCESS_KEY") or None,
    }


def from_environment(instance_path: str) -> dict[str, Any]:
    production = os.environ.get("AUDIT_ENV", "development") == "production"
    zone = display_timezone()
    return {
        **mail_settings(production),
        "AUDIT_ENV": "production" if production else "development",
        "SECRET_KEY": secret_key(instance_path, production),
        "SQLALCHEMY_DATABASE_URI": database_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {},  # idle connections are pinged by audit/connections.py, not every checkout
        "DB_PING_AFTER_SECONDS": _whole_number("DB_PING_AFTER_SECONDS", 5),
        "RUBRICS_DIR": os.environ.get("RUBRICS_DIR", str(PROJECT_ROOT / "rubrics")),
        "EVIDENCE_DIR": Path(os.environ.get("EVIDENCE_DIR") or Path(instance_path) / "evidence"),
        "JOBS_DIR": Path(os.environ.get("JOBS_DIR") or Path(instance_path) / "jobs"),
        "IMPORTS_DIR": Path(os.environ.get("IMPORTS_DIR") or Path(instance_path) / "imports"),
        **store_settings(),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        # Production is served over HTTPS only (deploy/nginx-audit.conf); a development server on
        # http://localhost must never send HSTS, or the browser refuses plain http there for a year.
        "STRICT_TRANSPORT_SECURITY": "max-age=31536000; includeSubDomains" if production else None,
        "PREFERRED_URL_SCHEME": "https" if production else "http",  # links made outside a request (the CLI)
        "BABEL_DEFAULT_LOCALE": "pl",
        "LANGUAGES": ("pl", "en"),
        # Times are stored as naive UTC; Flask-Babel's formatters convert them to this zone.
        "DISPLAY_TIMEZONE": zone,
        "BABEL_DEFAULT_TIMEZONE": zone,
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,  # one evidence photo (15 MB) and the form
        "WTF_CSRF_TIME_LIMIT": None,  # an auditor's form may stay open for hours
        "TRUSTED_PROXIES": _whole_number("TRUSTED_PROXIES", 0),
        "SESSION_IDLE_MINUTES": _whole_number("SESSION_IDLE_MINUTES", 240),
        "SESSION_MAX_HOURS": _whole_number("SESSION_MAX_HOURS", 12),
    }
