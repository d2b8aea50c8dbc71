"""An edition's live result computed once per change, not once per page view.

A national recompute takes about a second; the ranking, the overview and the exports all need it.
Each process keeps the last few results, each under the *stamp* of the state it was computed from:

- two counters (Setting rows) that every flush able to change a live result bumps in its own
  transaction: the edition's own `results.generation.<id>` for a contact entering or leaving
  "accepted" or changed while accepted, its answers and corrections, the edition's rules or
  channels, an assignment, an override, a published revision; and the shared `results.generation`
  for what may touch every edition (an institution; ORM-level bulk UPDATE/DELETE/INSERT statements
  on those tables, whose rows are not looked at). The bump is an ORM event, so no write path has
  to remember it; a change in one edition leaves the others' results (and fingerprints) standing;
- the count, version sum and largest id of the edition's accepted contacts: a second, independent
  witness of the answers that count (every change of a contact or its answers raises its version).

A result is stored only if the stamp read before computing it equals the stamp read after, so a
change committed during the computation never hides under an older stamp. It is kept at two levels:
in the process (a dict) and in the database (`result_snapshot`, pickled), so another process, or this
one after a restart, reads it instead of recomputing; the job worker rebuilds a stale one a few
seconds after the change (audit.jobs), so an organiser seldom waits for it. Published revisions
never change, so their results are kept by revision id.

The snapshot is pickled because it is read on every ranking view and pickle rebuilds a national result
(tens of thousands of small records) an order of magnitude faster than any text format; it is only
ever written by this module from the engine's own records, and one that fails to load is recomputed.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask, current_app
from sqlalchemy.dialects import postgresql, sqlite

from .extensions import db
from .models import (
    Answer,
    AnswerCorrection,
    Assignment,
    Campaign,
    CampaignChannel,
    Contact,
    Institution,
    LicenceOverride,
    ResultSnapshot,
    Revision,
    Setting,
    utcnow,
)
from .services import cyclic_gc_paused

log = logging.getLogger(__name__)
CHANGED = "results-changed"
"""session.info flag: this transaction changed what a live result depends on (audit.jobs refreshes it)."""
CODE = hashlib.sha256(b"".join(
    (Path(__file__).parent / name).read_bytes()
    for name in ("scoring.py", "rubrics.py", "services.py", "standings.py", "fairness.py", "fairness_data.py",
                 "result_cache.py"))).hexdigest()[:16]
"""The code that computes and shapes a result: a snapshot another version of it wrote is never read
(a deployed fix of the engine recomputes every edition)."""
GENERATION_KEY = "results.generation"
KEEP = 6
"""Results kept per process (a national one is ~10 MB)."""

T = TypeVar("T")
Stamp = tuple[Any, ...]

_ALWAYS = (Campaign, CampaignChannel, Institution, Assignment, LicenceOverride, AnswerCorrection, Revision)
_TABLES = frozenset(t.__table__.name for t in (*_ALWAYS, Contact, Answer))  # type: ignore[attr-defined]


class _Memo:
    """A small thread-safe LRU: key -> (stamp, value)."""

    def __init__(self, size: int) -> None:
        self._items: OrderedDict[Any, tuple[Stamp, Any]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: Any, stamp: Stamp) -> Any | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None or hit[0] != stamp:
                return None
            self._items.move_to_end(key)
            return hit[1]

    def put(self, key: Any, stamp: Stamp, value: Any) -> None:
        with self._lock:
            self._items[key] = (stamp, value)
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def init_app(app: Flask) -> None:
    """Each app keeps its own results: two apps in one process (tests) never share one."""
    app.extensions["result_cache"] = _Memo(KEEP)


def _memo() -> _Memo:
    return current_app.extensions["result_cache"]  # type: ignore[no-any-return]


def edition_key(campaign_id: int) -> str:
    """The Setting row counting the changes of one edition's results."""
    return f"{GENERATION_KEY}.{campaign_id}"


