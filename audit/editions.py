"""Setting up an edition: its rules, the rubric version pinned for each channel, its life cycle.

Its stages and what each allows are audit.lifecycle's. Its rules may change while no
contact depends on them; a channel's rubric cannot change once a contact was recorded with it
(the contact keeps its own rubric hash, but the edition would then mix two instruments).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from . import journal, lifecycle
from .errors import N_, RuleError
from .extensions import db
from .lifecycle import Action
from .models import Campaign, CampaignChannel, Contact, RubricVersion, User
from .rubrics import Rubric
from .services import store_rubric


class EditionError(RuleError):
    """A set-up the rules refuse; the message says why."""


@dataclass(frozen=True)
class ChannelSetup:
    channel: str
    rubric_hash: str
    weight: float
    min_contacts: int


@dataclass(frozen=True)
class EditionSetup:
    name: str
    year: int
    threshold: float
    missing_channel: str
    fieldwork_start: date | None
    fieldwork_end: date | None
    channels: Sequence[ChannelSetup]


def _check(setup: EditionSetup) -> None:
    if not setup.channels:
        raise EditionError(N_("An edition audits at least one channel."))
    if not any(ch.weight > 0 for ch in setup.channels):
        raise EditionError(N_("At least one channel needs a weight above zero."))
    if setup.fieldwork_start and setup.fieldwork_end and setup.fieldwork_end < setup.fieldwork_start:
        raise EditionError(N_("Fieldwork cannot end before it starts."))
    if not 0 <= setup.threshold <= 1000:
        raise EditionError(N_("The threshold is in ranking points, from 0 to 1000."))


def save_edition(campaign: Campaign | None, setup: EditionSetup, rubrics: dict[str, Rubric], actor: User) -> Campaign:
    """Create an edition, or change one; `rubrics` maps each chosen hash to its parsed rubric."""
    _check(setup)
    retired = set(db.session.scalars(sa.select(RubricVersion.hash).where(
        RubricVersion.hash.in_([ch.rubric_hash for ch in setup.channels]), RubricVersion.retired_at.is_not(None))))
    if campaign is None:
        campaign = Campaign(status="draft")
        db.session.add(campaign)
    else:
        lifecycle.require(campaign, Action.EDIT_RULES)
    used = _channels_with_contacts(campaign)
    current = {ch.channel: ch for ch in campaign.channels}
    for ch in setup.channels:
        rubric = rubrics[ch.rubric_hash]
        if rubric.channel != ch.channel:
            raise EditionError(N_("Rubric %(rubric)s is for the %(its)s channel, not %(channel)s."),
                               rubric=rubric.id, its=rubric.channel, channel=ch.channel)
        before = current.get(ch.channel)
        if ch.rubric_hash in retired and (before is None or before.rubric_hash != ch.rubric_hash):
            raise EditionError(N_("Version %(version)s of %(rubric)s is retired and cannot be pinned; choose another "
                                  "version or bring it back in the rubric library."),
                               version=rubric.version, rubric=rubric.id)
        if before is not None and before.rubric_hash != ch.rubric_hash and ch.channel in used:
            raise EditionError(N_("Contacts were already recorded with the %(channel)s rubric; it cannot change now."),
                               channel=ch.channel)
    dropped = set(current) - {ch.channel for ch in setup.channels}
    if dropped & used:
        raise EditionError(N_("Contacts were already recorded for %(channels)s; the channel cannot be removed."),
                           channels=", ".join(sorted(dropped & used)))

    campaign.name, campaign.year, campaign.threshold = setup.name.strip(), setup.year, setup.threshold
    campaign.missing_channel = "zero" if setup.missing_channel == "zero" else "exclude"
    campaign.fieldwork_start, campaign.fieldwork_end = setup.fieldwork_start, setup.fieldwork_end
    for name in dropped:
        campaign.channels.remove(current[name])
    for position, ch in enumerate(setup.channels):
        store_rubric(rubrics[ch.rubric_hash])
        row = current.get(ch.channel)
        if row is None:
            row = CampaignChannel(channel=ch.channel)
            campaign.channels.append(row)
        row.rubric_hash, row.weight, row.min_contacts, row.position = (
            ch.rubric_hash, ch.weight, ch.min_contacts, position)
    db.session.flush()
    journal.record("edition_saved", actor=actor, object_type="campaign", object_id=campaign.id,
                   campaign_id=campaign.id, threshold=campaign.threshold,
                   channels={ch.channel: [ch.rubric_hash[:12], ch.weight, ch.min_contacts] for ch in setup.channels})
    return campaign


def _channels_with_contacts(campaign: Campaign) -> set[str]:
    if campaign.id is None:
        return set()
    return set(db.session.scalars(sa.select(Contact.channel).where(Contact.campaign_id == campaign.id).distinct()))


def advance(campaign: Campaign, actor: User, target: str, outstanding: dict[str, int] | None = None) -> str:
    """Move an edition to `target`, its next stage by hand: start the fieldwork, or close it for review.

    `target` is the stage the organiser's page offered, so a repeated or stale request cannot skip
    a stage; `outstanding` is what the readiness check listed when the organiser went ahead anyway,
    kept in the decisions log.
    """
    if lifecycle.next_stage(campaign) != target:
        lifecycle.require(campaign, Action.START_FIELDWORK if target == "fieldwork" else Action.CLOSE_FIELDWORK)
        raise EditionError(N_("This page is out of date: reload it and try again."))
    if target == "fieldwork" and not campaign.channels:
        raise EditionError(N_("Choose the channels and their rubrics before the fieldwork starts."))
    before, campaign.status = campaign.status, target
    journal.record("edition_status", actor=actor, object_type="campaign", object_id=campaign.id,
                   campaign_id=campaign.id, before=before, after=target, outstanding=outstanding or {})
    db.session.flush()
    return target


def set_director_access(campaign: Campaign, appeal_until: date | None, evidence_to_directors: bool,
                        actor: User, comments: bool | None = None, plans_in_public: bool | None = None) -> None:
    """What directors may do with a published result: appeal until a day, see the evidence, read
    the auditors' comments; and whether the public pages mark the licence holders that submitted an
    improvement plan (`comments`, `plans_in_public`: None keeps the current choice).

    Unlike the scoring rules, these may change after publication: they change no result.
    """
    if appeal_until is not None and campaign.fieldwork_end is not None and appeal_until < campaign.fieldwork_end:
        raise EditionError(N_("The appeal window cannot close before the fieldwork ends."))
    before = [campaign.appeal_until.isoformat() if campaign.appeal_until else None, campaign.evidence_to_directors,
              campaign.comments_to_directors, campaign.plans_in_public]
    campaign.appeal_until, campaign.evidence_to_directors = appeal_until, evidence_to_directors
    if comments is not None:
        campaign.comments_to_directors = comments
    if plans_in_public is not None:
        campaign.plans_in_public = plans_in_public
    journal.record("director_access", actor=actor, object_type="campaign", object_id=campaign.id,
                   campaign_id=campaign.id, before=before,
                   after=[appeal_until.isoformat() if appeal_until else None, evidence_to_directors,
                          campaign.comments_to_directors, campaign.plans_in_public])
    db.session.flush()
