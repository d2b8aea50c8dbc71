"""How far a ranking can be trusted: auditor agreement, auditor calibration, leave-one-auditor-out
and rank uncertainty.

Pure: no Flask, no database; NumPy for the batch, SciPy for the t quantile. Every figure says
how many answers, contacts or replicates are behind it. docs/statistics.md explains each method,
its assumptions and its limits in plain words; the rules are also written where they are
implemented below.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, NamedTuple, Protocol

import numpy as np
from scipy import stats  # type: ignore[import-untyped]

from . import scoring
from .agreement import Alpha, Kappa, Level, Percent, cohen_kappa, krippendorff_alpha, percent_agreement

ANSWER_LEVELS: dict[str, Level] = {"yes_no": "nominal", "choice": "nominal", "scale": "ordinal", "number": "interval"}
"""Answer type -> level of measurement: categories, ordered levels, or numbers."""
POOR_AGREEMENT = 0.667
"""Krippendorff's lowest alpha for tentative conclusions: below it a criterion is flagged as unclear."""
MIN_PAIRABLE = 20
"""A criterion is judged (flagged or not) only with at least this many pairable answers (e.g. seven
groups of three auditors). With fewer, a single differing answer among otherwise perfect agreement
can pull alpha under POOR_AGREEMENT (a test shows it), so the flag would point at chance."""
CONFIDENCE = 0.95
REPLICATES = 200
SEED = 2026
"""The bootstrap's seed: the same data always gives the same intervals."""
_CHUNK = 4_000_000
"""Random draws made at once by the bootstrap (bounds its memory to a few tens of MB)."""
_BLOCK = 1 << 16
"""Matrix cells (institutions x replicates) each element-wise step of the bootstrap works on at once: its
temporaries stay a few hundred kB whatever the edition's size; blocks change no number (each cell's
arithmetic is its own), and the random draws are made in the same calls as ever."""


# --- (a) agreement on calibration contacts ---------------------------------------------------


class CalibrationAnswer(NamedTuple):
    """One auditor's answer to one criterion of one calibration group (shared interaction)."""

    group_id: int
    rubric: str
    """The rubric (channel) the group is scored with: criterion ids repeat across rubrics."""
    auditor_id: int
    criterion_id: str
    value: str | None
    """As stored: "yes"/"no", an option id, a scale level ("1", "2", ...), a number, "n/a"; None: not shown."""
    answer_type: str


class CalibrationScore(NamedTuple):
    """One auditor's whole-contact score (earned / possible) in one calibration group."""

    group_id: int
    rubric: str
    auditor_id: int
    ratio: float


class Disagreement(NamedTuple):
    """One group's answers to a criterion, side by side, where they were not all the same."""

    group_id: int
    answers: tuple[tuple[int, str | None], ...]
    """(auditor id, answer) by auditor id; None: the criterion was not shown to that auditor."""


@dataclass(frozen=True)
class CriterionAgreement:
    rubric: str
    criterion_id: str
    answer_type: str
    alpha: Alpha
    percent: Percent
    flagged: bool
    """alpha below POOR_AGREEMENT with at least MIN_PAIRABLE pairable answers: unclear wording?"""
    disagreements: tuple[Disagreement, ...] = ()
    """Filled for flagged criteria only."""

    @property
    def level(self) -> Level:
        return self.alpha.level


@dataclass(frozen=True)
class RubricAgreement:
    rubric: str
    groups: int
    auditors: int
    score_alpha: Alpha
    """Interval alpha of the auditors' whole-contact scores: do they agree on how good the contact was?"""
    percent: Percent
    """Identical answers among all pairs of answers to the same criterion of the same group."""
    criteria: tuple[CriterionAgreement, ...]

    @property
    def flagged(self) -> tuple[CriterionAgreement, ...]:
        return tuple(c for c in self.criteria if c.flagged)

    @property
    def judged(self) -> int:
        """Criteria with enough pairable answers to be judged."""
        return sum(1 for c in self.criteria if c.alpha.pairable >= MIN_PAIRABLE and c.alpha.value is not None)


class PairKappa(NamedTuple):
    auditor_a: int
    auditor_b: int
    kappa: Kappa


