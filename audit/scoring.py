"""The scoring engine: answers -> contact scores -> channel scores -> ranking and licences.

Pure and typed: no Flask, no database. The rules, each implemented once below and
explained with a worked example in docs/scoring.md:

* a contact scores earned / possible points; "not applicable" leaves both out, and so does
  a conditional criterion whose condition is not met (it counts as not applicable);
* a channel scores the mean of its accepted contacts' ratios; an institution scores the
  channel-weighted mean, the weights renormalised over the channels that count for it;
* ranking points are that score on a 0-1000 scale, rounded to one decimal; ranks are
  competition ranks over the rounded points ("1, 2, 2, 4"), overall and per category;
* a licence needs points at or above the threshold, the minimum contacts in every channel
  that counts, and no failed critical criterion; the decision lists its reasons.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

from .rubrics import NO, YES, Criterion, Rubric

NOT_APPLICABLE = "n/a"
AnswerValue = str | float
""""yes"/"no", a scale level number ("1", "2", ...), a choice option id, a number, or NOT_APPLICABLE."""

MissingChannelPolicy = Literal["exclude", "zero"]
CriterionStatus = Literal["scored", "not_applicable", "hidden", "unanswered"]
POINTS_SCALE = 1000.0


class AnswerError(ValueError):
    """An answer that its criterion cannot take (an unknown option, a number below every band)."""

    def __init__(self, criterion_id: str, message: str):
        self.criterion_id = criterion_id
        super().__init__(f"criterion '{criterion_id}': {message}")


# --- one contact -------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionScore:
    """How one criterion of one contact scored, and why."""

    criterion_id: str
    status: CriterionStatus
    earned: float
    possible: float
    answer: AnswerValue | None = None
    critical_failed: bool = False


@dataclass(frozen=True)
class ContactScore:
    criteria: tuple[CriterionScore, ...]
    earned: float
    possible: float

    @property
    def ratio(self) -> float | None:
        """Earned / possible, or None when nothing applied (the contact is no evidence)."""
        return self.earned / self.possible if self.possible > 0 else None

    @property
    def critical_failures(self) -> tuple[str, ...]:
        return tuple(c.criterion_id for c in self.criteria if c.critical_failed)

    @property
    def unanswered(self) -> tuple[str, ...]:
        return tuple(c.criterion_id for c in self.criteria if c.status == "unanswered")


def _yes_no(c: Criterion, value: AnswerValue) -> float:
    if value == YES:
        return c.yes_points
    if value == NO:
        return 0.0
    raise AnswerError(c.id, f"answer {value!r} is not yes or no")


def _option(c: Criterion, value: AnswerValue) -> float:
    for option in c.options:
        if option.id == str(value):
            return option.points
    raise AnswerError(c.id, f"answer {value!r} is not one of {', '.join(c.answer_values())}")


def _number(c: Criterion, value: AnswerValue) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise AnswerError(c.id, f"answer {value!r} is not a number") from None
    for band in c.bands:
        if band.holds(number):
            return band.points
    raise AnswerError(c.id, f"{number:g} is below the lowest band ({c.bands[0].at_least:g})")


SCORERS: dict[str, Callable[[Criterion, AnswerValue], float]] = {
    "yes_no": _yes_no,
    "scale": _option,
    "choice": _option,
    "number": _number,
}
"""Answer type -> the points an answer earns."""


def score_answer(criterion: Criterion, value: AnswerValue) -> float:
    """The points one (applicable) answer earns on its criterion."""
    return SCORERS[criterion.type](criterion, value)


def parse_answer(criterion: Criterion, raw: object) -> AnswerValue | None:
    """An answer as typed in YAML or a form -> the engine's value (None: unanswered)."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, str) and raw.strip().lower() in (NOT_APPLICABLE, "na", "n/d", "nd"):
        return NOT_APPLICABLE
    if criterion.type == "yes_no":
        if raw is True or (isinstance(raw, str) and raw.strip().lower() in (YES, "tak")):
            return YES
        if raw is False or (isinstance(raw, str) and raw.strip().lower() in (NO, "nie")):
            return NO
        raise AnswerError(criterion.id, f"answer {raw!r} is not yes or no")
    if criterion.type == "number":
        if isinstance(raw, bool):
            raise AnswerError(criterion.id, f"answer {raw!r} is not a number")
        try:
            return float(str(raw).replace(",", "."))
        except ValueError:
            raise AnswerError(criterion.id, f"answer {raw!r} is not a number") from None
    return str(raw).strip()


