"""The rubric workshop in a real browser: a file with a mistake uploaded and the problem named with its line,
fixed in the page, stored, previewed as the phone form (conditions live), tried with its score explained,
saved as a test case, pinned to a draft edition, and the auditor's form for that edition built from it."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from ..conftest import ROOT
from .conftest import login, no_horizontal_page_scroll, serious_violations, shot

pytestmark = pytest.mark.browser

REWORDED = "Czy ktoś odebrał telefon w godzinach pracy (wersja warsztatowa)?"


def test_write_check_fix_try_and_pin_a_rubric(page, own_live, tmp_path):
    live = own_live
    source = (ROOT / "rubrics/phone.yaml").read_text(encoding="utf-8")
    revised = re.sub(r'version: "([^"]+)"', 'version: "2099.1"', source, count=1).replace(
        "Czy ktoś odebrał telefon?", REWORDED, 1)
    broken = revised.replace("type: yes_no", "type: yes_or_no", 1)
    line = next(n for n, text in enumerate(broken.splitlines(), start=1) if text.strip() == "- id: answered")
    upload = tmp_path / "telefon.yaml"
    upload.write_text(broken, encoding="utf-8")
    login(page, live.url, "organiser")
    page.goto(f"{live.url}/organiser/rubrics")
    page.get_by_role("link", name="Dodaj wersję arkusza").click()
    page.locator("#file").set_input_files(str(upload))  # uploaded as a file, as an organiser has it
    page.get_by_role("button", name="Sprawdź i zapisz").click()
    problems = page.locator("#problems")
    assert f"linia {line}" in problems.inner_text() and "yes_or_no" in problems.inner_text()
    assert "nieznany typ odpowiedzi" in problems.inner_text()  # in the user's language
    assert no_horizontal_page_scroll(page)
    shot(page, "rubric-problems")
    assert page.locator("#source").input_value() == broken  # the uploaded text is in the page, to be fixed there
    problems.get_by_role("link", name=f"linia {line}").first.click()  # selects the line named
    selected = page.evaluate("() => { const s = document.getElementById('source');"
                             " return s.value.slice(s.selectionStart, s.selectionEnd); }")
    assert selected.strip() == "- id: answered"
    page.locator("#source").fill(revised)
    page.get_by_role("button", name="Sprawdź i zapisz").click()
    assert "2099.1" in page.locator("main").inner_text()
    assert "szkic" in page.locator("main").inner_text()  # nobody pins it yet

    page.get_by_role("link", name="Wypróbuj jako formularz w telefonie").click()
    rings = page.locator("#q-rings")
    assert rings.is_hidden()  # asked only when someone answered: the field app's own script hides it
    page.locator("#q-answered label", has_text="Tak").click()
    assert rings.is_visible()
    page.locator("#q-answered label", has_text="Nie").click()
    assert rings.is_hidden()
    page.locator("#q-answered label", has_text="Tak").click()
    page.locator("#q-greeting label", has_text="Tak").click()
    page.get_by_role("button", name="Oceń te odpowiedzi").click()
    score = page.locator("#score")
    assert score.is_visible() and "Wynik:" in score.locator("h2").inner_text()
    assert REWORDED in score.inner_text()  # explained criterion by criterion
    assert no_horizontal_page_scroll(page)
    assert serious_violations(page) == []
    shot(page, "rubric-try")
    page.locator("#case_name").fill("Odebrano i przywitano")
    page.get_by_role("button", name="Zapisz jako przypadek testowy").click()
    cases = page.locator("#cases")
    assert "Odebrano i przywitano" in cases.inner_text() and "zgodnie z oczekiwaniem" in cases.inner_text()
    shot(page, "rubric-cases")

    page.goto(f"{live.url}/organiser/campaigns/new")
    page.get_by_label("Nazwa").fill("Edycja warsztatowa")
    page.get_by_label("Rok").fill("2099")
    for channel in ("Wizyta osobista", "E-mail", "Media społecznościowe", "Strona internetowa"):
        box = page.get_by_label(f"Badaj kanał: {channel}", exact=True)
        if box.is_checked():
            box.uncheck()
    phone = page.get_by_label("Arkusz: Telefon", exact=True)
    option = phone.locator("option", has_text="2099.1")
    assert option.count() == 1  # pinnable by a draft edition
    phone.select_option(option.get_attribute("value"))
    page.get_by_role("button", name="Zapisz edycję").click()
    assert "Edycja warsztatowa" in page.locator("h1").inner_text()
    campaign_id = int(re.search(r"/campaigns/(\d+)", page.url).group(1))

    with live.app.app_context():  # the plan and the start of fieldwork have their own tests
        from audit import editions
        from audit.extensions import db
        from audit.models import Assignment, Campaign, Institution, User

        campaign = db.session.get(Campaign, campaign_id)
        assert campaign.status == "draft" and campaign.channels[0].rubric.version == "2099.1"
        auditor = db.session.scalar(sa.select(User).filter_by(email="auditor@demo.test"))
        institution = db.session.scalar(sa.select(Institution).order_by(Institution.id))
        assignment = Assignment(campaign_id=campaign_id, institution_id=institution.id, channel="phone",
                                auditor_id=auditor.id, scenario="Pytanie o godziny pracy")
        db.session.add(assignment)
        editions.advance(campaign, db.session.scalar(sa.select(User).filter_by(role="organiser")), "fieldwork")
        db.session.commit()
        assignment_id = assignment.id
    page.context.clear_cookies()
    login(page, live.url, "auditor")
    page.goto(f"{live.url}/auditor/assignments/{assignment_id}")
    assert REWORDED in page.locator("#q-answered").inner_text()  # the auditor's form is built from the pinned version
    assert page.locator("#q-rings").is_hidden()
