"""People's accounts: creating them, one-time links to set a password, deactivation, auditors' conflicts.

No organiser ever types or sees a password: an account is created without one and its owner
sets it through a one-time link (an invitation, or a reset). Only the SHA-256 of a link's token
is stored, so a copy of the database opens no account. Plain functions over the database that
only flush; the view commits. No Flask request here.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache

import sqlalchemy as sa
import sqlalchemy.orm as so
from werkzeug.security import check_password_hash, generate_password_hash

from . import sessions
from .errors import N_, RuleError
from .extensions import db
from .models import ROLES, Assignment, AuditorConflict, Campaign, Contact, Institution, Invitation, User, utcnow
from .paging import Page, paginate

LIFETIMES = {"invite": timedelta(days=7), "reset": timedelta(hours=2)}
MIN_PASSWORD_LENGTH = 12
PSEUDONYM = re.compile(r"^A-(\d+)$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(RuleError):
    """An account change the rules refuse; the message says why."""


class PasswordRejected(RuleError):
    """A new password that breaks the password rules."""

    status = 422


class InvalidLink(Exception):
    """A link that is unknown, expired, already used, or for a deactivated account.

    `why` is for logs and tests only: the page tells the visitor nothing about the account.
    """

    def __init__(self, why: str):
        self.why = why
        super().__init__(why)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- accounts ------------------------------------------------------------------------------


@cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_hex(16))  # the same scrypt cost as a real one


def authenticate(email: str, password: str) -> User | None:
    """The active account with this e-mail and password, or None.

    Always one password hash check, against a dummy hash when there is no such active account:
    the answer takes as long whether or not the address has an account, so timing tells an
    institution nothing about who might be one of our auditors.
    """
    user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.strip().lower()))
    stored = user.password_hash if user is not None and user.active else None
    matches = check_password_hash(stored or _dummy_hash(), password)
    return user if matches and stored else None


def next_pseudonym() -> str:
    """The next free auditor pseudonym in the demo's style: A-01, A-02, ... (A-100 past 99)."""
    used = [int(m.group(1)) for p in db.session.scalars(sa.select(User.pseudonym).where(User.pseudonym.is_not(None)))
            if p and (m := PSEUDONYM.match(p))]
    return f"A-{max(used, default=0) + 1:02d}"


def _check_email(email: str, user_id: int | None) -> str:
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise AccountError(N_("“%(email)s” does not look like an e-mail address."), email=email)
    taken = db.session.scalar(sa.select(User.id).where(sa.func.lower(User.email) == email, User.id != (user_id or 0)))
    if taken is not None:
        raise AccountError(N_("Another account already uses the e-mail %(email)s."), email=email)
    return email


def _check_pseudonym(pseudonym: str, user_id: int | None) -> str:
    pseudonym = " ".join(pseudonym.split())
    taken = db.session.scalar(sa.select(User.id).where(sa.func.lower(User.pseudonym) == pseudonym.lower(),
                                                       User.id != (user_id or 0)))
    if taken is not None:
        raise AccountError(N_("The pseudonym %(pseudonym)s is already taken."), pseudonym=pseudonym)
    return pseudonym


def create_user(role: str, name: str, email: str, pseudonym: str | None = None,
                institution_ids: Sequence[int] = (), language: str = "pl") -> User:
    """A new account without a password: its owner sets one through an invitation link."""
    if role not in ROLES:
        raise AccountError(N_("Unknown role %(role)s."), role=role)
    user = User(role=role, name=" ".join(name.split()), email=_check_email(email, None), password_hash=None,
                active=True, language=_check_language(language))
    if role == "auditor":
        user.pseudonym = _check_pseudonym(pseudonym, None) if pseudonym and pseudonym.strip() else next_pseudonym()
    if role == "director":
        user.institutions = _institutions(institution_ids)
    db.session.add(user)
    db.session.flush()
    return user


def update_user(user: User, name: str, email: str, pseudonym: str | None = None,
                institution_ids: Sequence[int] | None = None, language: str | None = None) -> User:
    """Change a person's details; the role stays what it was created as."""
    user.name = " ".join(name.split())
    user.email = _check_email(email, user.id)
    if language is not None:
        user.language = _check_language(language)
    if user.role == "auditor":
        user.pseudonym = _check_pseudonym(pseudonym, user.id) if pseudonym and pseudonym.strip() \
            else user.pseudonym or next_pseudonym()
    if user.role == "director" and institution_ids is not None:
        user.institutions = _institutions(institution_ids)
    db.session.flush()
    return user


