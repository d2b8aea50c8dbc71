"""Slowing down password guessing without letting anyone lock anyone else out.

Every login attempt is counted *before* its password is checked, by one atomic statement per
key (an upsert whose condition is the throttle rule), so parallel attempts cannot overtake the
count: of 24 simultaneous guesses, exactly the free ones are checked. Three keys:

- **pair** (account, address): 5 attempts free, then waits of 1, 2, 4, 8 and at most 15
  minutes between attempts. Someone guessing from their address never slows the real user at
  theirs.
- **account**, over every address: past 50, one attempt per 30 seconds. A ceiling that slows a
  guessing botnet and never locks the account.
- **address**, over every account: past 100, waits as for a pair. Spraying one password over
  many accounts is slow.

A browser where the account has logged in before carries a signed "known device" cookie and is
spared the account and address ceilings (an office behind one address keeps working during an
attack). A count is forgotten after an hour without attempts. A successful login clears its pair
and takes its attempt back from the ceilings.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from .extensions import db
from .models import LoginThrottle, utcnow

FORGET_AFTER = timedelta(hours=1)
KNOWN_DEVICE_COOKIE = "known_device"
KNOWN_DEVICE_DAYS = 180
KNOWN_DEVICES_KEPT = 5  # accounts remembered per browser (a shared office computer)


@dataclass(frozen=True)
class Rule:
    free: int
    """Attempts counted without any wait."""
    first_wait: timedelta
    max_wait: timedelta
    growth: int = 2

    def wait_after(self, failures: int) -> timedelta:
        """The wait before the next attempt once `failures` have been counted."""
        if failures < self.free:
            return timedelta(0)
        return min(self.first_wait * self.growth ** (failures - self.free), self.max_wait)


PAIR = Rule(free=5, first_wait=timedelta(minutes=1), max_wait=timedelta(minutes=15))
ACCOUNT = Rule(free=50, first_wait=timedelta(seconds=30), max_wait=timedelta(seconds=30), growth=1)
ADDRESS = Rule(free=100, first_wait=timedelta(minutes=1), max_wait=timedelta(minutes=15))
# "Forgot password": each request mails a link and ends the account's open ones, so fewer are free.
RESET_ACCOUNT = Rule(free=3, first_wait=timedelta(minutes=15), max_wait=timedelta(hours=1))
RESET_ADDRESS = Rule(free=20, first_wait=timedelta(minutes=1), max_wait=timedelta(minutes=15))


@dataclass(frozen=True)
class Attempt:
    """One login attempt's keys: the pair always, the ceilings unless the browser is known."""

    keys: dict[str, Rule]
    account_key: str

    @classmethod
    def of(cls, email: str, address: str | None, known_device: bool) -> Attempt:
        email, address = email.strip().lower(), address or "?"
        account = f"account:{email}"[:300]
        keys = {f"pair:{email}|{address}"[:300]: PAIR}
        if not known_device:
            keys |= {account: ACCOUNT, f"address:{address}"[:300]: ADDRESS}
        return cls(keys, account)

    @classmethod
    def reset(cls, email: str, address: str | None) -> Attempt:
        """A "forgot password" request: 3 per account free, then one per 15 minutes growing to an hour;
        20 per address over every account. Counted under keys of their own, apart from logins."""
        email, address = email.strip().lower(), address or "?"
        account = f"reset-account:{email}"[:300]
        return cls({account: RESET_ACCOUNT, f"reset-address:{address}"[:300]: RESET_ADDRESS}, account)


def _insert(dialect: str) -> type[sqlite.Insert] | type[postgresql.Insert]:
    return postgresql.Insert if dialect == "postgresql" else sqlite.Insert


def _take(key: str, rule: Rule, now: datetime) -> bool:
    """Count one attempt under `key` if the rule lets it go ahead now; atomic, so parallel
    attempts are counted one after the other (PostgreSQL locks the row; SQLite the database)."""
    table = LoginThrottle.__table__
    failures, last_at = table.c.failures, table.c.last_at
    waits = {n: now - rule.wait_after(n) for n in range(rule.free, rule.free + 16)
             if rule.wait_after(n) < rule.max_wait}
    waited_since: sa.ColumnElement[datetime] = (sa.case(waits, value=failures, else_=now - rule.max_wait) if waits
                                                else sa.literal(now - rule.max_wait, sa.DateTime))
    may_go = sa.or_(failures < rule.free, last_at <= now - FORGET_AFTER, last_at <= waited_since)
    statement = _insert(db.session.get_bind().dialect.name)(table).values(key=key, failures=1, last_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.key], where=may_go,
        set_={"failures": sa.case((last_at <= now - FORGET_AFTER, 1), else_=failures + 1), "last_at": now},
    ).returning(table.c.failures)
    return db.session.execute(statement).first() is not None


def admit(attempt: Attempt) -> timedelta | None:
    """Count the attempt and say whether its password may be checked: None if it may, else how
    long to wait. Commits: the count must hold whatever happens to the rest of the request."""
    db.session.commit()  # end any read transaction, so SQLite takes the write lock at once
    now = utcnow()
    if all(_take(key, rule, now) for key, rule in attempt.keys.items()):
        db.session.commit()
        return None
    db.session.rollback()  # a refused attempt counts nowhere
    return _wait(attempt.keys, now)


def _wait(keys: dict[str, Rule], now: datetime) -> timedelta:
    waits = [row.last_at + keys[row.key].wait_after(row.failures) - now
             for row in db.session.scalars(sa.select(LoginThrottle).where(LoginThrottle.key.in_(keys)))]
    return max([w for w in waits if w > timedelta(0)], default=timedelta(seconds=1))


def succeeded(attempt: Attempt) -> None:
    """The password was right: forget the pair, and take this attempt back from the ceilings."""
    pair = [k for k, rule in attempt.keys.items() if rule is PAIR]
    db.session.execute(sa.delete(LoginThrottle).where(LoginThrottle.key.in_(pair)))
    db.session.execute(sa.update(LoginThrottle).where(
        LoginThrottle.key.in_([k for k in attempt.keys if k not in pair]), LoginThrottle.failures > 0,
    ).values(failures=LoginThrottle.failures - 1))


def minutes(wait: timedelta) -> int:
    return max(1, math.ceil(wait.total_seconds() / 60))


# --- known devices -----------------------------------------------------------------------------


def device_mark(secret: str, email: str) -> str:
    """What a browser keeps to show that this account logged in from it: a MAC, not the address."""
    return hmac.new(secret.encode(), f"known-device:{email.strip().lower()}".encode(), hashlib.sha256).hexdigest()[:32]


def is_known(cookie: str | None, secret: str, email: str) -> bool:
    mark = device_mark(secret, email)
    return any(hmac.compare_digest(mark, kept) for kept in (cookie or "").split("."))


def remember(cookie: str | None, secret: str, email: str) -> str:
    """The cookie's new value: this account first, then the others it already held."""
    mark = device_mark(secret, email)
    kept: Iterable[str] = (m for m in (cookie or "").split(".") if len(m) == 32 and m != mark)
    return ".".join([mark, *list(kept)[:KNOWN_DEVICES_KEPT - 1]])
