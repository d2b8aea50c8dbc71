"""Long work as jobs: a national export, the fairness analysis. One `JobRecord` row per job, owned here.

The row is the job: what to make (kind, edition, parameters), who asked, and what the organiser
sees on "Background jobs" (state, progress, why it failed, the file it made). huey (audit.jobs)
only wakes workers; like the outbox, the rules live in the database:

- **Asked for in a request, enqueued after its commit**: `request()` adds the row and flags the
  session; the commit wakes a worker (audit.jobs, the after-commit hook the mail uses). A request
  that rolls back leaves no row and wakes nobody. Asking again for the same thing while a job for it
  is queued or running returns that job.
- **Claimed by one worker**: a conditional UPDATE ("still due") committed before the work starts,
  as audit.outbox claims a message. Due: "queued" with `next_attempt_at` passed, or "running" with a
  heartbeat older than JOBS_STALL_SECONDS (its worker died: the job is taken up again).
- **Alive**: while a job runs, a thread of its worker beats its heartbeat every third of
  JOBS_STALL_SECONDS (a short UPDATE of its own), whatever the work is doing (saving a large file
  reports no progress for a while); only a dead worker stops beating.
- **Progress**: the work reports (done, total) and a message; each report is a short committed
  UPDATE of its own row. A report that finds the claim gone (another
  worker took the job after this one stalled past the lease) stops the work: `Superseded`.
- **Done once**: the result is written to `<job id>.<claim>.part` in JOBS_DIR and renamed to its
  final name only after the work succeeded; the row becomes "done" only under its own claim. A
  worker killed mid-job leaves a .part file that the next attempt deletes before it starts.
- **Failures**: retried after JOBS_RETRY_SECONDS, doubled each time, up to JOBS_MAX_ATTEMPTS; then
  "failed" with the error, and every active organiser gets a mail (audit.mail.job_failed) written
  in the same transaction.
- **Files kept for a while**: an export's file is removed JOBS_KEEP_HOURS after it was made by the
  periodic sweep (`remove_expired`), which also removes fairness results a newer one replaced and
  .part files no job owns. File names are the job's id and a random token, never a name of a person,
  an institution or an edition; only organisers can list or download them.
"""

from __future__ import annotations

import os
import pickle
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import force_locale

from .errors import N_, RuleError
from .extensions import db
from .models import Campaign, JobRecord, User, utcnow

JOBS_QUEUED = "jobs_queued"  # session.info flag: the commit should wake a worker (audit.jobs)
PENDING = ("queued", "running")
MAX_WAIT = timedelta(hours=1)

KIND_LABELS = {"edition_workbook": N_("Edition workbook (Excel)"), "answers": N_("Raw answers (Excel)"),
               "fairness": N_("Fairness analysis"), "publish": N_("Publishing a revision"),
               "institution_import": N_("Importing institutions (Excel)")}
STATE_LABELS = {"queued": N_("Waiting"), "running": N_("Running"), "done": N_("Done"), "failed": N_("Failed")}


class JobError(RuleError):
    """A job action the rules refuse."""


class Refused(JobError):
    """Raised by a runner when the rules refuse the work as asked (the edition changed since it was
    confirmed): the job fails at once, without the retries a crash gets, and says why in the organiser's
    language (`error_text`)."""

    def __init__(self, error: RuleError):
        self.cause = error
        super().__init__(error.message, **error.params)


class Superseded(Exception):
    """This worker's claim on the job is gone (another worker took it up): stop without writing."""


# --- asking for a job --------------------------------------------------------------------------


def request(kind: str, campaign: Campaign | None, user: User | None, params: dict[str, Any] | None = None,
            key: str | None = None) -> JobRecord:
    """Add a job (flush only) and wake a worker once the request commits; the pending one if it exists.

    `key` names what the job computes when one result serves everyone (the fairness analysis of an
    edition in a given state): a job with that key, pending or done, is returned instead of a new one.
    """
    if kind not in RUNNERS:
        raise JobError(N_("Unknown kind of job."))
    params = params or {}
    if key is not None:
        found = db.session.scalar(sa.select(JobRecord).where(JobRecord.key == key))
        if found is not None:
            return found
    else:
        for job in db.session.scalars(sa.select(JobRecord).where(
                JobRecord.kind == kind, JobRecord.campaign_id == (campaign.id if campaign else None),
                JobRecord.state.in_(PENDING))):
            if job.params == params:
                return job
    campaign_id = campaign.id if campaign is not None else None
    job = JobRecord(key=key or f"{kind}:{campaign_id}:{uuid.uuid4().hex}", kind=kind, campaign_id=campaign_id,
                    requested_by=user.id if user is not None else None, params=params, state="queued",
                    message=N_("Waiting for a worker"))
    db.session.add(job)
    db.session.flush()
    db.session.info[JOBS_QUEUED] = True
    return job


