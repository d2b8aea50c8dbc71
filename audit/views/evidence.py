"""Evidence files, served only to the auditor who attached them, to organisers, and to directors of the
institution when the edition shares evidence and the contact counts in the published result.

The auditor and organisers get the stored file under its original name; a director gets what
audit/redaction.py leaves of it, under a neutral name. Every file is streamed through the app from
the configured store (audit/storage.py), never a redirect to it.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import redaction, storage
from ..extensions import db
from ..models import Campaign, Contact, Evidence, User
from ..publication import counted_contacts
from ..security import role_required

bp = Blueprint("evidence", __name__, url_prefix="/evidence")
SANDBOX = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


@bp.get("/<int:evidence_id>")
@role_required("auditor", "organiser", "director")
def show(evidence_id: int) -> Response:
    """A file to whom it is for; anyone else gets the 404 of an id that does not exist.

    One query finds the file: an auditor's own contact, a director's institution and the sharing are in its
    WHERE. A director's request then always asks which contacts the newest revision counted, found or not,
    so an id that is not theirs, or evidence still in fieldwork, does the same work as one that does not
    exist (no time tells them apart)."""
    query = (sa.select(Evidence, Contact).join(Contact, Contact.id == Evidence.contact_id)
             .where(Evidence.id == evidence_id))
    if current_user.role == "auditor":
        query = query.where(Contact.auditor_id == current_user.id)
    elif current_user.role == "director":
        query = query.join(Campaign, Campaign.id == Contact.campaign_id).where(
            Campaign.evidence_to_directors.is_(True),
            Contact.institution_id.in_([i.id for i in current_user.institutions]))
    row = db.session.execute(query).first()
    if current_user.role == "director":
        contact = row[1] if row is not None else None
        # asked even for no row (0 matches no edition): evidence still in fieldwork costs what a missing id costs
        counted = counted_contacts(contact.campaign_id if contact else 0, contact.institution_id if contact else 0)
        if row is None or contact is None or contact.id not in counted:
            abort(404)
        return private(_for_director(*row))
    if row is None:
        abort(404)
    item, contact = row
    # the stored type without its parameters: Werkzeug adds the charset of text itself
    return private(storage.send(item.storage_key, mimetype=item.content_type.partition(";")[0].strip(),
                                as_attachment=item.kind != "image", download_name=item.original_name))


def _for_director(item: Evidence, contact: Contact) -> Response:
    """An image as stored (its metadata went at upload), any text reduced; always under `dowod-<n>`."""
    name = redaction.director_names(contact.evidence)[item.id]
    if item.kind == "image":
        return storage.send(item.storage_key, mimetype=item.content_type, download_name=name, as_attachment=False)
    try:
        data = storage.store().read(item.storage_key)
    except storage.MissingFile:
        abort(404)
    response = Response(_director_text(item, db.session.get_one(User, contact.auditor_id), data),
                        mimetype="text/plain")
    response.headers.set("Content-Disposition", "attachment", filename=name)
    return response


def _director_text(item: Evidence, auditor: User, data: bytes) -> str:
    identity = redaction.AuditorIdentity((auditor.name,), (auditor.email,))
    placeholder = f"[{auditor.pseudonym}]" if auditor.pseudonym else _("[auditor]")
    if not redaction.is_email(item.kind, item.original_name, data):
        return redaction.plain_text(data.decode("utf-8", errors="replace"), identity, placeholder)
    try:
        message = redaction.institution_message(data, identity, placeholder)
    except redaction.RedactionError as refused:
        if refused.code == "own_message":
            return _("This e-mail was written by the auditor. Its wording, signature and time would identify "
                     "them, so it is not shared with directors; the organisers hold the original.") + "\n"
        return _("This e-mail could not be read safely, so it is not shared with directors; the organisers "
                 "hold the original.") + "\n"
    sender, sent, subject = _("From"), _("Date"), _("Subject")  # outside the f-strings, where pybabel finds them
    return "\n".join((
        _("The institution's e-mail, without the auditor's addresses, the mail routing and the earlier "
          "messages quoted in it; the organisers hold the original."), "",
        f"{sender}: {message.sender}", f"{sent}: {message.date}", f"{subject}: {message.subject}", "",
        message.body))


def private(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = SANDBOX
    return response
