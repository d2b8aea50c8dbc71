"""Setting up an edition: rules, pinned rubric versions, stages, and what may no longer change."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from audit.extensions import db
from audit.models import Campaign, Contact, RubricVersion
from audit.rubrics import load_rubric

from .conftest import ROOT, go_ahead


def token_of(page: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)


def edition_form(**overrides) -> dict[str, str]:
    data = {"name": "Lider Zaufania 2027", "year": "2027", "threshold": "780", "missing_channel": "exclude",
            "fieldwork_start": "2027-03-01", "fieldwork_end": "2027-06-30"}
    for channel, weight in (("visit", "3"), ("phone", "2"), ("email", "2")):
        rubric = load_rubric(ROOT / "rubrics" / f"{channel}.yaml")
        data |= {f"{channel}-enabled": "y", f"{channel}-rubric": rubric.hash, f"{channel}-weight": weight,
                 f"{channel}-min_contacts": "1"}
    return data | overrides


def test_the_organiser_creates_an_edition_with_pinned_rubrics(demo_app, auth):
    auth.as_role("organiser")
    page = auth.client.get("/organiser/campaigns/new").get_data(as_text=True)
    response = auth.client.post("/organiser/campaigns/new", data={"csrf_token": token_of(page), **edition_form()})
    assert response.status_code == 302
    with demo_app.app_context():
        campaign = db.session.scalar(sa.select(Campaign).filter_by(year=2027))
        assert campaign.status == "draft" and campaign.threshold == 780
        assert [(c.channel, c.weight) for c in campaign.channels] == [("visit", 3.0), ("phone", 2.0), ("email", 2.0)]
        for c in campaign.channels:
            assert db.session.get(RubricVersion, c.rubric_hash).channel == c.channel


def test_bad_rules_are_refused_with_the_form_kept(demo_app, auth):
    auth.as_role("organiser")
    page = auth.client.get("/organiser/campaigns/new").get_data(as_text=True)
    token = token_of(page)
    for bad in ({"fieldwork_end": "2027-01-01"}, {"threshold": "1200"}, {"visit-weight": "-1"},
                {"phone-rubric": load_rubric(ROOT / "rubrics" / "visit.yaml").hash}):
        response = auth.client.post("/organiser/campaigns/new", data={"csrf_token": token, **edition_form(**bad)})
        assert response.status_code == 200, bad
        assert 'value="Lider Zaufania 2027"' in response.get_data(as_text=True)
    with demo_app.app_context():
        assert db.session.scalar(sa.select(Campaign).filter_by(year=2027)) is None


def test_a_channels_rubric_cannot_change_once_contacts_use_it(demo_app, auth):
    with demo_app.app_context():
        campaign = db.session.scalar(sa.select(Campaign))
        visit = next(c for c in campaign.channels if c.channel == "visit")
        pinned = visit.rubric_hash
        assert db.session.scalar(sa.select(Contact).filter_by(channel="visit"))
    auth.as_role("organiser")
    page = auth.client.get("/organiser/campaigns/1/edit").get_data(as_text=True)
    assert re.search(f'<option selected value="{pinned}"', page)
    fields = dict(re.findall(r'name="([\w-]+)"[^>]*value="([^"]*)"', page))
    data = edition_form(**{"visit-rubric": "0" * 64})  # an unknown rubric: refused, nothing changed
    auth.client.post("/organiser/campaigns/1/edit", data={"csrf_token": token_of(page), **data})
    with demo_app.app_context():
        assert next(c for c in db.session.get(Campaign, 1).channels if c.channel == "visit").rubric_hash == pinned
    data = edition_form(**{"visit-enabled": ""})  # dropping a channel that has contacts: refused
    del data["visit-enabled"]
    response = auth.client.post("/organiser/campaigns/1/edit", data={"csrf_token": token_of(page), **data})
    assert response.status_code == 200
    with demo_app.app_context():
        assert "visit" in {c.channel for c in db.session.get(Campaign, 1).channels}
    assert fields  # the page carried its fields


def test_stages_advance_draft_to_fieldwork_to_review(demo_app, auth):
    auth.as_role("organiser")
    page = auth.client.get("/organiser/campaigns/new").get_data(as_text=True)
    token = token_of(page)
    auth.client.post("/organiser/campaigns/new", data={"csrf_token": token, **edition_form()})
    with demo_app.app_context():
        campaign_id = db.session.scalar(sa.select(Campaign.id).filter_by(year=2027))
    for expected in ("fieldwork", "review"):
        assert go_ahead(auth.client, f"/organiser/campaigns/{campaign_id}/advance").status_code == 302
        with demo_app.app_context():
            assert db.session.get(Campaign, campaign_id).status == expected
    assert auth.client.get(f"/organiser/campaigns/{campaign_id}/advance").status_code == 302  # no stage left


@pytest.mark.parametrize("role", ["auditor", "director"])
def test_edition_pages_are_for_organisers_only(auth, role):
    auth.as_role(role)
    assert auth.client.get("/organiser/campaigns/new").status_code == 403
    assert auth.client.get("/organiser/campaigns/1").status_code == 403
