"""Fairness of an edition's ranking: auditor agreement, auditor calibration, leave-one-auditor-out
and rank intervals (audit/fairness.py does the statistics; docs/statistics.md explains them).

The rows come from audit/fairness_data.py. Organisers only: auditors appear by pseudonym.
"""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_login import current_user
from werkzeug.wrappers import Response

from ... import fairness as stats
from ... import job_records, paging
from ...extensions import db
from ...fairness_data import accepted_contacts, fairness_report, report_of, stored_fairness
from ...forms import ActionForm
from ...models import Campaign
from ...security import role_required
from . import bp


@bp.app_template_filter("coefficient")
def coefficient(value: float | None) -> str:
    """An agreement coefficient with three decimals, in the UI language's notation."""
    return "—" if value is None else format_decimal(value, format="0.000")


@bp.app_template_filter("signed_percent")
def signed_percent(value: float | None) -> str:
    """A deviation of a 0-1 share, in percentage points with its sign (−4.2, +1.0)."""
    if value is None:
        return "—"
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    return sign + format_decimal(abs(value) * 100, format="0.0")


@bp.get("/campaigns/<int:campaign_id>/fairness", endpoint="fairness")
@role_required("organiser")
def fairness_page(campaign_id: int) -> str:
    """A small edition's analysis is computed here; a larger one's is read from the job that computed it
    (started here when the edition changed since), with the time it was computed."""
    campaign = db.get_or_404(Campaign, campaign_id)
    stored = None
    if accepted_contacts(campaign.id) <= int(current_app.config["FAIRNESS_INLINE_CONTACTS"]):
        report = fairness_report(campaign)
    else:
        stored = stored_fairness(campaign, current_user)
        report = report_of(campaign, stored.figures) if stored.figures is not None else None
    ranked = paging.of_list([s for s in report.standings if s.points is not None] if report else [],
                            request.args.get("page", type=int))  # a national edition ranks thousands
    return render_template("organiser/fairness.html", campaign=campaign, report=report, stored=stored,
                           ranked=ranked, action=ActionForm(formdata=None), poor=stats.POOR_AGREEMENT,
                           min_pairable=stats.MIN_PAIRABLE, replicates=stats.REPLICATES)


@bp.post("/campaigns/<int:campaign_id>/fairness/compute")
@role_required("organiser")
def fairness_compute(campaign_id: int) -> Response:
    """Compute the analysis again now, by a job (whatever the edition's size)."""
    campaign = db.get_or_404(Campaign, campaign_id)
    if ActionForm().validate_on_submit():
        job_records.request("fairness", campaign, current_user)
        db.session.commit()
    return redirect(url_for("organiser.fairness", campaign_id=campaign.id))