def answer_value(value: str | None, answer_type: str) -> str | float | None:
    """An answer as agreement data: a label for nominal types; a number for scale and number answers,
    where "not applicable" cannot be placed on the scale and counts as missing. For yes/no and
    choice criteria, "n/a" is a category of its own: disagreeing on whether a criterion applies is
    disagreement."""
    if value is None or value == "":
        return None
    if ANSWER_LEVELS.get(answer_type, "nominal") == "nominal":
        return value
    if value == scoring.NOT_APPLICABLE:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def agreement_report(answers: Iterable[CalibrationAnswer], scores: Iterable[CalibrationScore] = (),
                     min_pairable: int = MIN_PAIRABLE, threshold: float = POOR_AGREEMENT) -> list[RubricAgreement]:
    """Agreement per rubric and per criterion over calibration groups (units = groups).

    Each criterion gets Krippendorff's alpha at the level its answer type implies
    (ANSWER_LEVELS) and percent agreement; it is flagged when alpha < threshold with at least
    `min_pairable` pairable answers, with its disagreeing answers side by side.
    """
    cells: dict[tuple[str, str], dict[int, dict[int, str | None]]] = defaultdict(lambda: defaultdict(dict))
    types: dict[tuple[str, str], str] = {}
    order: dict[str, dict[str, None]] = defaultdict(dict)
    groups: dict[str, set[int]] = defaultdict(set)
    auditors: dict[str, set[int]] = defaultdict(set)
    for a in answers:
        key = (a.rubric, a.criterion_id)
        cells[key][a.group_id][a.auditor_id] = a.value
        types.setdefault(key, a.answer_type)
        order[a.rubric][a.criterion_id] = None
        groups[a.rubric].add(a.group_id)
        auditors[a.rubric].add(a.auditor_id)
    by_score: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for s in scores:
        by_score[s.rubric][s.group_id].append(s.ratio)
        groups[s.rubric].add(s.group_id)
        auditors[s.rubric].add(s.auditor_id)

    report = []
    for rubric in sorted(groups):
        criteria = []
        pooled: list[list[tuple[str, str | float] | None]] = []
        for criterion_id in order.get(rubric, {}):
            key = (rubric, criterion_id)
            answer_type = types[key]
            level = ANSWER_LEVELS.get(answer_type, "nominal")
            per_group = cells[key]
            units = [[answer_value(v, answer_type) for v in by_auditor.values()] for by_auditor in per_group.values()]
            pooled += [[(criterion_id, v) if v is not None else None for v in unit] for unit in units]
            alpha = krippendorff_alpha(units, level)
            flagged = alpha.value is not None and alpha.pairable >= min_pairable and alpha.value < threshold
            disagreements: tuple[Disagreement, ...] = ()
            if flagged:
                disagreements = tuple(
                    Disagreement(group, tuple(sorted(by_auditor.items())))
                    for group, by_auditor in sorted(per_group.items()) if len(set(by_auditor.values())) > 1)
            criteria.append(CriterionAgreement(rubric, criterion_id, answer_type, alpha, percent_agreement(units),
                                               flagged, disagreements))
        score_units = list(by_score.get(rubric, {}).values())
        report.append(RubricAgreement(rubric, len(groups[rubric]), len(auditors[rubric]),
                                      krippendorff_alpha(score_units, "interval"), percent_agreement(pooled),
                                      tuple(criteria)))
    return report


def pairwise_kappa(answers: Iterable[CalibrationAnswer], answer_types: Sequence[str] = ("yes_no",)
                   ) -> list[PairKappa]:
    """Cohen's kappa of every pair of auditors over the yes/no answers both gave to the same
    criterion of the same group (an item = a group and a criterion)."""
    given: dict[int, dict[tuple[int, str, str], str | float | None]] = defaultdict(dict)
    for a in answers:
        if a.answer_type in answer_types:
            given[a.auditor_id][(a.group_id, a.rubric, a.criterion_id)] = answer_value(a.value, a.answer_type)
    out = []
    ids = sorted(given)
    for i, first in enumerate(ids):
        for second in ids[i + 1:]:
            shared = given[first].keys() & given[second].keys()
            if shared:
                kappa = cohen_kappa((given[first][k], given[second][k]) for k in sorted(shared))
                if kappa.items:
                    out.append(PairKappa(first, second, kappa))
    return out


