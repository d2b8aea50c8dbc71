"""The result of an edition: one typed, frozen record, built live or read from a revision.

Every page and file that shows an edition's result reads it from here (the ranking page, the
edition overview, the workbook, publication and its "what changed" list), so that the rule
"an organiser's override decides the licence" is applied once, the engine's records are turned
into stored rows in one place, and each reader can say which result it shows: the live one
("not yet published") or published version N.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from . import fairness, result_cache, scoring, services
from .extensions import db
from .models import Campaign, CampaignChannel, LicenceOverride, Revision, RevisionStanding
from .paging import ResultFilter


@dataclass(frozen=True)
class ChannelFigure:
    """One channel of one institution's result."""

    channel: str
    status: scoring.ChannelStatus
    score: float | None
    """The exact channel score, as the float nearest to it (0-1)."""
    weight: float
    contact_ids: tuple[int, ...]
    contact_scores: tuple[float, ...]
    """The ratio of each counted contact, in contact_ids' order."""

    @property
    def contacts(self) -> int:
        return len(self.contact_ids)


@dataclass(frozen=True)
class InstitutionResult:
    institution_id: int
    category: str
    points: float | None
    rank: int | None
    category_rank: int | None
    engine_licensed: bool
    licensed: bool
    """The final decision: the engine's, or the organiser's override."""
    override_reason: str | None
    reasons: tuple[scoring.Reason, ...]
    channels: tuple[ChannelFigure, ...]

    def channel(self, name: str) -> ChannelFigure | None:
        return next((c for c in self.channels if c.channel == name), None)

    @property
    def overridden(self) -> bool:
        return self.override_reason is not None

    def channels_json(self) -> dict[str, dict[str, Any]]:
        """The channels as a revision stores them: the one serialisation of a result's channels."""
        return {ch.channel: {"status": ch.status, "score": ch.score, "weight": ch.weight, "contacts": ch.contacts,
                             "contact_ids": list(ch.contact_ids), "contact_scores": list(ch.contact_scores)}
                for ch in self.channels}

    def reasons_json(self) -> list[list[Any]]:
        """The licence checks as stored: [code, passed, channel, criterion, contact, value, required]."""
        return [list(reason) for reason in self.reasons]


@dataclass(frozen=True)
class EditionResult:
    """An edition's result: live (revision_number None) or a published revision."""

    campaign_id: int
    revision_number: int | None
    published_at: datetime | None
    threshold: float
    institutions: tuple[InstitutionResult, ...]
    """Best first, as ranked."""

    @property
    def live(self) -> bool:
        return self.revision_number is None

    def of(self, institution_id: int) -> InstitutionResult | None:
        return next((r for r in self.institutions if r.institution_id == institution_id), None)

    def by_institution(self) -> dict[int, InstitutionResult]:
        return {r.institution_id: r for r in self.institutions}


def filtered(result: EditionResult, where: ResultFilter) -> list[InstitutionResult]:
    """The institutions of a result the filter keeps, in ranking order (region and name asked of SQL)."""
    allowed = where.institutions()
    keep = None if allowed is None else set(db.session.scalars(allowed))
    return [r for r in result.institutions
            if where.category in (None, r.category) and where.licensed in (None, r.licensed)
            and (keep is None or r.institution_id in keep)]


# --- building ------------------------------------------------------------------------------


def overrides_of(campaign_id: int) -> dict[int, LicenceOverride]:
    """Institution id -> the organiser's override of its licence decision."""
    rows = db.session.scalars(sa.select(LicenceOverride).filter_by(campaign_id=campaign_id))
    return {o.institution_id: o for o in rows}


def from_standings(campaign: Campaign, standings: Iterable[scoring.Standing],
                   totals: Iterable[tuple[int, int, str, scoring.Number, scoring.Number]],
                   overrides: Mapping[int, LicenceOverride]) -> EditionResult:
    """The engine's standings with the organiser's overrides applied: the one place that rule lives."""
    ratios = {contact_id: scoring.float_ratio(earned, possible)
              for contact_id, _i, _c, earned, possible in totals if possible > 0}
    results = []
    for s in standings:
        override = overrides.get(s.institution_id)
        channels = tuple(
            ChannelFigure(ch.channel, ch.status, None if ch.score is None else float(ch.score), float(ch.weight),
                          ch.contact_ids, tuple(ratios[i] for i in ch.contact_ids if i in ratios))
            for ch in s.channels)
        results.append(InstitutionResult(
            s.institution_id, s.category, s.points, s.rank, s.category_rank, s.licence.granted,
            override.licensed if override is not None else s.licence.granted,
            override.reason if override is not None else None, s.licence.reasons, channels))
    return EditionResult(campaign.id, None, None, float(campaign.threshold), tuple(results))


