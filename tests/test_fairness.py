"""Fairness: agreement on calibration groups, auditor calibration, leave-one-auditor-out, rank uncertainty."""

from __future__ import annotations

import io
import random
import time

import numpy as np
import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from audit import fairness, publication, scorecard, scoring, services
from audit.agreement import krippendorff_alpha
from audit.demo_calibration import AMBIGUOUS, HARSH
from audit.extensions import db
from audit.fairness import (
    AuditedContact,
    CalibrationAnswer,
    CalibrationScore,
    ChannelEvidence,
    UncertaintyInput,
)
from audit.models import Assignment, CalibrationGroup, Campaign, Contact, Institution, User
from audit.scoring import CampaignRules, InstitutionInfo, score_campaign

CHANNELS = ("visit", "phone", "email", "social", "website")


# --- rank uncertainty ------------------------------------------------------------------------


def simulated_contest(rng: np.random.Generator, institutions: int, contacts: int):
    """Institutions with a true mean per channel; contacts' ratios drawn around it (Beta, mean mu)."""
    weight = 1 / len(CHANNELS)
    inputs, truths = [], []
    for i in range(institutions):
        mu = rng.uniform(0.5, 0.9, len(CHANNELS))
        draws = rng.beta(mu[:, None] * 6, (1 - mu[:, None]) * 6, size=(len(CHANNELS), contacts))
        channels = tuple(ChannelEvidence(weight, tuple(float(x) for x in row)) for row in draws)
        points = round(min(1.0, sum(weight * row.mean() for row in draws)) * 1000, 1)
        inputs.append(UncertaintyInput(i, points, None, channels, True))
        truths.append(1000 * weight * mu.sum())
    return inputs, np.array(truths)


def test_bootstrap_interval_covers_the_true_points_in_about_the_nominal_share():
    covered = total = 0
    for seed in range(4):
        inputs, truths = simulated_contest(np.random.default_rng(100 + seed), 250, 3)
        intervals = fairness.rank_intervals(inputs, threshold=750, seed=seed)
        low = np.array([r.points_low for r in intervals])
        high = np.array([r.points_high for r in intervals])
        covered += int(((low <= truths) & (truths <= high)).sum())
        total += len(truths)
    share = covered / total
    assert 0.88 <= share <= 0.98, share  # nominal 0.95; see docs/statistics.md on small samples


def test_a_plain_n_of_n_bootstrap_would_cover_less():
    """Why k - 1 of k contacts are drawn: with k = 3 the plain bootstrap's variance is 2/3 of the unbiased one."""
    inputs, _ = simulated_contest(np.random.default_rng(7), 300, 3)
    ours = fairness.bootstrap_points(inputs, 400, seed=1).var(axis=1).mean()
    values = np.array([[ch.ratios for ch in item.channels] for item in inputs])  # (I, C, k)
    rng = np.random.default_rng(1)
    pick = rng.integers(0, 3, size=(*values.shape[:2], 400, 3))
    plain = np.take_along_axis(values[:, :, None, :], pick, axis=3).mean(axis=3)  # (I, C, B)
    plain_points = 1000 * plain.mean(axis=1)
    assert plain_points.var(axis=1).mean() / ours == pytest.approx(2 / 3, rel=0.08)


def test_same_seed_same_figures_other_seed_other_draws():
    inputs, _ = simulated_contest(np.random.default_rng(3), 40, 3)
    first = fairness.rank_intervals(inputs, 750, seed=11)
    assert fairness.rank_intervals(inputs, 750, seed=11) == first
    assert np.array_equal(fairness.bootstrap_points(inputs, seed=11), fairness.bootstrap_points(inputs, seed=11))
    assert not np.array_equal(fairness.bootstrap_points(inputs, seed=11), fairness.bootstrap_points(inputs, seed=12))


