"""Recomputing a national contest: the engine against a two-stage SQL aggregate of the same answers.

5,000 institutions x 5 channels x 3 contacts x 30 criteria = 2.25 million answers in SQLite.
Each timing is the best of several runs; the budget is a ratio to the SQL aggregate.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.pool import NullPool

from audit import create_app
from audit.extensions import db
from audit.models import Answer, Contact

from .report import Row

INSTITUTIONS = 5000
CHANNELS = ("visit", "phone", "email", "social", "website")
CONTACTS_PER_CHANNEL = 3
CRITERIA = 30
ORM_SAMPLE = 200  # institutions loaded as ORM objects; the time is scaled up to the whole contest

SQL_TWO_STAGE = sa.text("""
    SELECT institution_id, channel, AVG(ratio) FROM (
        SELECT c.institution_id, c.channel, SUM(a.earned) / SUM(a.possible) AS ratio
        FROM contact c JOIN answer a ON a.contact_id = c.id
        WHERE c.campaign_id = :campaign AND c.status = 'accepted'
        GROUP BY c.id, c.institution_id, c.channel
        HAVING SUM(a.possible) > 0
    ) per_contact
    GROUP BY institution_id, channel
""")


def best_of(fn: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def populate(conn: sa.Connection) -> None:
    rng = random.Random(1)
    conn.execute(sa.text("INSERT INTO rubric_version (hash, rubric_id, version, channel, source, created_at) "
                         "VALUES ('bench', 'bench', '1', 'visit', '', CURRENT_TIMESTAMP)"))
    conn.execute(sa.text("INSERT INTO campaign (id, name, year, status, threshold, missing_channel, "
                         "evidence_to_directors, created_at) "
                         "VALUES (1, 'Bench', 2026, 'review', 750, 'exclude', false, CURRENT_TIMESTAMP)"))
    for pos, channel in enumerate(CHANNELS):
        conn.execute(sa.text("INSERT INTO campaign_channel VALUES (1, :ch, 'bench', :w, 2, :p)"),
                     {"ch": channel, "w": 0.2, "p": pos})
    conn.execute(sa.text("INSERT INTO institution (id, name, category, city, region, channels, created_at) "
                         "VALUES (:id, :name, :cat, 'X', 'R', :chs, CURRENT_TIMESTAMP)"),
                 [{"id": i, "name": f"Inst {i}", "cat": ("a", "b", "c", "d")[i % 4],
                   "chs": '["visit","phone","email","social","website"]'} for i in range(1, INSTITUTIONS + 1)])
    contacts, answers = [], []
    cid = aid = 0
    for inst in range(1, INSTITUTIONS + 1):
        quality = rng.uniform(0.5, 0.98)
        for channel in CHANNELS:
            for _ in range(CONTACTS_PER_CHANNEL):
                cid += 1
                contacts.append({"id": cid, "inst": inst, "ch": channel})
                for k in range(CRITERIA):
                    aid += 1
                    na = rng.random() < 0.05
                    earned = 0.0 if na else float(2 if rng.random() < quality else 0)
                    critical = k == 0 and not na and earned == 0 and rng.random() < 0.05
                    answers.append((aid, cid, f"c{k}", "yes" if earned else "no", earned, 0.0 if na else 2.0, critical))
    conn.execute(sa.text("INSERT INTO contact (id, campaign_id, institution_id, channel, auditor_id, status, rubric_hash, "
                         "facts, scenario, created_at, updated_at, version) VALUES (:id, 1, :inst, :ch, 1, 'accepted', "
                         "'bench', '{}', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"), contacts)
    raw = conn.connection.driver_connection
    raw.executemany("INSERT INTO answer (id, contact_id, criterion_id, value, earned, possible, critical_failed) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)", answers)


def throwaway_app(tmp: str) -> Flask:
    """The app on a fresh SQLite file in a temporary folder: every benchmark's starting point."""
    return create_app({"INSTANCE_PATH": tmp, "SECRET_KEY": "bench",
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'bench.db'}",
                       "SQLALCHEMY_ENGINE_OPTIONS": {"poolclass": NullPool}})


@contextmanager
def national_contest(purpose: str) -> Iterator[Flask]:
    """A throwaway app holding the national contest, inside its app context."""
    with tempfile.TemporaryDirectory() as tmp:
        app = throwaway_app(tmp)
        with app.app_context():
            db.create_all()
            print(f"building {INSTITUTIONS:,} institutions x {len(CHANNELS)} channels x {CONTACTS_PER_CHANNEL} contacts "
                  f"x {CRITERIA} criteria {purpose}...", flush=True)
            with db.engine.begin() as conn:
                conn.exec_driver_sql("INSERT INTO user (id, email, name, role, active, created_at) "
                                     "VALUES (1, 'a@b', 'A', 'auditor', 1, CURRENT_TIMESTAMP)")
                populate(conn)
            with db.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
                conn.commit()
            yield app


def run() -> list[Row]:
    from audit import services

    with national_contest(""):

        def sql_aggregate() -> None:
            db.session.execute(SQL_TWO_STAGE, {"campaign": 1}).all()
            db.session.rollback()

        def engine_recompute() -> None:
            standings = services.compute_standings(1)
            assert len(standings) == INSTITUTIONS
            db.session.rollback()

        def orm_per_answer() -> None:
            contacts = db.session.scalars(sa.select(Contact).where(Contact.institution_id <= ORM_SAMPLE)
                                          .options(sa.orm.selectinload(Contact.answers))).all()
            totals = [(c.id, sum(a.earned for a in c.answers), sum(a.possible for a in c.answers)) for c in contacts]
            assert len(totals) == ORM_SAMPLE * len(CHANNELS) * CONTACTS_PER_CHANNEL
            db.session.rollback()
            db.session.expunge_all()

        baseline = best_of(sql_aggregate)
        engine = best_of(engine_recompute)
        orm = best_of(orm_per_answer, runs=2) * INSTITUTIONS / ORM_SAMPLE
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) == \
            INSTITUTIONS * len(CHANNELS) * CONTACTS_PER_CHANNEL * CRITERIA
    return [
        Row("recompute: two-stage SQL aggregate (baseline)", ms(baseline), 1.0, None),
        Row("recompute: engine (SQL per contact + engine)", ms(engine), engine / baseline, 1.5),
        Row(f"recompute: ORM object per answer (x{INSTITUTIONS // ORM_SAMPLE} of a sample)", ms(orm), orm / baseline, None),
    ]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"
