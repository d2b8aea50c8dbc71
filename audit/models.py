"""Database tables. Typed columns only: no scoring here (that is audit.scoring's job)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db

ROLES = ("organiser", "auditor", "director")
CAMPAIGN_STATUSES = ("draft", "fieldwork", "review", "published")
CONTACT_STATUSES = ("draft", "submitted", "returned", "accepted")
CATEGORIES = ("social_welfare", "municipal_services", "utility", "helpline")


def utcnow() -> datetime:
    """Naive UTC, stored the same way on SQLite and PostgreSQL."""
    return datetime.now(UTC).replace(tzinfo=None)


director_institution = sa.Table(
    "director_institution",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("institution_id", sa.ForeignKey("institution.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, db.Model):
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    role: so.Mapped[str] = so.mapped_column(sa.String(20))
    password_hash: so.Mapped[str | None] = so.mapped_column(sa.String(256))
    pseudonym: so.Mapped[str | None] = so.mapped_column(sa.String(40), unique=True)
    """What others may see of an auditor: never the name."""
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    language: so.Mapped[str] = so.mapped_column(sa.String(5), default="pl", server_default="pl")
    """The language of the mail the person receives: the one they last chose in the app, Polish until then."""

    institutions: so.Mapped[list[Institution]] = so.relationship(
        secondary=director_institution, back_populates="directors", order_by="Institution.id")
    """In id order on every database (PostgreSQL returns a join's rows in no order of its own)."""

    @property
    def is_active(self) -> bool:  # Flask-Login: a deactivated account cannot log in
        return self.active

    def get_id(self) -> str:
        """The session's user id, bound to the current password: a new password ends every other session."""
        return f"{self.id}:{self.password_stamp()}"

    def password_stamp(self) -> str:
        from flask import current_app

        key = str(current_app.config["SECRET_KEY"]).encode()
        return hmac.new(key, (self.password_hash or "").encode(), hashlib.sha256).hexdigest()[:16]

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)  # scrypt

    def check_password(self, password: str) -> bool:
        return self.password_hash is not None and check_password_hash(self.password_hash, password)


