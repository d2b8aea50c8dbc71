"""One life cycle: every stage x action pair of the table, the use cases and pages that ask it,
and the readiness checks an organiser reads before closing the fieldwork or publishing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from audit import editions, lifecycle, readiness
from audit.errors import describe
from audit.extensions import db
from audit.lifecycle import Action
from audit.models import Appeal, AuditEvent, Campaign, Contact, Institution, User

from .conftest import go_ahead

# What each stage allows, written out by hand from the product's rules (docs/organiser.md):
# a second statement of the table, so that a change to either is a change someone meant.
EXPECTED = {
    "draft": {Action.EDIT_RULES, Action.PLAN, Action.START_FIELDWORK},
    "fieldwork": {Action.EDIT_RULES, Action.PLAN, Action.CLOSE_FIELDWORK, Action.RECORD_CONTACT, Action.RESUBMIT,
                  Action.REVIEW, Action.RETURN, Action.CORRECT, Action.OVERRIDE, Action.SEE_ASSIGNMENTS},
    "review": {Action.EDIT_RULES, Action.RESUBMIT, Action.REVIEW, Action.RETURN, Action.CORRECT, Action.OVERRIDE,
               Action.PUBLISH, Action.SEE_ASSIGNMENTS},
    "published": {Action.REVIEW, Action.CORRECT, Action.OVERRIDE, Action.PUBLISH, Action.APPEAL,
                  Action.SEE_ASSIGNMENTS},
}
PAIRS = [(stage, action) for stage in lifecycle.STAGES for action in Action]


@pytest.mark.parametrize(("stage", "action"), PAIRS, ids=[f"{s}-{a}" for s, a in PAIRS])
def test_every_stage_and_action(app, stage, action):
    allowed = action in EXPECTED[stage]
    assert lifecycle.allows(stage, action) is allowed
    if allowed:
        lifecycle.require(stage, action)
        return
    with pytest.raises(lifecycle.StageRefused) as refused:
        lifecycle.require(stage, action)
    with app.test_request_context():
        with force_locale("en"):
            english = describe(refused.value)
        with force_locale("pl"):
            polish = describe(refused.value)
    assert english == str(refused.value) and english.endswith(".")
    assert polish != english, f"no Polish for: {english}"


def test_stage_refusals_reach_the_use_cases(demo_app):
    with demo_app.app_context():
        campaign = db.session.get(Campaign, 1)
        organiser = db.session.scalar(sa.select(User).filter_by(role="organiser"))
        campaign.status = "published"
        contact = db.session.scalar(sa.select(Contact).filter_by(campaign_id=1, status="submitted"))
        from audit import review

        with pytest.raises(lifecycle.StageRefused, match="cannot be returned"):
            review.return_to_auditor(contact, organiser, contact.version, "Popraw")
        with pytest.raises(lifecycle.StageRefused, match="rules are frozen"):
            editions.save_edition(campaign, editions.EditionSetup("x", 2026, 800, "exclude", None, None, [
                editions.ChannelSetup("visit", campaign.channels[0].rubric_hash, 1, 1)]), {}, organiser)
        with pytest.raises(lifecycle.StageRefused):
            editions.advance(campaign, organiser, "review")
        db.session.rollback()


def test_a_published_editions_rules_open_read_only_with_the_reason(demo_app, auth):
    with demo_app.app_context():
        db.session.get(Campaign, 1).status = "published"
        db.session.commit()
    auth.as_role("organiser")
    page = auth.client.get("/organiser/campaigns/1/edit").get_data(as_text=True)
    assert "<fieldset class=\"plain\" disabled>" in page
    assert "Save the edition" not in page and "Zapisz edycję" not in page
    assert "Zasad opublikowanej edycji nie można zmieniać" in page
    overview = auth.client.get("/organiser/campaigns/1").get_data(as_text=True)
    assert "/organiser/campaigns/1/edit" in overview and ("Edit the rules" not in overview)


# --- readiness --------------------------------------------------------------------------------


def test_closing_the_fieldwork_lists_what_is_open_and_needs_a_yes(demo_app, auth):
    auth.as_role("organiser")
    with demo_app.app_context():
        check = readiness.before_closing_fieldwork(db.session.get(Campaign, 1))
        counts = dict(db.session.execute(sa.select(Contact.status, sa.func.count()).where(
            Contact.campaign_id == 1).group_by(Contact.status)).all())
    outstanding = check.outstanding()
    assert outstanding["drafts"] == counts["draft"] and outstanding["returned"] == counts["returned"]
    assert outstanding["not_started"] > 0

    page = auth.client.get("/organiser/campaigns/1/advance")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"{counts['draft']} " in text and "/organiser/campaigns/1/progress" in text
    from .live_server import form_fields

    fields = form_fields(text, "/organiser/campaigns/1/advance")
    unconfirmed = auth.client.post("/organiser/campaigns/1/advance", data=fields)
    assert unconfirmed.status_code == 409
    with demo_app.app_context():
        assert db.session.get(Campaign, 1).status == "fieldwork"
    stale = auth.client.post("/organiser/campaigns/1/advance", data={**fields, "seen": "0" * 16, "confirm": "y"})
    assert stale.status_code == 409  # the list changed since it was read: shown again, nothing done
    assert go_ahead(auth.client, "/organiser/campaigns/1/advance").status_code == 302
    with demo_app.app_context():
        assert db.session.get(Campaign, 1).status == "review"
        event = db.session.scalar(sa.select(AuditEvent).filter_by(action="edition_status", campaign_id=1)
                                  .order_by(AuditEvent.id.desc()))
        assert event.details["outstanding"] == outstanding


def test_publishing_lists_review_appeals_and_coverage_per_institution(demo_app, auth):
    with demo_app.app_context():
        campaign = db.session.get(Campaign, 1)
        campaign.status = "review"
        offered_unplanned = db.session.scalar(sa.select(Institution).where(Institution.id.in_(
            sa.select(Contact.institution_id).filter_by(campaign_id=1, status="accepted"))).order_by(Institution.id))
        audited = [ch.channel for ch in campaign.channels]
        from audit.models import Assignment

        planned = set(db.session.scalars(sa.select(Assignment.channel).filter_by(
            campaign_id=1, institution_id=offered_unplanned.id)))
        missing = next(ch for ch in audited if ch not in planned) if set(audited) - planned else None
        if missing is None:  # make one: drop the plan of one channel it offers
            missing = audited[-1]
            db.session.execute(sa.delete(Contact).where(Contact.campaign_id == 1, Contact.channel == missing,
                                                        Contact.institution_id == offered_unplanned.id))
            db.session.execute(sa.delete(Assignment).where(Assignment.campaign_id == 1, Assignment.channel == missing,
                                                           Assignment.institution_id == offered_unplanned.id))
        offered_unplanned.channels = sorted(set(offered_unplanned.channels or []) | {missing})
        contact = db.session.scalar(sa.select(Contact).filter_by(campaign_id=1, status="accepted"))
        director = db.session.scalar(sa.select(User).filter_by(role="director"))
        db.session.add(Appeal(campaign_id=1, contact_id=contact.id, institution_id=contact.institution_id,
                              director_id=director.id, reason="Nie zgadzam się"))
        db.session.commit()
        check = readiness.before_publishing(campaign)
        keys = {item.key: item for item in check.items}
        unplanned_id = offered_unplanned.id
        waiting = db.session.scalar(sa.select(sa.func.count()).select_from(Contact).filter_by(
            campaign_id=1, status="submitted"))
    assert keys["waiting_review"].count == waiting
    assert keys["open_appeals"].count == 1
    assert unplanned_id in {i for i, _ in keys["channel_not_planned"].examples}
    auth.as_role("organiser")
    page = auth.client.get("/organiser/campaigns/1/publish").get_data(as_text=True)
    assert f"/organiser/campaigns/1/institutions/{unplanned_id}" in page
    assert "/organiser/campaigns/1/review" in page and "/organiser/campaigns/1/appeals" in page
    response = go_ahead(auth.client, "/organiser/campaigns/1/publish", note="Wyniki 2026")
    assert response.status_code == 302 and response.headers["Location"].endswith("/revisions/1")
    with demo_app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).filter_by(action="publish", campaign_id=1))
        assert event.details["outstanding"]["open_appeals"] == 1


def test_nothing_open_needs_no_tick(app):
    assert readiness.Readiness("publish").ready
    assert readiness.Readiness("publish").outstanding() == {}


# --- marks that mean one thing ------------------------------------------------------------------


def test_the_progress_board_tells_not_offered_from_not_planned(demo_app, auth):
    from audit.models import Assignment

    with demo_app.app_context():
        institution = db.session.scalar(sa.select(Institution).where(Institution.id.in_(
            sa.select(Assignment.institution_id).filter_by(campaign_id=1))).order_by(Institution.id))
        offered_unplanned, not_offered = [ch.channel for ch in db.session.get(Campaign, 1).channels][-2:]
        for channel in (offered_unplanned, not_offered):  # no plan for either channel any more
            db.session.execute(sa.delete(Contact).where(Contact.campaign_id == 1, Contact.channel == channel,
                                                        Contact.institution_id == institution.id))
            db.session.execute(sa.delete(Assignment).where(Assignment.campaign_id == 1, Assignment.channel == channel,
                                                           Assignment.institution_id == institution.id))
        institution.channels = sorted(set(institution.channels or []) - {not_offered} | {offered_unplanned})
        db.session.commit()
        name = institution.name
    auth.as_role("organiser")
    page = auth.client.get("/organiser/campaigns/1/progress").get_data(as_text=True)
    row = page[page.index(name):].split("</tr>")[0]
    assert row.count('class="mark missing"') == 1 and row.count('class="mark not-offered"') == 1
    assert "nie zaplanowano" in row
