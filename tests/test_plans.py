"""Improvement plans: made from lost criteria, commented, printable, and measured in the next edition."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from audit import plans, publication
from audit.extensions import db
from audit.models import AuditEvent, Campaign, ImprovementPlan, PlanAction, User

from .conftest import Auth
from .test_scorecard import PAST, director_and_institutions, token_of

NEXT = 1  # the demo's 2026 edition, in fieldwork


def _figure(earned: float, possible: float, contacts: int) -> plans.Figure:
    return plans.Figure(earned, possible, contacts)


@pytest.mark.parametrize(("before", "after", "verdict"), [
    (_figure(1, 4, 2), _figure(3, 4, 3), "improved"), (_figure(3, 4, 2), _figure(1, 4, 2), "worse"),
    (_figure(2, 4, 2), _figure(4, 8, 3), "same"), (_figure(1, 4, 1), _figure(4, 4, 3), "too_few"),
    (_figure(1, 4, 3), _figure(0, 0, 0), "too_few")])
def test_a_follow_up_needs_enough_contacts_on_each_side(before, after, verdict):
    line = plans.FollowUp(PlanAction(channel="phone", criterion_id="x", what="w", who="k"), None, before, after)
    assert line.verdict == verdict


def test_the_demo_director_has_a_submitted_plan_from_2025_with_a_comment(demo_app, auth):
    own, _ = director_and_institutions(demo_app)
    auth.as_role("director")
    card = auth.client.get(f"/director/campaigns/{PAST}/institutions/{own[0]}").get_data(as_text=True)
    assert f"/director/campaigns/{PAST}/institutions/{own[0]}/plan" in card
    page = auth.client.get(f"/director/campaigns/{PAST}/institutions/{own[0]}/plan").get_data(as_text=True)
    assert "Kierownik działu obsługi" in page and "Dobry plan." in page and 'class="print-only"' in page


def test_a_director_drafts_then_submits_a_plan_and_the_organiser_comments(demo_app, auth):
    own, _ = director_and_institutions(demo_app)
    with demo_app.app_context():
        db.session.execute(sa.delete(PlanAction))
        db.session.execute(sa.delete(ImprovementPlan))
        db.session.commit()
    auth.as_role("director")
    url = f"/director/campaigns/{PAST}/institutions/{own[1]}/plan"
    page = auth.client.get(url).get_data(as_text=True)
    names = [n.removeprefix("what-") for n in __import__("re").findall(r'name="(what-[^"]+)"', page)]
    if not names:
        pytest.skip("the institution lost no points")
    key = names[0]
    token = token_of(page)
    refused = auth.client.post(url, data={"csrf_token": token, f"what-{key}": "Szkolenie", "submit": "1"})
    assert refused.status_code == 302
    with demo_app.app_context():
        assert db.session.scalar(sa.select(ImprovementPlan)) is None  # no one responsible: nothing saved
    auth.client.post(url, data={"csrf_token": token, f"what-{key}": "Szkolenie", f"who-{key}": "Kierownik",
                                f"due-{key}": "2026-05-31", "submit": "0"})
    with demo_app.app_context():
        plan = db.session.scalar(sa.select(ImprovementPlan))
        assert plan.status == "draft" and [a.what for a in plan.actions] == ["Szkolenie"]
    auth.client.post(url, data={"csrf_token": token, f"what-{key}": "Szkolenie zespołu", f"who-{key}": "Kierownik",
                                f"due-{key}": "2026-05-31", "submit": "1"})
    with demo_app.app_context():
        plan = db.session.scalar(sa.select(ImprovementPlan))
        assert plan.status == "submitted" and [a.what for a in plan.actions] == ["Szkolenie zespołu"]
        assert db.session.scalar(sa.select(AuditEvent).filter_by(action="plan_submitted")) is not None
        plan_id = plan.id
    organiser = Auth(demo_app.test_client())
    organiser.as_role("organiser")
    listing = organiser.client.get(f"/organiser/campaigns/{PAST}/plans").get_data(as_text=True)
    assert f'id="plan-{plan_id}"' in listing and "Szkolenie zespołu" in listing
    organiser.client.post(f"/organiser/plans/{plan_id}/comment",
                          data={"csrf_token": token_of(listing), "comment": "Proszę o termin szkolenia."})
    assert "Proszę o termin szkolenia." in auth.client.get(url).get_data(as_text=True)


def test_a_plan_is_only_made_of_lost_criteria_of_ones_own_institution(demo_app, auth):
    own, other = director_and_institutions(demo_app)
    with demo_app.app_context():
        director = db.session.scalar(sa.select(User).filter_by(email="director@demo.test"))
        campaign = db.session.get(Campaign, PAST)
        action = plans.ActionInput("phone", "not_lost", "Coś", "Ktoś", None)
        with pytest.raises(plans.PlanError):
            plans.save(director, campaign, own[0], [action], {("phone", "rings")}, submit=True)
        with pytest.raises(plans.PlanError):
            plans.save(director, campaign, other, [], set(), submit=False)
    auth.as_role("director")
    assert auth.client.get(f"/director/campaigns/{PAST}/institutions/{other}/plan").status_code == 404
    assert auth.client.get(f"/director/campaigns/{NEXT}/institutions/{own[0]}/plan").status_code == 404


def test_the_next_edition_measures_each_planned_criterion_before_and_after(demo_app, auth):
    own, _ = director_and_institutions(demo_app)
    with demo_app.app_context():
        campaign = db.session.get(Campaign, NEXT)
        campaign.status = "review"
        organiser = db.session.scalar(sa.select(User).filter_by(role="organiser"))
        publication.publish(campaign, organiser, "Wyniki 2026")
        db.session.commit()
        plan = plans.plan_of(PAST, own[0])
        found = {(f.action.channel, f.action.criterion_id): f for f in plans.follow_up(plan, campaign)}
        assert set(found) == {(a.channel, a.criterion_id) for a in plan.actions}
        for (channel, criterion_id), line in found.items():
            assert line.before == plans.figure(PAST, own[0], channel, criterion_id)
            assert line.after.contacts == plans.figure(NEXT, own[0], channel, criterion_id).contacts
        thin = [f for f in found.values() if f.action.channel == "social"]
        assert thin and all(f.verdict == "too_few" for f in thin)  # one social contact a year
        for line in found.values():  # "too few" exactly when a side has fewer than the minimum
            assert (line.verdict == "too_few") == (min(line.before.contacts, line.after.contacts) < plans.MIN_CONTACTS)
        assert any(line.verdict != "too_few" for line in found.values())
    auth.as_role("director")
    card = auth.client.get(f"/director/campaigns/{NEXT}/institutions/{own[0]}").get_data(as_text=True)
    assert 'id="follow-up"' in card and "za mało kontaktów, by ocenić" in card
    organiser_client = Auth(demo_app.test_client())
    organiser_client.as_role("organiser")
    edition = organiser_client.client.get(f"/organiser/campaigns/{NEXT}/plans").get_data(as_text=True)
    assert "Kierownik działu obsługi" not in edition  # the measurement, not the plan's wording, per institution
    with demo_app.app_context():
        name = db.session.get(Campaign, NEXT) and plans.edition_follow_up(db.session.get(Campaign, NEXT))[0].institution
    assert name in edition and "za mało kontaktów, by ocenić" in edition
