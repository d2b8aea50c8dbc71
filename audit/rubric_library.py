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
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa

from . import fieldwork, journal, lifecycle, rubric_diff, scoring
from .errors import N_, RuleError
from .extensions import db
from .lifecycle import Action
from .models import AuditEvent, Campaign, CampaignChannel, RubricTestCase, RubricVersion, User, utcnow
from .rubrics import CHANNELS, Problem, Rubric, RubricError, check_paths, parse_rubric
from .services import rubric_by_hash, store_rubric

MAX_SOURCE_BYTES = 256 * 1024  # the longest shipped rubric is under 20 KB
MAX_CASES = 50
"""Test cases one rubric may hold: each is re-run whenever one of its versions is shown."""
_OPEN = lifecycle.ALLOWED[Action.EDIT_RULES]
"""The stages of an edition that may still change its rubrics: a version they pin cannot be retired."""


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
    retired_at: datetime | None = None

    @property
    def status(self) -> Literal["retired", "in_use", "draft"]:
        """Retired (no edition may pin it any more), in use by an edition, or a draft nobody pinned yet."""
        return "retired" if self.retired_at is not None else "in_use" if self.editions else "draft"

    @property
    def retirable(self) -> bool:
        """Whether no edition that may still change its rubrics pins it (see `retire`)."""
        return self.retired_at is None and not any(stage in _OPEN for _id, _name, stage in self.editions)


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
            tuple(pins.get(row.hash, ())), row.retired_at))
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
    """The stored versions of one channel's rubrics that are not retired, newest first: what an edition may pin."""
    rows = db.session.scalars(sa.select(RubricVersion.hash).filter_by(channel=channel, retired_at=None))
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


# --- status: retiring a version ----------------------------------------------------------------


class RubricRetireRefused(RuleError):
    """A version that cannot be retired (or brought back) now; the message says why."""


def retire(rubric_hash: str, actor: User) -> RubricVersion:
    """Retire a version so that no edition pins it any more; refused while an edition that may still change
    its rubrics (a draft, or one in fieldwork or review) pins it. Its text stays, for the scores made with it."""
    row = db.session.get(RubricVersion, rubric_hash)
    if row is None:
        raise RubricRetireRefused(N_("There is no such rubric version."))
    if row.retired_at is not None:
        raise RubricRetireRefused(N_("Version %(version)s of %(rubric)s is already retired."),
                                  version=row.version, rubric=row.rubric_id)
    pinning = db.session.scalars(sa.select(Campaign.name).join(CampaignChannel).where(
        CampaignChannel.rubric_hash == rubric_hash, Campaign.status.in_(sorted(_OPEN))).order_by(Campaign.name)).all()
    if pinning:
        raise RubricRetireRefused(N_("Version %(version)s of %(rubric)s is pinned by %(editions)s, which can still "
                                     "change its rubrics. Pin another version there first."),
                                  version=row.version, rubric=row.rubric_id, editions=", ".join(pinning))
    row.retired_at = utcnow()
    db.session.flush()
    journal.record("rubric_retired", actor=actor, object_type="rubric", object_id=None, hash=row.hash,
                   rubric=row.rubric_id, version=row.version)
    return row


def restore(rubric_hash: str, actor: User) -> RubricVersion:
    """Undo `retire`: the version may be pinned again."""
    row = db.session.get(RubricVersion, rubric_hash)
    if row is None or row.retired_at is None:
        raise RubricRetireRefused(N_("This rubric version is not retired."))
    row.retired_at = None
    db.session.flush()
    journal.record("rubric_restored", actor=actor, object_type="rubric", object_id=None, hash=row.hash,
                   rubric=row.rubric_id, version=row.version)
    return row


# --- test cases: sample answers re-run on every version --------------------------------------


class CaseRefused(RuleError):
    """A test case the library does not take; the message says why."""

    status = 422


@dataclass(frozen=True)
class CaseLine:
    """One criterion of a re-run case: what it earned when saved and what it earns now."""

    criterion_id: str
    answer: scoring.AnswerValue | None
    """The answer as the engine read it (a measured criterion's number from the facts)."""
    expected: Decimal | None
    """None: the criterion did not exist in the version the case was saved with."""
    now: Decimal | None
    """None: the criterion is gone from this version."""
    status: str
    """The engine's status now ("scored", "hidden", "unanswered", "not_applicable"), or "removed"."""

    @property
    def differs(self) -> bool:
        return (self.expected or Decimal(0)) != (self.now or Decimal(0))


