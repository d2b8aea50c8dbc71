"""The auditor's field app: their own assignments and contacts, and nobody else's."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from .. import evidence as evidence_
from .. import fieldwork, lifecycle, storage
from ..contact_form import ContactFormBase, form_class, form_layout, new_client_id
from ..errors import describe
from ..extensions import db
from ..facts import CHANNEL_FACTS
from ..i18n import FACT_LABELS, lang, local_today, moment
from ..lifecycle import Action
from ..models import Assignment, Contact, ContactCopy, Evidence
from ..scoring import visible_criteria
from ..security import role_required

bp = Blueprint("auditor", __name__, url_prefix="/auditor")

VISIBLE_CAMPAIGN_STATUSES = lifecycle.stages_allowing(Action.SEE_ASSIGNMENTS)


@bp.get("/")
@role_required("auditor")
def home() -> str:
    state = request.args.get("state") or None
    state = state if state in fieldwork.WORK_STATES else None
    editions = fieldwork.worklist(current_user.id, local_today(), state)
    return render_template("auditor/home.html", editions=editions, state=state,
                           soon=fieldwork.due_soon(editions), states=fieldwork.WORK_STATES)


def _own_assignment(assignment_id: int, client_id: str | None = None) -> tuple[Assignment, fieldwork.Stored]:
    """The current auditor's assignment and what a save of `client_id` finds stored (read in one query), or 404
    (never 403: another auditor's work stays invisible)."""
    found = fieldwork.assignment_and_stored(assignment_id, client_id)
    if found is None or found[0].auditor_id != current_user.id:
        abort(404)
    assignment, stored = found
    if assignment.campaign.status not in VISIBLE_CAMPAIGN_STATUSES:
        abort(404)
    return assignment, stored


def _values_of(contact: Contact | None, rubric: Any, payload: dict[str, Any] | None = None) -> dict[str, str]:
    """Field name -> the text the form shows, from a stored contact or a kept copy."""
    state = payload or (fieldwork.current_state(contact, rubric) if contact else None)
    if not state:
        return {}
    values = {f"a_{k}": str(v) for k, v in state["answers"].items()}
    values.update({f"n_{k}": str(v) for k, v in state["comments"].items()})
    for k, v in state["facts"].items():
        values[f"f_{k}"] = f"{v:g}" if isinstance(v, float) else str(v)
    return values


def _render_form(assignment: Assignment, contact: Contact | None, *, values: dict[str, str] | None = None,
                 copy: ContactCopy | None = None, form: ContactFormBase | None = None,
                 missing: list[fieldwork.Missing] | None = None, client_id: str | None = None,
                 status: int = 200) -> tuple[str, int]:
    """The contact form showing `values` (what was just posted), else a kept copy, else the stored contact."""
    rubric = fieldwork.rubric_of(assignment, contact)
    if values is None:
        values = _values_of(contact, rubric, copy.payload if copy else None)
    data = fieldwork.ContactInput("", None, {k[2:]: v for k, v in values.items() if k.startswith("a_")}, {},
                                  {k[2:]: v for k, v in values.items() if k.startswith("f_")})
    try:
        visible = visible_criteria(rubric, fieldwork.engine_answers(rubric, assignment.channel, data))
    except ValueError:  # an unparsable typed number: show every criterion rather than guess
        visible = frozenset(c.id for c in rubric.criteria)
    campaign = assignment.campaign
    closed = fieldwork.stage_refusal(campaign.status, contact.status if contact else None)
    early = fieldwork.window_refusal(assignment, contact, local_today()) if closed is None else None
    editable = (contact is None or contact.editable) and closed is None and early is None
    errors = {name: messages for name, messages in form.errors.items() if name} if form else {}
    questions = {c.id: c.question.get(lang()) for c in rubric.criteria}
    html = render_template(
        "auditor/contact.html", assignment=assignment, contact=contact, campaign=campaign,
        sections=form_layout(rubric, lang()), facts=CHANNEL_FACTS[assignment.channel], values=values,
        visible=visible, editable=editable, closed=_(closed) if closed else (describe(early) if early else None), errors=errors, missing=missing or [], questions=questions,
        copies=fieldwork.open_copies(contact) if contact else [],
        client_id=client_id or (contact.client_id if contact else None) or new_client_id(),
        base_version=contact.version if contact else "",
    )
    return html, status


@bp.get("/assignments/<int:assignment_id>")
@role_required("auditor")
def contact_form(assignment_id: int) -> tuple[str, int]:
    assignment, stored = _own_assignment(assignment_id)
    contact = stored.contact
    copy_id = request.args.get("copy", type=int)
    copy = next((c for c in fieldwork.open_copies(contact) if c.id == copy_id), None) if contact and copy_id else None
    return _render_form(assignment, contact, copy=copy)


def _posted_form(assignment: Assignment, contact: Contact | None) -> ContactFormBase:
    return form_class(fieldwork.rubric_of(assignment, contact), assignment.channel)()


def _save(assignment: Assignment, form: ContactFormBase, submit: bool,
          stored: fieldwork.Stored | None = None) -> fieldwork.SaveResult:
    """Save once; if another request changed the contact meanwhile, save again against the new state
    (which keeps this save as a copy rather than losing either)."""
    data = form.to_input()
    for attempt in range(2):
        try:
            result = fieldwork.save_contact(assignment, data, submit=submit, today=local_today(), rubric=form.rubric,
                                            stored=None if attempt else stored)
            db.session.commit()
            return result
        except (StaleDataError, sa.exc.IntegrityError):
            db.session.rollback()
            if attempt:
                raise
    raise AssertionError("unreachable")


@bp.post("/assignments/<int:assignment_id>")
@role_required("auditor")
def save_form(assignment_id: int) -> Response | tuple[str, int]:
    """The form's own submit (works without JavaScript): save a draft, or send the contact."""
    assignment, stored = _own_assignment(assignment_id, request.form.get("client_id"))
    contact = stored.contact
    form = _posted_form(assignment, contact)
    values = {k: v for k, v in request.form.items() if k[:2] in ("a_", "n_", "f_")}
    if not form.validate_on_submit():
        return _render_form(assignment, contact, values=values, form=form, client_id=form.client_id.data, status=422)
    try:
        result = _save(assignment, form, submit=form.action.data == "submit", stored=stored)
    except fieldwork.FieldworkError as error:  # shown above what was typed, which is kept in the form
        db.session.rollback()
        if not isinstance(error, fieldwork.FieldworkClosed):  # the page itself says that fieldwork is closed
            flash(describe(error), "error")
        return _render_form(assignment, contact, values=values, form=form, status=error.status)
    if result.outcome == "incomplete":
        return _render_form(assignment, result.contact, values=values, missing=result.missing, status=422)
    if result.outcome in ("copy_kept", "locked"):
        flash(_("This contact changed on another device or page after you opened it. Both versions are kept: "
                "compare them below."), "warning")
        return redirect(url_for(".contact_form", assignment_id=assignment.id))
    if result.outcome == "submitted" or (result.outcome == "unchanged" and result.contact.status == "submitted"):
        flash(_("Contact sent for review. Thank you!"), "success")
        return redirect(url_for(".home"))
    flash(_("Draft saved."), "success")
    return redirect(url_for(".contact_form", assignment_id=assignment.id))


@bp.post("/assignments/<int:assignment_id>/autosave")
@role_required("auditor")
def autosave(assignment_id: int) -> tuple[Response, int]:
    """contact.js saves here as the auditor types; answers JSON the page turns into a status line."""
    assignment, stored = _own_assignment(assignment_id, request.form.get("client_id"))
    form = _posted_form(assignment, stored.contact)
    if not form.validate_on_submit():
        return jsonify(outcome="invalid", errors={k: [str(e) for e in v] for k, v in form.errors.items()}), 422
    result = _save(assignment, form, submit=False, stored=stored)  # a refusal answers JSON (views/errors.py); contact.js keeps the answers
    status = 409 if result.outcome in ("copy_kept", "locked") else 200
    return jsonify(outcome=result.outcome, version=result.contact.version, client_id=result.contact.client_id,
                   saved_at=moment(result.contact.updated_at, "HH:mm")), status


@bp.post("/assignments/<int:assignment_id>/copies/<int:copy_id>/dismiss")
@role_required("auditor")
def dismiss_copy(assignment_id: int, copy_id: int) -> Response | str:
    """Discard a kept version; the first post asks, with what it holds, and only `confirm=1` discards it."""
    assignment, stored = _own_assignment(assignment_id)
    contact = stored.contact
    copy = next((c for c in fieldwork.open_copies(contact) if c.id == copy_id), None) if contact else None
    if contact is None or copy is None:
        abort(404)
    back = url_for(".contact_form", assignment_id=assignment.id)
    if request.form.get("confirm") != "1":
        return render_template(
            "confirm.html", title=_("Discard the other version?"), button=_("Discard that version"), cancel=back,
            action=url_for(".dismiss_copy", assignment_id=assignment.id, copy_id=copy.id), fields={},
            facts=[(_("Institution"), assignment.institution.name), (_("Saved"), copy_label(copy)),
                   (_("Answers in it"), len(copy.payload.get("answers", {}))),
                   (_("Recorded facts in it"), len(copy.payload.get("facts", {})))],
            consequences=[_("That version disappears from this page and can no longer be opened or saved as the "
                            "current one."),
                          _("The current version of the contact stays as it is.")])
    fieldwork.dismiss_copy(contact, copy.id)
    db.session.commit()
    return redirect(back)


# --- evidence ---------------------------------------------------------------------------------


@bp.post("/assignments/<int:assignment_id>/evidence")
@role_required("auditor")
def upload_evidence(assignment_id: int) -> Response:
    assignment, stored = _own_assignment(assignment_id)
    contact = fieldwork.open_for_evidence(assignment, stored.contact, local_today())
    files = [f for f in request.files.getlist("file") if f and f.filename]
    if not files:
        flash(_("Choose a file to attach."), "error")
    for upload in files:
        name = evidence_.safe_display_name(upload.filename or "")
        try:
            cleaned = evidence_.clean(name, upload.read(evidence_.MAX_IMAGE_BYTES + 1))
        except evidence_.EvidenceError as error:  # one file refused; the others are still attached
            flash(f"{name}: {describe(error)}", "error")
            continue
        key = storage.save(storage.new_key(cleaned.suffix), cleaned.content)  # deleted again if this rolls back
        db.session.add(Evidence(contact_id=contact.id, kind=cleaned.kind, original_name=name,
                                content_type=cleaned.content_type, size=len(cleaned.content),
                                sha256=cleaned.sha256, storage_key=key))
        flash(_("Attached: %(name)s", name=name), "success")
    db.session.commit()
    return redirect(url_for(".contact_form", assignment_id=assignment.id, _anchor="evidence"))


@bp.post("/assignments/<int:assignment_id>/evidence/<int:evidence_id>/delete")
@role_required("auditor")
def delete_evidence(assignment_id: int, evidence_id: int) -> Response | str:
    """Delete an attached file; the first post asks, naming the file, and only `confirm=1` deletes it."""
    assignment, stored = _own_assignment(assignment_id)
    contact = stored.contact
    item = db.session.get(Evidence, evidence_id)
    if contact is None or item is None or item.contact_id != contact.id or not contact.editable:
        abort(404)
    fieldwork.open_for_evidence(assignment, contact, local_today())  # after fieldwork the page offers no remove button
    back = url_for(".contact_form", assignment_id=assignment.id, _anchor="evidence")
    if request.form.get("confirm") != "1":
        return render_template(
            "confirm.html", title=_("Delete this file?"), button=_("Delete the file"), cancel=back,
            action=url_for(".delete_evidence", assignment_id=assignment.id, evidence_id=item.id), fields={},
            facts=[(_("File"), item.original_name), (_("Size"), f"{max(round(item.size / 1024), 1)} KB"),
                   (_("Attached"), moment(item.created_at)),
                   (_("Contact"), assignment.institution.name)],
            consequences=[_("The file is deleted from the server for good: the reviewer will not see it, and it "
                            "cannot be restored."),
                          _("Other files and the contact's answers stay as they are.")])
    storage.discard(item.storage_key)  # the file goes once the row's deletion is committed
    db.session.delete(item)
    db.session.commit()
    return redirect(back)


# --- offline support ----------------------------------------------------------------------------


@bp.get("/sw.js")
def service_worker() -> Response:
    """The service worker, served from /auditor/ so that it may control the auditor's pages."""
    response = send_from_directory(current_app.static_folder or "static", "js/sw.js", max_age=0)
    response.headers["Service-Worker-Allowed"] = "/auditor/"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/offline")
def offline() -> str:
    return render_template("auditor/offline.html")


@bp.app_template_global()
def copy_label(copy: ContactCopy) -> str:
    return moment(copy.created_at, "d MMM, HH:mm")


@bp.app_template_global()
def fact_label(name: str) -> str:
    return str(FACT_LABELS.get(name, name))
