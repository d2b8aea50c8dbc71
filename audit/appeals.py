"""Appeals: a director contests a contact of a published edition; an organiser resolves it.

A precise appeal names the criteria it contests (answered in the published revision) and may
carry one document, checked and cleaned as evidence is (audit/evidence.py). The organiser decides
each criterion, upheld or rejected with a reason; the appeal is decided when every criterion is.

An upheld appeal does not change any score by itself: the organiser corrects the contact's
answers (audit.review.correct_answer) and publishes a new revision, so that every change to
a published result is visible as a revision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import sqlalchemy as sa
import sqlalchemy.orm as so

from . import evidence, journal, lifecycle, mail, publication, storage
from .errors import N_, RuleError
from .extensions import db
from .lifecycle import Action
from .models import Answer, Appeal, AppealCriterion, Campaign, Contact, Evidence, Revision, RevisionAnswer, User, utcnow
from .rubrics import Criterion
from .services import rubric_by_hash

DOCUMENT_STEM = "zalacznik-odwolania"
"""The name a director's own document is served under (their upload's name stays with the organisers)."""


@dataclass(frozen=True)
class Document:
    """A file a director attaches to an appeal, as uploaded: its name and bytes."""

    filename: str
    data: bytes


class AppealError(RuleError):
    """An appeal or a resolution the rules refuse; the message says why."""


def published_contact(director: User, contact_id: int) -> Contact | None:
    """A contact as a director may know it: one of their institution's that its newest published
    revision counted. Anything else (another institution's, a draft, a contact waiting for review
    or returned to its auditor, an id that does not exist) is None alike, so that no answer tells
    an institution that a mystery shopper is at work, or when."""
    contact = db.session.get(Contact, contact_id)
    institutions = {i.id for i in director.institutions}  # read whatever the id names, as is all below
    mine = contact if contact is not None and contact.institution_id in institutions else None
    # Asked whatever the id names (0 matches no edition): the same queries for a missing id, another
    # institution's contact and one of theirs still in fieldwork, so that not even time tells them apart.
    counted = publication.counted_contacts(mine.campaign_id if mine else 0, mine.institution_id if mine else 0)
    return mine if mine is not None and mine.id in counted else None


def file_appeal(director: User, contact: Contact, reason: str, today: date | None = None,
                criteria: Sequence[str] = (), document: Document | None = None) -> Appeal:
    """File a director's appeal, or return the same appeal already waiting (one at a time per contact).

    `criteria`: the criteria contested, each answered in the published revision (none: the whole
    contact). `document`: checked and cleaned before anything is written; an image loses its metadata.

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
    revision = publication.latest_revision(campaign.id)
    contested = list(dict.fromkeys(c for c in criteria if c))
    if contested:
        answered = {a.criterion_id for a in publication.published_answers(revision.id, contact.id)
                    if a.value is not None or a.possible > 0} if revision else set()
        if not set(contested) <= answered:
            raise AppealError(N_("Only criteria answered in the published result can be contested."))
    cleaned = evidence.clean(document.filename, document.data) if document is not None else None
    pending = db.session.scalar(sa.select(Appeal).filter_by(contact_id=contact.id, status="open"))
    if pending is not None and pending.director_id == director.id and pending.reason == reason:
        return pending  # a double click, a retry, or a race lost at commit: the first one's appeal stands
    if pending is not None:
        raise AppealError(N_("An appeal against this contact is already waiting for a decision."))
    appeal = Appeal(campaign_id=campaign.id, contact_id=contact.id, institution_id=contact.institution_id,
                    director_id=director.id, reason=reason, revision_number=revision.number if revision else None)
    appeal.criteria.extend(AppealCriterion(criterion_id=c) for c in contested)
    if cleaned is not None and document is not None:
        appeal.document_key = storage.new_key(cleaned.suffix)
        storage.save(storage.APPEALS + appeal.document_key, cleaned.content)  # deleted again if this rolls back
        appeal.document_name = evidence.safe_display_name(document.filename)
        appeal.document_kind, appeal.document_type, appeal.document_size = (
            cleaned.kind, cleaned.content_type, len(cleaned.content))
    db.session.add(appeal)
    db.session.flush()
    event = journal.record("appeal_filed", actor=director, object_type="contact", object_id=contact.id,
                           campaign_id=campaign.id, reason=reason, appeal=appeal.id, criteria=contested,
                           document=appeal.document_key is not None)
    db.session.flush()
    mail.appeal_filed(appeal, event.id)  # to the organisers, in this transaction
    return appeal


def document_key(appeal: Appeal) -> str | None:
    """Where an appeal's document is kept in the store (audit/storage.py), if it has one."""
    return storage.APPEALS + appeal.document_key if appeal.document_key else None


def document_name(appeal: Appeal) -> str:
    """What a director's document is called when served to a director: a neutral name."""
    suffix = Path(appeal.document_key or "").suffix or ".txt"
    return DOCUMENT_STEM + (".txt" if appeal.document_kind != "image" else suffix)