def random_contest(seed: int, institutions: int = 300):
    rng = random.Random(seed)
    rules = CampaignRules(weights={"visit": 0.3, "phone": 0.25, "email": 0.2, "social": 0.1, "website": 0.15},
                          min_contacts=dict.fromkeys(CHANNELS, 2), threshold=750,
                          missing_channel="zero" if seed % 2 else "exclude")
    infos, rows, failures = [], [], {}
    contact_id = 0
    for i in range(1, institutions + 1):
        offered = frozenset(c for c in CHANNELS if rng.random() < 0.85)
        infos.append(InstitutionInfo(i, "ab"[i % 2], offered))
        quality = rng.uniform(0.4, 1.0)
        for channel in offered:
            for _ in range(rng.choice((0, 1, 2, 3, 4))):
                contact_id += 1
                possible = float(rng.choice((0, 7, 10, 13)))
                earned = float(sum(1 for _ in range(int(possible)) if rng.random() < quality))
                rows.append((contact_id, i, channel, earned, possible))
                if rng.random() < 0.02:
                    failures[contact_id] = ["critical"]
    return rules, infos, rows, failures


@pytest.mark.parametrize("seed", range(6))
def test_the_bootstrap_arithmetic_gives_the_engines_points(seed):
    rules, infos, rows, failures = random_contest(seed)
    standings = score_campaign(rules, infos, rows, failures)
    inputs = fairness.inputs_from_standings(standings, rows)
    estimates = fairness.point_estimates(inputs)
    for s, estimate in zip(standings, estimates, strict=True):
        if s.points is None:
            assert np.isnan(estimate)
        else:
            assert estimate == s.points


def test_engine_round_rounds_half_way_values_up_as_the_engine_does():
    values = np.array([714.85, 0.05, 0.15, 1.25, 999.95, 12.345 * 10, 600.0500000001, 123.45, 656.25, 656.24])
    expected = [float(scoring.round_points(scoring.exact(v) / 1000)) for v in values.tolist()]
    assert fairness.engine_round(values).tolist() == expected
    assert expected[:5] == [714.9, 0.1, 0.2, 1.3, 1000.0]


def test_replicate_ranks_are_the_engines_competition_ranks():
    rng = np.random.default_rng(5)
    points = np.round(rng.choice([700.0, 710.5, 720.0, 800.0, np.nan], size=(30, 20)), 1)
    points[:, :] = np.where(np.isnan(points[:, :1]), np.nan, np.nan_to_num(points, nan=650.0))
    ranks = fairness.replicate_ranks(points)
    for b in range(points.shape[1]):
        expected = scoring.competition_ranks([None if np.isnan(p) else float(p) for p in points[:, b]])
        assert [r or 0 for r in expected] == ranks[:, b].tolist()


def test_published_rows_give_the_same_intervals_as_the_live_standings():
    rules, infos, rows, failures = random_contest(1, 80)
    standings = score_campaign(rules, infos, rows, failures)
    ratios = {r[0]: r[3] / r[4] for r in rows if r[4] > 0}

    class Frozen:  # the shape of a RevisionStanding row, as publication.publish writes it
        def __init__(self, s):
            self.institution_id, self.points, self.rank = s.institution_id, s.points, s.rank
            self.reasons = [list(r) for r in s.licence.reasons]
            self.channels = {ch.channel: {"status": ch.status, "score": ch.score, "weight": ch.weight,
                                          "contact_ids": list(ch.contact_ids),
                                          "contact_scores": [ratios[i] for i in ch.contact_ids]}
                             for ch in s.channels}

    live = fairness.standings_uncertainty(standings, rows, 750)
    published = fairness.published_uncertainty([Frozen(s) for s in standings], 750)
    assert live == published


def test_marks_on_a_hand_built_contest():
    def inst(i, points, ratios, decided=True):
        return UncertaintyInput(i, points, None, (ChannelEvidence(1.0, ratios),), decided)

    inputs = [
        inst(1, 950.0, (0.95, 0.95, 0.95)),         # no spread: a point interval
        inst(2, 750.0, (0.6, 0.75, 0.9)),           # straddles the threshold 750
        inst(3, 700.0, (0.55, 0.7, 0.85), False),   # straddles it too, but a critical failure decides
        inst(4, 500.0, (0.5, 0.5, 0.5)),
        UncertaintyInput(5, None, None, (), False),  # no score
    ]
    got = {r.institution_id: r for r in fairness.rank_intervals(inputs, threshold=750)}
    assert (got[1].points_low, got[1].points_high) == (950.0, 950.0)
    assert got[2].points_low < 750 <= got[2].points_high and got[2].licence_could_flip
    assert not got[3].licence_could_flip
    assert got[2].indistinct and got[3].indistinct  # their intervals overlap
    assert not got[1].indistinct and not got[4].indistinct
    assert (got[1].rank_best, got[1].rank_worst) == (1, 1)
    assert got[4].rank_best == got[4].rank_worst == 4
    assert got[5].points is None and got[5].rank_best is None
    assert all(r.ranked == 4 for r in got.values())


