"""Publishing a large edition as a job (audit/job_records.py `_publish`): the organiser confirms the same
readiness page, the job publishes exactly the state confirmed or refuses in the organiser's language, asked
twice it makes one job and one revision, and a worker killed mid-publish leaves nothing half written.
"""

from __future__ import annotations

import os
import sqlite3
import time

import pytest
import sqlalchemy as sa

from audit import job_records, publication, result_cache, review, standings
from audit.extensions import db
from audit.models import AuditEvent, Campaign, Contact, JobRecord, MailMessage, Revision, RevisionStanding, User

from .conftest import go_ahead, make_app
from .test_jobs import job_row, jobs_app, jobs_worker, organiser_client  # noqa: F401 - fixtures, used by name
from .test_mail import Worker, wait_for

CAMPAIGN = 1
PUBLISH = f"/organiser/campaigns/{CAMPAIGN}/publish"


def in_review(app, threshold: int = 0) -> None:
    """The demo's 2026 edition in review, and every edition counted as large (published by a job)."""
    app.config["PUBLISH_INLINE_INSTITUTIONS"] = threshold
    with app.app_context():
        db.session.get(Campaign, CAMPAIGN).status = "review"
        db.session.commit()


def accept_one(app) -> int:
    """A reviewer accepts one more contact (the edition's results change); its id."""
    with app.app_context():
        contact = db.session.scalar(sa.select(Contact).filter_by(campaign_id=CAMPAIGN, status="submitted")
                                    .order_by(Contact.id))
        organiser = db.session.scalar(sa.select(User).filter_by(role="organiser").order_by(User.id))
        review.accept(contact, organiser, contact.version)
        db.session.commit()
        return contact.id


def override_one(app) -> None:
    """The organiser decides one licence against the engine: the results change, the readiness list does not."""
    with app.app_context():
        campaign = db.session.get(Campaign, CAMPAIGN)
        row = next(r for r in standings.live(campaign, fresh=True).institutions if r.points is not None)
        organiser = db.session.scalar(sa.select(User).filter_by(role="organiser").order_by(User.id))
        publication.set_override(campaign, row.institution_id, not row.licensed, "Decyzja po kontroli.", organiser)
        db.session.commit()


def revisions(app, campaign_id: int = CAMPAIGN) -> list[int]:
    with app.app_context():
        found = list(db.session.scalars(sa.select(Revision.number).filter_by(campaign_id=campaign_id)
                                        .order_by(Revision.number)))
        db.session.rollback()
        return found


def job_of(response) -> int:
    assert response.status_code == 302, response.status_code
    location = response.headers["Location"]
    assert location.startswith("/organiser/jobs/"), location
    return int(location.rsplit("/", 1)[-1])


def run_jobs(app) -> dict[str, int]:
    """What a worker does when woken (the same code, in this process)."""
    with app.app_context():
        ran = job_records.run_due().ran
        db.session.remove()
        return ran


def test_a_small_edition_is_still_published_in_the_request(jobs_app):  # noqa: F811
    in_review(jobs_app, threshold=1000)
    client = organiser_client(jobs_app)
    response = go_ahead(client, PUBLISH, note="Wyniki 2026")
    assert response.headers["Location"].endswith(f"/organiser/campaigns/{CAMPAIGN}/revisions/1")
    assert revisions(jobs_app) == [1]
    with jobs_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(JobRecord)) == 0