class Institution(db.Model):
    __table_args__ = (sa.UniqueConstraint("name", "city", name="uq_institution_name_city"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(300))
    category: so.Mapped[str] = so.mapped_column(sa.String(40), index=True)
    city: so.Mapped[str] = so.mapped_column(sa.String(120))
    region: so.Mapped[str] = so.mapped_column(sa.String(120), index=True)
    channels: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    """The channels the institution offers (visit, phone, email, social, website)."""
    # How an auditor reaches it, shown on the assignment ("" when unknown).
    address: so.Mapped[str] = so.mapped_column(sa.String(300), default="", server_default="")
    phone: so.Mapped[str] = so.mapped_column(sa.String(60), default="", server_default="")
    email: so.Mapped[str] = so.mapped_column(sa.String(254), default="", server_default="")
    website: so.Mapped[str] = so.mapped_column(sa.String(300), default="", server_default="")
    social: so.Mapped[str] = so.mapped_column(sa.String(300), default="", server_default="")
    opening_hours: so.Mapped[str] = so.mapped_column(sa.String(500), default="", server_default="")
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    directors: so.Mapped[list[User]] = so.relationship(
        secondary=director_institution, back_populates="institutions", order_by="User.id")


class RubricVersion(db.Model):
    """The text of every rubric version ever used, so any stored score can be reproduced."""

    __table_args__ = (sa.UniqueConstraint("rubric_id", "version", name="uq_rubric_version_id_version"),)

    hash: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    rubric_id: so.Mapped[str] = so.mapped_column(sa.String(64))
    version: so.Mapped[str] = so.mapped_column(sa.String(40))
    channel: so.Mapped[str] = so.mapped_column(sa.String(20))
    source: so.Mapped[str] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    retired_at: so.Mapped[datetime | None]
    """Set when an organiser retired the version: no edition may pin it any more (its text stays, for the
    scores recorded with it)."""


class RubricTestCase(db.Model):
    """Sample answers saved with a rubric, and the points they earned then: re-run on every later version
    of the same rubric (by its id), so a change that moves a score is seen before an edition pins it."""

    __table_args__ = (sa.UniqueConstraint("rubric_id", "name", name="uq_rubric_test_case_rubric_id_name"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    rubric_id: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    saved_with: so.Mapped[str] = so.mapped_column(sa.ForeignKey("rubric_version.hash"))
    """The version the answers were filled in on."""
    answers: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    """{"answers": {criterion: answer as the form sends it}, "facts": {fact: value}}."""
    expected: so.Mapped[dict[str, str]] = so.mapped_column(sa.JSON)
    """Criterion id -> the points it earned when saved, as an exact decimal text ("1.5")."""
    expected_total: so.Mapped[str] = so.mapped_column(sa.String(40))
    author_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class Campaign(db.Model):
    """A contest edition."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    year: so.Mapped[int]
    status: so.Mapped[str] = so.mapped_column(sa.String(20), default="draft")
    threshold: so.Mapped[float] = so.mapped_column(default=800.0)
    """Ranking points (0-1000) needed for a licence."""
    missing_channel: so.Mapped[str] = so.mapped_column(sa.String(10), default="exclude")
    """A channel an institution does not offer: "exclude" from its score or count as "zero"."""
    fieldwork_start: so.Mapped[date | None]
    fieldwork_end: so.Mapped[date | None]
    appeal_until: so.Mapped[date | None]
    """Directors may contest a published contact until this day (None: no appeals)."""
    evidence_to_directors: so.Mapped[bool] = so.mapped_column(default=False)
    """Whether directors may open the evidence of their institution's contacts."""
    comments_to_directors: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    """Whether directors read the auditors' comments on the criteria of their published contacts."""
    plans_in_public: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    """Whether the registry and the method page mark the edition's licence holders that submitted an
    improvement plan (never the plan's content or author)."""
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    channels: so.Mapped[list[CampaignChannel]] = so.relationship(
        back_populates="campaign", cascade="all, delete-orphan", order_by="CampaignChannel.position")


class CampaignChannel(db.Model):
    """One channel of an edition: its pinned rubric version, weight and minimum contacts."""

    campaign_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True)
    channel: so.Mapped[str] = so.mapped_column(sa.String(20), primary_key=True)
    rubric_hash: so.Mapped[str] = so.mapped_column(sa.ForeignKey("rubric_version.hash"))
    weight: so.Mapped[float]
    min_contacts: so.Mapped[int] = so.mapped_column(default=1)
    position: so.Mapped[int] = so.mapped_column(default=0)

    campaign: so.Mapped[Campaign] = so.relationship(back_populates="channels")
    rubric: so.Mapped[RubricVersion] = so.relationship()


class Assignment(db.Model):
    """A planned contact: which auditor contacts which institution, by which channel, about what."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    campaign_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    institution_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("institution.id"))
    channel: so.Mapped[str] = so.mapped_column(sa.String(20))
    auditor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    scenario: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    scenario_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("scenario.id", ondelete="SET NULL"))
    """The library scenario the text came from, so an institution is not asked the same thing twice."""
    calibration_group_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("calibration_group.id", ondelete="SET NULL"))
    """Set when the assignment is to score shared material for a calibration (its contact inherits it)."""
    due_start: so.Mapped[date | None]
    due_end: so.Mapped[date | None]
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    institution: so.Mapped[Institution] = so.relationship()
    auditor: so.Mapped[User] = so.relationship()
    campaign: so.Mapped[Campaign] = so.relationship()
    channel_rules: so.Mapped[CampaignChannel | None] = so.relationship(
        primaryjoin="and_(CampaignChannel.campaign_id == foreign(Assignment.campaign_id), "
                    "CampaignChannel.channel == foreign(Assignment.channel))", viewonly=True)
    """The edition's settings for this assignment's channel (None once the edition stops auditing it)."""


class Contact(db.Model):
    """One recorded contact of an auditor with an institution through one channel."""

    __table_args__ = (
        sa.Index("ix_contact_campaign_status", "campaign_id", "status"),
        sa.UniqueConstraint("assignment_id", name="uq_contact_assignment_id"),  # one record per planned contact
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    campaign_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("campaign.id", ondelete="CASCADE"))
    institution_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("institution.id"), index=True)
    channel: so.Mapped[str] = so.mapped_column(sa.String(20))
    auditor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    assignment_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("assignment.id"))
    client_id: so.Mapped[str | None] = so.mapped_column(sa.String(36), unique=True)
    """Made on the auditor's phone, so a retried submission never makes a second contact."""
    contacted_at: so.Mapped[datetime | None]
    scenario: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    status: so.Mapped[str] = so.mapped_column(sa.String(20), default="draft")
    rubric_hash: so.Mapped[str] = so.mapped_column(sa.ForeignKey("rubric_version.hash"))
    facts: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    """Recorded facts of the contact: rings, wait_minutes, reply_hours, platform, ..."""
    review_comment: so.Mapped[str | None] = so.mapped_column(sa.Text)
    """The reviewer's reason for returning the contact to its auditor."""
    calibration_group_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("calibration_group.id", ondelete="SET NULL"), index=True)
    """Set on a calibration contact: one of several auditors' scorings of the same interaction.
    Calibration contacts measure agreement between auditors and never count in the ranking."""
    submitted_at: so.Mapped[datetime | None]
    reviewed_at: so.Mapped[datetime | None]
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)
    version: so.Mapped[int] = so.mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declaration

    institution: so.Mapped[Institution] = so.relationship()
    auditor: so.Mapped[User] = so.relationship()
    answers: so.Mapped[list[Answer]] = so.relationship(back_populates="contact", cascade="all, delete-orphan")
    evidence: so.Mapped[list[Evidence]] = so.relationship(
        back_populates="contact", cascade="all, delete-orphan", order_by="Evidence.id")
    copies: so.Mapped[list[ContactCopy]] = so.relationship(
        back_populates="contact", cascade="all, delete-orphan", order_by="ContactCopy.id")

    @property
    def editable(self) -> bool:
        return self.status in ("draft", "returned")


