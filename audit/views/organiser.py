"""The organiser's console: editions and their ranking, each score explained."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request

from .. import services
from ..extensions import db
from ..models import Campaign, Institution
from ..security import role_required

bp = Blueprint("organiser", __name__, url_prefix="/organiser")


@bp.get("/")
@role_required("organiser")
def home() -> str:
    campaigns = db.session.scalars(sa.select(Campaign).order_by(Campaign.year.desc(), Campaign.id.desc())).all()
    return render_template("organiser/home.html", campaigns=campaigns)


@bp.get("/campaigns/<int:campaign_id>/ranking")
@role_required("organiser")
def ranking(campaign_id: int) -> str:
    campaign = db.get_or_404(Campaign, campaign_id)
    category = request.args.get("category") or None
    standings = [s for s in services.compute_standings(campaign_id) if category in (None, s.category)]
    names = {i.id: i for i in db.session.scalars(sa.select(Institution).where(
        Institution.id.in_([s.institution_id for s in standings])))}
    return render_template("organiser/ranking.html", campaign=campaign, standings=standings,
                           institutions=names, category=category)


@bp.get("/campaigns/<int:campaign_id>/institutions/<int:institution_id>")
@role_required("organiser")
def explanation(campaign_id: int, institution_id: int) -> str:
    campaign = db.get_or_404(Campaign, campaign_id)
    report = services.explain_institution(campaign_id, institution_id)
    if report is None:
        abort(404)
    return render_template("organiser/explanation.html", campaign=campaign, report=report)
