"""A national edition for the organiser's pages: institutions, people, contacts, a published revision.

Built with a handful of multi-row INSERTs (as the recompute benchmark builds its contest), on the
real rubrics so that every page can read them: each institution has one director, one accepted
contact per channel it offers and one more submitted for review; the edition is published once
(revision 1, licences granted), with an open appeal for one institution in ten, a submitted improvement
plan from one in four and a draft from one in seven (the edition shows plans in public: the registry
marks them). Answers come from a few answer sets per channel scored by the engine, so that stored
points are the engine's.

The same builder serves `make bench` (5,000 institutions) and the query-count test (50 and 500).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app

from audit import publication, scoring, services
from audit.demo import _answers, _demo_password_hash, _latest_rubric_per_channel
from audit.extensions import db
from audit.models import (
    Answer,
    Appeal,
    Assignment,
    Campaign,
    CampaignChannel,
    Contact,
    ImprovementPlan,
    Institution,
    PlanAction,
    User,
    director_institution,
)

AUDITORS = 20
VARIANTS = 4  # scored answer sets per channel
CATEGORIES = ("social_welfare", "municipal_services", "utility", "helpline")
REGIONS = ("śląskie", "małopolskie", "mazowieckie", "wielkopolskie", "pomorskie", "łódzkie")
PASSWORD = "demo"


@dataclass(frozen=True)
class NationalEdition:
    campaign_id: int
    institution_id: int
    """An institution with a director (director1@national.test) and an open appeal."""
    revision: int
    organiser: str
    director: str


def build(institutions: int, seed: int = 1) -> NationalEdition:
    """Fill an empty database with a published national edition of `institutions` institutions; commit."""
    rng = random.Random(seed)
    rubrics = _latest_rubric_per_channel(services.load_rubric_dir(current_app.config["RUBRICS_DIR"]))
    for rubric in rubrics.values():
        services.store_rubric(rubric)
    password = _demo_password_hash()
    organiser = User(email="organiser@national.test", name="Organizator", role="organiser", password_hash=password)
    auditors = [User(email=f"auditor{n}@national.test", name=f"Audytor {n}", role="auditor", pseudonym=f"A-{n:02d}",
                     password_hash=password) for n in range(1, AUDITORS + 1)]
    campaign = Campaign(name="Edycja krajowa", year=2026, status="review", threshold=750.0,
                        missing_channel="exclude", fieldwork_start=date(2026, 9, 1), fieldwork_end=date(2026, 12, 18),
                        appeal_until=date(2099, 1, 1), evidence_to_directors=True, plans_in_public=True)
    for position, rubric in enumerate(rubrics.values()):
        campaign.channels.append(CampaignChannel(channel=rubric.channel, rubric_hash=rubric.hash, weight=1.0,
                                                 min_contacts=1, position=position))
    db.session.add_all([organiser, *auditors, campaign])
    db.session.flush()
    conn = db.session.connection()
    first = (db.session.scalar(sa.select(sa.func.max(Institution.id))) or 0) + 1
    ids = range(first, first + institutions)
    channels = list(rubrics)
    conn.execute(sa.insert(Institution.__table__), [
        {"id": i, "name": f"Urząd {n:05d} w Miejscowości {n % 97}", "category": CATEGORIES[n % len(CATEGORIES)],
         "city": f"Miejscowość {n % 97}", "region": REGIONS[n % len(REGIONS)], "channels": channels,
         "created_at": datetime(2026, 1, 1)} for n, i in enumerate(ids, start=1)])
    user_first = (db.session.scalar(sa.select(sa.func.max(User.id))) or 0) + 1
    conn.execute(sa.insert(User.__table__), [
        {"id": user_first + n, "email": f"director{n + 1}@national.test", "name": f"Dyrektor {n + 1:05d}",
         "role": "director", "password_hash": password, "active": True, "created_at": datetime(2026, 1, 1)}
        for n in range(institutions)])
    conn.execute(director_institution.insert(), [{"user_id": user_first + n, "institution_id": i}
                                                 for n, i in enumerate(ids)])
    variants = {ch: [_scored_rows(rubric, rng) for _ in range(VARIANTS)] for ch, rubric in rubrics.items()}
    assignments, contacts, answers = [], [], []
    next_assignment = (db.session.scalar(sa.select(sa.func.max(Assignment.id))) or 0) + 1
    next_contact = (db.session.scalar(sa.select(sa.func.max(Contact.id))) or 0) + 1
    for n, inst in enumerate(ids):
        for k, channel in enumerate([*channels, channels[n % len(channels)]]):
            status = "accepted" if k < len(channels) else "submitted"
            auditor = auditors[(n + k) % AUDITORS].id
            when = datetime(2026, 10, 1 + (n + k) % 28, 9 + k % 6)
            assignments.append({"id": next_assignment, "campaign_id": campaign.id, "institution_id": inst,
                                "channel": channel, "auditor_id": auditor, "scenario": "", "created_at": when})
            contacts.append({"id": next_contact, "campaign_id": campaign.id, "institution_id": inst, "channel": channel,
                             "auditor_id": auditor, "assignment_id": next_assignment, "contacted_at": when,
                             "scenario": "", "status": status, "rubric_hash": rubrics[channel].hash, "facts": {},
                             "submitted_at": when, "created_at": when, "updated_at": when, "version": 1})
            answers += [{**row, "contact_id": next_contact} for row in variants[channel][rng.randrange(VARIANTS)]]
            next_assignment += 1
            next_contact += 1
    conn.execute(sa.insert(Assignment.__table__), assignments)
    conn.execute(sa.insert(Contact.__table__), contacts)
    conn.execute(sa.insert(Answer.__table__), answers)
    revision = publication.publish(campaign, organiser, "Wyniki edycji krajowej")
    appealed = [c for c in contacts if c["status"] == "accepted" and c["channel"] == channels[0]][::10]
    conn.execute(sa.insert(Appeal.__table__), [
        {"campaign_id": campaign.id, "contact_id": c["id"], "institution_id": c["institution_id"],
         "director_id": user_first + c["institution_id"] - first, "reason": "Prosimy o ponowne sprawdzenie.",
         "status": "open", "created_at": datetime(2026, 12, 20)} for c in appealed])
    planned = [(n, i) for n, i in enumerate(ids) if n % 4 == 0 or n % 7 == 0]
    next_plan = (db.session.scalar(sa.select(sa.func.max(ImprovementPlan.id))) or 0) + 1
    conn.execute(sa.insert(ImprovementPlan.__table__), [
        {"id": next_plan + k, "campaign_id": campaign.id, "institution_id": i, "author_id": user_first + n,
         "status": "submitted" if n % 4 == 0 else "draft", "created_at": datetime(2026, 12, 21),
         "submitted_at": datetime(2026, 12, 21) if n % 4 == 0 else None} for k, (n, i) in enumerate(planned)])
    conn.execute(sa.insert(PlanAction.__table__), [
        {"plan_id": next_plan + k, "channel": channels[0], "criterion_id": rubrics[channels[0]].criteria[0].id,
         "what": "Szkolenie zespołu.", "who": "Kierownik"} for k in range(len(planned))])
    db.session.commit()
    return NationalEdition(campaign.id, first, revision.number, organiser.email, "director1@national.test")


def _scored_rows(rubric, rng: random.Random) -> list[dict[str, object]]:
    """One complete answer set, as the answer rows record_answers would store for a submitted contact."""
    values, _facts = _answers(rng, rubric, rng.uniform(0.6, 0.98))
    result = scoring.score_contact(rubric, values)
    return [{"criterion_id": item.criterion_id,
             "value": None if values.get(item.criterion_id) is None else services.stored_value(values[item.criterion_id]),
             "comment": None, "earned": float(item.earned), "possible": float(item.possible),
             "critical_failed": item.critical_failed}
            for item in result.criteria if values.get(item.criterion_id) is not None or item.status == "unanswered"]
