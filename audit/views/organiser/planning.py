"""Planning the fieldwork: the scenario library, assignments spread over auditors, the progress board."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from ... import lifecycle, paging, planning
from ...extensions import db
from ...forms import ActionForm, MoveForm, PlanForm, ScenarioForm
from ...i18n import CATEGORY_LABELS, CHANNEL_LABELS
from ...lifecycle import Action
from ...models import CATEGORIES, Assignment, Campaign, Contact, Institution, Scenario, User
from ...rubrics import CHANNELS
from ...security import role_required
from ..errors import back_url
from . import bp

# --- scenarios -----------------------------------------------------------------------------


@bp.route("/scenarios", methods=["GET", "POST"])
@role_required("organiser")
def scenarios() -> Response | str:
    form = ScenarioForm()
    form.channel.choices = [SelectChoice(ch, str(CHANNEL_LABELS[ch])) for ch in CHANNELS]
    form.category.choices = [SelectChoice("", _("Any category"))] + [SelectChoice(c, str(CATEGORY_LABELS[c]))
                                                                   for c in CATEGORIES]
    if form.validate_on_submit():
        db.session.add(Scenario(channel=form.channel.data, category=form.category.data or None,
                                text=form.text.data.strip()))
        db.session.commit()
        flash(_("The scenario is added to the library."), "success")
        return redirect(url_for("organiser.scenarios"))
    rows = db.session.scalars(sa.select(Scenario).order_by(Scenario.channel, Scenario.category, Scenario.id)).all()
    used = dict(db.session.execute(sa.select(Assignment.scenario_id, sa.func.count()).where(
        Assignment.scenario_id.is_not(None)).group_by(Assignment.scenario_id)).all())
    return render_template("organiser/scenarios.html", form=form, scenarios=rows, used=used, action=ActionForm())


@bp.post("/scenarios/<int:scenario_id>/toggle")
@role_required("organiser")
def toggle_scenario(scenario_id: int) -> Response:
    scenario = db.get_or_404(Scenario, scenario_id)
    if ActionForm().validate_on_submit():
        scenario.active = not scenario.active
        db.session.commit()
    return redirect(url_for("organiser.scenarios"))


# --- assignments ---------------------------------------------------------------------------


def _plan_targets(campaign: Campaign, form: PlanForm) -> list[int]:
    query = sa.select(Institution.id)
    if form.categories.data:
        query = query.where(Institution.category.in_(form.categories.data))
    if form.region.data:
        query = query.where(sa.func.lower(Institution.region) == form.region.data.strip().lower())
    return list(db.session.scalars(query))


@bp.route("/campaigns/<int:campaign_id>/plan", methods=["GET", "POST"])
@role_required("organiser")
def plan(campaign_id: int) -> Response | str:
    campaign = db.get_or_404(Campaign, campaign_id)
    form = PlanForm()
    form.categories.choices = [SelectChoice(c, str(CATEGORY_LABELS[c])) for c in CATEGORIES]
    wanted = {ch.channel: _count(request.form.get(f"n_{ch.channel}"), ch.min_contacts) for ch in campaign.channels}
    result = None
    if form.validate_on_submit():
        if not lifecycle.allows(campaign, Action.PLAN):
            flash(_(lifecycle.why_not(campaign, Action.PLAN) or ""), "error")
            return redirect(url_for("organiser.edition", campaign_id=campaign_id))
        result = planning.plan_edition(campaign, wanted, _plan_targets(campaign, form))
        if request.form.get("confirm") and result.planned:
            planning.save_plan(campaign, result, current_user)
            db.session.commit()
            flash(_("%(n)s assignments are planned.", n=len(result.planned)), "success")
            return redirect(url_for("organiser.assignments", campaign_id=campaign_id))
    auditors = {u.id: u for u in db.session.scalars(sa.select(User).where(User.role == "auditor"))}
    institutions = {}
    if result is not None:
        ids = {p.institution_id for p in result.planned} | {u.institution_id for u in result.unplanned}
        institutions = {i.id: i for i in db.session.scalars(sa.select(Institution).where(Institution.id.in_(ids)))}
    return render_template("organiser/plan.html", campaign=campaign, form=form, wanted=wanted, result=result,
                           auditors=auditors, institutions=institutions)


def _count(raw: str | None, default: int) -> int:
    try:
        return max(0, min(20, int(raw))) if raw not in (None, "") else default
    except ValueError:
        return default


@bp.get("/campaigns/<int:campaign_id>/assignments")
@role_required("organiser")
def assignments(campaign_id: int) -> str:
    campaign = db.get_or_404(Campaign, campaign_id)
    query = (sa.select(Assignment, Contact.status).outerjoin(Contact, Contact.assignment_id == Assignment.id)
             .join(Institution, Institution.id == Assignment.institution_id)
             .where(Assignment.campaign_id == campaign_id).order_by(Institution.name, Assignment.channel))
    auditor = request.args.get("auditor", type=int)
    channel = request.args.get("channel") or None
    search = (request.args.get("q") or "").strip()
    if auditor:
        query = query.where(Assignment.auditor_id == auditor)
    if channel:
        query = query.where(Assignment.channel == channel)
    if search:
        query = query.where(Institution.name.ilike(f"%{search}%") | Institution.city.ilike(f"%{search}%"))
    rows = db.session.execute(query.limit(301)).all()
    auditors = db.session.scalars(sa.select(User).where(User.role == "auditor", User.active == sa.true())
                                  .order_by(User.pseudonym)).all()
    move = MoveForm()
    move.auditor.choices = [SelectChoice(a.id, f"{a.pseudonym} · {a.name}") for a in auditors]
    return render_template("organiser/assignments.html", campaign=campaign, rows=rows[:300], more=len(rows) > 300,
                           auditors=auditors, move=move, auditor=auditor, channel=channel, q=search)


@bp.post("/assignments/<int:assignment_id>/move")
@role_required("organiser")
def move_assignment(assignment_id: int) -> Response:
    assignment = db.get_or_404(Assignment, assignment_id)
    form = MoveForm()
    target = db.session.get(User, form.auditor.data) if form.validate_on_submit() else None
    if target is None:
        flash(_("Choose an auditor."), "error")
    else:  # a refusal (the contact has started, a conflict) is flashed by views/errors.py
        planning.move_assignment(assignment, target, current_user)
        db.session.commit()
        flash(_("The assignment now belongs to %(who)s.", who=target.pseudonym), "success")
    return redirect(back_url(default=url_for("organiser.assignments", campaign_id=assignment.campaign_id)))


@bp.get("/campaigns/<int:campaign_id>/progress")
@role_required("organiser")
def progress(campaign_id: int) -> str:
    campaign = db.get_or_404(Campaign, campaign_id)
    where = paging.result_filter(request.args)
    state = request.args.get("state")
    board_filter = planning.BoardFilter(where.category, where.region, where.search,
                                        state if state in (*planning.PROGRESS_STATES, "late") else None)
    return render_template("organiser/progress.html", campaign=campaign, where=board_filter, regions=paging.regions(),
                           board=planning.progress(campaign, where=board_filter, page=request.args.get("page", type=int)),
                           states=planning.PROGRESS_STATES)
