"""A director's scorecard: one institution's result in a published revision, explained.

Everything comes from the newest published revision of the edition (what was published is
what the director reads) and from the answers of exactly the contacts that revision counted.
The arithmetic over rows lives in plain functions (lost_points, section_scores, percentile)
so it is tested without a database.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from . import fairness, publication, redaction, standings
from .extensions import db
from .models import (
    Answer,
    Appeal,
    Campaign,
    Contact,
    Institution,
    Licence,
    Revision,
    RevisionAnswer,
    RevisionStanding,
    User,
)
from .rubrics import Criterion, Rubric, Text
from .services import rubric_by_hash

# --- plain arithmetic ----------------------------------------------------------------------


@dataclass
class LostCriterion:
    """A criterion the institution did not fully meet, over the contacts that asked it."""

    channel: str
    criterion: Criterion
    section: Text
    asked: int = 0
    failed: int = 0
    points_lost: float = 0.0
    critical_failed: bool = False
    """A critical criterion scored zero in some contact: a knock-out for the licence."""

    @property
    def advice(self) -> Text | None:
        return self.criterion.recommendation


AnswerRow = tuple[int, str, str, float, float]
"""(contact id, channel, criterion id, earned, possible): one scored answer."""


def lost_points(rows: Iterable[AnswerRow],
                rubrics: Mapping[str, Rubric]) -> list[LostCriterion]:
    """Every criterion that lost points: knock-outs first, then most points lost, then most often failed."""
    found: dict[tuple[str, str], LostCriterion] = {}
    for _contact, channel, criterion_id, earned, possible in rows:
        if possible <= 0:
            continue  # not applicable or not asked
        rubric = rubrics[channel]
        try:
            criterion = rubric.criterion(criterion_id)
        except KeyError:
            continue
        key = (channel, criterion_id)
        item = found.get(key)
        if item is None:
            section = next(s.title for s in rubric.sections if s.id == criterion.section_id)
            item = found[key] = LostCriterion(channel, criterion, section)
        item.asked += 1
        if earned < possible:
            item.failed += 1
            item.points_lost += possible - earned
            item.critical_failed |= criterion.critical and earned == 0
    lost = [i for i in found.values() if i.failed]
    lost.sort(key=lambda i: (not i.critical_failed, -i.points_lost, -i.failed, i.channel, i.criterion.id))
    return lost


def section_scores(rows: Iterable[AnswerRow],
                   rubrics: Mapping[str, Rubric]) -> list[tuple[str, Text, float]]:
    """(channel, section title, share of points achieved) for every section that was asked."""
    totals: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for _contact, channel, criterion_id, earned, possible in rows:
        if possible <= 0 or channel not in rubrics:
            continue
        try:
            section_id = rubrics[channel].criterion(criterion_id).section_id
        except KeyError:
            continue
        totals[(channel, section_id)][0] += earned
        totals[(channel, section_id)][1] += possible
    out = []
    for channel, rubric in rubrics.items():
        for section in rubric.sections:
            earned, possible = totals.get((channel, section.id), (0.0, 0.0))
            if possible > 0:
                out.append((channel, section.title, earned / possible))
    return out


def percentile(points: float | None, peers: Sequence[float]) -> float | None:
    """Share of the category's ranked institutions with fewer points (ties count half), 0-100."""
    if points is None or not peers:
        return None
    below = sum(1 for p in peers if p < points)
    equal = sum(1 for p in peers if p == points)
    return 100.0 * (below + 0.5 * equal) / len(peers)


