"""The scoring engine's rules, one by one, and its properties."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.rubrics import Criterion, Option, Rubric, Section, Text
from audit.scoring import (
    NOT_APPLICABLE,
    AnswerError,
    CampaignRules,
    ContactTotal,
    InstitutionInfo,
    competition_ranks,
    parse_answer,
    score_campaign,
    score_contact,
)

from .rubric_samples import PHONE

ALL = frozenset({"visit", "phone", "email"})
RULES = CampaignRules(weights={"visit": 0.5, "phone": 0.3, "email": 0.2},
                      min_contacts={"visit": 1, "phone": 1, "email": 1}, threshold=700)


# --- one contact ---------------------------------------------------------------------------

def test_contact_scores_earned_over_possible():
    s = score_contact(PHONE, {"answered": "yes", "rings": 2, "introduced": "partial", "courtesy": "3", "appeal": "yes"})
    assert (s.earned, s.possible) == (2 + 3 + 1 + 2 + 1, 2 + 3 + 2 + 2 + 1)
    assert s.ratio == pytest.approx(9 / 10)


def test_not_applicable_leaves_both_earned_and_possible():
    s = score_contact(PHONE, {"answered": "yes", "rings": 2, "introduced": "full", "courtesy": "3", "appeal": NOT_APPLICABLE})
    assert (s.earned, s.possible) == (9, 9)
    assert s.criteria[-1].status == "not_applicable"


def test_not_applicable_is_refused_where_the_rubric_does_not_allow_it():
    with pytest.raises(AnswerError, match="courtesy"):
        score_contact(PHONE, {"answered": "yes", "courtesy": NOT_APPLICABLE})


def test_hidden_conditional_criteria_count_as_not_applicable_and_unanswered_phone_is_zero():
    s = score_contact(PHONE, {"answered": "no", "rings": 1, "introduced": "full"})  # stale answers are ignored
    assert (s.earned, s.possible) == (0, 2)
    assert s.ratio == 0
    assert [c.status for c in s.criteria] == ["scored", "hidden", "hidden", "hidden", "hidden"]


def test_number_bands_are_half_open_and_the_last_is_open_ended():
    rings = PHONE.criterion("rings")
    base = {"answered": "yes", "introduced": "full", "courtesy": "3", "appeal": "yes"}
    earned = {n: score_contact(PHONE, {**base, "rings": n}).criteria[1].earned for n in (0, 3.9, 4, 5.5, 6, 60)}
    assert earned == {0: 3, 3.9: 3, 4: 1, 5.5: 1, 6: 0, 60: 0}
    with pytest.raises(AnswerError, match="below the lowest band"):
        score_contact(PHONE, {**base, "rings": -1})
    assert rings.max_points == 3


def test_unknown_option_is_an_error_naming_the_criterion():
    with pytest.raises(AnswerError, match="introduced"):
        score_contact(PHONE, {"answered": "yes", "introduced": "maybe"})


def test_unanswered_visible_criterion_earns_zero_and_is_reported():
    s = score_contact(PHONE, {"answered": "yes", "rings": 1})
    assert s.unanswered == ("introduced", "courtesy", "appeal")
    assert (s.earned, s.possible) == (5, 10)


def test_critical_failure_when_a_critical_criterion_earns_zero():
    s = score_contact(PHONE, {"answered": "yes", "rings": 1, "introduced": "full", "courtesy": "3", "appeal": "no"})
    assert s.critical_failures == ("appeal",)


@pytest.mark.parametrize(("raw", "expected"), [(True, "yes"), ("Tak", "yes"), (False, "no"), ("n/a", NOT_APPLICABLE),
                                               ("", None), (None, None)])
def test_parse_answer_yes_no(raw, expected):
    assert parse_answer(PHONE.criterion("answered"), raw) == expected


def test_parse_answer_number_accepts_a_polish_decimal_comma():
    assert parse_answer(PHONE.criterion("rings"), "3,5") == 3.5
    with pytest.raises(AnswerError):
        parse_answer(PHONE.criterion("rings"), "three")


# --- a campaign ------------------------------------------------------------------------------

def inst(iid, category="a", channels=ALL):
    return InstitutionInfo(iid, category, frozenset(channels))


def contact(cid, iid, channel, earned, possible=10):
    return ContactTotal(cid, iid, channel, earned, possible)


def test_channel_is_the_mean_of_contact_ratios_and_institution_the_weighted_mean():
    [s] = score_campaign(RULES, [inst(1)], [
        contact(1, 1, "visit", 10), contact(2, 1, "visit", 5, 5 * 2),  # 100% and 50% -> 75%
        contact(3, 1, "phone", 6), contact(4, 1, "email", 2, 4)])
    assert s.channel("visit").score == pytest.approx(0.75)
    assert s.score == pytest.approx(0.5 * 0.75 + 0.3 * 0.6 + 0.2 * 0.5)
    assert s.points == round(s.score * 1000, 1)


def test_channel_not_offered_is_excluded_and_weights_renormalised():
    [s] = score_campaign(RULES, [inst(1, channels={"visit", "email"})], [contact(1, 1, "visit", 8), contact(2, 1, "email", 4)])
    assert s.channel("phone").status == "not_offered_excluded"
    assert s.channel("visit").weight == pytest.approx(0.5 / 0.7)
    assert s.score == pytest.approx((0.5 * 0.8 + 0.2 * 0.4) / 0.7)
    assert s.licence.granted is False or s.points >= RULES.threshold


def test_channel_not_offered_counts_as_zero_when_the_organiser_says_so():
    rules = CampaignRules(RULES.weights, RULES.min_contacts, RULES.threshold, missing_channel="zero")
    [s] = score_campaign(rules, [inst(1, channels={"visit", "email"})], [contact(1, 1, "visit", 10), contact(2, 1, "email", 10)])
    assert s.channel("phone").status == "not_offered_zero"
    assert s.score == pytest.approx(0.7)
    assert not [r for r in s.licence.reasons if r.code == "min_contacts" and r.channel == "phone"]


def test_an_unanswered_contact_is_a_zero_not_left_out():
    [s] = score_campaign(RULES, [inst(1)], [contact(1, 1, "visit", 10), contact(2, 1, "phone", 0, 2), contact(3, 1, "email", 10)])
    assert s.channel("phone").score == 0
    assert s.score == pytest.approx(0.7)


def test_offered_channel_without_contacts_is_left_out_of_the_score_but_fails_the_minimum():
    [s] = score_campaign(RULES, [inst(1)], [contact(1, 1, "visit", 10), contact(2, 1, "email", 10)])
    assert s.channel("phone").status == "no_contacts"
    assert s.score == 1.0
    assert not s.licence.granted
    assert [(r.channel, r.value, r.required) for r in s.licence.failures] == [("phone", 0, 1)]


def test_contact_where_nothing_applied_is_no_evidence():
    [s] = score_campaign(RULES, [inst(1)], [contact(1, 1, "visit", 0, 0), contact(2, 1, "visit", 5)])
    assert s.channel("visit").contact_ids == (2,)
    assert s.channel("visit").score == 0.5


def test_licence_at_the_threshold_is_granted_and_below_is_not():
    rules = CampaignRules({"visit": 1}, {"visit": 1}, threshold=700)
    a, b = score_campaign(rules, [inst(1), inst(2)], [contact(1, 1, "visit", 7), contact(2, 2, "visit", 6.999)])
    assert a.points == 700 and a.licence.granted
    assert b.points == 699.9 and not b.licence.granted
    assert [r.code for r in b.licence.failures] == ["threshold"]


def test_critical_failure_refuses_the_licence_and_says_where():
    rules = CampaignRules({"visit": 1}, {"visit": 1}, threshold=100)
    [s] = score_campaign(rules, [inst(1)], [contact(7, 1, "visit", 9), contact(8, 1, "visit", 10)], {7: ["discretion"]})
    assert not s.licence.granted
    assert [(r.code, r.contact_id, r.criterion_id) for r in s.licence.failures] == [("critical", 7, "discretion")]
    assert s.critical_failures == ((7, "discretion"),)


def test_competition_ranking_with_ties_overall_and_in_category():
    rules = CampaignRules({"visit": 1}, {"visit": 1}, threshold=0)
    insts = [inst(1, "a"), inst(2, "b"), inst(3, "a"), inst(4, "b"), inst(5, "a")]
    contacts = [contact(i, i, "visit", e) for i, e in [(1, 9), (2, 8), (3, 8), (4, 7)]]
    standings = {s.institution_id: s for s in score_campaign(rules, insts, contacts)}
    assert [standings[i].rank for i in (1, 2, 3, 4, 5)] == [1, 2, 2, 4, None]
    assert [standings[i].category_rank for i in (1, 3, 5, 2, 4)] == [1, 2, None, 1, 2]
    assert not standings[5].licence.granted


def test_ranks_compare_the_points_shown_rounded_to_one_decimal():
    assert competition_ranks([812.3, 812.3, 900.0, None, 700.0]) == [2, 2, 1, None, 4]


# --- properties -------------------------------------------------------------------------------

def _text(s):
    return Text(s, s)


@st.composite
def rubrics_with_answers(draw):
    """A random flat rubric (no conditions) and a full set of answers for it."""
    criteria, answers = [], {}
    for n in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["yes_no", "choice", "number"]))
        na = draw(st.booleans())
        cid = f"c{n}"
        if kind == "yes_no":
            pts = draw(st.integers(0, 5))
            c = Criterion(cid, "yes_no", _text("q"), "I.1", float(pts), yes_points=float(pts), na_allowed=na)
            value = draw(st.sampled_from(["yes", "no"] + ([NOT_APPLICABLE] if na else [])))
        elif kind == "choice":
            pts = sorted(draw(st.lists(st.integers(0, 5), min_size=2, max_size=4)))
            opts = tuple(Option(f"o{i}", float(p), _text("o")) for i, p in enumerate(pts))
            c = Criterion(cid, "choice", _text("q"), "I.1", float(max(pts)), options=opts, na_allowed=na)
            value = draw(st.sampled_from([o.id for o in opts] + ([NOT_APPLICABLE] if na else [])))
        else:
            from audit.rubrics import Band
            bands = (Band(0, 3, 3.0), Band(3, 6, 1.0), Band(6, None, 0.0))
            c = Criterion(cid, "number", _text("q"), "I.1", 3.0, bands=bands, unit=_text("u"), na_allowed=na)
            value = draw(st.one_of(st.floats(0, 20, allow_nan=False), st.just(NOT_APPLICABLE) if na else st.floats(0, 1)))
        criteria.append(c)
        answers[cid] = value
    rubric = Rubric("r", "1", "phone", _text("t"), (Section("s", _text("s"), tuple(criteria)),), "h", "")
    return rubric, answers


def _better(c, value):
    """Answers to `c` that earn at least as much as `value`."""
    if value == NOT_APPLICABLE:
        return []
    if c.type == "yes_no":
        return ["yes"]
    if c.type == "choice":
        current = next(o.points for o in c.options if o.id == value)
        return [o.id for o in c.options if o.points >= current]
    return [v for v in (0.0, 1.0, 2.0, 3.5, 5.0, 7.0, 20.0) if c.bands and score_contact_single(c, v) >= score_contact_single(c, value)]


def score_contact_single(c, value):
    from audit.scoring import score_answer
    return score_answer(c, value)


@given(rubrics_with_answers())
def test_property_contact_score_stays_between_zero_and_one(case):
    rubric, answers = case
    s = score_contact(rubric, answers)
    assert 0 <= s.earned <= s.possible
    assert s.ratio is None or 0 <= s.ratio <= 1


@given(rubrics_with_answers(), st.data())
def test_property_raising_one_answer_never_lowers_the_score(case, data):
    rubric, answers = case
    c = data.draw(st.sampled_from(rubric.criteria))
    options = _better(c, answers[c.id])
    if not options:
        return
    raised = {**answers, c.id: data.draw(st.sampled_from(options))}
    before, after = score_contact(rubric, answers), score_contact(rubric, raised)
    assert after.earned >= before.earned
    if before.ratio is not None:
        assert after.ratio >= before.ratio - 1e-12
    rules = CampaignRules({"phone": 1}, {"phone": 1}, threshold=500)
    as_total = lambda s, i: [ContactTotal(1, 1, "phone", s.earned, s.possible), ContactTotal(2, 1, "phone", 3, 4)]  # noqa: E731
    [b] = score_campaign(rules, [inst(1)], as_total(before, 1))
    [a] = score_campaign(rules, [inst(1)], as_total(after, 1))
    assert (a.points or 0) >= (b.points or 0)


@given(rubrics_with_answers(), st.data())
def test_property_not_applicable_equals_removing_the_criterion(case, data):
    rubric, answers = case
    c = data.draw(st.sampled_from(rubric.criteria))
    if not c.na_allowed:
        return
    with_na = score_contact(rubric, {**answers, c.id: NOT_APPLICABLE})
    kept = tuple(x for x in rubric.criteria if x.id != c.id)
    without = Rubric("r", "1", "phone", _text("t"), (Section("s", _text("s"), kept),), "h2", "")
    removed = score_contact(without, {k: v for k, v in answers.items() if k != c.id})
    assert (with_na.earned, with_na.possible) == (removed.earned, removed.possible)


contact_totals = st.lists(
    st.builds(lambda cid, iid, ch, e, extra: ContactTotal(cid, iid, ch, e, e + extra),
              st.integers(1, 10**6), st.integers(1, 6), st.sampled_from(["visit", "phone", "email", "fax"]),
              st.integers(0, 20).map(float), st.integers(0, 20).map(float)),
    max_size=40, unique_by=lambda c: c.contact_id)


def some_critical(contacts):
    return {c.contact_id: ["x"] for c in contacts if c.contact_id % 7 == 0}


@given(contact_totals, st.randoms(use_true_random=False))
@settings(max_examples=60)
def test_property_order_of_contacts_changes_nothing(contacts, rnd):
    insts = [inst(i, "ab"[i % 2], ALL if i % 3 else {"visit", "email"}) for i in range(1, 7)]
    shuffled = list(contacts)
    rnd.shuffle(shuffled)
    assert score_campaign(RULES, insts, contacts, some_critical(contacts)) == \
        score_campaign(RULES, list(reversed(insts)), shuffled, some_critical(contacts))


@given(contact_totals)
@settings(max_examples=60)
def test_property_points_in_range_and_ranks_are_competition_ranks(contacts):
    insts = [inst(i, "ab"[i % 2]) for i in range(1, 7)]
    standings = score_campaign(RULES, insts, contacts, some_critical(contacts))
    ranked = [s for s in standings if s.rank is not None]
    for s in ranked:
        assert 0 <= s.score <= 1 and 0 <= s.points <= 1000
        assert s.rank == 1 + sum(1 for o in ranked if o.points > s.points)
        peers = [o for o in ranked if o.category == s.category]
        assert s.category_rank == 1 + sum(1 for o in peers if o.points > s.points)
        assert s.licence.granted == (s.points >= RULES.threshold and not s.critical_failures
                                     and all(len(ch.contact_ids) >= 1 for ch in s.channels if ch.status in ("scored", "no_contacts")))


def test_a_random_campaign_is_reproducible():
    rng = random.Random(5)
    contacts = [contact(n, rng.randrange(1, 50), rng.choice(["visit", "phone", "email"]), rng.randrange(11)) for n in range(500)]
    insts = [inst(i, "abc"[i % 3]) for i in range(1, 50)]
    assert score_campaign(RULES, insts, contacts) == score_campaign(RULES, insts, contacts[::-1])


# --- what the rules leave open, decided (docs/scoring.md) ---------------------------------------

def test_an_unanswered_critical_criterion_counts_as_failed():
    s = score_contact(PHONE, {"answered": "yes", "rings": 1, "introduced": "full", "courtesy": "3"})
    assert s.unanswered == ("appeal",) and s.critical_failures == ("appeal",)


def test_a_contact_in_a_channel_not_offered_counts_but_the_channel_has_no_minimum():
    rules = CampaignRules({"visit": 0.5, "email": 0.5}, {"visit": 1, "email": 2}, threshold=0)
    [s] = score_campaign(rules, [inst(1, channels={"visit"})], [contact(1, 1, "visit", 8), contact(2, 1, "email", 4)])
    assert s.channel("email").status == "scored" and s.points == 600.0
    assert s.licence.granted and all(r.channel != "email" for r in s.licence.reasons)


def test_a_never_contacted_institution_is_not_ranked_nor_licensed_even_when_missing_channels_count_as_zero():
    rules = CampaignRules({"visit": 0.5, "phone": 0.5}, {"visit": 0, "phone": 0}, threshold=0, missing_channel="zero")
    other, never = score_campaign(rules, [inst(1, channels={"visit"}), inst(2, channels={"visit"})],
                                  [contact(1, 2, "visit", 0)])
    assert other.institution_id == 2 and other.points == 0.0 and other.rank == 1
    assert (never.score, never.points, never.rank) == (None, None, None) and not never.licence.granted


def test_a_contact_where_nothing_applied_meets_no_minimum_but_its_critical_failure_counts():
    rules = CampaignRules({"visit": 1}, {"visit": 2}, threshold=0)
    [s] = score_campaign(rules, [inst(1)], [contact(1, 1, "visit", 9), contact(2, 1, "visit", 0, 0)], {2: ["discretion"]})
    assert s.channel("visit").contact_ids == (1,) and s.points == 900.0
    failed = {r.code for r in s.licence.failures}
    assert failed == {"min_contacts", "critical"}


def test_a_weight_zero_channel_adds_nothing_but_its_minimum_and_critical_criteria_apply():
    rules = CampaignRules({"visit": 1, "social": 0}, {"visit": 1, "social": 1}, threshold=500)
    [ok] = score_campaign(rules, [inst(1, channels={"visit", "social"})],
                          [contact(1, 1, "visit", 8), contact(2, 1, "social", 1)])
    assert ok.points == 800.0 and ok.channel("social").weight == 0 and ok.licence.granted
    [short] = score_campaign(rules, [inst(1, channels={"visit", "social"})], [contact(1, 1, "visit", 8)])
    assert [r.channel for r in short.licence.failures] == ["social"]
    [failed] = score_campaign(rules, [inst(1, channels={"visit", "social"})],
                              [contact(1, 1, "visit", 8), contact(2, 1, "social", 10)], {2: ["respect"]})
    assert failed.points == 800.0 and not failed.licence.granted


def test_only_weight_zero_evidence_gives_no_score():
    rules = CampaignRules({"visit": 1, "social": 0}, {}, threshold=0)
    [s] = score_campaign(rules, [inst(1, channels={"visit", "social"})], [contact(1, 1, "social", 10)])
    assert s.points is None and s.rank is None and not s.licence.granted


def test_points_are_rounded_half_up_on_the_exact_score_and_compared_exactly_with_the_threshold():
    rules = CampaignRules({"visit": 1}, {}, threshold=656.3)
    half, below = score_campaign(rules, [inst(1), inst(2)], [contact(1, 1, "visit", 21, 32),  # 0.65625 exactly
                                                            contact(2, 2, "visit", 656249, 1000000)])
    assert (half.points, half.licence.granted) == (656.3, True)
    assert (below.points, below.licence.granted) == (656.2, False)


def test_float_and_decimal_figures_are_read_as_the_decimals_they_print_as():
    from decimal import Decimal
    as_float = CampaignRules({"visit": 0.1, "phone": 0.2}, {}, threshold=0.3)
    as_decimal = CampaignRules({"visit": Decimal("0.1"), "phone": Decimal("0.2")}, {}, threshold=Decimal("0.3"))
    contacts = [contact(1, 1, "visit", 0.1, 0.3), contact(2, 1, "phone", Decimal("0.2"), 0.3)]
    assert score_campaign(as_float, [inst(1)], contacts) == score_campaign(as_decimal, [inst(1)], contacts)