def decide_criterion(appeal: Appeal, organiser: User, criterion_id: str, upheld: bool, reason: str) -> None:
    """Decide one contested criterion; when it is the last one waiting, the appeal is decided with it
    (upheld if any criterion is) and its director is told.

    An upheld criterion changes no score by itself: the organiser corrects the answer on the contact's
    review page (audit.review.correct_answer) and the next published revision carries it.
    """
    reason = reason.strip()
    if not reason:
        raise AppealError(N_("A decision on an appeal needs a written reason."))
    if appeal.status != "open":
        raise AppealError(N_("This appeal was already decided."))
    item = next((c for c in appeal.criteria if c.criterion_id == criterion_id), None)
    if item is None:
        raise AppealError(N_("This appeal does not contest that criterion."))
    if item.decision is not None:
        raise AppealError(N_("This criterion was already decided."))
    item.decision, item.reason, item.decided_by_id, item.decided_at = (
        "upheld" if upheld else "rejected", reason, organiser.id, utcnow())
    journal.record("appeal_criterion_" + item.decision, actor=organiser, object_type="contact",
                   object_id=appeal.contact_id, campaign_id=appeal.campaign_id, reason=reason, appeal=appeal.id,
                   criterion=criterion_id)
    if all(c.decision is not None for c in appeal.criteria):
        any_upheld = any(c.decision == "upheld" for c in appeal.criteria)
        _close(appeal, organiser, any_upheld, "\n".join(c.reason or "" for c in appeal.criteria))
    db.session.flush()


def resolve(appeal: Appeal, organiser: User, upheld: bool, resolution: str) -> None:
    """Decide an appeal against a whole contact (one that names no criterion)."""
    resolution = resolution.strip()
    if not resolution:
        raise AppealError(N_("A decision on an appeal needs a written reason."))
    if appeal.status != "open":
        raise AppealError(N_("This appeal was already decided."))
    if appeal.criteria:
        raise AppealError(N_("This appeal contests single criteria: decide each of them."))
    _close(appeal, organiser, upheld, resolution)


def _close(appeal: Appeal, organiser: User, upheld: bool, resolution: str) -> None:
    appeal.status = "upheld" if upheld else "rejected"
    appeal.resolution, appeal.resolved_by_id, appeal.resolved_at = resolution, organiser.id, utcnow()
    event = journal.record("appeal_" + appeal.status, actor=organiser, object_type="contact",
                           object_id=appeal.contact_id, campaign_id=appeal.campaign_id, reason=resolution,
                           appeal=appeal.id)
    db.session.flush()
    mail.appeal_decided(appeal, event.id)  # in this transaction: no mail about a decision rolled back


def evidence_of(appeals: Sequence[Appeal]) -> dict[int, list[Evidence]]:
    """Appeal id -> its contact's evidence files, in one query."""
    files: dict[int, list[Evidence]] = {}
    for item in db.session.scalars(sa.select(Evidence).where(Evidence.contact_id.in_({a.contact_id for a in appeals}))
                                   .order_by(Evidence.id)):
        files.setdefault(item.contact_id, []).append(item)
    return {a.id: files.get(a.contact_id, []) for a in appeals}


def appeals_of(campaign_id: int) -> list[Appeal]:
    """An edition's appeals, open ones first, oldest first."""
    return list(db.session.scalars(sa.select(Appeal).filter_by(campaign_id=campaign_id)
                                   .options(so.joinedload(Appeal.institution), so.joinedload(Appeal.contact),
                                            so.selectinload(Appeal.criteria))
                                   .order_by(Appeal.status != "open", Appeal.created_at, Appeal.id)))


@dataclass(frozen=True)
class ContestedLine:
    """A contested criterion beside the record: the answer the revision counted, the answer now, the decision."""

    item: AppealCriterion
    criterion: Criterion | None
    published: RevisionAnswer | None
    current: Answer | None

    @property
    def corrected(self) -> bool:
        """The answer changed since the revision the director contested (the next revision will carry it)."""
        return (self.published is not None and self.current is not None
                and (self.published.value, self.published.earned) != (self.current.value, self.current.earned))


def contested_lines(appeals: Sequence[Appeal]) -> dict[int, list[ContestedLine]]:
    """Appeal id -> each criterion it contests, with the published answer and the current one.

    A few queries for the whole page, however many appeals it lists."""
    precise = [a for a in appeals if a.criteria]
    out: dict[int, list[ContestedLine]] = {a.id: [] for a in appeals}
    if not precise:
        return out
    contact_ids = {a.contact_id for a in precise}
    revisions = {(r.campaign_id, r.number): r.id for r in db.session.scalars(
        sa.select(Revision).where(Revision.campaign_id.in_({a.campaign_id for a in precise})))}
    published = {(r.revision_id, r.contact_id, r.criterion_id): r for r in db.session.scalars(
        sa.select(RevisionAnswer).where(RevisionAnswer.contact_id.in_(contact_ids),
                                        RevisionAnswer.revision_id.in_(set(revisions.values()))))}
    current = {(a.contact_id, a.criterion_id): a for a in db.session.scalars(
        sa.select(Answer).where(Answer.contact_id.in_(contact_ids)))}
    for appeal in precise:
        by_id = {c.id: c for c in rubric_by_hash(appeal.contact.rubric_hash).criteria}
        revision_id = revisions.get((appeal.campaign_id, appeal.revision_number or 0))
        out[appeal.id] = [ContestedLine(item, by_id.get(item.criterion_id),
                                        published.get((revision_id or 0, appeal.contact_id, item.criterion_id)),
                                        current.get((appeal.contact_id, item.criterion_id)))
                          for item in appeal.criteria]
    return out