def retry(job: JobRecord) -> None:
    """An organiser's new start of a failed job (flush only)."""
    if job.state != "failed":
        raise JobError(N_("Only a failed job can be started again."))
    if job.params.get("refusal"):
        raise JobError(N_("This job was refused, not interrupted: running it again would be refused again."))
    job.state, job.attempts, job.next_attempt_at, job.error, job.done = "queued", 0, utcnow(), None, 0
    job.message = N_("Waiting for a worker")
    db.session.flush()
    db.session.info[JOBS_QUEUED] = True


def recent(limit: int = 100) -> list[JobRecord]:
    """The newest jobs first, for the organiser's "Background jobs" page."""
    return list(db.session.scalars(sa.select(JobRecord).options(so.selectinload(JobRecord.campaign),
                                                                 so.selectinload(JobRecord.requester))
                                   .order_by(JobRecord.created_at.desc(), JobRecord.id.desc()).limit(limit)))


def latest(kind: str, campaign_id: int, state: str | None = None) -> JobRecord | None:
    query = sa.select(JobRecord).where(JobRecord.kind == kind, JobRecord.campaign_id == campaign_id)
    if state is not None:
        query = query.where(JobRecord.state == state)
    return db.session.scalar(query.order_by(JobRecord.created_at.desc(), JobRecord.id.desc()).limit(1))


def error_text(job: JobRecord) -> str:
    """Why the job failed, in the current language when the rules refused it (else the error as recorded)."""
    from .errors import describe

    refusal = job.params.get("refusal") if job.params else None
    if refusal and job.state == "failed":
        return describe(RuleError(str(refusal["message"]), **dict(refusal.get("params") or {})))
    return job.error or ""


def pending(kind: str, campaign_id: int) -> JobRecord | None:
    """The newest job of this kind for the edition that is still queued or running."""
    return db.session.scalar(sa.select(JobRecord).where(
        JobRecord.kind == kind, JobRecord.campaign_id == campaign_id, JobRecord.state.in_(PENDING))
        .order_by(JobRecord.id.desc()).limit(1))


