"""Script payloads in every text users supply, shown on every page that shows them: always escaped.

Each text column a person can write (institution names and towns, scenarios, comments,
reasons, notes, names and pseudonyms, file names) is set to a payload, then every GET route
of the access matrix is opened as every principal, and no page may carry the payload's markup
unescaped.
"""

from __future__ import annotations

import shutil

import pytest
import sqlalchemy as sa

from audit.extensions import db
from audit.models import (
    AnswerCorrection,
    Appeal,
    Assignment,
    AuditEvent,
    AuditorConflict,
    Contact,
    Evidence,
    Institution,
    LicenceOverride,
    Revision,
    RevisionStanding,
    Scenario,
    User,
)

from .test_access import PRINCIPALS, all_cases, logged_in_clients, make_world, url_of

PAYLOAD = """<script>alert("xss")</script>"'><img src=x onerror=alert(1)>"""
MARKERS = ("<script>alert(", "<img src=x onerror")


@pytest.fixture(scope="module")
def poisoned(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    app, ids = make_world(folder)
    with app.app_context():
        organiser = db.session.scalar(sa.select(User).filter_by(role="organiser"))
        db.session.execute(sa.update(Institution).values(  # names stay unique per town
            name=sa.literal(PAYLOAD) + sa.cast(Institution.id, sa.String), city=PAYLOAD, region=PAYLOAD))
        for model, columns in ((Scenario, ("text",)),
                               (Assignment, ("scenario",)), (Contact, ("scenario", "review_comment")),
                               (Appeal, ("reason", "resolution")), (Revision, ("note",)),
                               (RevisionStanding, ("override_reason",)), (AuditorConflict, ("reason", "city")),
                               (Evidence, ("original_name",)), (AuditEvent, ("reason",))):
            db.session.execute(sa.update(model).values(dict.fromkeys(columns, PAYLOAD)))
        db.session.execute(sa.update(User).where(User.role != "organiser").values(name=PAYLOAD))
        db.session.execute(sa.update(User).where(User.role == "auditor", User.email != "auditor@demo.test")
                           .values(pseudonym=sa.literal("A<b>") + sa.cast(User.id, sa.String)))
        db.session.execute(sa.update(db.metadata.tables["answer"]).values(comment=PAYLOAD))
        contact = db.session.get(Contact, int(ids["contact"]))
        db.session.add(AnswerCorrection(contact_id=contact.id, criterion_id=contact.answers[0].criterion_id,
                                        original_value="no", corrected_value="yes", reason=PAYLOAD,
                                        corrected_by_id=organiser.id))
        db.session.add(LicenceOverride(campaign_id=1, institution_id=int(ids["institution"]), licensed=True,
                                       reason=PAYLOAD, decided_by_id=organiser.id))
        db.session.commit()
    yield app, ids
    with app.app_context():
        db.session.remove()
        db.drop_all()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_no_page_shows_a_payload_unescaped(poisoned, principal):
    app, ids = poisoned
    client = logged_in_clients(app)[principal]
    leaks, seen = [], 0
    for endpoint, _rule, method, values in all_cases():
        if method != "GET":
            continue
        response = client.get(url_of(app, endpoint, values, ids))
        if response.mimetype == "text/html":
            seen += response.status_code == 200
            body = response.get_data(as_text=True)
            leaks += [f"{endpoint}: {marker}" for marker in MARKERS if marker in body]
            if "A<b>" in body:
                leaks.append(f"{endpoint}: pseudonym markup")
        response.close()
    assert leaks == []
    assert seen >= 3  # the principal did see pages, with the payloads in them


def test_the_payload_reaches_the_pages_escaped(poisoned):
    """The check above would pass on pages that show nothing: make sure the payload is really shown."""
    app, _ids = poisoned
    client = logged_in_clients(app)["organiser"]
    page = client.get("/organiser/campaigns/1/ranking").get_data(as_text=True)
    assert "&lt;script&gt;alert(" in page
