"""The engine (audit/scoring.py) against an independent reference (tests/reference_scoring.py).

The reference is written from the documented rules alone; here both score the same editions
(the issue's tie, rounding cases, and many generated editions full of edge cases) and must agree
on every institution's score, points, ranks and licence.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.scoring import CampaignRules, ContactTotal, InstitutionInfo, score_campaign

from .reference_scoring import points_for, reference_standings

CHANNELS = ("visit", "phone", "email", "social", "website")
OUTSIDE = "chat"
"""A channel no generated edition audits: its contacts must be ignored, critical failures included."""

ISSUE_RULES = CampaignRules(
    weights={"visit": 0.30, "phone": 0.25, "email": 0.20, "social": 0.10, "website": 0.15},
    min_contacts={"visit": 0, "phone": 0, "email": 1, "social": 1, "website": 0},
    threshold=718.8,
    missing_channel="exclude",
)


def points_of(standing) -> Decimal | None:
    """The engine's points as the decimal they stand for (a float is read by how it prints)."""
    if standing.points is None:
        return None
    if isinstance(standing.points, float):
        return Decimal(repr(standing.points))
    return Decimal(standing.points)


def threshold_passed(standing) -> bool | None:
    """The engine's threshold check, or None when it made none (no score)."""
    for reason in standing.licence.reasons:
        if reason.code == "threshold":
            return reason.passed
    return None


def engine_by_id(rules, institutions, contacts, critical=None):
    return {s.institution_id: s for s in score_campaign(rules, institutions, contacts, critical)}


def assert_engine_matches_reference(rules, institutions, contacts, critical=None):
    engine = engine_by_id(rules, institutions, contacts, critical)
    reference = reference_standings(rules, institutions, contacts, critical)
    assert engine.keys() == reference.keys()
    for inst_id, ref in reference.items():
        got = engine[inst_id]
        seen = (got.score, points_of(got), got.rank, got.category_rank, got.licence.granted, threshold_passed(got))
        expected = (ref.score, ref.points, ref.rank, ref.category_rank, ref.granted, ref.threshold_passed)
        assert seen == expected, f"institution {inst_id}: engine {seen} != reference {expected}"
    return engine, reference


# --- the issue's finding 1: a tie at exactly 0.71875 ------------------------------------------

def test_issue_finding_1_equal_exact_scores_tie_at_the_threshold():
    institutions = [InstitutionInfo(1, "a", frozenset({"email", "social"})),
                    InstitutionInfo(2, "a", frozenset({"email"}))]
    contacts = [ContactTotal(1, 1, "email", 28, 32), ContactTotal(2, 1, "social", 13, 32),
                ContactTotal(3, 2, "email", 23, 32)]
    engine, _ = assert_engine_matches_reference(ISSUE_RULES, institutions, contacts)
    for inst_id in (1, 2):
        s = engine[inst_id]
        assert s.score == Fraction(71875, 100000)  # (0.2 * 28/32 + 0.1 * 13/32) / 0.3 and 23/32
        assert points_of(s) == Decimal("718.8")
        assert (s.rank, s.category_rank) == (1, 1)
        assert s.licence.granted, s.licence.failures


# --- rounding: half up, on the exact score ------------------------------------------------------

def one_channel(contacts):
    rules = CampaignRules(weights={"email": 1}, min_contacts={}, threshold=0)
    return rules, [InstitutionInfo(1, "a", frozenset({"email"}))], contacts


@pytest.mark.parametrize(("earned", "possible", "points"), [
    (21, 32, "656.3"),          # 0.65625: a half, up
    (65625, 100000, "656.3"),
    (65624, 100000, "656.2"),
    (65626, 100000, "656.3"),
    (2, 3, "666.7"),
    (1, 3, "333.3"),
    (1, 6, "166.7"),
    (1, 7, "142.9"),
    (1, 20000, "0.1"),          # 0.05 points: a half, up
    (1, 20001, "0.0"),
    (19999, 20000, "1000.0"),   # 999.95: a half, up
    (0, 5, "0.0"),
    (5, 5, "1000.0"),
    (Decimal("6.5625"), 10, "656.3"),
    (6.5625, 10, "656.3"),
    (0.1, 0.3, "333.3"),        # read as 1/10 over 3/10, not as the binary floats
])
def test_points_round_half_up_on_the_exact_score(earned, possible, points):
    rules, institutions, _ = one_channel([])
    contacts = [ContactTotal(1, 1, "email", earned, possible)]
    engine, reference = assert_engine_matches_reference(rules, institutions, contacts)
    assert points_of(engine[1]) == Decimal(points)
    assert reference[1].points == Decimal(points)


