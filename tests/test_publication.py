"""Publishing: frozen revisions, licences that follow them, overrides with reasons, the decisions log."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from audit import lifecycle, publication, review, services
from audit.extensions import db
from audit.models import AuditEvent, Campaign, Contact, Licence, LicenceOverride, Revision, RevisionStanding, User

from .conftest import go_ahead


def token_of(page: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)


def number_offered(page: str) -> str:
    """The revision number the edition page's publish form offers."""
    return re.search(r'name="number" type="hidden" value="(\d+)"', page).group(1)


def in_review(app) -> tuple[Campaign, User]:
    campaign = db.session.get(Campaign, 1)  # the demo's edition in fieldwork
    campaign.status = "review"
    return campaign, db.session.scalar(sa.select(User).filter_by(role="organiser"))


def test_publishing_freezes_the_engines_standings_and_grants_licences(demo_app):
    with demo_app.app_context():
        campaign, organiser = in_review(demo_app)
        revision = publication.publish(campaign, organiser, "Wyniki edycji 2026")
        db.session.commit()
        standings = services.compute_standings(campaign.id)
        rows = {r.institution_id: r for r in revision.standings}
        assert revision.number == 1 and campaign.status == "published"
        for s in standings:
            row = rows[s.institution_id]
            assert (row.points, row.rank, row.category_rank, row.engine_licensed, row.licensed) == (
                s.points, s.rank, s.category_rank, s.licence.granted, s.licence.granted)
            assert [publication.reason_of(r) for r in row.reasons] == list(s.licence.reasons)
        licensed = {s.institution_id for s in standings if s.licence.granted}
        licences = db.session.scalars(sa.select(Licence).filter_by(campaign_id=campaign.id)).all()
        assert {lic.institution_id for lic in licences} == licensed and licensed
        assert len({lic.number for lic in licences}) == len(licences)
        assert all(lic.revoked_at is None and lic.valid_until > lic.granted_at for lic in licences)


def test_a_published_revision_never_changes_and_a_correction_makes_the_next_one(demo_app):
    with demo_app.app_context():
        campaign, organiser = in_review(demo_app)
        first = publication.publish(campaign, organiser, "Wyniki")
        db.session.commit()
        frozen = [(r.institution_id, r.points, r.rank) for r in first.standings]
        assert publication.pending_changes(campaign.id) == []
        # a reviewer accepts one more contact after publication
        contact = db.session.scalar(sa.select(Contact).filter_by(campaign_id=campaign.id, status="submitted"))
        review.accept(contact, organiser, contact.version)
        db.session.commit()
        pending = publication.pending_changes(campaign.id)
        assert pending and any(p.institution_id == contact.institution_id for p in pending)
        db.session.expire_all()
        assert [(r.institution_id, r.points, r.rank) for r in publication.revision_of(campaign.id, 1).standings] == frozen
        second = publication.publish(campaign, organiser, "Korekta po przyjęciu kontaktu")
        db.session.commit()
        assert second.number == 2 and publication.pending_changes(campaign.id) == []
        assert [r.number for r in publication.revisions_of(campaign.id)] == [2, 1]


def test_an_override_needs_a_reason_reaches_the_next_revision_and_revokes_a_licence(demo_app):
    with demo_app.app_context():
        campaign, organiser = in_review(demo_app)
        publication.publish(campaign, organiser, "Wyniki")
        db.session.commit()
        holder = db.session.scalar(sa.select(Licence).filter_by(campaign_id=campaign.id).order_by(Licence.id))
        with pytest.raises(publication.PublicationError):
            publication.set_override(campaign, holder.institution_id, False, "  ", organiser)
        publication.set_override(campaign, holder.institution_id, False, "Skarga potwierdzona przez kontrolę.",
                                 organiser)
        db.session.commit()
        assert db.session.get(Licence, holder.id).revoked_at is None  # not until the next revision
        revision = publication.publish(campaign, organiser, "Decyzja organizatora")
        db.session.commit()
        row = db.session.get(RevisionStanding, (revision.id, holder.institution_id))
        assert row.engine_licensed and not row.licensed and row.override_reason == "Skarga potwierdzona przez kontrolę."
        revoked = db.session.get(Licence, holder.id)
        assert revoked.revoked_at is not None and revoked.revoked_reason == "Skarga potwierdzona przez kontrolę."
        actions = [e.action for e in db.session.scalars(sa.select(AuditEvent).filter_by(campaign_id=campaign.id))]
        assert {"publish", "licence_granted", "licence_override", "licence_revoked"} <= set(actions)
        # back to the engine's decision: the licence is restored by the next revision
        publication.set_override(campaign, holder.institution_id, None, "Skarga wycofana.", organiser)
        publication.publish(campaign, organiser, "Przywrócenie")
        db.session.commit()
        assert db.session.get(Licence, holder.id).revoked_at is None
        assert db.session.get(LicenceOverride, (campaign.id, holder.institution_id)) is None