MAIL_LANGUAGES = ("pl", "en")


def _check_language(language: str) -> str:
    if language not in MAIL_LANGUAGES:
        raise AccountError(N_("Mail can be sent in Polish or English only."))
    return language


def _institutions(ids: Sequence[int]) -> list[Institution]:
    return list(db.session.scalars(sa.select(Institution).where(Institution.id.in_(ids)))) if ids else []


def check_deactivation(user: User, actor: User) -> None:
    """Refuse what no confirmation can allow (one's own account), before anyone is asked to confirm."""
    if user.id == actor.id:
        raise AccountError(N_("You cannot deactivate your own account."))


def set_active(user: User, active: bool, actor: User) -> None:
    """Deactivate (the account can no longer log in; its open links die) or reactivate."""
    if not active:
        check_deactivation(user, actor)
    user.active = active
    if not active:
        _close_links(user.id, utcnow())
        sessions.end_all(user.id, "deactivated")
    db.session.flush()


def open_assignments(user: User) -> int:
    """An auditor's work still to send: assignments of editions before or in fieldwork without a sent contact,
    and contacts the reviewer returned (which may be sent again after fieldwork closes)."""
    unsent = sa.or_(Contact.id.is_(None), Contact.status == "draft")
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Assignment).join(Campaign, Campaign.id == Assignment.campaign_id)
        .outerjoin(Contact, Contact.assignment_id == Assignment.id)
        .where(Assignment.auditor_id == user.id, sa.or_(
            sa.and_(Campaign.status.in_(("draft", "fieldwork")), unsent),
            sa.and_(Campaign.status.in_(("draft", "fieldwork", "review")), Contact.status == "returned")))) or 0


# --- one-time links ------------------------------------------------------------------------


def invite(user: User, purpose: str = "invite", now: datetime | None = None) -> str:
    """A new one-time link's token for the user (returned once, never stored); older open links die."""
    if purpose not in LIFETIMES:
        raise ValueError(f"unknown purpose {purpose!r}")
    if not user.active:
        raise AccountError(N_("The account is deactivated; reactivate it first."))
    now = now or utcnow()
    _close_links(user.id, now)
    token = secrets.token_urlsafe(32)
    db.session.add(Invitation(user_id=user.id, purpose=purpose, token_hash=token_hash(token), created_at=now,
                              expires_at=now + LIFETIMES[purpose]))
    db.session.flush()
    return token


def reset_link(user: User, now: datetime | None = None) -> str:
    """A password reset link: like an invitation, but valid for two hours."""
    return invite(user, "reset", now)


def forgotten_password(email: str, now: datetime | None = None) -> tuple[User, str] | None:
    """A reset link for the active account with this e-mail, or None when there is no such account.

    The caller answers the visitor the same either way: whether an address has an account is not
    for a stranger to learn (an institution looking for our auditors)."""
    user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.strip().lower()))
    if user is None or not user.active:
        return None
    return user, reset_link(user, now)


def _close_links(user_id: int, now: datetime) -> None:
    """End every open link of the user now (they count as expired)."""
    db.session.execute(sa.update(Invitation).where(
        Invitation.user_id == user_id, Invitation.used_at.is_(None), Invitation.expires_at > now).values(expires_at=now))


def check_link(token: str, now: datetime | None = None) -> Invitation:
    """The open invitation behind a token, or InvalidLink."""
    now = now or utcnow()
    invitation: Invitation | None = db.session.scalar(
        sa.select(Invitation).where(Invitation.token_hash == token_hash(token or "")))
    if invitation is None:
        raise InvalidLink("unknown")
    if invitation.used_at is not None:
        raise InvalidLink("used")
    if invitation.expires_at <= now:
        raise InvalidLink("expired")
    if not invitation.user.active:
        raise InvalidLink("inactive")
    return invitation