class CalibrationGroup(db.Model):
    """One interaction (a recorded call, an e-mail thread, a paired visit) scored by several auditors."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    campaign_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    channel: so.Mapped[str] = so.mapped_column(sa.String(20))
    institution_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("institution.id"))
    label: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    """What was scored, e.g. "recorded call of 12 October"."""
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class ContactCopy(db.Model):
    """A save that arrived for an older state of its contact (another device, a stale tab).

    It is never applied over the newer record and never thrown away: the auditor sees it
    beside the record and decides which answers to keep.
    """

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    contact_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    client_id: so.Mapped[str | None] = so.mapped_column(sa.String(36))
    base_version: so.Mapped[int | None]
    payload: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    """The form fields as sent: answers, comments and facts."""
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    dismissed_at: so.Mapped[datetime | None]

    contact: so.Mapped[Contact] = so.relationship(back_populates="copies")


class Evidence(db.Model):
    """A file attached to a contact: a photo, a screenshot, a text, an e-mail.

    Stored outside static/ under a random name; images are re-encoded without metadata. The
    original name is for the auditor and organisers only: directors see a neutral one.
    """

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    contact_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(10))
    """"image", "text" or "email" (an .eml kept byte for byte; older .eml files were stored as "text")."""
    original_name: so.Mapped[str] = so.mapped_column(sa.String(200))
    content_type: so.Mapped[str] = so.mapped_column(sa.String(60))
    size: so.Mapped[int]
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    storage_key: so.Mapped[str] = so.mapped_column(sa.String(120), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    contact: so.Mapped[Contact] = so.relationship(back_populates="evidence")


class Answer(db.Model):
    """One criterion's answer, with the points the engine gave it under the contact's rubric.

    earned/possible/critical_failed are the engine's result for this answer, stored so that
    a whole campaign can be totalled with one SQL aggregate; N/A and hidden criteria store 0/0.
    """

    __table_args__ = (
        sa.UniqueConstraint("contact_id", "criterion_id", name="uq_answer_contact_criterion"),
        # Failed critical criteria are rare: a partial index finds them without scanning every answer.
        sa.Index("ix_answer_critical_failed", "contact_id", sqlite_where=sa.text("critical_failed = 1"),
                 postgresql_where=sa.text("critical_failed")),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    contact_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("contact.id", ondelete="CASCADE"))
    criterion_id: so.Mapped[str] = so.mapped_column(sa.String(64))
    value: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    comment: so.Mapped[str | None] = so.mapped_column(sa.Text)
    earned: so.Mapped[float] = so.mapped_column(default=0.0)
    possible: so.Mapped[float] = so.mapped_column(default=0.0)
    critical_failed: so.Mapped[bool] = so.mapped_column(default=False)

    contact: so.Mapped[Contact] = so.relationship(back_populates="answers")


class Licence(db.Model):
    """A quality licence granted to an institution for an edition."""

    __table_args__ = (sa.UniqueConstraint("campaign_id", "institution_id", name="uq_licence_campaign_institution"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    campaign_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("campaign.id"))
    institution_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("institution.id"))
    number: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    points: so.Mapped[float]
    granted_at: so.Mapped[date]
    valid_until: so.Mapped[date]
    revoked_at: so.Mapped[datetime | None]
    revoked_reason: so.Mapped[str | None] = so.mapped_column(sa.Text)


class Scenario(db.Model):
    """What the mystery client asks about, from the organisers' library, per channel and category."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    channel: so.Mapped[str] = so.mapped_column(sa.String(20), index=True)
    category: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    """None: suits institutions of every category."""
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class AuditorConflict(db.Model):
    """An institution, or every institution of a town, that an auditor must never be given."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    auditor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    institution_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("institution.id", ondelete="CASCADE"))
    city: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    reason: so.Mapped[str] = so.mapped_column(sa.Text, default="")

    institution: so.Mapped[Institution | None] = so.relationship()


class Invitation(db.Model):
    """A one-time link to set a password (an invitation or a reset). Only the token's hash is kept."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    purpose: so.Mapped[str] = so.mapped_column(sa.String(10))
    """"invite" or "reset"."""
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    expires_at: so.Mapped[datetime]
    used_at: so.Mapped[datetime | None]

    user: so.Mapped[User] = so.relationship()


