"""Reviewing submitted contacts: accept, return to the auditor with a comment, correct an answer.

Every action names the version of the contact the reviewer saw. If the contact changed
since (another reviewer acted, the auditor resubmitted), the action is refused with a
ReviewConflict instead of silently overwriting the other person's work. Functions only
flush(); the view commits, and a StaleDataError at commit means the same race, lost later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from . import journal, scoring
from .errors import N_, RuleError
from .extensions import db
from .models import AnswerCorrection, AuditEvent, Contact, User, utcnow
from .services import record_answers, rubric_by_hash

REVIEWABLE = ("submitted",)
CORRECTABLE = ("submitted", "accepted")


class ReviewError(RuleError):
    """An action the rules refuse (a missing comment, an unknown answer); the message says why."""


class ReviewConflict(ReviewError):
    """The contact changed since the reviewer opened it."""


def _check(contact: Contact, seen_version: int, allowed: tuple[str, ...]) -> None:
    if contact.version != seen_version:
        raise ReviewConflict(N_("This contact changed while you were reading it (another reviewer, or the auditor). "
                             "It has been reloaded: check it and act again."))
    if contact.status not in allowed:
        raise ReviewConflict(N_("This contact is no longer waiting for review."))


def review_queue(campaign_id: int) -> list[Contact]:
    """Submitted contacts of an edition, the longest waiting first."""
    return list(db.session.scalars(
        sa.select(Contact).where(Contact.campaign_id == campaign_id, Contact.status == "submitted")
        .order_by(Contact.submitted_at, Contact.id)))


def accept(contact: Contact, reviewer: User, seen_version: int) -> None:
    _check(contact, seen_version, REVIEWABLE)
    contact.status, contact.reviewed_at, contact.review_comment = "accepted", utcnow(), None
    journal.record("contact_accepted", actor=reviewer, object_type="contact", object_id=contact.id,
                   campaign_id=contact.campaign_id)
    db.session.flush()


def return_to_auditor(contact: Contact, reviewer: User, seen_version: int, comment: str) -> None:
    """Send a contact back for correction; the auditor sees the comment on top of the form."""
    comment = comment.strip()
    if not comment:
        raise ReviewError(N_("Say what the auditor should correct."))
    _check(contact, seen_version, REVIEWABLE)
    contact.status, contact.reviewed_at, contact.review_comment = "returned", utcnow(), comment
    journal.record("contact_returned", actor=reviewer, object_type="contact", object_id=contact.id,
                   campaign_id=contact.campaign_id, reason=comment)
    db.session.flush()


def correct_answer(contact: Contact, reviewer: User, seen_version: int, criterion_id: str, raw_value: str,
                   reason: str) -> AnswerCorrection:
    """Change one answer with a written reason; the original stays in the correction record.

    Measured criteria are corrected like the others: the recorded facts stay as the auditor
    wrote them, and the correction says why the answer differs.
    """
    reason = reason.strip()
    if not reason:
        raise ReviewError(N_("A correction needs a written reason."))
    _check(contact, seen_version, CORRECTABLE)
    rubric = rubric_by_hash(contact.rubric_hash)
    try:
        criterion = rubric.criterion(criterion_id)
    except KeyError:
        raise ReviewError(N_("The rubric has no criterion '%(criterion)s'."), criterion=criterion_id) from None
    try:
        value = scoring.parse_answer(criterion, raw_value)
    except scoring.AnswerError as error:
        raise ReviewError(N_("This answer does not fit the criterion: %(problem)s"), problem=str(error)) from None
    if value is None:
        raise ReviewError(N_("Choose the corrected answer."))
    answers: dict[str, scoring.AnswerValue] = {a.criterion_id: a.value for a in contact.answers if a.value is not None}
    original = answers.get(criterion_id)
    if original is not None and str(original) == _text(value):
        raise ReviewError(N_("The corrected answer is the same as the original."))
    answers[criterion_id] = value
    comments = {a.criterion_id: a.comment for a in contact.answers if a.comment}
    record_answers(contact, answers, comments)
    correction = AnswerCorrection(contact_id=contact.id, criterion_id=criterion_id,
                                  original_value=None if original is None else str(original),
                                  corrected_value=_text(value), reason=reason, corrected_by_id=reviewer.id)
    db.session.add(correction)
    contact.updated_at = utcnow()  # a new version: a reviewer who saw the old answers must reload
    db.session.flush()
    journal.record("answer_corrected", actor=reviewer, object_type="contact", object_id=contact.id,
                   campaign_id=contact.campaign_id, reason=reason, criterion=criterion_id,
                   before=correction.original_value, after=correction.corrected_value)
    db.session.flush()
    return correction


def _text(value: scoring.AnswerValue) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


# --- a contact's history -------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    action: str
    actor: str
    """Who acted, as the reader may see them: a reviewer's name, an auditor's pseudonym."""
    reason: str | None = None
    criterion_id: str | None = None
    before: str | None = None
    after: str | None = None


def contact_history(contact: Contact) -> list[HistoryEntry]:
    """Submissions, review outcomes and corrections of one contact, oldest first."""
    events = journal.history("contact", contact.id)
    return [_entry(e, contact) for e in events]


def _entry(event: AuditEvent, contact: Contact) -> HistoryEntry:
    actor = event.actor
    if actor is None:
        who = "—"
    elif actor.id == contact.auditor_id:
        who = actor.pseudonym or "—"  # the auditor is a pseudonym even to reviewers' history
    else:
        who = actor.name
    details = event.details or {}
    return HistoryEntry(event.at, event.action, who, event.reason, details.get("criterion"),
                        details.get("before"), details.get("after"))


def corrections_of(contact: Contact) -> dict[str, list[AnswerCorrection]]:
    """Criterion id -> its corrections, oldest first."""
    out: dict[str, list[AnswerCorrection]] = {}
    for c in db.session.scalars(sa.select(AnswerCorrection).filter_by(contact_id=contact.id)
                                .order_by(AnswerCorrection.id)):
        out.setdefault(c.criterion_id, []).append(c)
    return out