def live(campaign: Campaign, fresh: bool = False) -> EditionResult:
    """What the next revision would hold: the engine's standings now, overrides applied.

    Kept per edition state (audit.result_cache); `fresh` recomputes it whatever was kept (publishing does).
    """
    def compute() -> EditionResult:
        scored = services.score_edition(campaign.id)
        return from_standings(campaign, scored.standings, scored.totals, overrides_of(campaign.id))
    return compute() if fresh else result_cache.cached("live", campaign.id, compute)


def _channel_from_json(name: str, data: Mapping[str, Any]) -> ChannelFigure:
    return ChannelFigure(name, data.get("status", "scored"), data.get("score"), data.get("weight") or 0.0,
                         tuple(data.get("contact_ids") or ()), tuple(data.get("contact_scores") or ()))


def published(revision: Revision) -> EditionResult:
    """A published revision's frozen result, read once per process (a revision never changes)."""
    return result_cache.frozen("published", (revision.id, revision.number, revision.published_at),
                               lambda: _read_published(revision))


def _read_published(revision: Revision) -> EditionResult:
    """A revision's rows, read without loading one ORM object per row."""
    with services.cyclic_gc_paused():
        return _published_rows(revision)


_COLUMNS = (RevisionStanding.institution_id, RevisionStanding.category, RevisionStanding.points,
            RevisionStanding.rank, RevisionStanding.category_rank, RevisionStanding.engine_licensed,
            RevisionStanding.licensed, RevisionStanding.override_reason, RevisionStanding.reasons,
            RevisionStanding.channels)


def _published_result(row: Sequence[Any]) -> InstitutionResult:
    iid, category, points, rank, category_rank, engine_licensed, licensed, override_reason, reasons, channels = row
    return InstitutionResult(iid, category, points, rank, category_rank, engine_licensed, licensed, override_reason,
                             tuple(scoring.Reason(*r) for r in reasons or ()),
                             tuple(_channel_from_json(name, data) for name, data in (channels or {}).items()))


def _published_rows(revision: Revision) -> EditionResult:
    rows = db.session.execute(sa.select(*_COLUMNS).where(RevisionStanding.revision_id == revision.id)
                              .order_by(RevisionStanding.position))
    return EditionResult(revision.campaign_id, revision.number, revision.published_at, float(revision.threshold),
                         tuple(_published_result(row) for row in rows))


def published_chunks(revision: Revision, chunk: int = 500) -> Iterator[list[InstitutionResult]]:
    """The records of published(revision), in ranking order, `chunk` rows at a time, each chunk read by a query
    of its own (keyset on the position) and kept by nobody: what a national export reads, so that its memory
    is one chunk whatever the edition's size. A revision never changes, so the caller may end its transaction
    between chunks."""
    after = -1
    revision_id = revision.id
    while True:
        rows = db.session.execute(sa.select(RevisionStanding.position, *_COLUMNS)
                                  .where(RevisionStanding.revision_id == revision_id,
                                         RevisionStanding.position > after)
                                  .order_by(RevisionStanding.position).limit(chunk)).all()
        if not rows:
            return
        yield [_published_result(row[1:]) for row in rows]
        after = rows[-1][0]


# --- what a scorecard compares against ----------------------------------------------------------


def revision_figures(institutions: Sequence[InstitutionResult], channels: Iterable[str]) -> dict[str, Any]:
    """What a result's readers summarise, computed once for a revision:

    - "categories": per category, the ranked points (in ranking order) and each channel's median score over
      the category's institutions that have one (what every scorecard compares against);
    - "contacts": per channel of the edition, [institutions, least, median, most] contacts counted among the
      institutions that offer the channel, or None (the public method page).
    """
    points: dict[str, list[float]] = {}
    scores: dict[str, dict[str, list[float]]] = {}
    counts: dict[str, list[int]] = {ch: [] for ch in channels}
    for r in institutions:
        mine = points.setdefault(r.category, [])
        if r.points is not None:
            mine.append(r.points)
        by_channel = scores.setdefault(r.category, {})
        for ch in r.channels:
            if ch.score is not None:
                by_channel.setdefault(ch.channel, []).append(ch.score)
            if ch.channel in counts and not str(ch.status).startswith("not_offered"):
                counts[ch.channel].append(ch.contacts)
    return {
        "categories": {category: {"points": points[category],
                                  "channels": {ch: statistics.median(v) for ch, v in scores[category].items()}}
                       for category in points},
        "contacts": {ch: [len(n), min(n), statistics.median(n), max(n)] if n else None for ch, n in counts.items()},
    }


