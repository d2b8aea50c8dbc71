"""Publishing an edition: frozen revisions of the ranking, licence decisions and overrides.

A published ranking never changes silently. publish() freezes the engine's standings, with
the organiser's overrides applied, as the next numbered revision; licences follow the
newest revision (granted, or revoked with the revision named as the reason); every step is
written to the audit log in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from . import journal, lifecycle, mail, result_cache, scoring, services, standings
from .errors import N_, RuleError
from .extensions import db
from .lifecycle import Action
from .models import (
    Answer,
    Campaign,
    Contact,
    Licence,
    LicenceOverride,
    Revision,
    RevisionAnswer,
    RevisionStanding,
    User,
    utcnow,
)
from .paging import Page, ResultFilter, paginate

LICENCE_VALIDITY = timedelta(days=365)
"""A licence holds for a year from its grant: until the next edition's results."""



class PublicationError(RuleError):
    """A publication or an override the rules refuse; the message says why."""


class AlreadyPublished(PublicationError):
    """The revision this request meant to publish exists: a repeated click, a retry, or a race lost."""

    def __init__(self, number: int):
        self.number = number
        super().__init__(N_("Revision %(n)s is already published; publishing it again changed nothing."), n=number)


class ResultsChanged(PublicationError):
    """The edition's results are no longer those the organiser confirmed: nothing was published."""

    def __init__(self) -> None:
        super().__init__(N_("The edition's results changed after the publication was confirmed, so nothing was "
                            "published. Open the publication page, read it again and confirm."))


# --- overrides ---------------------------------------------------------------------------


def set_override(campaign: Campaign, institution_id: int, licensed: bool | None, reason: str,
                 actor: User) -> None:
    """Decide a licence against the engine (or, with None, go back to the engine's decision).

    A written reason is required either way; the decision reaches a published ranking only
    through the next revision.
    """
    lifecycle.require(campaign, Action.OVERRIDE)
    reason = reason.strip()
    if not reason:
        raise PublicationError(N_("An override needs a written reason."))
    existing = db.session.get(LicenceOverride, (campaign.id, institution_id))
    before = None if existing is None else existing.licensed
    if licensed is None:
        if existing is not None:
            db.session.delete(existing)
    elif existing is None:
        db.session.add(LicenceOverride(campaign_id=campaign.id, institution_id=institution_id, licensed=licensed,
                                       reason=reason, decided_by_id=actor.id))
    else:
        existing.licensed, existing.reason, existing.decided_by_id, existing.decided_at = (
            licensed, reason, actor.id, utcnow())
    journal.record("licence_override" if licensed is not None else "licence_override_removed", actor=actor,
                   object_type="institution", object_id=institution_id, campaign_id=campaign.id, reason=reason,
                   before=before, after=licensed)
    db.session.flush()


# --- revisions ---------------------------------------------------------------------------


def revisions_of(campaign_id: int) -> list[Revision]:
    """Every published revision of an edition, newest first."""
    return list(db.session.scalars(
        sa.select(Revision).filter_by(campaign_id=campaign_id).order_by(Revision.number.desc())))


def latest_revision(campaign_id: int) -> Revision | None:
    return db.session.scalar(
        sa.select(Revision).filter_by(campaign_id=campaign_id).order_by(Revision.number.desc()).limit(1))


def revision_of(campaign_id: int, number: int) -> Revision | None:
    return db.session.scalar(sa.select(Revision).filter_by(campaign_id=campaign_id, number=number))


@dataclass(frozen=True)
class RevisionPage:
    rows: Page[RevisionStanding]
    """One page of the filtered standings, in ranking order, each with its institution."""
    licensed: int
    """Licensed institutions in the whole filtered set."""


def revision_page(revision_id: int, where: ResultFilter, number: int | None) -> RevisionPage:
    """A published revision's standings, filtered, one page at a time; its figures counted in SQL."""
    query = sa.select(RevisionStanding).where(RevisionStanding.revision_id == revision_id)
    if where.category:
        query = query.where(RevisionStanding.category == where.category)
    if where.licensed is not None:
        query = query.where(RevisionStanding.licensed == where.licensed)
    if (allowed := where.institutions()) is not None:
        query = query.where(RevisionStanding.institution_id.in_(allowed))
    licensed = db.session.scalar(sa.select(sa.func.count()).select_from(
        query.where(RevisionStanding.licensed == sa.true()).subquery())) or 0
    rows = paginate(query.options(so.joinedload(RevisionStanding.institution)).order_by(RevisionStanding.position),
                    number)
    return RevisionPage(rows, licensed)


