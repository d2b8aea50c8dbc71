"""The pages at national size: server time and HTML size of each, for organisers, directors and the public.

5,000 institutions built by bench/national.py (one director each, a contact per channel and one more
waiting for review, revision 1 published) in a SQLite file; each page is asked for with the Flask
test client, logged in as its reader (rendering included, no network). Each page is timed on its first
view in a warm process that has nothing of the edition in memory (reading what the database keeps: the
live result's snapshot the job worker stored, a revision's figures) and on repeat views (best of a few);
the budget holds for the first view. The ranking is also timed computed in the request, as when no worker has rebuilt it yet. Budgets: organiser pages under 1 s and
1 MB of HTML, a director's scorecard and the public pages under 100 ms.
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.pool import NullPool

from audit import create_app, fairness_data, result_cache
from audit.extensions import db

from . import load, national
from .engine import throwaway_app
from .report import Row

INSTITUTIONS = 5000
SIZE_BUDGET_MB = 1.0
RUNS = 3
ORGANISER, DIRECTOR, PUBLIC = "organiser", "director", "public"
BUDGET_S = {ORGANISER: 1.0, DIRECTOR: 0.1, PUBLIC: 0.1}
PAGES = {
    "ranking": (ORGANISER, "/organiser/campaigns/{c}/ranking"),
    "revision": (ORGANISER, "/organiser/campaigns/{c}/revisions/{r}"),
    "review queue": (ORGANISER, "/organiser/campaigns/{c}/review"),
    "progress": (ORGANISER, "/organiser/campaigns/{c}/progress"),
    "people (directors)": (ORGANISER, "/organiser/people?role=director"),
    "director's scorecard": (DIRECTOR, "/director/campaigns/{c}/institutions/{i}"),
    "public registry": (PUBLIC, "/registry"),
    "public method page": (PUBLIC, "/editions/{c}/method"),
}


def _logged_in(client: FlaskClient, email: str) -> FlaskClient:
    login = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
    client.post("/login", data={"email": email, "password": national.PASSWORD, "csrf_token": token})
    return client


def run() -> list[Row]:
    """The pages on SQLite, then on a throwaway PostgreSQL server when its binaries are installed."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows += _pages(throwaway_app(tmp), "SQLite")
    if load.postgres_bin() is not None:
        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp).chmod(0o755)  # the database server's user reads through it
            with load.throwaway_postgres(Path(tmp)) as (url, _pid):
                rows += _pages(create_app({"INSTANCE_PATH": tmp, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                                           "SQLALCHEMY_ENGINE_OPTIONS": {"poolclass": NullPool}}), "PostgreSQL")
    return rows


def _pages(app: Flask, database: str) -> list[Row]:
    with app.app_context():
        db.create_all()
        print(f"building a national edition of {INSTITUTIONS:,} institutions for the pages on {database}...",
              flush=True)
        edition = national.build(INSTITUTIONS)
        db.session.remove()
    clients = {ORGANISER: _logged_in(app.test_client(), edition.organiser),
               DIRECTOR: _logged_in(app.test_client(), edition.director), PUBLIC: app.test_client()}
    rows = []
    ranking = PAGES["ranking"][1].format(c=edition.campaign_id)
    start = time.perf_counter()
    assert clients[ORGANISER].get(ranking).status_code == 200
    computed = time.perf_counter() - start
    rows.append(Row(f"pages ({database}): ranking, computed in the request ({INSTITUTIONS:,} institutions)",
                    f"{computed * 1000:,.0f} ms", computed / BUDGET_S[ORGANISER], None,
                    note="no worker yet; after a change the worker rebuilds it within seconds"))
    with app.app_context():  # a fresh process: nothing in memory, the snapshot the worker stored in the database
        result_cache.forget()
        fairness_data.refresh_live_rankings()
        result_cache.forget()
    for name, (reader, url) in PAGES.items():
        url = url.format(c=edition.campaign_id, r=edition.revision, i=edition.institution_id)
        assert clients[reader].get(url).status_code == 200  # the process warmed: templates compiled, locales loaded
        with app.app_context():
            result_cache.forget()  # ... but nothing of this edition in memory, as in another web process
        times, size = [], 0
        for _ in range(RUNS):
            start = time.perf_counter()
            response = clients[reader].get(url)
            times.append(time.perf_counter() - start)
            assert response.status_code == 200, (url, response.status_code)
            size = len(response.data)
        first, repeat, budget = times[0], min(times[1:]), BUDGET_S[reader]
        rows += [Row(f"pages ({database}): {name}, first view ({INSTITUTIONS:,} institutions)", f"{first * 1000:,.0f} ms",
                     first / budget, 1.0, note=f"ratio to {budget:g} s; repeat view {repeat * 1000:,.0f} ms"),
                 Row(f"pages ({database}): {name}, HTML", f"{size / 1024:,.0f} KB", size / 1024 / 1024 / SIZE_BUDGET_MB, 1.0,
                     note=f"ratio to {SIZE_BUDGET_MB:g} MB")]
    return rows
