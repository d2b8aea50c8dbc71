"""Recording contacts: an auditor's saves and submissions, made safe for bad connections.

Every save names the contact's client id (made on the phone) and the version of the record it
was based on. A retried save or a double tap is recognised and changes nothing; a save based on
an older version never overwrites the newer record: it is kept beside it as a ContactCopy.
Functions only flush(); the view commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import sqlalchemy as sa
import sqlalchemy.orm as so

from . import facts as facts_
from . import journal, lifecycle, scoring
from .errors import N_, RuleError
from .extensions import db
from .models import Assignment, Campaign, CampaignChannel, Contact, ContactCopy, utcnow
from .rubrics import Rubric
from .services import ANSWERS_FROM_JSON, insert_answer_rows, new_answer_rows, record_answers, rubric_by_hash


@dataclass(frozen=True)
class ContactInput:
    """One save from the form, already parsed by its WTForms form."""

    client_id: str
    base_version: int | None
    answers: Mapping[str, str]
    """Criterion id -> the answer as the form sends it ("yes", an option id, "n/a", "12")."""
    comments: Mapping[str, str]
    facts: Mapping[str, Any]

    def payload(self) -> dict[str, Any]:
        return {"answers": dict(self.answers), "comments": dict(self.comments), "facts": dict(self.facts)}


MissingReason = Literal["unanswered", "fact_missing", "reply_before_sent"]


@dataclass(frozen=True)
class Missing:
    """Something a submission lacks: a criterion's answer, or a recorded fact (which may feed one)."""

    reason: MissingReason
    criterion_id: str | None = None
    fact: str | None = None


Outcome = Literal["saved", "submitted", "incomplete", "unchanged", "copy_kept", "locked"]


@dataclass
class SaveResult:
    outcome: Outcome
    contact_id: int
    missing: list[Missing] = field(default_factory=list)
    copy: ContactCopy | None = None
    loaded: Contact | None = field(default=None, repr=False)

    @classmethod
    def of(cls, outcome: Outcome, contact: Contact, **more: Any) -> SaveResult:
        return cls(outcome, contact.id, loaded=contact, **more)

    @property
    def contact(self) -> Contact:
        """The saved contact, read when first asked for (a new contact is written without a row object)."""
        if self.loaded is None:
            self.loaded = db.session.get_one(Contact, self.contact_id)
        return self.loaded


class FieldworkError(RuleError):
    """A save that cannot be taken at all (the id belongs elsewhere, the channel is gone)."""


class FieldworkClosed(FieldworkError, lifecycle.StageRefused):
    """A save the edition's stage no longer takes; the message says why. The phone stops sending."""

    outcome = "closed"


def stage_refusal(campaign_status: str, contact_status: str | None) -> str | None:
    """Why the edition's stage refuses an auditor's save of a contact (None: a new one), or None if it takes it.

    The rule is the life cycle's (audit/lifecycle.py): fieldwork takes every save; once fieldwork
    is closed only a returned contact may be corrected and sent again (a late save of a sent one is
    kept as a copy, as during fieldwork); a published edition takes nothing.
    """
    return lifecycle.why_not(campaign_status, lifecycle.contact_action(contact_status))


class WindowNotOpen(FieldworkClosed):
    """A contact begun before its assignment's fieldwork window opens: the visit would not count as planned."""


def window_refusal(assignment: Assignment, contact: Contact | None, today: date) -> WindowNotOpen | None:
    """Why the assignment cannot be filled in yet (its window opens later), or None.

    Only the start is a rule: a contact of a window that has closed may still be sent (the
    organiser sees it as late on the progress board), and a contact already sent or returned
    keeps the rules of its stage.
    """
    if assignment.due_start is None or today >= assignment.due_start:
        return None
    if contact is not None and contact.status != "draft":
        return None
    return WindowNotOpen(N_("This assignment's fieldwork window opens on %(day)s: it cannot be filled in before then."),
                         day=assignment.due_start)


