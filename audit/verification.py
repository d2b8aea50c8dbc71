"""Checking a published result: every revision of an edition recomputed from what is stored.

`flask --app audit results verify EDITION` (audit/cli.py) calls verify_edition(). For each
published revision it takes the contacts the revision counted, rebuilds each one's answers as
they stood when the revision was published, scores them again under the stored rubric text
their hash names, runs the engine with the rules the revision stored, and compares the result
with the revision's frozen rows. Nothing here writes to the database.

What one revision's check uses:

* the counted contacts: every contact id in the revision's channels, plus any contact its
  licence reasons name for a failed critical criterion;
* their answers as of publication: the stored values with every reviewer's correction made
  after `Revision.published_at` undone, newest first (an original of None means no answer);
* the rubric each contact was scored with, parsed from `RubricVersion.source`, whose SHA-256
  must still be the hash the contact names;
* the rules the revision stored (`Revision.rules`); a revision published before rules were
  kept is checked against the edition's current weights, minimums and policy, with the
  threshold the revision stored, and the report says so;
* each institution's category as the revision recorded it, and the channels it offers as
  they are now (if they changed since, the licence check can differ: a note says so).

What it compares: each contact's score (earned / possible) with the one the revision stored;
each institution's contacts per channel, points, rank, category rank and the engine's licence
decision; and that a final decision differing from the engine's carries an override reason.

What it cannot see: a contact the revision left out is not recomputed, since a revision
stores the contacts it counted, not those it skipped. So a contact whose criteria were all
"not applicable" (nothing possible: no evidence, hence in no channel's contacts) is not
recomputed either; if its stored answers were changed so that something applies, the change
goes unnoticed. A failed critical criterion needs possible points, so such a contact could not
have failed one as published; and a critical failure the revision did record is checked,
because its reasons name the contact. Calibration contacts never count and are not read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from . import scoring, services, standings
from .extensions import db
from .models import Answer, AnswerCorrection, Campaign, Contact, Institution, Revision, RubricVersion
from .rubrics import rubric_hash


class VerificationError(LookupError):
    """Nothing to verify: no such edition, or no published revision of it (or not that one)."""


@dataclass(frozen=True)
class Difference:
    """One figure of a revision that the recomputation does not give."""

    revision: int
    message: str
    institution_id: int | None = None
    institution_name: str | None = None

    def __str__(self) -> str:
        where = f"revision {self.revision}"
        if self.institution_id is not None:
            where += f", institution {self.institution_id}"
            if self.institution_name:
                where += f" ({self.institution_name})"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class RevisionCheck:
    """The outcome of recomputing one revision."""

    number: int
    published_at: datetime
    institutions: int
    contacts: int
    corrections_undone: int
    stored_rules: bool
    """False: the revision predates stored rules and was checked against the edition's current ones."""
    differences: tuple[Difference, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def matches(self) -> bool:
        return not self.differences

    def summary(self) -> str:
        outcome = "all match" if self.matches else (
            f"{len(self.differences)} difference{'s' if len(self.differences) != 1 else ''}")
        return f"revision {self.number}: {self.institutions} institutions, {self.contacts} contacts, {outcome}"


def show(value: object) -> str:
    """A figure as the report prints it: 718.8, 3, yes/no, "none"."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


# --- what one edition stores ------------------------------------------------------------------


@dataclass(frozen=True)
class _ContactRow:
    institution_id: int
    channel: str
    rubric_hash: str


@dataclass
class _Edition:
    """What every revision of an edition is recomputed from, read once."""

    contacts: dict[int, _ContactRow]
    answers: dict[int, dict[str, str]]
    corrections: dict[int, list[tuple[datetime, int, str, str | None]]]
    """Contact id -> (created_at, id, criterion, original value), newest first."""
    rubric_problems: dict[str, str]
    """Rubric hash -> why its stored text cannot be trusted (absent, or a different hash)."""
    offered: dict[int, frozenset[str]]
    names: dict[int, str]


def _load(campaign_id: int, contact_ids: set[int], institution_ids: set[int]) -> _Edition:
    """One query per kind of row for the whole edition (answers: one query, not one per contact)."""
    in_edition = sa.and_(Contact.campaign_id == campaign_id, Contact.calibration_group_id.is_(None))
    conn = db.session.connection()
    contacts = {cid: _ContactRow(iid, channel, rhash) for cid, iid, channel, rhash in conn.execute(
        sa.select(Contact.id, Contact.institution_id, Contact.channel, Contact.rubric_hash).where(in_edition))
        if cid in contact_ids}
    answers: dict[int, dict[str, str]] = defaultdict(dict)
    for cid, criterion, value in conn.execute(
            sa.select(Answer.contact_id, Answer.criterion_id, Answer.value)
            .join(Contact, Answer.contact_id == Contact.id).where(in_edition, Answer.value.is_not(None))):
        if cid in contacts and value is not None:
            answers[cid][criterion] = value
    corrections: dict[int, list[tuple[datetime, int, str, str | None]]] = defaultdict(list)
    for cid, created_at, correction_id, criterion, original in conn.execute(
            sa.select(AnswerCorrection.contact_id, AnswerCorrection.created_at, AnswerCorrection.id,
                      AnswerCorrection.criterion_id, AnswerCorrection.original_value)
            .join(Contact, AnswerCorrection.contact_id == Contact.id).where(in_edition)
            .order_by(AnswerCorrection.created_at.desc(), AnswerCorrection.id.desc())):
        if cid in contacts:
            corrections[cid].append((created_at, correction_id, criterion, original))
    hashes = {c.rubric_hash for c in contacts.values()}
    stored = dict(conn.execute(sa.select(RubricVersion.hash, RubricVersion.source)
                               .where(RubricVersion.hash.in_(hashes))).all()) if hashes else {}
    problems = {}
    for h in hashes:
        if h not in stored:
            problems[h] = f"no stored rubric with hash {h[:12]}"
        elif rubric_hash(stored[h]) != h:
            problems[h] = f"the stored text of rubric {h[:12]} no longer has that hash"
    institutions = conn.execute(sa.select(Institution.id, Institution.name, Institution.channels)
                                .where(Institution.id.in_(institution_ids))).all() if institution_ids else []
    return _Edition(contacts, dict(answers), dict(corrections), problems,
                    {iid: frozenset(channels or ()) for iid, _n, channels in institutions},
                    {iid: name for iid, name, _c in institutions})


def _counted(result: standings.EditionResult) -> set[int]:
    ids = {cid for r in result.institutions for ch in r.channels for cid in ch.contact_ids}
    ids |= {reason.contact_id for r in result.institutions for reason in r.reasons
            if reason.code == "critical" and not reason.passed and reason.contact_id is not None}
    return ids


# --- one revision ---------------------------------------------------------------------------


def as_published(answers: Mapping[str, str], corrections: Iterable[tuple[datetime, int, str, str | None]],
                 published_at: datetime) -> tuple[dict[str, str], int]:
    """A contact's answers as they stood at publication, and how many corrections were undone.

    `corrections` newest first: each one made after publication is undone by setting its
    criterion back to the original value (None: the criterion had no answer).
    """
    values = dict(answers)
    undone = 0
    for created_at, _id, criterion, original in corrections:
        if created_at <= published_at:
            break
        undone += 1
        if original is None:
            values.pop(criterion, None)
        else:
            values[criterion] = original
    return values, undone


def check_revision(campaign: Campaign, revision: Revision, edition: _Edition,
                   result: standings.EditionResult | None = None) -> RevisionCheck:
    """Recompute one revision and compare it, figure by figure, with its stored rows."""
    published = result or standings.published(revision)
    differences: list[Difference] = []
    notes: list[str] = []

    def differ(message: str, institution_id: int | None = None) -> None:
        differences.append(Difference(revision.number, message, institution_id,
                                      edition.names.get(institution_id) if institution_id is not None else None))

    if revision.rules is not None:
        rules = standings.rules_from_json(revision.rules)
    else:
        current = services.campaign_rules(campaign)
        rules = scoring.CampaignRules(current.weights, current.min_contacts, revision.threshold,
                                      current.missing_channel)
        notes.append(f"revision {revision.number} predates stored rules: checked against the edition's current "
                     f"weights, minimums and missing-channel policy, with the threshold it stored "
                     f"({show(revision.threshold)})")

    # the contacts it counted, where it counted them and the score it stored for each
    stored_scores: dict[int, tuple[int, str, float]] = {}
    for r in published.institutions:
        for ch in r.channels:
            if len(ch.contact_scores) != len(ch.contact_ids):
                differ(f"{ch.channel}: {len(ch.contact_ids)} contacts but {len(ch.contact_scores)} scores stored",
                       r.institution_id)
            for cid, stored_score in zip(ch.contact_ids, ch.contact_scores, strict=False):
                stored_scores[cid] = (r.institution_id, ch.channel, stored_score)
    counted = _counted(published)

    totals: list[scoring.ContactTotal] = []
    critical: dict[int, list[str]] = {}
    undone_total = 0
    for cid in sorted(counted):
        owner = stored_scores.get(cid, (None, None, None))[0]
        contact = edition.contacts.get(cid)
        if contact is None:
            differ(f"contact {cid} is not a stored contact of this edition", owner)
            continue
        problem = edition.rubric_problems.get(contact.rubric_hash)
        if problem is not None:
            differ(f"contact {cid} cannot be rescored: {problem}", contact.institution_id)
            continue
        answers, undone = as_published(edition.answers.get(cid, {}), edition.corrections.get(cid, ()),
                                       revision.published_at)
        undone_total += undone
        try:  # the stored strings, as services.contact_score feeds them
            score = scoring.score_contact(services.rubric_by_hash(contact.rubric_hash), answers)
        except (scoring.AnswerError, KeyError, LookupError) as exc:
            differ(f"contact {cid} cannot be rescored: {exc}", contact.institution_id)
            continue
        totals.append(scoring.ContactTotal(cid, contact.institution_id, contact.channel, score.earned, score.possible))
        if score.critical_failures:
            critical[cid] = list(score.critical_failures)
        if cid in stored_scores:
            iid, channel, stored = stored_scores[cid]
            ratio = None if score.ratio is None else float(score.ratio)
            if ratio != stored:
                differ(f"contact {cid} ({channel}) score {show(stored)} published, {show(ratio)} recomputed", iid)

    institutions = [scoring.InstitutionInfo(r.institution_id, r.category,
                                            edition.offered.get(r.institution_id, frozenset()))
                    for r in published.institutions]
    with services.cyclic_gc_paused():
        recomputed = {s.institution_id: s for s in scoring.score_campaign(rules, institutions, totals, critical)}

    for r in published.institutions:
        s = recomputed[r.institution_id]
        iid = r.institution_id
        for figure in r.channels:
            if figure.contact_ids and s.channel(figure.channel) is None:
                differ(f"{figure.channel} contacts {_ids(figure.contact_ids)} published in a channel the rules do "
                       "not score", iid)
        for channel_result in s.channels:
            stored_channel = r.channel(channel_result.channel)
            then_ids = tuple(sorted(stored_channel.contact_ids)) if stored_channel is not None else ()
            if then_ids != channel_result.contact_ids:
                differ(f"{channel_result.channel} contacts {_ids(then_ids)} published, "
                       f"{_ids(channel_result.contact_ids)} recomputed", iid)
        for name, then, now in (("points", r.points, s.points), ("rank", r.rank, s.rank),
                                ("category rank", r.category_rank, s.category_rank),
                                ("licence (engine's decision)", r.engine_licensed, s.licence.granted)):
            if then != now:
                differ(f"{name} {show(then)} published, {show(now)} recomputed", iid)
        if r.licensed != r.engine_licensed and not r.override_reason:
            differ(f"licence {show(r.licensed)} published against the engine's {show(r.engine_licensed)} "
                   "with no override reason", iid)
        then_offered = {reason.channel for reason in r.reasons if reason.code == "min_contacts" and reason.channel}
        now_offered = {ch for ch in edition.offered.get(iid, frozenset()) if ch in rules.weights}
        if r.reasons and then_offered != now_offered:
            notes.append(f"institution {iid} ({edition.names.get(iid, '?')}) offered "
                         f"{_channels(then_offered)} when published, {_channels(now_offered)} now: "
                         "the minimum-contacts check uses the channels as they are now")

    return RevisionCheck(revision.number, revision.published_at, len(published.institutions), len(totals),
                         undone_total, revision.rules is not None, tuple(differences), tuple(notes))


def _ids(ids: Iterable[int]) -> str:
    return "[" + ", ".join(map(str, ids)) + "]"


def _channels(channels: Iterable[str]) -> str:
    return ", ".join(sorted(channels)) or "no channel"


# --- an edition -------------------------------------------------------------------------------


def verify_edition(campaign_id: int, revision_number: int | None = None) -> list[RevisionCheck]:
    """Every published revision of an edition (or only one), oldest first, recomputed and compared."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise VerificationError(f"no edition {campaign_id}")
    query = sa.select(Revision).filter_by(campaign_id=campaign_id).order_by(Revision.number)
    if revision_number is not None:
        query = query.filter_by(number=revision_number)
    revisions = db.session.scalars(query).all()
    if not revisions:
        raise VerificationError(f"edition {campaign_id} ({campaign.name}) has no published revision"
                                + (f" {revision_number}" if revision_number is not None else ""))
    results = [(revision, standings.published(revision)) for revision in revisions]
    edition = _load(campaign_id, set().union(*(_counted(r) for _rev, r in results)),
                    {row.institution_id for _rev, r in results for row in r.institutions})
    return [check_revision(campaign, revision, edition, result) for revision, result in results]
