"""The review queue: accept a contact, return it with a comment, correct an answer; decide appeals."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from ... import appeals as appeals_
from ... import journal, journal_text, review, services, storage
from ...extensions import db
from ...forms import AppealDecisionForm, CorrectionForm, ReviewForm
from ...models import Appeal, Campaign, Contact, User
from ...security import role_required
from ..evidence import private
from . import bp


@bp.get("/campaigns/<int:campaign_id>/review")
@role_required("organiser")
def review_queue(campaign_id: int) -> str:
    campaign = db.get_or_404(Campaign, campaign_id)
    where = review.QueueFilter(request.args.get("channel") or None, request.args.get("auditor", type=int),
                               (request.args.get("q") or "").strip())
    auditors = db.session.scalars(sa.select(User).where(User.role == "auditor").order_by(User.pseudonym)).all()
    return render_template("organiser/review_queue.html", campaign=campaign, where=where, auditors=auditors,
                           queue=review.review_queue_page(campaign_id, where, request.args.get("page", type=int)))


@bp.get("/contacts/<int:contact_id>")
@role_required("organiser")
def contact(contact_id: int) -> str:
    return _contact_page(db.get_or_404(Contact, contact_id))


def _contact_page(item: Contact, pending: CorrectionForm | None = None, status: int = 200) -> Any:
    """The review page; with `pending`, a correction that needs the criteria it reveals answered."""
    rubric, score = services.contact_score(item)
    revealed = review.revealed_by(item, pending.criterion.data, pending.value.data) if pending is not None else ()
    return render_template(
        "organiser/contact.html", contact=item, campaign=db.session.get(Campaign, item.campaign_id), rubric=rubric,
        score=score, answers={a.criterion_id: a for a in item.answers},
        corrections=review.corrections_of(item), history=journal_text.log_lines(journal.history("contact", item.id)),
        form=ReviewForm(version=item.version), correction_form=CorrectionForm(version=item.version),
        pending=pending, revealed=revealed), status


def _act(contact_id: int, action: str) -> Response:
    item = db.get_or_404(Contact, contact_id)
    form: ReviewForm | CorrectionForm = CorrectionForm() if action == "correct" else ReviewForm()
    if not form.validate_on_submit():
        flash(_("The form was incomplete; nothing was changed."), "error")
        return redirect(url_for("organiser.contact", contact_id=contact_id))
    seen = int(form.version.data)
    try:
        if action == "accept":
            review.accept(item, current_user, seen)
        elif action == "return":
            review.return_to_auditor(item, current_user, seen, form.comment.data or "")
        else:
            assert isinstance(form, CorrectionForm)
            revealed = {key.removeprefix("revealed-"): value for key, value in request.form.items()
                        if key.startswith("revealed-") and value != ""}
            review.correct_answer(item, current_user, seen, form.criterion.data, form.value.data, form.reason.data,
                                  revealed)
        db.session.commit()
    except review.CorrectionIncomplete:  # keep what was typed, ask for the revealed answers (listed by question)
        db.session.rollback()
        flash(_("The correction is not saved yet: answer the criteria it makes apply, below, "
                "or return the contact to its auditor."), "error")
        assert isinstance(form, CorrectionForm)
        return _contact_page(item, pending=form, status=422)
    except StaleDataError:  # the same race, lost at commit: refused as a stale form is (views/errors.py)
        raise review.ReviewConflict(review.CHANGED_MEANWHILE) from None
    messages = {"accept": _("The contact is accepted."), "return": _("The contact is returned to its auditor."),
                "correct": _("The correction is recorded.")}
    flash(messages[action], "success")
    if action == "correct":
        return redirect(url_for("organiser.contact", contact_id=contact_id))
    nxt = review.review_queue(item.campaign_id, limit=1)
    return redirect(url_for("organiser.contact", contact_id=nxt[0].id) if nxt
                    else url_for("organiser.review_queue", campaign_id=item.campaign_id))


@bp.post("/contacts/<int:contact_id>/<any(accept, return, correct):action>")
@role_required("organiser")
def review_action(contact_id: int, action: str) -> Response:
    if action not in ("accept", "return", "correct"):
        abort(404)
    return _act(contact_id, action)


# --- appeals -------------------------------------------------------------------------------


@bp.get("/campaigns/<int:campaign_id>/appeals")
@role_required("organiser")
def appeals(campaign_id: int) -> str:
    campaign = db.get_or_404(Campaign, campaign_id)
    items = appeals_.appeals_of(campaign_id)
    return render_template("organiser/appeals.html", campaign=campaign, appeals=items,
                           lines=appeals_.contested_lines(items), evidence=appeals_.evidence_of(items),
                           form=AppealDecisionForm())


@bp.post("/appeals/<int:appeal_id>")
@role_required("organiser")
def resolve_appeal(appeal_id: int) -> Response:
    appeal = db.get_or_404(Appeal, appeal_id)
    form = AppealDecisionForm()
    if not form.validate_on_submit():
        flash(_("A decision on an appeal needs a written reason."), "error")
    else:
        appeals_.resolve(appeal, current_user, form.decision.data == "upheld", form.resolution.data)
        db.session.commit()
        flash(_("The appeal is upheld: correct the contact's answers, then publish a new revision.")
              if appeal.status == "upheld" else _("The appeal is rejected."), "success")
    return redirect(url_for("organiser.appeals", campaign_id=appeal.campaign_id))


@bp.post("/appeals/<int:appeal_id>/criteria/<criterion_id>")
@role_required("organiser")
def decide_appeal_criterion(appeal_id: int, criterion_id: str) -> Response:
    """Uphold or reject one contested criterion; an upheld one is corrected on the contact's review page."""
    appeal = db.get_or_404(Appeal, appeal_id)
    form = AppealDecisionForm()
    back = url_for("organiser.appeals", campaign_id=appeal.campaign_id, _anchor=f"appeal-{appeal.id}")
    if not form.validate_on_submit():
        flash(_("A decision on an appeal needs a written reason."), "error")
        return redirect(back)
    upheld = form.decision.data == "upheld"
    appeals_.decide_criterion(appeal, current_user, criterion_id, upheld, form.resolution.data)
    db.session.commit()
    if upheld:
        flash(_("Upheld. Now correct the answer on the contact's page; the next published revision carries it."),
              "success")
        return redirect(url_for("organiser.contact", contact_id=appeal.contact_id, _anchor=f"c-{criterion_id}"))
    flash(_("Rejected, with your reason; the director sees it."), "success")
    return redirect(back)


@bp.get("/appeals/<int:appeal_id>/document")
@role_required("organiser")
def appeal_document(appeal_id: int) -> Response:
    """The document a director attached to an appeal, under the name they uploaded it with."""
    appeal = db.get_or_404(Appeal, appeal_id)
    key = appeals_.document_key(appeal)
    if key is None:
        abort(404)
    return private(storage.send(key, mimetype=(appeal.document_type or "text/plain").partition(";")[0].strip(),
                                as_attachment=appeal.document_kind != "image",
                                download_name=appeal.document_name or "document"))