def test_reference_points_carry_one_decimal_place():
    for score, text in [(Fraction(21, 32), "656.3"), (Fraction(0), "0.0"), (Fraction(1), "1000.0"),
                        (Fraction(9, 10), "900.0"), (Fraction(1, 20000), "0.1")]:
        assert str(points_for(score)) == text


def test_exact_halves_reached_by_different_paths_get_the_same_points_and_rank():
    rules = CampaignRules(weights={"visit": 0.30, "phone": 0.25, "email": 0.20, "social": 0.10, "website": 0.15},
                          min_contacts={}, threshold=Decimal("656.3"))
    everything = frozenset(CHANNELS)
    institutions = [
        InstitutionInfo(1, "a", frozenset({"email"})),             # one contact: 21/32
        InstitutionInfo(2, "a", frozenset({"email", "social"})),   # (0.2 * 28/32 + 0.1 * 7/32) / 0.3
        InstitutionInfo(3, "b", frozenset({"phone"})),             # mean of 20/32 and 22/32
        InstitutionInfo(4, "b", frozenset({"visit"})),             # 6.5625 / 10 typed as a float
        InstitutionInfo(5, "b", everything),                       # every channel at 21/32
        InstitutionInfo(6, "a", frozenset({"website"})),           # 0.65624: just below
    ]
    contacts = [
        ContactTotal(1, 1, "email", 21, 32),
        ContactTotal(2, 2, "email", 28, 32), ContactTotal(3, 2, "social", 7, 32),
        ContactTotal(4, 3, "phone", 20, 32), ContactTotal(5, 3, "phone", 22, 32),
        ContactTotal(6, 4, "visit", 6.5625, 10.0),
        *(ContactTotal(10 + i, 5, ch, 21, 32) for i, ch in enumerate(CHANNELS)),
        ContactTotal(20, 6, "website", 65624, 100000),
    ]
    engine, _ = assert_engine_matches_reference(rules, institutions, contacts)
    for inst_id in range(1, 6):
        s = engine[inst_id]
        assert s.score == Fraction(21, 32)
        assert (points_of(s), s.rank, s.licence.granted) == (Decimal("656.3"), 1, True)
    assert (points_of(engine[6]), engine[6].rank, engine[6].licence.granted) == (Decimal("656.2"), 6, False)
    assert [engine[i].category_rank for i in range(1, 7)] == [1, 1, 1, 1, 1, 3]  # category a: 1, 2 and 6


def test_reference_reproduces_the_documented_worked_example():
    """The three institutions of docs/scoring.md, copied here: a check on the reference itself."""
    rules = CampaignRules(weights={"visit": 0.30, "phone": 0.25, "email": 0.20, "social": 0.10, "website": 0.15},
                          min_contacts={"visit": 2, "phone": 2, "email": 2, "social": 1, "website": 1}, threshold=700)
    institutions = [InstitutionInfo(1, "social_welfare", frozenset({"visit", "phone", "email", "website"})),
                    InstitutionInfo(2, "social_welfare", frozenset(CHANNELS)),
                    InstitutionInfo(3, "helpline", frozenset({"phone", "email", "social", "website"}))]
    rows = [(1, 1, "visit", 40, 50), (2, 1, "visit", 45, 50), (3, 1, "phone", 6, 9), (4, 1, "phone", 0, 2),
            (5, 1, "email", 18, 20), (6, 1, "email", 16, 20), (7, 1, "website", 27, 30),
            (8, 2, "visit", 45, 50), (9, 2, "visit", 45, 50), (10, 2, "phone", 9, 10), (11, 2, "phone", 9, 10),
            (12, 2, "email", 18, 20), (13, 2, "email", 18, 20), (14, 2, "social", 9, 10),
            (15, 2, "website", 27, 30), (16, 3, "phone", 6, 10), (17, 3, "phone", 7, 10),
            (18, 3, "email", 13, 20), (19, 3, "email", 13, 20), (20, 3, "social", 6.5, 10),
            (21, 3, "website", 19.5, 30)]
    contacts = [ContactTotal(*row) for row in rows]
    _, reference = assert_engine_matches_reference(rules, institutions, contacts, {9: ["discretion"]})
    got = {i: (str(r.points), r.rank, r.category_rank, r.granted) for i, r in reference.items()}
    assert got == {2: ("900.0", 1, 1, False), 1: ("714.8", 2, 2, True), 3: ("650.0", 3, 1, False)}