def stamp(campaign_id: int) -> Stamp:
    """The state a live result of the edition depends on, read in one query: the one owner of an edition's
    state (the fairness analysis and a publication confirmed for a later job are both keyed on it)."""
    shared = sa.select(Setting.value).where(Setting.key == GENERATION_KEY).scalar_subquery()
    own = sa.select(Setting.value).where(Setting.key == edition_key(campaign_id)).scalar_subquery()
    row = db.session.execute(
        sa.select(shared, own, sa.func.count(Contact.id), sa.func.coalesce(sa.func.sum(Contact.version), 0),
                  sa.func.coalesce(sa.func.max(Contact.id), 0))
        .where(Contact.campaign_id == campaign_id, Contact.status == "accepted")).one()
    return (campaign_id, *row)


def fingerprint(campaign_id: int) -> str:
    """The edition's stamp as a short text, for a form to carry or a job to keep: equal fingerprints, equal
    results (the counters only ever rise, so a state never comes back under an old fingerprint)."""
    return hashlib.sha256(json.dumps(list(stamp(campaign_id)), default=str).encode()).hexdigest()[:24]


def hold(campaign_id: int, expected: str) -> bool:
    """Whether the edition is still in the state `expected` names, and, if so, keep it there until this
    transaction ends: the edition's counter is bumped first (a row lock on PostgreSQL, the write lock on
    SQLite), so a change committed by anyone else either came before (and is seen here: False) or waits
    for this transaction. Used by publish() before it writes what it computed."""
    bump(db.session.connection(), edition_key(campaign_id))
    db.session.info[CHANGED] = True
    now = stamp(campaign_id)
    return _previous(now) == expected


def _previous(now: Stamp) -> str:
    """The fingerprint the edition had just before this transaction's own bump of its counter."""
    campaign_id, shared, own, *rest = now
    before = [campaign_id, shared, None if own in (None, "1") else str(int(own) - 1), *rest]
    return hashlib.sha256(json.dumps(before, default=str).encode()).hexdigest()[:24]


def cached(kind: str, campaign_id: int, compute: Callable[[], T]) -> T:
    """`compute()` for the edition's current state: from memory, or the database's snapshot, when that
    state was seen before."""
    before = stamp(campaign_id)
    found = _memo().get((kind, campaign_id), before)
    if found is not None:
        return found  # type: ignore[no-any-return]
    stored = _read_snapshot(kind, campaign_id, before)
    if stored is not None:
        _memo().put((kind, campaign_id), before, stored)
        return stored  # type: ignore[no-any-return]
    value = compute()
    if stamp(campaign_id) == before:
        _memo().put((kind, campaign_id), before, value)
        _write_snapshot(kind, campaign_id, before, value)
    return value


def _stamp_text(value: Stamp) -> str:
    return json.dumps([CODE, *value])


def _read_snapshot(kind: str, campaign_id: int, value: Stamp) -> Any | None:
    data = db.session.scalar(sa.select(ResultSnapshot.data).filter_by(
        kind=kind, campaign_id=campaign_id, stamp=_stamp_text(value)))
    if data is None:
        return None
    try:
        with cyclic_gc_paused():  # tens of thousands of acyclic records: the collector's passes find nothing
            return pickle.loads(data)  # written by _write_snapshot only, from the engine's records
    except Exception:  # a snapshot from another version of the code: recompute it
        log.warning("result snapshot %s/%s unreadable; recomputing", kind, campaign_id, exc_info=True)
        return None


def _write_snapshot(kind: str, campaign_id: int, value: Stamp, result: Any) -> None:
    """Upsert the snapshot on a connection of its own (a page that reads commits nothing); best effort."""
    row = {"kind": kind, "campaign_id": campaign_id, "stamp": _stamp_text(value), "computed_at": utcnow(),
           "data": pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)}
    try:
        with db.engine.begin() as connection:
            insert = (postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert)(
                ResultSnapshot.__table__)
            connection.execute(insert.values(**row).on_conflict_do_update(
                index_elements=["kind", "campaign_id"],
                set_={k: row[k] for k in ("stamp", "computed_at", "data")}))
    except sa.exc.SQLAlchemyError:  # busy, or the edition was deleted meanwhile: the next reader computes it
        log.warning("could not store the result snapshot %s/%s", kind, campaign_id, exc_info=True)