def median_or_none(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


# --- the appeal window --------------------------------------------------------------------


@dataclass(frozen=True)
class AppealWindow:
    """Whether directors may contest now: "open" until a day, "closed" since a day, or "none" (never opened)."""

    state: str
    until: date | None = None

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    @property
    def closed_since(self) -> date | None:
        return self.until + timedelta(days=1) if self.until is not None and self.state == "closed" else None


def appeal_window(campaign: Campaign, today: date | None = None) -> AppealWindow:
    until = campaign.appeal_until
    if until is None:
        return AppealWindow("none")
    return AppealWindow("open" if (today or date.today()) <= until else "closed", until)


# --- the scorecard -------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelLine:
    channel: str
    score: float | None
    category_median: float | None
    contacts: int
    weight: float
    status: str = "no_contacts"
    """The engine's channel status (scored, no_contacts, not_offered_*), for the mark shown."""


@dataclass(frozen=True)
class ContactLine:
    contact_id: int
    channel: str
    contacted_at: datetime | None
    scenario: str
    score: float | None
    auditor: str
    """A pseudonym, never a name."""
    evidence: tuple[tuple[int, str], ...]
    """(evidence id, neutral file name) when the edition shows evidence to directors; never the uploaded name."""
    appeal: Appeal | None


@dataclass(frozen=True)
class TrendPoint:
    year: int
    edition: str
    points: float | None
    threshold: float


@dataclass
class Scorecard:
    campaign: Campaign
    institution: Institution
    revision: Revision
    standing: RevisionStanding
    peers: int
    category_points: list[float]
    percentile: float | None
    channels: list[ChannelLine]
    sections: list[tuple[str, Text, float]]
    lost: list[LostCriterion]
    contacts: list[ContactLine]
    trend: list[TrendPoint]
    reasons: list[object] = field(default_factory=list)
    licence: Licence | None = None
    """The licence granted in this edition, unless revoked."""
    rubrics_by_contact: dict[int, Rubric] = field(default_factory=dict)
    ranked: int = 0
    """Institutions ranked in the whole edition (every category)."""
    certainty: fairness.RankInterval | None = None
    """How certain the position is: a bootstrap over the contacts the revision counted (audit/fairness.py)."""

    def question(self, contact_id: int | None, criterion_id: str | None) -> Text | None:
        """A criterion's question as the contact's rubric words it (for reasons that name a criterion)."""
        rubric = self.rubrics_by_contact.get(contact_id or 0)
        try:
            return rubric.criterion(criterion_id or "").question if rubric else None
        except KeyError:
            return None

    @property
    def below(self) -> int:
        """Ranked institutions of the category with fewer points."""
        mine = self.standing.points
        return 0 if mine is None else sum(1 for p in self.category_points if p < mine)

    @property
    def category_median(self) -> float | None:
        return median_or_none(self.category_points)

    @property
    def appeals_open(self) -> bool:
        return self.window.is_open

    @property
    def window(self) -> AppealWindow:
        return appeal_window(self.campaign)


def published_editions_of(institution_id: int) -> list[tuple[Campaign, Revision]]:
    """Published editions in which the institution was ranked, newest first, with their newest revision."""
    newest = (sa.select(Revision.campaign_id, sa.func.max(Revision.number).label("number"))
              .group_by(Revision.campaign_id).subquery())
    rows = db.session.execute(
        sa.select(Campaign, Revision)
        .join(Revision, Revision.campaign_id == Campaign.id)
        .join(newest, sa.and_(newest.c.campaign_id == Revision.campaign_id, newest.c.number == Revision.number))
        .join(RevisionStanding, sa.and_(RevisionStanding.revision_id == Revision.id,
                                        RevisionStanding.institution_id == institution_id))
        .order_by(Campaign.year.desc(), Campaign.id.desc()))
    return [(c, r) for c, r in rows]


def answer_rows(revision_id: int, contact_ids: Sequence[int]) -> list[AnswerRow]:
    """The scored answers of the contacts as the revision froze them (audit.publication.freeze_answers);
    for a revision published before answers were frozen, the answers as they stand."""
    rows = db.session.execute(
        sa.select(RevisionAnswer.contact_id, Contact.channel, RevisionAnswer.criterion_id, RevisionAnswer.earned,
                  RevisionAnswer.possible)
        .join(Contact, Contact.id == RevisionAnswer.contact_id)
        .where(RevisionAnswer.revision_id == revision_id, RevisionAnswer.contact_id.in_(contact_ids))).all()
    if rows or not contact_ids or db.session.scalar(
            sa.select(RevisionAnswer.contact_id).filter_by(revision_id=revision_id).limit(1)) is not None:
        return [tuple(r) for r in rows]  # type: ignore[misc]
    return [tuple(r) for r in db.session.execute(  # type: ignore[misc]
        sa.select(Answer.contact_id, Contact.channel, Answer.criterion_id, Answer.earned, Answer.possible)
        .join(Contact, Contact.id == Answer.contact_id).where(Answer.contact_id.in_(contact_ids))).all()]


def build(campaign: Campaign, institution: Institution) -> Scorecard | None:
    """The institution's scorecard in the edition's newest revision; None if it was not published."""
    revision = publication.latest_revision(campaign.id)
    if revision is None:
        return None
    standing = db.session.get(RevisionStanding, (revision.id, institution.id))
    if standing is None:
        return None
    peers = standings.figures_of(revision)["categories"].get(standing.category, {"points": [], "channels": {}})
    ranked = list(peers["points"])
    channels = []
    for ch in campaign.channels:
        mine = standing.channels.get(ch.channel, {})
        channels.append(ChannelLine(ch.channel, mine.get("score"), peers["channels"].get(ch.channel),
                                    mine.get("contacts", 0), mine.get("weight", 0.0),
                                    mine.get("status", "no_contacts")))
    contact_ids = [i for ch in standing.channels.values() for i in ch.get("contact_ids", [])]
    contacts = db.session.scalars(sa.select(Contact).where(Contact.id.in_(contact_ids))
                                  .order_by(Contact.contacted_at, Contact.id)).all()
    rubrics = {c.channel: rubric_by_hash(c.rubric_hash) for c in contacts}
    rows = answer_rows(revision.id, contact_ids)
    per_contact: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for contact_id, _ch, _crit, earned, possible in rows:
        per_contact[contact_id][0] += earned
        per_contact[contact_id][1] += possible
    appeals = {a.contact_id: a for a in db.session.scalars(
        sa.select(Appeal).where(Appeal.contact_id.in_(contact_ids)).order_by(Appeal.id))}
    auditors = dict(db.session.execute(sa.select(User.id, User.pseudonym).where(
        User.id.in_({c.auditor_id for c in contacts}))).all())
    published_scores = {i: score for ch in standing.channels.values()  # as published: a later correction waits
                        for i, score in zip(ch.get("contact_ids", []), ch.get("contact_scores", []), strict=False)}
    lines = [ContactLine(
        c.id, c.channel, c.contacted_at, c.scenario,
        published_scores.get(c.id, per_contact[c.id][0] / per_contact[c.id][1] if per_contact[c.id][1] > 0 else None),
        auditors.get(c.auditor_id) or "—",
        tuple(redaction.director_names(c.evidence).items()) if campaign.evidence_to_directors else (),
        appeals.get(c.id)) for c in contacts]
    trend = [TrendPoint(c.year, c.name, db.session.get(RevisionStanding, (r.id, institution.id)).points, r.threshold)
             for c, r in reversed(published_editions_of(institution.id))]
    return Scorecard(campaign, institution, revision, standing, len(ranked), ranked,
                     percentile(standing.points, ranked), channels, section_scores(rows, rubrics),
                     lost_points(rows, rubrics), lines, trend,
                     [publication.reason_of(r) for r in standing.reasons],
                     db.session.scalar(sa.select(Licence).filter_by(campaign_id=campaign.id, institution_id=institution.id,
                                                                    revoked_at=None)),
                     {c.id: rubrics[c.channel] for c in contacts},
                     ranked=db.session.scalar(sa.select(sa.func.count()).where(
                         RevisionStanding.revision_id == revision.id, RevisionStanding.rank.is_not(None))) or 0,
                     certainty=standings.certainty_of(revision, standing))


# --- one published contact, as a director may see it ---------------------------------------


@dataclass(frozen=True)
class CriterionLine:
    """One criterion of a published contact: the answer, the points it earned, the comment if shared."""

    criterion: Criterion
    section: Text
    value: str | None
    earned: float
    possible: float
    comment: str | None

    @property
    def lost(self) -> bool:
        return self.possible > 0 and self.earned < self.possible


@dataclass(frozen=True)
class ContactRecord:
    """A counted contact as the newest published revision counted it: never a name, never an
    unpublished answer (a correction made since waits for the next revision)."""

    contact: Contact
    campaign: Campaign
    revision: Revision
    auditor: str
    """A pseudonym, never a name."""
    score: float | None
    earned: float
    possible: float
    criteria: tuple[CriterionLine, ...]
    evidence: tuple[tuple[int, str], ...]
    appeals: tuple[Appeal, ...]
    window: AppealWindow

    @property
    def open_appeal(self) -> Appeal | None:
        return next((a for a in self.appeals if a.status == "open"), None)

    def question(self, criterion_id: str) -> Text | None:
        line = next((c for c in self.criteria if c.criterion.id == criterion_id), None)
        return line.criterion.question if line else None


def contact_record(contact: Contact) -> ContactRecord | None:
    """The published record of a contact the caller already knows the director may see
    (audit.appeals.published_contact); None when the newest revision did not count it."""
    campaign = db.session.get_one(Campaign, contact.campaign_id)
    revision = publication.latest_revision(campaign.id)
    standing = db.session.get(RevisionStanding, (revision.id, contact.institution_id)) if revision else None
    if revision is None or standing is None:
        return None
    published_scores = {i: score for ch in standing.channels.values()
                        for i, score in zip(ch.get("contact_ids", []), ch.get("contact_scores", []), strict=False)}
    if contact.id not in {i for ch in standing.channels.values() for i in ch.get("contact_ids", [])}:
        return None
    rubric = rubric_by_hash(contact.rubric_hash)
    frozen = {a.criterion_id: a for a in publication.published_answers(revision.id, contact.id)}
    if not frozen:  # a revision published before answers were frozen with it
        frozen = {a.criterion_id: a for a in contact.answers}  # type: ignore[misc]
    lines = []
    for section in rubric.sections:
        for criterion in section.criteria:
            answer = frozen.get(criterion.id)
            if answer is None or (answer.value is None and answer.possible <= 0):
                continue  # not asked in this contact
            lines.append(CriterionLine(criterion, section.title, answer.value, answer.earned, answer.possible,
                                       answer.comment if campaign.comments_to_directors else None))
    earned, possible = sum(c.earned for c in lines), sum(c.possible for c in lines)
    auditor = db.session.scalar(sa.select(User.pseudonym).where(User.id == contact.auditor_id)) or "—"
    appeals = tuple(db.session.scalars(sa.select(Appeal).filter_by(contact_id=contact.id).order_by(Appeal.id)))
    return ContactRecord(
        contact, campaign, revision, auditor, published_scores.get(contact.id), earned, possible, tuple(lines),
        tuple(redaction.director_names(contact.evidence).items()) if campaign.evidence_to_directors else (),
        appeals, appeal_window(campaign))
