"""Services over the database: stored rubric versions, recorded answers, the batch against rescoring."""

import pytest
import sqlalchemy as sa

from audit import scoring, services
from audit.extensions import db
from audit.models import Answer, Contact, RubricVersion
from audit.rubrics import RubricError, parse_rubric

from .test_rubrics import docs_example


def test_batch_totals_equal_rescoring_every_contact_from_its_raw_answers(demo_app):
    """The SQL aggregate of stored points and the engine rescoring raw answers agree on the demo."""
    with demo_app.app_context():
        stored = {row[0]: row for row in services.accepted_contact_totals(1)}
        contacts = db.session.scalars(sa.select(Contact).filter_by(campaign_id=1, status="accepted",
                                                                   calibration_group_id=None)).all()
        assert len(contacts) == len(stored) > 200
        for contact in contacts:
            rubric = services.rubric_by_hash(contact.rubric_hash)
            fresh = scoring.score_contact(rubric, services.contact_answers(contact.id))
            _, _, _, earned, possible = stored[contact.id]
            assert (fresh.earned * services.MILLI, fresh.possible * services.MILLI) == (earned, possible)  # exact


def test_every_demo_contact_records_the_hash_of_a_stored_rubric(demo_app):
    with demo_app.app_context():
        hashes = set(db.session.scalars(sa.select(Contact.rubric_hash)))
        stored = set(db.session.scalars(sa.select(RubricVersion.hash)))
        assert hashes <= stored and len(stored) == 6  # one per channel, and the phone rubric's 2026.2 revision


def test_demo_standings_rank_every_institution_and_grant_some_licences(demo_app):
    with demo_app.app_context():
        standings = services.compute_standings(1)
    assert len(standings) >= 40
    granted = [s for s in standings if s.licence.granted]
    assert 0 < len(granted) < len(standings)
    failure_kinds = {r.code for s in standings for r in s.licence.failures}
    assert failure_kinds == {"threshold", "min_contacts", "critical"}  # the demo shows every kind of refusal
    assert {s.category for s in standings} == {"social_welfare", "municipal_services", "utility", "helpline"}


def test_a_changed_rubric_under_an_old_version_is_refused(app):
    with app.app_context():
        services.store_rubric(parse_rubric(docs_example()))
        services.store_rubric(parse_rubric(docs_example()))  # the same text again: fine
        with pytest.raises(RubricError, match="raise the version"):
            services.store_rubric(parse_rubric(docs_example().replace("points: 2\n", "points: 4\n", 1)))


def test_record_answers_stores_each_answers_points(app):
    with app.app_context():
        from audit.models import Campaign, Institution, User

        rubric = parse_rubric(docs_example())
        services.store_rubric(rubric)
        user = User(email="a@x.test", name="A", role="auditor")
        inst = Institution(name="I", category="helpline", city="C", region="R", channels=["phone"])
        campaign = Campaign(name="C", year=2026)
        db.session.add_all([user, inst, campaign])
        db.session.flush()
        contact = Contact(campaign_id=campaign.id, institution_id=inst.id, channel="phone", auditor_id=user.id,
                          rubric_hash=rubric.hash)
        db.session.add(contact)
        db.session.flush()
        services.record_answers(contact, {"answered": "yes", "rings": 7.0, "introduced": "full", "courtesy": "2",
                                          "right_of_appeal": "n/a"}, {"rings": "długo"})
        rows = {a.criterion_id: a for a in db.session.scalars(sa.select(Answer).filter_by(contact_id=contact.id))}
        assert (rows["rings"].value, rows["rings"].earned, rows["rings"].possible, rows["rings"].comment) == ("7", 0, 3, "długo")
        assert (rows["right_of_appeal"].earned, rows["right_of_appeal"].possible) == (0, 0)
        services.record_answers(contact, {"answered": "no"})  # dependants hidden: their rows go
        rows = db.session.scalars(sa.select(Answer).filter_by(contact_id=contact.id)).all()
        assert [(a.criterion_id, a.earned, a.possible) for a in rows] == [("answered", 0, 2)]
