"""Improvement plans: which institutions submitted one, a comment on each, and what improved."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from ... import plans as plans_
from ...extensions import db
from ...forms import ActionForm
from ...models import Campaign, ImprovementPlan
from ...security import role_required
from . import bp


@bp.get("/campaigns/<int:campaign_id>/plans")
@role_required("organiser")
def plans(campaign_id: int) -> str:
    campaign = db.get_or_404(Campaign, campaign_id)
    follow_up = plans_.edition_follow_up(campaign)
    return render_template("organiser/plans.html", campaign=campaign, plans=plans_.submitted_plans(campaign_id),
                           follow_up=follow_up, counts=plans_.verdict_counts(follow_up),
                           min_contacts=plans_.MIN_CONTACTS, form=ActionForm())


@bp.post("/plans/<int:plan_id>/comment")
@role_required("organiser")
def comment_plan(plan_id: int) -> Response:
    plan = db.get_or_404(ImprovementPlan, plan_id)
    form = ActionForm()
    if form.validate_on_submit():  # a refusal (no text, a draft) is flashed by views/errors.py
        plans_.comment(plan, current_user, request.form.get("comment", ""))
        db.session.commit()
        flash(_("Your comment is saved; the director sees it on the plan."), "success")
    return redirect(url_for("organiser.plans", campaign_id=plan.campaign_id, _anchor=f"plan-{plan.id}"))
