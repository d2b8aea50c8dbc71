"""Planning the fieldwork: who contacts which institution, by which channel, about what.

plan() is pure: it spreads the contacts still missing over the auditors, always to the
least loaded auditor who has no declared conflict with the institution (its own id or its
town) and, where possible, has not been given that institution already; each contact gets a
scenario of its channel and category that the institution has not been asked about in the
edition. The database side (what exists, saving the plan, moving an assignment) is below it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from . import accounts, journal, lifecycle, mail
from .errors import N_, RuleError
from .extensions import db
from .lifecycle import Action
from .models import Assignment, Campaign, Contact, Institution, Scenario, User
from .paging import Page, institution_matches, paginate

# --- the pure planner ----------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    institution_id: int
    category: str
    city: str
    channels: frozenset[str]
    """Channels the institution offers."""


@dataclass(frozen=True)
class AuditorSlot:
    auditor_id: int
    blocked_institutions: frozenset[int] = frozenset()
    blocked_cities: frozenset[str] = frozenset()
    """Lower-cased town names."""

    def may_audit(self, target: Target) -> bool:
        return target.institution_id not in self.blocked_institutions and \
            target.city.strip().lower() not in self.blocked_cities


@dataclass(frozen=True)
class ScenarioOption:
    scenario_id: int
    channel: str
    category: str | None
    """None: any category."""
    text: str


@dataclass(frozen=True)
class Existing:
    """An assignment already planned in the edition."""

    institution_id: int
    channel: str
    auditor_id: int
    scenario_id: int | None


@dataclass(frozen=True)
class Planned:
    institution_id: int
    channel: str
    auditor_id: int
    scenario_id: int | None
    scenario: str


@dataclass(frozen=True)
class Unplanned:
    institution_id: int
    channel: str
    reason: str
    """"no_auditor": every auditor has a conflict with it."""


@dataclass
class Plan:
    planned: list[Planned] = field(default_factory=list)
    unplanned: list[Unplanned] = field(default_factory=list)
    without_scenario: int = 0
    """Contacts planned with no fresh scenario left for their institution (the text is empty)."""

    def load(self) -> Counter[int]:
        return Counter(p.auditor_id for p in self.planned)


def plan(targets: Sequence[Target], contacts_per_channel: Mapping[str, int], auditors: Sequence[AuditorSlot],
         existing: Sequence[Existing] = (), scenarios: Sequence[ScenarioOption] = ()) -> Plan:
    """The assignments still needed for every target to have N contacts per channel it offers.

    Deterministic: the same inputs give the same plan (ties go to the lower id).
    """
    result = Plan()
    load: Counter[int] = Counter({a.auditor_id: 0 for a in auditors})
    load.update(e.auditor_id for e in existing if e.auditor_id in load)
    have: Counter[tuple[int, str]] = Counter((e.institution_id, e.channel) for e in existing)
    given: dict[int, set[int]] = defaultdict(set)  # institution -> auditors already sent there
    asked: dict[int, set[int]] = defaultdict(set)  # institution -> scenarios already used there
    for e in existing:
        given[e.institution_id].add(e.auditor_id)
        if e.scenario_id is not None:
            asked[e.institution_id].add(e.scenario_id)
    scenario_use: Counter[int] = Counter(e.scenario_id for e in existing if e.scenario_id is not None)
    by_channel: dict[str, list[ScenarioOption]] = defaultdict(list)
    for s in sorted(scenarios, key=lambda s: s.scenario_id):
        by_channel[s.channel].append(s)

    for target in sorted(targets, key=lambda t: t.institution_id):
        allowed = [a for a in auditors if a.may_audit(target)]
        for channel, wanted in sorted(contacts_per_channel.items()):
            if channel not in target.channels:
                continue
            for _ in range(max(0, wanted - have[(target.institution_id, channel)])):
                if not allowed:
                    result.unplanned.append(Unplanned(target.institution_id, channel, "no_auditor"))
                    continue
                # least loaded; a fresh pair of eyes for the institution before a repeat visitor
                auditor = min(allowed, key=lambda a: (a.auditor_id in given[target.institution_id],
                                                      load[a.auditor_id], a.auditor_id))
                fresh = [s for s in by_channel[channel] if s.category in (None, target.category)
                         and s.scenario_id not in asked[target.institution_id]]
                scenario = min(fresh, key=lambda s: (scenario_use[s.scenario_id], s.category is None,
                                                     s.scenario_id)) if fresh else None
                if scenario is None:
                    result.without_scenario += 1
                else:
                    asked[target.institution_id].add(scenario.scenario_id)
                    scenario_use[scenario.scenario_id] += 1
                load[auditor.auditor_id] += 1
                given[target.institution_id].add(auditor.auditor_id)
                result.planned.append(Planned(target.institution_id, channel, auditor.auditor_id,
                                              scenario.scenario_id if scenario else None,
                                              scenario.text if scenario else ""))
    return result


# --- the database side ---------------------------------------------------------------------


class PlanningError(RuleError):
    """A planning action the rules refuse; the message says why."""


def auditor_slots() -> list[AuditorSlot]:
    """Every active auditor with their declared conflicts."""
    conflicts = accounts.conflicts_by_auditor()
    auditors = db.session.scalars(sa.select(User.id).where(User.role == "auditor", User.active == sa.true())
                                  .order_by(User.id))
    return [AuditorSlot(a, *conflicts.get(a, (frozenset(), frozenset()))) for a in auditors]


def plan_edition(campaign: Campaign, contacts_per_channel: Mapping[str, int],
                 institution_ids: Sequence[int] | None = None) -> Plan:
    """Plan what is missing for the given institutions (default: those already in the edition)."""
    channels = {ch.channel for ch in campaign.channels}
    wanted = {ch: n for ch, n in contacts_per_channel.items() if ch in channels and n > 0}
    existing = [Existing(*row) for row in db.session.execute(
        sa.select(Assignment.institution_id, Assignment.channel, Assignment.auditor_id, Assignment.scenario_id)
        .where(Assignment.campaign_id == campaign.id))]
    if institution_ids is None:
        institution_ids = sorted({e.institution_id for e in existing})
    targets = [Target(i.id, i.category, i.city, frozenset(i.channels or ())) for i in db.session.scalars(
        sa.select(Institution).where(Institution.id.in_(institution_ids)))]
    scenarios = [ScenarioOption(s.id, s.channel, s.category, s.text) for s in db.session.scalars(
        sa.select(Scenario).where(Scenario.active == sa.true(), Scenario.channel.in_(wanted)))]
    return plan(targets, wanted, auditor_slots(), existing, scenarios)


def save_plan(campaign: Campaign, result: Plan, actor: User) -> list[Assignment]:
    lifecycle.require(campaign, Action.PLAN)
    rows = [Assignment(campaign_id=campaign.id, institution_id=p.institution_id, channel=p.channel,
                       auditor_id=p.auditor_id, scenario_id=p.scenario_id, scenario=p.scenario,
                       due_start=campaign.fieldwork_start, due_end=campaign.fieldwork_end)
            for p in result.planned]
    db.session.add_all(rows)
    db.session.flush()
    event = journal.record("assignments_planned", actor=actor, object_type="campaign", object_id=campaign.id,
                           campaign_id=campaign.id, count=len(rows))
    db.session.flush()
    by_auditor: dict[int, list[Assignment]] = defaultdict(list)
    for row in rows:
        by_auditor[row.auditor_id].append(row)
    for auditor_id, theirs in sorted(by_auditor.items()):  # in this transaction: no mail about a plan rolled back
        auditor = db.session.get(User, auditor_id)
        assert auditor is not None
        mail.assignments_given(auditor, theirs, event.id)
    return rows


def move_assignment(assignment: Assignment, auditor: User, actor: User) -> None:
    """Give an assignment to another auditor, before its contact has been started."""
    lifecycle.require(assignment.campaign, Action.PLAN)
    if auditor.role != "auditor" or not auditor.active:
        raise PlanningError(N_("Assignments go to active auditors only."))
    started = db.session.scalar(sa.select(Contact.id).where(Contact.assignment_id == assignment.id))
    if started is not None:
        raise PlanningError(N_("The auditor has already started this contact; it cannot move."))
    slot = next((s for s in auditor_slots() if s.auditor_id == auditor.id), None)
    institution = assignment.institution
    if slot is None or not slot.may_audit(Target(institution.id, institution.category, institution.city,
                                                 frozenset(institution.channels or ()))):
        raise PlanningError(N_("This auditor declared a conflict with the institution."))
    before = assignment.auditor
    if before.id == auditor.id:
        return  # nothing changes hands: no journal entry, no mail
    assignment.auditor_id = auditor.id
    event = journal.record("assignment_moved", actor=actor, object_type="assignment", object_id=assignment.id,
                           campaign_id=assignment.campaign_id, before=before.id, after=auditor.id)
    db.session.flush()
    db.session.refresh(assignment, ["auditor"])
    mail.assignments_given(auditor, [assignment], event.id)  # the new holder, and the previous one told
    mail.assignment_moved_away(before, assignment, event.id)  # it is gone, without naming who has it now


# --- the progress board ----------------------------------------------------------------------

PROGRESS_STATES = ("planned", "draft", "submitted", "returned", "accepted")


@dataclass
class Cell:
    """One institution × channel of the progress board."""

    counts: Counter[str] = field(default_factory=Counter)
    late: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class BoardFilter:
    """Which institutions the board lists: category, region, name or town, and one state (or "late")."""

    category: str | None = None
    region: str | None = None
    search: str = ""
    state: str | None = None
    """One of PROGRESS_STATES: institutions with an assignment in it; "late": with a late one."""

    @property
    def active(self) -> bool:
        return bool(self.category or self.region or self.search or self.state)


@dataclass
class Board:
    channels: list[str]
    rows: list[tuple[Institution, dict[str, Cell]]]
    """This page's institutions, by name."""
    totals: Counter[str]
    """Assignments by state over every institution the filter keeps (not only this page's)."""
    late: int
    page: Page[Institution] | None = None