def check_open(assignment: Assignment, contact: Contact | None, today: date) -> None:
    """Raise the refusal that says why an auditor cannot save the contact now: the edition's stage, or the window."""
    refusal = stage_refusal(assignment.campaign.status, contact.status if contact else None)
    if refusal is not None:
        raise FieldworkClosed(refusal)
    if (early := window_refusal(assignment, contact, today)) is not None:
        raise early


def open_for_evidence(assignment: Assignment, contact: Contact | None, today: date) -> Contact:
    """The contact files may be attached to (or removed from) now; otherwise the refusal that says why."""
    check_open(assignment, contact, today)
    if contact is None or not contact.editable:
        raise FieldworkError(N_("Save the contact as a draft before attaching files."))
    return contact


def rubric_for(assignment: Assignment) -> Rubric:
    """The rubric pinned for the assignment's channel in its campaign."""
    channel = db.session.get(CampaignChannel, (assignment.campaign_id, assignment.channel))
    if channel is None:
        raise FieldworkError(N_("This edition no longer audits this channel (%(channel)s); ask the organiser."),
                             channel=assignment.channel)
    return rubric_by_hash(channel.rubric_hash)


def rubric_of(assignment: Assignment, contact: Contact | None) -> Rubric:
    """The rubric a contact was recorded with, or for a new one, the campaign's current one."""
    return rubric_by_hash(contact.rubric_hash) if contact is not None else rubric_for(assignment)


@dataclass(frozen=True)
class Stored:
    """What a save finds stored: the assignment's contact, and whether the phone's client id already
    names another assignment's contact (a form copied between assignments)."""

    contact: Contact | None
    client_id_taken: bool


def assignment_and_stored(assignment_id: int, client_id: str | None) -> tuple[Assignment, Stored] | None:
    """An assignment with its edition and its channel's settings, and what a save of `client_id` finds stored (as
    stored_for), in one query: every request of the field app about an assignment needs them (the later
    `rubric_for` finds the channel in the session, not the database)."""
    found = db.session.execute(_ASSIGNMENT_AND_STORED, {"assignment_id": assignment_id,
                                                        "client_id": client_id or None}).first()
    if found is None:
        return None
    assignment, own, client_id_taken = found
    return assignment, Stored(own, own is None and client_id_taken)


_OTHER_CONTACT = so.aliased(Contact)
# Built once, like the other statements the auditor's every save runs (sessions._USER_AND_SESSION says why).
_ASSIGNMENT_AND_STORED = (
    sa.select(Assignment, Contact, sa.exists().where(_OTHER_CONTACT.client_id == sa.bindparam("client_id")))
    .outerjoin(Contact, Contact.assignment_id == Assignment.id)  # at most one: a contact's assignment is unique
    .where(Assignment.id == sa.bindparam("assignment_id"))
    .options(so.joinedload(Assignment.campaign), so.joinedload(Assignment.channel_rules)))


def stored_for(assignment: Assignment, client_id: str | None) -> Stored:
    """The assignment's contact and the owner of the posted client id, in one query."""
    found = db.session.scalars(_STORED_FOR, {"assignment_id": assignment.id, "client_id": client_id or None}).all()
    own = next((c for c in found if c.assignment_id == assignment.id), None)
    return Stored(own, own is None and bool(found))


_STORED_FOR = sa.select(Contact).where(sa.or_(Contact.assignment_id == sa.bindparam("assignment_id"),
                                              Contact.client_id == sa.bindparam("client_id")))


def current_state(contact: Contact, rubric: Rubric) -> dict[str, Any]:
    """A contact's answers, comments and recorded facts in the shape of ContactInput.payload()."""
    measured = {c.id for c in rubric.criteria if c.fact is not None}  # these come from the facts
    answers: dict[str, str] = {}
    comments: dict[str, str] = {}
    for a in contact.answers:
        if a.value is not None and a.criterion_id not in measured:
            answers[a.criterion_id] = a.value
        if a.comment:
            comments[a.criterion_id] = a.comment
    return {"answers": answers, "comments": comments, "facts": dict(contact.facts or {})}


