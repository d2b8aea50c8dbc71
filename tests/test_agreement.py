"""Agreement coefficients against published worked examples, a slow reference, and their properties."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.agreement import LEVELS, cohen_kappa, coincidences, krippendorff_alpha, percent_agreement

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: four observers,
# twelve units, values 1-5, with missing values (None). Rows are observers A-D.
_ = None
OBSERVERS = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, _, _, _],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _, 3],
    [_, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _],
]
UNITS = [list(unit) for unit in zip(*OBSERVERS, strict=True)]
PUBLISHED = {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849, "ratio": 0.797}

# Krippendorff (2011), section A: binary data, two observers, ten units, no missing values: alpha = 0.095.
BINARY = [[0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]]


@pytest.mark.parametrize("level", list(PUBLISHED))
def test_krippendorff_worked_example_with_missing_values(level):
    alpha = krippendorff_alpha(UNITS, level)
    assert round(alpha.value, 3) == PUBLISHED[level]
    assert alpha.pairable == 40  # the paper's n: unit 12 has one value and is not pairable
    assert alpha.units == 11


def test_the_worked_example_coincidence_marginals_match_the_paper():
    values, o = coincidences(UNITS)
    assert values == [1, 2, 3, 4, 5]
    assert o.sum(axis=1).tolist() == pytest.approx([9, 13, 10, 5, 3])
    thirds = [[21, 4, 1, 1, 0], [4, 30, 4, 1, 0], [1, 4, 24, 1, 0], [1, 1, 1, 12, 0], [0, 0, 0, 0, 9]]
    assert np.allclose(o * 3, thirds)  # the paper's matrix, in thirds


def test_krippendorff_binary_example():
    units = [list(u) for u in zip(*BINARY, strict=True)]
    _values, o = coincidences(units)
    assert o.tolist() == [[10, 4], [4, 2]]  # the paper's coincidence matrix
    alpha = krippendorff_alpha(units, "nominal")
    assert round(alpha.value, 3) == 0.095
    assert (alpha.units, alpha.pairable) == (10, 20)


# Cohen's kappa: the textbook 2x2 tables (e.g. Wikipedia's "Cohen's kappa" examples): counts of
# (yes, yes), (yes, no), (no, yes), (no, no) and the published kappa.
KAPPA_TABLES = [((20, 5, 10, 15), 0.4), ((45, 15, 25, 15), 0.1304), ((25, 35, 5, 35), 0.2593)]


@pytest.mark.parametrize(("table", "published"), KAPPA_TABLES)
def test_cohen_kappa_textbook_tables(table, published):
    yy, yn, ny, nn = table
    pairs = [("yes", "yes")] * yy + [("yes", "no")] * yn + [("no", "yes")] * ny + [("no", "no")] * nn
    kappa = cohen_kappa(pairs)
    assert round(kappa.value, 4) == published
    assert kappa.items == sum(table)


def test_cohen_kappa_of_the_first_table_step_by_step():
    pairs = [("yes", "yes")] * 20 + [("yes", "no")] * 5 + [("no", "yes")] * 10 + [("no", "no")] * 15
    kappa = cohen_kappa([*pairs, ("yes", None), (None, "no")])  # items one rater skipped are left out
    assert kappa.observed == pytest.approx(0.7)
    assert kappa.expected == pytest.approx(0.5)  # 0.5 * 0.6 + 0.5 * 0.4
    assert kappa.items == 50


def test_kappa_and_alpha_are_undefined_without_variation():
    assert cohen_kappa([("yes", "yes")] * 5).value is None
    assert krippendorff_alpha([["yes", "yes"], ["yes", "yes", "yes"]]).value is None
    assert krippendorff_alpha([["yes"], ["no"]]).pairable == 0


def test_percent_agreement_counts_pairs():
    result = percent_agreement([["a", "a", "b"], ["c", "c"], ["d"]])
    assert (result.pairs, result.units) == (4, 2)  # 3 pairs + 1 pair; the lone value is not pairable
    assert result.value == pytest.approx(2 / 4)


# --- an independent, slow reference from the definition -----------------------------------------


def slow_alpha(units, level):
    """Alpha straight from its definition: pairs of values within units against all pairs of values."""
    units = [[v for v in u if v is not None] for u in units]
    units = [u for u in units if len(u) >= 2]
    pooled = [v for u in units for v in u]
    n = len(pooled)
    if n < 2:
        return None
    freq = {v: pooled.count(v) for v in set(pooled)}

    def delta(c, k):
        if level == "nominal":
            return 0.0 if c == k else 1.0
        if level == "interval":
            return float(c - k) ** 2
        if level == "ratio":
            return 0.0 if c + k == 0 else ((c - k) / (c + k)) ** 2
        lo, hi = min(c, k), max(c, k)
        return (sum(f for v, f in freq.items() if lo <= v <= hi) - (freq[c] + freq[k]) / 2) ** 2

    observed = sum(delta(a, b) / (len(u) - 1) for u in units for a, b in itertools.permutations(u, 2)) / n
    expected = sum(delta(a, b) for a, b in itertools.permutations(pooled, 2)) / (n * (n - 1))
    return None if expected == 0 else 1 - observed / expected


@pytest.mark.parametrize("level", LEVELS)
def test_fast_alpha_equals_the_slow_reference_on_the_worked_example(level):
    assert krippendorff_alpha(UNITS, level).value == pytest.approx(slow_alpha(UNITS, level), abs=1e-12)


reliability_data = st.lists(
    st.lists(st.one_of(st.none(), st.integers(min_value=1, max_value=5)), min_size=4, max_size=4),
    min_size=2, max_size=15)


@settings(max_examples=150, deadline=None)
@given(reliability_data, st.sampled_from(LEVELS))
def test_fast_alpha_equals_the_slow_reference(units, level):
    fast = krippendorff_alpha(units, level).value
    slow = slow_alpha(units, level)
    if slow is None:
        assert fast is None
    else:
        assert fast == pytest.approx(slow, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=5), min_size=2, max_size=20).filter(lambda v: len(set(v)) > 1),
       st.integers(min_value=2, max_value=5), st.sampled_from(LEVELS))
def test_perfect_agreement_gives_one(truths, coders, level):
    units = [[t] * coders for t in truths]
    assert krippendorff_alpha(units, level).value == 1.0
    assert percent_agreement(units).value == 1.0
    assert cohen_kappa([(t, t) for t in truths]).value == pytest.approx(1.0)


@settings(max_examples=100, deadline=None)
@given(reliability_data, st.sampled_from(LEVELS), st.randoms(use_true_random=False))
def test_alpha_is_invariant_to_unit_order_and_coder_order(units, level, rnd):
    before = krippendorff_alpha(units, level).value
    coders = list(range(4))
    rnd.shuffle(coders)
    shuffled = [[u[c] for c in coders] for u in units]
    rnd.shuffle(shuffled)
    after = krippendorff_alpha(shuffled, level).value
    assert (before is None and after is None) or after == pytest.approx(before, abs=1e-12)


def test_alpha_falls_towards_zero_for_random_answers():
    rng = random.Random(5)
    units = [[rng.choice("abc") for _ in range(3)] for _ in range(2000)]
    assert abs(krippendorff_alpha(units).value) < 0.03


def test_ordered_levels_need_numbers_but_nominal_takes_labels():
    assert krippendorff_alpha([["yes", "no"], ["no", "no"]]).value is not None
    with pytest.raises(ValueError):
        krippendorff_alpha(UNITS, "cardinal")
    assert np.isfinite(krippendorff_alpha([[1.5, 2.5], [3.0, 3.0]], "interval").value)