# --- generated editions -------------------------------------------------------------------------

WEIGHTS = ("0", "0.1", "0.15", "0.2", "0.25", "0.3", "1")
HALF = Decimal("0.5")


def typed(text: str, kind: str):
    """A decimal figure as an organiser's form might hand it over: Decimal, float or (if whole) int."""
    value = Decimal(text)
    if kind == "float":
        return float(value)
    if kind == "int" and value == value.to_integral_value():
        return int(value)
    return value


@st.composite
def editions(draw):
    """(rules, institutions, contacts, critical failures), rich in ties and edge cases."""
    audited = draw(st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=5, unique=True))
    weights = {ch: typed(draw(st.sampled_from(WEIGHTS)), draw(st.sampled_from(("decimal", "float", "int"))))
               for ch in audited}
    min_contacts = draw(st.dictionaries(st.sampled_from((*CHANNELS, OUTSIDE)), st.integers(0, 2), max_size=3))
    policy = draw(st.sampled_from(("exclude", "zero")))

    n_categories = draw(st.integers(1, 3))
    ids = draw(st.lists(st.integers(1, 40), min_size=1, max_size=6, unique=True))
    institutions = [
        InstitutionInfo(inst_id, "abc"[draw(st.integers(0, n_categories - 1))],
                        frozenset(draw(st.sets(st.sampled_from((*CHANNELS, OUTSIDE)), max_size=4))))
        for inst_id in ids
    ]

    contacts: list[ContactTotal] = []
    critical: dict[int, list[str]] = {}

    def add_contact(inst_id, channels):
        contact_id = len(contacts) + 1
        # small denominators: equal ratios (and so exact ties) are common; 32 gives exact half points
        possible = draw(st.sampled_from((0, 1, 2, 4, 8, 32)) | st.integers(0, 8))
        earned = draw(st.integers(0, possible))
        if draw(st.integers(0, 4)) == 0:  # half points, typed as decimals or floats
            possible, earned = possible * HALF, earned * HALF
            if draw(st.booleans()):
                possible, earned = float(possible), float(earned)
        contacts.append(ContactTotal(contact_id, inst_id, draw(st.sampled_from(channels)), earned, possible))
        if draw(st.integers(0, 9)) == 0:  # an empty list: a contact that failed nothing
            critical[contact_id] = draw(st.lists(st.sampled_from(("discretion", "identity")), max_size=2, unique=True))

    everywhere = sorted((*CHANNELS, OUTSIDE))
    for inst in institutions:
        likely = sorted(set(audited) | inst.channels)  # mostly in channels it offers or the edition audits
        for _ in range(draw(st.integers(0, 6))):
            add_contact(inst.id, likely if draw(st.integers(0, 5)) else everywhere)
    for _ in range(draw(st.integers(0, 2))):
        add_contact(99, everywhere)  # an institution that is not in the edition
    if draw(st.booleans()):
        critical[len(contacts) + 1] = ["identity"]  # a contact that is not in the edition
    contacts = draw(st.permutations(contacts))

    # the threshold often sits exactly at (or a hair either side of) a generated institution's points
    at_zero = CampaignRules(weights, min_contacts, 0, policy)
    reachable = sorted({r.points for r in reference_standings(at_zero, institutions, contacts, critical).values()
                        if r.points is not None})
    thresholds = st.sampled_from(("0", "500", "1000", "718.8"))
    if reachable:
        offsets = st.sampled_from(("0", "0", "0", "0", "0.05", "-0.05", "0.1", "-0.1"))
        near = st.tuples(st.sampled_from(reachable), offsets).map(lambda pair: str(pair[0] + Decimal(pair[1])))
        thresholds = st.one_of(near, near, thresholds)
    threshold = typed(draw(thresholds), draw(st.sampled_from(("decimal", "float", "int"))))
    return CampaignRules(weights, min_contacts, threshold, policy), institutions, contacts, critical