def engine_answers(rubric: Rubric, channel: str, data: ContactInput) -> dict[str, scoring.AnswerValue]:
    """The form's answers as the engine reads them, measured criteria filled from the facts."""
    measured = facts_.measures(channel, data.facts)
    answers: dict[str, scoring.AnswerValue] = {}
    for c in rubric.criteria:
        raw: object = data.answers.get(c.id)
        if c.fact is not None:
            raw = measured.get(c.fact)
        value = scoring.parse_answer(c, raw)
        if value is not None:
            answers[c.id] = value
    return answers


def missing_items(rubric: Rubric, channel: str, data: ContactInput,
                  answers: Mapping[str, scoring.AnswerValue]) -> list[Missing]:
    """What stops a submission, in form order: required facts, then each visible criterion."""
    missing = [Missing("fact_missing", fact=f.name) for f in facts_.CHANNEL_FACTS.get(channel, ())
               if f.required and data.facts.get(f.name) in (None, "")]
    missing += [Missing("reply_before_sent", fact=name) for name in facts_.fact_problems(channel, data.facts)]
    visible = scoring.visible_criteria(rubric, answers)
    for c in rubric.criteria:
        if c.id not in visible or c.id in answers:
            continue
        if c.fact is not None:
            empty = [s for s in facts_.sources_of(c.fact) if data.facts.get(s) in (None, "")]
            missing.append(Missing("fact_missing", c.id, empty[0] if empty else facts_.sources_of(c.fact)[0]))
        else:
            missing.append(Missing("unanswered", c.id))
    return missing


def save_contact(assignment: Assignment, data: ContactInput, *, submit: bool, today: date,
                 rubric: Rubric | None = None, stored: Stored | None = None) -> SaveResult:
    """Apply one save (a draft, or a submission) of an assignment's contact.

    `today`: the date in the display time zone (the assignment's window is in local days).
    `rubric`: the one the caller already looked up for a new contact (rubric_for(assignment)), if any.
    `stored`: what the caller found stored in this transaction (stored_for(assignment, data.client_id)), if it
    looked. A contact committed by a double tap after that look makes this save's INSERT fail on the unique
    assignment and client id; the caller then rolls back and saves again without `stored`, finding it.
    """
    stored = stored or stored_for(assignment, data.client_id)
    if stored.client_id_taken:
        raise FieldworkError(N_("This form belongs to another contact: reload the page."))
    contact = stored.contact
    check_open(assignment, contact, today)  # what is stored stays as it is; the phone keeps what was typed
    if contact is None:
        return _first_save(assignment, rubric or rubric_for(assignment), data, submit=submit)
    rubric = rubric_by_hash(contact.rubric_hash)
    same = data.payload() == current_state(contact, rubric)
    if same and (not submit or not contact.editable):
        return SaveResult.of("unchanged", contact)  # a retry, a double tap or a save of nothing new
    other_device = contact.client_id is not None and data.client_id != contact.client_id
    stale = other_device or data.base_version != contact.version
    if not contact.editable or (stale and not same):
        copy = ContactCopy(contact=contact, client_id=data.client_id, base_version=data.base_version,
                           payload=data.payload())
        db.session.add(copy)
        db.session.flush()
        return SaveResult.of("locked" if not contact.editable else "copy_kept", contact, copy=copy)

    if contact.client_id is None:  # made outside the app (demo, import): the first phone adopts it
        contact.client_id = data.client_id
    answers = engine_answers(rubric, contact.channel, data)
    missing = missing_items(rubric, contact.channel, data, answers) if submit else []
    contact.facts = dict(data.facts)
    contact.contacted_at = facts_.contacted_at(contact.channel, data.facts)
    contact.updated_at = utcnow()  # a new version even when only a comment changed
    if submit and not missing:  # set before record_answers() flushes: one INSERT or UPDATE of the contact
        contact.status, contact.submitted_at = "submitted", utcnow()
    record_answers(contact, answers, data.comments)
    if not submit:
        return SaveResult.of("saved", contact)
    if missing:
        return SaveResult.of("incomplete", contact, missing=missing)
    journal.append("contact_submitted", actor_id=contact.auditor_id, object_type="contact", object_id=contact.id,
                   campaign_id=contact.campaign_id)
    return SaveResult.of("submitted", contact)


