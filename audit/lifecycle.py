"""An edition's life cycle: its stages, and in one table what each stage allows.

    draft ──start──▶ fieldwork ──close──▶ review ──publish──▶ published ──publish again──▶ published

Use cases ask `require(edition, action)` before they change anything; templates ask
`allows(edition, action)`, so a button that would be refused is not offered and a page that
cannot be edited says why. Nothing else in the code compares an edition's stage.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from .errors import N_, RuleError

STAGES = ("draft", "fieldwork", "review", "published")


class Action(StrEnum):
    EDIT_RULES = "edit_rules"
    """Change the threshold, channels, weights, minimums and rubrics (within editions' own checks)."""
    PLAN = "plan"
    """Plan assignments, or give one to another auditor."""
    START_FIELDWORK = "start_fieldwork"
    CLOSE_FIELDWORK = "close_fieldwork"
    RECORD_CONTACT = "record_contact"
    """An auditor saves or sends a new contact, or a draft."""
    RESUBMIT = "resubmit"
    """An auditor corrects and sends again a returned contact (a late save of a sent one is kept as a copy)."""
    REVIEW = "review"
    """Accept a sent contact."""
    RETURN = "return"
    """Send a contact back to its auditor for correction."""
    CORRECT = "correct"
    """Correct an answer with a reason."""
    OVERRIDE = "override"
    """Decide a licence against the engine, with a reason."""
    PUBLISH = "publish"
    APPEAL = "appeal"
    """A director contests a published contact (within the appeal window, checked by audit.appeals)."""
    SEE_ASSIGNMENTS = "see_assignments"
    """An auditor sees their assignments of the edition (a draft edition's plan is not theirs yet)."""


ALLOWED: dict[Action, frozenset[str]] = {
    Action.EDIT_RULES: frozenset({"draft", "fieldwork", "review"}),
    Action.PLAN: frozenset({"draft", "fieldwork"}),
    Action.START_FIELDWORK: frozenset({"draft"}),
    Action.CLOSE_FIELDWORK: frozenset({"fieldwork"}),
    Action.RECORD_CONTACT: frozenset({"fieldwork"}),
    Action.RESUBMIT: frozenset({"fieldwork", "review"}),
    Action.REVIEW: frozenset({"fieldwork", "review", "published"}),
    Action.RETURN: frozenset({"fieldwork", "review"}),  # after publication nobody could send it again
    Action.CORRECT: frozenset({"fieldwork", "review", "published"}),
    Action.OVERRIDE: frozenset({"fieldwork", "review", "published"}),
    Action.PUBLISH: frozenset({"review", "published"}),
    Action.APPEAL: frozenset({"published"}),
    Action.SEE_ASSIGNMENTS: frozenset({"fieldwork", "review", "published"}),
}

# Why an action is refused: per action, with a sharper word for some stages.
_WHY: dict[Action, str] = {
    Action.EDIT_RULES: N_("A published edition's rules are frozen; its revisions record what was published."),
    Action.PLAN: N_("The fieldwork of this edition is over; nothing more can be planned."),
    Action.START_FIELDWORK: N_("The fieldwork of this edition has already started."),
    Action.CLOSE_FIELDWORK: N_("Only an edition in fieldwork can have its fieldwork closed."),
    Action.RECORD_CONTACT: N_("This edition is closed: contacts can no longer be saved or sent."),
    Action.RESUBMIT: N_("This edition is closed: contacts can no longer be saved or sent."),
    Action.REVIEW: N_("Contacts are reviewed once the fieldwork has started."),
    Action.RETURN: N_("A contact of a published edition cannot be returned to its auditor; correct the answer "
                      "with a reason instead."),
    Action.CORRECT: N_("Contacts are corrected once the fieldwork has started."),
    Action.OVERRIDE: N_("Licences are decided after the fieldwork."),
    Action.PUBLISH: N_("Close the fieldwork before publishing."),
    Action.APPEAL: N_("Only a contact of a published result can be contested."),
    Action.SEE_ASSIGNMENTS: N_("The fieldwork of this edition has not started yet."),
}
_WHY_IN: dict[tuple[Action, str], str] = {
    (Action.RECORD_CONTACT, "draft"): N_("The fieldwork of this edition has not started yet."),
    (Action.RESUBMIT, "draft"): N_("The fieldwork of this edition has not started yet."),
    (Action.RECORD_CONTACT, "review"): N_(
        "Fieldwork of this edition is closed: new contacts can no longer be sent. "
        "Only a contact the reviewer returned to you can be corrected and sent again."),
}


class StageRefused(RuleError):
    """An action the edition's stage does not allow; the message says why."""

    status = 409


class Staged(Protocol):
    status: str


def allows(edition: Staged | str, action: Action | str) -> bool:
    stage = edition if isinstance(edition, str) else edition.status
    return stage in ALLOWED[Action(action)]


def why_not(edition: Staged | str, action: Action | str) -> str | None:
    """The (untranslated) reason the stage refuses the action, or None if it allows it."""
    stage = edition if isinstance(edition, str) else edition.status
    action = Action(action)
    if stage in ALLOWED[action]:
        return None
    return _WHY_IN.get((action, stage)) or _WHY[action]


def require(edition: Staged | str, action: Action | str) -> None:
    """Raise StageRefused unless the edition's stage allows the action."""
    if (why := why_not(edition, action)) is not None:
        raise StageRefused(why)


def stages_allowing(action: Action | str) -> tuple[str, ...]:
    """The stages in which the action is allowed, in life-cycle order (for a query's IN)."""
    return tuple(s for s in STAGES if s in ALLOWED[Action(action)])


def next_stage(edition: Staged) -> str | None:
    """The stage an organiser moves the edition to by hand (publishing is audit.publication's)."""
    return {"draft": "fieldwork", "fieldwork": "review"}.get(edition.status)


def contact_action(contact_status: str | None) -> Action:
    """What an auditor's save of a contact is, by the contact's state (None: not started)."""
    return Action.RECORD_CONTACT if contact_status in (None, "draft") else Action.RESUBMIT
