"""The rubric library: every rubric version the product knows, stored in the database.

The YAML text stays the source of truth (versioned, diffable, public); the library keeps every
version ever accepted, checked with the same loader as `flask rubrics check`. The `rubrics/`
directory is a seed loaded into the library, not the only source: an organiser adds a version
by uploading or editing its text in the browser. Nothing is stored until it validates, and a
changed text under a version already stored is refused (the version must be raised). Plain
functions over the database that only flush; no Flask request here.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from . import journal, rubric_diff
from .errors import N_, RuleError
from .extensions import db
from .models import AuditEvent, Campaign, CampaignChannel, RubricVersion, User
from .rubrics import CHANNELS, Problem, Rubric, RubricError, check_paths, parse_rubric
from .services import rubric_by_hash, store_rubric

MAX_SOURCE_BYTES = 256 * 1024  # the longest shipped rubric is under 20 KB


class RubricRefused(RuleError):
    """A rubric text the library does not take; `problems` lists what the loader found (may be empty)."""

    status = 422

    def __init__(self, message: str, problems: tuple[Problem, ...] = (), **params: object):
        super().__init__(message, **params)
        self.problems = problems


@dataclass(frozen=True)
class Entry:
    hash: str
    rubric_id: str
    version: str
    channel: str
    created_at: datetime
    author: str | None
    editions: tuple[tuple[int, str, str], ...] = ()
    """(id, name, stage) of the editions that pin it."""


@dataclass
class Library:
    by_channel: dict[str, list[Entry]] = field(default_factory=dict)


def seed(directory: str | Path) -> int:
    """Store every valid rubric of the seed directory that the library does not hold yet; how many were new.

    A file whose text clashes with a stored version is left out (the library keeps what it has)."""
    rubrics, _problems = check_paths([directory])
    known = set(db.session.scalars(sa.select(RubricVersion.hash)))
    added = 0
    for rubric in rubrics:
        if rubric.hash in known:
            continue
        try:
            store_rubric(rubric)
        except RubricError:
            continue
        added += 1
    db.session.flush()
    return added


def library() -> Library:
    """Every stored version by channel, newest first, with the editions that pin it and who added it."""
    pins: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for rubric_hash, campaign_id, name, status in db.session.execute(
            sa.select(CampaignChannel.rubric_hash, Campaign.id, Campaign.name, Campaign.status)
            .join(Campaign, Campaign.id == CampaignChannel.campaign_id).order_by(Campaign.year.desc(), Campaign.id)):
        pins[rubric_hash].append((campaign_id, name, status))
    authors = dict(db.session.execute(
        sa.select(AuditEvent.details["hash"].as_string(), User.name).join(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.action == "rubric_added")).all())
    result = Library({channel: [] for channel in CHANNELS})
    for row in db.session.scalars(sa.select(RubricVersion)):
        result.by_channel.setdefault(row.channel, []).append(Entry(
            row.hash, row.rubric_id, row.version, row.channel, row.created_at, authors.get(row.hash),
            tuple(pins.get(row.hash, ()))))
    for entries in result.by_channel.values():
        entries.sort(key=lambda e: (e.rubric_id, _version_key(e.version), e.created_at), reverse=True)
    return result


def _version_key(version: str) -> tuple[tuple[int, str], ...]:
    return tuple((int(p), "") if p.isdigit() else (-1, p) for p in re.split(r"[.\-]", version))


def next_version(version: str) -> str:
    """The version to suggest after `version`: its last number raised ("2026.1" -> "2026.2")."""
    parts = re.split(r"(\d+)", version)
    for i in range(len(parts) - 1, -1, -1):
        if parts[i].isdigit():
            parts[i] = str(int(parts[i]) + 1)
            return "".join(parts)
    return f"{version}.1"


def check(source: str) -> Rubric:
    """The rubric the text describes, checked by the same loader as the command line; RubricRefused
    with every problem found (each with its line and criterion) otherwise."""
    if len(source.encode()) > MAX_SOURCE_BYTES:
        raise RubricRefused(N_("A rubric text may be at most %(kb)s KB."), kb=MAX_SOURCE_BYTES // 1024)
    try:
        return parse_rubric(source, "<rubric>")
    except RubricError as error:
        raise RubricRefused(N_("The rubric has problems; nothing was stored."), error.problems) from error


def add(source: str, actor: User) -> tuple[RubricVersion, bool]:
    """Store a validated rubric version; returns it and whether it is new (the same text again is not)."""
    rubric = check(source)
    existing = db.session.get(RubricVersion, rubric.hash)
    if existing is not None:
        return existing, False
    clash = db.session.scalar(sa.select(RubricVersion).filter_by(rubric_id=rubric.id, version=rubric.version))
    if clash is not None:
        raise RubricRefused(N_("Rubric %(rubric)s version %(version)s is already stored with other content. Raise "
                               "the version (for example to %(next)s) and save again."),
                            rubric=rubric.id, version=rubric.version, next=next_version(rubric.version))
    row = store_rubric(rubric)
    db.session.flush()
    journal.record("rubric_added", actor=actor, object_type="rubric", object_id=None, hash=rubric.hash,
                   rubric=rubric.id, version=rubric.version, channel=rubric.channel)
    return row, True


def get(rubric_hash: str) -> tuple[RubricVersion, Rubric] | None:
    row = db.session.get(RubricVersion, rubric_hash)
    return (row, rubric_by_hash(rubric_hash)) if row is not None else None


def versions_for(channel: str) -> list[Rubric]:
    """The stored versions of one channel's rubrics, newest first: what an edition may pin."""
    rows = db.session.scalars(sa.select(RubricVersion.hash).filter_by(channel=channel))
    rubrics = [rubric_by_hash(h) for h in rows]
    return sorted(rubrics, key=lambda r: (r.id, _version_key(r.version)), reverse=True)


@dataclass(frozen=True)
class SincePrevious:
    """How one channel's instrument changed since the previous published edition."""

    edition: Campaign
    rubric: Rubric
    changes: list[rubric_diff.Change]


def since_previous(campaign: Campaign) -> dict[str, SincePrevious]:
    """Per channel, what changed in the rubric since the newest published edition of an earlier year that
    audited the channel (nothing for a channel that edition did not audit)."""
    previous = db.session.scalar(sa.select(Campaign).where(Campaign.status == "published", Campaign.year < campaign.year)
                                 .order_by(Campaign.year.desc(), Campaign.id.desc()))
    if previous is None:
        return {}
    before = {ch.channel: ch.rubric_hash for ch in previous.channels}
    out = {}
    for ch in campaign.channels:
        if ch.channel in before:
            old, new = rubric_by_hash(before[ch.channel]), rubric_by_hash(ch.rubric_hash)
            out[ch.channel] = SincePrevious(previous, old, rubric_diff.compare(old, new))
    return out
