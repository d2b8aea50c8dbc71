"""Use cases over the database: store rubrics, record answers, total a campaign, explain a score.

Functions here take ids or model objects, call the pure engine, and only flush(); the
caller (a view or a CLI command) owns the single commit.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from . import scoring
from .errors import N_
from .extensions import db
from .models import Answer, Assignment, Campaign, Contact, Institution, RubricVersion
from .rubrics import Problem, Rubric, RubricError, check_paths, parse_rubric

# --- rubrics ---------------------------------------------------------------------------


def store_rubric(rubric: Rubric) -> RubricVersion:
    """Keep a rubric version's text in the database (once); refuse a changed text under an old version."""
    existing = db.session.get(RubricVersion, rubric.hash)
    if existing is not None:
        _rubrics_by_hash.setdefault(rubric.hash, rubric)
        return existing
    clash = db.session.scalar(sa.select(RubricVersion).filter_by(rubric_id=rubric.id, version=rubric.version))
    if clash is not None:
        raise RubricError([Problem(rubric.path, None, None, N_("rubric '%(rubric)s' version %(version)s is already "
                                                                "stored with other content; raise the version in the file"),
                                   {"rubric": rubric.id, "version": rubric.version})])
    row = RubricVersion(hash=rubric.hash, rubric_id=rubric.id, version=rubric.version,
                        channel=rubric.channel, source=rubric.source)
    db.session.add(row)
    _rubrics_by_hash.setdefault(rubric.hash, rubric)  # the same text: no need to parse it again
    db.session.flush()
    return row


def load_rubric_dir(directory: str | Path) -> list[Rubric]:
    """Every rubric in a directory; RubricError if any file has a problem."""
    rubrics, problems = check_paths([directory])
    if problems:
        raise RubricError(problems)
    return rubrics


_rubrics_by_hash: dict[str, Rubric] = {}


def rubric_by_hash(rubric_hash: str) -> Rubric:
    """The rubric version a contact was scored with, rebuilt from its stored text.

    A hash names one text forever, so a parsed rubric is kept for the life of the process.
    """
    rubric = _rubrics_by_hash.get(rubric_hash)
    if rubric is None:
        row = db.session.get(RubricVersion, rubric_hash)
        if row is None:
            raise LookupError(f"no stored rubric with hash {rubric_hash}")
        rubric = _rubrics_by_hash[rubric_hash] = parse_rubric(row.source, f"<stored rubric {rubric_hash[:12]}>")
    return rubric


# --- contacts --------------------------------------------------------------------------


ANSWERS_FROM_JSON = (
    "json_to_recordset(CAST(:answers AS json)) AS posted(criterion_id varchar, value varchar, comment text, "
    "earned double precision, possible double precision, critical_failed boolean)")
"""A new contact's answer rows as one JSON document, for PostgreSQL: json.dumps (in C) writes it several times
faster than psycopg writes the same rows as seven arrays, and a float survives the trip exactly (written as
its shortest repr, read back by the server's correctly rounded parser)."""
_ANSWERS_FROM_JSON = sa.text(
    "INSERT INTO answer (contact_id, criterion_id, value, comment, earned, possible, critical_failed) "
    "SELECT :contact_id, posted.* FROM " + ANSWERS_FROM_JSON).bindparams(sa.bindparam("answers", type_=sa.JSON))


def insert_new_answers(contact_id: int, result: scoring.ContactScore, answers: Mapping[str, scoring.AnswerValue],
                       comments: Mapping[str, str], finished: bool) -> None:
    """Store the rows of a contact that has none yet, each with the points the engine gave it."""
    insert_answer_rows(contact_id, new_answer_rows(result, answers, comments, finished))


def insert_answer_rows(contact_id: int, rows: list[dict[str, Any]]) -> None:
    """Insert new_answer_rows() for a contact in one statement: on PostgreSQL, of one JSON document;
    elsewhere, one executemany."""
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(_ANSWERS_FROM_JSON, {"contact_id": contact_id, "answers": rows})
    else:
        connection.execute(_NEW_ANSWERS, [{"contact_id": contact_id, **row} for row in rows])


_NEW_ANSWERS = sa.insert(Answer.__table__)


def new_answer_rows(result: scoring.ContactScore, answers: Mapping[str, scoring.AnswerValue],
                    comments: Mapping[str, str], finished: bool) -> list[dict[str, Any]]:
    """The answer rows of a contact that has none yet (without their contact_id): each kept criterion's
    answer and comment with the points the engine gave it."""
    return [{"criterion_id": item.criterion_id,
             "value": None if answers.get(item.criterion_id) is None else stored_value(answers[item.criterion_id]),
             "comment": comments.get(item.criterion_id) or None, "earned": float(item.earned),
             "possible": float(item.possible), "critical_failed": item.critical_failed}
            for item in result.criteria if _kept(item, answers, comments, finished)]


