"""The app's pages in a real browser, at a phone's size and a desktop's, with axe-core."""

from __future__ import annotations

import pytest

from .conftest import login, no_horizontal_page_scroll, serious_violations, shot

pytestmark = pytest.mark.browser


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
    shot(page, "edition")
    assert serious_violations(page) == []
    page.locator("nav.subnav").get_by_role("link", name="Ranking").click()
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
    page.get_by_role("link", name="EN", exact=True).click()
    assert page.get_by_role("heading", name="Contest editions").is_visible()
    page.get_by_role("link", name="PL", exact=True).click()
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
