"""Sessions the server knows, so that they can end: at logout, on a new password, on deactivation,
after an idle spell and at an absolute age.

The signed Flask cookie carries a random token; the server keeps its SHA-256 in `user_session`.
A cookie copied before logout opens nothing after it. Plain functions over the database that
only flush; no Flask request here.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from .extensions import db
from .models import User, UserSession, utcnow

SEEN_EVERY = timedelta(minutes=1)
"""How often a session's last use is written: idle time is exact to a minute, and a busy auditor
costs one small write a minute, not one per request."""


@dataclass(frozen=True)
class Lifetimes:
    idle: timedelta
    absolute: timedelta


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(user: User, now: datetime | None = None) -> str:
    """A new session for the user; returns its token (kept only by the browser)."""
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, token_hash=_hash(token), started_at=now or utcnow(),
                               seen_at=now or utcnow()))
    db.session.flush()
    return token


_USER_AND_SESSION = (sa.select(User, UserSession).join(UserSession, UserSession.user_id == User.id)
                     .where(User.id == sa.bindparam("user_id"), UserSession.token_hash == sa.bindparam("token_hash")))
"""Built once: every request of a logged-in person runs it, and a statement built anew each time costs a
fifth of the query's client time (building it, then computing its cache key)."""


def user_and_session(token: str | None, user_id: int, lifetimes: Lifetimes,
                     now: datetime | None = None) -> tuple[User, UserSession] | None:
    """The user and their open session of this token, read in one query (every request of a logged-in
    person asks), or None if the session ended, idled out or grew too old. Notes its use (at most once a minute)."""
    if not token:
        return None
    now = now or utcnow()
    found = db.session.execute(_USER_AND_SESSION, {"user_id": user_id, "token_hash": _hash(token)}).first()
    if found is None:
        return None
    user, row = found
    if row.ended_at is not None or row.seen_at + lifetimes.idle <= now or row.started_at + lifetimes.absolute <= now:
        return None
    if now - row.seen_at >= SEEN_EVERY:
        row.seen_at = now
    return user, row


def end(token: str | None, why: str = "logout", now: datetime | None = None) -> None:
    if token:
        db.session.execute(sa.update(UserSession).where(
            UserSession.token_hash == _hash(token), UserSession.ended_at.is_(None)).values(ended_at=now or utcnow(),
                                                                                           ended_why=why))


def end_all(user_id: int, why: str, now: datetime | None = None) -> int:
    """End every open session of a user (a new password, a deactivation); returns how many."""
    result = db.session.execute(sa.update(UserSession).where(
        UserSession.user_id == user_id, UserSession.ended_at.is_(None)).values(ended_at=now or utcnow(), ended_why=why))
    return int(getattr(result, "rowcount", 0) or 0)


def forget_old(lifetimes: Lifetimes, now: datetime | None = None) -> None:
    """Delete sessions that cannot be used any more; they tell nobody anything after a day."""
    cutoff = (now or utcnow()) - lifetimes.absolute - timedelta(days=1)
    db.session.execute(sa.delete(UserSession).where(UserSession.started_at < cutoff))