def test_a_large_edition_is_published_by_one_job_however_often_it_is_confirmed(jobs_app, jobs_worker):  # noqa: F811
    in_review(jobs_app)
    client = organiser_client(jobs_app)
    first = job_of(go_ahead(client, PUBLISH, note="Wyniki 2026"))
    again = job_of(go_ahead(client, PUBLISH, note="Wyniki 2026"))  # a second click, or a second organiser
    assert again == first and revisions(jobs_app) == []
    waiting = client.get(f"/organiser/jobs/{first}").get_data(as_text=True)
    assert "Publishing a revision" in waiting and '<progress max="100" value="0"' in waiting
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in waiting
    assert "A publication of this edition is under way." in client.get(PUBLISH).get_data(as_text=True)
    with jobs_app.app_context():
        expected = standings.live(db.session.get(Campaign, CAMPAIGN), fresh=True)
        db.session.rollback()
    jobs_worker.start()
    wait_for(lambda: job_row(jobs_app, first)[0] == "done", "the revision published", log=jobs_worker.log)
    assert revisions(jobs_app) == [1]
    done = client.get(f"/organiser/jobs/{first}").get_data(as_text=True)
    assert "Revision 1 is published." in done and f'href="/organiser/campaigns/{CAMPAIGN}/revisions/1"' in done
    assert "Revision 1 is published." in client.get("/organiser/jobs").get_data(as_text=True)
    with jobs_app.app_context():
        revision = db.session.scalar(sa.select(Revision).filter_by(campaign_id=CAMPAIGN))
        frozen = {r.institution_id: (r.points, r.licensed) for r in db.session.scalars(
            sa.select(RevisionStanding).filter_by(revision_id=revision.id))}
        assert frozen == {r.institution_id: (r.points, r.licensed) for r in expected.institutions}
        events = db.session.scalars(sa.select(AuditEvent).filter_by(action="publish", campaign_id=CAMPAIGN)).all()
        assert len(events) == 1 and events[0].reason == "Wyniki 2026"
        mails = db.session.scalars(sa.select(MailMessage.key).filter_by(kind="results_published")).all()
        assert mails and all(key.startswith(f"results_published:{events[0].id}:") for key in mails)
        db.session.rollback()
    # Confirmed once more after it is done: the page offers revision 2 of the same results, a new decision.
    assert "Publish revision 2" in client.get(PUBLISH).get_data(as_text=True)


def test_a_job_refuses_results_that_changed_after_the_confirmation_in_polish_and_the_next_one_publishes(jobs_app):  # noqa: F811
    in_review(jobs_app)
    client = organiser_client(jobs_app, language="pl")
    stale = job_of(go_ahead(client, PUBLISH, note="Wyniki 2026"))
    accepted = accept_one(jobs_app)  # a review lands before a worker took the job up
    assert run_jobs(jobs_app) == {"failed": 1}
    state, attempts, error = job_row(jobs_app, stale)
    assert (state, attempts) == ("failed", 1)  # refused at once: retrying would publish what nobody confirmed
    assert "results changed after the publication was confirmed" in (error or "")
    assert revisions(jobs_app) == []
    page = client.get(f"/organiser/jobs/{stale}").get_data(as_text=True)
    assert ("Wyniki edycji zmieniły się po potwierdzeniu publikacji, więc nic nie zostało opublikowane. Otwórz "
            "stronę publikacji, przeczytaj ją jeszcze raz i potwierdź.") in page
    assert "Spróbuj ponownie" not in page and f'href="{PUBLISH}"' in page
    with jobs_app.app_context():
        mails = db.session.scalars(sa.select(MailMessage).filter_by(kind="job_failed")).all()
        polish = next(m for m in mails if m.language == "pl")
        assert "Wyniki edycji zmieniły się po potwierdzeniu publikacji" in polish.text
        db.session.rollback()
    assert client.post(f"/organiser/jobs/{stale}/again", data={
        "csrf_token": _token(client, f"/organiser/jobs/{stale}")}).status_code == 302
    assert job_row(jobs_app, stale)[0] == "failed"  # a refused job is not started again
    fresh = job_of(go_ahead(client, PUBLISH, note="Wyniki 2026"))  # the organiser reads the page again
    assert fresh != stale
    assert run_jobs(jobs_app) == {"done": 1}
    assert revisions(jobs_app) == [1]
    with jobs_app.app_context():
        counted = publication.counted_contacts(CAMPAIGN, db.session.get(Contact, accepted).institution_id)
        assert accepted in counted  # what was confirmed the second time, with the new review in it
        db.session.rollback()


