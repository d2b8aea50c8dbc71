"""Double submissions against a real server: a double click, a retry or a race makes one decision, never two.

Each test fires the same request from several threads at once against gunicorn (tests/live_server.py),
on SQLite and, in the PostgreSQL pass, on PostgreSQL, then reads the database directly.
"""

from __future__ import annotations

import sqlalchemy as sa

from audit import publication
from audit.extensions import db
from audit.models import Appeal, AuditEvent, Campaign, Revision, User

from .live_server import Browser, all_at_once, csrf_token, form_fields

PAST = 3  # the demo's newest published edition (2025), with an open appeal window
FIELDWORK = 1  # the demo's edition in fieldwork
PASSWORD = "demo"


def test_eight_appeals_at_once_on_one_contact_file_one(demo_app, live_server):
    with demo_app.app_context():
        director = db.session.scalar(sa.select(User).filter_by(email="director@demo.test"))
        institution_id = director.institutions[0].id
        contact_id = min(publication.counted_contacts(PAST, institution_id))
    page_url = f"/director/campaigns/{PAST}/institutions/{institution_id}"
    tabs = [Browser(live_server) for _ in range(8)]  # the same director, eight tabs (or eight retries)
    for tab in tabs:
        tab.login("director@demo.test", PASSWORD)
    forms = [{"csrf_token": csrf_token(tab.get(page_url).text), "reason": "Tego dnia punkt był zamknięty."}
             for tab in tabs]

    answers = all_at_once([lambda tab=tab, form=form: tab.post(f"/director/contacts/{contact_id}/appeal", form)
                           for tab, form in zip(tabs, forms, strict=True)])

    assert [a.status for a in answers] == [302] * 8, live_server.errors()
    for tab, answer in zip(tabs, answers, strict=True):  # each is told its appeal is recorded
        assert "Your appeal is filed" in tab.get(answer.path).text
    with demo_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Appeal).filter_by(
            contact_id=contact_id, status="open")) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).filter_by(
            action="appeal_filed", object_id=contact_id)) == 1
    assert live_server.errors() == ""


def test_a_triple_click_on_publish_makes_one_revision_and_a_late_retry_none(demo_app, live_server):
    with demo_app.app_context():
        db.session.get(Campaign, FIELDWORK).status = "review"
        db.session.commit()
    organiser = Browser(live_server)
    organiser.login("organiser@demo.test", PASSWORD)
    action = f"/organiser/campaigns/{FIELDWORK}/publish"
    form = {**form_fields(organiser.get(action).text, action), "note": "Wyniki 2026", "confirm": "y"}

    answers = all_at_once([lambda: organiser.post(action, form)] * 3)
    late = organiser.post(action, form)  # the reply was lost and the organiser clicks again

    assert [a.status for a in [*answers, late]] == [302] * 4, live_server.errors()
    revision_page = f"/organiser/campaigns/{FIELDWORK}/revisions/1"
    assert {a.path for a in [*answers, late]} == {revision_page}
    assert "Revision 1 is already published" in organiser.get(revision_page).text
    with demo_app.app_context():
        assert db.session.scalars(sa.select(Revision.number).filter_by(campaign_id=FIELDWORK)).all() == [1]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).filter_by(
            action="publish", campaign_id=FIELDWORK)) == 1
    assert live_server.errors() == ""
