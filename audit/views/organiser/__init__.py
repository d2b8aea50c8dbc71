"""The organiser's console: one blueprint, one module per part of running an edition.

editions     campaigns: set-up, ranking, explanations, publication, revisions, licence overrides
planning     scenarios, assignments, the progress board
review       the review queue: accept, return, correct with a reason
institutions institutions, and their import from Excel
plans        improvement plans: who submitted one, comments, what improved
people       auditors, directors, organisers; invitations; auditors' conflicts
mail         sent mail: the outbox, its delivery, a failed message sent again
jobs         background jobs: national exports and the fairness analysis, their progress and files
exports      the edition's Excel workbook and raw answers
fairness     auditor agreement and calibration, leave-one-auditor-out, rank intervals
"""

from __future__ import annotations

from flask import Blueprint, request, url_for
from flask_babel import gettext

from ... import lifecycle

bp = Blueprint("organiser", __name__, url_prefix="/organiser")


@bp.app_template_global()
def allows(edition: lifecycle.Staged, action: str) -> bool:
    """Templates offer only what the life cycle allows (audit/lifecycle.py)."""
    return lifecycle.allows(edition, action)


@bp.app_template_global()
def why_not(edition: lifecycle.Staged, action: str) -> str:
    """Why the life cycle refuses the action now, in the reader's language ("" if it allows it)."""
    why = lifecycle.why_not(edition, action)
    return gettext(why) if why else ""

@bp.app_template_global()
def page_url(number: int) -> str:
    """This page's URL, with its filters kept, at another page of its list (audit/paging.py)."""
    args = {**request.args.to_dict(), "page": number}
    return url_for(request.endpoint or "", **(request.view_args or {}), **args)


from . import editions, exports, fairness, institutions, jobs, mail, people, planning, plans, review, rubrics  # noqa: E402, F401 - registers the routes