class AnswerCorrection(db.Model):
    """A reviewer's correction of one answer: the original and the corrected value, and why."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    contact_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    criterion_id: so.Mapped[str] = so.mapped_column(sa.String(64))
    original_value: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    corrected_value: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    reason: so.Mapped[str] = so.mapped_column(sa.Text)
    corrected_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    corrected_by: so.Mapped[User] = so.relationship()


class AuditEvent(db.Model):
    """Append-only log of every decision that changes a result: who, when, what, why.

    Rows are only ever inserted (audit.journal.record); nothing updates or deletes them.
    """

    __table_args__ = (sa.Index("ix_audit_event_object", "object_type", "object_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    action: so.Mapped[str] = so.mapped_column(sa.String(40))
    campaign_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("campaign.id", ondelete="SET NULL"), index=True)
    object_type: so.Mapped[str] = so.mapped_column(sa.String(20))
    object_id: so.Mapped[int | None]
    reason: so.Mapped[str | None] = so.mapped_column(sa.Text)
    details: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)

    actor: so.Mapped[User | None] = so.relationship()


class LicenceOverride(db.Model):
    """The organiser's decision over the engine's for one institution of an edition, with its reason."""

    campaign_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True)
    institution_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("institution.id"), primary_key=True)
    licensed: so.Mapped[bool]
    reason: so.Mapped[str] = so.mapped_column(sa.Text)
    decided_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    decided_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class Revision(db.Model):
    """A published ranking of an edition, frozen: rows are written once and never changed.

    A later correction or override is published as the next revision; every revision stays
    readable and exportable.
    """

    __table_args__ = (sa.UniqueConstraint("campaign_id", "number", name="uq_revision_campaign_number"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    campaign_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    number: so.Mapped[int]
    published_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    published_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    threshold: so.Mapped[float]
    """The edition's threshold when published."""
    rules: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    """The rules it was scored with (weights, minimums, threshold, missing-channel policy), for
    `flask results verify`; None for revisions published before they were kept."""
    figures: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    """What its readers summarise, computed once at publication (audit.standings.revision_figures): the peers
    every scorecard compares against and the contacts behind each channel; None before they were kept."""

    standings: so.Mapped[list[RevisionStanding]] = so.relationship(
        back_populates="revision", cascade="all, delete-orphan", order_by="RevisionStanding.position")


