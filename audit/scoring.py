"""The scoring engine: answers -> contact scores -> channel scores -> ranking and licences.

Pure and typed: no Flask, no database. The rules, each implemented once below and
explained with a worked example in docs/scoring.md:

* a contact scores earned / possible points; "not applicable" leaves both out, and so does
  a conditional criterion whose condition is not met (it counts as not applicable);
* a channel scores the mean of its accepted contacts' ratios; an institution scores the
  channel-weighted mean, the weights renormalised over the channels that count for it;
* ranking points are that score on a 0-1000 scale, rounded half up to one decimal; ranks are
  competition ranks over the rounded points ("1, 2, 2, 4"), overall and per category;
* a licence needs points at or above the threshold, the minimum contacts in every channel
  the institution offers, and no failed critical criterion; the decision lists its reasons.

Exact: points typed in a rubric and weights and thresholds typed by an organiser are taken as
the decimals they were typed as; contact, channel and institution scores are exact fractions;
the one rounding step is the half-up rounding of the points, and thresholds and ties compare
those exact decimal points. Equal exact scores therefore always get equal points, ranks and
licence outcomes, whatever the order or the path the answers took.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Literal, NamedTuple

from .rubrics import NO, YES, Criterion, Rubric

NOT_APPLICABLE = "n/a"
AnswerValue = str | float
""""yes"/"no", a scale level number ("1", "2", ...), a choice option id, a number, or NOT_APPLICABLE."""

MissingChannelPolicy = Literal["exclude", "zero"]
CriterionStatus = Literal["scored", "not_applicable", "hidden", "unanswered"]
POINTS_SCALE = 1000
Exact = int | Decimal | Fraction
Number = Exact | float
"""A figure given to the engine. A float is read as the decimal it prints as (0.3 is 3/10)."""


def exact(value: Number) -> Fraction:
    """A number as the exact value it was typed as: a float is taken by its shortest decimal form."""
    if isinstance(value, float):
        return Fraction(Decimal(repr(value)))
    return Fraction(value)


def decimal(value: Number) -> Decimal:
    """A rubric's or an organiser's figure as the decimal it was typed as (2.0 is 2, 0.3 is 0.3)."""
    if isinstance(value, float):
        return Decimal(int(value)) if value.is_integer() else Decimal(repr(value))
    if isinstance(value, Fraction):  # exact when it is a decimal (denominator of 2s and 5s), as weights are
        return Decimal(value.numerator) / Decimal(value.denominator)
    return Decimal(value)


def float_ratio(earned: Number, possible: Number) -> float:
    """earned / possible as the float nearest the exact ratio (integer division is correctly rounded)."""
    if type(earned) is int and type(possible) is int:
        return earned / possible
    return float(exact(earned) / exact(possible))


def round_points(score: Fraction) -> Decimal:
    """The one rounding step: a 0-1 score -> ranking points (0-1000), half up, one decimal.

    Done on the exact fraction, so 0.71875 is 718.8 whichever path computed it.
    """
    tenths = score * (POINTS_SCALE * 10)
    rounded = (2 * tenths.numerator + tenths.denominator) // (2 * tenths.denominator)  # floor(x + 1/2)
    return Decimal(rounded).scaleb(-1)


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
    earned: Decimal
    possible: Decimal
    answer: AnswerValue | None = None
    critical_failed: bool = False


@dataclass(frozen=True)
class ContactScore:
    criteria: tuple[CriterionScore, ...]
    earned: Decimal
    possible: Decimal

    @property
    def ratio(self) -> Fraction | None:
        """Earned / possible, exact, or None when nothing applied (the contact is no evidence)."""
        return Fraction(self.earned) / Fraction(self.possible) if self.possible > 0 else None

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


@lru_cache(maxsize=4096)
def _points(value: float) -> Decimal:
    return decimal(value)


def score_answer(criterion: Criterion, value: AnswerValue) -> Decimal:
    """The points one (applicable) answer earns on its criterion, as the decimal the rubric typed."""
    return _points(SCORERS[criterion.type](criterion, value))


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
            return float(str(raw).strip().replace(",", "."))
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
    zero = Decimal(0)
    earned = possible = zero
    for c in rubric.criteria:
        value = answers.get(c.id)
        if c.id not in shown:
            results.append(CriterionScore(c.id, "hidden", zero, zero))
        elif value == NOT_APPLICABLE:
            if not c.na_allowed:
                raise AnswerError(c.id, "this criterion does not allow 'not applicable'")
            results.append(CriterionScore(c.id, "not_applicable", zero, zero, value))
        elif value is None or value == "":
            # a gap scores nothing and, on a critical criterion, fails it: it never raises a result
            maximum = _points(c.max_points)
            results.append(CriterionScore(c.id, "unanswered", zero, maximum, critical_failed=c.critical))
            possible += maximum
        else:
            points = score_answer(c, value)
            failed = c.critical and points == 0
            maximum = _points(c.max_points)
            results.append(CriterionScore(c.id, "scored", points, maximum, value, failed))
            earned += points
            possible += maximum
    return ContactScore(tuple(results), earned, possible)


# --- a campaign ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignRules:
    """What the organiser set for an edition."""

    weights: Mapping[str, Number]
    """Channel -> weight (>= 0) for every channel the edition audits. A weight-0 channel is audited
    for information: it adds nothing to the score, but its minimum and its critical criteria apply."""
    min_contacts: Mapping[str, int]
    threshold: Number
    """Ranking points (0-1000) needed for a licence, compared exactly with the rounded points."""
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
    earned: Number
    possible: Number
    """Points in any unit, the same for both (the database gives integer thousandths of a point)."""


ChannelStatus = Literal["scored", "no_contacts", "not_offered_excluded", "not_offered_zero"]


class ChannelResult(NamedTuple):
    """One channel of one institution. (This and the records below are NamedTuples because a
    national recompute builds tens of thousands of them, and a frozen dataclass is slower to make.)"""

    channel: str
    status: ChannelStatus
    score: Fraction | None
    """Mean of the contacts' ratios (0-1), exact; 0 for a channel not offered and counted as zero."""
    contact_ids: tuple[int, ...]
    weight: Fraction
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
    score: Fraction | None
    """Weighted score 0-1, exact; None when no channel counts or nothing was ever scored."""
    points: float | None
    """round_points(score), carried as the float that prints as that decimal (718.8): the figure
    people see and rank by; the threshold was compared with the decimal itself."""
    rank: int | None
    category_rank: int | None
    licence: LicenceDecision
    critical_failures: tuple[tuple[int, str], ...] = ()
    """(contact id, criterion id) of every failed critical criterion."""

    def channel(self, name: str) -> ChannelResult | None:
        return next((c for c in self.channels if c.channel == name), None)