def _first_save(assignment: Assignment, rubric: Rubric, data: ContactInput, *, submit: bool) -> SaveResult:
    """The save that makes the assignment's contact: its row, its answers and (if sent) its log entry, with no
    row objects for the session to track (the busiest write of fieldwork: a third of its time went to the
    ORM's bookkeeping). On PostgreSQL the three go in as one statement, elsewhere as three. The rules are
    those of save_contact."""
    answers = engine_answers(rubric, assignment.channel, data)
    missing = missing_items(rubric, assignment.channel, data, answers) if submit else []
    sent = submit and not missing
    now = utcnow()
    contact = {
        "campaign_id": assignment.campaign_id, "institution_id": assignment.institution_id,
        "channel": assignment.channel, "auditor_id": assignment.auditor_id, "assignment_id": assignment.id,
        "client_id": data.client_id, "scenario": assignment.scenario, "rubric_hash": rubric.hash,
        "calibration_group_id": assignment.calibration_group_id, "facts": dict(data.facts),
        "contacted_at": facts_.contacted_at(assignment.channel, data.facts), "status": "submitted" if sent else "draft",
        "submitted_at": now if sent else None, "created_at": now, "updated_at": now, "version": 1}
    rows = new_answer_rows(scoring.score_contact(rubric, answers), answers, data.comments, finished=sent)
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        contact_id = connection.execute(_FIRST_SAVE, {**contact, "answers": rows, "sent": sent, "now": now}).scalar_one()
    else:
        contact_id = connection.execute(_NEW_CONTACT, contact).scalar_one()
        insert_answer_rows(contact_id, rows)
        if sent:
            journal.append("contact_submitted", actor_id=assignment.auditor_id, object_type="contact",
                           object_id=contact_id, campaign_id=assignment.campaign_id)
    if not sent:
        return SaveResult("incomplete" if submit else "saved", contact_id, missing=missing)
    return SaveResult("submitted", contact_id)


_NEW_CONTACT = sa.insert(Contact.__table__).returning(Contact.__table__.c.id)
_CONTACT_COLUMNS = ("campaign_id", "institution_id", "channel", "auditor_id", "assignment_id", "client_id", "scenario",
                    "rubric_hash", "calibration_group_id", "facts", "contacted_at", "status", "submitted_at",
                    "created_at", "updated_at", "version")
_FIRST_SAVE = sa.text(
    f"WITH new_contact AS (INSERT INTO contact ({', '.join(_CONTACT_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in _CONTACT_COLUMNS)}) RETURNING id), "
    "new_answers AS (INSERT INTO answer (contact_id, criterion_id, value, comment, earned, possible, critical_failed) "
    f"SELECT new_contact.id, posted.* FROM new_contact, {ANSWERS_FROM_JSON}), "
    # the entry journal.append("contact_submitted", ...) writes, if the contact was sent
    "logged AS (INSERT INTO audit_event (at, actor_id, action, campaign_id, object_type, object_id, details) "
    "SELECT CAST(:now AS timestamp), :auditor_id, 'contact_submitted', :campaign_id, 'contact', new_contact.id, "
    "CAST('{}' AS json) FROM new_contact WHERE :sent) "
    "SELECT id FROM new_contact"
).bindparams(sa.bindparam("facts", type_=sa.JSON), sa.bindparam("answers", type_=sa.JSON))
"""A first save on PostgreSQL, one statement of data-modifying CTEs: one round trip instead of three, and
one atomic statement (a double tap's twin fails on the unique assignment as a whole)."""


def dismiss_copy(contact: Contact, copy_id: int) -> ContactCopy | None:
    copy = next((c for c in contact.copies if c.id == copy_id and c.dismissed_at is None), None)
    if copy is not None:
        copy.dismissed_at = utcnow()
        db.session.flush()
    return copy


