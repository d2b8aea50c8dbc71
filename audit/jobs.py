"""Background work with huey: the worker process, its queue, and waking it when mail is written.

The outbox (audit.outbox) is the durable record of what must be done: a `MailMessage` row,
committed with its event. huey runs the work: a worker process (`flask --app audit jobs worker`)
with worker threads, a scheduler for delayed and periodic tasks, and signal handling for a clean
stop. Its queue holds only wake-ups, never the data, so a lost wake-up costs a delay, not a message:

- **after commit**: a transaction that wrote mail enqueues `deliver_mail` once it has committed
  (a SQLAlchemy `after_commit` hook). A rolled-back transaction wrote no row and wakes nobody.
- **when a retry falls due**: a run that leaves messages waiting schedules the next wake-up for
  the moment the first of them is due (a delayed huey task, kept in huey's storage across restarts).
- **every minute**: the periodic `sweep_mail` delivers whatever is due, whatever was lost
  (a web process killed between its commit and its enqueue, a worker killed mid-message).
- **at start**: a worker wakes itself once, to take up what was due while it was stopped.

Reminders (audit.reminders) are written by the periodic `send_reminders`, every hour at minute 5
and once when a worker starts: the sweep is idempotent, so running it hourly (a reminder is late by
at most an hour after a stopped worker or a changed window), in several workers, or again after a
crash writes each reminder once. It then delivers what it wrote.

Long work (audit.job_records) rides on the same runner: a `JobRecord` row is the durable record,
committed with the request that asked for it; `run_jobs` is enqueued after that commit, scheduled
again when a retry falls due, and the periodic `sweep_jobs` takes up whatever was lost (a job whose
worker was killed, once its lease lapses) and removes the files whose time is up.

Where huey keeps its queue (JOBS_URL): on PostgreSQL the app's own database (huey's `huey_*`
tables, read with `FOR UPDATE SKIP LOCKED`: several workers on several machines share it); on SQLite
a file `jobs.sqlite3` in the instance folder. Several workers never deliver one message twice:
each message is claimed in the app's database (audit.outbox).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask, current_app
from huey import Huey, PostgresHuey, SqliteHuey, crontab

from . import fairness_data, job_records, outbox, reminders, result_cache
from .mail import QUEUED
from .models import utcnow

log = logging.getLogger(__name__)
NEXT_WAKEUP = "mail-next-wakeup"  # huey's key-value store: when the next delayed wake-up is due (epoch s)
RANKINGS_DUE = "rankings-refresh-due"  # huey's key-value store: a ranking refresh is scheduled
RANKINGS_DELAY_S = 3.0
NEXT_JOBS_WAKEUP = "jobs-next-wakeup"


def queue_location(app: Flask) -> tuple[str, str]:
    """("postgresql", dsn) or ("sqlite", file) for huey's queue."""
    url = app.config.get("JOBS_URL") or app.config["SQLALCHEMY_DATABASE_URI"]
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return "postgresql", parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    if app.config.get("JOBS_URL") and parsed.database:
        return "sqlite", parsed.database
    return "sqlite", str(Path(app.instance_path) / "jobs.sqlite3")


def make_huey(app: Flask) -> Huey:
    """The app's huey, with its tasks; made on first use (create_app opens nothing)."""
    kind, where = queue_location(app)
    huey: Huey = (PostgresHuey("audit", dsn=where, results=False) if kind == "postgresql"
                  else SqliteHuey("audit", filename=where, results=False))

    @huey.task(name="deliver_mail")
    def deliver_mail() -> None:
        with app.app_context():
            _deliver(huey)

    @huey.periodic_task(crontab(), name="sweep_mail")
    def sweep_mail() -> None:
        with app.app_context():
            _deliver(huey)

    @huey.task(name="refresh_rankings")
    def refresh_rankings() -> None:
        with app.app_context():
            huey.delete(RANKINGS_DUE)
            fairness_data.refresh_live_rankings()

    @huey.periodic_task(crontab(minute="5"), name="send_reminders")
    def send_reminders() -> None:
        with app.app_context():
            done = reminders.sweep()
            if done.assignment_reminders or done.appeal_reminders:
                log.info("reminders: %s for assignments, %s for appeal windows", done.assignment_reminders,
                         done.appeal_reminders)
            _deliver(huey)

    @huey.task(name="run_jobs")
    def run_jobs() -> None:
        with app.app_context():
            _run_jobs(huey)

    @huey.periodic_task(crontab(), name="sweep_jobs")
    def sweep_jobs() -> None:
        with app.app_context():
            removed = job_records.remove_expired()
            if removed:
                log.info("jobs: %s kept files removed", removed)
            _run_jobs(huey)

    huey.deliver_mail = deliver_mail  # type: ignore[attr-defined]
    huey.refresh_rankings = refresh_rankings  # type: ignore[attr-defined]
    huey.send_reminders = send_reminders  # type: ignore[attr-defined]
    huey.run_jobs = run_jobs  # type: ignore[attr-defined]
    huey.sweep_jobs = sweep_jobs  # type: ignore[attr-defined]
    return huey


