"""Reviewing submitted contacts: accept, return to the auditor with a comment, correct an answer.

Every action names the version of the contact the reviewer saw. If the contact changed
since (another reviewer acted, the auditor resubmitted), the action is refused with a
ReviewConflict instead of silently overwriting the other person's work. Functions only
flush(); the view commits, and a StaleDataError at commit means the same race, lost later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from . import journal, lifecycle, mail, scoring
from .errors import N_, RuleError
from .extensions import db
from .lifecycle import Action
from .models import AnswerCorrection, Campaign, Contact, Institution, User, utcnow
from .paging import Page, institution_matches, paginate
from .rubrics import Criterion, Rubric
from .services import record_answers, rubric_by_hash, stored_value

REVIEWABLE = ("submitted",)
CORRECTABLE = ("submitted", "accepted")


class ReviewError(RuleError):
    """An action the rules refuse (a missing comment, an unknown answer); the message says why."""


class ReviewConflict(ReviewError):
    """The contact changed since the reviewer opened it."""


CHANGED_MEANWHILE = N_("This contact changed while you were reading it (another reviewer, or the auditor). "
                       "It has been reloaded: check it and act again.")


def _check(contact: Contact, seen_version: int, allowed: tuple[str, ...], action: Action) -> None:
    campaign = db.session.get(Campaign, contact.campaign_id)
    lifecycle.require(campaign.status if campaign else "draft", action)
    if contact.version != seen_version:
        raise ReviewConflict(CHANGED_MEANWHILE)
    if contact.status not in allowed:
        raise ReviewConflict(N_("This contact is no longer waiting for review."))


@dataclass(frozen=True)
class QueueFilter:
    """Which waiting contacts to list: one channel, one auditor, an institution's name or town."""

    channel: str | None = None
    auditor_id: int | None = None
    search: str = ""


@dataclass(frozen=True)
class QueuePage:
    contacts: Page[Contact]
    oldest: datetime | None
    """When the longest waiting contact of the filtered set was submitted."""


def _queue(campaign_id: int, where: QueueFilter) -> sa.Select[tuple[Contact]]:
    query = sa.select(Contact).where(Contact.campaign_id == campaign_id, Contact.status == "submitted")
    if where.channel:
        query = query.where(Contact.channel == where.channel)
    if where.auditor_id:
        query = query.where(Contact.auditor_id == where.auditor_id)
    if where.search.strip():
        query = query.where(Contact.institution_id.in_(
            sa.select(Institution.id).where(institution_matches(where.search))))
    return query


def review_queue(campaign_id: int, where: QueueFilter = QueueFilter(), limit: int | None = None) -> list[Contact]:
    """Submitted contacts of an edition, the longest waiting first (with their institution and auditor)."""
    return list(db.session.scalars(
        _queue(campaign_id, where).options(so.joinedload(Contact.institution), so.joinedload(Contact.auditor))
        .order_by(Contact.submitted_at, Contact.id).limit(limit)))


def review_queue_page(campaign_id: int, where: QueueFilter, number: int | None) -> QueuePage:
    """One page of the queue; the count and the oldest submission over the whole filtered set, in SQL."""
    query = _queue(campaign_id, where)
    waiting = query.subquery()
    oldest = db.session.scalar(sa.select(sa.func.min(waiting.c.submitted_at)))
    page = paginate(query.options(so.joinedload(Contact.institution), so.joinedload(Contact.auditor))
                    .order_by(Contact.submitted_at, Contact.id), number)
    return QueuePage(page, oldest)


def accept(contact: Contact, reviewer: User, seen_version: int) -> None:
    _check(contact, seen_version, REVIEWABLE, Action.REVIEW)
    contact.status, contact.reviewed_at, contact.review_comment = "accepted", utcnow(), None
    journal.record("contact_accepted", actor=reviewer, object_type="contact", object_id=contact.id,
                   campaign_id=contact.campaign_id)
    db.session.flush()


def return_to_auditor(contact: Contact, reviewer: User, seen_version: int, comment: str) -> None:
    """Send a contact back for correction; the auditor sees the comment on top of the form."""
    comment = comment.strip()
    if not comment:
        raise ReviewError(N_("Say what the auditor should correct."))
    _check(contact, seen_version, REVIEWABLE, Action.RETURN)
    contact.status, contact.reviewed_at, contact.review_comment = "returned", utcnow(), comment
    event = journal.record("contact_returned", actor=reviewer, object_type="contact", object_id=contact.id,
                           campaign_id=contact.campaign_id, reason=comment)
    db.session.flush()
    mail.contact_returned(contact, comment, event.id)  # in this transaction: no mail about a return rolled back