_ZERO = Fraction(0)


def _channel_results(rules: CampaignRules, weights: Mapping[str, int], inst: InstitutionInfo,
                     evidence: Mapping[str, list[tuple[int, int, int]]],
                     weight_share: dict[tuple[int, int], Fraction]) -> tuple[tuple[ChannelResult, ...], Fraction | None]:
    """Each campaign channel of one institution, and its weighted score (None: nothing counts).

    `evidence` holds each channel's contacts as (id, earned, possible) integers; `weights` are
    integers on a common scale. The arithmetic is exact integer arithmetic, and a Fraction is
    made once per channel (a national recompute does this 25,000 times, so it matters).
    """
    raw: list[tuple[str, ChannelStatus, Fraction | None, tuple[int, ...]]] = []
    for channel in weights:
        found = evidence.get(channel)
        if found:
            num, den = 0, 1
            for _, earned, possible in found:  # sum of earned/possible over a common denominator
                if possible == den:
                    num += earned
                else:
                    num, den = num * possible + earned * den, den * possible
            raw.append((channel, "scored", Fraction(num, den * len(found)), tuple(sorted(i for i, _, _ in found))))
        elif channel in inst.channels:
            raw.append((channel, "no_contacts", None, ()))
        elif rules.missing_channel == "zero":
            raw.append((channel, "not_offered_zero", _ZERO, ()))
        else:
            raw.append((channel, "not_offered_excluded", None, ()))
    total = sum(weights[ch] for ch, _, score, _ in raw if score is not None)
    num, den = 0, 1
    results = []
    for ch, status, score, ids in raw:
        weight = _ZERO
        if score is not None and total:
            w = weights[ch]
            weight = weight_share.get((w, total)) or weight_share.setdefault((w, total), Fraction(w, total))
            if w:
                num, den = num * score.denominator + w * score.numerator * den, den * score.denominator
        results.append(ChannelResult(ch, status, score, ids, weight))
    scored = any(status == "scored" for _, status, _, _ in raw)
    return tuple(results), Fraction(num, den * total) if scored and total else None


