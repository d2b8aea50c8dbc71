"""The database side of the fairness statistics (audit/fairness.py is pure): each loader feeds the
pure functions plain rows from one SQL statement; fairness_report() assembles an edition's report.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from . import fairness as stats
from . import publication, result_cache, scoring, services, standings
from .errors import N_
from .extensions import db
from .models import (
    Answer,
    CalibrationGroup,
    Campaign,
    Contact,
    Institution,
    JobRecord,
    User,
)
from .rubrics import Criterion, Rubric

# --- loaders ---------------------------------------------------------------------------------


def calibration_rows(campaign_id: int) -> tuple[list[stats.CalibrationAnswer], list[stats.CalibrationScore],
                                                 dict[str, Rubric]]:
    """The accepted calibration contacts' answers and whole-contact scores, and the rubric of each channel."""
    rows = db.session.execute(
        sa.select(Contact.calibration_group_id, Contact.channel, Contact.auditor_id, Contact.rubric_hash,
                  Answer.criterion_id, Answer.value, Answer.earned, Answer.possible)
        .join(Answer, Answer.contact_id == Contact.id)
        .where(Contact.campaign_id == campaign_id, Contact.status == "accepted",
               Contact.calibration_group_id.is_not(None))
        .order_by(Contact.calibration_group_id, Contact.auditor_id, Answer.id)).all()
    rubrics: dict[str, Rubric] = {}
    answers: list[stats.CalibrationAnswer] = []
    totals: dict[tuple[int, str, int], list[float]] = {}
    for group, channel, auditor, rubric_hash, criterion_id, value, earned, possible in rows:
        rubric = rubrics.setdefault(channel, services.rubric_by_hash(rubric_hash))
        answer_type = _answer_type(rubric, criterion_id)
        if answer_type is not None and value is not None:
            answers.append(stats.CalibrationAnswer(group, channel, auditor, criterion_id, value, answer_type))
        total = totals.setdefault((group, channel, auditor), [0.0, 0.0])
        total[0] += earned
        total[1] += possible
    scores = [stats.CalibrationScore(group, channel, auditor, earned / possible)
              for (group, channel, auditor), (earned, possible) in totals.items() if possible > 0]
    return answers, scores, rubrics


def _answer_type(rubric: Rubric, criterion_id: str) -> str | None:
    try:
        return rubric.criterion(criterion_id).type
    except KeyError:  # a criterion the rubric no longer has
        return None


def audited_contacts(campaign_id: int) -> list[stats.AuditedContact]:
    """The regular accepted contacts (those the ranking counts) as ContactTotal rows with their auditor."""
    rows = db.session.connection().execute(
        sa.select(Contact.id, Contact.institution_id, Contact.channel, services.milli_points(Answer.earned),
                  services.milli_points(Answer.possible), Contact.auditor_id)
        .join(Answer, Answer.contact_id == Contact.id)
        .where(services.counting_contacts(campaign_id))
        .group_by(Contact.id))
    return [stats.AuditedContact(*row) for row in rows]


def standings_with_uncertainty(campaign_id: int) -> tuple[list[scoring.Standing], dict[int, stats.RankInterval]]:
    """The engine's standings and their bootstrap intervals, from one load of the edition's rows."""
    scored = services.score_edition(campaign_id)
    return scored.standings, uncertainty_of(scored)


@dataclass(frozen=True)
class LiveRanking:
    """What the ranking page shows: the live result, its bootstrap intervals, and how it stands against the
    newest published revision."""

    result: standings.EditionResult
    intervals: dict[int, stats.RankInterval]
    latest_revision: int | None
    """The id of the newest published revision (None before the first)."""
    changed: int
    """Institutions whose result differs from that revision's."""


def live_ranking(campaign: Campaign) -> LiveRanking:
    """The ranking page's figures, kept per edition state (audit.result_cache; a new revision changes it)."""
    def compute() -> LiveRanking:
        scored = services.score_edition(campaign.id)
        result = standings.from_standings(campaign, scored.standings, scored.totals,
                                          standings.overrides_of(campaign.id))
        latest = publication.latest_revision(campaign.id)
        changed = 0
        if latest is not None:
            before = standings.published(latest).by_institution()
            changed = sum(1 for r in result.institutions if standings.differs(before.get(r.institution_id), r))
        return LiveRanking(result, uncertainty_of(scored), None if latest is None else latest.id, changed)
    return result_cache.cached("ranking", campaign.id, compute)


def refresh_live_rankings() -> int:
    """Bring the kept ranking of every edition past its draft up to date (the job worker runs this a few seconds
    after a change); how many editions were looked at. An edition whose state did not change costs one query."""
    editions = db.session.scalars(sa.select(Campaign).where(Campaign.status != "draft").order_by(Campaign.id)).all()
    for campaign in editions:
        live_ranking(campaign)
        db.session.rollback()  # end the read: the next edition is read as it stands now
    return len(editions)


def uncertainty_of(scored: services.ScoredEdition) -> dict[int, stats.RankInterval]:
    """Bootstrap intervals of standings already computed (the ranking page shows both)."""
    with services.cyclic_gc_paused():  # as score_edition does: the batch makes only acyclic tuples
        return stats.standings_uncertainty(scored.standings, scored.totals, float(scoring.decimal(scored.rules.threshold)))


# --- an edition's report ------------------------------------------------------------------------


