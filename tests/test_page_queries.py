"""SQL statements per page stay flat as an edition grows: no page asks the database once per row.

The same national edition (bench/national.py) is built at 50 and at 500 institutions; every
organiser page of an edition, the director's scorecard and the public registry and method page
(with improvement plans marked) are opened on both, counting the
statements sent to the database (a `before_cursor_execute` listener on the engine). A page whose
count grows with the rows (an N+1: a lazy load per row in the template) fails here.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from audit.extensions import db
from bench import national

from .conftest import Auth, make_app

SIZES = (50, 500)
SLACK = 3
"""Statements a page may add between the two sizes (a second page of results, say), never one per row."""

PAGES = {
    "overview": "/organiser/campaigns/{c}",
    "ranking": "/organiser/campaigns/{c}/ranking",
    "revision": "/organiser/campaigns/{c}/revisions/{r}",
    "review queue": "/organiser/campaigns/{c}/review",
    "progress": "/organiser/campaigns/{c}/progress",
    "assignments": "/organiser/campaigns/{c}/assignments",
    "appeals": "/organiser/campaigns/{c}/appeals",
    "log": "/organiser/campaigns/{c}/log",
    "fairness": "/organiser/campaigns/{c}/fairness",
    "explanation": "/organiser/campaigns/{c}/institutions/{i}",
    "people: directors": "/organiser/people?role=director",
    "people: auditors": "/organiser/people?role=auditor",
    "institutions": "/organiser/institutions",
}
DIRECTOR_PAGES = {"director's scorecard": "/director/campaigns/{c}/institutions/{i}"}
PUBLIC_PAGES = {"public registry": "/registry", "public registry, one edition": "/registry?edition={c}",
                "public method page": "/editions/{c}/method"}
"""No login; the edition shows improvement plans in public, so the registry asks whether each holder has one."""


def _counts(tmp_path, institutions: int) -> dict[str, int]:
    app = make_app(tmp_path / str(institutions))
    try:
        with app.app_context():
            edition = national.build(institutions)
            db.session.remove()
        fill = {"c": edition.campaign_id, "r": edition.revision, "i": edition.institution_id}
        counts: dict[str, int] = {}
        for login, pages in ((edition.organiser, PAGES), (edition.director, DIRECTOR_PAGES), (None, PUBLIC_PAGES)):
            client = app.test_client()
            if login is not None:
                assert Auth(client).login(login, national.PASSWORD).status_code == 302
            for name, url in pages.items():
                counts[name] = _statements(app, client, url.format(**fill))
        return counts
    finally:
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


def _statements(app, client, url: str) -> int:
    seen = []
    with app.app_context():
        engine = db.engine

    def count(*_args: object) -> None:
        seen.append(1)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, (url, response.status_code)
    return len(seen)


@pytest.fixture(scope="module")
def counts(tmp_path_factory) -> dict[int, dict[str, int]]:
    tmp = tmp_path_factory.mktemp("queries")
    return {size: _counts(tmp, size) for size in SIZES}


@pytest.mark.parametrize("page", [*PAGES, *DIRECTOR_PAGES, *PUBLIC_PAGES])
def test_statements_per_page_do_not_grow_with_the_edition(counts, page):
    small, large = counts[SIZES[0]][page], counts[SIZES[1]][page]
    assert large <= small + SLACK, f"{page}: {small} statements at {SIZES[0]} institutions, {large} at {SIZES[1]}"