def record_answers(contact: Contact, answers: Mapping[str, scoring.AnswerValue],
                   comments: Mapping[str, str] | None = None) -> scoring.ContactScore:
    """Replace a contact's answers, each stored with the points the engine gives it."""
    rubric = rubric_by_hash(contact.rubric_hash)
    result = scoring.score_contact(rubric, answers)
    comments = comments or {}
    finished = contact.status not in IN_PROGRESS
    if sa.inspect(contact).pending:  # a contact being made: one multi-row INSERT, no Answer objects to track
        db.session.flush()  # the contact's id
        insert_new_answers(contact.id, result, answers, comments, finished)
        db.session.expire(contact, ["answers"])
        return result
    existing = {a.criterion_id: a for a in contact.answers}
    for item in result.criteria:
        value = answers.get(item.criterion_id)
        row = existing.pop(item.criterion_id, None)
        if not _kept(item, answers, comments, finished):
            if row is not None:
                contact.answers.remove(row)
            continue
        if row is None:
            row = Answer(criterion_id=item.criterion_id)
            contact.answers.append(row)
        row.value = None if value is None else stored_value(value)
        row.comment = comments.get(item.criterion_id) or None
        row.earned, row.possible, row.critical_failed = float(item.earned), float(item.possible), item.critical_failed
    for stale in existing.values():  # criteria no longer in the rubric
        contact.answers.remove(stale)
    db.session.flush()
    return result


IN_PROGRESS = ("draft", "returned")
"""Contacts an auditor is still filling in: their gaps are not stored as rows."""


def _kept(item: scoring.CriterionScore, answers: Mapping[str, scoring.AnswerValue],
          comments: Mapping[str, str], finished: bool) -> bool:
    """Whether a criterion gets a stored row: answered, commented, or (on a finished contact)
    visible and unanswered, stored with its possible points so that the totals the ranking sums
    give the engine's figure for the contact, never a smaller denominator."""
    return (answers.get(item.criterion_id) is not None or item.criterion_id in comments
            or (finished and item.status == "unanswered"))