def visible_criteria(rubric: Rubric, answers: Mapping[str, AnswerValue]) -> frozenset[str]:
    """Ids of the criteria whose `when` condition holds (a chain is followed to its root)."""
    visible: dict[str, bool] = {}

    def is_visible(c: Criterion) -> bool:
        if c.id not in visible:
            cond = c.when
            if cond is None:
                visible[c.id] = True
            else:
                parent = rubric.criterion(cond.criterion)
                value = answers.get(parent.id)
                visible[c.id] = is_visible(parent) and value is not None and str(value) in cond.values
        return visible[c.id]

    return frozenset(c.id for c in rubric.criteria if is_visible(c))


def score_contact(rubric: Rubric, answers: Mapping[str, AnswerValue]) -> ContactScore:
    """Score one contact's answers against its rubric.

    An unanswered visible criterion earns 0 of its maximum (a gap never raises a score);
    services refuse to submit a contact that has any. Answers to hidden criteria are ignored.
    """
    shown = visible_criteria(rubric, answers)
    results: list[CriterionScore] = []
    earned = possible = 0.0
    for c in rubric.criteria:
        value = answers.get(c.id)
        if c.id not in shown:
            results.append(CriterionScore(c.id, "hidden", 0.0, 0.0))
        elif value == NOT_APPLICABLE:
            if not c.na_allowed:
                raise AnswerError(c.id, "this criterion does not allow 'not applicable'")
            results.append(CriterionScore(c.id, "not_applicable", 0.0, 0.0, value))
        elif value is None or value == "":
            results.append(CriterionScore(c.id, "unanswered", 0.0, c.max_points))
            possible += c.max_points
        else:
            points = score_answer(c, value)
            failed = c.critical and points == 0
            results.append(CriterionScore(c.id, "scored", points, c.max_points, value, failed))
            earned += points
            possible += c.max_points
    return ContactScore(tuple(results), earned, possible)


# --- a campaign ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignRules:
    """What the organiser set for an edition."""

    weights: Mapping[str, float]
    """Channel -> weight (> 0) for every channel the edition audits."""
    min_contacts: Mapping[str, int]
    threshold: float
    """Ranking points (0-1000) needed for a licence."""
    missing_channel: MissingChannelPolicy = "exclude"
    """A channel an institution does not offer: left out of its score, or counted as zero."""


@dataclass(frozen=True)
class InstitutionInfo:
    id: int
    category: str
    channels: frozenset[str]
    """The channels the institution offers."""


class ContactTotal(NamedTuple):
    """One accepted contact, totalled: the row the batch feeds the engine per contact.

    Any tuple of this shape will do (an SQL result row, say): a national contest feeds
    75,000 of them, and building an object per row would cost more than the scoring.
    """

    contact_id: int
    institution_id: int
    channel: str
    earned: float
    possible: float


ChannelStatus = Literal["scored", "no_contacts", "not_offered_excluded", "not_offered_zero"]


class ChannelResult(NamedTuple):
    """One channel of one institution. (This and the records below are NamedTuples because a
    national recompute builds tens of thousands of them, and a frozen dataclass is slower to make.)"""

    channel: str
    status: ChannelStatus
    score: float | None
    """Mean of the contacts' ratios (0-1); 0 for a channel not offered and counted as zero."""
    contact_ids: tuple[int, ...]
    weight: float
    """The weight this channel carried in the institution's score, after renormalising (0 if none)."""

    @property
    def counts(self) -> bool:
        return self.weight > 0


ReasonCode = Literal["threshold", "min_contacts", "critical", "no_score"]


class Reason(NamedTuple):
    """One check of the licence decision: what was checked, whether it passed, the figures."""

    code: ReasonCode
    passed: bool
    channel: str | None = None
    criterion_id: str | None = None
    contact_id: int | None = None
    value: float | None = None
    required: float | None = None


class LicenceDecision(NamedTuple):
    granted: bool
    reasons: tuple[Reason, ...]

    @property
    def failures(self) -> tuple[Reason, ...]:
        return tuple(r for r in self.reasons if not r.passed)


class Standing(NamedTuple):
    institution_id: int
    category: str
    channels: tuple[ChannelResult, ...]
    score: float | None
    """Weighted score 0-1, None when no channel counts."""
    points: float | None
    rank: int | None
    category_rank: int | None
    licence: LicenceDecision
    critical_failures: tuple[tuple[int, str], ...] = ()
    """(contact id, criterion id) of every failed critical criterion."""

    def channel(self, name: str) -> ChannelResult | None:
        return next((c for c in self.channels if c.channel == name), None)


