"""A director's dashboard (the scorecard with its charts): bytes on the wire, first and repeat view.

First view: the gzip size of the page and every asset it loads. Repeat view: the page again,
plus any asset a browser may not keep (static URLs carry a content hash and are cached
"immutable" for a year, so a repeat view should download only the page). The full plotly.js
that the Python package bundles is shown for comparison.
"""

from __future__ import annotations

import gzip
import re
import tempfile
from pathlib import Path

import plotly
import sqlalchemy as sa

from audit.demo import load_demo
from audit.extensions import db
from audit.models import User
from audit.scorecard import published_editions_of

from .engine import throwaway_app
from .report import Row

FIRST_VIEW_BUDGET_KB = 600
REPEAT_VIEW_BUDGET_KB = 60


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        app = throwaway_app(tmp)
        with app.app_context():
            db.create_all()
            load_demo()
            director = db.session.scalar(sa.select(User).filter_by(email="director@demo.test"))
            institution = director.institutions[0]
            campaign_id = published_editions_of(institution.id)[0][0].id
            url = f"/director/campaigns/{campaign_id}/institutions/{institution.id}"
        client = app.test_client()
        login = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
        client.post("/login", data={"email": "director@demo.test", "password": "demo", "csrf_token": token})
        page = client.get(url)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        first = repeat = len(gzip.compress(html.encode(), 6))
        for asset in sorted(set(re.findall(r'(?:href|src)="(/static/[^"]+)"', html))):
            with client.get(asset) as response:
                assert response.status_code == 200, asset
                size = len(gzip.compress(response.data, 6))
                first += size
                if "immutable" not in response.headers.get("Cache-Control", ""):
                    repeat += size  # a browser would ask again
    full = len(gzip.compress((Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes(), 6))
    return [
        Row("dashboard: full plotly.js alone (for comparison)", f"{full / 1024:.0f} KB", full / 1024 / FIRST_VIEW_BUDGET_KB,
            None, note=f"ratio to {FIRST_VIEW_BUDGET_KB} KB"),
        Row("dashboard: first view, gzip (page + assets)", f"{first / 1024:.0f} KB", first / 1024 / FIRST_VIEW_BUDGET_KB,
            1.0, note=f"ratio to {FIRST_VIEW_BUDGET_KB} KB"),
        Row("dashboard: repeat view, gzip (assets cached)", f"{repeat / 1024:.1f} KB",
            repeat / 1024 / REPEAT_VIEW_BUDGET_KB, 1.0, note=f"ratio to {REPEAT_VIEW_BUDGET_KB} KB"),
    ]
