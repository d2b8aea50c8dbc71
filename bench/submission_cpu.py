"""The app's CPU per complete submission, in process, with a split by step (not part of `make bench`).

    .venv/bin/python -m bench.submission_cpu            # N=900 submissions by default

The load check's database (a throwaway PostgreSQL server, or BENCH_DATABASE_URL) is seeded as for
`bench/load.py`; ten auditors log in through the Flask test client, then post complete submissions
of the real rubrics, each making a new contact. It prints the process's CPU time per submission
(medians of rounds of 100) and the CPU spent inside each step of the save. The load check's
figures move by a third between runs on a shared machine: to compare two versions of the code, run
this in two checkouts at the same moment (each from its own folder, which goes first on sys.path).
"""

from __future__ import annotations

import collections
import functools
import os
import re
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from . import load

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def main() -> None:
    total = int(os.environ.get("N", "900"))
    with tempfile.TemporaryDirectory(prefix="audit-submission-cpu.") as name:
        tmp = Path(name)
        tmp.chmod(0o755)  # the database server's user reads through it
        with load.throwaway_database(tmp) as database:
            plan = load.seed(database.url, tmp, total // 10 + 5)
            os.environ.update(DATABASE_URL=database.url, SECRET_KEY="bench", AUDIT_ENV="production",
                              EVIDENCE_DIR=str(tmp / "evidence"))
            from audit import create_app

            app = create_app()
            auditors = [_logged_in(app, email, work) for email, work in plan.auditors[:10]]
            spent = _split(app)
            times: list[float] = []

            def submit(n: int) -> None:
                client, token, work, cookies = auditors[n % len(auditors)]
                assignment_id, channel = work.pop()
                body = {**plan.payloads[channel][n % load.VARIANTS], "client_id": str(uuid.uuid4()), "csrf_token": token}
                start = time.process_time()
                response = client.post(f"/auditor/assignments/{assignment_id}", data=body)
                times.append(time.process_time() - start)
                assert response.status_code == 302, (response.status_code, response.text[:500])
                client._cookies.clear()  # as the load check: the "sent" flash is never read, the login's cookie kept
                client._cookies.update(cookies)

            for n in range(50):  # warm up: caches, prepared statements, the pool
                submit(n)
            times.clear()
            spent.clear()
            for n in range(50, total - 60):
                submit(n)
            for step, seconds in spent.most_common():
                print(f"{seconds / len(times) * 1000:7.3f} ms  {step}")
            rounds = [statistics.mean(times[k:k + 100]) * 1000 for k in range(0, len(times) - 99, 100)]
            print("app CPU per submission, rounds of 100 (ms):", " ".join(f"{r:.2f}" for r in rounds),
                  f"; median {statistics.median(rounds):.2f}")


def _logged_in(app: Any, email: str, work: list[tuple[int, str]]) -> tuple[Any, str, list[tuple[int, str]], dict]:
    client = app.test_client()
    client.environ_base.update({"wsgi.url_scheme": "https", "HTTP_REFERER": "https://localhost/"})
    token = CSRF.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
    response = client.post("/login", data={"email": email, "password": load.PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.status_code
    token = CSRF.search(client.get(f"/auditor/assignments/{work[0][0]}").text).group(1)  # type: ignore[union-attr]
    return client, token, list(work), dict(client._cookies)


def _split(app: Any) -> collections.Counter[str]:
    """Wrap the steps of a save to count the CPU spent in each (a step's time includes the steps it calls)."""
    import flask.sessions

    from audit import fieldwork, journal, services, sessions
    from audit.extensions import csrf, db
    from audit.views import auditor

    spent: collections.Counter[str] = collections.Counter()

    def wrap(owner: Any, name: str, label: str) -> None:
        inner = getattr(owner, name)

        @functools.wraps(inner)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return inner(*args, **kwargs)
            finally:
                spent[label] += time.process_time() - start
        setattr(owner, name, timed)

    for owner, name, label in [
            (app, "wsgi_app", "the request"), (app, "preprocess_request", "before the view"),
            (app, "dispatch_request", "the view"), (app, "process_response", "after the view"),
            (sessions, "user_and_session", "  the person and session"), (csrf, "protect", "  the CSRF check"),
            (auditor, "_own_assignment", "  the assignment and what is stored"),
            (auditor, "_posted_form", "  the form"), (auditor, "_save", "  the save and commit"),
            (fieldwork, "save_contact", "    the save"), (db.session, "commit", "    the commit"),
            (services, "insert_answer_rows", "      the answers (SQLite)"), (journal, "append", "      the log (SQLite)"),
            (flask.sessions.SecureCookieSessionInterface, "open_session", "  the session cookie read"),
            (flask.sessions.SecureCookieSessionInterface, "save_session", "  the session cookie written")]:
        wrap(owner, name, label)
    return spent


if __name__ == "__main__":
    main()