@settings(max_examples=300, deadline=None)
@given(editions())
def test_engine_agrees_with_the_reference(edition):
    assert_engine_matches_reference(*edition)


@settings(max_examples=300, deadline=None)
@given(editions())
def test_equal_exact_scores_get_equal_points_ranks_and_threshold_outcomes(edition):
    standings = score_campaign(*edition)
    for a in standings:
        for b in standings:
            if a.score is None or b.score is None:
                continue
            if a.score == b.score:
                assert (points_of(a), a.rank, threshold_passed(a)) == (points_of(b), b.rank, threshold_passed(b))
                if a.category == b.category:
                    assert a.category_rank == b.category_rank
            elif a.score > b.score:  # rounding never reverses an order
                assert points_of(a) >= points_of(b)
                assert a.rank <= b.rank


@settings(max_examples=300, deadline=None)
@given(editions(), st.data())
def test_contact_and_institution_order_do_not_matter(edition, data):
    rules, institutions, contacts, critical = edition
    shuffled_institutions = data.draw(st.permutations(institutions))
    shuffled_contacts = data.draw(st.permutations(contacts))
    shuffled_critical = {cid: list(reversed(crits)) for cid, crits in reversed(list(critical.items()))}
    assert (score_campaign(rules, shuffled_institutions, shuffled_contacts, shuffled_critical)
            == score_campaign(rules, institutions, contacts, critical))


@settings(max_examples=300, deadline=None)
@given(editions())
def test_floats_that_print_as_the_decimals_give_the_same_result(edition):
    rules, institutions, contacts, critical = edition

    def decimals(value):
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)

    as_decimals = CampaignRules({ch: decimals(w) for ch, w in rules.weights.items()}, rules.min_contacts,
                                decimals(rules.threshold), rules.missing_channel)
    as_float = CampaignRules({ch: float(w) for ch, w in rules.weights.items()}, rules.min_contacts,
                             float(rules.threshold), rules.missing_channel)
    decimal_contacts = [c._replace(earned=decimals(c.earned), possible=decimals(c.possible)) for c in contacts]
    float_contacts = [c._replace(earned=float(c.earned), possible=float(c.possible)) for c in contacts]
    expected = score_campaign(as_decimals, institutions, decimal_contacts, critical)
    assert score_campaign(as_float, institutions, float_contacts, critical) == expected
    assert score_campaign(rules, institutions, contacts, critical) == expected


def test_a_float_half_point_is_the_decimal_half_point():
    rules = CampaignRules(weights={"social": Decimal("0.1"), "email": Decimal("0.2")}, min_contacts={},
                          threshold=Decimal("650"))
    institutions = [InstitutionInfo(1, "a", frozenset({"social", "email"}))]
    with_floats = [ContactTotal(1, 1, "social", 6.5, 10.0), ContactTotal(2, 1, "email", 13.0, 20.0)]
    with_decimals = [ContactTotal(1, 1, "social", Decimal("6.5"), Decimal("10")),
                     ContactTotal(2, 1, "email", Decimal("13"), Decimal("20"))]
    float_rules = CampaignRules(weights={"social": 0.1, "email": 0.2}, min_contacts={}, threshold=650.0)
    expected = score_campaign(rules, institutions, with_decimals)
    assert score_campaign(float_rules, institutions, with_floats) == expected
    assert expected[0].score == Fraction(13, 20)
    assert (points_of(expected[0]), expected[0].licence.granted) == (Decimal("650.0"), True)
