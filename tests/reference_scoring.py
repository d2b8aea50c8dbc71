"""A second, deliberately simple implementation of the documented scoring rules, for tests.

It shares no code with the engine (audit/scoring.py) on purpose: it imports nothing from the
audit package and writes every rule out again from the documentation, as plain loops over
exact fractions.Fraction values. Readability over speed: each institution rescans all contacts
and ranks are counted pairwise. A test that compares the two implementations on many generated
editions finds a mistake in either one.

The inputs have the engine's shapes, read only by attribute name or position:

* rules: .weights (channel -> weight), .min_contacts (channel -> int), .threshold and
  .missing_channel ("exclude" or "zero");
* institutions: objects with .id, .category and .channels (the channels the institution offers);
* contacts: rows (contact id, institution id, channel, earned, possible);
* critical_failures: contact id -> the critical criteria that contact failed.

A number typed as a float is taken as the decimal it prints as (0.3 is exactly 3/10).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction


def as_fraction(value) -> Fraction:
    """The exact value a number was typed as: a float by its shortest decimal form (repr)."""
    if isinstance(value, float):
        return Fraction(Decimal(repr(value)))
    return Fraction(value)


def points_for(score: Fraction) -> Decimal:
    """Rule 5: score x 1000, rounded half up to one decimal, as a Decimal with one decimal place."""
    tenths_of_points = score * 10000
    whole_tenths = tenths_of_points.numerator // tenths_of_points.denominator  # floor (scores are >= 0)
    remainder = tenths_of_points - whole_tenths
    if remainder >= Fraction(1, 2):  # a half goes up
        whole_tenths += 1
    return Decimal(f"{whole_tenths // 10}.{whole_tenths % 10}")


def competition_rank(points: Decimal | None, everyone: list[Decimal | None]) -> int | None:
    """Rule 6: 1 + the number of others strictly ahead ("1, 2, 2, 4"); no points, no rank."""
    if points is None:
        return None
    ahead = 0
    for other in everyone:
        if other is not None and other > points:
            ahead += 1
    return ahead + 1


@dataclass
class ReferenceStanding:
    institution_id: int
    category: str
    score: Fraction | None
    points: Decimal | None
    rank: int | None = None
    category_rank: int | None = None
    threshold_passed: bool | None = None
    """None when there is no score (there is nothing to compare with the threshold)."""
    minimums_met: bool = True
    critical_failures: tuple[tuple[int, str], ...] = ()
    granted: bool = False


def reference_standings(rules, institutions, contacts, critical_failures=None) -> dict[int, ReferenceStanding]:
    """Every institution's standing under the documented rules, keyed by institution id."""
    if critical_failures is None:
        critical_failures = {}
    weights = {}
    for channel, weight in rules.weights.items():
        weights[channel] = as_fraction(weight)
    threshold = as_fraction(rules.threshold)
    contacts = list(contacts)

    results: dict[int, ReferenceStanding] = {}
    for institution in institutions:
        # rules 1 and 2: this institution's contacts in the edition's channels
        ratios: dict[str, list[Fraction]] = {}
        for channel in weights:
            ratios[channel] = []
        failures: list[tuple[int, str]] = []
        for contact_id, institution_id, channel, earned, possible in contacts:
            if institution_id != institution.id:
                continue
            if channel not in weights:
                continue  # not audited in this edition: ignored entirely
            for criterion in critical_failures.get(contact_id, ()):
                failures.append((contact_id, criterion))  # counts even when the contact is no evidence
            if as_fraction(possible) == 0:
                continue  # nothing applied: no evidence
            ratios[channel].append(as_fraction(earned) / as_fraction(possible))

        # rules 3 and 4: channel means, then the weighted mean over the channels that count
        has_evidence = False
        weighted_sum = Fraction(0)
        total_weight = Fraction(0)
        for channel, weight in weights.items():
            channel_ratios = ratios[channel]
            if len(channel_ratios) > 0:
                channel_score = sum(channel_ratios, Fraction(0)) / len(channel_ratios)
                has_evidence = True
            elif channel in institution.channels:
                channel_score = None  # offered but not contacted: left out
            elif rules.missing_channel == "zero":
                channel_score = Fraction(0)
            else:
                channel_score = None
            if channel_score is not None:
                weighted_sum += weight * channel_score
                total_weight += weight
        if has_evidence and total_weight != 0:
            score = weighted_sum / total_weight
            points = points_for(score)
        else:
            score = None
            points = None

        # rule 7, apart from the ranks
        minimums_met = True
        for channel in weights:
            if channel in institution.channels and len(ratios[channel]) < rules.min_contacts.get(channel, 0):
                minimums_met = False
        standing = ReferenceStanding(institution.id, institution.category, score, points,
                                     minimums_met=minimums_met, critical_failures=tuple(sorted(failures)))
        if points is not None:
            standing.threshold_passed = Fraction(points) >= threshold
        standing.granted = bool(standing.threshold_passed) and minimums_met and not failures
        results[institution.id] = standing

    # rule 6: ranks overall and within each category
    all_points = [s.points for s in results.values()]
    for standing in results.values():
        standing.rank = competition_rank(standing.points, all_points)
        same_category = [s.points for s in results.values() if s.category == standing.category]
        standing.category_rank = competition_rank(standing.points, same_category)
    return results