def percent(job: JobRecord) -> int:
    if job.state == "done":
        return 100
    return min(99, job.done * 100 // job.total) if job.total else 0


def status(job: JobRecord) -> dict[str, Any]:
    """What the page's script polls (static/js/jobs.js): nothing a page of the job does not show."""
    return {"id": job.id, "state": job.state, "done": job.done, "total": job.total, "percent": percent(job),
            "finished": job.state in ("done", "failed")}


# --- files -------------------------------------------------------------------------------------


def folder() -> Path:
    path = Path(current_app.config["JOBS_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def result_file(job: JobRecord) -> Path | None:
    """The job's file, if it is done and the file is still kept."""
    if job.state != "done" or not job.result_path:
        return None
    path = folder() / job.result_path
    return path if path.is_file() else None


def load_result(job: JobRecord) -> Any:
    """A stored Python result (the fairness analysis), written by this app's own worker."""
    path = result_file(job)
    if path is None:
        return None
    with path.open("rb") as f:
        return pickle.load(f)


# --- running -----------------------------------------------------------------------------------


@dataclass
class Progress:
    """What a running job reports; each report commits its row and beats the heartbeat."""

    job_id: int
    claim: str
    every: float
    last: float = 0.0

    def __call__(self, done: int, total: int, message: str | None = None, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < self.every:
            return
        self.last = now
        values: dict[str, Any] = {"done": done, "total": total, "heartbeat_at": utcnow()}
        if message is not None:
            values["message"] = message
        try:
            taken = db.session.execute(sa.update(JobRecord).where(JobRecord.id == self.job_id,
                                                                  JobRecord.claim == self.claim).values(**values))
            db.session.commit()
        except sa.exc.OperationalError:  # SQLite busy with another writer: this report is skipped, not the job
            db.session.rollback()
            return
        if getattr(taken, "rowcount", 0) != 1:
            raise Superseded(self.job_id)


@dataclass(frozen=True)
class Outcome:
    """What a runner made: a file in JOBS_DIR (already renamed into place) and how long it is kept, or (path
    None) rows written in the session, committed by run_one together with the job's "done"."""

    path: str | None
    keep: timedelta | None
    download_name: str | None = None
    """The name the organiser's browser saves the file under (the direct download's name)."""
    params: dict[str, Any] | None = None
    """What the job's page should say of its result (a revision's number, how many rows were added)."""
    cleanup: Callable[[], None] | None = None
    """Run once the job's "done" is committed (what the work needed until then, such as an import's rows)."""


Runner = Callable[[JobRecord, Progress, Path], Outcome]
"""(the job, its progress, the .part file to write) -> what was made."""


def _due(now: Any, lease: timedelta) -> sa.ColumnElement[bool]:
    return sa.or_(sa.and_(JobRecord.state == "queued", JobRecord.next_attempt_at <= now),
                  sa.and_(JobRecord.state == "running", JobRecord.heartbeat_at <= now - lease))


def lease() -> timedelta:
    """How long a running job may go without a progress report before it is taken to be dead."""
    return timedelta(seconds=int(current_app.config["JOBS_STALL_SECONDS"]))


def claim_next() -> tuple[int, str] | None:
    """Take one due job for this worker and commit the claim: (id, claim), or None when none is due."""
    while True:
        now = utcnow()
        candidate = sa.select(JobRecord.id).where(_due(now, lease())).order_by(JobRecord.next_attempt_at,
                                                                               JobRecord.id).limit(1)
        if db.session.get_bind().dialect.name == "postgresql":
            candidate = candidate.with_for_update(skip_locked=True)
        job_id = db.session.scalar(candidate)
        if job_id is None:
            db.session.rollback()
            return None
        claim = uuid.uuid4().hex
        taken = db.session.execute(sa.update(JobRecord).where(JobRecord.id == job_id, _due(now, lease())).values(
            state="running", claim=claim, heartbeat_at=now, started_at=now, attempts=JobRecord.attempts + 1,
            done=0, message=N_("Starting")))
        db.session.commit()
        if getattr(taken, "rowcount", 0) == 1:
            return job_id, claim


def retry_wait(attempts: int) -> timedelta:
    first = timedelta(seconds=int(current_app.config["JOBS_RETRY_SECONDS"]))
    return min(first * 2 ** max(attempts - 1, 0), MAX_WAIT)


def run_one(job_id: int, claim: str) -> str:
    """Run one claimed job and commit its outcome: "done", "queued" (to retry), "failed" or "superseded"."""
    job = db.session.get(JobRecord, job_id)
    assert job is not None
    runner = RUNNERS[job.kind]
    base = folder()
    for stale in base.glob(f"{job.id}.*.part"):  # a killed attempt's leftovers
        stale.unlink(missing_ok=True)
    part = base / f"{job.id}.{claim}.part"
    lease_s = lease().total_seconds()
    progress = Progress(job.id, claim, every=min(1.0, lease_s / 4))
    mine = sa.and_(JobRecord.id == job_id, JobRecord.claim == claim)
    stop = threading.Event()
    beating = threading.Thread(target=_beat, args=(current_app._get_current_object(),  # type: ignore[attr-defined]
                                                   job_id, claim, stop, lease_s / 3), daemon=True)
    beating.start()
    try:
        outcome = runner(job, progress, part)
    except Superseded:
        db.session.rollback()
        part.unlink(missing_ok=True)
        return "superseded"
    except Refused as refusal:  # the rules refuse the work as asked: trying again would not change that
        db.session.rollback()
        part.unlink(missing_ok=True)
        return _failed(job_id, claim, str(refusal), refusal={"message": refusal.message,
                                                             "params": dict(refusal.params)})
    except Exception as error:  # any failure of the work: recorded, retried, then shown
        db.session.rollback()
        part.unlink(missing_ok=True)
        current_app.logger.exception("job %s failed", job_id)
        return _failed(job_id, claim, f"{type(error).__name__}: {error}")
    finally:
        stop.set()
        beating.join()
    now = utcnow()
    params = {**job.params, **({"download_name": outcome.download_name} if outcome.download_name else {}),
              **(outcome.params or {})}
    params.pop("refusal", None)
    taken = db.session.execute(sa.update(JobRecord).where(mine).values(params=params,
        state="done", claim=None, result_path=outcome.path, finished_at=now, error=None,
        done=sa.case((JobRecord.total > 0, JobRecord.total), else_=1), total=sa.case((JobRecord.total > 0,
                                                                                      JobRecord.total), else_=1),
        message=N_("Done"), expires_at=now + outcome.keep if outcome.keep is not None else None))
    if getattr(taken, "rowcount", 0) != 1:  # another worker holds it now: its result will be the one
        db.session.rollback()  # and what this one wrote in the session (a revision, imported rows) goes too
        if outcome.path is not None:
            (base / outcome.path).unlink(missing_ok=True)
        return "superseded"
    db.session.commit()  # the work's own rows, if any, and "done" in one transaction
    if outcome.cleanup is not None:
        outcome.cleanup()
    return "done"


def _beat(app: Any, job_id: int, claim: str, stop: threading.Event, every: float) -> None:
    """Beat the heartbeat of a running job until told to stop (or until the claim is gone)."""
    with app.app_context():
        try:
            while not stop.wait(every):
                try:
                    taken = db.session.execute(sa.update(JobRecord).where(
                        JobRecord.id == job_id, JobRecord.claim == claim).values(heartbeat_at=utcnow()))
                    db.session.commit()
                except sa.exc.OperationalError:  # SQLite busy: the next beat comes soon
                    db.session.rollback()
                    continue
                if getattr(taken, "rowcount", 0) != 1:
                    return
        finally:
            db.session.remove()


def _failed(job_id: int, claim: str, error: str, refusal: dict[str, Any] | None = None) -> str:
    from . import mail  # mail imports the models only; kept local so a runner's import cannot cycle

    job = db.session.get(JobRecord, job_id)
    assert job is not None
    if job.claim != claim:
        db.session.rollback()
        return "superseded"
    final = refusal is not None or job.attempts >= int(current_app.config["JOBS_MAX_ATTEMPTS"])
    job.claim, job.error = None, error[:4000]
    params = {k: v for k, v in job.params.items() if k != "refusal"}
    job.params = {**params, "refusal": refusal} if refusal is not None else params
    if final:
        job.state, job.finished_at, job.message = "failed", utcnow(), N_("Failed")
        mail.job_failed(job)
    else:
        job.state, job.next_attempt_at = "queued", utcnow() + retry_wait(job.attempts)
        job.message = N_("Waiting to try again")
    db.session.commit()
    return job.state


@dataclass(frozen=True)
class Run:
    ran: dict[str, int]
    next_due: Any


def run_due(limit: int = 20) -> Run:
    """Run due jobs one after the other (up to `limit`); say when the next one falls due."""
    counts: dict[str, int] = {}
    for _ in range(limit):
        claimed = claim_next()
        if claimed is None:
            break
        outcome = run_one(*claimed)
        counts[outcome] = counts.get(outcome, 0) + 1
    queued = db.session.scalar(sa.select(sa.func.min(JobRecord.next_attempt_at)).where(JobRecord.state == "queued"))
    running = db.session.scalar(sa.select(sa.func.min(JobRecord.heartbeat_at)).where(JobRecord.state == "running"))
    candidates = [t for t in (queued, running + lease() if running else None) if t is not None]
    db.session.rollback()
    return Run(counts, min(candidates) if candidates else None)


def remove_expired() -> int:
    """Remove kept files whose time is up, fairness results a newer one replaced, and orphaned .part
    files; the rows stay (the page says the file was removed). Returns the files removed."""
    now, base, removed = utcnow(), folder(), 0
    expired = list(db.session.scalars(sa.select(JobRecord).where(
        JobRecord.state == "done", JobRecord.result_path.is_not(None), JobRecord.expires_at <= now)))
    newest: dict[int, int] = {}
    for job_id, campaign_id in db.session.execute(
            sa.select(JobRecord.id, JobRecord.campaign_id).where(JobRecord.kind == "fairness", JobRecord.state == "done",
                                                                 JobRecord.result_path.is_not(None))
            .order_by(JobRecord.finished_at, JobRecord.id)):
        newest[campaign_id] = job_id
    replaced = list(db.session.scalars(sa.select(JobRecord).where(
        JobRecord.kind == "fairness", JobRecord.state == "done", JobRecord.result_path.is_not(None),
        JobRecord.id.not_in(list(newest.values()) or [0]))))
    for job in expired + replaced:
        with suppress(FileNotFoundError):
            (base / str(job.result_path)).unlink()
            removed += 1
        job.result_path = None
    removed += _forget_failed_imports(now)
    db.session.commit()
    running = {f"{i}.{c}.part" for i, c in db.session.execute(
        sa.select(JobRecord.id, JobRecord.claim).where(JobRecord.state == "running"))}
    db.session.rollback()
    cutoff = time.time() - max(lease().total_seconds(), 60)
    for part in base.glob("*.part"):
        if part.name not in running and part.stat().st_mtime < cutoff:
            part.unlink(missing_ok=True)
            removed += 1
    return removed


def _forget_failed_imports(now: Any) -> int:
    """Remove the checked rows of imports that failed for good: at once if refused (nothing can take them up
    again), else once they have waited JOBS_KEEP_HOURS for the organiser's "try again". A retry after that
    says the rows are no longer kept. A done import removed its rows itself."""
    from . import institution_import as importer
    from . import institutions

    removed = 0
    for job in db.session.scalars(sa.select(JobRecord).where(JobRecord.kind == "institution_import",
                                                             JobRecord.state == "failed")):
        if "refusal" in job.params or (job.finished_at is not None and job.finished_at <= now - _keep()):
            removed += importer.discard_pending(institutions.imports_dir(), str(job.params.get("token", "")))
    return removed


# --- the kinds of job --------------------------------------------------------------------------


def _final_name(job: JobRecord, suffix: str) -> str:
    """`<id>-<random>.<suffix>`: nothing in it names a person, an institution or an edition."""
    return f"{job.id}-{secrets.token_hex(8)}{suffix}"


def _place(part: Path, job: JobRecord, suffix: str) -> str:
    name = _final_name(job, suffix)
    os.replace(part, part.parent / name)
    return name


def _keep() -> timedelta:
    return timedelta(hours=float(current_app.config["JOBS_KEEP_HOURS"]))


def _edition_workbook(job: JobRecord, progress: Progress, part: Path) -> Outcome:
    from . import exports
    from .publication import revision_of

    campaign = db.session.get(Campaign, job.campaign_id)
    assert campaign is not None
    number = job.params.get("revision")
    revision = revision_of(campaign.id, int(number)) if number is not None else None
    if number is not None and revision is None:
        raise JobError(N_("This version of the ranking does not exist."))
    progress(0, 1, N_("Reading the results"), force=True)
    with force_locale(job.params.get("language") or "pl"):
        edition = exports.load_edition(campaign, revision)
        tables = exports.edition_tables(edition)
        total = len(tables) + 1
        db.session.rollback()  # the edition is read: no read transaction held while writing

        def reported() -> Iterator[exports.Table]:
            for n, table in enumerate(tables):
                progress(n, total, N_("Writing the sheets"), force=True)
                yield table
            progress(total - 1, total, N_("Saving the file"), force=True)

        with part.open("wb") as out:
            exports.write_tables(reported(), exports.edition_properties(edition), out)
    return Outcome(_place(part, job, ".xlsx"), _keep(), exports.edition_filename(campaign.year, edition.revision))


def _answers(job: JobRecord, progress: Progress, part: Path) -> Outcome:
    from . import exports

    campaign = db.session.get(Campaign, job.campaign_id)
    assert campaign is not None
    name, year = campaign.name, campaign.year
    total = exports.count_answer_rows(campaign.id)
    progress(0, total, N_("Writing the answers"), force=True)

    def rows() -> Iterator[exports.AnswerRow]:
        written = 0
        for chunk in exports.answer_chunks(campaign.id):
            yield from chunk
            written += len(chunk)
            progress(written, total)  # commits: the next chunk is read in a fresh transaction
        progress(total, total, N_("Saving the file"), force=True)

    with force_locale(job.params.get("language") or "pl"), part.open("wb") as out:
        exports.write_answers(name, rows(), out)
    return Outcome(_place(part, job, ".xlsx"), _keep(), exports.answers_filename(year))


def _fairness(job: JobRecord, progress: Progress, part: Path) -> Outcome:
    from . import fairness_data

    campaign = db.session.get(Campaign, job.campaign_id)
    assert campaign is not None
    figures = fairness_data.fairness_figures(campaign, progress)
    db.session.rollback()
    with part.open("wb") as out:
        pickle.dump(figures, out, protocol=pickle.HIGHEST_PROTOCOL)
    return Outcome(_place(part, job, ".pickle"), None)


def _publish(job: JobRecord, progress: Progress, part: Path) -> Outcome:
    """Publish the revision the organiser confirmed, in the state they confirmed (params: number, note,
    outstanding, state): the revision, its licences, its journal entries and the directors' mail are
    written in one transaction with the job's "done" (run_one commits them), so a worker killed midway
    leaves nothing and the next attempt publishes once. No progress report is committed once writing
    has begun (it would commit half a revision); the heartbeat thread keeps the job alive meanwhile."""
    from . import publication

    campaign = db.session.get(Campaign, job.campaign_id)
    actor = db.session.get(User, job.requested_by) if job.requested_by is not None else None
    if campaign is None or actor is None or not actor.active or actor.role != "organiser":
        raise Refused(JobError(N_("The organiser who confirmed this publication can no longer publish; "
                                  "confirm it again.")))
    number = int(job.params["number"])
    progress(0, 1, N_("Computing and freezing the results"), force=True)  # the last commit before writing
    try:
        revision = publication.publish(campaign, actor, str(job.params.get("note") or ""), number,
                                       outstanding=dict(job.params.get("outstanding") or {}),
                                       state=str(job.params["state"]))
    except RuleError as refusal:  # the results changed, published meanwhile, the stage moved on: said, not retried
        raise Refused(refusal) from None
    return Outcome(None, None, params={"revision": revision.number})


def _institution_import(job: JobRecord, progress: Progress, part: Path) -> Outcome:
    """Add a confirmed import's rows (params: token, rows, present), checked again, a chunk at a time: each chunk
    commits with the count added so far in the job's own row (under its claim), so a killed attempt's chunks
    stay added, are skipped by the next attempt, and are counted once. The rows' file is removed once done."""
    from . import institution_import as importer
    from . import institutions

    token, owner = str(job.params["token"]), job.requested_by
    pending = importer.load_pending(institutions.imports_dir(), token, owner, queued=True) if owner else None
    if pending is None:
        raise Refused(JobError(N_("The checked rows of this import are no longer kept: upload the file again.")))
    base = {k: v for k, v in job.params.items() if k not in ("added", "refusal")}
    added_before = int(job.params.get("added") or 0)

    def commit_chunk(added: int, total: int) -> None:
        taken = db.session.execute(sa.update(JobRecord).where(JobRecord.id == job.id, JobRecord.claim == progress.claim)
                                   .values(done=added, total=total, heartbeat_at=utcnow(),
                                           message=N_("Adding the institutions"), params={**base, "added": added}))
        if getattr(taken, "rowcount", 0) != 1:
            db.session.rollback()
            raise Superseded(job.id)
        db.session.commit()

    try:
        result = institutions.add_in_chunks(pending.rows, len(pending.present), added_before, commit_chunk)
    except institutions.ImportChanged:
        raise Refused(JobError(N_("Some rows no longer pass the check (the list or the rules changed since the "
                                  "preview); nothing more was added. Upload the file again to see why."))) from None
    return Outcome(None, None, params={"added": result.added, "skipped": result.skipped},
                   cleanup=lambda: importer.discard_pending(institutions.imports_dir(), token))


RUNNERS: dict[str, Runner] = {"edition_workbook": _edition_workbook, "answers": _answers, "fairness": _fairness,
                              "publish": _publish, "institution_import": _institution_import}
