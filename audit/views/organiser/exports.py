"""The edition's Excel exports: the ranking workbook and the raw answers, for organisers only."""

from __future__ import annotations

from functools import partial

from flask import Response, abort, request

from ... import exports
from ...extensions import db
from ...models import Campaign
from ...publication import latest_revision, revision_of
from ...security import role_required
from . import bp


@bp.get("/campaigns/<int:campaign_id>/export.xlsx")
@role_required("organiser")
def edition_workbook(campaign_id: int) -> Response:
    """The newest published revision, ?revision=N, or ?live=1 (the live result, as the ranking page shows it);
    before any publication, the live result. The workbook says which one it holds."""
    campaign = db.get_or_404(Campaign, campaign_id)
    if request.args.get("live"):
        revision = None
    elif "revision" in request.args:
        number = request.args.get("revision", type=int)
        revision = revision_of(campaign_id, number) if number is not None else None
        if revision is None:
            abort(404)
    else:
        revision = latest_revision(campaign_id)
    edition = exports.load_edition(campaign, revision)
    return exports.xlsx_response(partial(exports.write_edition, edition),
                                 exports.edition_filename(campaign.year, edition.revision))


@bp.get("/campaigns/<int:campaign_id>/answers.xlsx")
@role_required("organiser")
def answers_workbook(campaign_id: int) -> Response:
    """Every answer of the accepted contacts, one row each; auditors appear by pseudonym only."""
    campaign = db.get_or_404(Campaign, campaign_id)
    rows = exports.answer_rows(campaign_id)
    return exports.xlsx_response(partial(exports.write_answers, campaign.name, rows),
                                 exports.answers_filename(campaign.year))