def get(app: Flask | None = None) -> Huey:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    if "huey" not in app.extensions:
        app.extensions["huey"] = make_huey(app)
    return app.extensions["huey"]  # type: ignore[no-any-return]


def _deliver(huey: Huey) -> None:
    run = outbox.deliver_due()
    if run.sent or run.failed or run.retrying:
        log.info("mail: %s sent, %s failed, %s to retry", run.sent, run.failed, run.retrying)
    if run.next_due is not None:
        _wake_at(huey, max((run.next_due - utcnow()).total_seconds(), 0.0) + 0.1)


def _run_jobs(huey: Huey) -> None:
    run = job_records.run_due()
    if run.ran:
        log.info("jobs: %s", run.ran)
    if run.next_due is not None:
        _wake_at(huey, max((run.next_due - utcnow()).total_seconds(), 0.0) + 0.1, NEXT_JOBS_WAKEUP, "run_jobs")


def _wake_at(huey: Huey, delay: float, key: str = NEXT_WAKEUP, task: str = "deliver_mail") -> None:
    """Schedule a wake-up in `delay` seconds unless one is already scheduled no later: runs that
    overlap schedule one wake-up, not one each (the duplicates that slip through die out, since a
    wake-up that finds a later one scheduled schedules none)."""
    due = time.time() + delay
    scheduled = huey.get(key, peek=True)
    if scheduled is not None and time.time() < float(scheduled) <= due + 0.5:
        return
    huey.put(key, due)
    getattr(huey, task).schedule(delay=delay)


def wake(app: Flask | None = None, task: str = "deliver_mail") -> None:
    """Ask a worker to deliver mail (or run jobs) now. Never raises: the minute's sweep covers a lost wake-up."""
    try:
        huey = get(app)
        try:
            getattr(huey, task)()
        finally:
            huey.storage.close()  # this thread's connection: mail-writing requests are few, a web thread idles long
    except Exception:  # the commit has happened; the sweep will pick the message up
        log.exception("could not enqueue a mail wake-up; the next sweep delivers it")


def refresh_rankings_soon(app: Flask | None = None) -> None:
    """Rebuild the kept live rankings a few seconds from now: a burst of reviews makes one rebuild, not one each.
    Never raises: a page that finds its ranking stale computes it itself."""
    try:
        huey = get(app)
        try:
            due = huey.get(RANKINGS_DUE, peek=True)
            if due is None or float(due) < time.time() - 60:  # none scheduled (or one that was lost)
                huey.put(RANKINGS_DUE, time.time() + RANKINGS_DELAY_S)
                huey.refresh_rankings.schedule(delay=RANKINGS_DELAY_S)  # type: ignore[attr-defined]
        finally:
            huey.storage.close()
    except Exception:
        log.exception("could not schedule a ranking refresh; the next page view computes it")


def _after_commit(session: so.Session) -> None:
    if session.info.pop(QUEUED, False):
        wake()
    if session.info.pop(result_cache.CHANGED, False):
        refresh_rankings_soon()
    if session.info.pop(job_records.JOBS_QUEUED, False):
        wake(task="run_jobs")


def init_app(app: Flask) -> None:
    """Listen for commits that wrote mail (once per process: the hook is on every Session)."""
    if not sa.event.contains(so.Session, "after_commit", _after_commit):
        sa.event.listen(so.Session, "after_commit", _after_commit)
        sa.event.listen(so.Session, "after_soft_rollback", _after_rollback)


def _after_rollback(session: so.Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:  # the outermost transaction: what it wrote is gone
        session.info.pop(QUEUED, None)
        session.info.pop(result_cache.CHANGED, None)
        session.info.pop(job_records.JOBS_QUEUED, None)


def run_worker(app: Flask, workers: int = 2) -> None:
    """Run a huey consumer until SIGINT (finishes running tasks) or SIGTERM (stops at once)."""
    huey = get(app)
    huey.deliver_mail()  # type: ignore[attr-defined]  # take up what fell due while no worker ran
    huey.send_reminders()  # type: ignore[attr-defined]  # and the reminders an hour's sweep may have missed
    huey.run_jobs()  # type: ignore[attr-defined]
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=True, scheduler_interval=1,
                                    check_worker_health=True)
    consumer.run()

