"""Reviewing contacts: accept, return with a comment, correct with a reason, and never lose a concurrent action."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from audit import journal, review, services
from audit.extensions import db
from audit.models import AnswerCorrection, AuditEvent, Contact, User

from .conftest import Auth


def token_of(page: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)


def submitted(app) -> tuple[int, int]:
    with app.app_context():
        c = db.session.scalar(sa.select(Contact).filter_by(status="submitted").order_by(Contact.id))
        return c.id, c.version


def act(client, contact_id: int, action: str, **data):
    page = client.get(f"/organiser/contacts/{contact_id}").get_data(as_text=True)
    return client.post(f"/organiser/contacts/{contact_id}/{action}", data={"csrf_token": token_of(page), **data})


def test_accept_makes_the_contact_count_and_logs_who_did_it(demo_app, auth):
    contact_id, version = submitted(demo_app)
    with demo_app.app_context():
        campaign_id = db.session.get(Contact, contact_id).campaign_id
        before = {c.contact_id for c in services.accepted_contact_totals(campaign_id)}
    auth.as_role("organiser")
    assert contact_id not in before
    response = act(auth.client, contact_id, "accept", version=version)
    assert response.status_code == 302
    with demo_app.app_context():
        contact = db.session.get(Contact, contact_id)
        assert contact.status == "accepted" and contact.reviewed_at is not None
        assert contact_id in {c.contact_id for c in services.accepted_contact_totals(campaign_id)}
        event = db.session.scalar(sa.select(AuditEvent).filter_by(object_type="contact", object_id=contact_id,
                                                                   action="contact_accepted"))
        assert event.actor.email == "organiser@demo.test"


def test_return_needs_a_comment_and_the_auditor_sees_it(demo_app, auth):
    contact_id, version = submitted(demo_app)
    auth.as_role("organiser")
    act(auth.client, contact_id, "return", version=version, comment="  ")
    with demo_app.app_context():
        assert db.session.get(Contact, contact_id).status == "submitted"
    act(auth.client, contact_id, "return", version=version, comment="Brak zrzutu ekranu <script>alert(1)</script>")
    with demo_app.app_context():
        contact = db.session.get(Contact, contact_id)
        assert contact.status == "returned"
        auditor_email, assignment_id = contact.auditor.email, contact.assignment_id
    other = Auth(demo_app.test_client())
    other.login(auditor_email)
    page = other.client.get(f"/auditor/assignments/{assignment_id}").get_data(as_text=True)
    assert "Brak zrzutu ekranu &lt;script&gt;" in page and "<script>alert(1)" not in page


def test_a_correction_keeps_the_original_and_the_reason_and_rescored_points(demo_app, auth):
    with demo_app.app_context():
        contact = db.session.scalar(sa.select(Contact).filter_by(status="accepted").order_by(Contact.id))
        rubric = services.rubric_by_hash(contact.rubric_hash)
        answer = next(a for a in contact.answers if a.value in ("yes", "no") and rubric.criterion(a.criterion_id).fact is None)
        flipped = "no" if answer.value == "yes" else "yes"
        contact_id, version, criterion, original = contact.id, contact.version, answer.criterion_id, answer.value
        earned_before = sum(a.earned for a in contact.answers)
    auth.as_role("organiser")
    act(auth.client, contact_id, "correct", version=version, criterion=criterion, value=flipped, reason="")
    with demo_app.app_context():
        assert db.session.scalar(sa.select(AnswerCorrection).filter_by(contact_id=contact_id)) is None
    act(auth.client, contact_id, "correct", version=version, criterion=criterion, value=flipped,
        reason="Nagranie rozmowy pokazuje inaczej.")
    with demo_app.app_context():
        contact = db.session.get(Contact, contact_id)
        fix = db.session.scalar(sa.select(AnswerCorrection).filter_by(contact_id=contact_id))
        assert (fix.original_value, fix.corrected_value, fix.reason) == (original, flipped,
                                                                        "Nagranie rozmowy pokazuje inaczej.")
        assert {a.criterion_id: a.value for a in contact.answers}[criterion] == flipped
        _rubric, rescored = services.contact_score(contact)
        assert sum(a.earned for a in contact.answers) == pytest.approx(float(rescored.earned)) != earned_before
        history = journal.history("contact", contact_id)
        assert history[-1].action == "answer_corrected" and history[-1].details["before"] == original
    page = auth.client.get(f"/organiser/contacts/{contact_id}").get_data(as_text=True)
    assert "Nagranie rozmowy pokazuje inaczej." in page


def test_an_invalid_corrected_answer_is_refused_with_a_message(demo_app, auth):
    with demo_app.app_context():
        contact = db.session.scalar(sa.select(Contact).filter_by(status="accepted").order_by(Contact.id))
        contact_id, version = contact.id, contact.version
        criterion = contact.answers[0].criterion_id
    auth.as_role("organiser")
    response = act(auth.client, contact_id, "correct", version=version, criterion=criterion, value="maybe",
                   reason="x")
    assert response.status_code == 302
    with demo_app.app_context():
        assert db.session.scalar(sa.select(AnswerCorrection).filter_by(contact_id=contact_id)) is None


def test_two_reviewers_on_one_contact_never_lose_an_action_silently(demo_app):
    contact_id, version = submitted(demo_app)
    with demo_app.app_context():
        organiser = db.session.scalar(sa.select(User).filter_by(role="organiser"))
        contact = db.session.get(Contact, contact_id)
        review.return_to_auditor(contact, organiser, version, "Proszę uzupełnić komentarz.")
        db.session.commit()
        with pytest.raises(review.ReviewConflict):  # the second reviewer read the old version
            review.accept(db.session.get(Contact, contact_id), organiser, version)
        db.session.rollback()
        assert db.session.get(Contact, contact_id).status == "returned"


def test_a_stale_review_form_over_http_is_refused_and_the_contact_kept(demo_app, auth):
    contact_id, version = submitted(demo_app)
    auth.as_role("organiser")
    act(auth.client, contact_id, "return", version=version, comment="Proszę poprawić.")
    response = act(auth.client, contact_id, "accept", version=version)  # a second tab, opened before
    assert response.status_code == 302
    with demo_app.app_context():
        assert db.session.get(Contact, contact_id).status == "returned"
    follow = auth.client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="flash error"' in follow


def test_an_auditor_resubmitting_while_a_reviewer_acts_loses_neither(demo_app):
    """The auditor's save is based on the returned version; the reviewer's on the submitted one."""
    contact_id, version = submitted(demo_app)
    with demo_app.app_context():
        organiser = db.session.scalar(sa.select(User).filter_by(role="organiser"))
        contact = db.session.get(Contact, contact_id)
        contact.status = "returned"  # as if returned and then resubmitted: a new version
        db.session.commit()
        contact.status = "submitted"
        db.session.commit()
        with pytest.raises(review.ReviewConflict):
            review.accept(db.session.get(Contact, contact_id), organiser, version)


def test_the_review_pages_never_show_an_auditors_name_or_email(demo_app, auth):
    contact_id, _ = submitted(demo_app)
    with demo_app.app_context():
        auditor = db.session.get(Contact, contact_id).auditor
        name, email = auditor.name, auditor.email
    auth.as_role("organiser")
    for url in (f"/organiser/contacts/{contact_id}", "/organiser/campaigns/1/review"):
        page = auth.client.get(url).get_data(as_text=True)
        assert name not in page and email not in page


@pytest.mark.parametrize("role", ["auditor", "director"])
def test_review_is_for_organisers_only(auth, demo_app, role):
    contact_id, version = submitted(demo_app)
    auth.as_role(role)
    assert auth.client.get(f"/organiser/contacts/{contact_id}").status_code == 403
    assert auth.client.post(f"/organiser/contacts/{contact_id}/accept", data={"version": version}).status_code in (400, 403)
    with demo_app.app_context():
        assert db.session.get(Contact, contact_id).status == "submitted"