def test_a_single_contact_channel_gives_no_spread():
    item = UncertaintyInput(1, 800.0, 1, (ChannelEvidence(0.5, (0.8,)), ChannelEvidence(0.5, (), 0.8)), True)
    points = fairness.bootstrap_points([item], 50)
    assert set(points[0].tolist()) == {800.0}


def test_a_national_contest_is_vectorised():
    rules, infos, rows, failures = random_contest(4, 5000)
    standings = score_campaign(rules, infos, rows, failures)
    start = time.perf_counter()
    intervals = fairness.standings_uncertainty(standings, rows, 750)
    assert time.perf_counter() - start < 10  # about half a second here; a loop per institution takes minutes
    assert len(intervals) == 5000


# --- leave one auditor out ---------------------------------------------------------------------


def test_leave_one_auditor_out_on_a_hand_built_contest():
    rules = CampaignRules(weights={"phone": 0.5, "email": 0.5}, min_contacts={"phone": 1, "email": 1}, threshold=700)
    infos = [InstitutionInfo(i, "a", frozenset({"phone", "email"})) for i in (1, 2, 3)]
    A, B = 10, 20
    contacts = [
        AuditedContact(1, 1, "phone", 8, 10, A), AuditedContact(2, 1, "phone", 10, 10, B),
        AuditedContact(3, 1, "email", 8, 10, A),                                         # 1: 850
        AuditedContact(4, 2, "phone", 6, 10, B), AuditedContact(5, 2, "email", 7, 10, B),
        AuditedContact(6, 2, "email", 9, 10, A),                                         # 2: 700
        AuditedContact(7, 3, "phone", 7, 10, A), AuditedContact(8, 3, "email", 7.5, 10, B),  # 3: 725
    ]
    by = {r.auditor_id: r for r in fairness.leave_one_auditor_out(rules, infos, contacts)}
    # Without A: 1 -> 1000 (phone only), 3 -> 750 (email only), 2 -> 650: order kept; 2 loses its licence.
    assert (by[A].contacts, by[A].largest_shift, by[A].moved) == (4, 0, 0)
    assert by[A].flips == (fairness.LicenceFlip(2, True, False),)
    # Without B: 2 -> 900 (rank 3 -> 1), 1 -> 800 (1 -> 2), 3 -> 700 (2 -> 3): no licence changes.
    assert (by[B].contacts, by[B].largest_shift, by[B].shifted_institution, by[B].moved) == (4, 2, 2, 3)
    assert by[B].flips == () and by[B].unscored == ()


def test_leaving_out_the_only_auditor_of_an_institution_leaves_it_unscored():
    rules = CampaignRules(weights={"phone": 1.0}, min_contacts={"phone": 1}, threshold=500)
    infos = [InstitutionInfo(1, "a", frozenset({"phone"})), InstitutionInfo(2, "a", frozenset({"phone"}))]
    contacts = [AuditedContact(1, 1, "phone", 5, 10, 7), AuditedContact(2, 2, "phone", 6, 10, 8)]
    by = {r.auditor_id: r for r in fairness.leave_one_auditor_out(rules, infos, contacts)}
    assert by[7].unscored == (1,) and by[8].unscored == (2,)


