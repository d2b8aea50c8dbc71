"""Every path gives the same number: stored totals, the engine, the explanation, the ranking page and its workbook.

Each test reproduces one finding of the exactness audit (issue 11) through the database and the
HTTP views, the paths a real correction or publication takes.
"""

from __future__ import annotations

import io
import re
from fractions import Fraction

import sqlalchemy as sa
from openpyxl import load_workbook

from audit import publication, review, services, standings
from audit.extensions import db
from audit.models import Answer, AnswerCorrection, Campaign, Contact, Institution, User

from .test_review import act

CAMPAIGN = 1


def _accepted_phone_call(app) -> int:
    """An accepted phone call of the demo, turned into one nobody answered (as an auditor could record it)."""
    with app.app_context():
        contact = db.session.scalar(sa.select(Contact).filter_by(
            campaign_id=CAMPAIGN, status="accepted", channel="phone", calibration_group_id=None).order_by(Contact.id))
        services.record_answers(contact, {"answered": "no"})
        db.session.commit()
        return contact.id


def _paths_agree(app, contact_id: int) -> Fraction:
    """The contact's ratio on every path: stored totals, a rescoring from raw answers, the live result."""
    with app.app_context():
        contact = db.session.get(Contact, contact_id)
        totals = {row[0]: row for row in services.accepted_contact_totals(CAMPAIGN)}
        _cid, _iid, _ch, earned, possible = totals[contact_id]
        _rubric, rescored = services.contact_score(contact)
        assert Fraction(earned, possible) == rescored.ratio
        live = standings.live(db.session.get(Campaign, CAMPAIGN)).of(contact.institution_id)
        phone = live.channel("phone")
        assert phone is not None
        assert float(rescored.ratio) == phone.contact_scores[phone.contact_ids.index(contact_id)]
        return rescored.ratio


def test_a_correction_that_reveals_criteria_is_refused_until_they_are_answered(demo_app, auth):
    contact_id = _accepted_phone_call(demo_app)
    assert _paths_agree(demo_app, contact_id) == 0
    with demo_app.app_context():
        contact = db.session.get(Contact, contact_id)
        version, rubric = contact.version, services.rubric_by_hash(contact.rubric_hash)
        revealed = [c for c in rubric.criteria if c.when is not None and c.when.criterion == "answered"]
    auth.as_role("organiser")
    response = act(auth.client, contact_id, "correct", version=version, criterion="answered", value="yes",
                   reason="Nagranie pokazuje, że odebrano.")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="pending-correction"' in page and "Nagranie pokazuje, że odebrano." in page  # nothing typed is lost
    assert all(f'name="revealed-{c.id}"' in page for c in revealed)
    with demo_app.app_context():
        assert db.session.scalar(sa.select(AnswerCorrection).filter_by(contact_id=contact_id)) is None
        assert services.contact_answers(contact_id) == {"answered": "no"}
    assert _paths_agree(demo_app, contact_id) == 0  # still the 0% call, on every path

    answers = {f"revealed-{c.id}": ("3" if c.type == "number" else c.answer_values()[-1]) for c in revealed}
    response = act(auth.client, contact_id, "correct", version=version, criterion="answered", value="yes",
                   reason="Nagranie pokazuje, że odebrano.", **answers)
    assert response.status_code == 302
    ratio = _paths_agree(demo_app, contact_id)
    with demo_app.app_context():
        contact = db.session.get(Contact, contact_id)
        _rubric, score = services.contact_score(contact)
        assert not score.unanswered
        # the denominator is the whole visible rubric, not the two points of "answered" alone
        assert score.possible > 2 and ratio < 1
        assert {c.criterion_id for c in db.session.scalars(
            sa.select(AnswerCorrection).filter_by(contact_id=contact_id))} == {"answered"} | {c.id for c in revealed}


def test_the_domain_refuses_a_correction_leaving_revealed_criteria_unanswered(demo_app):
    contact_id = _accepted_phone_call(demo_app)
    with demo_app.app_context():
        contact = db.session.get(Contact, contact_id)
        reviewer = db.session.scalar(sa.select(User).filter_by(email="organiser@demo.test"))
        try:
            review.correct_answer(contact, reviewer, contact.version, "answered", "yes", "odebrano")
        except review.CorrectionIncomplete as error:
            assert "rings" in error.criteria and "answered" not in error.criteria
        else:
            raise AssertionError("a correction leaving revealed criteria unanswered was saved")


