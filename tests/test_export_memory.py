"""The national exports' memory stays flat: five times the institutions, far less than five times the peak.

The exports keep two buffers of a fixed size, bounded whatever the edition's size: a chunk of a revision's rows
(standings.published_chunks) and a sheet's first rows for its column widths (exports.WIDTH_SAMPLE). At their real
sizes (500 and 2,000 rows) both test editions fit in them whole, so the buffers would grow with the edition here
and hide what they are for; the test makes them small, so both editions fill them and what is left to grow is
what the exports keep per institution.
"""

from __future__ import annotations

import functools
import tracemalloc
from collections.abc import Callable

import pytest
from flask_babel import force_locale

from audit import exports, result_cache, standings
from audit.extensions import db
from audit.models import Campaign, Revision
from bench import national

from .conftest import make_app

SMALL, LARGE = 200, 1000
BUFFERED_ROWS = 50


def _peak(work: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _peaks(tmp_path, institutions: int) -> tuple[int, int]:
    """Peak traced bytes of the edition workbook and of the raw answers, each written as its job writes it."""
    app = make_app(tmp_path / str(institutions))
    try:
        with app.app_context():
            built = national.build(institutions)
            db.session.remove()
            campaign = db.session.get(Campaign, built.campaign_id)
            revision = db.session.query(Revision).filter_by(campaign_id=built.campaign_id).one()

            def edition() -> None:
                with force_locale("pl"):
                    loaded = exports.load_edition(campaign, revision)
                    with (tmp_path / "edition.xlsx").open("wb") as out:
                        exports.write_tables(exports.edition_tables(loaded), exports.edition_properties(loaded), out)

            def answers() -> None:
                with force_locale("pl"), (tmp_path / "answers.xlsx").open("wb") as out:
                    exports.write_answers("x", (row for chunk in exports.answer_chunks(campaign.id) for row in chunk),
                                          out)
            result_cache.forget()
            return _peak(edition), _peak(answers)
    finally:
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


@pytest.fixture
def small_buffers(monkeypatch):
    monkeypatch.setattr(exports, "WIDTH_SAMPLE", BUFFERED_ROWS)
    monkeypatch.setattr(standings, "published_chunks",
                        functools.partial(standings.published_chunks, chunk=BUFFERED_ROWS))


def test_export_memory_grows_far_less_than_the_edition(tmp_path, small_buffers):
    """Measured to a file as the jobs write, 200 -> 1,000 institutions, with buffers of 50 rows: the edition
    workbook's peak grows 2.1 -> 4.5 MB, 3.0 KB per added institution: what the workbook keeps per institution
    (one array of criteria shares, its interval, name and city, place in the order, the ids of the contacts the
    revision counted). Holding the sheets' rows instead (Rows made lists) grows it 2.7 -> 7.9 MB, 6.5 KB per
    institution; keeping the contacts as two sets instead of sorted arrays, 4.3 KB. The raw answers stay at
    19 -> 20 MB, streamed in chunks of contacts whatever the edition's size."""
    small_edition, small_answers = _peaks(tmp_path, SMALL)
    large_edition, large_answers = _peaks(tmp_path, LARGE)
    per_institution = (large_edition - small_edition) / (LARGE - SMALL)
    assert per_institution < 4500, (small_edition, large_edition)
    assert large_answers < 1.5 * small_answers, (small_answers, large_answers)