def _leave_one_out_by_full_recompute(rules, institutions, contacts, critical_failures=None):
    """The first implementation, kept as the reference: the whole contest rescored without each auditor."""
    relaxed = fairness._points_only(rules)
    base = score_campaign(relaxed, institutions, [c[:5] for c in contacts], critical_failures)
    base_rank = {s.institution_id: s.rank for s in base}
    base_licence = {s.institution_id: s.licence.granted for s in base}
    out = []
    for auditor in sorted({c.auditor_id for c in contacts}):
        standings = score_campaign(relaxed, institutions, [c[:5] for c in contacts if c.auditor_id != auditor],
                                   critical_failures)
        largest, who, moved, flips, unscored = 0, None, 0, [], []
        for s in standings:
            before = base_rank.get(s.institution_id)
            if before is not None and s.rank is None:
                unscored.append(s.institution_id)
            if before is not None and s.rank is not None and s.rank != before:
                moved += 1
                if abs(s.rank - before) > largest:
                    largest, who = abs(s.rank - before), s.institution_id
            if before is not None and s.rank is not None and s.licence.granted != base_licence[s.institution_id]:
                flips.append(fairness.LicenceFlip(s.institution_id, base_licence[s.institution_id], s.licence.granted))
        out.append(fairness.LeaveOneOut(auditor, sum(c.auditor_id == auditor for c in contacts), largest, who, moved,
                                        tuple(sorted(flips)), tuple(sorted(unscored))))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_leave_one_out_rescoring_only_an_auditors_institutions_equals_the_full_recompute(seed):
    rules, infos, rows, failures = random_contest(seed, 200)
    rng = random.Random(seed)
    auditors = rng.randint(2, 9)
    contacts = [AuditedContact(*row, rng.randrange(auditors)) for row in rows]
    told = []
    fast = fairness.leave_one_auditor_out(rules, infos, contacts, failures, progress=lambda n, t: told.append((n, t)))
    assert fast == _leave_one_out_by_full_recompute(rules, infos, contacts, failures)
    assert told == [(n, len(fast)) for n in range(1, len(fast) + 1)]


def test_leave_one_out_on_the_demo_equals_the_full_recompute(demo_app):
    from audit import fairness_data
    with demo_app.app_context():
        for campaign in db.session.scalars(sa.select(Campaign)):
            args = (services.campaign_rules(campaign), services.campaign_institutions(campaign.id),
                    fairness_data.audited_contacts(campaign.id), services.critical_failures(campaign.id))
            assert fairness.leave_one_auditor_out(*args) == _leave_one_out_by_full_recompute(*args)


# --- auditor calibration ----------------------------------------------------------------------


def test_calibration_detects_a_planted_harsh_auditor():
    rng = random.Random(42)
    auditors = [1, 2, 3, 4, 5]
    harsh = 3
    contacts, contact_id = [], 0
    for institution in range(1, 61):
        quality = rng.uniform(0.5, 0.9)
        for channel in ("visit", "phone"):
            for auditor in rng.sample(auditors, 3):
                contact_id += 1
                ratio = quality + rng.gauss(0, 0.06) - (0.15 if auditor == harsh else 0.0)
                contacts.append(AuditedContact(contact_id, institution, channel, max(0.0, min(1.0, ratio)) * 20, 20,
                                               auditor))
    by = {c.auditor_id: c for c in fairness.auditor_calibration(contacts)}
    assert by[harsh].verdict == "harsh"
    assert by[harsh].mean_deviation == pytest.approx(-0.15 * (1 + 0.5 * 0.3), abs=0.05)
    assert by[harsh].contacts > 40
    for auditor in set(auditors) - {harsh}:
        assert by[auditor].mean_deviation > -0.03  # the others look, if anything, slightly lenient beside them
        assert by[auditor].low < by[auditor].mean_deviation < by[auditor].high


def test_calibration_compares_only_with_other_auditors():
    contacts = [AuditedContact(1, 1, "phone", 5, 10, 1), AuditedContact(2, 1, "phone", 7, 10, 1),  # alone: no one to compare
                AuditedContact(3, 2, "phone", 4, 10, 1), AuditedContact(4, 2, "phone", 8, 10, 2),
                AuditedContact(5, 2, "phone", 0, 0, 2)]  # nothing possible: no evidence
    by = {c.auditor_id: c for c in fairness.auditor_calibration(contacts)}
    assert by[1].contacts == 1 and by[1].mean_deviation == pytest.approx(-0.4) and by[1].verdict == "too_few"
    assert by[2].contacts == 1 and by[2].mean_deviation == pytest.approx(0.4)


