"""The reminders sweep: mail about dates coming up, written by a periodic job (audit.jobs).

Two kinds, each due REMINDER_DAYS (default 3) before a last day, up to and including that day:

- **to an auditor**, the window of an assignment closes (`due_end`) while the edition is in
  fieldwork and the assignment's contact is not sent (none yet, a draft, or returned to them);
- **to a director**, the appeal window of an edition closes (`appeal_until`), once a revision of it
  is published and ranks one of their institutions. Nothing is sent about an edition before its
  results are out: a message while fieldwork runs would tell an institution that it runs.

The sweep is idempotent: each message's key names what it is about (the assignment, its holder
and the window's last day; the edition and the director), so running it every hour, after a
restart, or in several workers at once writes each message once. Each message is committed on
its own; two workers racing for one key see the database's unique key refuse the second, which
then skips it. Opt-outs (audit.mail.PREFERENCES) are honoured when the message is written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from . import lifecycle, mail
from .extensions import db
from .lifecycle import Action
from .models import (
    Assignment,
    Campaign,
    Contact,
    Institution,
    MailMessage,
    Revision,
    RevisionStanding,
    User,
    director_institution,
)

SENT = ("submitted", "accepted")  # a contact in these states needs no reminder


@dataclass(frozen=True)
class Sweep:
    """What one sweep wrote (messages already written, or turned off, are not counted)."""

    assignment_reminders: int
    appeal_reminders: int


def today() -> date:
    """Today in the display zone: "three days before" is counted in the calendar people live in."""
    return datetime.now(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])).date()


def _write(make: Callable[[], MailMessage | None]) -> bool:
    """Write one message and commit it alone; False when it existed, was turned off, or a racing
    worker committed it first."""
    db.session.info.pop(mail.QUEUED, None)
    try:
        make()
        made = bool(db.session.info.pop(mail.QUEUED, False))  # set only by a message new in this call
        db.session.commit()  # the sweep's caller delivers once at the end, not a wake-up per message
    except sa.exc.IntegrityError:  # another worker's sweep wrote the same key first
        db.session.rollback()
        return False
    return made


def assignments_closing(on: date, within: int) -> list[Assignment]:
    """Assignments whose window closes in [on, on + within days], in fieldwork, by active auditors,
    with no contact sent."""
    stages = lifecycle.ALLOWED[Action.RECORD_CONTACT]
    sent = sa.select(Contact.id).where(Contact.assignment_id == Assignment.id, Contact.status.in_(SENT))
    return list(db.session.scalars(
        sa.select(Assignment).join(Campaign, Campaign.id == Assignment.campaign_id)
        .join(User, User.id == Assignment.auditor_id)
        .where(Campaign.status.in_(stages), User.active.is_(True), Assignment.due_end.is_not(None),
               Assignment.due_end >= on, Assignment.due_end <= on + timedelta(days=within), ~sa.exists(sent))
        .options(so.joinedload(Assignment.institution), so.joinedload(Assignment.auditor),
                 so.joinedload(Assignment.campaign))
        .order_by(Assignment.id)))


def appeal_windows_closing(on: date, within: int) -> list[tuple[Campaign, User, list[Institution]]]:
    """(edition, director, their institutions it ranks) for published editions whose appeal window
    closes in [on, on + within days]; ranked by the newest published revision."""
    stages = lifecycle.ALLOWED[Action.APPEAL]
    campaigns = db.session.scalars(sa.select(Campaign).where(
        Campaign.status.in_(stages), Campaign.appeal_until.is_not(None), Campaign.appeal_until >= on,
        Campaign.appeal_until <= on + timedelta(days=within)).order_by(Campaign.id)).all()
    found = []
    for campaign in campaigns:
        newest = db.session.scalar(sa.select(Revision.id).where(Revision.campaign_id == campaign.id)
                                   .order_by(Revision.number.desc()).limit(1))
        if newest is None:  # never published: not a word about it
            continue
        theirs: dict[int, list[Institution]] = defaultdict(list)
        directors: dict[int, User] = {}
        for director, institution in db.session.execute(
                sa.select(User, Institution).join(director_institution, director_institution.c.user_id == User.id)
                .join(Institution, Institution.id == director_institution.c.institution_id)
                .join(RevisionStanding, sa.and_(RevisionStanding.institution_id == Institution.id,
                                                RevisionStanding.revision_id == newest))
                .where(User.role == "director", User.active.is_(True)).order_by(User.id, Institution.name)):
            directors[director.id] = director
            theirs[director.id].append(institution)
        found += [(campaign, directors[d], theirs[d]) for d in sorted(directors)]
    return found


def sweep(on: date | None = None) -> Sweep:
    """Write every reminder due on `on` (default today) that is not written yet."""
    on = on or today()
    within = int(current_app.config["REMINDER_DAYS"])
    assignments = [a.id for a in assignments_closing(on, within)]
    windows = [(c.id, d.id, [i.id for i in insts], c.appeal_until)
               for c, d, insts in appeal_windows_closing(on, within)]
    db.session.rollback()
    written = 0
    for assignment_id in assignments:
        def remind(assignment_id: int = assignment_id) -> MailMessage | None:
            assignment = db.session.get(Assignment, assignment_id)
            return mail.assignment_reminder(assignment) if assignment is not None else None
        written += _write(remind)
    told = 0
    for campaign_id, director_id, institution_ids, until in windows:
        def tell(campaign_id: int = campaign_id, director_id: int = director_id,
                 institution_ids: list[int] = institution_ids, until: date | None = until) -> MailMessage | None:
            campaign, director = db.session.get(Campaign, campaign_id), db.session.get(User, director_id)
            institutions = list(db.session.scalars(sa.select(Institution).where(Institution.id.in_(institution_ids))
                                                   .order_by(Institution.name)))
            if campaign is None or director is None or until is None:
                return None
            return mail.appeal_window_closing(campaign, director, institutions, until)
        told += _write(tell)
    return Sweep(written, told)
