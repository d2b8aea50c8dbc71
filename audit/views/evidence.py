"""Evidence files, served only to the auditor who attached them, to organisers, and to directors of the
institution when the edition shares evidence and the contact counts in the published result."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, send_from_directory
from flask_login import current_user
from werkzeug.wrappers import Response

from ..extensions import db
from ..models import Campaign, Contact, Evidence
from ..publication import counted_contacts
from ..security import role_required

bp = Blueprint("evidence", __name__, url_prefix="/evidence")


@bp.get("/<int:evidence_id>")
@role_required("auditor", "organiser", "director")
def show(evidence_id: int) -> Response:
    item = db.session.get(Evidence, evidence_id)
    contact = db.session.get(Contact, item.contact_id) if item else None
    if item is None or contact is None:
        abort(404)
    if current_user.role == "auditor" and contact.auditor_id != current_user.id:
        abort(404)
    if current_user.role == "director" and not _shared_with_director(contact):
        abort(404)
    response = send_from_directory(current_app.config["EVIDENCE_DIR"], item.storage_key,
                                   mimetype=item.content_type, as_attachment=item.kind != "image",
                                   download_name=item.original_name, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    return response


def _shared_with_director(contact: Contact) -> bool:
    campaign = db.session.get(Campaign, contact.campaign_id)
    return (campaign is not None and campaign.evidence_to_directors
            and contact.institution_id in {i.id for i in current_user.institutions}
            and contact.id in counted_contacts(campaign.id, contact.institution_id))
