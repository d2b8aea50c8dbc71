"""Alembic migrations build the same schema as the models."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy.pool import NullPool

from audit import ROOT, create_app
from audit.extensions import db

from .conftest import database_url


def test_upgrade_from_empty_matches_the_models(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "t",
                      "SQLALCHEMY_DATABASE_URI": database_url(tmp_path),
                      "SQLALCHEMY_ENGINE_OPTIONS": {"poolclass": NullPool}})
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            assert diff == []
            head = ScriptDirectory(str(ROOT / "migrations")).get_current_head()
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == head
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE alembic_version"))
