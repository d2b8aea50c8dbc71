"""The error pages and a confirmation in a real browser: the site's frame, readable on a phone."""

from __future__ import annotations

import pytest

from .conftest import login, no_horizontal_page_scroll, serious_violations, shot

pytestmark = pytest.mark.browser


def test_a_404_and_a_403_are_the_sites_own_pages_and_fit_a_phone(page, live_url):
    login(page, live_url, "auditor")
    missing = page.goto(f"{live_url}/auditor/assignments/999999")
    assert missing.status == 404
    shot(page, "error-404")
    assert page.get_by_role("heading", name="Nie znaleziono strony").is_visible()
    assert page.get_by_role("link", name="Wróć na swoją stronę główną").is_visible()
    assert no_horizontal_page_scroll(page)
    assert serious_violations(page) == []

    forbidden = page.goto(f"{live_url}/organiser/")
    assert forbidden.status == 403
    shot(page, "error-403")
    assert page.get_by_role("heading", name="Ta strona nie jest dostępna dla Twojego konta").is_visible()
    assert no_horizontal_page_scroll(page)
    page.get_by_role("link", name="Wróć na swoją stronę główną").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/auditor/")


def test_an_anonymous_404_offers_to_log_in_in_english_too(page, live_url):
    page.goto(f"{live_url}/lang/en")
    response = page.goto(f"{live_url}/no-such-page")
    assert response.status == 404
    assert page.get_by_role("heading", name="Page not found").is_visible()
    assert no_horizontal_page_scroll(page)
    page.get_by_role("link", name="Log in").click()
    page.wait_for_load_state("networkidle")
    assert "/login" in page.url


def test_deactivating_someone_asks_first_in_the_sites_page_and_cancel_changes_nothing(page, live_url):
    login(page, live_url, "organiser")
    page.goto(f"{live_url}/organiser/people?role=auditor")
    page.get_by_role("link", name="Audytor 2 (demo)").first.click()
    person = page.url
    page.get_by_role("button", name="Dezaktywuj").click()
    page.wait_for_load_state("networkidle")
    shot(page, "confirm-deactivation")
    assert page.get_by_role("heading", name="Dezaktywować: Audytor 2 (demo)?").is_visible()
    assert page.get_by_text("auditor2@demo.test").is_visible()
    assert no_horizontal_page_scroll(page)
    assert serious_violations(page) == []
    page.get_by_role("link", name="Anuluj").click()
    page.wait_for_load_state("networkidle")
    assert page.url == person and page.get_by_role("button", name="Dezaktywuj").is_visible()
