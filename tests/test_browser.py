"""The app in a real browser (headless Chromium), at a phone's size and a desktop's, with axe-core."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from sqlalchemy.pool import NullPool
from werkzeug.serving import make_server

from audit import create_app

from .conftest import ROOT

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def live_url(demo_db, tmp_path_factory):
    if demo_db is None:
        pytest.skip("browser tests run on the SQLite pass")
    folder = tmp_path_factory.mktemp("live")
    shutil.copy(demo_db, folder / "test.db")
    app = create_app({"INSTANCE_PATH": str(folder / "instance"), "SECRET_KEY": "browser-test",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'test.db'}",
                      "SQLALCHEMY_ENGINE_OPTIONS": {"poolclass": NullPool}, "RUBRICS_DIR": str(ROOT / "rubrics")})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


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


def test_login_page_is_accessible_and_fits(page, live_url):
    page.goto(f"{live_url}/login")
    shot(page, "login")
    assert page.get_by_role("heading", name="Zaloguj się").is_visible()
    assert no_horizontal_page_scroll(page)
    assert serious_violations(page) == []


def test_wrong_password_shows_a_message(page, live_url):
    page.goto(f"{live_url}/login")
    page.get_by_label("E-mail").fill("organiser@demo.test")
    page.get_by_label("Hasło").fill("nope")
    page.get_by_role("button", name="Zaloguj się").click()
    assert page.get_by_text("Nieprawidłowy e-mail lub hasło.").is_visible()


def test_organiser_reads_the_ranking_and_opens_an_explanation(page, live_url):
    login(page, live_url, "organiser")
    page.get_by_role("link", name="Lider Zaufania Mieszkańców 2026 (demo)").click()
    page.wait_for_load_state("networkidle")
    shot(page, "ranking")
    assert page.get_by_role("heading", name="Ranking").is_visible()
    assert no_horizontal_page_scroll(page)  # the wide table scrolls inside its own box
    assert serious_violations(page) == []
    first = page.locator("table.ranking tbody tr").first
    name = first.locator("th a").inner_text()
    points = first.locator("td.strong").inner_text()
    first.locator("th a").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name=name).is_visible()
    assert page.locator(".headline .stat .value").first.inner_text() == points
    page.locator("details.contact summary").first.click()
    assert page.locator("details.contact table.criteria").first.is_visible()
    shot(page, "explanation")
    assert serious_violations(page) == []


def test_language_switch_to_english_and_back(page, live_url):
    login(page, live_url, "organiser")
    page.get_by_role("link", name="EN").click()
    assert page.get_by_role("heading", name="Contest editions").is_visible()
    page.get_by_role("link", name="PL").click()
    assert page.get_by_role("heading", name="Edycje konkursu").is_visible()


@pytest.mark.parametrize("role", ["auditor", "director"])
def test_auditor_and_director_homes(page, live_url, role):
    login(page, live_url, role)
    shot(page, f"{role}-home")
    assert page.locator("h1").is_visible()
    assert no_horizontal_page_scroll(page)
    assert serious_violations(page) == []
    page.get_by_role("button", name="Wyloguj").click()
    assert page.get_by_role("heading", name="Zaloguj się").is_visible()
