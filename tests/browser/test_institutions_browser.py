"""The organiser imports institutions from Excel in a real browser, at a desktop's size."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from audit.extensions import db
from audit.models import Institution

from .conftest import login, serious_violations, shot

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 800}, "accept_downloads": True}


def test_organiser_imports_institutions_fixing_a_bad_row(desktop, own_live, tmp_path):
    page, base = desktop, own_live.url
    login(page, base, "organiser")
    page.goto(f"{base}/lang/en?next=/organiser/institutions/import")  # the source texts, whatever is translated

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the template (.xlsx)").click()
    template = tmp_path / "template.xlsx"
    download.value.save_as(template)
    workbook = load_workbook(template)
    sheet = workbook["institutions"]
    sheet.append(["Punkt Obsługi Seniora", "social_welfare", "Klonowo", "pomorskie", "visit, phone"])
    sheet.append(["Biuro Numerów Alarmowych", "fire brigade", "Topolin", "łódzkie", "phone"])
    filled = tmp_path / "institutions.xlsx"
    workbook.save(filled)

    page.get_by_label("Excel file (.xlsx)").set_input_files(filled)
    page.get_by_role("button", name="Check the file").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="The file cannot be imported yet").is_visible()
    problem = page.locator("table.problems tbody tr")
    assert problem.count() == 1
    assert [c.strip() for c in problem.first.locator("td").all_inner_texts()] == [
        "3", "category", "Unknown category “fire brigade”; use one of: social_welfare, municipal_services, utility, "
        "helpline."]
    shot(page, "import-errors")
    assert serious_violations(page) == []

    sheet["B3"] = "helpline"
    workbook.save(filled)
    page.get_by_label("Excel file (.xlsx)").set_input_files(filled)
    page.get_by_role("button", name="Check the file").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="The file is correct").is_visible()
    assert page.locator("table.preview tbody tr").count() == 2
    shot(page, "import-preview")
    page.get_by_role("button", name="Import 2 institutions").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("Imported 2 institutions.").is_visible()
    with own_live.app.app_context():
        added = db.session.execute(sa.select(Institution.name, Institution.category, Institution.channels).where(
            Institution.name.in_(["Punkt Obsługi Seniora", "Biuro Numerów Alarmowych"]))).all()
    assert sorted(added) == [("Biuro Numerów Alarmowych", "helpline", ["phone"]),
                             ("Punkt Obsługi Seniora", "social_welfare", ["visit", "phone"])]
