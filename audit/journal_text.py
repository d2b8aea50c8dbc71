"""Decisions-log entries in sentences: what the entry's object is as users know it, what changed.

The journal stores ids and raw values (a revision's row id, a licence's row id, a criterion id,
"yes"); readers know a revision by its number, a licence by its certificate number, a criterion
by its question and an answer by its label. The lookups are made once per page, not per entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from . import scoring
from .errors import Np_
from .extensions import db
from .facts import parse_datetime
from .i18n import CAMPAIGN_STATUS_LABELS, CHANNEL_LABELS, answer_label, day, lang, number, percent, plural, points
from .models import Assignment, AuditEvent, Campaign, Contact, Institution, Licence, Revision, User
from .readiness import WORDS
from .rubrics import Rubric
from .services import rubric_by_hash


@dataclass(frozen=True)
class LogLine:
    event: AuditEvent
    who: str
    subject: str
    """The entry's object as users name it: "kontakt #12", "wersja 2", a licence's number."""
    contact_id: int | None
    """Set when the subject is a contact (the page links to it)."""
    details: str


@dataclass
class _Lookups:
    """Rows the entries refer to, loaded in one query per kind."""

    contacts: dict[int, Contact] = field(default_factory=dict)
    revisions: dict[int, int] = field(default_factory=dict)
    licences: dict[int, str] = field(default_factory=dict)
    institutions: dict[int, str] = field(default_factory=dict)
    assignments: dict[int, Assignment] = field(default_factory=dict)
    users: dict[int, User] = field(default_factory=dict)
    campaigns: dict[int, str] = field(default_factory=dict)

    @classmethod
    def load(cls, events: Iterable[AuditEvent]) -> _Lookups:
        ids: dict[str, set[int]] = {}
        users: set[int] = set()
        for e in events:
            if e.object_id is not None:
                ids.setdefault(e.object_type, set()).add(e.object_id)
            if e.action == "assignment_moved":
                users |= {v for v in ((e.details or {}).get("before"), (e.details or {}).get("after")) if isinstance(v, int)}
        out = cls()
        if ids.get("contact"):
            out.contacts = {c.id: c for c in db.session.scalars(sa.select(Contact).where(Contact.id.in_(ids["contact"])))}
        if ids.get("revision"):
            out.revisions = dict(db.session.execute(  # type: ignore[arg-type]
                sa.select(Revision.id, Revision.number).where(Revision.id.in_(ids["revision"]))).all())
        if ids.get("licence"):
            out.licences = dict(db.session.execute(  # type: ignore[arg-type]
                sa.select(Licence.id, Licence.number).where(Licence.id.in_(ids["licence"]))).all())
        if ids.get("institution"):
            out.institutions = dict(db.session.execute(  # type: ignore[arg-type]
                sa.select(Institution.id, Institution.name).where(Institution.id.in_(ids["institution"]))).all())
        if ids.get("assignment"):
            out.assignments = {a.id: a for a in db.session.scalars(
                sa.select(Assignment).where(Assignment.id.in_(ids["assignment"])))}
        if ids.get("campaign"):
            out.campaigns = dict(db.session.execute(  # type: ignore[arg-type]
                sa.select(Campaign.id, Campaign.name).where(Campaign.id.in_(ids["campaign"]))).all())
        if users:
            out.users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(users)))}
        return out


def log_lines(events: list[AuditEvent]) -> list[LogLine]:
    """The decisions log of a page, each entry in words."""
    found = _Lookups.load(events)
    return [LogLine(e, _who(e.actor), _subject(e, found), e.object_id if e.object_type == "contact" else None,
                    describe(e, found)) for e in events]


def _who(user: User | None) -> str:
    if user is None:
        return "—"
    return (user.pseudonym or "—") if user.role == "auditor" else user.name


def _subject(e: AuditEvent, found: _Lookups) -> str:
    oid = e.object_id
    if e.object_type == "contact":
        return _("contact #%(id)s", id=oid)
    if e.object_type == "revision" and oid is not None:
        return _("version %(n)s", n=found.revisions.get(oid, (e.details or {}).get("number", "?")))
    if e.object_type == "licence" and oid is not None:
        return _("licence %(number)s", number=found.licences.get(oid) or (e.details or {}).get("number", "?"))
    if e.object_type == "institution" and oid is not None:
        return found.institutions.get(oid, "—")
    if e.object_type == "campaign" and oid is not None:
        return found.campaigns.get(oid, "—")
    if e.object_type == "assignment" and oid is not None and oid in found.assignments:
        a = found.assignments[oid]
        return _("%(institution)s, %(channel)s", institution=a.institution.name,
                 channel=CHANNEL_LABELS.get(a.channel, a.channel))
    return "—"


def _rubric(found: _Lookups, contact_id: int | None) -> Rubric | None:
    contact = found.contacts.get(contact_id) if contact_id is not None else None
    return rubric_by_hash(contact.rubric_hash) if contact is not None else None


def _answer(rubric: Rubric | None, criterion_id: str, raw: Any) -> tuple[str, str]:
    """A criterion by its question and a stored answer by its label; raw ids only when the rubric lacks it."""
    if rubric is None or criterion_id not in {c.id for c in rubric.criteria}:
        return criterion_id, (str(raw) if raw is not None else _("no answer"))
    criterion = rubric.criterion(criterion_id)
    if raw is None:
        return criterion.question.get(lang()), _("no answer")
    try:
        answer = answer_label(criterion, scoring.parse_answer(criterion, raw))
    except scoring.AnswerError:
        answer = str(raw)
    return criterion.question.get(lang()), answer


def _licensed(value: Any) -> str:
    if value is None:
        return _("the engine decides")
    return _("licence") if value else _("no licence")


def _outstanding(open_items: Mapping[str, int] | None) -> str:
    if not open_items:
        return ""
    said = [plural(WORDS[k], n) for k, n in open_items.items() if k in WORDS]
    return _("Still open when it went ahead: %(items)s", items=" ".join(said)) if said else ""


def describe(e: AuditEvent, found: _Lookups) -> str:
    """What an entry changed, in a sentence of the reader's language ("" when the label says it all)."""
    d: Mapping[str, Any] = e.details or {}
    action = e.action
    if action == "answer_corrected":
        rubric = _rubric(found, e.object_id)
        question, before = _answer(rubric, str(d.get("criterion")), d.get("before"))
        after = _answer(rubric, str(d.get("criterion")), d.get("after"))[1]
        text = _("%(criterion)s: from “%(before)s” to “%(after)s”", criterion=question, before=before, after=after)
        for revealed_id, value in (d.get("revealed") or {}).items():
            q, label = _answer(rubric, revealed_id, value)
            text += "; " + _("answered with it: %(criterion)s: “%(answer)s”", criterion=q, answer=label)
        return text
    if action in ("licence_override", "licence_override_removed"):
        return _("from “%(before)s” to “%(after)s”", before=_licensed(d.get("before")), after=_licensed(d.get("after")))
    if action == "licence_granted":
        return _("in version %(n)s, with %(points)s ranking points", n=d.get("revision"), points=points(d.get("points")))
    if action in ("licence_restored", "licence_revoked"):
        return _("in version %(n)s", n=d.get("revision"))
    if action == "licence_points_changed":
        return _("ranking points from %(before)s to %(after)s, in version %(n)s", before=points(d.get("before")),
                 after=points(d.get("after")), n=d.get("revision"))
    if action == "publish":
        ranked = plural(Np_("%(num)s institution in the ranking.", "%(num)s institutions in the ranking."),
                        int(d.get("institutions") or 0))
        return " ".join(t for t in (ranked, _outstanding(d.get("outstanding"))) if t)
    if action == "edition_status":
        moved = _("from “%(before)s” to “%(after)s”.",
                  before=CAMPAIGN_STATUS_LABELS.get(str(d.get("before")), d.get("before")),
                  after=CAMPAIGN_STATUS_LABELS.get(str(d.get("after")), d.get("after")))
        return " ".join(t for t in (moved, _outstanding(d.get("outstanding"))) if t)
    if action == "edition_saved":
        channels = d.get("channels") or {}
        total = sum(float(v[1] or 0) for v in channels.values()) or 1.0
        said = [plural(Np_("%(channel)s: weight %(weight)s, at least %(num)s contact",
                           "%(channel)s: weight %(weight)s, at least %(num)s contacts"), int(v[2] or 0),
                       channel=CHANNEL_LABELS.get(ch, ch), weight=percent(float(v[1] or 0) / total))
                for ch, v in channels.items()]
        return "; ".join([_("licence threshold %(t)s", t=points(d.get("threshold"))), *said])
    if action == "director_access":
        after = d.get("after") or [None, False]
        until = parse_datetime(after[0]) if after[0] else None
        appeals = _("appeals until %(date)s", date=day(until.date())) if until else _("appeals closed")
        evidence = _("evidence shown to directors") if after[1] else _("evidence not shown to directors")
        said = [appeals, evidence]
        if len(after) > 2:
            said.append(_("comments shown to directors") if after[2] else _("comments not shown to directors"))
        if len(after) > 3:
            said.append(_("improvement plans marked in public") if after[3] else _("improvement plans not marked in public"))
        return "; ".join(said)
    if action == "assignments_planned":
        return plural(Np_("%(num)s assignment", "%(num)s assignments"), int(d.get("count") or 0))
    if action == "plan_submitted":
        return plural(Np_("%(num)s improvement action", "%(num)s improvement actions"), int(d.get("actions") or 0))
    if action == "assignment_moved":
        before, after = found.users.get(d.get("before") or 0), found.users.get(d.get("after") or 0)
        return _("from %(before)s to %(after)s", before=_who(before), after=_who(after))
    if action.startswith("appeal_criterion_"):
        return _answer(_rubric(found, e.object_id), str(d.get("criterion")), None)[0]
    if action.startswith("appeal_") or action.startswith("contact_"):
        return ""
    return "; ".join(f"{k}: {number(v) if isinstance(v, float) else v}" for k, v in d.items())  # an entry of a newer kind
