"""Improvement plans: a director turns lost criteria into actions, and the next edition measures them.

A plan belongs to an institution's result in one edition: each action names a criterion the
scorecard's "what to change" listed (channel and criterion), what will change, who is responsible
and by when. The organiser may comment. In the next published edition each planned criterion is
measured before and after, per channel, from the answers both revisions froze (revision_answer):
the share of the criterion's points achieved and the number of contacts behind each figure. With
fewer than MIN_CONTACTS contacts asking the criterion on either side, the honest answer is "not
enough contacts to tell", and that is what is said.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so

from . import journal, publication
from .errors import N_, RuleError
from .extensions import db
from .models import Campaign, ImprovementPlan, PlanAction, RevisionAnswer, RevisionStanding, User, utcnow
from .rubrics import Criterion
from .services import rubric_by_hash

MIN_CONTACTS = 2
"""Contacts asking a criterion, on each side, below which a before/after comparison is not made: one
contact is an anecdote, and editions plan two or three contacts per channel and institution."""


class PlanError(RuleError):
    """A plan the rules refuse; the message says why."""


@dataclass(frozen=True)
class ActionInput:
    channel: str
    criterion_id: str
    what: str
    who: str
    due: date | None


def plan_of(campaign_id: int, institution_id: int) -> ImprovementPlan | None:
    return db.session.scalar(sa.select(ImprovementPlan).filter_by(campaign_id=campaign_id,
                                                                  institution_id=institution_id))


def save(director: User, campaign: Campaign, institution_id: int, actions: Sequence[ActionInput],
         allowed: set[tuple[str, str]], submit: bool) -> ImprovementPlan:
    """Save the plan's actions (replacing the previous ones), as a draft or submitted.

    `allowed`: the (channel, criterion) pairs the scorecard listed as lost; an action on anything
    else is refused. An action needs what will change and who is responsible.
    """
    if institution_id not in {i.id for i in director.institutions}:
        raise PlanError(N_("This institution is not one of yours."))
    kept = [a for a in actions if a.what.strip() or a.who.strip()]
    for action in kept:
        if (action.channel, action.criterion_id) not in allowed:
            raise PlanError(N_("A plan's action must aim at a criterion that lost points."))
        if not action.what.strip() or not action.who.strip():
            raise PlanError(N_("Each action needs what will change and who is responsible."))
    if submit and not kept:
        raise PlanError(N_("Write at least one action before submitting the plan."))
    plan = plan_of(campaign.id, institution_id)
    if plan is None:
        plan = ImprovementPlan(campaign_id=campaign.id, institution_id=institution_id, author_id=director.id)
        db.session.add(plan)
    plan.actions = [PlanAction(channel=a.channel, criterion_id=a.criterion_id, what=a.what.strip()[:4000],
                               who=a.who.strip()[:200], due=a.due) for a in kept]
    if submit:
        plan.status, plan.submitted_at = "submitted", utcnow()
    db.session.flush()
    if submit:
        journal.record("plan_submitted", actor=director, object_type="institution", object_id=institution_id,
                       campaign_id=campaign.id, actions=len(kept))
    return plan


def comment(plan: ImprovementPlan, organiser: User, text: str) -> None:
    text = text.strip()
    if not text:
        raise PlanError(N_("Write the comment first."))
    if plan.status != "submitted":
        raise PlanError(N_("Only a submitted plan can be commented on."))
    plan.organiser_comment, plan.commented_at = text, utcnow()
    journal.record("plan_commented", actor=organiser, object_type="institution", object_id=plan.institution_id,
                   campaign_id=plan.campaign_id, reason=text)
    db.session.flush()


def submitted_plans(campaign_id: int) -> list[ImprovementPlan]:
    """An edition's plans, submitted ones first, by institution name."""
    from .models import Institution

    return list(db.session.scalars(
        sa.select(ImprovementPlan).filter_by(campaign_id=campaign_id)
        .join(Institution, Institution.id == ImprovementPlan.institution_id)
        .options(so.selectinload(ImprovementPlan.actions), so.joinedload(ImprovementPlan.institution))
        .order_by(ImprovementPlan.status != "submitted", Institution.name)))


# --- measuring a plan in the next edition --------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """A criterion in one edition's published result for one institution and channel."""

    earned: float
    possible: float
    contacts: int
    """Contacts that asked the criterion (its possible points > 0)."""

    @property
    def share(self) -> float | None:
        return self.earned / self.possible if self.possible > 0 else None

    @property
    def enough(self) -> bool:
        return self.contacts >= MIN_CONTACTS