# --- (b) auditor calibration -----------------------------------------------------------------


class AuditedContact(NamedTuple):
    """A regular accepted contact with its auditor: a ContactTotal row plus who made it."""

    contact_id: int
    institution_id: int
    channel: str
    earned: float
    possible: float
    auditor_id: int


Verdict = Literal["harsh", "lenient", "in_line", "too_few"]


@dataclass(frozen=True)
class AuditorCalibration:
    auditor_id: int
    contacts: int
    """Contacts compared: those with another auditor's contact of the same institution and channel."""
    mean_deviation: float | None
    """Mean of (contact's ratio - mean ratio of the other auditors' contacts there), on 0-1."""
    low: float | None
    high: float | None
    """The 95% t-interval of the mean deviation (None with fewer than two contacts)."""

    @property
    def verdict(self) -> Verdict:
        if self.low is None or self.high is None:
            return "too_few"
        if self.high < 0:
            return "harsh"
        if self.low > 0:
            return "lenient"
        return "in_line"


def t_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float | None, float | None, float | None]:
    """(mean, low, high) of a t-interval for the mean; no interval with fewer than two values."""
    n = len(values)
    if n == 0:
        return None, None, None
    mean = math.fsum(values) / n
    if n < 2:
        return mean, None, None
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def _calibrate(cells: Iterable[Sequence[tuple[int, float]]], everyone: Iterable[int],
               confidence: float) -> list[AuditorCalibration]:
    """Per auditor: mean of (own ratio - mean of the other auditors' ratios in the same cell), with a t-interval."""
    deviations: dict[int, list[float]] = defaultdict(list)
    for found in cells:
        for auditor, ratio in found:
            others = [r for a, r in found if a != auditor]
            if others:
                deviations[auditor].append(ratio - math.fsum(others) / len(others))
    out = []
    for auditor in sorted(set(everyone)):
        values = deviations.get(auditor, [])
        mean, low, high = t_interval(values, confidence)
        out.append(AuditorCalibration(auditor, len(values), mean, low, high))
    return out


def auditor_calibration(contacts: Iterable[AuditedContact], confidence: float = CONFIDENCE) -> list[AuditorCalibration]:
    """How each auditor's scores deviate from other auditors' scores of the same institutions and channels.

    For each contact (with something possible), deviation = its ratio - the mean ratio of the
    OTHER auditors' contacts of the same institution and channel; a contact with no other
    auditor's contact there is not compared. Per auditor: the mean deviation with a t-interval.
    """
    cells: dict[tuple[int, str], list[tuple[int, float]]] = defaultdict(list)
    everyone: set[int] = set()
    for c in contacts:
        everyone.add(c.auditor_id)
        if c.possible > 0:
            cells[(c.institution_id, c.channel)].append((c.auditor_id, c.earned / c.possible))
    return _calibrate(cells.values(), everyone, confidence)


def calibration_group_deviation(scores: Iterable[CalibrationScore],
                                confidence: float = CONFIDENCE) -> list[AuditorCalibration]:
    """The same measure on calibration groups, where the other auditors scored the very same
    interaction: a cleaner comparison than different contacts of the same institution."""
    cells: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for s in scores:
        cells[s.group_id].append((s.auditor_id, s.ratio))
    return _calibrate(cells.values(), {a for found in cells.values() for a, _ in found}, confidence)


# --- (c) leave one auditor out ---------------------------------------------------------------


class LicenceFlip(NamedTuple):
    institution_id: int
    before: bool
    after: bool


@dataclass(frozen=True)
class LeaveOneOut:
    auditor_id: int
    contacts: int
    """The auditor's contacts left out."""
    largest_shift: int
    """The largest change of rank (either way) among institutions ranked with and without them."""
    shifted_institution: int | None
    """The institution that moved most (None when nothing moved)."""
    moved: int
    """Institutions whose rank changed."""
    flips: tuple[LicenceFlip, ...]
    unscored: tuple[int, ...]
    """Institutions left with no scored channel without this auditor's contacts."""


def _points_only(rules: scoring.CampaignRules) -> scoring.CampaignRules:
    """The rules without minimum contacts: leaving contacts out would fail that check by construction."""
    return replace(rules, min_contacts={})


