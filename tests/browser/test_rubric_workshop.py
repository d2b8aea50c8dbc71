"""The rubric workshop in a real browser: a mistake named with its line, fixed in the page, stored,
tried on the phone form with its score explained, and offered to an edition."""

from __future__ import annotations

import re

import pytest

from ..conftest import ROOT
from .conftest import login, no_horizontal_page_scroll, serious_violations, shot

pytestmark = pytest.mark.browser


def test_write_check_fix_try_and_pin_a_rubric(page, own_live):
    live = own_live
    source = (ROOT / "rubrics/phone.yaml").read_text(encoding="utf-8")
    revised = re.sub(r'version: "([^"]+)"', 'version: "2099.1"', source, count=1)
    broken = revised.replace("type: yes_no", "type: yes_or_no", 1)
    login(page, live.url, "organiser")
    page.goto(f"{live.url}/organiser/rubrics")
    page.get_by_role("link", name="Dodaj wersję arkusza").click()
    page.locator("#source").fill(broken)
    page.get_by_role("button", name="Sprawdź i zapisz").click()
    problems = page.locator("#problems")
    assert re.search(r"linia \d+", problems.inner_text()) and "yes_or_no" in problems.inner_text()
    shot(page, "rubric-problems")
    assert page.locator("#source").input_value() == broken  # kept, to be fixed here
    page.locator("#source").fill(revised)
    page.get_by_role("button", name="Sprawdź i zapisz").click()
    assert "2099.1" in page.locator("h1").inner_text() + page.locator("main").inner_text()
    page.get_by_role("link", name="Wypróbuj jako formularz w telefonie").click()
    page.locator("fieldset.criterion label").first.click()
    page.get_by_role("button", name="Oceń te odpowiedzi").click()
    assert page.locator("#score").is_visible() and "Wynik:" in page.locator("#score h2").inner_text()
    assert no_horizontal_page_scroll(page)
    assert serious_violations(page) == []
    shot(page, "rubric-try")
    page.goto(f"{live.url}/organiser/campaigns/new")
    assert page.locator("select option", has_text="2099.1").count() == 1  # pinnable by a draft edition
