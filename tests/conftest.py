"""Fixtures: an app on a fresh database per test, the demo contest, and logging in as a role."""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
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


# --- where stored files live ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """moto's S3 server, a real S3 HTTP API on a free port of this machine, for the whole session;
    each test that uses it gets a bucket of its own (`s3_settings`). Yields its address."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def s3_settings(endpoint: str) -> dict[str, str]:
    """The app's settings for a new, empty bucket on the S3 server at `endpoint`."""
    import boto3

    settings = {"EVIDENCE_STORE": "s3", "S3_ENDPOINT_URL": endpoint, "S3_BUCKET": f"audit-{uuid.uuid4().hex[:12]}",
                "S3_PREFIX": "audyt/", "S3_REGION": "us-east-1", "S3_ADDRESSING_STYLE": "path",
                "S3_ACCESS_KEY_ID": "test-key", "S3_SECRET_ACCESS_KEY": "test-secret"}
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test-key",
                 aws_secret_access_key="test-secret").create_bucket(Bucket=settings["S3_BUCKET"])
    return settings


@pytest.fixture
def evidence_store() -> str:
    """Where the app keeps stored files: "local" here; a test parametrised over it ("local", "s3") runs on both."""
    return "local"


@pytest.fixture
def store_config(request, evidence_store) -> dict[str, str]:
    """The app settings for `evidence_store`: none for the local folder, a fresh bucket on moto's S3 server."""
    if evidence_store == "s3":
        return s3_settings(request.getfixturevalue("s3_server"))
    return {}


@pytest.fixture
def app(tmp_path, store_config):
    app = make_app(tmp_path, **store_config)
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


DEMO_TEMPLATE = "audit_demo_template"


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory):
    """The demo contest, made once: a SQLite file (tests copy it), or on PostgreSQL a template
    database (tests clone it with CREATE DATABASE ... TEMPLATE, a file copy on the server)."""
    server = os.environ.get("TEST_DATABASE_URL")
    path = tmp_path_factory.mktemp("demo")
    if server:
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {DEMO_TEMPLATE}"))
            conn.execute(sa.text(f"CREATE DATABASE {DEMO_TEMPLATE}"))
        app = make_app(path, SQLALCHEMY_DATABASE_URI=_database(server, DEMO_TEMPLATE))
    else:
        app = make_app(path)
    with app.app_context():
        from audit.demo import load_demo

        load_demo()
        db.session.remove()
        db.engine.dispose()
    return DEMO_TEMPLATE if server else path / "test.db"


def _database(server_url: str, name: str) -> str:
    return sa.engine.make_url(server_url).set(database=name).render_as_string(hide_password=False)


@contextmanager
def fresh_postgres_database(server_url: str, template: str | None = None) -> Iterator[str]:
    """A uniquely named database on the test server (a copy of `template` if given), dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    # FILE_COPY (PostgreSQL 15+) clones a template faster than the default WAL_LOG
    copy = f" TEMPLATE {template} STRATEGY FILE_COPY" if template else ""
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}{copy}"))
    try:
        yield _database(server_url, name)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def demo_app(tmp_path, demo_db, store_config):
    """An app whose database holds the demo contest."""
    with ExitStack() as stack:
        if server := os.environ.get("TEST_DATABASE_URL"):
            url = stack.enter_context(fresh_postgres_database(server, template=demo_db))
        else:
            shutil.copy(demo_db, tmp_path / "test.db")
            url = f"sqlite:///{tmp_path / 'test.db'}"
        app = create_app({
            "TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"poolclass": NullPool},
            "SECRET_KEY": "test-secret", "RUBRICS_DIR": str(ROOT / "rubrics"), **store_config,
        })
        yield app
        with app.app_context():  # let go of the database before it is dropped
            db.session.remove()
            db.engine.dispose()


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
def live_server(demo_app, tmp_path):
    """gunicorn (2 processes, 4 threads each) serving the demo database of `demo_app`: for tests that
    need requests truly at the same time. Never skipped: gunicorn is a dependency, so a server that
    cannot start is a failure to see, not a test to drop."""
    from .live_server import gunicorn

    with gunicorn(demo_app.config["SQLALCHEMY_DATABASE_URI"], tmp_path) as server:
        yield server


def go_ahead(client, path: str, **fields: str):
    """Open a step's confirmation page (closing the fieldwork, publishing), read its checklist, and
    confirm it as an organiser who goes ahead: the form's own hidden fields, the tick, `fields`."""
    from .live_server import form_fields

    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return client.post(path, data={**form_fields(page.get_data(as_text=True), path), "confirm": "y", **fields})


@pytest.fixture
def demo_client(demo_app):
    return demo_app.test_client()


@pytest.fixture
def auth(demo_client):
    return Auth(demo_client)
