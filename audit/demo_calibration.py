"""Calibration contacts for the demo edition: several auditors score the same recorded call or
e-mail thread, so that the fairness page has agreement to measure.

Each group has one "true" set of answers (made as the demo makes any contact's answers); each
of its three auditors copies it and deviates now and then, one auditor (A-06) is systematically
harsh on judgements, and one phone criterion is deliberately ambiguous (each auditor reads it
their own way) so that it is flagged. The rates are a showcase, not an estimate. Measured facts (rings, reply times) come from the shared recording and are the
same for everyone, save a rare miscount. Calibration contacts never count in the ranking.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import sqlalchemy as sa

from . import services
from .extensions import db
from .facts import measures
from .models import Assignment, CalibrationGroup, Campaign, Contact, Institution, User
from .rubrics import Criterion, Rubric
from .scoring import NOT_APPLICABLE, AnswerValue

GROUPS = {"phone": 7, "email": 2}
"""Seven phone groups give 21 paired answers per criterion, enough to judge it (fairness.MIN_PAIRABLE);
two e-mail groups show what too few look like."""
AUDITORS_PER_GROUP = 3
HARSH = "A-06"
"""The pseudonym of the auditor who scores systematically lower than the others."""
HARSHNESS = 0.6
"""The chance that the harsh auditor marks a scale or choice answer (a judgement) a step worse than the truth.
Those criteria are flagged too, with the harsh auditor the odd one out in most rows."""
AMBIGUOUS = {"phone": "full_attention"}
"""Criteria whose wording the demo auditors read differently: their answers are coin flips."""
SLIP = 0.005
"""The chance that an auditor answers a clear criterion differently from the truth."""
LABELS = {"phone": "Nagranie rozmowy telefonicznej z {day}", "email": "Wątek e-mail z {day}"}


def add_calibration(campaign: Campaign, auditors: list[User], rubrics: dict[str, Rubric], rng: random.Random) -> int:
    """Create the calibration groups and their accepted contacts in `campaign`; return the contacts made.

    Draws from a copy of `rng`, so that the rest of the demo draws exactly what it drew before.
    """
    from .demo import SCENARIOS, _answers, _recorded_facts  # the demo's own way of making plausible answers

    local = random.Random()
    local.setstate(rng.getstate())
    harsh = next((a for a in auditors if a.pseudonym == HARSH), auditors[-1])
    others = [a for a in auditors if a.id != harsh.id]
    made = 0
    qualities = (0.35, 0.6, 0.8, 0.95, 0.5, 0.7, 0.9)  # a spread of institutions, so that answers vary
    for channel, count in GROUPS.items():
        rubric = rubrics.get(channel)
        if rubric is None:
            continue
        offering = db.session.scalars(sa.select(Institution).order_by(Institution.id)).all()
        offering = [i for i in offering if channel in (i.channels or ())]
        for n, institution in enumerate(local.sample(offering, min(count, len(offering)))):
            assert campaign.fieldwork_start is not None
            day = campaign.fieldwork_start + timedelta(days=local.randrange(60))
            when = datetime(day.year, day.month, day.day, local.randrange(8, 15), local.choice((0, 15, 30, 45)))
            group = CalibrationGroup(campaign_id=campaign.id, channel=channel, institution_id=institution.id,
                                     label=LABELS[channel].format(day=day.strftime("%d.%m.%Y")))
            db.session.add(group)
            db.session.flush()
            truth, measured = _answers(local, rubric, qualities[n % len(qualities)])
            while not _gates_open(rubric, truth):  # a calibration scores a call that was answered, a reply
                truth, measured = _answers(local, rubric, qualities[n % len(qualities)])
            scenario = local.choice(SCENARIOS[channel])
            team = ([harsh, *local.sample(others, AUDITORS_PER_GROUP - 1)] if n < count - 1
                    else local.sample(others, AUDITORS_PER_GROUP))
            for auditor in team:
                answers = _auditor_answers(local, rubric, truth, harsh=auditor.id == harsh.id)
                facts = _recorded_facts(channel, when, _miscount(local, measured))
                derived = measures(channel, facts)
                answers.update({c.id: derived[c.fact] for c in rubric.criteria if c.fact in derived and c.id in answers})
                _contact(campaign, group, institution, channel, auditor, rubric, scenario, when, facts, answers)
                made += 1
    return made


def _gates_open(rubric: Rubric, truth: dict[str, AnswerValue]) -> bool:
    """Whether the first-level gates (e.g. "answered", "replied") let the criteria that depend on them show."""
    return all(str(truth.get(c.when.criterion)) in c.when.values for c in rubric.criteria
               if c.when and rubric.criterion(c.when.criterion).when is None)


def _auditor_answers(rng: random.Random, rubric: Rubric, truth: dict[str, AnswerValue], harsh: bool
                     ) -> dict[str, AnswerValue]:
    gates = {c.when.criterion for c in rubric.criteria if c.when}
    answers = dict(truth)
    for c in rubric.criteria:
        value = truth.get(c.id)
        if value is None or c.id in gates or c.fact:
            continue  # gates and measured facts are the same for everyone
        if AMBIGUOUS.get(rubric.channel) == c.id:
            answers[c.id] = rng.choice(("yes", "no")) if c.type == "yes_no" else _other(rng, c, value)
        elif harsh and c.type in ("scale", "choice") and rng.random() < HARSHNESS:
            answers[c.id] = _lower(c, value)  # the harsh auditor now and then marks a step down
        elif rng.random() < SLIP:
            answers[c.id] = _other(rng, c, value)
    return answers


def _lower(c: Criterion, value: AnswerValue) -> AnswerValue:
    """One step worse: "no" for "yes", the next lower level or option."""
    if c.type == "yes_no":
        return "no"
    ranked = sorted(c.options, key=lambda o: o.points)
    ids = [o.id for o in ranked]
    if str(value) in ids:
        return ids[max(0, ids.index(str(value)) - 1)]
    return value


def _other(rng: random.Random, c: Criterion, value: AnswerValue) -> AnswerValue:
    """A different answer the criterion allows."""
    if value == NOT_APPLICABLE:
        return value
    if c.type == "yes_no":
        return "no" if value == "yes" else "yes"
    if c.type in ("scale", "choice"):
        choices = [o.id for o in c.options if o.id != str(value)]
        return rng.choice(choices) if choices else value
    return value


def _miscount(rng: random.Random, measured: dict[str, float]) -> dict[str, float]:
    """The shared recording's measures, with the odd ring miscounted by one."""
    out = dict(measured)
    if "rings" in out and rng.random() < 0.15:
        out["rings"] = out["rings"] + 1
    return out


def _contact(campaign: Campaign, group: CalibrationGroup, institution: Institution, channel: str, auditor: User,
             rubric: Rubric, scenario: str, when: datetime, facts: dict[str, object],
             answers: dict[str, AnswerValue]) -> None:
    assignment = Assignment(campaign_id=campaign.id, institution_id=institution.id, channel=channel,
                            auditor_id=auditor.id, scenario=scenario, calibration_group_id=group.id,
                            due_start=campaign.fieldwork_start, due_end=campaign.fieldwork_end)
    db.session.add(assignment)
    db.session.flush()
    contact = Contact(campaign_id=campaign.id, institution_id=institution.id, channel=channel, auditor_id=auditor.id,
                      assignment_id=assignment.id, contacted_at=when, scenario=scenario, status="accepted",
                      rubric_hash=rubric.hash, facts=facts, calibration_group_id=group.id,
                      submitted_at=when + timedelta(days=1), reviewed_at=when + timedelta(days=2))
    db.session.add(contact)
    db.session.flush()
    services.record_answers(contact, answers)
