"""Background jobs (audit/job_records.py): asked for in a request, run by a real worker process
(`flask jobs worker`, as in tests/test_mail.py), with progress, retries, a visible failure with its
mail to organisers, files kept then removed, and a worker killed mid-job that does the job once.
"""

from __future__ import annotations

import io
import os
import pickle
import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from audit import exports, fairness_data, job_records
from audit.extensions import db
from audit.models import Campaign, Contact, JobRecord, MailMessage, User, utcnow

from .conftest import make_app
from .live_server import csrf_token
from .test_mail import PUBLIC_URL, Worker, wait_for

CAMPAIGN = 1


@pytest.fixture
def jobs_app(demo_app, tmp_path):
    demo_app.config.update(PUBLIC_URL=PUBLIC_URL)
    if not os.environ.get("TEST_DATABASE_URL"):  # on PostgreSQL huey's queue is in the test's own database
        demo_app.config["JOBS_URL"] = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    return demo_app


@pytest.fixture
def jobs_worker(jobs_app, tmp_path):
    """`flask jobs worker` against the test's database and JOBS_DIR; no SMTP server (mail waits in the outbox)."""
    w = Worker(jobs_app, tmp_path, 1)
    w.env.update(JOBS_DIR=str(jobs_app.config["JOBS_DIR"]), IMPORTS_DIR=str(jobs_app.config["IMPORTS_DIR"]),
                 JOBS_RETRY_SECONDS="1", JOBS_MAX_ATTEMPTS="2", SMTP_HOST="")
    yield w
    w.stop()


def organiser_client(app, language: str = "en"):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"email": "organiser@demo.test", "password": "demo", "csrf_token": csrf_token(page)})
    client.get(f"/lang/{language}")
    return client


def post(client, url: str, page: str = "/organiser/jobs"):
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token})


def job_row(app, job_id: int) -> tuple[str, int, str | None]:
    with app.app_context():
        job = db.session.get(JobRecord, job_id)
        db.session.rollback() if job is None else None
        found = (job.state, job.attempts, job.error) if job else ("gone", 0, None)
        db.session.rollback()
        return found


def only_job(app) -> int:
    with app.app_context():
        ids = list(db.session.scalars(sa.select(JobRecord.id)))
        db.session.rollback()
    assert len(ids) == 1, ids
    return ids[0]


def sheet_values(data: bytes, title: str, skip: int = 0) -> list[tuple[object, ...]]:
    wb = load_workbook(io.BytesIO(data), read_only=True)
    try:
        return [row for row in wb[title].iter_rows(min_row=skip + 1, values_only=True)]
    finally:
        wb.close()