def leave_one_auditor_out(rules: scoring.CampaignRules, institutions: Sequence[scoring.InstitutionInfo],
                          contacts: Sequence[AuditedContact],
                          critical_failures: Mapping[int, Sequence[str]] | None = None,
                          progress: Callable[[int, int], None] | None = None) -> list[LeaveOneOut]:
    """The ranking recomputed by the engine with each auditor's contacts removed, against the full one.

    Licence decisions are compared on points and critical criteria only (minimum contacts are
    left out of both sides), so that a flip means the auditor's judgement moved a decision.

    The engine scores each institution from its own contacts alone and ranks on the points, so
    leaving an auditor out rescores only the institutions they contacted (about a third of a
    national edition with twenty auditors); the others keep their points and licence, and the
    ranks are recomputed over everyone as the engine ranks (competition ranks on the points,
    which are exact one-decimal values). A test holds this to the full recompute.
    `progress(done, total)` is told after each auditor.
    """
    relaxed = _points_only(rules)
    base = scoring.score_campaign(relaxed, institutions, [c[:5] for c in contacts], critical_failures)
    base_by = {s.institution_id: s for s in base}
    base_rank = {s.institution_id: s.rank for s in base}
    base_licence = {s.institution_id: s.licence.granted for s in base}
    ids = [s.institution_id for s in base]
    by_auditor: dict[int, int] = defaultdict(int)
    touched: dict[int, set[int]] = defaultdict(set)
    by_institution: dict[int, list[tuple[int, int, str, float, float]]] = defaultdict(list)
    owners: dict[int, list[int]] = defaultdict(list)
    for c in contacts:
        by_auditor[c.auditor_id] += 1
        touched[c.auditor_id].add(c.institution_id)
        by_institution[c.institution_id].append(c[:5])
        owners[c.institution_id].append(c.auditor_id)
    out = []
    auditors = sorted(by_auditor)
    for n, auditor in enumerate(auditors, start=1):
        mine = touched[auditor]
        kept = [row for i in mine for row, who in zip(by_institution[i], owners[i], strict=True) if who != auditor]
        rescored = {s.institution_id: s for s in scoring.score_campaign(
            relaxed, [inst for inst in institutions if inst.id in mine], kept, critical_failures)}
        now = [rescored.get(i) or base_by[i] for i in ids]
        ranks = scoring.competition_ranks([s.points for s in now])
        standings = sorted(zip(now, ranks, strict=True), key=lambda p: (p[1] is None, p[1] or 0, p[0].institution_id))
        largest, who, moved = 0, None, 0
        flips, unscored = [], []
        for s, rank in standings:
            before = base_rank.get(s.institution_id)
            if before is not None and rank is None:
                unscored.append(s.institution_id)
            if before is not None and rank is not None and rank != before:
                moved += 1
                if abs(rank - before) > largest:
                    largest, who = abs(rank - before), s.institution_id
            if before is not None and rank is not None and s.licence.granted != base_licence[s.institution_id]:
                flips.append(LicenceFlip(s.institution_id, base_licence[s.institution_id], s.licence.granted))
        out.append(LeaveOneOut(auditor, by_auditor[auditor], largest, who, moved,
                               tuple(sorted(flips)), tuple(sorted(unscored))))
        if progress is not None:
            progress(n, len(auditors))
    return out


# --- (d) rank uncertainty: a bootstrap over each institution's contacts ----------------------


class ChannelEvidence(NamedTuple):
    """One channel that counts in an institution's score."""

    weight: float
    """Its renormalised weight, as the engine gave it."""
    ratios: tuple[float, ...]
    """Its contacts' ratios in contact-id order; empty: a fixed score (a channel not offered counted as zero)."""
    fixed: float = 0.0


class UncertaintyInput(NamedTuple):
    institution_id: int
    points: float | None
    rank: int | None
    channels: tuple[ChannelEvidence, ...]
    decided_by_points: bool
    """Every licence check but the threshold passed, so the points alone decide the licence."""


class RankInterval(NamedTuple):
    """An institution's ranking points and rank with their bootstrap intervals."""

    institution_id: int
    points: float | None
    points_low: float | None
    points_high: float | None
    rank: int | None
    rank_best: int | None
    rank_worst: int | None
    indistinct: bool
    """Its points interval overlaps the interval of the institution ranked next to it (above or below)."""
    licence_could_flip: bool
    """The points alone decide its licence and the threshold lies within its points interval."""
    ranked: int
    """Institutions ranked in the contest."""