class CorrectionIncomplete(ReviewError):
    """A correction that makes criteria apply that have no answer yet: they are answered with it,
    or the contact goes back to its auditor. Saving it as it is would score a contact on fewer
    criteria than its rubric asks (the hole that once turned a 4% phone call into 1000 points)."""

    status = 422

    def __init__(self, criteria: tuple[str, ...]):
        self.criteria = criteria
        super().__init__(N_("This correction makes criteria apply that have no answer yet (%(criteria)s): "
                            "answer them with the correction, or return the contact to its auditor."),
                         criteria=", ".join(criteria))


def _parse(rubric: Rubric, criterion_id: str, raw_value: str) -> scoring.AnswerValue | None:
    try:
        criterion = rubric.criterion(criterion_id)
    except KeyError:
        raise ReviewError(N_("The rubric has no criterion '%(criterion)s'."), criterion=criterion_id) from None
    try:
        return scoring.parse_answer(criterion, raw_value)
    except scoring.AnswerError as error:
        raise ReviewError(N_("This answer does not fit the criterion: %(problem)s"), problem=str(error)) from None


def correct_answer(contact: Contact, reviewer: User, seen_version: int, criterion_id: str, raw_value: str,
                   reason: str, revealed: Mapping[str, str] | None = None) -> AnswerCorrection:
    """Change one answer with a written reason; the original stays in the correction record.

    Measured criteria are corrected like the others: the recorded facts stay as the auditor
    wrote them, and the correction says why the answer differs. A correction that makes
    criteria apply (a phone call that was answered after all) needs their answers too, in
    `revealed`; without them it raises CorrectionIncomplete and changes nothing.
    """
    reason = reason.strip()
    if not reason:
        raise ReviewError(N_("A correction needs a written reason."))
    _check(contact, seen_version, CORRECTABLE, Action.CORRECT)
    rubric = rubric_by_hash(contact.rubric_hash)
    value = _parse(rubric, criterion_id, raw_value)
    if value is None:
        raise ReviewError(N_("Choose the corrected answer."))
    answers = _stored_answers(contact)
    original = answers.get(criterion_id)
    if original is not None and str(original) == stored_value(value):
        raise ReviewError(N_("The corrected answer is the same as the original."))
    answers[criterion_id] = value
    added: dict[str, scoring.AnswerValue] = {}
    for revealed_id, raw in (revealed or {}).items():
        parsed = _parse(rubric, revealed_id, raw)
        if parsed is not None and revealed_id not in answers:
            added[revealed_id] = parsed
    answers |= added
    missing = _unanswered(rubric, answers)
    if missing:
        raise CorrectionIncomplete(tuple(c.id for c in missing))
    comments = {a.criterion_id: a.comment for a in contact.answers if a.comment}
    record_answers(contact, answers, comments)
    correction = AnswerCorrection(contact_id=contact.id, criterion_id=criterion_id,
                                  original_value=None if original is None else str(original),
                                  corrected_value=stored_value(value), reason=reason, corrected_by_id=reviewer.id)
    db.session.add(correction)
    for revealed_id, revealed_value in added.items():  # answers the correction made necessary, on the record too
        db.session.add(AnswerCorrection(contact_id=contact.id, criterion_id=revealed_id, original_value=None,
                                        corrected_value=stored_value(revealed_value), reason=reason,
                                        corrected_by_id=reviewer.id))
    contact.updated_at = utcnow()  # a new version: a reviewer who saw the old answers must reload
    db.session.flush()
    journal.record("answer_corrected", actor=reviewer, object_type="contact", object_id=contact.id,
                   campaign_id=contact.campaign_id, reason=reason, criterion=criterion_id,
                   before=correction.original_value, after=correction.corrected_value,
                   **({"revealed": {k: stored_value(v) for k, v in added.items()}} if added else {}))
    db.session.flush()
    return correction


def revealed_by(contact: Contact, criterion_id: str, raw_value: str) -> tuple[Criterion, ...]:
    """The criteria a correction would make apply that have no answer yet (for the follow-up form)."""
    rubric = rubric_by_hash(contact.rubric_hash)
    answers = _stored_answers(contact)
    value = _parse(rubric, criterion_id, raw_value)
    if value is not None:
        answers[criterion_id] = value
    return _unanswered(rubric, answers)


def _stored_answers(contact: Contact) -> dict[str, scoring.AnswerValue]:
    return {a.criterion_id: a.value for a in contact.answers if a.value is not None}


def _unanswered(rubric: Rubric, answers: Mapping[str, scoring.AnswerValue]) -> tuple[Criterion, ...]:
    shown = scoring.visible_criteria(rubric, answers)
    return tuple(c for c in rubric.criteria if c.id in shown and answers.get(c.id) is None)


def corrections_of(contact: Contact) -> dict[str, list[AnswerCorrection]]:
    """Criterion id -> its corrections, oldest first."""
    out: dict[str, list[AnswerCorrection]] = {}
    for c in db.session.scalars(sa.select(AnswerCorrection).filter_by(contact_id=contact.id)
                                .order_by(AnswerCorrection.id)):
        out.setdefault(c.criterion_id, []).append(c)
    return out
