"""Rank uncertainty in the scoring batch: a national recompute with and without the bootstrap.

The national contest of bench/engine.py (5,000 institutions x 5 channels x 3 contacts x 30
criteria, in SQLite) is recomputed twice: the engine alone (services.compute_standings), and the
engine followed by the bootstrap of every institution's points and rank (200 replicates), as the
ranking page computes it (fairness_data.standings_with_uncertainty). Each timing is
the best of several runs; the budget is a ratio to the recompute without the bootstrap.
"""

from __future__ import annotations

from audit import fairness
from audit.extensions import db

from .engine import INSTITUTIONS, best_of, ms, national_contest
from .report import Row

BUDGET = 3.0
"""The bootstrap may at most triple a national recompute."""


def run() -> list[Row]:
    from audit import services
    from audit.fairness_data import standings_with_uncertainty

    with national_contest("for the bootstrap "):
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
