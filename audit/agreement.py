"""Agreement between auditors who scored the same interaction: Krippendorff's alpha, Cohen's kappa
and plain percent agreement.

Pure: no Flask, no database. Each figure comes with the number of values, units or items behind
it, because an agreement coefficient from five pairs of answers says little. The formulas, their
assumptions and the published examples the tests reproduce are in docs/statistics.md.

Krippendorff's alpha is computed from the coincidence matrix (Krippendorff 2011, "Computing
Krippendorff's Alpha-Reliability"): every unit (one question on one interaction) with m >= 2
values contributes each ordered pair of its values, from different auditors, with weight
1 / (m - 1); a unit with fewer than two values is not pairable and is left out. Then

    alpha = 1 - D_o / D_e = 1 - (n - 1) * sum(o_ck * d2_ck) / sum(n_c * n_k * d2_ck)

with o the coincidences, n_c their marginals, n the pairable values and d2 the squared distance
of the level of measurement (nominal, ordinal, interval, ratio). alpha is undefined (None) when
every pairable value is the same: there is no variation to agree about.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: tuple[Level, ...] = ("nominal", "ordinal", "interval", "ratio")
Value = Hashable
"""An answer: a label for nominal data, a number for ordinal, interval or ratio data."""


@dataclass(frozen=True)
class Alpha:
    """Krippendorff's alpha and what it rests on."""

    value: float | None
    """None when undefined: no pairable values, or no variation among them."""
    level: Level
    units: int
    """Pairable units: units with at least two values."""
    pairable: int
    """Pairable values (n): the values in those units."""
    observed: float
    """Observed disagreement D_o."""
    expected: float
    """Disagreement expected by chance D_e."""


@dataclass(frozen=True)
class Kappa:
    """Cohen's kappa for two raters and what it rests on."""

    value: float | None
    """None when undefined: chance agreement is 1 (both raters gave one and the same answer throughout)."""
    items: int
    """Items both raters answered."""
    observed: float
    """Observed agreement p_o."""
    expected: float
    """Agreement expected by chance p_e, from each rater's own marginal shares."""


@dataclass(frozen=True)
class Percent:
    value: float | None
    """Share of pairs of answers to the same unit that are identical; None without a pair."""
    pairs: int
    """Unordered pairs of answers compared."""
    units: int


def _clean(units: Iterable[Sequence[Value | None]]) -> list[list[Value]]:
    """Each unit's present values; units with fewer than two are not pairable and are dropped."""
    out = []
    for unit in units:
        present = [v for v in unit if v is not None]
        if len(present) >= 2:
            out.append(present)
    return out


def _distinct(units: list[list[Value]], level: Level) -> list[Value]:
    found = {v for unit in units for v in unit}
    if level == "nominal":
        return sorted(found, key=lambda v: (type(v).__name__, str(v)))  # any order: only equality matters
    return sorted(found, key=float)  # type: ignore[arg-type]  # ordered data must be numbers


def coincidences(units: Iterable[Sequence[Value | None]], level: Level = "nominal"
                 ) -> tuple[list[Value], np.ndarray]:
    """The distinct pairable values (in order) and the coincidence matrix o over them."""
    cleaned = _clean(units)
    values = _distinct(cleaned, level)
    index = {v: i for i, v in enumerate(values)}
    counts = np.zeros((len(cleaned), len(values)))
    for row, unit in enumerate(cleaned):
        for v in unit:
            counts[row, index[v]] += 1
    if not cleaned:
        return values, np.zeros((0, 0))
    weighted = counts / (counts.sum(axis=1) - 1)[:, None]
    return values, weighted.T @ counts - np.diag(weighted.sum(axis=0))


def _distances(values: Sequence[Value], marginals: np.ndarray, level: Level) -> np.ndarray:
    """Squared distances d2 between every pair of values for a level of measurement."""
    if level == "nominal":
        return 1.0 - np.eye(len(values))
    if level == "ordinal":
        # Between ranks c <= k: (n_c + ... + n_k - (n_c + n_k) / 2)^2, i.e. the distance between
        # the values' mid-ranks among the pairable values.
        mid = np.cumsum(marginals) - marginals / 2
        return np.asarray((mid[:, None] - mid[None, :]) ** 2)
    v = np.array([float(x) for x in values])  # type: ignore[arg-type]
    if level == "interval":
        return np.asarray((v[:, None] - v[None, :]) ** 2)
    if level == "ratio":
        total = v[:, None] + v[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(total == 0, 0.0, (v[:, None] - v[None, :]) / total)
        return np.asarray(ratio**2)
    raise ValueError(f"unknown level of measurement {level!r}")


def krippendorff_alpha(units: Iterable[Sequence[Value | None]], level: Level = "nominal") -> Alpha:
    """Krippendorff's alpha of reliability data given unit by unit (None: a missing value).

    Which auditor gave which value does not matter to alpha, only which values share a unit;
    so each unit is simply the sequence of the values it received.
    """
    if level not in LEVELS:
        raise ValueError(f"unknown level of measurement {level!r}")
    cleaned = _clean(units)
    values, o = coincidences(cleaned, level)
    marginals = o.sum(axis=1) if o.size else np.zeros(0)
    n = float(marginals.sum())
    if n < 2:
        return Alpha(None, level, len(cleaned), round(n), 0.0, 0.0)
    d2 = _distances(values, marginals, level)
    observed = float((o * d2).sum() / n)
    expected = float((np.outer(marginals, marginals) * d2).sum() / (n * (n - 1)))
    value = None if expected <= 0 else 1.0 - observed / expected
    return Alpha(value, level, len(cleaned), round(n), observed, expected)


def cohen_kappa(pairs: Iterable[tuple[Value | None, Value | None]]) -> Kappa:
    """Cohen's kappa for two raters: (rater A's answer, rater B's answer) per item; items
    either rater left empty are skipped. kappa = (p_o - p_e) / (1 - p_e)."""
    both = [(a, b) for a, b in pairs if a is not None and b is not None]
    if not both:
        return Kappa(None, 0, 0.0, 0.0)
    labels = sorted({v for pair in both for v in pair}, key=lambda v: (type(v).__name__, str(v)))
    index = {v: i for i, v in enumerate(labels)}
    table = np.zeros((len(labels), len(labels)))
    for a, b in both:
        table[index[a], index[b]] += 1
    table /= len(both)
    observed = float(np.trace(table))
    expected = float(table.sum(axis=1) @ table.sum(axis=0))
    value = None if expected >= 1 else (observed - expected) / (1 - expected)
    return Kappa(value, len(both), observed, expected)


def percent_agreement(units: Iterable[Sequence[Value | None]]) -> Percent:
    """Share of unordered pairs of answers within a unit that are identical, over all pairable units."""
    agree = pairs = count = 0
    for unit in _clean(units):
        count += 1
        m = len(unit)
        pairs += m * (m - 1) // 2
        seen: dict[Value, int] = {}
        for v in unit:
            seen[v] = seen.get(v, 0) + 1
        agree += sum(k * (k - 1) // 2 for k in seen.values())
    return Percent(agree / pairs if pairs else None, pairs, count)