def figures_of(revision: Revision) -> dict[str, Any]:
    """The figures a revision keeps (or, for one published before it kept them, computed once)."""
    if revision.figures is not None:
        return revision.figures
    channels = db.session.scalars(sa.select(CampaignChannel.channel).filter_by(campaign_id=revision.campaign_id)
                                  .order_by(CampaignChannel.position)).all()
    return result_cache.frozen("figures", (revision.id, revision.number, revision.published_at),
                               lambda: revision_figures(published(revision).institutions, channels))


def _computed_certainty(revision: Revision) -> dict[int, fairness.RankInterval]:
    """The bootstrap over a revision's rows, once per revision: for one published before its rows kept it."""
    return result_cache.frozen(
        "certainty", (revision.id, revision.number, revision.published_at),
        lambda: fairness.published_uncertainty(revision.standings, revision.threshold))


def certainty_of(revision: Revision, row: RevisionStanding) -> fairness.RankInterval | None:
    """An institution's bootstrap interval in a revision: kept in its row, or computed once from the revision."""
    if row.certainty is not None:
        return fairness.RankInterval(*row.certainty)
    return _computed_certainty(revision).get(row.institution_id)


def certainties(revision: Revision) -> dict[int, fairness.RankInterval]:
    """Every institution's bootstrap interval in a revision, as certainty_of gives each: what its rows keep
    (one query of two columns), or, for a revision published before they kept it, computed once."""
    kept = db.session.execute(sa.select(RevisionStanding.institution_id, RevisionStanding.certainty)
                              .where(RevisionStanding.revision_id == revision.id)).all()
    if any(certainty is None for _iid, certainty in kept):
        return _computed_certainty(revision)
    return {iid: fairness.RankInterval(*certainty) for iid, certainty in kept}


# --- storing -------------------------------------------------------------------------------


def rules_json(rules: scoring.CampaignRules) -> dict[str, Any]:
    """The rules a revision was scored with, with every figure as the decimal text it was typed as."""
    return {"weights": {ch: str(scoring.decimal(w)) for ch, w in rules.weights.items()},
            "min_contacts": dict(rules.min_contacts), "threshold": str(scoring.decimal(rules.threshold)),
            "missing_channel": rules.missing_channel}


def rules_from_json(data: Mapping[str, Any]) -> scoring.CampaignRules:
    return scoring.CampaignRules(weights={ch: Decimal(w) for ch, w in data["weights"].items()},
                                 min_contacts=dict(data["min_contacts"]), threshold=Decimal(data["threshold"]),
                                 missing_channel="zero" if data.get("missing_channel") == "zero" else "exclude")


@dataclass(frozen=True)
class FrozenRow:
    """A revision's row before it is stored: RevisionStanding's columns, as plain values."""

    institution_id: int
    position: int
    category: str
    points: float | None
    rank: int | None
    category_rank: int | None
    engine_licensed: bool
    licensed: bool
    override_reason: str | None
    reasons: list[Any]
    channels: dict[str, Any]
    certainty: list[Any] | None = None

    def columns(self, revision_id: int) -> dict[str, Any]:
        """The row as a bulk INSERT's parameters."""
        return {"revision_id": revision_id, **{f: getattr(self, f) for f in self.__dataclass_fields__}}


def revision_rows(result: EditionResult, threshold: float) -> list[FrozenRow]:
    """The live result as a revision's rows: the one serialisation of a result, each row with its interval.

    Plain values, stored with one executemany (store_rows): at 5,000 institutions, ORM objects through the
    unit of work cost two seconds of a publication."""
    rows = [
        FrozenRow(institution_id=r.institution_id, position=position, category=r.category, points=r.points,
                  rank=r.rank, category_rank=r.category_rank, engine_licensed=r.engine_licensed, licensed=r.licensed,
                  override_reason=r.override_reason, reasons=r.reasons_json(), channels=r.channels_json())
        for position, r in enumerate(result.institutions)
    ]
    intervals = fairness.published_uncertainty(rows, threshold)  # as a reader of the stored rows would compute it
    return [row if (interval := intervals.get(row.institution_id)) is None
            else dataclasses.replace(row, certainty=list(interval)) for row in rows]


def store_rows(revision: Revision, rows: Sequence[FrozenRow]) -> None:
    """Insert a flushed revision's rows in one executemany (Core, no ORM objects)."""
    if rows:
        db.session.execute(sa.insert(RevisionStanding.__table__), [row.columns(revision.id) for row in rows])
    db.session.expire(revision, ["standings"])  # read back from the table when asked for


# --- comparing -----------------------------------------------------------------------------


def differs(a: InstitutionResult | None, b: InstitutionResult | None) -> bool:
    """Whether two results of one institution differ in anything a reader sees."""
    if a is None or b is None:
        return a is not b
    return (a.points, a.rank, a.licensed, {ch.channel: ch.contact_ids for ch in a.channels}) != \
        (b.points, b.rank, b.licensed, {ch.channel: ch.contact_ids for ch in b.channels})