def counted_contacts(campaign_id: int, institution_id: int) -> set[int]:
    """Contacts the newest published revision counted for the institution.

    One query whatever it finds (no revision yet, no row for the institution, a row): a director's
    request for a contact must cost the same whether or not fieldwork has one at their institution."""
    newest = sa.select(Revision.id).where(Revision.campaign_id == campaign_id).order_by(
        Revision.number.desc()).limit(1).scalar_subquery()
    channels = db.session.scalar(sa.select(RevisionStanding.channels).where(
        RevisionStanding.revision_id == newest, RevisionStanding.institution_id == institution_id))
    return {i for ch in (channels or {}).values() for i in ch.get("contact_ids", [])}


def reason_of(row: list[object]) -> scoring.Reason:
    """A stored reason back as the engine's record (for describe_reason)."""
    return scoring.Reason(*row)  # type: ignore[arg-type]


def next_number(campaign_id: int) -> int:
    """The number the edition's next revision will carry."""
    previous = latest_revision(campaign_id)
    return previous.number + 1 if previous else 1


def publish(campaign: Campaign, actor: User, note: str = "", number: int | None = None,
            outstanding: dict[str, int] | None = None, state: str | None = None) -> Revision:
    """Freeze the edition's current standings as its next revision and bring licences in line.

    `number`: the revision the organiser's page offered to publish. Once it exists the request is a
    repeat (a double click, a retry, the loser of a race, which fails at commit on the unique
    (campaign, number) and is asked again): AlreadyPublished names it and nothing is published twice.
    `outstanding`: what the readiness check listed as open when the organiser went ahead (logged).
    `state`: the edition's fingerprint (result_cache.fingerprint) when the organiser confirmed; if the
    results changed since (in the seconds of a request, or while a job waited for a worker),
    ResultsChanged refuses, so what is frozen is exactly what was confirmed. The check is made again
    after the computation, holding the state until the commit (result_cache.hold).
    """
    expected = next_number(campaign.id)
    if number is not None and number < expected:
        raise AlreadyPublished(number)
    if number is not None and number > expected:
        raise PublicationError(N_("This page is out of date: reload it and publish again."))
    lifecycle.require(campaign, Action.PUBLISH)
    if state is not None and result_cache.fingerprint(campaign.id) != state:
        raise ResultsChanged()
    result = standings.live(campaign, fresh=True)  # what is frozen is computed in this transaction
    if not any(r.points is not None for r in result.institutions):
        raise PublicationError(N_("There is nothing to publish: no institution has an accepted contact."))
    if state is not None and not result_cache.hold(campaign.id, state):  # changed while it was computed
        if number is not None and next_number(campaign.id) > number:  # by this very publication, asked twice
            raise AlreadyPublished(number)
        raise ResultsChanged()
    revision = Revision(campaign_id=campaign.id, number=expected,
                        published_by_id=actor.id, note=note.strip(), threshold=campaign.threshold,
                        rules=standings.rules_json(services.campaign_rules(campaign)))
    rows = standings.revision_rows(result, float(campaign.threshold))
    revision.figures = standings.revision_figures(result.institutions, [ch.channel for ch in campaign.channels])
    db.session.add(revision)
    campaign.status = "published"
    db.session.flush()
    standings.store_rows(revision, rows)
    freeze_answers(campaign, revision)
    event = journal.record("publish", actor=actor, object_type="revision", object_id=revision.id,
                           campaign_id=campaign.id, reason=revision.note, number=revision.number,
                           institutions=len(result.institutions), outstanding=outstanding or {})
    _bring_licences_in_line(campaign, revision, rows, actor)
    db.session.flush()
    mail.results_published(revision, rows, event.id)  # each director learns it once, in this transaction
    return revision


