"""Fairness of an edition's ranking: auditor agreement, auditor calibration, leave-one-auditor-out
and rank intervals (audit/fairness.py does the statistics; docs/statistics.md explains them).

The rows come from audit/fairness_data.py. Organisers only: auditors appear by pseudonym.
"""

from __future__ import annotations

from flask import render_template
from flask_babel import format_decimal

from ... import fairness as stats
from ...extensions import db
from ...fairness_data import fairness_report
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
    campaign = db.get_or_404(Campaign, campaign_id)
    return render_template("organiser/fairness.html", campaign=campaign, report=fairness_report(campaign),
                           poor=stats.POOR_AGREEMENT, min_pairable=stats.MIN_PAIRABLE,
                           replicates=stats.REPLICATES)
