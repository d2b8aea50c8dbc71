"""What is still open before a step that cannot be undone: the checklist an organiser reads before
closing the fieldwork or publishing a revision.

The organiser may go ahead with items open, but only after reading them: the confirming form
carries a fingerprint of the list it showed, a list that changed meanwhile is shown again, and
the decisions log keeps what was open. A few SQL aggregates, whatever the edition's size.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from .errors import Np_
from .extensions import db
from .models import Appeal, Assignment, Campaign, Contact, Institution

EXAMPLES = 8  # institutions named per item; the rest are counted


WORDS: dict[str, tuple[str, str]] = {
    "not_started": Np_("%(num)s assignment was never started.",
                       "%(num)s assignments were never started."),
    "drafts": Np_("%(num)s contact is a draft its auditor has not sent.",
                  "%(num)s contacts are drafts their auditors have not sent."),
    "returned": Np_("%(num)s returned contact has not been sent again.",
                    "%(num)s returned contacts have not been sent again."),
    "waiting_review": Np_("%(num)s contact is waiting for review.",
                          "%(num)s contacts are waiting for review."),
    "open_appeals": Np_("%(num)s appeal is waiting for a decision.",
                        "%(num)s appeals are waiting for a decision."),
    "channel_not_planned": Np_("%(num)s institution offers a channel for which no contact was ever planned.",
                               "%(num)s institutions offer a channel for which no contact was ever planned."),
    "channel_short": Np_("%(num)s institution has a channel short of its minimum of counted contacts.",
                         "%(num)s institutions have a channel short of its minimum of counted contacts."),
    "no_contact": Np_("%(num)s institution has no counted contact at all.",
                      "%(num)s institutions have no counted contact at all."),
    "days_left": Np_("%(num)s day of the fieldwork window was left.", "%(num)s days of the fieldwork window were left."),
}
"""Each open matter in words, by its key (the decisions log names them by key too)."""


@dataclass(frozen=True)
class Item:
    """One open matter: how many, in words (singular and plural msgids with %(num)s), where it is fixed."""

    key: str
    count: int
    words: tuple[str, str]
    """Singular and plural msgids with %(num)s (marked with Np_)."""
    endpoint: str
    examples: tuple[tuple[int, str], ...] = ()
    """(institution id, name) of the first few, each linking to its explanation page."""


@dataclass(frozen=True)
class Readiness:
    step: str
    """"close_fieldwork" or "publish"."""
    items: list[Item] = field(default_factory=list)
    window_ends: date | None = None
    """Set when the fieldwork window is still open (closing early is a choice to see)."""
    days_left: int = 0

    @property
    def ready(self) -> bool:
        return not self.items and not self.days_left

    def outstanding(self) -> dict[str, int]:
        """What was open, for the decisions log."""
        out = {item.key: item.count for item in self.items}
        if self.days_left:
            out["days_left"] = self.days_left
        return out

    def fingerprint(self) -> str:
        """Names the list as shown: a confirmation is for this list, not for one that changed since."""
        return hashlib.sha256(json.dumps(self.outstanding(), sort_keys=True).encode()).hexdigest()[:16]


def _contact_counts(campaign_id: int) -> dict[str, int]:
    return dict(db.session.execute(sa.select(Contact.status, sa.func.count()).where(
        Contact.campaign_id == campaign_id).group_by(Contact.status)).all())  # type: ignore[arg-type]


def _not_started(campaign_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count(Assignment.id)).outerjoin(
        Contact, Contact.assignment_id == Assignment.id).where(
        Assignment.campaign_id == campaign_id, Contact.id.is_(None))) or 0


def _fieldwork_items(campaign: Campaign) -> list[Item]:
    counts, items = _contact_counts(campaign.id), []
    if n := _not_started(campaign.id):
        items.append(Item("not_started", n, WORDS["not_started"], "organiser.progress"))
    if n := counts.get("draft", 0):
        items.append(Item("drafts", n, WORDS["drafts"], "organiser.progress"))
    if n := counts.get("returned", 0):
        items.append(Item("returned", n, WORDS["returned"], "organiser.progress"))
    return items


def before_closing_fieldwork(campaign: Campaign, today: date | None = None) -> Readiness:
    """Assignments not started, drafts, returned contacts not sent again, days left in the window."""
    today = today or date.today()
    days_left = (campaign.fieldwork_end - today).days if campaign.fieldwork_end and campaign.fieldwork_end > today else 0
    return Readiness("close_fieldwork", _fieldwork_items(campaign),
                     campaign.fieldwork_end if days_left else None, days_left)


def before_publishing(campaign: Campaign) -> Readiness:
    """Contacts waiting for review or still out with auditors, open appeals, and per institution:
    offered channels never planned, channels short of their minimum, no counted contact at all."""
    counts = _contact_counts(campaign.id)
    items = []
    if n := counts.get("submitted", 0):
        items.append(Item("waiting_review", n, WORDS["waiting_review"], "organiser.review_queue"))
    items += [i for i in _fieldwork_items(campaign) if i.key != "not_started"]
    appeals = db.session.scalar(sa.select(sa.func.count(Appeal.id)).where(
        Appeal.campaign_id == campaign.id, Appeal.status == "open")) or 0
    if appeals:
        items.append(Item("open_appeals", appeals, WORDS["open_appeals"], "organiser.appeals"))
    return Readiness("publish", items + _coverage_items(campaign))


def _coverage_items(campaign: Campaign) -> list[Item]:
    minimum = {ch.channel: ch.min_contacts for ch in campaign.channels}
    planned: dict[int, set[str]] = defaultdict(set)
    counted: dict[tuple[int, str], int] = defaultdict(int)
    for institution_id, channel, accepted in db.session.execute(
            sa.select(Assignment.institution_id, Assignment.channel,
                      sa.func.count(Contact.id).filter(Contact.status == "accepted"))
            .outerjoin(Contact, Contact.assignment_id == Assignment.id)
            .where(Assignment.campaign_id == campaign.id)
            .group_by(Assignment.institution_id, Assignment.channel)):
        planned[institution_id].add(channel)
        counted[institution_id, channel] += accepted
    not_planned, short, no_contact = [], [], []
    for inst_id, name, offered in db.session.execute(
            sa.select(Institution.id, Institution.name, Institution.channels)
            .where(Institution.id.in_(list(planned))).order_by(Institution.name, Institution.id)):
        audited = [ch for ch in (offered or []) if ch in minimum]
        if any(ch not in planned[inst_id] for ch in audited):
            not_planned.append((inst_id, name))
        if any(ch in planned[inst_id] and counted[inst_id, ch] < minimum[ch] for ch in audited):
            short.append((inst_id, name))
        if not any(counted[inst_id, ch] for ch in planned[inst_id]):
            no_contact.append((inst_id, name))
    items = []
    if not_planned:
        items.append(Item("channel_not_planned", len(not_planned), WORDS["channel_not_planned"],
                          "organiser.plan", tuple(not_planned[:EXAMPLES])))
    if short:
        items.append(Item("channel_short", len(short), WORDS["channel_short"],
                          "organiser.progress", tuple(short[:EXAMPLES])))
    if no_contact:
        items.append(Item("no_contact", len(no_contact), WORDS["no_contact"], "organiser.progress",
                          tuple(no_contact[:EXAMPLES])))
    return items
