"""The director's view of their own institutions: published scorecards and appeals."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import appeals, charts, evidence, plans, scorecard, storage
from ..errors import N_
from ..extensions import db
from ..forms import ActionForm, AppealForm
from ..i18n import CHANNEL_LABELS, lang
from ..models import Appeal, Campaign, Institution
from ..security import role_required
from . import decide_once
from .evidence import private

bp = Blueprint("director", __name__, url_prefix="/director")


def own_institution(institution_id: int) -> Institution:
    """One of the director's institutions; 404 for any other (its existence is not confirmed)."""
    institution = next((i for i in current_user.institutions if i.id == institution_id), None)
    if institution is None:
        abort(404)
    return institution


@bp.get("/")
@role_required("director")
def home() -> str:
    editions = {i.id: scorecard.published_editions_of(i.id) for i in current_user.institutions}
    return render_template("director/home.html", institutions=current_user.institutions, editions=editions)


@bp.get("/campaigns/<int:campaign_id>/institutions/<int:institution_id>")
@role_required("director")
def scorecard_page(campaign_id: int, institution_id: int) -> str:
    institution = own_institution(institution_id)
    campaign = db.get_or_404(Campaign, campaign_id)
    card = scorecard.build(campaign, institution)
    if card is None:
        abort(404)
    earlier = plans.previous_plan(campaign, institution.id)
    return render_template("director/scorecard.html", card=card, charts=_charts(card), appeal_form=AppealForm(),
                           plan=plans.plan_of(campaign.id, institution.id), earlier=earlier,
                           follow_up=plans.follow_up(earlier, campaign) if earlier else [],
                           earlier_name=db.session.get_one(Campaign, earlier.campaign_id).name if earlier else "",
                           min_contacts=plans.MIN_CONTACTS)


@bp.route("/campaigns/<int:campaign_id>/institutions/<int:institution_id>/plan", methods=["GET", "POST"])
@role_required("director")
def plan_page(campaign_id: int, institution_id: int) -> str | Response:
    """The improvement plan: one row per lost criterion (what will change, who, by when); printable."""
    institution = own_institution(institution_id)
    campaign = db.get_or_404(Campaign, campaign_id)
    card = scorecard.build(campaign, institution)
    if card is None:
        abort(404)
    allowed = {(item.channel, item.criterion.id) for item in card.lost}
    if request.method == "POST":
        form = ActionForm()
        if not form.validate_on_submit():
            abort(400)
        actions = [plans.ActionInput(channel, criterion_id, request.form.get(f"what-{channel}-{criterion_id}", ""),
                                     request.form.get(f"who-{channel}-{criterion_id}", ""),
                                     _date(request.form.get(f"due-{channel}-{criterion_id}", "")))
                   for channel, criterion_id in sorted(allowed)]
        submit = request.form.get("submit") == "1"
        plans.save(current_user, campaign, institution.id, actions, allowed, submit)  # a refusal: views/errors.py
        db.session.commit()
        flash(_("The plan is submitted. The organiser sees it; the next edition will measure each action.")
              if submit else _("The plan is saved as a draft."), "success")
        return redirect(url_for("director.plan_page", campaign_id=campaign.id, institution_id=institution.id))
    plan = plans.plan_of(campaign.id, institution.id)
    planned = {(a.channel, a.criterion_id): a for a in (plan.actions if plan else [])}
    return render_template("director/plan.html", card=card, plan=plan, planned=planned, form=ActionForm(),
                           min_contacts=plans.MIN_CONTACTS)


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        raise plans.PlanError(N_("This is not a date: %(value)s"), value=text[:20]) from None


def _charts(card: scorecard.Scorecard) -> dict[str, object]:
    here = lang()
    channel_lines = [c for c in card.channels if c.score is not None or c.category_median is not None]
    out: dict[str, object] = {
        "channels": charts.as_json(charts.channels(
            [str(CHANNEL_LABELS[c.channel]) for c in channel_lines], [c.score for c in channel_lines],
            [c.category_median for c in channel_lines], _("You"), _("Category median"))),
        "distribution": charts.as_json(charts.distribution(
            card.category_points, card.standing.points, card.revision.threshold, _("You"), _("Institutions"),
            label_threshold=_("Licence threshold"))),
    }
    if card.sections:
        out["sections"] = charts.as_json(charts.sections(
            [f"{CHANNEL_LABELS[ch]}: {title.get(here)}" for ch, title, _share in card.sections],
            [share for _ch, _title, share in card.sections]))
    if len(card.trend) > 1:
        out["trend"] = charts.as_json(charts.trend(
            [t.year for t in card.trend], [t.points for t in card.trend], [t.threshold for t in card.trend],
            _("Ranking points"), _("Licence threshold")))
    return out


@bp.get("/contacts/<int:contact_id>")
@role_required("director")
def contact_page(contact_id: int) -> str:
    """A counted contact as the published revision counted it; 404 alike for anything else."""
    contact = appeals.published_contact(current_user, contact_id)
    record = scorecard.contact_record(contact) if contact is not None else None
    if record is None:
        abort(404)
    return render_template("director/contact.html", record=record, form=AppealForm())


@bp.post("/contacts/<int:contact_id>/appeal")
@role_required("director")
def appeal(contact_id: int) -> Response:
    contact = appeals.published_contact(current_user, contact_id)
    if contact is None:  # answered as for an id that does not exist, whatever the contact's state
        abort(404)
    form = AppealForm()
    back = url_for("director.contact_page", contact_id=contact.id, _anchor="appeal")
    if not form.validate_on_submit():
        flash(_("Say why you contest this contact."), "error")
        return redirect(back)
    upload = request.files.get("document")
    document = None
    if upload is not None and upload.filename:
        document = appeals.Document(evidence.safe_display_name(upload.filename),
                                    upload.read(evidence.MAX_IMAGE_BYTES + 1))
    criteria = request.form.getlist("criterion")
    # a refusal (the window closed, a file refused, already waiting) is flashed by views/errors.py
    decide_once(lambda: appeals.file_appeal(current_user, contact, form.reason.data, criteria=criteria,
                                            document=document))
    flash(_("Your appeal is filed. The organiser will decide on it and you will see the outcome here."), "success")
    return redirect(back)


@bp.get("/appeals/<int:appeal_id>/document")
def appeal_document(appeal_id: int) -> Response:
    """The document a director attached to an appeal of their institution, under a neutral name.

    Everyone else (another institution's director, an auditor, an organiser, a visitor not logged in)
    gets the 404 of an id that does not exist, after the same one query: no answer tells that an appeal,
    or a document, exists. Organisers open documents from their own appeals page."""
    own = ([i.id for i in current_user.institutions]
           if current_user.is_authenticated and current_user.role == "director" else [])
    item = db.session.scalar(sa.select(Appeal).where(Appeal.id == appeal_id, Appeal.institution_id.in_(own),
                                                     Appeal.document_key.is_not(None)))
    key = appeals.document_key(item) if item is not None else None
    if item is None or key is None:
        abort(404)
    return private(storage.send(key, mimetype=(item.document_type or "text/plain").partition(";")[0].strip(),
                                as_attachment=item.document_kind != "image", download_name=appeals.document_name(item)))


from . import director_exports  # noqa: E402, F401