def open_copies(contact: Contact) -> list[ContactCopy]:
    return [c for c in contact.copies if c.dismissed_at is None]


# --- the auditor's list -------------------------------------------------------------------------

WORK_STATES = ("todo", "returned", "draft", "submitted", "accepted", "missed")
"""What an assignment is to its auditor: "todo" (nothing saved yet), a contact's status, or "missed"
(the edition's fieldwork closed before anything was sent: there is nothing more to do)."""
DUE_SOON_DAYS = 7


@dataclass(frozen=True)
class WorkItem:
    assignment: Assignment
    contact: Contact | None
    state: str
    window: Literal["not_open", "open", "closed"]
    """Where today is against the assignment's window (an assignment without one is always open)."""
    days_left: int | None
    """Days until the window closes, for work still to do in an open window; None otherwise."""

    @property
    def due_soon(self) -> bool:
        return self.days_left is not None and self.days_left <= DUE_SOON_DAYS


@dataclass(frozen=True)
class EditionWork:
    campaign: Campaign
    current: bool
    """Its contacts can still be sent (fieldwork, or a review that takes corrected returned contacts)."""
    items: list[WorkItem]
    counts: dict[str, int]
    """Items per state, before the filter."""


def _work_item(assignment: Assignment, contact: Contact | None, today: date) -> WorkItem:
    state = contact.status if contact else "todo"
    campaign = assignment.campaign
    if state in ("todo", "draft") and not lifecycle.allows(campaign, lifecycle.Action.RECORD_CONTACT):
        state = "missed"
    if assignment.due_start is not None and today < assignment.due_start:
        window: Literal["not_open", "open", "closed"] = "not_open"
    elif assignment.due_end is not None and today > assignment.due_end:
        window = "closed"
    else:
        window = "open"
    to_do = state in ("todo", "draft", "returned")
    days_left = (assignment.due_end - today).days if to_do and window == "open" and assignment.due_end else None
    return WorkItem(assignment, contact, state, window, days_left)


def worklist(auditor_id: int, today: date, state: str | None = None) -> list[EditionWork]:
    """The auditor's assignments by edition: the current ones first (newest first), then the closed ones.

    Within an edition, work to do comes first (returned, not started, drafts), the nearest end of
    window first; `state` keeps only the assignments in that state (the counts stay whole).
    """
    rows = db.session.execute(
        sa.select(Assignment, Contact).join(Campaign, Campaign.id == Assignment.campaign_id)
        .outerjoin(Contact, Contact.assignment_id == Assignment.id)
        .where(Assignment.auditor_id == auditor_id,
               Campaign.status.in_(lifecycle.stages_allowing(lifecycle.Action.SEE_ASSIGNMENTS)))
        .options(sa.orm.joinedload(Assignment.institution), sa.orm.joinedload(Assignment.campaign))
    ).all()
    by_edition: dict[int, list[WorkItem]] = {}
    for assignment, contact in rows:
        by_edition.setdefault(assignment.campaign_id, []).append(_work_item(assignment, contact, today))
    order = {s: i for i, s in enumerate(WORK_STATES)}
    out = []
    for items in by_edition.values():
        campaign = items[0].assignment.campaign
        items.sort(key=lambda w: (order[w.state], w.assignment.due_end or date.max, w.assignment.id))
        counts: dict[str, int] = {}
        for w in items:
            counts[w.state] = counts.get(w.state, 0) + 1
        shown = [w for w in items if state is None or w.state == state]
        out.append(EditionWork(campaign, lifecycle.allows(campaign, lifecycle.Action.RESUBMIT), shown, counts))
    out.sort(key=lambda e: (not e.current, -e.campaign.year, -e.campaign.id))
    return out


def due_soon(editions: list[EditionWork]) -> list[WorkItem]:
    """Work still to do whose window closes within DUE_SOON_DAYS, the nearest first."""
    soon = [w for e in editions if e.current for w in e.items if w.due_soon]
    return sorted(soon, key=lambda w: (w.days_left or 0, w.assignment.id))