class _PublishedRow(Protocol):
    institution_id: int
    points: float | None
    rank: int | None
    reasons: list[Any]
    channels: dict[str, dict[str, Any]]


def _decided_by_points(passed: Iterable[tuple[str, bool]]) -> bool:
    return all(ok for code, ok in passed if code != "threshold")


def inputs_from_standings(standings: Iterable[scoring.Standing],
                          contacts: Iterable[tuple[int, int, str, float, float]]) -> list[UncertaintyInput]:
    """Bootstrap inputs from the engine's standings and the ContactTotal rows they were scored from."""
    ratios = {row[0]: scoring.float_ratio(row[3], row[4]) for row in contacts if row[4] > 0}
    out = []
    for s in standings:
        channels = tuple(
            ChannelEvidence(float(ch.weight), tuple(ratios[i] for i in ch.contact_ids if i in ratios),  # ids sorted
                            float(ch.score) if not ch.contact_ids and ch.score is not None else 0.0)
            for ch in s.channels if ch.counts)
        out.append(UncertaintyInput(s.institution_id, s.points, s.rank, channels,
                                    s.points is not None and _decided_by_points((r.code, r.passed)
                                                                                for r in s.licence.reasons)))
    return out


def inputs_from_published(rows: Iterable[_PublishedRow]) -> list[UncertaintyInput]:
    """Bootstrap inputs from a published revision's frozen rows (RevisionStanding, or rows of its shape)."""
    out = []
    for row in rows:
        channels = []
        for ch in row.channels.values():
            weight = float(ch.get("weight") or 0.0)
            if weight <= 0:
                continue
            scores = tuple(float(x) for x in ch.get("contact_scores") or ())
            channels.append(ChannelEvidence(weight, scores, 0.0 if scores else float(ch.get("score") or 0.0)))
        reasons = [(str(r[0]), bool(r[1])) for r in row.reasons if len(r) > 1]
        out.append(UncertaintyInput(row.institution_id, row.points, row.rank, tuple(channels),
                                    row.points is not None and _decided_by_points(reasons)))
    return out


def engine_round(points: np.ndarray) -> np.ndarray:
    """Round to one decimal half up, as the engine rounds its exact points, vectorised.

    The bootstrap works in floats: a value within 1e-6 of a half-way point is taken to be that
    half-way point (the engine's exact value there is the half itself), so it rounds up.
    """
    scaled = points * 10
    rounded = np.floor(scaled + 0.5)
    near_half = np.abs(np.abs(scaled - np.floor(scaled)) - 0.5) < 1e-6
    rounded[near_half] = np.floor(scaled[near_half]) + 1
    return np.asarray(rounded / 10)


def _compensated_add(total: np.ndarray, error: np.ndarray, terms: np.ndarray) -> None:
    """total += terms in place, adding the rounding error of each addition to `error` (Knuth's TwoSum).

    The engine adds with math.fsum, correctly rounded; a plain NumPy sum can land one unit of the
    last place away, which decides the rounding of points like 993.75. total + error is the exact
    sum to well within that unit.
    """
    before = total.copy()
    total += terms
    back = np.subtract(total, before)  # the part of `terms` that made it into total
    lost = np.subtract(total, back)
    np.subtract(before, lost, out=lost)  # what `before` lost in the addition
    np.subtract(terms, back, out=back)  # what `terms` lost
    lost += back
    error += lost