def freeze_answers(campaign: Campaign, revision: Revision) -> int:
    """Copy the answers of the edition's accepted contacts into the revision, in one INSERT ... SELECT.

    The same contacts the engine totals (accepted, not calibration, of the edition's channels), read in
    the same transaction as its standings: what a director reads of a contact is what this revision
    counted, whatever is corrected later. At national size (5,000 institutions x 15 contacts x ~20
    criteria) the copy stays inside the database: no row comes back to Python.
    """
    channels = [ch.channel for ch in campaign.channels]
    source = (sa.select(sa.literal(revision.id), Answer.contact_id, Answer.criterion_id, Answer.value, Answer.comment,
                        Answer.earned, Answer.possible)
              .join(Contact, Contact.id == Answer.contact_id)
              .where(services.counting_contacts(campaign.id), Contact.channel.in_(channels)))
    result = db.session.execute(sa.insert(RevisionAnswer).from_select(
        ["revision_id", "contact_id", "criterion_id", "value", "comment", "earned", "possible"], source))
    return int(getattr(result, "rowcount", 0) or 0)


def published_answers(revision_id: int, contact_id: int) -> list[RevisionAnswer]:
    """A contact's answers as the revision counted them."""
    return list(db.session.scalars(sa.select(RevisionAnswer).filter_by(revision_id=revision_id, contact_id=contact_id)))


def _bring_licences_in_line(campaign: Campaign, revision: Revision, rows: Sequence[standings.FrozenRow],
                            actor: User) -> None:
    licences = {lic.institution_id: lic for lic in db.session.scalars(
        sa.select(Licence).filter_by(campaign_id=campaign.id))}
    today = date.today()
    serial = len(licences)
    for row in rows:
        licence = licences.get(row.institution_id)
        if row.licensed and licence is None:
            serial += 1
            licence = Licence(campaign_id=campaign.id, institution_id=row.institution_id,
                              number=certificate_number(campaign, serial), points=row.points or 0.0,
                              granted_at=today, valid_until=today + LICENCE_VALIDITY)
            db.session.add(licence)
            db.session.flush()
            journal.record("licence_granted", actor=actor, object_type="licence", object_id=licence.id,
                           campaign_id=campaign.id, reason=row.override_reason, number=licence.number,
                           revision=revision.number, points=row.points)
        elif row.licensed and licence is not None and licence.revoked_at is not None:
            licence.revoked_at, licence.revoked_reason, licence.points = None, None, row.points or 0.0
            journal.record("licence_restored", actor=actor, object_type="licence", object_id=licence.id,
                           campaign_id=campaign.id, reason=row.override_reason, number=licence.number,
                           revision=revision.number)
        elif row.licensed and licence is not None and licence.points != row.points:
            journal.record("licence_points_changed", actor=actor, object_type="licence", object_id=licence.id,
                           campaign_id=campaign.id, before=licence.points, after=row.points, revision=revision.number)
            licence.points = row.points or 0.0
        elif not row.licensed and licence is not None and licence.revoked_at is None:
            licence.revoked_at = utcnow()
            licence.revoked_reason = row.override_reason or f"revision {revision.number}"
            journal.record("licence_revoked", actor=actor, object_type="licence", object_id=licence.id,
                           campaign_id=campaign.id, reason=licence.revoked_reason, number=licence.number,
                           revision=revision.number)


def certificate_number(campaign: Campaign, serial: int) -> str:
    return f"AZ-{campaign.year}-{campaign.id:03d}-{serial:04d}"


# --- what changed since publication ------------------------------------------------------


@dataclass(frozen=True)
class PendingChange:
    """An institution whose current result (points, rank, licence, contacts behind them) differs
    from the newest published revision."""

    institution_id: int
    published_points: float | None
    current_points: float | None
    published_licensed: bool | None
    current_licensed: bool


def pending_changes(campaign_id: int) -> list[PendingChange]:
    """What the next revision would change; empty when the published ranking is current."""
    revision = latest_revision(campaign_id)
    campaign = db.session.get(Campaign, campaign_id)
    if revision is None or campaign is None:
        return []
    published = standings.published(revision).by_institution()
    changes = []
    for now in standings.live(campaign).institutions:
        then = published.get(now.institution_id)
        if standings.differs(then, now):
            changes.append(PendingChange(now.institution_id, then.points if then else None, now.points,
                                         then.licensed if then else None, now.licensed))
    return changes
