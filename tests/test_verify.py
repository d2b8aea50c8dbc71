"""`flask results verify EDITION`: anyone can recompute a published result from what is stored."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from audit import publication, review, services
from audit.extensions import db
from audit.models import Answer, Campaign, Contact, Institution, Revision, User
from audit.verification import as_published

EDITION = 1  # the demo's edition in fieldwork: published here


@pytest.fixture
def published(demo_app):
    """The demo's current edition, published as revision 1; yields (app, runner)."""
    with demo_app.app_context():
        campaign = db.session.get(Campaign, EDITION)
        campaign.status = "review"
        publication.publish(campaign, organiser(), "Wyniki edycji 2026")
        db.session.commit()
    return demo_app, demo_app.test_cli_runner()


def organiser() -> User:
    return db.session.scalar(sa.select(User).filter_by(role="organiser"))


def verify(runner, *args: str):
    return runner.invoke(args=["results", "verify", *map(str, args)])


def counted_answer(revision_number: int = 1) -> Answer:
    """A "yes" of a counted contact on a yes/no criterion worth points, neither critical nor a condition of another."""
    revision = publication.revision_of(EDITION, revision_number)
    counted = sorted(i for row in revision.standings for ch in row.channels.values() for i in ch["contact_ids"])
    for contact_id in counted:
        contact = db.session.get(Contact, contact_id)
        rubric = services.rubric_by_hash(contact.rubric_hash)
        gates = {c.when.criterion for c in rubric.criteria if c.when}
        for answer in sorted(contact.answers, key=lambda a: a.criterion_id):
            c = rubric.criterion(answer.criterion_id)
            if (answer.value == "yes" and c.type == "yes_no" and c.yes_points > 0 and not c.critical
                    and c.id not in gates):
                return answer
    raise AssertionError("no counted yes answer in the demo")


def test_the_published_demo_edition_verifies(published):
    app, runner = published
    result = verify(runner, EDITION)
    assert result.exit_code == 0, result.output
    with app.app_context():
        institutions = len(publication.revision_of(EDITION, 1).standings)
    assert f"revision 1: {institutions} institutions, " in result.output and "all match" in result.output
    assert "note:" not in result.output  # rules stored, no correction, no institution changed
    for past in (2, 3):  # the demo's two earlier editions, published in the past
        assert verify(runner, past).exit_code == 0


def test_a_tampered_answer_is_found_and_its_institution_named(published):
    app, runner = published
    with app.app_context():
        answer = counted_answer()
        contact = answer.contact
        name = db.session.get(Institution, contact.institution_id).name
        where = f"revision 1, institution {contact.institution_id} ({name}):"
        contact_id = contact.id
        answer.value = "no"  # straight into the database: no correction record, no rescoring
        db.session.commit()
    result = verify(runner, EDITION)
    assert result.exit_code == 1, result.output
    assert f"{where} contact {contact_id} " in result.output and " recomputed" in result.output
    assert "all match" not in result.output
    assert "edition 1: " in result.output and " difference" in result.output


def test_a_correction_after_publication_is_undone_for_the_revision_before_it(published):
    app, runner = published
    with app.app_context():
        answer = counted_answer()
        contact = answer.contact
        before = services.contact_score(contact)[1].ratio
        review.correct_answer(contact, organiser(), contact.version, answer.criterion_id, "no", "nagranie rozmowy")
        # and a contact accepted after publication, which revision 1 did not count
        late = db.session.scalar(sa.select(Contact).filter_by(campaign_id=EDITION, status="submitted"))
        review.accept(late, organiser(), late.version)
        db.session.commit()
        assert services.contact_score(db.session.get(Contact, contact.id))[1].ratio < before  # it did change
    result = verify(runner, EDITION)
    assert result.exit_code == 0, result.output
    assert "revision 1: " in result.output and "all match (1 correction made after publication undone)" in result.output
    with app.app_context():  # the next revision counts the correction, the first still does not
        publication.publish(db.session.get(Campaign, EDITION), organiser(), "Korekta")
        db.session.commit()
    result = verify(runner, EDITION)
    assert result.exit_code == 0, result.output
    assert "revision 1: " in result.output and "revision 2: " in result.output
    assert result.output.count("all match") == 2
    assert verify(runner, EDITION, "--revision", 2).output.count("revision ") == 1


def test_an_unknown_or_unpublished_edition_cannot_be_verified(demo_app):
    runner = demo_app.test_cli_runner()
    unknown = verify(runner, 999)
    assert unknown.exit_code == 2 and "no edition 999" in unknown.output
    unpublished = verify(runner, EDITION)  # the demo's current edition is still in fieldwork
    assert unpublished.exit_code == 2 and "has no published revision" in unpublished.output
    assert verify(runner, 2, "--revision", 7).exit_code == 2


def test_a_revision_without_stored_rules_is_checked_against_the_current_ones(published):
    app, runner = published
    with app.app_context():
        db.session.scalar(sa.select(Revision).filter_by(campaign_id=EDITION, number=1)).rules = None
        db.session.commit()
    result = verify(runner, EDITION)
    assert result.exit_code == 0, result.output
    assert "note: revision 1 predates stored rules" in result.output


def test_corrections_are_undone_newest_first_back_to_publication():
    published_at = datetime(2026, 12, 1, 10, 0)
    later = [(published_at + timedelta(hours=2), 2, "a", "no"),  # newest first: "no" -> "yes" -> now "maybe"
             (published_at + timedelta(hours=1), 1, "a", "yes"),
             (published_at + timedelta(minutes=30), 3, "b", None),  # b had no answer at publication
             (published_at - timedelta(hours=1), 0, "a", "n/a")]  # before publication: kept
    values, undone = as_published({"a": "maybe", "b": "yes", "c": "no"}, later, published_at)
    assert values == {"a": "yes", "c": "no"} and undone == 3
