"""Configuration from the environment.

DATABASE_URL   SQLAlchemy URL; default: SQLite in instance/audit.db
SECRET_KEY     required when AUDIT_ENV=production; otherwise generated once into instance/
AUDIT_ENV      "production" turns on secure cookies and HSTS, and refuses to start without SECRET_KEY
RUBRICS_DIR    where rubric YAML files live; default: rubrics/ beside the package
EVIDENCE_DIR   where evidence files are stored (never under static/); default: instance/evidence
TRUSTED_PROXIES       how many reverse proxies stand in front (their X-Forwarded-* headers are
                      believed); default 0: forwarded headers are ignored
SESSION_IDLE_MINUTES  a session unused this long ends; default 240
SESSION_MAX_HOURS     a session ends this long after login whatever its use; default 12
DISPLAY_TIMEZONE      the zone times are shown in (stored in UTC); default Europe/Warsaw, DST included
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


def from_environment(instance_path: str) -> dict[str, Any]:
    production = os.environ.get("AUDIT_ENV", "development") == "production"
    zone = display_timezone()
    return {
        "AUDIT_ENV": "production" if production else "development",
        "SECRET_KEY": secret_key(instance_path, production),
        "SQLALCHEMY_DATABASE_URI": database_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "RUBRICS_DIR": os.environ.get("RUBRICS_DIR", str(PROJECT_ROOT / "rubrics")),
        "EVIDENCE_DIR": Path(os.environ.get("EVIDENCE_DIR") or Path(instance_path) / "evidence"),
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
