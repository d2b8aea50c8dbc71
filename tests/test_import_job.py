"""A large Excel import of institutions added by a job (audit/job_records.py `_institution_import`): the
preview stays in the request, the confirmation hands the checked rows to one job, which adds them in chunks
with progress; the result page says how many were added; a retry never adds a row twice; a failure loses
nothing (the rows wait on the server until the job is done).
"""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa

from audit.extensions import db
from audit.models import Institution, JobRecord

from .test_institutions import upload, xlsx
from .test_jobs import job_row, jobs_app, jobs_worker, organiser_client  # noqa: F401 - fixtures, used by name
from .test_mail import wait_for
from .test_publish_job import job_of, run_jobs

HEADER = ["nazwa", "kategoria", "miejscowość", "województwo", "kanały"]


def rows(n: int, start: int = 0) -> list[list[str]]:
    return [[f"Ośrodek Pomocy Społecznej nr {i}", "social_welfare", f"Gmina {i % 300}", "mazowieckie",
             "visit, phone"] for i in range(start, start + n)]


def imported(app) -> int:
    with app.app_context():
        found = db.session.scalar(sa.select(sa.func.count()).select_from(Institution).where(
            Institution.name.startswith("Ośrodek Pomocy Społecznej nr ")))
        db.session.rollback()
        return int(found or 0)


def preview(client, data: bytes) -> tuple[str, str]:
    """Upload a file; the preview page and its confirmation token."""
    response = upload(client, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "The file is correct" in page, page[:2000]
    return page, re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)


def confirm(client, page: str, token: str):
    return client.post("/organiser/institutions/import/confirm", data={"csrf_token": csrf_of(page), "token": token})


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def waiting_files(app) -> list[str]:
    folder = Path(app.config["IMPORTS_DIR"])
    return sorted(p.suffix for p in folder.iterdir()) if folder.exists() else []


def test_a_small_import_is_still_added_in_the_request(jobs_app):  # noqa: F811
    client = organiser_client(jobs_app)
    page, token = preview(client, xlsx(*rows(3), header=HEADER))
    response = confirm(client, page, token)
    assert response.headers["Location"].endswith("/organiser/institutions") and imported(jobs_app) == 3
    with jobs_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(JobRecord)) == 0


def test_a_large_import_is_added_by_one_job_that_says_how_many_and_skips_what_is_on_the_list(jobs_app):  # noqa: F811
    jobs_app.config.update(IMPORT_INLINE_ROWS=2, IMPORT_CHUNK_ROWS=2)
    client = organiser_client(jobs_app)
    with jobs_app.app_context():
        known = db.session.scalar(sa.select(Institution).order_by(Institution.id))
        twin = [known.name.upper(), "social_welfare", known.city, "śląskie", "visit"]
        db.session.rollback()
    page, token = preview(client, xlsx(*rows(5), twin, header=HEADER))
    first = job_of(confirm(client, page, token))
    assert job_of(confirm(client, page, token)) == first  # confirmed twice: one job
    assert imported(jobs_app) == 0 and waiting_files(jobs_app) == [".queued"]  # the rows wait for the job
    waiting = client.get(f"/organiser/jobs/{first}").get_data(as_text=True)
    assert "Importing institutions (Excel)" in waiting and "<progress" in waiting
    assert run_jobs(jobs_app) == {"done": 1}
    assert imported(jobs_app) == 5 and waiting_files(jobs_app) == []  # added once; the rows' file removed when done
    done = client.get(f"/organiser/jobs/{first}").get_data(as_text=True)
    assert "Imported 5 institutions." in done and "1 already on the list was skipped." in done
    assert "Imported 5 institutions." in client.get("/organiser/jobs").get_data(as_text=True)
    polish = organiser_client(jobs_app, language="pl").get(f"/organiser/jobs/{first}").get_data(as_text=True)
    assert "Import instytucji (Excel)" in polish
    listed = organiser_client(jobs_app, language="pl").get("/organiser/jobs").get_data(as_text=True)
    assert 'data-label="Kto zlecił">Organizator' in listed and "Do kiedy" not in listed  # who, not a deadline