def test_nothing_is_published_before_the_review_stage(demo_app):
    with demo_app.app_context():
        campaign = db.session.get(Campaign, 1)
        organiser = db.session.scalar(sa.select(User).filter_by(role="organiser"))
        assert campaign.status == "fieldwork"
        with pytest.raises(lifecycle.StageRefused, match="Close the fieldwork before publishing"):
            publication.publish(campaign, organiser, "Za wcześnie")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Revision).filter_by(campaign_id=1)) == 0


def test_the_organiser_closes_fieldwork_publishes_and_overrides_over_http(demo_app, auth):
    auth.as_role("organiser")
    page = auth.client.get("/organiser/campaigns/1").get_data(as_text=True)
    token = token_of(page)
    go_ahead(auth.client, "/organiser/campaigns/1/advance")
    response = go_ahead(auth.client, "/organiser/campaigns/1/publish", note="Wyniki 2026")
    assert response.status_code == 302 and response.headers["Location"].endswith("/organiser/campaigns/1/revisions/1")
    ranking = auth.client.get("/organiser/campaigns/1/revisions/1").get_data(as_text=True)
    assert "Wyniki 2026" in ranking
    with demo_app.app_context():
        loser = db.session.scalar(sa.select(RevisionStanding).join(Revision).where(
            Revision.campaign_id == 1, RevisionStanding.licensed.is_(False), RevisionStanding.points.is_not(None)))
        institution_id = loser.institution_id
    url = f"/organiser/campaigns/1/institutions/{institution_id}/override"
    auth.client.post(url, data={"csrf_token": token, "decision": "grant", "reason": ""})
    with demo_app.app_context():
        assert db.session.get(LicenceOverride, (1, institution_id)) is None
    auth.client.post(url, data={"csrf_token": token, "decision": "grant", "reason": "Błąd audytora potwierdzony."})
    edition = auth.client.get("/organiser/campaigns/1").get_data(as_text=True)
    assert "revision 2" in edition or "wersję 2" in edition
    go_ahead(auth.client, "/organiser/campaigns/1/publish", note="Decyzja organizatora")
    with demo_app.app_context():
        licence = db.session.scalar(sa.select(Licence).filter_by(campaign_id=1, institution_id=institution_id))
        assert licence is not None and licence.revoked_at is None
    log = auth.client.get("/organiser/campaigns/1/log").get_data(as_text=True)
    assert "Błąd audytora potwierdzony." in log


@pytest.mark.parametrize("role", ["auditor", "director"])
def test_publication_is_for_organisers_only(auth, demo_app, role):
    auth.as_role(role)
    assert auth.client.post("/organiser/campaigns/1/publish", data={"note": "x"}).status_code in (400, 403)
    assert auth.client.get("/organiser/campaigns/1/log").status_code == 403
    with demo_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Revision).filter_by(campaign_id=1)) == 0


def test_a_repeated_publication_names_the_revision_already_made_and_publishes_nothing(demo_app):
    with demo_app.app_context():
        campaign, organiser = in_review(demo_app)
        first = publication.publish(campaign, organiser, "Wyniki", number=1)
        db.session.commit()
        with pytest.raises(publication.AlreadyPublished) as repeat:
            publication.publish(campaign, organiser, "Wyniki", number=1)
        assert repeat.value.number == first.number == 1
        with pytest.raises(publication.PublicationError, match="out of date"):
            publication.publish(campaign, organiser, "Wyniki", number=3)
        assert [r.number for r in publication.revisions_of(campaign.id)] == [1]
