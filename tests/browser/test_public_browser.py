"""The public pages in a real browser: a licence verified, the registry, an edition's method."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from audit import publication
from audit.extensions import db
from audit.models import Campaign, Licence, User

from .conftest import no_horizontal_page_scroll, serious_violations, shot

pytestmark = pytest.mark.browser


def publish_newest_edition(app) -> tuple[int, str]:
    """Close and publish the demo's edition in fieldwork; its id and one new licence's number."""
    with app.app_context():
        campaign = db.session.scalar(sa.select(Campaign).order_by(Campaign.year.desc(), Campaign.id.desc()))
        campaign.status = "review"
        organiser = db.session.scalar(sa.select(User).filter_by(role="organiser"))
        publication.publish(campaign, organiser, "Wyniki edycji")
        db.session.commit()
        number = db.session.scalar(sa.select(Licence.number).filter_by(campaign_id=campaign.id)
                                   .order_by(Licence.points.desc()))
        return campaign.id, number


def test_anyone_verifies_a_licence_reads_the_registry_and_the_method(page, own_live):
    campaign_id, number = publish_newest_edition(own_live.app)

    page.goto(f"{own_live.url}/verify")
    page.get_by_label("Licence number").or_(page.get_by_label("Numer licencji")).fill(number.lower())
    page.locator("form.verify-form button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/verify/{number}")
    assert page.locator(".licence-result").get_attribute("data-status") == "valid"
    assert page.locator("table.contacts-behind tbody tr").count() >= 4
    shot(page, "public-verify")
    assert no_horizontal_page_scroll(page)
    assert serious_violations(page) == []

    page.goto(f"{own_live.url}/registry")
    shot(page, "public-registry")
    assert page.locator(f"table.registry a:text-is('{number}')").count() == 1
    assert no_horizontal_page_scroll(page)
    assert serious_violations(page) == []
    page.locator("#category").select_option("helpline")
    page.locator("form.registry-filters button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "category=helpline" in page.url

    page.goto(f"{own_live.url}/editions/{campaign_id}/method")
    page.locator("#rubric-phone details.rubric-body > summary").click()
    page.locator("#rubric-phone details.guidance summary").first.click()
    shot(page, "public-method")
    assert page.locator(".rubric").count() >= 4
    assert no_horizontal_page_scroll(page)
    assert serious_violations(page) == []