def _decide(inst: InstitutionInfo, rules: CampaignRules, threshold: Decimal, channels: Sequence[ChannelResult],
            points: Decimal | None, failures: Sequence[tuple[int, str]]) -> LicenceDecision:
    reasons: list[Reason] = []
    if points is None:
        reasons.append(Reason("no_score", False))
    else:  # compared as decimals: exact
        reasons.append(Reason("threshold", points >= threshold, value=float(points), required=float(threshold)))
    for ch in channels:
        if ch.channel in inst.channels:  # offered: must be audited enough (a channel it does not offer cannot be)
            need = rules.min_contacts.get(ch.channel, 0)
            have = len(ch.contact_ids)
            reasons.append(Reason("min_contacts", have >= need, channel=ch.channel, value=have, required=need))
    for contact_id, criterion_id in failures:
        reasons.append(Reason("critical", False, contact_id=contact_id, criterion_id=criterion_id))
    if not failures:
        reasons.append(Reason("critical", True))
    return LicenceDecision(all(r.passed for r in reasons), tuple(reasons))


def _integers(earned: Number, possible: Number) -> tuple[int, int]:
    """earned / possible as a pair of integers with the same ratio (the batch path gives integers)."""
    if type(earned) is int and type(possible) is int:
        return earned, possible
    e, p = exact(earned), exact(possible)
    return e.numerator * p.denominator, p.numerator * e.denominator


def _integer_weights(weights: Mapping[str, Number]) -> dict[str, int]:
    """Weights as integers on one scale (0.3 and 0.25 become 30 and 25): renormalising is then exact."""
    exact_weights = {channel: exact(w) for channel, w in weights.items()}
    scale = math.lcm(*(w.denominator for w in exact_weights.values())) if exact_weights else 1
    return {channel: int(w * scale) for channel, w in exact_weights.items()}


def competition_ranks(keys: Sequence[Decimal | float | None]) -> list[int | None]:
    """Competition ranks, higher first, ties share a rank and skip the next ("1, 2, 2, 4")."""
    order = sorted((k, i) for i, k in enumerate(keys) if k is not None)
    order.sort(key=lambda pair: -pair[0])
    ranks: list[int | None] = [None] * len(keys)
    prev: Decimal | float | None = None
    rank = 0
    for position, (key, index) in enumerate(order, start=1):
        if key != prev:
            rank, prev = position, key
        ranks[index] = rank
    return ranks


def score_campaign(rules: CampaignRules, institutions: Iterable[InstitutionInfo],
                   contacts: Iterable[tuple[int, int, str, Number, Number]],
                   critical_failures: Mapping[int, Sequence[str]] | None = None) -> list[Standing]:
    """Standings of every institution, best first (unscored ones last, by id).

    `contacts` are accepted contacts as ContactTotal-shaped rows (contact id, institution id,
    channel, earned, possible); `critical_failures` maps a contact id to the critical criteria
    it failed. A contact with nothing possible (all not applicable) is no evidence and is
    skipped (it counts towards no minimum, but a critical criterion it failed still counts);
    channels outside the campaign are ignored. An institution with no scored channel has no
    score, whatever the missing-channel policy: a never-contacted institution is not ranked.
    """
    critical = critical_failures or {}
    weights = _integer_weights(rules.weights)
    threshold = decimal(rules.threshold)
    evidence: dict[int, dict[str, list[tuple[int, int, int]]]] = defaultdict(lambda: defaultdict(list))
    failures: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for contact_id, institution_id, channel, earned, possible in contacts:
        if channel not in weights:
            continue
        if possible > 0:
            evidence[institution_id][channel].append((contact_id, *_integers(earned, possible)))
        if contact_id in critical:
            failures[institution_id].extend((contact_id, c) for c in critical[contact_id])

    partial = []
    weight_share: dict[tuple[int, int], Fraction] = {}
    for inst in institutions:
        channels, score = _channel_results(rules, weights, inst, evidence.get(inst.id, {}), weight_share)
        points = round_points(score) if score is not None else None
        partial.append((inst, channels, score, points, tuple(sorted(failures.get(inst.id, ())))))
    # ranks on the exact decimal points; people and the stored rows get the float that prints as it

    overall = competition_ranks([p[3] for p in partial])
    category_rank: list[int | None] = [None] * len(partial)
    by_category: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(partial):
        by_category[p[0].category].append(i)
    for members in by_category.values():
        for i, r in zip(members, competition_ranks([partial[i][3] for i in members]), strict=True):
            category_rank[i] = r

    standings = [
        Standing(inst.id, inst.category, channels, score, None if points is None else float(points), overall[i],
                 category_rank[i], _decide(inst, rules, threshold, channels, points, fails), fails)
        for i, (inst, channels, score, points, fails) in enumerate(partial)
    ]
    standings.sort(key=lambda s: (s.rank is None, s.rank or 0, s.institution_id))
    return standings