def _channel_results(rules: CampaignRules, inst: InstitutionInfo,
                     evidence: Mapping[str, list[tuple[int, float]]]) -> tuple[ChannelResult, ...]:
    """Each campaign channel of one institution, from its contacts' (id, ratio) pairs."""
    raw: list[tuple[str, ChannelStatus, float | None, tuple[int, ...]]] = []
    for channel in rules.weights:
        found = evidence.get(channel)
        if found:
            mean = math.fsum(r for _, r in found) / len(found)  # fsum: exact, so contact order cannot matter
            raw.append((channel, "scored", mean, tuple(sorted(i for i, _ in found))))
        elif channel in inst.channels:
            raw.append((channel, "no_contacts", None, ()))
        elif rules.missing_channel == "zero":
            raw.append((channel, "not_offered_zero", 0.0, ()))
        else:
            raw.append((channel, "not_offered_excluded", None, ()))
    total_weight = math.fsum(rules.weights[ch] for ch, _, score, _ in raw if score is not None)
    return tuple(
        ChannelResult(ch, status, score, ids, rules.weights[ch] / total_weight if score is not None else 0.0)
        for ch, status, score, ids in raw
    )


def _decide(rules: CampaignRules, channels: Sequence[ChannelResult], points: float | None,
            failures: Sequence[tuple[int, str]]) -> LicenceDecision:
    reasons: list[Reason] = []
    if points is None:
        reasons.append(Reason("no_score", False))
    else:
        reasons.append(Reason("threshold", points >= rules.threshold, value=points, required=rules.threshold))
    for ch in channels:
        if ch.status in ("scored", "no_contacts"):  # offered (or audited anyway): must be audited enough
            need = rules.min_contacts.get(ch.channel, 0)
            have = len(ch.contact_ids)
            reasons.append(Reason("min_contacts", have >= need, channel=ch.channel, value=have, required=need))
    for contact_id, criterion_id in failures:
        reasons.append(Reason("critical", False, contact_id=contact_id, criterion_id=criterion_id))
    if not failures:
        reasons.append(Reason("critical", True))
    return LicenceDecision(all(r.passed for r in reasons), tuple(reasons))


def competition_ranks(keys: Sequence[float | None]) -> list[int | None]:
    """Competition ranks, higher first, ties share a rank and skip the next ("1, 2, 2, 4")."""
    order = sorted((k, i) for i, k in enumerate(keys) if k is not None)
    order.sort(key=lambda pair: -pair[0])
    ranks: list[int | None] = [None] * len(keys)
    prev: float | None = None
    rank = 0
    for position, (key, index) in enumerate(order, start=1):
        if key != prev:
            rank, prev = position, key
        ranks[index] = rank
    return ranks


def score_campaign(rules: CampaignRules, institutions: Iterable[InstitutionInfo],
                   contacts: Iterable[tuple[int, int, str, float, float]],
                   critical_failures: Mapping[int, Sequence[str]] | None = None) -> list[Standing]:
    """Standings of every institution, best first (unscored ones last, by id).

    `contacts` are accepted contacts as ContactTotal-shaped rows (contact id, institution id,
    channel, earned, possible); `critical_failures` maps a contact id to the critical criteria
    it failed. A contact with nothing possible (all not applicable) is no evidence and is
    skipped; channels outside the campaign are ignored.
    """
    critical = critical_failures or {}
    weights = rules.weights
    evidence: dict[int, dict[str, list[tuple[int, float]]]] = defaultdict(lambda: defaultdict(list))
    failures: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for contact_id, institution_id, channel, earned, possible in contacts:
        if channel not in weights:
            continue
        if possible > 0:
            evidence[institution_id][channel].append((contact_id, earned / possible))
        if contact_id in critical:
            failures[institution_id].extend((contact_id, c) for c in critical[contact_id])

    partial = []
    for inst in institutions:
        channels = _channel_results(rules, inst, evidence.get(inst.id, {}))
        counted = [ch for ch in channels if ch.counts]
        score = min(1.0, math.fsum(ch.weight * (ch.score or 0.0) for ch in counted)) if counted else None
        points = round(score * POINTS_SCALE, 1) if score is not None else None
        partial.append((inst, channels, score, points, tuple(sorted(failures.get(inst.id, ())))))

    overall = competition_ranks([p[3] for p in partial])
    category_rank: list[int | None] = [None] * len(partial)
    by_category: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(partial):
        by_category[p[0].category].append(i)
    for members in by_category.values():
        for i, r in zip(members, competition_ranks([partial[i][3] for i in members]), strict=True):
            category_rank[i] = r

    standings = [
        Standing(inst.id, inst.category, channels, score, points, overall[i], category_rank[i],
                 _decide(rules, channels, points, fails), fails)
        for i, (inst, channels, score, points, fails) in enumerate(partial)
    ]
    standings.sort(key=lambda s: (s.rank is None, s.rank or 0, s.institution_id))
    return standings
