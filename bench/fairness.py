"""Rank uncertainty in the scoring batch: a national recompute with and without the bootstrap.

The national contest of bench/engine.py (5,000 institutions x 5 channels x 3 contacts x 30
criteria, in SQLite) is recomputed twice: the engine alone (services.compute_standings), and the
engine followed by the bootstrap of every institution's points and rank (200 replicates), as the
ranking page computes it (views.organiser.fairness.standings_with_uncertainty). Each timing is
the best of several runs; the budget is a ratio to the recompute without the bootstrap.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy.pool import NullPool

from audit import create_app, fairness
from audit.extensions import db

from .engine import CHANNELS, CONTACTS_PER_CHANNEL, INSTITUTIONS, best_of, ms, populate
from .report import Row

BUDGET = 3.0
"""The bootstrap may at most triple a national recompute."""


def run() -> list[Row]:
    from audit import services
    from audit.views.organiser.fairness import standings_with_uncertainty

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"INSTANCE_PATH": tmp, "SECRET_KEY": "bench",
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'bench.db'}",
                          "SQLALCHEMY_ENGINE_OPTIONS": {"poolclass": NullPool}})
        with app.app_context():
            db.create_all()
            print(f"building {INSTITUTIONS:,} institutions x {len(CHANNELS)} channels x {CONTACTS_PER_CHANNEL} contacts "
                  "for the bootstrap ...", flush=True)
            with db.engine.begin() as conn:
                conn.exec_driver_sql("INSERT INTO user (id, email, name, role, active, created_at) "
                                     "VALUES (1, 'a@b', 'A', 'auditor', 1, CURRENT_TIMESTAMP)")
                populate(conn)
            with db.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
                conn.commit()

            def recompute() -> None:
                assert len(services.compute_standings(1)) == INSTITUTIONS
                db.session.rollback()

            def recompute_with_bootstrap() -> None:
                standings, intervals = standings_with_uncertainty(1)
                assert len(intervals) == len(standings) == INSTITUTIONS
                db.session.rollback()

            without = best_of(recompute)
            with_bootstrap = best_of(recompute_with_bootstrap)
    return [
        Row("recompute without the bootstrap (baseline)", ms(without), 1.0, None),
        Row(f"recompute + bootstrap of points and ranks (B={fairness.REPLICATES})", ms(with_bootstrap),
            with_bootstrap / without, BUDGET),
    ]
