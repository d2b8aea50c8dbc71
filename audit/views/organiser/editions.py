"""Editions: set-up, stages, ranking, explanations, publication, revisions, overrides, log."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from ... import (
    editions,
    job_records,
    journal,
    journal_text,
    lifecycle,
    paging,
    publication,
    readiness,
    result_cache,
    rubric_library,
    services,
)
from ... import standings as edition_results
from ...errors import describe
from ...extensions import db
from ...fairness_data import live_ranking, standings_with_uncertainty
from ...forms import DirectorAccessForm, EditionForm, OverrideForm, PublishForm, StepForm
from ...lifecycle import Action
from ...models import Assignment, Campaign, Contact, Institution, LicenceOverride, User
from ...rubrics import CHANNELS, Rubric
from ...security import role_required
from ...standings import overrides_of
from .. import decide_once
from . import bp


@bp.get("/")
@role_required("organiser")
def home() -> str:
    campaigns = db.session.scalars(sa.select(Campaign).order_by(Campaign.year.desc(), Campaign.id.desc())).all()
    return render_template("organiser/home.html", campaigns=campaigns)


# --- set-up --------------------------------------------------------------------------------


def _rubric_choices(form: EditionForm, campaign: Campaign | None) -> dict[str, Rubric]:
    """Fill each channel's rubric choices from the rubric library (what the edition pins now, retired or not,
    and every version not retired); hash -> rubric."""
    if rubric_library.seed(current_app.config["RUBRICS_DIR"]):  # the directory is a seed of the library
        db.session.commit()
    found = {channel: rubric_library.versions_for(channel) for channel in CHANNELS}
    for pinned in campaign.channels if campaign is not None else ():
        if all(r.hash != pinned.rubric_hash for r in found[pinned.channel]):
            found[pinned.channel].insert(0, services.rubric_by_hash(pinned.rubric_hash))
    by_hash: dict[str, Rubric] = {}
    for channel in CHANNELS:
        sub = getattr(form, channel)
        sub.rubric.choices = [SelectChoice(r.hash, f"{r.id} {r.version} · {r.title.get('pl')}")
                              for r in found.get(channel, [])]
        by_hash.update((r.hash, r) for r in found.get(channel, []))
    return by_hash


def _setup_of(form: EditionForm) -> editions.EditionSetup:
    channels = [editions.ChannelSetup(ch, sub.rubric.data, 1.0 if sub.weight.data is None else sub.weight.data,
                                      1 if sub.min_contacts.data is None else sub.min_contacts.data)
                for ch in CHANNELS if (sub := getattr(form, ch)).enabled.data]
    return editions.EditionSetup(form.name.data, form.year.data, form.threshold.data, form.missing_channel.data,
                                 form.fieldwork_start.data, form.fieldwork_end.data, channels)


@bp.route("/campaigns/new", methods=["GET", "POST"])
@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@role_required("organiser")
def edit_edition(campaign_id: int | None = None) -> Response | str:
    campaign = db.get_or_404(Campaign, campaign_id) if campaign_id is not None else None
    form = EditionForm(obj=campaign)
    rubrics = _rubric_choices(form, campaign)
    frozen = campaign is not None and not lifecycle.allows(campaign, Action.EDIT_RULES)
    if request.method == "GET" or frozen:
        current = {ch.channel: ch for ch in campaign.channels} if campaign else {}
        for channel in CHANNELS:
            sub, row = getattr(form, channel), current.get(channel)
            sub.enabled.data = row is not None or campaign is None
            if row is not None:
                sub.rubric.data, sub.weight.data, sub.min_contacts.data = row.rubric_hash, row.weight, row.min_contacts
    if frozen and request.method == "POST":
        flash(_(lifecycle.why_not(campaign, Action.EDIT_RULES) or ""), "error")
        return redirect(url_for("organiser.edition", campaign_id=campaign_id))
    if form.validate_on_submit():
        unknown = [ch for ch in CHANNELS if getattr(form, ch).enabled.data and getattr(form, ch).rubric.data not in rubrics]
        if unknown:
            flash(_("Choose a rubric for every audited channel."), "error")
        else:
            try:
                campaign = editions.save_edition(campaign, _setup_of(form), rubrics, current_user)
            except editions.EditionError as error:
                db.session.rollback()
                flash(describe(error), "error")
            else:
                db.session.commit()
                flash(_("The edition is saved."), "success")
                return redirect(url_for("organiser.edition", campaign_id=campaign.id))
    return render_template("organiser/edition_form.html", form=form, campaign=campaign, channels=CHANNELS,
                           frozen=frozen)


@bp.get("/campaigns/<int:campaign_id>")
@role_required("organiser")
def edition(campaign_id: int) -> str:
    campaign = db.get_or_404(Campaign, campaign_id)
    counts = dict(db.session.execute(sa.select(Contact.status, sa.func.count()).where(
        Contact.campaign_id == campaign_id).group_by(Contact.status)).all())
    return render_template(
        "organiser/edition.html", campaign=campaign, counts=counts, access_form=DirectorAccessForm(obj=campaign),
        revisions=publication.revisions_of(campaign_id), next_number=publication.next_number(campaign_id),
        pending=publication.pending_changes(campaign_id), overrides=overrides_of(campaign_id),
        next_status=lifecycle.next_stage(campaign))


@bp.route("/campaigns/<int:campaign_id>/advance", methods=["GET", "POST"])
@role_required("organiser")
def advance(campaign_id: int) -> Response | tuple[str, int] | str:
    """Start the fieldwork, or close it, after reading what is still open (readiness check)."""
    campaign = db.get_or_404(Campaign, campaign_id)
    target = lifecycle.next_stage(campaign)
    if target is None:
        flash(_("This edition has no next stage to start by hand."), "error")
        return redirect(url_for("organiser.edition", campaign_id=campaign_id))
    check = readiness.before_closing_fieldwork(campaign) if target == "review" else None
    form = StepForm(target=target)
    if form.validate_on_submit():
        refusal = _unconfirmed(check, form.seen.data, bool(form.confirm.data))
        if refusal is None:  # a refusal of the domain is answered by the one error handler
            editions.advance(campaign, current_user, form.target.data, check.outstanding() if check else None)
            db.session.commit()
            flash(_("The fieldwork has started.") if target == "fieldwork"
                  else _("The fieldwork is closed; the edition is in review."), "success")
            return redirect(url_for("organiser.edition", campaign_id=campaign_id))
        flash(*refusal)
    form.seen.data, form.confirm.data = check.fingerprint() if check else "", False
    status = 200 if request.method == "GET" or form.errors else 409
    return render_template("organiser/step.html", campaign=campaign, form=form, check=check, target=target), status


def _unconfirmed(check: readiness.Readiness | None, seen: str | None, confirmed: bool) -> tuple[str, str] | None:
    """Why a step may not go ahead yet (a flash message and its kind), or None: the organiser read the
    list that is open now and, if anything is open, said yes."""
    if check is None:
        return None
    if seen != check.fingerprint():
        return _("What is still open changed since you opened this page: read the list again."), "warning"
    if not check.ready and not confirmed:
        return _("Tick the box to confirm that you go ahead with these items open."), "error"
    return None


@bp.post("/campaigns/<int:campaign_id>/director-access")
@role_required("organiser")
def director_access(campaign_id: int) -> Response:
    campaign = db.get_or_404(Campaign, campaign_id)
    form = DirectorAccessForm()
    if form.validate_on_submit():  # a refusal is flashed by views/errors.py
        editions.set_director_access(campaign, form.appeal_until.data, bool(form.evidence_to_directors.data),
                                     current_user, comments=bool(form.comments_to_directors.data),
                                     plans_in_public=bool(form.plans_in_public.data))
        db.session.commit()
        flash(_("Saved."), "success")
    return redirect(url_for("organiser.edition", campaign_id=campaign_id))


# --- ranking, explanation, overrides -------------------------------------------------------


@bp.get("/campaigns/<int:campaign_id>/ranking")
@role_required("organiser")
def ranking(campaign_id: int) -> str:
    """The live result (what the next revision would publish), saying how it stands against the published one."""
    campaign = db.get_or_404(Campaign, campaign_id)
    where = paging.result_filter(request.args)
    ranking = live_ranking(campaign)  # kept per edition state: audit/result_cache.py
    result, uncertainty = ranking.result, ranking.intervals  # bootstrap intervals: audit/fairness.py
    found = paging.of_list(edition_results.filtered(result, where), request.args.get("page", type=int))
    names = {i.id: i for i in db.session.scalars(sa.select(Institution).where(
        Institution.id.in_([r.institution_id for r in found.items])))}
    latest = publication.latest_revision(campaign_id)
    changed = ranking.changed
    return render_template("organiser/ranking.html", campaign=campaign, found=found, result=result,
                           institutions=names, where=where, regions=paging.regions(), uncertainty=uncertainty,
                           latest=latest, changed=changed)


@bp.get("/campaigns/<int:campaign_id>/institutions/<int:institution_id>")
@role_required("organiser")
def explanation(campaign_id: int, institution_id: int) -> str:
    campaign = db.get_or_404(Campaign, campaign_id)
    report = services.explain_institution(campaign_id, institution_id)
    if report is None:
        abort(404)
    override = db.session.get(LicenceOverride, (campaign_id, institution_id))
    form = OverrideForm(decision="engine" if override is None else ("grant" if override.licensed else "refuse"))
    return render_template("organiser/explanation.html", campaign=campaign, report=report, override=override,
                           override_form=form, history=journal_text.log_lines(
                               [e for e in journal.history("institution", institution_id) if e.campaign_id == campaign_id]))


@bp.post("/campaigns/<int:campaign_id>/institutions/<int:institution_id>/override")
@role_required("organiser")
def override(campaign_id: int, institution_id: int) -> Response:
    campaign = db.get_or_404(Campaign, campaign_id)
    db.get_or_404(Institution, institution_id)
    form = OverrideForm()
    if not form.validate_on_submit():
        flash(_("An override needs a decision and a written reason."), "error")
    elif not lifecycle.allows(campaign, Action.OVERRIDE):
        flash(_(lifecycle.why_not(campaign, Action.OVERRIDE) or ""), "error")
    else:
        decision = {"engine": None, "grant": True, "refuse": False}[form.decision.data]
        publication.set_override(campaign, institution_id, decision, form.reason.data, current_user)
        db.session.commit()
        flash(_("The decision is recorded; it reaches the published ranking with the next revision.")
              if campaign.status == "published" else _("The decision is recorded."), "success")
    return redirect(url_for("organiser.explanation", campaign_id=campaign_id, institution_id=institution_id))


# --- publication ---------------------------------------------------------------------------


@bp.route("/campaigns/<int:campaign_id>/publish", methods=["GET", "POST"])
@role_required("organiser")
def publish(campaign_id: int) -> Response | tuple[str, int]:
    """Publish the next revision, after reading what is still open (readiness check)."""
    campaign = db.get_or_404(Campaign, campaign_id)
    if not lifecycle.allows(campaign, Action.PUBLISH):
        flash(_(lifecycle.why_not(campaign, Action.PUBLISH) or ""), "error")
        return redirect(url_for("organiser.edition", campaign_id=campaign_id))
    check = readiness.before_publishing(campaign)
    form = PublishForm(number=publication.next_number(campaign_id))
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            flash(_("Say what this revision publishes.") if form.note.errors
                  else _("This page is out of date: reload it and publish again."), "error")
            status = 422
        elif (refusal := _unconfirmed(check, form.seen.data, bool(form.confirm.data))) is not None:
            flash(*refusal)
            status = 409
        elif _ranked(campaign_id) > int(current_app.config["PUBLISH_INLINE_INSTITUTIONS"]):
            return _publish_by_job(campaign, form, check)
        else:
            return _publish(campaign, form, check)
    form.seen.data, form.confirm.data = check.fingerprint(), False
    form.state.data = result_cache.fingerprint(campaign_id)
    return render_template("organiser/publish.html", campaign=campaign, form=form, check=check,
                           flips=_flips(campaign), pending=publication.pending_changes(campaign_id),
                           under_way=job_records.pending("publish", campaign_id)), status


def _ranked(campaign_id: int) -> int:
    """Institutions the edition ranks (those with an assignment): what publishing costs grows with."""
    return int(db.session.scalar(sa.select(sa.func.count(sa.distinct(Assignment.institution_id))).where(
        Assignment.campaign_id == campaign_id)) or 0)


def _publish_by_job(campaign: Campaign, form: PublishForm, check: readiness.Readiness) -> Response:
    """A large edition is published by a job, of exactly the state the organiser confirmed: asked twice, one
    job (keyed by revision and state); the job refuses if the results changed before it ran."""
    state = form.state.data or result_cache.fingerprint(campaign.id)
    job = job_records.request("publish", campaign, current_user, {
        "number": form.number.data, "note": form.note.data, "outstanding": check.outstanding(), "state": state,
        "language": str(get_locale() or "pl")}, key=f"publish:{campaign.id}:{form.number.data}:{state}")
    db.session.commit()
    return redirect(url_for("organiser.job", job_id=job.id))


def _publish(campaign: Campaign, form: PublishForm, check: readiness.Readiness) -> Response:
    try:
        revision = decide_once(lambda: publication.publish(campaign, current_user, form.note.data, form.number.data,
                                                           outstanding=check.outstanding(),
                                                           state=form.state.data or None))
    except publication.AlreadyPublished as error:  # not a refusal: a repeat, shown what the first one made
        db.session.rollback()
        flash(describe(error), "warning")
        return redirect(url_for("organiser.revision", campaign_id=campaign.id, number=error.number))
    flash(_("Revision %(n)s is published.", n=revision.number), "success")
    return redirect(url_for("organiser.revision", campaign_id=campaign.id, number=revision.number))


def _flips(campaign: Campaign) -> list:
    """Licence decisions that could flip within their intervals: worth a look before publishing."""
    return [r for r in standings_with_uncertainty(campaign.id)[1].values() if r.licence_could_flip]


@bp.get("/campaigns/<int:campaign_id>/revisions/<int:number>")
@role_required("organiser")
def revision(campaign_id: int, number: int) -> str:
    campaign = db.get_or_404(Campaign, campaign_id)
    rev = publication.revision_of(campaign_id, number)
    if rev is None:
        abort(404)
    author = db.session.get(User, rev.published_by_id) if rev.published_by_id else None
    where = paging.result_filter(request.args)
    return render_template("organiser/revision.html", campaign=campaign, revision=rev, where=where,
                           regions=paging.regions(), revisions=publication.revisions_of(campaign_id),
                           found=publication.revision_page(rev.id, where, request.args.get("page", type=int)),
                           revision_author=author.name if author else None)


@bp.get("/campaigns/<int:campaign_id>/log")
@role_required("organiser")
def log(campaign_id: int) -> str:
    campaign = db.get_or_404(Campaign, campaign_id)
    return render_template("organiser/log.html", campaign=campaign, lines=journal_text.log_lines(journal.campaign_log(campaign_id)))