@dataclass(frozen=True)
class CaseRun:
    case: RubricTestCase
    expected: Decimal
    now: Decimal | None
    """None when the answers cannot be read under this version (an option it no longer has)."""
    lines: tuple[CaseLine, ...] = ()
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and self.now == self.expected and not any(line.differs for line in self.lines)


def _input(answers: dict[str, Any]) -> fieldwork.ContactInput:
    return fieldwork.ContactInput("", None, dict(answers.get("answers", {})), {}, dict(answers.get("facts", {})))


def save_case(rubric_hash: str, name: str, data: fieldwork.ContactInput, actor: User) -> RubricTestCase:
    """Keep the answers as a test case of the rubric, expecting the points they earn under this version."""
    rubric = rubric_by_hash(rubric_hash)
    name = " ".join(name.split())
    if not name:
        raise CaseRefused(N_("Give the test case a name."))
    if len(name) > 200:
        raise CaseRefused(N_("A test case name may be at most %(n)s characters."), n=200)
    if db.session.scalar(sa.select(RubricTestCase.id).filter_by(rubric_id=rubric.id, name=name)) is not None:
        raise CaseRefused(N_("Rubric %(rubric)s already has a test case named “%(name)s”. Choose another name."),
                          rubric=rubric.id, name=name)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(RubricTestCase).filter_by(rubric_id=rubric.id))
    if (count or 0) >= MAX_CASES:
        raise CaseRefused(N_("Rubric %(rubric)s already has %(n)s test cases, the most it may keep."),
                          rubric=rubric.id, n=MAX_CASES)
    stored = {"answers": dict(data.answers), "facts": dict(data.facts)}
    score = scoring.score_contact(rubric, fieldwork.engine_answers(rubric, rubric.channel, _input(stored)))
    case = RubricTestCase(rubric_id=rubric.id, name=name, saved_with=rubric_hash, answers=stored,
                          expected={c.criterion_id: str(c.earned) for c in score.criteria},
                          expected_total=str(score.earned), author_id=actor.id)
    db.session.add(case)
    db.session.flush()
    journal.record("rubric_case_saved", actor=actor, object_type="rubric", object_id=None, hash=rubric_hash,
                   rubric=rubric.id, case=name)
    return case


def delete_case(case_id: int, actor: User) -> None:
    case = db.session.get(RubricTestCase, case_id)
    if case is None:
        raise CaseRefused(N_("There is no such test case."))
    journal.record("rubric_case_deleted", actor=actor, object_type="rubric", object_id=None, rubric=case.rubric_id,
                   case=case.name)
    db.session.delete(case)
    db.session.flush()


def run_cases(rubric: Rubric) -> list[CaseRun]:
    """Every test case of the rubric (by its id, whichever version saved it) scored by this version, oldest
    first: the points now beside the points expected, criterion by criterion."""
    runs = []
    for case in db.session.scalars(sa.select(RubricTestCase).filter_by(rubric_id=rubric.id)
                                   .order_by(RubricTestCase.created_at, RubricTestCase.id)):
        expected = {k: Decimal(v) for k, v in case.expected.items()}
        total = Decimal(case.expected_total)
        try:
            score = scoring.score_contact(rubric, fieldwork.engine_answers(rubric, rubric.channel,
                                                                           _input(case.answers)))
        except ValueError as error:  # an answer this version cannot read (an option it no longer has)
            runs.append(CaseRun(case, total, None, error=str(error)))
            continue
        given = case.answers.get("answers", {})
        lines = [CaseLine(c.criterion_id, c.answer, expected.get(c.criterion_id), c.earned, c.status)
                 for c in score.criteria]
        now_ids = {c.criterion_id for c in score.criteria}
        lines += [CaseLine(cid, given.get(cid), points, None, "removed")
                  for cid, points in expected.items() if cid not in now_ids]
        runs.append(CaseRun(case, total, score.earned, tuple(lines)))
    return runs
