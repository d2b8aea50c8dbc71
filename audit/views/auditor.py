"""The auditor's field app: their own assignments and contacts, and nobody else's."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template
from flask_login import current_user

from ..extensions import db
from ..models import Assignment, Campaign, Contact
from ..security import role_required

bp = Blueprint("auditor", __name__, url_prefix="/auditor")


@bp.get("/")
@role_required("auditor")
def home() -> str:
    assignments = db.session.scalars(
        sa.select(Assignment).join(Campaign).where(Assignment.auditor_id == current_user.id)
        .order_by(Assignment.due_end, Assignment.id)
    ).all()
    contacts = {c.assignment_id: c for c in db.session.scalars(
        sa.select(Contact).where(Contact.auditor_id == current_user.id))}
    return render_template("auditor/home.html", assignments=assignments, contacts=contacts)
