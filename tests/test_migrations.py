"""Alembic migrations build the same schema as the models."""

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy.pool import NullPool

from audit import ROOT, create_app
from audit.extensions import db

from .conftest import database_url


@contextmanager
def empty_database(tmp_path) -> Iterator[None]:
    """An app context on a database with no tables (migrations start from here); emptied again afterwards."""
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "t",
                      "SQLALCHEMY_DATABASE_URI": database_url(tmp_path),
                      "SQLALCHEMY_ENGINE_OPTIONS": {"poolclass": NullPool}})
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        yield
        db.session.remove()
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))


def not_huey(name, type_, parent_names):
    """huey's queue tables (audit/jobs.py) are huey's own, made by huey, not by a migration."""
    return not (type_ == "table" and name and name.startswith("huey_"))


def test_upgrade_from_empty_matches_the_models(tmp_path):
    with empty_database(tmp_path):
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"include_name": not_huey}), db.metadata)
            assert diff == []
            head = ScriptDirectory(str(ROOT / "migrations")).get_current_head()
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == head


def test_0007_closes_duplicate_open_appeals_before_holding_one_per_contact(tmp_path):
    """Appeals filed twice by the race the index now prevents are kept, closed as duplicates, and logged."""
    from audit.models import Appeal, AuditEvent, Contact

    with empty_database(tmp_path):
        upgrade(revision="0006")
        # the user table as it was at 0006 (the model has columns added since)
        director_id = db.session.execute(sa.insert(sa.table("user", sa.column("id"), sa.column("email"), sa.column("name"),
                                                            sa.column("role"), sa.column("active"), sa.column("created_at")))
                                         .values(email="d@example.org", name="D", role="director", active=True,
                                                 created_at=sa.func.current_timestamp())
                                         .returning(sa.column("id"))).scalar_one()
        # the institution table as it was at 0006 (contact details came with 0012)
        institution_id = db.session.execute(sa.insert(sa.table(
            "institution", sa.column("name"), sa.column("category"), sa.column("city"), sa.column("region"),
            sa.column("channels"), sa.column("created_at"), sa.column("id")))
            .values(name="I", category="utility", city="C", region="R", channels="[]",
                    created_at=sa.func.current_timestamp()).returning(sa.column("id"))).scalar_one()
        # the rubric_version table as it was at 0006 too (retired_at came with 0013)
        db.session.execute(sa.insert(sa.table("rubric_version", sa.column("hash"), sa.column("rubric_id"),
                                              sa.column("version"), sa.column("channel"), sa.column("source"),
                                              sa.column("created_at")))
                           .values(hash="0" * 64, rubric_id="phone", version="1", channel="phone", source="",
                                   created_at=sa.func.current_timestamp()))
        rubric = SimpleNamespace(hash="0" * 64)
        # the campaign and appeal tables as they were at 0006, too (0011 added columns)
        campaign_id = db.session.execute(sa.insert(sa.table(
            "campaign", sa.column("id"), sa.column("name"), sa.column("year"), sa.column("status"),
            sa.column("threshold"), sa.column("missing_channel"), sa.column("evidence_to_directors"),
            sa.column("created_at"))).values(
            name="E", year=2025, status="published", threshold=800.0, missing_channel="exclude",
            evidence_to_directors=False, created_at=sa.func.current_timestamp()).returning(sa.column("id"))).scalar_one()
        db.session.flush()
        contact = Contact(campaign_id=campaign_id, institution_id=institution_id, channel="phone",
                          auditor_id=director_id, rubric_hash=rubric.hash)
        db.session.add(contact)
        db.session.flush()
        appeal_table = sa.table("appeal", sa.column("campaign_id"), sa.column("contact_id"), sa.column("institution_id"),
                                sa.column("director_id"), sa.column("reason"), sa.column("status"),
                                sa.column("created_at"))
        for reason in ("Zamknięte.", "Zamknięte.", "Inny"):
            db.session.execute(sa.insert(appeal_table).values(
                campaign_id=campaign_id, contact_id=contact.id, institution_id=institution_id, director_id=director_id,
                reason=reason, status="open", created_at=sa.func.current_timestamp()))
        db.session.commit()
        contact_id = contact.id
        db.session.remove()

        upgrade()
        appeals = db.session.scalars(sa.select(Appeal).order_by(Appeal.id)).all()
        assert [a.status for a in appeals] == ["open", "rejected", "rejected"]  # none deleted
        assert all(f"Duplicate of appeal {appeals[0].id}" in a.resolution for a in appeals[1:])
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).filter_by(
            action="appeal_rejected", object_id=contact_id)) == 2


def test_0016_adds_plans_in_public_off_for_existing_editions_and_downgrades(tmp_path):
    """An edition that exists before 0016 keeps its plans out of public; the downgrade drops the choice."""
    from flask_migrate import downgrade

    with empty_database(tmp_path):
        upgrade(revision="0014")
        campaign = sa.table("campaign", sa.column("id"), sa.column("name"), sa.column("year"), sa.column("status"),
                            sa.column("threshold"), sa.column("missing_channel"), sa.column("evidence_to_directors"),
                            sa.column("created_at"))
        db.session.execute(sa.insert(campaign).values(
            name="E", year=2025, status="published", threshold=800.0, missing_channel="exclude",
            evidence_to_directors=False, created_at=sa.func.current_timestamp()))
        db.session.commit()
        db.session.remove()

        upgrade(revision="0016")
        with db.engine.begin() as conn:
            assert conn.execute(sa.text("SELECT plans_in_public FROM campaign")).scalar_one() == 0  # False, or SQLite's 0
            conn.execute(sa.text("UPDATE campaign SET plans_in_public = :on"), {"on": True})
        downgrade(revision="0014")
        with db.engine.connect() as conn:
            assert "plans_in_public" not in {c["name"] for c in sa.inspect(conn).get_columns("campaign")}
            assert conn.execute(sa.text("SELECT name FROM campaign")).scalar_one() == "E"  # the edition stays
        upgrade()