def test_t_interval_by_hand():
    mean, low, high = fairness.t_interval([1.0, 2.0, 3.0])
    assert mean == 2.0
    half = 4.302653 * 1.0 / 3 ** 0.5  # t(0.975, 2) = 4.3027, sd 1, n 3
    assert (mean - low, high - mean) == pytest.approx((half, half), rel=1e-6)


# --- agreement on calibration groups -----------------------------------------------------------


def planted_calibration(groups: int = 8):
    """Three auditors per group: a clear yes/no criterion, an ambiguous one, a scale and a number."""
    rng = random.Random(9)
    answers, scores = [], []
    for group in range(1, groups + 1):
        truth_clear = rng.choice(("yes", "no"))
        truth_scale = rng.choice(("2", "3", "4"))
        truth_rings = rng.choice((2, 4, 7))
        for auditor in rng.sample(range(1, 7), 3):
            answers += [
                CalibrationAnswer(group, "phone", auditor, "clear", truth_clear, "yes_no"),
                CalibrationAnswer(group, "phone", auditor, "vague", rng.choice(("yes", "no")), "yes_no"),
                CalibrationAnswer(group, "phone", auditor, "courtesy", truth_scale, "scale"),
                CalibrationAnswer(group, "phone", auditor, "rings", str(truth_rings + rng.choice((0, 0, 1))), "number"),
                CalibrationAnswer(group, "phone", auditor, "appeal", "n/a", "yes_no"),
            ]
            scores.append(CalibrationScore(group, "phone", auditor, 0.5 + 0.05 * group + rng.uniform(-0.02, 0.02)))
    return answers, scores


def test_agreement_report_flags_the_ambiguous_criterion_with_its_answers_side_by_side():
    answers, scores = planted_calibration()
    [phone] = fairness.agreement_report(answers, scores)
    by = {c.criterion_id: c for c in phone.criteria}
    assert [c.criterion_id for c in phone.flagged] == ["vague"]
    assert by["clear"].alpha.value == 1.0 and by["clear"].percent.value == 1.0
    assert (by["clear"].level, by["courtesy"].level, by["rings"].level) == ("nominal", "ordinal", "interval")
    assert by["rings"].alpha.value > 0.667 and not by["rings"].flagged
    assert by["appeal"].alpha.value is None and not by["appeal"].flagged  # everyone said n/a: nothing to measure
    assert by["vague"].alpha.pairable == 24 and by["vague"].alpha.units == 8
    for row in by["vague"].disagreements:
        assert len(row.answers) == 3 and len({v for _a, v in row.answers}) == 2
    assert by["clear"].disagreements == ()
    assert phone.groups == 8 and phone.score_alpha.value > 0.9 and phone.score_alpha.pairable == 24
    assert phone.judged == 4


def test_few_pairable_answers_are_not_flagged():
    answers, scores = planted_calibration(groups=3)
    [phone] = fairness.agreement_report(answers, scores)
    assert phone.flagged == ()
    assert fairness.agreement_report(answers, scores, min_pairable=6)[0].flagged[0].criterion_id == "vague"


def test_why_a_criterion_needs_twenty_paired_answers_to_be_judged():
    """Four groups of three (12 answers) in perfect agreement but for one answer: alpha falls under 0.667."""
    slip = [["yes", "yes", "no"], ["yes"] * 3, ["yes"] * 3, ["no"] * 3]
    alpha = krippendorff_alpha(slip)
    assert alpha.value == pytest.approx(0.656, abs=5e-4) and alpha.value < fairness.POOR_AGREEMENT
    assert alpha.pairable == 12 < fairness.MIN_PAIRABLE
    seven = [["yes", "yes", "no"], *[["yes"] * 3] * 4, *[["no"] * 3] * 2]  # the same slip among 21 answers
    assert krippendorff_alpha(seven).value == pytest.approx(0.796, abs=5e-4)


