"""Public pages, no login: licence verification, the registry of licence holders, each edition's method.

Only what an edition publishes is shown here: never an auditor, a contact's date, scenario or
answers. The certificate PDF is the one page behind a login: the organiser's, or a director's
of the licensed institution; anyone else gets 404, since the verification page is the proof.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from itertools import groupby

import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import certificates, paging, publication, rubric_library, services, standings
from ..extensions import db
from ..models import CATEGORIES, Campaign, CampaignChannel, Revision, RevisionStanding
from ..rubrics import Rubric

bp = Blueprint("public", __name__)


# --- verification ----------------------------------------------------------------------------


@bp.get("/verify")
def verify_search() -> Response | tuple[str, int] | str:
    """The search form; a typed number goes to its own page."""
    typed = request.args.get("number", "")
    if not typed.strip():
        return render_template("public/verify.html", typed="")
    number = certificates.normalise_number(typed)
    if number is None:
        return _no_licence(None)
    return redirect(url_for("public.verify", number=number))


@bp.get("/verify/<path:number>")
def verify(number: str) -> Response | tuple[str, int] | str:
    licence = certificates.licence_by_number(number)
    if licence is None:
        return _no_licence(certificates.normalise_number(number))
    if number != licence.number:  # typed in lower case or with spaces: one address per licence
        return redirect(url_for("public.verify", number=licence.number))
    return render_template("public/verify.html", typed=licence.number,
                           found=certificates.verification(licence, date.today()),
                           may_download=certificates.may_download(licence, current_user))


def _no_licence(number: str | None) -> tuple[str, int]:
    """The same plain answer for an unknown and a malformed number; only a well-formed one is echoed."""
    return render_template("public/verify.html", typed=number or "", missing=True), 404


@bp.get("/licences/<number>/certificate.pdf")
def certificate(number: str) -> Response:
    licence = certificates.licence_by_number(number)
    if licence is None or not certificates.may_download(licence, current_user):
        abort(404)
    data = certificates.certificate_data(licence, url_for("public.verify", number=licence.number, _external=True))
    response = Response(certificates.certificate_pdf(data), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="licencja-{licence.number}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- the registry ----------------------------------------------------------------------------


@bp.get("/registry")
def registry() -> str:
    today = date.today()
    editions = certificates.published_editions()
    regions = certificates.holder_regions(today)
    edition = request.args.get("edition", type=int)
    edition = edition if any(c.id == edition for c in editions) else None
    category = request.args.get("category") if request.args.get("category") in CATEGORIES else None
    region = request.args.get("region") if request.args.get("region") in regions else None
    search = (request.args.get("q") or "").strip()[:100]
    found = paging.paginate(certificates.holders_query(today, edition, category, region, search),
                            request.args.get("page", type=int), scalars=False)
    holders = certificates.as_holders(found.items)
    groups = [(campaign, list(rows)) for campaign, rows in groupby(holders, key=lambda h: h.campaign)]
    return render_template("public/registry.html", editions=editions, regions=regions, groups=groups, found=found,
                           count=found.total, edition=edition, category=category, region=region, search=search)


# --- an edition's method ---------------------------------------------------------------------


@dataclass(frozen=True)
class Spread:
    """Accepted contacts per institution in one channel, over the institutions that offer it."""

    institutions: int
    least: int
    median: float
    most: int


@dataclass(frozen=True)
class ChannelMethod:
    channel: str
    share: float
    """The channel's weight as a share of all the edition's weights (they sum to 1)."""
    min_contacts: int
    rubric: Rubric
    spread: Spread | None


@dataclass(frozen=True)
class EditionMethod:
    campaign: Campaign
    channels: list[ChannelMethod]
    revisions: list[Revision]
    """Newest first; an edition on this page always has at least one."""
    institutions: int
    licensed: int
    planned: int | None
    """Licensed institutions whose director submitted an improvement plan from the edition; None when the
    organiser keeps plans out of public for this edition."""


def _published_or_404(campaign_id: int) -> Campaign:
    campaign = db.get_or_404(Campaign, campaign_id)
    if publication.latest_revision(campaign.id) is None:
        abort(404)
    return campaign


def edition_method(campaign: Campaign) -> EditionMethod:
    """The published rules of an edition and the contacts behind its latest revision (from the figures the
    revision keeps: a national revision's rows are never loaded for a public page)."""
    revisions = publication.revisions_of(campaign.id)
    latest = revisions[0]
    total = sum(ch.weight for ch in campaign.channels) or 1.0
    contacts = standings.figures_of(latest)["contacts"]
    channels = [ChannelMethod(ch.channel, ch.weight / total, ch.min_contacts, services.rubric_by_hash(ch.rubric_hash),
                              Spread(*contacts[ch.channel]) if contacts.get(ch.channel) else None)
                for ch in campaign.channels]
    def licensed_and(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((sa.and_(RevisionStanding.licensed, condition), 1), else_=0)), 0)

    planned = (licensed_and(certificates.submitted_plan(campaign.id, RevisionStanding.institution_id))
               if campaign.plans_in_public else sa.null())
    institutions, licensed, with_plan = db.session.execute(
        sa.select(sa.func.count(), licensed_and(sa.true()), planned)
        .where(RevisionStanding.revision_id == latest.id)).one()
    return EditionMethod(campaign, channels, revisions, institutions, licensed,
                         None if with_plan is None else int(with_plan))


@bp.get("/editions/<int:campaign_id>/method")
def method(campaign_id: int) -> str:
    campaign = _published_or_404(campaign_id)
    return render_template("public/method.html", method=edition_method(campaign),
                           validity_days=publication.LICENCE_VALIDITY.days,
                           since=rubric_library.since_previous(campaign))


@bp.get("/editions/<int:campaign_id>/rubrics/<channel>.yaml")
def rubric_source(campaign_id: int, channel: str) -> Response:
    """The pinned rubric exactly as stored: the text its hash names."""
    campaign = _published_or_404(campaign_id)
    pinned = db.session.get(CampaignChannel, (campaign.id, channel))
    if pinned is None:
        abort(404)
    name = re.sub(r"[^A-Za-z0-9._-]", "_", f"{pinned.rubric.rubric_id}-{pinned.rubric.version}")
    return Response(pinned.rubric.source, content_type="text/plain; charset=utf-8",
                    headers={"Content-Disposition": f'inline; filename="{name}.yaml"'})
