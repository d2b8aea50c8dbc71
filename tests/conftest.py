"""Fixtures: an app on a fresh database per test, the demo contest, and logging in as a role."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy.pool import NullPool

from audit import create_app
from audit.extensions import db

ROOT = Path(__file__).resolve().parent.parent
DEMO_PASSWORD = "demo"


def database_url(tmp_path: Path) -> str:
    """TEST_DATABASE_URL (a PostgreSQL server) when set, else a fresh SQLite file."""
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'test.db'}"


def make_app(tmp_path: Path, **extra):
    config = {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SQLALCHEMY_DATABASE_URI": database_url(tmp_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"poolclass": NullPool},
        "SECRET_KEY": "test-secret",
        "RUBRICS_DIR": str(ROOT / "rubrics"),
        **extra,
    }
    app = create_app(config)
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path)
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory):
    """A SQLite file with the demo contest, made once; tests get their own copy."""
    if os.environ.get("TEST_DATABASE_URL"):
        return None
    path = tmp_path_factory.mktemp("demo")
    app = make_app(path)
    with app.app_context():
        from audit.demo import load_demo

        load_demo()
        db.session.remove()
        db.engine.dispose()
    return path / "test.db"


@pytest.fixture
def demo_app(tmp_path, demo_db):
    """An app whose database holds the demo contest."""
    if demo_db is None:  # PostgreSQL: load the demo into the fresh database
        app = make_app(tmp_path)
        with app.app_context():
            from audit.demo import load_demo

            load_demo()
        return app
    shutil.copy(demo_db, tmp_path / "test.db")
    return create_app({
        "TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'test.db'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"poolclass": NullPool},
        "SECRET_KEY": "test-secret", "RUBRICS_DIR": str(ROOT / "rubrics"),
    })


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, email: str, password: str = DEMO_PASSWORD, follow: bool = False):
        page = self.client.get("/login")
        token = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        return self.client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                                follow_redirects=follow)

    def as_role(self, role: str):
        return self.login(f"{role}@demo.test")


@pytest.fixture
def demo_client(demo_app):
    return demo_app.test_client()


@pytest.fixture
def auth(demo_client):
    return Auth(demo_client)
