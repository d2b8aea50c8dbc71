"""Past one machine: several worker processes against one database share the work and do each piece once.

Two `flask jobs worker` processes (two threads each) are started at the same moment against the test's
database (a SQLite file, or in the suite's second pass the PostgreSQL server, where huey's queue is in
the same database) and one SMTP server. Each claims its messages and jobs with a conditional UPDATE
(audit/outbox.py, audit/job_records.py); the test checks the outcome, not the mechanism: every message
arrives once, every job runs once and makes one file.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

from audit import job_records, mail
from audit.extensions import db
from audit.models import Assignment, Campaign, JobRecord, MailMessage, User

from .conftest import free_port
from .test_mail import PUBLIC_URL, Inbox, Worker, smtp_server, wait_for

MESSAGES = 16
EXPORTS = [(kind, language) for kind in ("answers", "edition_workbook") for language in ("pl", "en")]


def test_two_worker_processes_send_each_message_once_and_run_each_job_once(demo_app, tmp_path):
    demo_app.config.update(PUBLIC_URL=PUBLIC_URL)
    if not os.environ.get("TEST_DATABASE_URL"):  # on PostgreSQL huey's queue is in the test's own database
        demo_app.config["JOBS_URL"] = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    with demo_app.app_context():
        # no assignment window closing soon: the reminders sweep writes nothing beside these messages
        db.session.execute(sa.update(Assignment).values(due_end=date.today() + timedelta(days=60)))
        user = db.session.scalar(sa.select(User).filter_by(email="organiser@demo.test"))
        for n in range(MESSAGES):
            mail.one_time_link(user, f"token-{n}", "reset")
        campaign = db.session.get(Campaign, 1)
        job_ids = [job_records.request(kind, campaign, user, {"language": language}).id for kind, language in EXPORTS]
        db.session.commit()
    assert len(set(job_ids)) == len(EXPORTS)
    port = free_port()
    workers = []
    for n in range(2):
        worker = Worker(demo_app, tmp_path, port)
        worker.log = tmp_path / f"worker-{n}.log"
        worker.env.update(JOBS_DIR=str(demo_app.config["JOBS_DIR"]), SMTP_HOST="127.0.0.1")
        workers.append(worker)
    with smtp_server(port, Inbox()) as inbox:
        try:
            for worker in workers:
                worker.start()

            def finished() -> bool:
                with demo_app.app_context():
                    states = set(db.session.scalars(sa.select(JobRecord.state)))
                    sent = db.session.scalar(sa.select(sa.func.count()).select_from(MailMessage)
                                             .where(MailMessage.status == "sent"))
                    db.session.rollback()
                return states == {"done"} and sent == MESSAGES

            wait_for(finished, "every job done and every message sent", seconds=120, log=workers[0].log)
        finally:
            for worker in workers:
                worker.stop()
    links = sorted(message.get_body(("plain",)).get_content().split("/reset/")[1].split()[0]
                   for message in inbox.received)
    assert len(inbox.received) == MESSAGES and len(set(links)) == MESSAGES  # each once, none twice
    with demo_app.app_context():
        jobs = db.session.scalars(sa.select(JobRecord).where(JobRecord.id.in_(job_ids))).all()
        assert [(job.state, job.attempts) for job in jobs] == [("done", 1)] * len(EXPORTS)
        files = {job.result_path for job in jobs}
        db.session.rollback()
    made = sorted(p.name for p in Path(demo_app.config["JOBS_DIR"]).iterdir())
    assert len(files) == len(EXPORTS) and made == sorted(files)  # one file a job, no leftover part file