def check_password_rules(password: str, email: str) -> None:
    """At least 12 characters, and not the account's e-mail address."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordRejected(N_("Too short: the password needs at least %(min)s characters."),
                               min=MIN_PASSWORD_LENGTH)
    if password.strip().casefold() == email.strip().casefold():
        raise PasswordRejected(N_("The password must not be your e-mail address."))


def redeem(token: str, password: str, now: datetime | None = None) -> User:
    """Set the password through a link: the link is used up, and the user's other open links die."""
    now = now or utcnow()
    invitation = check_link(token, now)
    user = invitation.user
    check_password_rules(password, user.email)
    # Conditional update: of two simultaneous uses of one link, only one succeeds.
    claimed = db.session.execute(sa.update(Invitation).where(
        Invitation.id == invitation.id, Invitation.used_at.is_(None)).values(used_at=now))
    if getattr(claimed, "rowcount", 1) != 1:
        raise InvalidLink("used")
    _close_links(user.id, now)
    user.set_password(password)
    sessions.end_all(user.id, "password", now)
    db.session.flush()
    return user


def open_link(user: User, now: datetime | None = None) -> Invitation | None:
    """The user's link that can still be used, if any (its token is not known any more)."""
    return db.session.scalar(sa.select(Invitation).where(
        Invitation.user_id == user.id, Invitation.used_at.is_(None), Invitation.expires_at > (now or utcnow()))
        .order_by(Invitation.created_at.desc()).limit(1))


# --- auditors' conflicts -------------------------------------------------------------------


def add_conflict(auditor: User, institution_id: int | None, city: str | None, reason: str = "") -> AuditorConflict:
    """Declare that the auditor must never be given this institution, or any institution of this town."""
    if auditor.role != "auditor":
        raise AccountError(N_("Only auditors declare conflicts."))
    city = " ".join((city or "").split()) or None
    if (institution_id is None) == (city is None):
        raise AccountError(N_("Choose either an institution or a town."))
    existing = db.session.scalars(sa.select(AuditorConflict).where(AuditorConflict.auditor_id == auditor.id)).all()
    if institution_id is not None:
        if db.session.get(Institution, institution_id) is None:
            raise AccountError(N_("Unknown institution."))
        if any(c.institution_id == institution_id for c in existing):
            raise AccountError(N_("This conflict is already declared."))
    elif city is not None and any(c.city and c.city.casefold() == city.casefold() for c in existing):
        raise AccountError(N_("This conflict is already declared."))
    conflict = AuditorConflict(auditor_id=auditor.id, institution_id=institution_id, city=city,
                               reason=" ".join(reason.split()))
    db.session.add(conflict)
    db.session.flush()
    return conflict


def remove_conflict(auditor: User, conflict_id: int) -> bool:
    """Remove one of the auditor's conflicts; False if it is not theirs (or gone already)."""
    conflict = db.session.get(AuditorConflict, conflict_id)
    if conflict is None or conflict.auditor_id != auditor.id:
        return False
    db.session.delete(conflict)
    db.session.flush()
    return True


def conflicts_of(auditor: User) -> list[AuditorConflict]:
    return list(db.session.scalars(sa.select(AuditorConflict).where(AuditorConflict.auditor_id == auditor.id)
                                   .order_by(AuditorConflict.city.is_not(None), AuditorConflict.id)))


def conflicts_by_auditor() -> dict[int, tuple[frozenset[int], frozenset[str]]]:
    """Auditor id -> (blocked institution ids, blocked towns lower-cased), for assignment planning."""
    ids: dict[int, set[int]] = defaultdict(set)
    towns: dict[int, set[str]] = defaultdict(set)
    auditors: set[int] = set()
    for auditor_id, institution_id, city in db.session.execute(
            sa.select(AuditorConflict.auditor_id, AuditorConflict.institution_id, AuditorConflict.city)):
        auditors.add(auditor_id)
        if institution_id is not None:
            ids[auditor_id].add(institution_id)
        if city:
            towns[auditor_id].add(city.strip().lower())
    return {a: (frozenset(ids[a]), frozenset(towns[a])) for a in sorted(auditors)}


def people_page(role: str, search: str, number: int | None) -> Page[User]:
    """People with one role, active first, one page at a time; a director with the institutions they direct.

    `search` looks in the name, the e-mail and the pseudonym, case folded in Python (as the institutions
    page does: SQLite folds ASCII letters only) over one light query of those columns.
    """
    query = sa.select(User).where(User.role == role)
    if search:
        needle = search.casefold()
        query = query.where(User.id.in_([
            i for i, *texts in db.session.execute(sa.select(User.id, User.name, User.email, User.pseudonym)
                                                  .where(User.role == role))
            if any(needle in (text or "").casefold() for text in texts)]))
    if role == "director":
        query = query.options(so.selectinload(User.institutions))
    return paginate(query.order_by(User.active.desc(), User.pseudonym if role == "auditor" else User.name,
                                   User.name, User.id), number)
