"""Appeals: a director contests a contact of a published edition; an organiser resolves it.

An upheld appeal does not change any score by itself: the organiser corrects the contact's
answers (audit.review.correct_answer) and publishes a new revision, so that every change to
a published result is visible as a revision.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so

from . import journal, lifecycle, mail, publication
from .errors import N_, RuleError
from .extensions import db
from .lifecycle import Action
from .models import Appeal, Campaign, Contact, User, utcnow


class AppealError(RuleError):
    """An appeal or a resolution the rules refuse; the message says why."""


def published_contact(director: User, contact_id: int) -> Contact | None:
    """A contact as a director may know it: one of their institution's that its newest published
    revision counted. Anything else (another institution's, a draft, a contact waiting for review
    or returned to its auditor, an id that does not exist) is None alike, so that no answer tells
    an institution that a mystery shopper is at work, or when."""
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.institution_id not in {i.id for i in director.institutions}:
        return None
    if contact.id not in publication.counted_contacts(contact.campaign_id, contact.institution_id):
        return None
    return contact


def file_appeal(director: User, contact: Contact, reason: str, today: date | None = None) -> Appeal:
    """File a director's appeal, or return the same appeal already waiting (one at a time per contact).

    The database holds at most one open appeal per contact (a partial unique index): of two requests
    racing, the second fails at commit, and filing it again returns the first one's appeal.
    """
    reason = reason.strip()
    if not reason:
        raise AppealError(N_("Say why you contest this contact."))
    if contact.institution_id not in {i.id for i in director.institutions}:
        raise AppealError(N_("This contact is not one of your institution's."))
    campaign = db.session.get(Campaign, contact.campaign_id)
    if (campaign is None or not lifecycle.allows(campaign, Action.APPEAL)
            or contact.id not in publication.counted_contacts(campaign.id, contact.institution_id)):
        raise AppealError(N_("Only a contact of a published result can be contested."))
    if campaign.appeal_until is None or (today or date.today()) > campaign.appeal_until:
        raise AppealError(N_("The appeal window of this edition is closed."))
    pending = db.session.scalar(sa.select(Appeal).filter_by(contact_id=contact.id, status="open"))
    if pending is not None and pending.director_id == director.id and pending.reason == reason:
        return pending  # a double click, a retry, or a race lost at commit: the first one's appeal stands
    if pending is not None:
        raise AppealError(N_("An appeal against this contact is already waiting for a decision."))
    appeal = Appeal(campaign_id=campaign.id, contact_id=contact.id, institution_id=contact.institution_id,
                    director_id=director.id, reason=reason)
    db.session.add(appeal)
    db.session.flush()
    event = journal.record("appeal_filed", actor=director, object_type="contact", object_id=contact.id,
                           campaign_id=campaign.id, reason=reason, appeal=appeal.id)
    db.session.flush()
    mail.appeal_filed(appeal, event.id)  # to the organisers, in this transaction
    return appeal


def resolve(appeal: Appeal, organiser: User, upheld: bool, resolution: str) -> None:
    resolution = resolution.strip()
    if not resolution:
        raise AppealError(N_("A decision on an appeal needs a written reason."))
    if appeal.status != "open":
        raise AppealError(N_("This appeal was already decided."))
    appeal.status = "upheld" if upheld else "rejected"
    appeal.resolution, appeal.resolved_by_id, appeal.resolved_at = resolution, organiser.id, utcnow()
    event = journal.record("appeal_" + appeal.status, actor=organiser, object_type="contact",
                           object_id=appeal.contact_id, campaign_id=appeal.campaign_id, reason=resolution,
                           appeal=appeal.id)
    db.session.flush()
    mail.appeal_decided(appeal, event.id)  # in this transaction: no mail about a decision rolled back


def appeals_of(campaign_id: int) -> list[Appeal]:
    """An edition's appeals, open ones first, oldest first."""
    return list(db.session.scalars(sa.select(Appeal).filter_by(campaign_id=campaign_id)
                                   .options(so.joinedload(Appeal.institution), so.joinedload(Appeal.contact))
                                   .order_by(Appeal.status != "open", Appeal.created_at, Appeal.id)))
