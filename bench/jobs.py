"""The background jobs on a national edition: the fairness analysis and both exports, as a worker runs them.

5,000 institutions built by bench/national.py (as bench/pages.py builds them) in a SQLite file; each
job is asked for as the organiser's button asks (audit.job_records.request, committed) and run by
`job_records.run_due()`, the function a worker's task calls, in this process (huey's own hand-over
is not what is timed). Time: wall clock of the run, progress reports and the file included.
Memory: the largest resident set seen during the job (sampled every 50 ms from /proc) minus the
resident set when it started.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
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


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def _peak_growth(work: Callable[[], object]) -> tuple[object, float, float]:
    """(what work returned, seconds, MB of peak resident growth over the start)."""
    start_rss, peak, stop = _rss_mb(), [0.0], threading.Event()

    def sample() -> None:
        while not stop.wait(0.05):
            peak[0] = max(peak[0], _rss_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    try:
        result = work()
    finally:
        took = time.perf_counter() - start
        stop.set()
        sampler.join()
    return result, took, max(0.0, max(peak[0], _rss_mb()) - start_rss)


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
                job = job_records.request(kind, db.session.get(Campaign, edition.campaign_id), None, params)
                db.session.commit()
                job_id = job.id
                ran, took, grown = _peak_growth(lambda: job_records.run_due(limit=1).ran)
                done = db.session.get(JobRecord, job_id)
                assert done is not None and done.state == "done", (kind, ran, done and done.error)
                size = (job_records.folder() / str(done.result_path)).stat().st_size / 1024 / 1024
                db.session.remove()
                rows += [Row(f"jobs: {LABELS[kind]} ({INSTITUTIONS:,} institutions, SQLite)", f"{took:,.1f} s",
                             took / BUDGETS_S[kind], 1.0, note=f"ratio to {BUDGETS_S[kind]:g} s; file {size:,.1f} MB"),
                         Row(f"jobs: {LABELS[kind]}, peak memory growth", f"{grown:,.0f} MB",
                             grown / MEMORY_BUDGET_MB, 1.0, note=f"ratio to {MEMORY_BUDGET_MB:g} MB")]
    return rows


if __name__ == "__main__":
    from .report import print_table

    print_table(run())