def test_a_corrected_number_keeps_every_digit_entered(demo_app, auth):
    with demo_app.app_context():
        contact = db.session.scalar(sa.select(Contact).join(Answer).where(
            Contact.campaign_id == CAMPAIGN, Contact.status == "accepted", Contact.channel == "phone",
            Contact.calibration_group_id.is_(None), Answer.criterion_id == "rings", Answer.value.is_not(None))
            .order_by(Contact.id))
        contact_id, version = contact.id, contact.version
    auth.as_role("organiser")
    response = act(auth.client, contact_id, "correct", version=version, criterion="rings", value="3,9999999",
                   reason="Policzone z nagrania.")
    assert response.status_code == 302
    with demo_app.app_context():
        assert services.contact_answers(contact_id)["rings"] == "3.9999999"
        rings = db.session.scalar(sa.select(Answer).filter_by(contact_id=contact_id, criterion_id="rings"))
        assert rings.earned == 3  # the band "fewer than 4 rings", not the one for 4 as "4" would have given
    _paths_agree(demo_app, contact_id)


def _publish(app) -> int:
    with app.app_context():
        campaign = db.session.get(Campaign, CAMPAIGN)
        if campaign.status == "fieldwork":
            campaign.status = "review"
        organiser = db.session.scalar(sa.select(User).filter_by(email="organiser@demo.test"))
        number = publication.publish(campaign, organiser, "Wyniki").number
        db.session.commit()
        return number


def _workbook_points(client, url: str) -> dict[str, float]:
    response = client.get(url)
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.data))["Ranking"]
    headers = [c.value for c in ws[2]]
    rows = [dict(zip(headers, r, strict=False)) for r in ws.iter_rows(min_row=3, values_only=True)]
    return {r["Institution"]: r["Ranking points"] for r in rows if r["Institution"]}


def test_the_ranking_page_and_its_workbook_show_the_same_result_and_say_which(demo_app, auth, demo_client):
    number = _publish(demo_app)
    with demo_app.app_context():  # after publication, more contacts are accepted
        waiting = db.session.scalars(sa.select(Contact).filter_by(campaign_id=CAMPAIGN, status="submitted")).all()
        assert waiting
        for contact in waiting:
            contact.status = "accepted"
        db.session.commit()
        live = standings.live(db.session.get(Campaign, CAMPAIGN))
        published = standings.published(publication.latest_revision(CAMPAIGN))
        changed = [r for r in live.institutions if standings.differs(published.of(r.institution_id), r)]
        assert changed
    auth.as_role("organiser")
    demo_client.get("/lang/en")
    page = demo_client.get(f"/organiser/campaigns/{CAMPAIGN}/ranking").get_data(as_text=True)
    assert "Live result, not yet published" in page
    assert f"differs from published version {number}" in page
    assert f"/organiser/campaigns/{CAMPAIGN}/revisions/{number}" in page
    # The page's button asks a job for the live workbook; the job's file equals the direct download's
    # (tests/test_jobs.py), so the direct download stands for it here.
    assert re.search(r'action="[^"]*/exports/edition_workbook\?live=1"', page)
    live_link = f"/organiser/campaigns/{CAMPAIGN}/export.xlsx?live=1"
    with demo_app.app_context():
        names = dict(db.session.execute(sa.select(Institution.id, Institution.name)).all())
    assert _workbook_points(demo_client, live_link) == {names[r.institution_id]: r.points for r in live.institutions}
    assert _workbook_points(demo_client, f"/organiser/campaigns/{CAMPAIGN}/export.xlsx?revision={number}") == {
        names[r.institution_id]: r.points for r in published.institutions}


def test_the_directors_scorecard_shows_each_contact_as_published_until_the_next_revision(demo_app):
    from audit import scorecard

    with demo_app.app_context():
        campaign = db.session.get(Campaign, 3)  # the demo's newest published edition
        revision = publication.latest_revision(campaign.id)
        row = next(r for r in revision.standings if any(ch.get("contact_ids") for ch in r.channels.values()))
        channel = next(ch for ch in row.channels.values() if ch.get("contact_ids"))
        contact_id, published = channel["contact_ids"][0], channel["contact_scores"][0]
        contact = db.session.get(Contact, contact_id)
        rubric = services.rubric_by_hash(contact.rubric_hash)
        answer = next(a for a in contact.answers if a.value in ("yes", "no") and rubric.criterion(a.criterion_id).when
                      is None and rubric.criterion(a.criterion_id).max_points > 0)
        reviewer = db.session.scalar(sa.select(User).filter_by(email="organiser@demo.test"))
        review.correct_answer(contact, reviewer, contact.version, answer.criterion_id,
                              "no" if answer.value == "yes" else "yes", "po odwołaniu")
        db.session.commit()
        assert float(services.contact_score(contact)[1].ratio) != published
        card = scorecard.build(campaign, db.session.get(Institution, row.institution_id))
        line = next(line for line in card.contacts if line.contact_id == contact_id)
        assert line.score == published  # the published figure, the one its points were computed from
