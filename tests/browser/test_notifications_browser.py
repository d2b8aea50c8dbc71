"""The Notifications page in a real browser: reachable from the header, accessible, fits a phone, saves."""

from __future__ import annotations

import pytest

from .conftest import login, no_horizontal_page_scroll, serious_violations, shot

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("role", ["auditor", "director", "organiser"])
def test_notifications_are_reached_from_the_header_and_turned_off_and_on(page, own_live, role):
    login(page, own_live.url, role)
    page.locator("header").get_by_role("link", name="Powiadomienia").click()
    assert page.get_by_role("heading", name="Powiadomienia").is_visible()
    shot(page, f"notifications-{role}")
    assert no_horizontal_page_scroll(page)
    assert serious_violations(page) == []
    boxes = page.locator("#topics input[type=checkbox]")
    assert boxes.count() >= 1 and all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    boxes.first.uncheck()
    page.get_by_label("Język moich e-maili").select_option("en")
    page.get_by_role("button", name="Zapisz").click()
    assert page.get_by_text("Zapisano.").is_visible()
    assert not page.locator("#topics input[type=checkbox]").first.is_checked()
    assert page.get_by_label("Język moich e-maili").input_value() == "en"