@dataclass(frozen=True)
class FairnessFigures:
    """An edition's fairness analysis as computed: plain values only (no database objects), so that a job
    can store it and the page read it later (audit/job_records.py)."""

    agreement: list[stats.RubricAgreement]
    kappas: list[stats.PairKappa]
    criteria: Mapping[tuple[str, str], Criterion]
    calibration: list[stats.AuditorCalibration]
    group_deviation: Mapping[int, stats.AuditorCalibration]
    leave_one_out: list[stats.LeaveOneOut]
    standings: list[scoring.Standing]
    intervals: Mapping[int, stats.RankInterval]
    auditor_ids: frozenset[int]
    state: str
    """The edition's state it was computed from (edition_state)."""


@dataclass(frozen=True)
class FairnessReport:
    agreement: list[stats.RubricAgreement]
    kappas: list[stats.PairKappa]
    groups: Mapping[int, CalibrationGroup]
    criteria: Mapping[tuple[str, str], Criterion]
    """(channel, criterion id) -> the criterion, for its question and its answers' labels."""
    calibration: list[stats.AuditorCalibration]
    group_deviation: Mapping[int, stats.AuditorCalibration]
    leave_one_out: list[stats.LeaveOneOut]
    standings: list[scoring.Standing]
    intervals: Mapping[int, stats.RankInterval]
    pseudonyms: Mapping[int, str]
    institutions: Mapping[int, Institution]

    @property
    def could_flip(self) -> list[stats.RankInterval]:
        return [r for r in self.intervals.values() if r.licence_could_flip]


Progress = Callable[..., None]
"""progress(done, total, message): told as the analysis advances (audit/job_records.Progress)."""


def edition_state(campaign: Campaign) -> str:
    """The edition's state the analysis is computed from: its results' fingerprint (audit.result_cache owns it:
    it changes whenever a result could, and only then)."""
    return result_cache.fingerprint(campaign.id)


def fairness_figures(campaign: Campaign, progress: Progress | None = None) -> FairnessFigures:
    """Compute the analysis (the job's work; the page computes it in the request for a small edition)."""
    tell = progress or (lambda *args, **kwargs: None)
    state = edition_state(campaign)
    tell(0, 1, N_("Reading the answers"), force=True)
    answers, scores, rubrics = calibration_rows(campaign.id)
    contacts = audited_contacts(campaign.id)
    auditors = len({c.auditor_id for c in contacts})
    total = auditors + 2
    tell(1, total, N_("Measuring agreement and the bootstrap"), force=True)
    position = {ch.channel: n for n, ch in enumerate(campaign.channels)}
    agreement = sorted(stats.agreement_report(answers, scores), key=lambda r: (position.get(r.rubric, len(position)),
                                                                             r.rubric))
    kappas = stats.pairwise_kappa(answers)
    standings, intervals = standings_with_uncertainty(campaign.id)
    tell(2, total, N_("Leaving out each auditor"), force=True)
    loo = stats.leave_one_auditor_out(services.campaign_rules(campaign), services.campaign_institutions(campaign.id),
                                      contacts, services.critical_failures(campaign.id),
                                      progress=lambda n, _t: tell(2 + n, total))
    criteria = {(channel, c.id): c for channel, rubric in rubrics.items() for c in rubric.criteria}
    return FairnessFigures(agreement, kappas, criteria, stats.auditor_calibration(contacts),
                           {c.auditor_id: c for c in stats.calibration_group_deviation(scores)}, loo, standings,
                           intervals, frozenset({c.auditor_id for c in contacts} | {a.auditor_id for a in answers}),
                           state)


def report_of(campaign: Campaign, figures: FairnessFigures) -> FairnessReport:
    """The page's report from figures, stored or fresh: pseudonyms, groups and institutions as they are now."""
    pseudonyms = {i: p or f"#{i}" for i, p in db.session.execute(
        sa.select(User.id, User.pseudonym).where(User.id.in_(figures.auditor_ids)))}
    groups = {grp.id: grp for grp in db.session.scalars(
        sa.select(CalibrationGroup).where(CalibrationGroup.campaign_id == campaign.id))}
    institutions = {i.id: i for i in db.session.scalars(sa.select(Institution).where(Institution.id.in_(
        {s.institution_id for s in figures.standings}
        | {grp.institution_id for grp in groups.values() if grp.institution_id})))}
    return FairnessReport(figures.agreement, figures.kappas, groups, figures.criteria, figures.calibration,
                          figures.group_deviation, figures.leave_one_out, figures.standings, figures.intervals,
                          pseudonyms, institutions)


def fairness_report(campaign: Campaign) -> FairnessReport:
    return report_of(campaign, fairness_figures(campaign))


def accepted_contacts(campaign_id: int) -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).where(
        Contact.campaign_id == campaign_id, Contact.status == "accepted")) or 0)


@dataclass(frozen=True)
class StoredFairness:
    """What the page shows of a job-computed analysis: the newest stored figures (None before the first),
    when they were computed, whether the edition changed since, and the job computing the current ones."""

    figures: FairnessFigures | None
    computed_at: datetime | None
    current: bool
    job: JobRecord | None
    """The job for the edition as it is now, when it has not finished (queued, running or failed)."""


def stored_fairness(campaign: Campaign, user: User | None) -> StoredFairness:
    """The stored analysis, and a job for the current state when the stored one is older (committed here:
    opening the page after the edition changed is what starts its recomputation)."""
    from . import job_records

    state = edition_state(campaign)
    done = job_records.latest("fairness", campaign.id, state="done")
    figures = job_records.load_result(done) if done is not None else None
    current = figures is not None and figures.state == state
    job = job_records.pending("fairness", campaign.id)  # asked for with the button, or by another organiser
    if not current and job is None:
        job = job_records.request("fairness", campaign, user, key=f"fairness:{campaign.id}:{state}")
        db.session.commit()
        if job.state == "done":  # done for this state, but its file is gone: nothing to wait for
            job = None
    return StoredFairness(figures, done.finished_at if done is not None and figures is not None else None, current, job)
