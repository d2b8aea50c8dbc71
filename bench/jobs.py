"""The background jobs on a national edition: the fairness analysis and both exports, as a worker runs them.

5,000 institutions built by bench/national.py (as bench/pages.py builds them) in a SQLite file; each
job is asked for as the organiser's button asks (audit.job_records.request, committed) and run by
`job_records.run_due()`, the function a worker's task calls, in this process (huey's own hand-over
is not what is timed). Time: wall clock of the run, progress reports and the file included.
Memory: the peak of what the job allocates (tracemalloc), in a second run of the same job, since tracing
slows the work it measures. The resident set is no measure here: the process has just built the edition, and
the job reuses the memory the build freed without the resident set growing (it read 0 MB whatever a job held).
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
from collections.abc import Callable

from audit import job_records
from audit.extensions import db
from audit.models import Campaign, JobRecord

from . import national
from .engine import throwaway_app
from .report import Row

INSTITUTIONS = 5000
BUDGETS_S = {"answers": 240.0, "edition_workbook": 30.0, "fairness": 30.0}
"""The fairness analysis in seconds, not minutes; the exports as fast as the writer allows."""
MEMORY_BUDGET_MB = 200.0
"""Memory bounded whatever the edition's size: rows are streamed, the workbook written once."""
LABELS = {"answers": "raw answers export", "edition_workbook": "edition workbook export",
          "fairness": "fairness analysis"}


def _timed(work: Callable[[], object]) -> tuple[object, float]:
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def _peak_mb(work: Callable[[], object]) -> tuple[object, float]:
    """(what work returned, MB at the peak of what it allocated and had not yet freed)."""
    tracemalloc.start()
    try:
        result = work()
        return result, tracemalloc.get_traced_memory()[1] / 1024 / 1024
    finally:
        tracemalloc.stop()


def _run_job(campaign_id: int, kind: str, params: dict[str, object],
             measure: Callable[[Callable[[], object]], tuple[object, float]]) -> tuple[JobRecord, float]:
    """Ask for a job and run it as a worker does; the finished job and what `measure` read of its run."""
    job = job_records.request(kind, db.session.get(Campaign, campaign_id), None, params)
    db.session.commit()
    job_id = job.id
    ran, figure = measure(lambda: job_records.run_due(limit=1).ran)
    done = db.session.get(JobRecord, job_id)
    assert done is not None and done.state == "done", (kind, ran, done and done.error)
    return done, figure


def run() -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        app = throwaway_app(tmp)
        with app.app_context():
            db.create_all()
            print(f"building a national edition of {INSTITUTIONS:,} institutions for the background jobs...",
                  flush=True)
            edition = national.build(INSTITUTIONS)
            db.session.remove()
            for kind, params in (("answers", {"language": "pl"}),
                                 ("edition_workbook", {"language": "pl", "revision": edition.revision}),
                                 ("fairness", {})):
                done, took = _run_job(edition.campaign_id, kind, params, _timed)
                size = (job_records.folder() / str(done.result_path)).stat().st_size / 1024 / 1024
                db.session.remove()
                _again, peak = _run_job(edition.campaign_id, kind, params, _peak_mb)
                db.session.remove()
                rows += [Row(f"jobs: {LABELS[kind]} ({INSTITUTIONS:,} institutions, SQLite)", f"{took:,.1f} s",
                             took / BUDGETS_S[kind], 1.0, note=f"ratio to {BUDGETS_S[kind]:g} s; file {size:,.1f} MB"),
                         Row(f"jobs: {LABELS[kind]}, peak memory", f"{peak:,.0f} MB",
                             peak / MEMORY_BUDGET_MB, 1.0, note=f"ratio to {MEMORY_BUDGET_MB:g} MB; traced, second run")]
    return rows


if __name__ == "__main__":
    from .report import print_table

    print_table(run())
