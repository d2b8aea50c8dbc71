"""The organiser's long pages on a national edition: server time and HTML size of each first page.

5,000 institutions built by bench/national.py (one director each, a contact per channel and one more
waiting for review, revision 1 published) in a SQLite file; each page is asked for with the Flask
test client, logged in as the organiser. Time: the best of a few requests (rendering included, no
network). Budgets: under 1 s and under 1 MB of HTML a page.
"""

from __future__ import annotations

import re
import tempfile
import time

from audit.extensions import db

from . import national
from .engine import throwaway_app
from .report import Row

INSTITUTIONS = 5000
TIME_BUDGET_S = 1.0
SIZE_BUDGET_MB = 1.0
RUNS = 3
PAGES = {
    "ranking": "/organiser/campaigns/{c}/ranking",
    "revision": "/organiser/campaigns/{c}/revisions/{r}",
    "review queue": "/organiser/campaigns/{c}/review",
    "progress": "/organiser/campaigns/{c}/progress",
    "people (directors)": "/organiser/people?role=director",
}


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        app = throwaway_app(tmp)
        with app.app_context():
            db.create_all()
            print(f"building a national edition of {INSTITUTIONS:,} institutions for the organiser's pages...",
                  flush=True)
            edition = national.build(INSTITUTIONS)
            db.session.remove()
        client = app.test_client()
        login = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
        client.post("/login", data={"email": edition.organiser, "password": national.PASSWORD, "csrf_token": token})
        rows = []
        for name, url in PAGES.items():
            url = url.format(c=edition.campaign_id, r=edition.revision)
            best, size = float("inf"), 0
            for _ in range(RUNS):
                start = time.perf_counter()
                response = client.get(url)
                best = min(best, time.perf_counter() - start)
                assert response.status_code == 200, (url, response.status_code)
                size = len(response.data)
            rows += [Row(f"pages: {name}, server time ({INSTITUTIONS:,} institutions)", f"{best * 1000:,.0f} ms",
                         best / TIME_BUDGET_S, 1.0, note=f"ratio to {TIME_BUDGET_S:g} s"),
                     Row(f"pages: {name}, HTML", f"{size / 1024:,.0f} KB", size / 1024 / 1024 / SIZE_BUDGET_MB, 1.0,
                         note=f"ratio to {SIZE_BUDGET_MB:g} MB")]
    return rows
