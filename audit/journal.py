"""The audit log: every decision that changes a result, appended, never edited.

Review outcomes, corrections, licence overrides, grants and revocations, publications:
each use case calls record() (or append(), where no row object is wanted back) in the same
transaction as the change it logs, so a change and its entry are committed together or not at all.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .extensions import db
from .models import AuditEvent, User, utcnow


def record(action: str, *, actor: User | None, object_type: str, object_id: int | None,
           campaign_id: int | None = None, reason: str | None = None, **details: Any) -> AuditEvent:
    """Append one entry; details must be JSON-serialisable."""
    event = AuditEvent(action=action, actor_id=actor.id if actor is not None else None, object_type=object_type,
                       object_id=object_id, campaign_id=campaign_id, reason=reason or None, details=details)
    db.session.add(event)
    return event


def append(action: str, *, actor_id: int | None, object_type: str, object_id: int | None,
           campaign_id: int | None = None, **details: Any) -> None:
    """Append one entry at once, as one statement with no row object for the session to track
    (the auditor's submission, the busiest writer of the log)."""
    db.session.connection().execute(_APPEND, {
        "at": utcnow(), "action": action, "actor_id": actor_id, "object_type": object_type, "object_id": object_id,
        "campaign_id": campaign_id, "reason": None, "details": details})


_APPEND = sa.insert(AuditEvent.__table__)


def history(object_type: str, object_id: int) -> list[AuditEvent]:
    """Every entry about one object, oldest first."""
    return list(db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
        .order_by(AuditEvent.at, AuditEvent.id)))


def campaign_log(campaign_id: int, limit: int = 500) -> list[AuditEvent]:
    """The newest entries of an edition, newest first."""
    return list(db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.campaign_id == campaign_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)))