def progress(campaign: Campaign, today: date | None = None, where: BoardFilter = BoardFilter(),
             page: int | None = None) -> Board:
    """Institutions × channels: assignments by state of their contact, and those past due.

    A contact is late when its window has closed and it has not been submitted (or was returned).
    The totals are one SQL aggregate over the whole filtered set; the cells are counted for the
    institutions of one page only.
    """
    today = today or date.today()
    state = sa.func.coalesce(Contact.status, "planned")
    is_late = sa.and_(Assignment.due_end < today, state.in_(("planned", "draft", "returned")))
    planned = (sa.select(Assignment.institution_id).outerjoin(Contact, Contact.assignment_id == Assignment.id)
               .where(Assignment.campaign_id == campaign.id))
    if where.state == "late":
        planned = planned.where(is_late)
    elif where.state in PROGRESS_STATES:
        planned = planned.where(state == where.state)
    listed = sa.select(Institution).where(Institution.id.in_(planned))
    if where.category:
        listed = listed.where(Institution.category == where.category)
    if where.region:
        listed = listed.where(Institution.region == where.region)
    if where.search:
        listed = listed.where(institution_matches(where.search))
    kept = listed.with_only_columns(Institution.id)
    totals: Counter[str] = Counter()
    late = 0
    each = (sa.select(state.label("state"), is_late.label("late")).select_from(Assignment)
            .outerjoin(Contact, Contact.assignment_id == Assignment.id)
            .where(Assignment.campaign_id == campaign.id, Assignment.institution_id.in_(kept)).subquery())
    for status, overdue, count in db.session.execute(  # grouped outside: PostgreSQL would not match bound values
            sa.select(each.c.state, each.c.late, sa.func.count()).group_by(each.c.state, each.c.late)):
        totals[status] += count
        late += count if overdue else 0
    shown = paginate(listed.order_by(Institution.name, Institution.id), page)
    cells: dict[int, dict[str, Cell]] = defaultdict(dict)
    for institution_id, channel, status, due_end, count in db.session.execute(
            sa.select(Assignment.institution_id, Assignment.channel, Contact.status, Assignment.due_end,
                      sa.func.count())
            .outerjoin(Contact, Contact.assignment_id == Assignment.id)
            .where(Assignment.campaign_id == campaign.id, Assignment.institution_id.in_([i.id for i in shown.items]))
            .group_by(Assignment.institution_id, Assignment.channel, Contact.status, Assignment.due_end)):
        cell = cells[institution_id].setdefault(channel, Cell())
        cell.counts[status or "planned"] += count
        if due_end is not None and due_end < today and (status or "planned") in ("planned", "draft", "returned"):
            cell.late += count
    return Board([ch.channel for ch in campaign.channels], [(i, cells[i.id]) for i in shown.items], totals, late,
                 shown)