def fetch(client, url: str):
    """A download, read and closed (a file sent from disk stays open until its response is closed)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


# --- asked for in a request ---------------------------------------------------------------------


def test_a_job_asked_for_in_a_rolled_back_transaction_leaves_nothing_and_wakes_nobody(jobs_app):
    with jobs_app.app_context():
        campaign = db.session.get(Campaign, CAMPAIGN)
        job_records.request("answers", campaign, None)
        assert db.session.info.get(job_records.JOBS_QUEUED)
        db.session.rollback()
        assert job_records.JOBS_QUEUED not in db.session.info
        assert db.session.scalar(sa.select(sa.func.count()).select_from(JobRecord)) == 0


def test_asking_twice_while_a_job_is_pending_makes_one_job(jobs_app):
    client = organiser_client(jobs_app)
    first = post(client, f"/organiser/campaigns/{CAMPAIGN}/exports/answers")
    second = post(client, f"/organiser/campaigns/{CAMPAIGN}/exports/answers")
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"] == f"/organiser/jobs/{only_job(jobs_app)}"


def test_a_waiting_job_shows_progress_with_and_without_javascript(jobs_app):
    client = organiser_client(jobs_app)
    job_id = int(post(client, f"/organiser/campaigns/{CAMPAIGN}/exports/answers").headers["Location"].rsplit("/")[-1])
    html = client.get(f"/organiser/jobs/{job_id}").get_data(as_text=True)
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in html  # no JavaScript: the page reloads
    assert f'data-job-status="/organiser/jobs/{job_id}/status"' in html and "js/jobs.js" in html
    assert '<progress max="100" value="0"' in html and "style=" not in html and "<script>" not in html
    status = client.get(f"/organiser/jobs/{job_id}/status")
    assert status.headers["Cache-Control"] == "no-store"
    assert status.get_json() == {"id": job_id, "state": "queued", "done": 0, "total": 0, "percent": 0,
                                 "finished": False}
    assert "Answers (Excel)" not in html and "Raw answers (Excel)" in client.get("/organiser/jobs").get_data(as_text=True)
    script = client.get("/static/js/jobs.js")  # served from the package, no CDN
    assert script.status_code == 200
    script.close()


# --- run by the worker ------------------------------------------------------------------------


def test_the_worker_makes_both_exports_equal_to_the_direct_downloads(jobs_app, jobs_worker):
    client = organiser_client(jobs_app)
    answers = int(post(client, f"/organiser/campaigns/{CAMPAIGN}/exports/answers").headers["Location"].rsplit("/")[-1])
    workbook = int(post(client, f"/organiser/campaigns/{CAMPAIGN}/exports/edition_workbook?live=1")
                   .headers["Location"].rsplit("/")[-1])
    jobs_worker.start()
    for job_id in (answers, workbook):
        wait_for(lambda job_id=job_id: job_row(jobs_app, job_id)[0] == "done", f"job {job_id} done", log=jobs_worker.log)
    html = client.get(f"/organiser/jobs/{answers}").get_data(as_text=True)
    assert f'href="/organiser/jobs/{answers}/download"' in html and "noscript" not in html
    made = fetch(client, f"/organiser/jobs/{answers}/download")
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    direct = client.get(f"/organiser/campaigns/{CAMPAIGN}/answers.xlsx")
    assert made.headers["Content-Disposition"] == direct.headers["Content-Disposition"]  # answers-<year>.xlsx
    assert sheet_values(made.data, "Answers") == sheet_values(direct.data, "Answers")  # English, as asked for
    assert sheet_values(made.data, "Answers")[0][0] == "Contact"
    made = fetch(client, f"/organiser/jobs/{workbook}/download")
    direct = client.get(f"/organiser/campaigns/{CAMPAIGN}/export.xlsx?live=1")
    assert made.headers["Content-Disposition"] == direct.headers["Content-Disposition"]
    for title in ("Ranking", "Criteria", "Licences"):
        assert sheet_values(made.data, title, skip=2) == sheet_values(direct.data, title, skip=2)
    with jobs_app.app_context():
        stored = sorted(p.name for p in Path(jobs_app.config["JOBS_DIR"]).iterdir())
        db.session.rollback()
    assert len(stored) == 2 and all(re.fullmatch(r"\d+-[0-9a-f]{16}\.xlsx", name) for name in stored)


def test_a_job_that_keeps_failing_ends_visibly_and_mails_the_organisers(jobs_app, jobs_worker):
    with jobs_app.app_context():
        job = job_records.request("edition_workbook", db.session.get(Campaign, CAMPAIGN), None, {"revision": 99})
        db.session.commit()
        job_id = job.id
        organisers = set(db.session.scalars(sa.select(User.email).where(User.role == "organiser", User.active)))
    jobs_worker.start()
    wait_for(lambda: job_row(jobs_app, job_id)[0] == "failed", "the job failed for good", log=jobs_worker.log)
    _, attempts, error = job_row(jobs_app, job_id)
    assert attempts == 2 and "This version of the ranking does not exist." in (error or "")
    with jobs_app.app_context():
        mails = db.session.scalars(sa.select(MailMessage).where(MailMessage.kind == "job_failed")).all()
        assert {m.to_address for m in mails} == organisers
        polish = next(m for m in mails if m.language == "pl")
        assert polish.subject.startswith("Zadanie w tle nie powiodło się")
        assert "This version of the ranking does not exist." in polish.text and f"/organiser/jobs/{job_id}" in polish.text
        db.session.rollback()
    client = organiser_client(jobs_app)
    listed = client.get("/organiser/jobs").get_data(as_text=True)
    assert "Failed" in listed and "This version of the ranking does not exist." in listed
    page = client.get(f"/organiser/jobs/{job_id}").get_data(as_text=True)
    assert "The job failed after 2 attempts" in page and "Try again" in page


def test_a_worker_killed_in_the_middle_of_a_job_does_it_once_after_a_restart(tmp_path):
    """A national-sized raw-answers export (1,000 institutions, about 170,000 rows) is killed with SIGKILL while it
    writes; the restarted worker takes it up once the lease lapses and makes one file."""
    from bench import national

    app = make_app(tmp_path, JOBS_URL=f"sqlite:///{tmp_path / 'jobs.sqlite3'}")
    if os.environ.get("TEST_DATABASE_URL"):
        app.config["JOBS_URL"] = None
    with app.app_context():
        edition = national.build(1000)  # long enough to be caught writing by a progress report a second
        job = job_records.request("answers", db.session.get(Campaign, edition.campaign_id), None, {"language": "pl"})
        db.session.commit()
        job_id, total = job.id, exports.count_answer_rows(edition.campaign_id)
    worker = Worker(app, tmp_path, 1)
    worker.env.update(JOBS_DIR=str(app.config["JOBS_DIR"]), JOBS_STALL_SECONDS="3", SMTP_HOST="")
    try:
        worker.start()

        def writing() -> bool:
            with app.app_context():
                found = db.session.get(JobRecord, job_id)
                busy = found is not None and found.state == "running" and 0 < found.done < found.total
                db.session.rollback()
                return busy

        wait_for(writing, "the export half-way", seconds=60, log=worker.log)
        worker.kill()
        assert list(Path(app.config["JOBS_DIR"]).glob("*.part"))  # killed while writing its file
        assert job_row(app, job_id)[0] == "running"
        worker.start()
        wait_for(lambda: job_row(app, job_id)[0] == "done", "the export after the restart", seconds=120, log=worker.log)
    finally:
        worker.stop()
    _, attempts, _ = job_row(app, job_id)
    assert attempts == 2  # the killed attempt and the one that went through
    files = list(Path(app.config["JOBS_DIR"]).iterdir())
    assert len(files) == 1 and files[0].suffix == ".xlsx"  # one result, the killed attempt's part file gone
    rows = sheet_values(files[0].read_bytes(), "Odpowiedzi", skip=1)  # asked for in Polish
    assert len(rows) == total


# --- the fairness analysis --------------------------------------------------------------------


def test_a_large_editions_fairness_is_computed_by_a_job_and_equals_the_computation_in_the_request(
        jobs_app, jobs_worker):
    jobs_app.config["FAIRNESS_INLINE_CONTACTS"] = 0  # every edition counts as large here
    client = organiser_client(jobs_app)
    first = client.get(f"/organiser/campaigns/{CAMPAIGN}/fairness").get_data(as_text=True)
    assert "Computing the analysis" in first and "<progress" in first and "Rank intervals" not in first
    job_id = only_job(jobs_app)
    jobs_worker.start()
    wait_for(lambda: job_row(jobs_app, job_id)[0] == "done", "the analysis computed", log=jobs_worker.log)
    html = client.get(f"/organiser/campaigns/{CAMPAIGN}/fairness").get_data(as_text=True)
    assert "Computed " in html and "Rank intervals" in html and "Computing the analysis" not in html
    assert "Compute again" in html
    with jobs_app.app_context():
        job = db.session.get(JobRecord, job_id)
        stored = pickle.loads((Path(jobs_app.config["JOBS_DIR"]) / job.result_path).read_bytes())
        fresh = fairness_data.fairness_figures(db.session.get(Campaign, CAMPAIGN))
        assert stored == fresh  # the same seed: the same intervals, leave-one-out, agreement, to the last digit
        # The edition changes: the page says so, keeps the old figures and computes new ones.
        contact = db.session.scalar(sa.select(Contact).filter_by(campaign_id=CAMPAIGN, status="submitted"))
        contact.status = "accepted"
        db.session.commit()
    changed = client.get(f"/organiser/campaigns/{CAMPAIGN}/fairness").get_data(as_text=True)
    assert "The edition has changed since" in changed and "Rank intervals" in changed
    with jobs_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(JobRecord)) == 2
        db.session.rollback()


# --- files kept for a while ---------------------------------------------------------------------


def test_expired_files_are_removed_and_the_page_says_so(jobs_app):
    folder = Path(jobs_app.config["JOBS_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    with jobs_app.app_context():
        old = JobRecord(key="old", kind="answers", campaign_id=CAMPAIGN, state="done", result_path="1-aaaa.xlsx",
                        expires_at=utcnow() - timedelta(minutes=1), params={"download_name": "answers-2026.xlsx"})
        kept = JobRecord(key="kept", kind="answers", campaign_id=CAMPAIGN, state="done", result_path="2-bbbb.xlsx",
                         expires_at=utcnow() + timedelta(hours=1), params={"download_name": "answers-2026.xlsx"})
        db.session.add_all([old, kept])
        db.session.commit()
        (folder / "1-aaaa.xlsx").write_bytes(b"PK")
        (folder / "2-bbbb.xlsx").write_bytes(b"PK")
        orphan = folder / "9.deadbeef.part"
        orphan.write_bytes(b"half")
        os.utime(orphan, (0, 0))
        assert job_records.remove_expired() == 2
        assert sorted(p.name for p in folder.iterdir()) == ["2-bbbb.xlsx"]
        old_id = old.id
    client = organiser_client(jobs_app)
    assert client.get(f"/organiser/jobs/{old_id}/download").status_code == 404
    assert "The file has been removed" in client.get(f"/organiser/jobs/{old_id}").get_data(as_text=True)


def test_only_organisers_see_jobs_and_their_files(jobs_app, auth, demo_client):
    with jobs_app.app_context():
        job = job_records.request("answers", db.session.get(Campaign, CAMPAIGN), None)
        db.session.commit()
        job_id = job.id
    for role in ("director", "auditor"):
        client = jobs_app.test_client()
        page = client.get("/login").get_data(as_text=True)
        client.post("/login", data={"email": f"{role}@demo.test", "password": "demo", "csrf_token": csrf_token(page)})
        for url in ("/organiser/jobs", f"/organiser/jobs/{job_id}", f"/organiser/jobs/{job_id}/status",
                    f"/organiser/jobs/{job_id}/download"):
            assert client.get(url).status_code == 403, (role, url)