def test_scale_not_applicable_is_missing_but_yes_no_not_applicable_is_a_category():
    assert fairness.answer_value("n/a", "scale") is None
    assert fairness.answer_value("n/a", "yes_no") == "n/a"
    assert fairness.answer_value("3", "scale") == 3.0
    assert fairness.answer_value(None, "choice") is None


def test_pairwise_kappa_over_shared_yes_no_items():
    answers = [CalibrationAnswer(g, "phone", a, "c", v, "yes_no")
               for g, a, v in [(1, 1, "yes"), (1, 2, "yes"), (2, 1, "no"), (2, 2, "no"), (3, 1, "yes"), (3, 2, "no"),
                               (1, 3, "yes")]]
    answers.append(CalibrationAnswer(1, "phone", 1, "s", "3", "scale"))  # not yes/no: left out
    pairs = {(p.auditor_a, p.auditor_b): p.kappa for p in fairness.pairwise_kappa(answers)}
    assert pairs[(1, 2)].items == 3 and pairs[(1, 2)].observed == pytest.approx(2 / 3)
    assert pairs[(1, 3)].items == 1
    assert (2, 3) in pairs


# --- on the demo: calibration data, the page, the ranking, the export, the scorecard -------------

PAST = 3  # the demo's newest published edition


def test_the_demo_edition_has_calibration_groups_of_three_auditors(demo_app):
    with demo_app.app_context():
        groups = db.session.scalars(sa.select(CalibrationGroup).filter_by(campaign_id=1)).all()
        assert 7 <= len(groups) <= 10 and {g.channel for g in groups} == {"phone", "email"}
        for group in groups:
            contacts = db.session.scalars(sa.select(Contact).filter_by(calibration_group_id=group.id)).all()
            assert len(contacts) == 3 and len({c.auditor_id for c in contacts}) == 3
            assert {(c.status, c.institution_id, c.channel) for c in contacts} == {
                ("accepted", group.institution_id, group.channel)}
            assert all(db.session.get(Assignment, c.assignment_id).calibration_group_id == group.id for c in contacts)


def test_calibration_contacts_do_not_change_the_ranking(demo_app):
    with demo_app.app_context():
        before = services.compute_standings(1)
        calibration = db.session.scalars(sa.select(Contact).where(Contact.calibration_group_id.is_not(None))).all()
        assert calibration
        for contact in calibration:
            db.session.delete(contact)
        db.session.flush()
        assert services.compute_standings(1) == before


def test_the_demo_calibration_flags_the_ambiguous_criterion_and_finds_the_harsh_auditor(demo_app):
    from audit.fairness_data import fairness_report

    with demo_app.app_context():
        report = fairness_report(db.session.get(Campaign, 1))
        phone = next(r for r in report.agreement if r.rubric == "phone")
        assert AMBIGUOUS["phone"] in {c.criterion_id for c in phone.flagged}
        ambiguous = next(c for c in phone.criteria if c.criterion_id == AMBIGUOUS["phone"])
        assert ambiguous.alpha.value < 0.3 and ambiguous.alpha.pairable >= fairness.MIN_PAIRABLE
        assert ambiguous.disagreements
        harsh = db.session.scalar(sa.select(User.id).filter_by(pseudonym=HARSH))
        assert report.group_deviation[harsh].verdict == "harsh"
        email = next(r for r in report.agreement if r.rubric == "email")
        assert email.flagged == () and email.judged == 0  # two groups: too few answers to judge
        assert len(report.leave_one_out) == 6 and len(report.intervals) == 40


def english_organiser(auth, client):
    auth.as_role("organiser")
    client.get("/lang/en")
    return client


def test_the_fairness_page(auth, demo_client):
    client = english_organiser(auth, demo_client)
    page = client.get("/organiser/campaigns/1/fairness")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'id="flag-phone-{AMBIGUOUS["phone"]}"' in html
    for heading in ("Auditor agreement", "Auditor calibration", "The ranking without each auditor", "Rank intervals"):
        assert heading in html
    assert "harsher than the others" in html and HARSH in html
    assert "style=" not in html and "<script>" not in html  # strict CSP: nothing inline
    assert 'href="/organiser/campaigns/1/fairness"' in client.get("/organiser/campaigns/1/ranking").get_data(as_text=True)


