"""Fixtures for tests that drive the real app in headless Chromium (Debian's), with axe-core."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.pool import NullPool
from werkzeug.serving import make_server

from audit import create_app

from ..conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}
ARTIFACTS = ROOT / "test-artifacts"


@dataclass
class LiveServer:
    url: str
    app: Flask


@contextmanager
def serve_demo(demo_db: Path | None, folder: Path) -> Iterator[LiveServer]:
    """A copy of the demo database served on a free port from a thread."""
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("browser tests run on the SQLite pass")
    shutil.copy(demo_db, folder / "test.db")
    app = create_app({"INSTANCE_PATH": str(folder / "instance"), "SECRET_KEY": "browser-test",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'test.db'}",
                      "SQLALCHEMY_ENGINE_OPTIONS": {"poolclass": NullPool}, "RUBRICS_DIR": str(ROOT / "rubrics")})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app)
    finally:
        server.shutdown()


@pytest.fixture(scope="session")
def live(demo_db, tmp_path_factory) -> Iterator[LiveServer]:
    """The demo app for the whole session (tests that change the edition's stage use their own)."""
    with serve_demo(demo_db, tmp_path_factory.mktemp("live")) as server:
        yield server


@pytest.fixture
def own_live(demo_db, tmp_path) -> Iterator[LiveServer]:
    """The demo app on a database of this test's own, for flows that close or publish the edition."""
    with serve_demo(demo_db, tmp_path) as server:
        yield server


@pytest.fixture(scope="session")
def live_url(live: LiveServer) -> str:
    return live.url


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: run `make test` (it installs it) or apt-get install chromium")
    if not subprocess.run(["fc-list", ":lang=pl"], capture_output=True, text=True).stdout.strip():
        pytest.fail("no font with Polish letters: apt-get install fonts-dejavu-core")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(params=["phone", "desktop"])
def page(request, browser):
    context = browser.new_context(**(PHONE if request.param == "phone" else DESKTOP))
    page = context.new_page()
    page.device = request.param
    yield page
    context.close()


@pytest.fixture
def desktop(browser):
    """A page at desktop size, for the organiser's flows."""
    context = browser.new_context(**DESKTOP)
    page = context.new_page()
    page.device = "desktop"
    yield page
    context.close()


def login(page, base: str, role: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(f"{role}@demo.test")
    page.get_by_label("Hasło").fill("demo")
    page.get_by_role("button", name="Zaloguj się").click()
    page.wait_for_load_state("networkidle")


def shot(page, name: str) -> None:
    if os.environ.get("SCREENSHOTS"):
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{page.device}.png"), full_page=True)


def serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page)
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)" for v in result.response["violations"]
            if v["impact"] in ("serious", "critical")]


def no_horizontal_page_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