class RevisionAnswer(db.Model):
    """One answer of a counted contact exactly as a published revision counted it.

    Written once at publish (one INSERT ... SELECT), so that a director reads the answers, points
    and comments behind the published result even after a later correction, until the next revision.
    """

    revision_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("revision.id", ondelete="CASCADE"), primary_key=True)
    contact_id: so.Mapped[int] = so.mapped_column(primary_key=True)
    criterion_id: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    value: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    comment: so.Mapped[str | None] = so.mapped_column(sa.Text)
    earned: so.Mapped[float]
    possible: so.Mapped[float]


class RevisionStanding(db.Model):
    """One institution's frozen result in a published revision."""

    revision_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("revision.id", ondelete="CASCADE"), primary_key=True)
    institution_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("institution.id"), primary_key=True)
    position: so.Mapped[int]
    """Order in the ranking (ties keep the engine's order)."""
    category: so.Mapped[str] = so.mapped_column(sa.String(40))
    points: so.Mapped[float | None]
    rank: so.Mapped[int | None]
    category_rank: so.Mapped[int | None]
    engine_licensed: so.Mapped[bool]
    licensed: so.Mapped[bool]
    """The final decision: the engine's, or the organiser's override."""
    override_reason: so.Mapped[str | None] = so.mapped_column(sa.Text)
    reasons: so.Mapped[list[Any]] = so.mapped_column(sa.JSON, default=list)
    """The engine's reasons, as [code, detail] pairs."""
    channels: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    """channel -> {"status", "score" (0-1 or None), "weight", "contacts": n, "contact_ids", "contact_scores"}"""
    certainty: so.Mapped[list[Any] | None] = so.mapped_column(sa.JSON)
    """Its bootstrap interval (audit.fairness.RankInterval as a list), computed from the revision's rows."""

    revision: so.Mapped[Revision] = so.relationship(back_populates="standings")
    institution: so.Mapped[Institution] = so.relationship()


APPEAL_STATUSES = ("open", "upheld", "rejected")