def stored_value(value: scoring.AnswerValue) -> str:
    """An answer as stored: a number keeps every digit that was entered (3.9999999 stays 3.9999999)."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


MILLI = 1000
"""Stored points are summed in thousandths of a point (rubric points have at most three decimals)."""


def milli_points(column: sa.ColumnElement[float]) -> sa.ColumnElement[int]:
    """A stored points column summed exactly, in integer thousandths of a point.

    Rubric points have at most three decimals, so every stored value is within half a unit in
    the last place of a whole number of thousandths; a contact's sum of them (tens of values
    below 1000) is off by far less than 1e-9 points, so rounding the sum once to thousandths
    gives the exact total, on SQLite and PostgreSQL alike, at the cost of one ROUND per contact.
    """
    return sa.cast(sa.func.round(sa.func.sum(column) * MILLI), sa.Integer)


def contact_score(contact: Contact) -> tuple[Rubric, scoring.ContactScore]:
    """A contact rescored criterion by criterion from its stored answers, under its own rubric."""
    rubric = rubric_by_hash(contact.rubric_hash)
    values = {a.criterion_id: a.value for a in contact.answers if a.value is not None}
    return rubric, scoring.score_contact(rubric, values)


def contact_answers(contact_id: int) -> dict[str, str]:
    rows = db.session.execute(sa.select(Answer.criterion_id, Answer.value).where(Answer.contact_id == contact_id))
    return {criterion: value for criterion, value in rows if value is not None}


# --- a campaign's standings -------------------------------------------------------------


def campaign_rules(campaign: Campaign) -> scoring.CampaignRules:
    return scoring.CampaignRules(
        weights={ch.channel: ch.weight for ch in campaign.channels},
        min_contacts={ch.channel: ch.min_contacts for ch in campaign.channels},
        threshold=campaign.threshold,
        missing_channel="zero" if campaign.missing_channel == "zero" else "exclude",
    )


def counting_contacts(campaign_id: int) -> sa.ColumnElement[bool]:
    """The contacts of a campaign that count in its ranking: accepted, and not a calibration scoring (several
    auditors' scorings of one interaction measure agreement and never count)."""
    return sa.and_(Contact.campaign_id == campaign_id, Contact.status == "accepted",
                   Contact.calibration_group_id.is_(None))


def accepted_contact_totals(campaign_id: int) -> list[scoring.ContactTotal]:
    """Every accepted contact of a campaign as (id, institution, channel, earned, possible) rows,
    totalled by one SQL aggregate over its answers, in integer thousandths of a point (exact).
    Calibration contacts (several auditors' scorings of one interaction) measure agreement and
    never count in the ranking."""
    # Core execution on the session's connection: the rows need no ORM loading step.
    rows = db.session.connection().execute(
        sa.select(Contact.id, Contact.institution_id, Contact.channel, milli_points(Answer.earned),
                  milli_points(Answer.possible))
        .join(Answer, Answer.contact_id == Contact.id)
        .where(counting_contacts(campaign_id))
        .group_by(Contact.id)  # institution and channel depend on the key (valid on PostgreSQL too)
    )
    return rows.all()  # type: ignore[return-value]  # rows have ContactTotal's shape


def counted_contact_ids(campaign_id: int) -> Iterator[int]:
    """The ids of the contacts that count now, in ascending order, streamed: those accepted_contact_totals gives
    with points possible (what a revision records as its channels' contact_ids)."""
    rows = db.session.connection().execute(
        sa.select(Contact.id).join(Answer, Answer.contact_id == Contact.id)
        .where(counting_contacts(campaign_id))
        .group_by(Contact.id).having(milli_points(Answer.possible) > 0).order_by(Contact.id)
        .execution_options(yield_per=5000))
    return (contact_id for contact_id, in rows)


def critical_failures(campaign_id: int) -> dict[int, list[str]]:
    """Contact id -> the critical criteria it failed, for a campaign's accepted contacts."""
    failures: dict[int, list[str]] = {}
    for contact_id, criterion_id in db.session.execute(
        sa.select(Answer.contact_id, Answer.criterion_id)
        .join(Contact, Answer.contact_id == Contact.id)
        # "= true" (not "IS true") so that the partial index on failed critical answers is used
        .where(Answer.critical_failed == sa.true(), counting_contacts(campaign_id))
    ):
        failures.setdefault(contact_id, []).append(criterion_id)
    return failures


def campaign_institutions(campaign_id: int) -> list[scoring.InstitutionInfo]:
    """Institutions taking part in a campaign (planned or contacted), as the engine needs them."""
    planned = sa.select(Assignment.institution_id).where(Assignment.campaign_id == campaign_id)
    contacted = sa.select(Contact.institution_id).where(Contact.campaign_id == campaign_id)
    rows = db.session.connection().execute(
        sa.select(Institution.id, Institution.category, Institution.channels)
        .where(Institution.id.in_(sa.union(planned, contacted).scalar_subquery())))
    return [scoring.InstitutionInfo(i, category, frozenset(channels or ())) for i, category, channels in rows]


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector around a batch that allocates many acyclic tuples.

    A national recompute makes ~100,000 rows and records; the collector's passes over them
    cost a quarter of the batch and find nothing, since none of them form cycles.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass(frozen=True)
class ScoredEdition:
    """The engine's standings of an edition and the contact totals they were scored from."""

    rules: scoring.CampaignRules
    standings: list[scoring.Standing]
    totals: list[scoring.ContactTotal]


def score_edition(campaign_id: int) -> ScoredEdition:
    """Recompute a whole campaign: one aggregate query, then the engine. The totals come along,
    so that callers needing contact scores or a bootstrap do not run the aggregate again."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise LookupError(f"no campaign {campaign_id}")
    rules = campaign_rules(campaign)
    with cyclic_gc_paused():
        totals = accepted_contact_totals(campaign_id)
        standings = scoring.score_campaign(rules, campaign_institutions(campaign_id), totals,
                                           critical_failures(campaign_id))
    return ScoredEdition(rules, standings, totals)


def compute_standings(campaign_id: int) -> list[scoring.Standing]:
    """The engine's standings of a whole campaign."""
    return score_edition(campaign_id).standings


# --- one institution's explanation ------------------------------------------------------


@dataclass(frozen=True)
class ExplainedContact:
    contact: Contact
    rubric: Rubric
    score: scoring.ContactScore
    comments: Mapping[str, str]


@dataclass(frozen=True)
class InstitutionReport:
    institution: Institution
    standing: scoring.Standing
    peers: int
    """Institutions ranked in the same category."""
    contacts: tuple[ExplainedContact, ...]


def explain_institution(campaign_id: int, institution_id: int) -> InstitutionReport | None:
    """Standing of one institution, with every accepted contact rescored criterion by criterion."""
    standings = compute_standings(campaign_id)
    standing = next((s for s in standings if s.institution_id == institution_id), None)
    institution = db.session.get(Institution, institution_id)
    if standing is None or institution is None:
        return None
    contacts = db.session.scalars(
        sa.select(Contact).where(counting_contacts(campaign_id), Contact.institution_id == institution_id)
        .order_by(Contact.channel, Contact.contacted_at)
    ).all()
    explained = []
    for contact in contacts:
        rubric, score = contact_score(contact)
        comments = {a.criterion_id: a.comment for a in contact.answers if a.comment}
        explained.append(ExplainedContact(contact, rubric, score, comments))
    peers = sum(1 for s in standings if s.category == standing.category and s.rank is not None)
    return InstitutionReport(institution, standing, peers, tuple(explained))
