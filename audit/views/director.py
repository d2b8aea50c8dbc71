"""The director's view of their own institutions."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template
from flask_login import current_user

from ..extensions import db
from ..models import Campaign
from ..security import role_required

bp = Blueprint("director", __name__, url_prefix="/director")


@bp.get("/")
@role_required("director")
def home() -> str:
    published = db.session.scalars(
        sa.select(Campaign).where(Campaign.status == "published").order_by(Campaign.year.desc())).all()
    return render_template("director/home.html", institutions=current_user.institutions, published=published)