class Appeal(db.Model):
    """A director contests one contact of a published edition; an organiser resolves it with a reason.

    An upheld appeal changes scores only through a correction and a new published revision.
    """

    __table_args__ = (
        # One appeal at a time per contact, held by the database so that a race cannot file two.
        sa.Index("uq_appeal_open_contact", "contact_id", unique=True, sqlite_where=sa.text("status = 'open'"),
                 postgresql_where=sa.text("status = 'open'")),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    campaign_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    contact_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    institution_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("institution.id"))
    director_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    reason: so.Mapped[str] = so.mapped_column(sa.Text)
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="open")
    resolution: so.Mapped[str | None] = so.mapped_column(sa.Text)
    resolved_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    resolved_at: so.Mapped[datetime | None]
    revision_number: so.Mapped[int | None]
    """The published revision the director read when contesting (None for appeals filed before it was kept)."""
    document_key: so.Mapped[str | None] = so.mapped_column(sa.String(120), unique=True)
    """The director's attached document, checked and cleaned like evidence (audit/evidence.py), stored by this key."""
    document_name: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    document_kind: so.Mapped[str | None] = so.mapped_column(sa.String(10))
    document_type: so.Mapped[str | None] = so.mapped_column(sa.String(60))
    document_size: so.Mapped[int | None]

    contact: so.Mapped[Contact] = so.relationship()
    institution: so.Mapped[Institution] = so.relationship()
    criteria: so.Mapped[list[AppealCriterion]] = so.relationship(
        back_populates="appeal", cascade="all, delete-orphan", order_by="AppealCriterion.id")


class AppealCriterion(db.Model):
    """One contested criterion of an appeal and the organiser's decision on it, with the reason."""

    __table_args__ = (sa.UniqueConstraint("appeal_id", "criterion_id", name="uq_appeal_criterion"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    appeal_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("appeal.id", ondelete="CASCADE"), index=True)
    criterion_id: so.Mapped[str] = so.mapped_column(sa.String(64))
    decision: so.Mapped[str | None] = so.mapped_column(sa.String(10))
    """None while waiting, then "upheld" or "rejected"."""
    reason: so.Mapped[str | None] = so.mapped_column(sa.Text)
    decided_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    decided_at: so.Mapped[datetime | None]

    appeal: so.Mapped[Appeal] = so.relationship(back_populates="criteria")


PLAN_STATUSES = ("draft", "submitted")


class ImprovementPlan(db.Model):
    """A director's plan to win back lost criteria of an edition: actions, who does them, by when.

    The next edition's scorecard measures each planned criterion before and after (audit/plans.py).
    """

    __table_args__ = (sa.UniqueConstraint("campaign_id", "institution_id", name="uq_plan_campaign_institution"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    campaign_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    institution_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("institution.id"))
    author_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="draft")
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    submitted_at: so.Mapped[datetime | None]
    organiser_comment: so.Mapped[str | None] = so.mapped_column(sa.Text)
    commented_at: so.Mapped[datetime | None]

    institution: so.Mapped[Institution] = so.relationship()
    actions: so.Mapped[list[PlanAction]] = so.relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanAction.id")


class PlanAction(db.Model):
    """One action of an improvement plan, aimed at one criterion of one channel."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    plan_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("improvement_plan.id", ondelete="CASCADE"), index=True)
    channel: so.Mapped[str] = so.mapped_column(sa.String(20))
    criterion_id: so.Mapped[str] = so.mapped_column(sa.String(64))
    what: so.Mapped[str] = so.mapped_column(sa.Text)
    who: so.Mapped[str] = so.mapped_column(sa.String(200))
    due: so.Mapped[date | None]

    plan: so.Mapped[ImprovementPlan] = so.relationship(back_populates="actions")


class LoginThrottle(db.Model):
    """Login attempts not yet proven good, per key, so that guessing passwords is slow everywhere:
    the counts live in the database, shared by every worker process (audit.login_guard)."""

    key: so.Mapped[str] = so.mapped_column(sa.String(300), primary_key=True)
    """"pair:<e-mail>|<IP>", "account:<e-mail>" or "address:<IP>"."""
    failures: so.Mapped[int] = so.mapped_column(default=0)
    last_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    """When the last attempt was counted: waits are measured from it, and the count is forgotten
    after an hour without one."""


class UserSession(db.Model):
    """A logged-in session, known to the server, so that logging out, a new password or a
    deactivation ends it everywhere, and an idle or old one ends by itself (audit.sessions).

    The browser holds the token; only its SHA-256 is stored, so a copy of the database opens
    no session."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    started_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    seen_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    ended_at: so.Mapped[datetime | None]
    ended_why: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    """"logout", "password", "deactivated"."""

    user: so.Mapped[User] = so.relationship()


class ResultSnapshot(db.Model):
    """An edition's live result as last computed, under the stamp of the state it was computed from
    (audit.result_cache): read by every process instead of recomputing the edition; a stale one is ignored."""

    kind: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)
    campaign_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True)
    stamp: so.Mapped[str] = so.mapped_column(sa.Text)
    computed_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    data: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary)