def test_the_rows_of_an_import_that_failed_for_good_wait_for_a_retry_then_go(jobs_app):  # noqa: F811
    """Refused: nothing can take the rows up again, so the sweep removes them at once. Out of attempts: they wait
    JOBS_KEEP_HOURS for the organiser's "try again", then go, and a retry then says so instead of adding anything."""
    from datetime import timedelta

    from audit import job_records
    from audit.models import utcnow

    jobs_app.config.update(IMPORT_INLINE_ROWS=2, IMPORT_CHUNK_ROWS=2)
    client = organiser_client(jobs_app)
    jobs = []
    for start in (0, 100):
        page, token = preview(client, xlsx(*rows(4, start), header=HEADER))
        jobs.append(job_of(confirm(client, page, token)))
    refused, worn_out = jobs
    assert waiting_files(jobs_app) == [".queued", ".queued"]

    def fail(job_id: int, refusal: bool, hours_ago: float) -> None:
        job = db.session.get(JobRecord, job_id)
        job.state, job.finished_at = "failed", utcnow() - timedelta(hours=hours_ago)
        job.params = {**job.params, **({"refusal": {"message": "x"}} if refusal else {})}
        db.session.commit()

    keep = float(jobs_app.config["JOBS_KEEP_HOURS"])
    with jobs_app.app_context():
        fail(refused, True, 0)
        fail(worn_out, False, 0)
        assert job_records.remove_expired() == 1
    assert waiting_files(jobs_app) == [".queued"]  # the refused job's rows went; the other's wait for a retry
    with jobs_app.app_context():
        fail(worn_out, False, keep + 1)
        assert job_records.remove_expired() == 1
        job_records.retry(db.session.get(JobRecord, worn_out))
        db.session.commit()
    assert waiting_files(jobs_app) == []
    run_jobs(jobs_app)
    state, _attempts, error = job_row(jobs_app, worn_out)
    assert state == "failed" and "no longer kept" in error and imported(jobs_app) == 0


def test_a_worker_killed_while_importing_keeps_whole_chunks_and_the_retry_adds_each_row_once(jobs_app,  # noqa: F811
                                                                                             jobs_worker):  # noqa: F811
    """SIGKILL while the job adds 3,000 rows twenty at a time: what is on the list is exactly what the job's
    progress says it committed (a chunk and its count commit together); the restarted worker goes on from there,
    adds every row once, and counts none of the killed attempt's rows as skipped."""
    total = 3000
    jobs_app.config.update(IMPORT_INLINE_ROWS=10, IMPORT_CHUNK_ROWS=20)
    jobs_worker.env.update(IMPORT_CHUNK_ROWS="20", JOBS_STALL_SECONDS="3")
    client = organiser_client(jobs_app)
    page, token = preview(client, xlsx(*rows(total), header=HEADER))
    job_id = job_of(confirm(client, page, token))

    def progress() -> tuple[str, int]:
        with jobs_app.app_context():
            job = db.session.get(JobRecord, job_id)
            found = (job.state, job.done or 0)
            db.session.rollback()
            return found

    try:
        jobs_worker.start()
        wait_for(lambda: progress()[0] == "running" and 0 < progress()[1] < total - 200, "the job part way through",
                 seconds=60, log=jobs_worker.log)
        jobs_worker.kill()
        state, done = progress()
        assert state == "running" and 0 < done < total
        assert imported(jobs_app) == done  # whole chunks, each with its count: nothing half added, nothing uncounted
        assert waiting_files(jobs_app) == [".queued"]  # the rest of the rows still wait on the server
        jobs_worker.start()
        wait_for(lambda: progress()[0] == "done", "the import after the restart", seconds=120, log=jobs_worker.log)
    finally:
        jobs_worker.stop()
    assert job_row(jobs_app, job_id)[1] == 2  # the killed attempt and the one that finished
    with jobs_app.app_context():
        names = db.session.execute(sa.select(sa.func.count(), sa.func.count(sa.distinct(Institution.name))).where(
            Institution.name.startswith("Ośrodek Pomocy Społecznej nr "))).one()
        db.session.rollback()
    assert tuple(names) == (total, total)  # every row once
    assert waiting_files(jobs_app) == []
    done_page = client.get(f"/organiser/jobs/{job_id}").get_data(as_text=True)
    assert f"Imported {total} institutions." in done_page
    assert "skipped" not in done_page