@dataclass(frozen=True)
class FollowUp:
    action: PlanAction
    criterion: Criterion | None
    before: Figure
    after: Figure

    @property
    def verdict(self) -> str:
        """"improved", "same", "worse", or "too_few" when either side has fewer than MIN_CONTACTS contacts."""
        if not (self.before.enough and self.after.enough):
            return "too_few"
        b, a = self.before.share or 0.0, self.after.share or 0.0
        return "improved" if a > b else "worse" if a < b else "same"


def figure(campaign_id: int, institution_id: int, channel: str, criterion_id: str) -> Figure:
    """The criterion in the edition's newest revision: points over the counted contacts of the channel."""
    revision = publication.latest_revision(campaign_id)
    standing = db.session.get(RevisionStanding, (revision.id, institution_id)) if revision else None
    if revision is None or standing is None:
        return Figure(0.0, 0.0, 0)
    ids = (standing.channels.get(channel) or {}).get("contact_ids", [])
    if not ids:
        return Figure(0.0, 0.0, 0)
    earned, possible, contacts = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(RevisionAnswer.earned), 0.0),
                  sa.func.coalesce(sa.func.sum(RevisionAnswer.possible), 0.0), sa.func.count())
        .where(RevisionAnswer.revision_id == revision.id, RevisionAnswer.contact_id.in_(ids),
               RevisionAnswer.criterion_id == criterion_id, RevisionAnswer.possible > 0)).one()
    return Figure(float(earned), float(possible), int(contacts))


def previous_plan(campaign: Campaign, institution_id: int) -> ImprovementPlan | None:
    """The submitted plan made in the institution's previous published edition (the one this edition measures)."""
    earlier = db.session.scalar(
        sa.select(ImprovementPlan).join(Campaign, Campaign.id == ImprovementPlan.campaign_id)
        .where(ImprovementPlan.institution_id == institution_id, ImprovementPlan.status == "submitted",
               Campaign.year < campaign.year)
        .order_by(Campaign.year.desc()).limit(1))
    return earlier


def follow_up(plan: ImprovementPlan, campaign: Campaign) -> list[FollowUp]:
    """Each planned action's criterion before (the plan's edition) and after (`campaign`)."""
    rubrics = {ch.channel: rubric_by_hash(ch.rubric_hash) for ch in campaign.channels}
    out = []
    for action in plan.actions:
        rubric = rubrics.get(action.channel)
        criterion = next((c for c in rubric.criteria if c.id == action.criterion_id), None) if rubric else None
        if criterion is None:  # worded under the plan's rubric if this edition's lost it
            old = db.session.get(Campaign, plan.campaign_id)
            old_rubric = next((rubric_by_hash(ch.rubric_hash) for ch in old.channels if ch.channel == action.channel),
                              None) if old else None
            criterion = next((c for c in old_rubric.criteria if c.id == action.criterion_id), None) \
                if old_rubric else None
        out.append(FollowUp(action, criterion,
                            figure(plan.campaign_id, plan.institution_id, action.channel, action.criterion_id),
                            figure(campaign.id, plan.institution_id, action.channel, action.criterion_id)))
    return out


@dataclass(frozen=True)
class EditionFollowUp:
    """What improved across an edition: each institution's plan from the previous edition, measured."""

    institution_id: int
    institution: str
    lines: tuple[FollowUp, ...]


def edition_follow_up(campaign: Campaign) -> list[EditionFollowUp]:
    """Plans submitted in earlier editions by institutions this edition published, measured here."""
    revision = publication.latest_revision(campaign.id)
    if revision is None:
        return []
    ranked = sa.select(RevisionStanding.institution_id).filter_by(revision_id=revision.id)
    newest: dict[int, ImprovementPlan] = {}
    for plan in db.session.scalars(  # newest earlier edition first: the first plan per institution is the one measured
            sa.select(ImprovementPlan).join(Campaign, Campaign.id == ImprovementPlan.campaign_id)
            .where(ImprovementPlan.status == "submitted", Campaign.year < campaign.year,
                   ImprovementPlan.institution_id.in_(ranked))
            .options(so.selectinload(ImprovementPlan.actions), so.joinedload(ImprovementPlan.institution))
            .order_by(Campaign.year.desc())):
        newest.setdefault(plan.institution_id, plan)
    out = [EditionFollowUp(i, plan.institution.name, tuple(follow_up(plan, campaign))) for i, plan in newest.items()]
    return sorted(out, key=lambda f: f.institution)


def verdict_counts(found: Sequence[EditionFollowUp]) -> dict[str, int]:
    """How many planned actions improved, stayed, worsened, or had too few contacts to tell."""
    counts = dict.fromkeys(("improved", "same", "worse", "too_few"), 0)
    for entry in found:
        for line in entry.lines:
            counts[line.verdict] += 1
    return counts