def _accumulate(inputs: Sequence[UncertaintyInput], replicates: int, rng: np.random.Generator | None) -> np.ndarray:
    """Scores (0-1, before capping) per institution and replicate; NaN for an institution without a score.

    Without a generator: each channel's observed mean (one "replicate"), the engine's own score.
    With one: each channel with k >= 2 contacts draws k - 1 of them with replacement per replicate
    (why k - 1: docs/statistics.md). As in the engine, a channel's score is the mean of its
    contacts' ratios and the institution's the sum of weight x channel score over the channels
    that count. Cells are batched by channel position (one per institution) and contact count,
    so that a national contest takes a few vectorised steps.
    """
    total = np.zeros((len(inputs), replicates))
    error = np.zeros((len(inputs), replicates))
    block = max(1, _BLOCK // replicates)
    groups: dict[int, dict[int, list[tuple[int, float, tuple[float, ...]]]]] = defaultdict(lambda: defaultdict(list))
    for row, item in enumerate(inputs):
        if item.points is None:
            total[row] = np.nan
            continue
        for position, ch in enumerate(item.channels):
            groups[position][len(ch.ratios)].append((row, ch.weight, ch.ratios or (ch.fixed,)))
    for _position, by_count in sorted(groups.items()):
        # weight x channel score of this position's channel, added to its institutions' totals: an institution
        # has one channel per position, so adding it to those rows alone is adding zero to the others
        for k, cells in sorted(by_count.items()):
            rows = np.fromiter((c[0] for c in cells), dtype=np.intp, count=len(cells))
            weights = np.fromiter((c[1] for c in cells), dtype=float, count=len(cells))
            if rng is None or k <= 1:  # the observed mean, summed exactly as the engine does
                means = np.fromiter((math.fsum(c[2]) / len(c[2]) for c in cells), dtype=float, count=len(cells))
                for start in range(0, len(cells), block):
                    part = rows[start:start + block]
                    _add_rows(total, error, part, np.broadcast_to(
                        (weights[start:start + block] * means[start:start + block])[:, None], (len(part), replicates)))
                continue
            values = np.array([c[2] for c in cells], dtype=float)
            draws = k - 1
            small = np.uint8 if k <= 256 else np.intp  # small integers are drawn ten times faster
            step = max(1, _CHUNK // (replicates * draws))
            for start in range(0, len(cells), step):
                part = values[start:start + step]
                flat = part.ravel()
                # the draws of the chunk, in the very calls (and order) that fix the random stream: small integers
                picks = [rng.integers(0, k, size=(len(part), replicates), dtype=small) for _ in range(draws)]
                for first in range(0, len(part), block):  # the sums, a block of cells at a time
                    last = first + block
                    offsets = (np.arange(first, min(last, len(part))) * k)[:, None]
                    sums: np.ndarray = flat[offsets + picks[0][first:last]]
                    sums_error = np.zeros_like(sums)
                    for pick in picks[1:]:  # one draw of every cell at a time: k is small, the cells many
                        _compensated_add(sums, sums_error, flat[offsets + pick[first:last]])
                    sums += sums_error
                    sums /= draws
                    sums *= weights[start + first:start + last, None]  # IEEE products commute: weight x mean
                    _add_rows(total, error, rows[start + first:start + last], sums)
    total += error
    return total


def _add_rows(total: np.ndarray, error: np.ndarray, rows: np.ndarray, terms: np.ndarray) -> None:
    """_compensated_add on some rows of total and error (a block at a time, to keep temporaries small)."""
    part_total, part_error = total[rows], error[rows]
    _compensated_add(part_total, part_error, terms)
    total[rows] = part_total
    error[rows] = part_error


def _to_points(scores: np.ndarray) -> np.ndarray:
    """Capped and rounded points, in place in `scores`, a block of rows at a time."""
    block = max(1, _BLOCK // max(1, scores.shape[1] if scores.ndim > 1 else 1))
    for start in range(0, len(scores), block):
        part = scores[start:start + block]
        np.minimum(part, 1.0, out=part)
        part *= scoring.POINTS_SCALE
        part[...] = engine_round(part)
    return scores


def point_estimates(inputs: Sequence[UncertaintyInput]) -> np.ndarray:
    """Each institution's points from its observed contacts by the bootstrap's own arithmetic
    (equal to the engine's points: a test holds them to it)."""
    return _to_points(_accumulate(inputs, 1, None))[:, 0]


def bootstrap_points(inputs: Sequence[UncertaintyInput], replicates: int = REPLICATES, seed: int = SEED) -> np.ndarray:
    """Ranking points per institution (rows, in input order) and bootstrap replicate (columns)."""
    return _to_points(_accumulate(inputs, replicates, np.random.default_rng(seed)))


def replicate_ranks(points: np.ndarray) -> np.ndarray:
    """Competition ranks (1 + institutions with strictly more points) within each replicate column.

    Rows without points (NaN) get rank 0 and are ignored by callers.
    """
    ranks = np.zeros(points.shape, dtype=np.int64)
    if not points.size:
        return ranks
    scored = ~np.isnan(points[:, 0])
    rows = np.flatnonzero(scored)
    width = max(1, _BLOCK // max(1, len(rows)))  # replicate columns are ranked on their own: a few at a time
    for start in range(0, points.shape[1], width):
        ranks[rows, start:start + width] = _ranks_of(points[rows, start:start + width])
    return ranks


def _ranks_of(subset: np.ndarray) -> np.ndarray:
    """replicate_ranks of rows that all have points."""
    order = np.argsort(-subset, axis=0, kind="stable")
    ordered = np.take_along_axis(subset, order, axis=0)
    position = np.arange(subset.shape[0])[:, None]
    starts = np.ones(ordered.shape, dtype=bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    first = np.maximum.accumulate(np.where(starts, position, 0), axis=0)  # where each run of equal points starts
    inner = np.empty_like(order)
    np.put_along_axis(inner, order, first + 1, axis=0)
    return inner


def rank_intervals(inputs: Sequence[UncertaintyInput], threshold: float, replicates: int = REPLICATES,
                   seed: int = SEED, confidence: float = CONFIDENCE) -> list[RankInterval]:
    """Points and rank intervals (percentile bootstrap) for every institution, in input order.

    Marks an institution "not distinguishable" when its points interval overlaps the interval of
    its neighbour above or below in the observed ranking, and "licence could flip" when the points
    alone decide its licence and the threshold lies within its interval (low < threshold <= high).
    """
    if not inputs:
        return []
    points = bootstrap_points(inputs, replicates, seed)
    ranks = replicate_ranks(points)
    tail = (1 - confidence) / 2
    scored = [i for i, item in enumerate(inputs) if item.points is not None]
    low, high = np.zeros(len(scored)), np.zeros(len(scored))
    best, worst = np.zeros(len(scored), dtype=np.int64), np.zeros(len(scored), dtype=np.int64)
    block = max(1, _BLOCK // replicates)
    for start in range(0, len(scored), block):  # each row's quantiles are its own: a block of rows at a time
        part = scored[start:start + block]
        low[start:start + block], high[start:start + block] = np.quantile(
            points[part], [tail, 1 - tail], axis=1, method="inverted_cdf")
        best[start:start + block], worst[start:start + block] = np.quantile(
            ranks[part], [tail, 1 - tail], axis=1, method="inverted_cdf")
    bounds: dict[int, tuple[float, float, int, int]] = {
        i: (float(low[j]), float(high[j]), int(best[j]), int(worst[j])) for j, i in enumerate(scored)}
    # Neighbours in the observed order: by points, best first (ties in input order, as the engine lists them).
    order = sorted(scored, key=lambda i: (-(inputs[i].points or 0.0), i))
    indistinct: set[int] = set()
    for above, below in itertools.pairwise(order):
        if bounds[below][1] >= bounds[above][0]:  # below's high reaches above's low
            indistinct.update((above, below))
    out = []
    for i, item in enumerate(inputs):
        if i not in bounds:
            out.append(RankInterval(item.institution_id, None, None, None, None, None, None, False, False,
                                    len(scored)))
            continue
        lo, hi, b, w = bounds[i]
        flip = item.decided_by_points and lo < threshold <= hi
        out.append(RankInterval(item.institution_id, item.points, lo, hi, item.rank, b, w, i in indistinct, flip,
                                len(scored)))
    return out


def standings_uncertainty(standings: Sequence[scoring.Standing], contacts: Iterable[tuple[int, int, str, float, float]],
                          threshold: float, replicates: int = REPLICATES, seed: int = SEED) -> dict[int, RankInterval]:
    """Institution id -> its intervals, for the engine's standings (run right after score_campaign)."""
    return {r.institution_id: r for r in rank_intervals(inputs_from_standings(standings, contacts), threshold,
                                                        replicates, seed)}


def published_uncertainty(rows: Iterable[_PublishedRow], threshold: float, replicates: int = REPLICATES,
                          seed: int = SEED) -> dict[int, RankInterval]:
    """Institution id -> its intervals, for a published revision's frozen rows."""
    return {r.institution_id: r for r in rank_intervals(inputs_from_published(rows), threshold, replicates, seed)}
