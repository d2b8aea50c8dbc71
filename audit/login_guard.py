"""Slowing down password guessing: a few failures per account, more per address, then a pause.

Counts are kept in the database (LoginThrottle), so every worker process sees the same ones.
A window opens at the first failure and closes WINDOW later; within it, an account takes
ACCOUNT_LIMIT failures and an address ADDRESS_LIMIT (an office behind one address has many
people). A successful login clears its account's count, never the address's.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from .extensions import db
from .models import LoginThrottle, utcnow

WINDOW = timedelta(minutes=15)
ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 30


def keys(email: str, address: str | None) -> dict[str, int]:
    """The throttle keys of a login attempt and their limits."""
    return {f"account:{email.strip().lower()}"[:300]: ACCOUNT_LIMIT, f"address:{address or '?'}"[:300]: ADDRESS_LIMIT}


def wait_needed(limits: dict[str, int]) -> timedelta | None:
    """How long the attempt must wait, or None if it may go ahead."""
    now = utcnow()
    waits = []
    for row in db.session.scalars(sa.select(LoginThrottle).where(LoginThrottle.key.in_(limits))):
        ends = row.window_start + WINDOW
        if ends > now and row.failures >= limits[row.key]:
            waits.append(ends - now)
    return max(waits) if waits else None


def failed(limits: dict[str, int]) -> None:
    now = utcnow()
    for key in limits:
        row = db.session.get(LoginThrottle, key)
        if row is None:
            db.session.add(LoginThrottle(key=key, failures=1, window_start=now))
        elif row.window_start + WINDOW <= now:
            row.failures, row.window_start = 1, now  # an old window: start a new one
        else:
            row.failures += 1
    db.session.commit()


def succeeded(email: str) -> None:
    db.session.execute(sa.delete(LoginThrottle).where(LoginThrottle.key == f"account:{email.strip().lower()}"[:300]))
    db.session.commit()