def frozen(kind: str, revision: Hashable, compute: Callable[[], T]) -> T:
    """`compute()` for a published revision, which never changes once written (named by id, number and time,
    since a database may reuse the id of a deleted edition's revision)."""
    key = (kind, "revision", revision)
    found = _memo().get(key, ())
    if found is not None:
        return found  # type: ignore[no-any-return]
    value = compute()
    _memo().put(key, (), value)
    return value


def forget() -> None:
    """Drop every result this app kept (a database restored from a backup under it)."""
    _memo().clear()


# --- the generation counter ----------------------------------------------------------------


def _was_accepted(contact: Contact) -> bool:
    history = so.attributes.get_history(contact, "status")
    return contact.status == "accepted" or "accepted" in (history.deleted or ())


EVERY = -1
"""In a set of touched editions: a change that may touch every edition (the shared counter)."""


def _touched(session: so.Session) -> set[int]:
    """The editions whose live result the flush may change (EVERY for all of them); an auditor's save (a
    contact and its sixty answers, none accepted) is told apart with one status check per contact."""
    accepted: dict[int, bool] = {}
    touched: set[int] = set()

    def counts(contact: Contact | None) -> bool:
        if contact is None:
            return True  # an answer whose contact is gone: assume the worst
        if id(contact) not in accepted:
            accepted[id(contact)] = _was_accepted(contact)
        return accepted[id(contact)]

    def edition_of(contact_id: int | None) -> int:
        contact = session.get(Contact, contact_id) if contact_id is not None else None
        return contact.campaign_id if contact is not None and contact.campaign_id is not None else EVERY

    for obj in itertools.chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Institution):
            touched.add(EVERY)
        elif isinstance(obj, Campaign):
            touched.add(obj.id if obj.id is not None else EVERY)
        elif isinstance(obj, AnswerCorrection):
            touched.add(edition_of(obj.contact_id))
        elif isinstance(obj, _ALWAYS):
            touched.add(obj.campaign_id if obj.campaign_id is not None else EVERY)  # type: ignore[attr-defined]
        elif isinstance(obj, Contact):
            if counts(obj):
                touched.add(obj.campaign_id if obj.campaign_id is not None else EVERY)
        elif isinstance(obj, Answer):
            contact = obj.__dict__.get("contact") or session.get(Contact, obj.contact_id)
            if counts(contact):
                touched.add(contact.campaign_id if contact is not None and contact.campaign_id is not None
                            else EVERY)
    return touched


def bump(connection: sa.Connection, key: str = GENERATION_KEY) -> None:
    """Raise a counter by one, creating it on first use (an atomic upsert on either database)."""
    insert = (postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert)(Setting.__table__)
    value = Setting.__table__.c.value
    connection.execute(insert.values(key=key, value="1").on_conflict_do_update(
        index_elements=["key"],
        set_={"value": sa.cast(sa.cast(value, sa.Integer) + 1, sa.Text)}))


@sa.event.listens_for(so.Session, "after_flush")
def _after_flush(session: so.Session, _context: Any) -> None:
    touched = _touched(session)
    for campaign_id in sorted(touched):  # one order in every transaction: two bumping flushes never deadlock
        bump(session.connection(), GENERATION_KEY if campaign_id == EVERY else edition_key(campaign_id))
    if touched:
        session.info[CHANGED] = True


@sa.event.listens_for(so.Session, "do_orm_execute")
def _on_bulk_statement(state: so.ORMExecuteState) -> None:
    if (state.is_update or state.is_delete or state.is_insert) and state.statement.table.name in _TABLES:  # type: ignore[attr-defined]
        bump(state.session.connection())
        state.session.info[CHANGED] = True
