"""A director's scorecard of one of their institutions, from the newest published revision."""

from __future__ import annotations

from functools import partial

from flask import Response, abort

from .. import exports
from ..extensions import db
from ..models import Campaign
from ..publication import latest_revision
from ..security import role_required
from .director import bp, own_institution


@bp.get("/campaigns/<int:campaign_id>/institutions/<int:institution_id>/scorecard.xlsx")
@role_required("director")
def scorecard_workbook(campaign_id: int, institution_id: int) -> Response:
    """404 (not 403) for another director's institution or an unpublished edition: nothing to confirm."""
    own_institution(institution_id)
    campaign = db.get_or_404(Campaign, campaign_id)
    revision = latest_revision(campaign_id)
    card = exports.load_scorecard(campaign, revision, institution_id) if revision is not None else None
    if card is None:
        abort(404)
    return exports.xlsx_response(partial(exports.write_scorecard, card),
                                 exports.scorecard_filename(campaign.year, card.revision, institution_id))