def test_an_edition_without_calibration_says_so(auth, demo_client):
    client = english_organiser(auth, demo_client)
    html = client.get(f"/organiser/campaigns/{PAST}/fairness").get_data(as_text=True)
    assert "No calibration contacts yet" in html and "Rank intervals" in html


def test_the_ranking_page_shows_intervals_and_marks(auth, demo_client, demo_app):
    client = english_organiser(auth, demo_client)
    html = client.get("/organiser/campaigns/1/ranking").get_data(as_text=True)
    assert "Points: 95% interval" in html and "Rank: 95% interval" in html
    assert "not distinguishable from its neighbours" in html
    with demo_app.app_context():
        from audit.fairness_data import standings_with_uncertainty

        standings, intervals = standings_with_uncertainty(1)
        top = intervals[standings[0].institution_id]
    assert f"{top.rank_best} – {top.rank_worst}" in html


def test_the_publish_page_warns_when_a_licence_could_flip(auth, demo_client, demo_app):
    with demo_app.app_context():
        from audit.fairness_data import standings_with_uncertainty

        campaign = db.session.get(Campaign, 1)
        campaign.status = "review"
        standings, intervals = standings_with_uncertainty(1)
        inputs = {i.institution_id: i for i in fairness.inputs_from_standings(
            standings, services.accepted_contact_totals(1))}
        wide = next(r for r in intervals.values() if inputs[r.institution_id].decided_by_points
                    and r.points_high - r.points_low > 20)
        campaign.threshold = wide.points  # now the threshold lies inside its interval
        db.session.commit()
    client = english_organiser(auth, demo_client)
    html = client.get("/organiser/campaigns/1/publish").get_data(as_text=True)
    assert "could flip within" in html and 'href="/organiser/campaigns/1/fairness#intervals"' in html


def test_the_ranking_sheet_has_the_intervals(auth, demo_client, demo_app):
    client = english_organiser(auth, demo_client)
    wb = load_workbook(io.BytesIO(client.get(f"/organiser/campaigns/{PAST}/export.xlsx").data), read_only=True)
    rows = wb["Ranking"].iter_rows(min_row=2, values_only=True)
    headers = next(rows)
    records = [dict(zip(headers, row, strict=False)) for row in rows]
    with demo_app.app_context():
        revision = publication.latest_revision(PAST)
        expected = fairness.published_uncertainty(revision.standings, revision.threshold)
        names = dict(db.session.execute(sa.select(Institution.name, Institution.id)).all())
    assert {"Points: low", "Points: high", "Rank: best", "Rank: worst", "Uncertainty"} <= set(headers)
    for record in records:
        interval = expected[names[record["Institution"]]]
        assert (record["Points: low"], record["Points: high"]) == (interval.points_low, interval.points_high)
        assert (record["Rank: best"], record["Rank: worst"]) == (interval.rank_best, interval.rank_worst)
        assert record["Rank: best"] <= record["Rank: worst"]
        assert ("not distinguishable" in (record["Uncertainty"] or "")) == interval.indistinct


def test_the_scorecard_says_how_certain_the_position_is(auth, demo_client, demo_app):
    auth.as_role("director")
    demo_client.get("/lang/en")
    with demo_app.app_context():
        director = db.session.scalar(sa.select(User).filter_by(email="director@demo.test"))
        institution = director.institutions[-1]
        card = scorecard.build(db.session.get(Campaign, PAST), institution)
        certainty = card.certainty
    assert certainty is not None and certainty.points_low <= certainty.points_high
    html = demo_client.get(f"/director/campaigns/{PAST}/institutions/{institution.id}").get_data(as_text=True)
    if certainty.points_low < certainty.points_high:
        assert "your points would most likely" in html
        assert f"your rank between {certainty.rank_best} and {certainty.rank_worst} of {certainty.ranked}" in html
    else:
        assert "cannot be estimated" in html