def test_results_changed_between_the_page_and_the_click_publish_nothing_in_the_request(jobs_app):  # noqa: F811
    in_review(jobs_app, threshold=1000)
    client = organiser_client(jobs_app, language="pl")
    from .live_server import form_fields

    fields = form_fields(client.get(PUBLISH).get_data(as_text=True), PUBLISH)
    override_one(jobs_app)  # the list of what is open stays as shown; the results do not
    response = client.post(PUBLISH, data={**fields, "confirm": "y", "note": "Wyniki 2026"},
                           headers={"Referer": f"http://localhost{PUBLISH}"})
    assert response.status_code == 302 and revisions(jobs_app) == []
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Wyniki edycji zmieniły się po potwierdzeniu publikacji" in page


def _token(client, page: str) -> str:
    from .live_server import csrf_token

    return csrf_token(client.get(page).get_data(as_text=True))


def _writing(app, campaign_id: int) -> bool:
    """Whether another connection holds the edition's results for writing (publish() past its hold()): the
    edition's counter row locked on PostgreSQL, the database's write lock on SQLite."""
    url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        probe = sqlite3.connect(url.database, timeout=0)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.rollback()
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            probe.close()
    with app.app_context(), db.engine.connect() as connection:
        try:
            connection.execute(sa.text("SELECT 1 FROM setting WHERE key = :key FOR UPDATE NOWAIT"),
                               {"key": result_cache.edition_key(campaign_id)})
            connection.rollback()
            return False
        except sa.exc.OperationalError:
            connection.rollback()
            return True


@pytest.mark.parametrize("size", [2000])
def test_a_worker_killed_while_publishing_leaves_no_half_revision_and_the_retry_publishes_once(tmp_path, size):
    """A national edition's revision 2 is confirmed; the worker is killed with SIGKILL while it writes the
    revision (its transaction open); nothing of it remains, and the restarted worker publishes it once."""
    from bench import national

    app = make_app(tmp_path, JOBS_URL=f"sqlite:///{tmp_path / 'jobs.sqlite3'}")
    if os.environ.get("TEST_DATABASE_URL"):
        app.config["JOBS_URL"] = None
    with app.app_context():
        edition = national.build(size)
        campaign = db.session.get(Campaign, edition.campaign_id)
        organiser = db.session.scalar(sa.select(User).filter_by(email=edition.organiser))
        job = job_records.request("publish", campaign, organiser, {
            "number": 2, "note": "Korekta po odwołaniach", "outstanding": {},
            "state": result_cache.fingerprint(campaign.id), "language": "pl"})
        db.session.commit()
        job_id, campaign_id = job.id, campaign.id
        mails_before = db.session.scalar(sa.select(sa.func.count()).select_from(MailMessage))
    worker = Worker(app, tmp_path, 1)
    worker.env.update(JOBS_DIR=str(app.config["JOBS_DIR"]), JOBS_STALL_SECONDS="3", SMTP_HOST="")

    def publishing() -> bool:
        with app.app_context():
            found = db.session.get(JobRecord, job_id)
            busy = found is not None and found.state == "running" and found.message == (
                "Computing and freezing the results")
            db.session.rollback()
        return busy and _writing(app, campaign_id)

    try:
        worker.start()
        wait_for(publishing, "the worker writing the revision", seconds=120, log=worker.log)
        worker.kill()
        assert job_row(app, job_id)[0] == "running"
        assert revisions(app, campaign_id) == [1]  # nothing of revision 2: no row, no licence, no mail
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(MailMessage)) == mails_before
            assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).filter_by(
                action="publish", campaign_id=campaign_id)) == 1
            db.session.rollback()
        time.sleep(0.5)
        worker.start()
        wait_for(lambda: job_row(app, job_id)[0] == "done", "the revision after the restart", seconds=120,
                 log=worker.log)
    finally:
        worker.stop()
    assert job_row(app, job_id)[1] == 2  # the killed attempt and the one that went through
    assert revisions(app, campaign_id) == [1, 2]
    with app.app_context():
        revision = db.session.scalar(sa.select(Revision).filter_by(campaign_id=campaign_id, number=2))
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RevisionStanding).filter_by(
            revision_id=revision.id)) == size
        event = db.session.scalar(sa.select(AuditEvent).filter_by(action="publish", campaign_id=campaign_id,
                                                                  object_id=revision.id))
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MailMessage).where(
            MailMessage.key.startswith(f"results_published:{event.id}:"))) == size  # each director once
        db.session.rollback()