class Setting(db.Model):
    """Small facts about the database itself, e.g. that the demo command made it."""

    key: so.Mapped[str] = so.mapped_column(sa.String(60), primary_key=True)
    value: so.Mapped[str] = so.mapped_column(sa.Text)


MAIL_STATUSES = ("waiting", "sending", "sent", "failed")


class MailMessage(db.Model):
    """One e-mail in the outbox, written in the same transaction as the event that causes it (audit.mail).

    The row is the delivery job's input: a worker claims it, sends it and records the outcome
    (audit.outbox). `key` names the event, so one event never makes two messages."""

    __table_args__ = (sa.Index("ix_mail_message_due", "status", "next_attempt_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    key: so.Mapped[str] = so.mapped_column(sa.String(120), unique=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(40))
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    to_address: so.Mapped[str] = so.mapped_column(sa.String(254))
    language: so.Mapped[str] = so.mapped_column(sa.String(5))
    subject: so.Mapped[str] = so.mapped_column(sa.String(300))
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    html: so.Mapped[str] = so.mapped_column(sa.Text)
    secret: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    """A one-time link's token in the body: blanked out of the stored copy once the message is sent or has failed."""
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="waiting")
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    next_attempt_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    claimed_at: so.Mapped[datetime | None]
    claim: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    """Which worker's attempt holds the row while it is "sending"; a crashed worker's claim lapses."""
    sent_at: so.Mapped[datetime | None]
    last_error: so.Mapped[str | None] = so.mapped_column(sa.Text)
    """The SMTP server's answer (or why no server was reached) at the last failed attempt."""

    user: so.Mapped[User | None] = so.relationship()


class MailOptOut(db.Model):
    """A kind of notification a person has turned off (audit.mail.PREFERENCES names them).

    A row means "do not send"; none means the default, which is to send. Mail about the account
    itself (an invitation, a password reset) has no row to turn it off."""

    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    topic: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class JobRecord(db.Model):
    """One piece of long work asked for by an organiser (a national export, the fairness analysis), run
    by a worker (audit.job_records). Its state, progress and outcome are what the organiser sees.

    `key` names what the job computes (kind, edition, the edition's state...), so asking twice
    for the same thing while it is pending makes one job."""

    __table_args__ = (sa.Index("ix_job_record_due", "state", "next_attempt_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    key: so.Mapped[str] = so.mapped_column(sa.String(200), unique=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(40))
    campaign_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    requested_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    params: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    state: so.Mapped[str] = so.mapped_column(sa.String(10), default="queued")
    """queued, running, done or failed."""
    done: so.Mapped[int] = so.mapped_column(default=0)
    total: so.Mapped[int] = so.mapped_column(default=0)
    message: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    """What the job is doing now, as a msgid translated when shown."""
    result_path: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    """The file the job made, relative to JOBS_DIR; None until done, and again once the file is removed."""
    error: so.Mapped[str | None] = so.mapped_column(sa.Text)
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    next_attempt_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    started_at: so.Mapped[datetime | None]
    heartbeat_at: so.Mapped[datetime | None]
    """Set at the claim and at each progress report: a running job whose worker died stops beating."""
    claim: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    finished_at: so.Mapped[datetime | None]
    expires_at: so.Mapped[datetime | None]
    """When the result file is removed (JOBS_KEEP_HOURS after it was made)."""

    requester: so.Mapped[User | None] = so.relationship()
    campaign: so.Mapped[Campaign | None] = so.relationship()
