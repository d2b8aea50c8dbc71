"""The organiser's console at desktop size: review a contact, close the fieldwork, publish, override a licence."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from audit.extensions import db
from audit.models import AuditEvent, Contact, Licence, Revision, RevisionStanding

from .conftest import login, serious_violations, shot

pytestmark = pytest.mark.browser


def test_review_publish_and_override_a_licence(desktop, own_live):
    desk = desktop
    live = own_live
    with live.app.app_context():
        first, second = db.session.scalars(sa.select(Contact.id).filter_by(status="submitted")
                                           .order_by(Contact.submitted_at, Contact.id)).all()[:2]
    login(desk, live.url, "organiser")
    desk.goto(f"{live.url}/organiser/campaigns/1/review")
    assert serious_violations(desk) == []
    desk.locator(f"a[href$='/organiser/contacts/{first}']").click()
    desk.locator("textarea[name=comment]").fill("Proszę dołączyć zrzut ekranu odpowiedzi.")
    shot(desk, "organiser-review")
    assert serious_violations(desk) == []
    desk.locator("form[action$='/return'] button[type=submit]").click()
    desk.wait_for_load_state("networkidle")
    assert desk.locator(".flash.success").count() == 1
    desk.goto(f"{live.url}/organiser/contacts/{second}")
    desk.locator("form[action$='/accept'] button[type=submit]").click()
    desk.wait_for_load_state("networkidle")
    with live.app.app_context():
        assert db.session.get(Contact, first).status == "returned"
        assert db.session.get(Contact, first).review_comment == "Proszę dołączyć zrzut ekranu odpowiedzi."
        assert db.session.get(Contact, second).status == "accepted"

    desk.goto(f"{live.url}/organiser/campaigns/1")
    desk.get_by_role("link", name="Zamknij badanie terenowe i przejdź do weryfikacji…").click()
    checklist = desk.locator(".readiness")  # what is still open, read before the step is taken
    assert "nie zostały rozpoczęte" in checklist.inner_text() or "nie zostało rozpoczętych" in checklist.inner_text()
    shot(desk, "organiser-close-fieldwork")
    assert serious_violations(desk) == []
    desk.get_by_role("button", name="Zamknij badanie terenowe").click()
    assert desk.locator(".flash.error").count() == 1  # not without the tick
    desk.get_by_label("Wiem, co jest jeszcze otwarte, i mimo to kontynuuję.").check()
    desk.get_by_role("button", name="Zamknij badanie terenowe").click()
    desk.wait_for_url(f"{live.url}/organiser/campaigns/1")
    desk.get_by_role("link", name="Sprawdź i opublikuj wersję 1…").click()
    assert "czeka" in desk.locator(".readiness").inner_text()  # contacts waiting for review are listed
    shot(desk, "organiser-publish-check")
    desk.locator("textarea[name=note]").fill("Wyniki edycji 2026")
    desk.get_by_label("Wiem, co jest jeszcze otwarte, i mimo to kontynuuję.").check()
    desk.get_by_role("button", name="Opublikuj wersję 1").click()
    desk.wait_for_url(f"{live.url}/organiser/campaigns/1/revisions/1")
    assert "Wyniki edycji 2026" in desk.locator("main").inner_text()
    shot(desk, "organiser-revision")

    with live.app.app_context():
        refused = db.session.scalar(
            sa.select(RevisionStanding.institution_id).join(Revision)
            .where(Revision.campaign_id == 1, RevisionStanding.licensed.is_(False), RevisionStanding.points.is_not(None)))
    desk.goto(f"{live.url}/organiser/campaigns/1/institutions/{refused}")
    desk.locator("#override input[value=grant]").check()
    desk.locator("#override textarea[name=reason]").fill("Błąd w ocenie potwierdzony nagraniem.")
    desk.locator("#override button[type=submit]").click()
    desk.wait_for_load_state("networkidle")
    assert "Błąd w ocenie potwierdzony nagraniem." in desk.locator("#override").inner_text()
    desk.goto(f"{live.url}/organiser/campaigns/1/publish")
    desk.locator("textarea[name=note]").fill("Decyzja organizatora")
    desk.get_by_label("Wiem, co jest jeszcze otwarte, i mimo to kontynuuję.").check()
    desk.get_by_role("button", name="Opublikuj wersję 2").click()
    desk.wait_for_url(f"{live.url}/organiser/campaigns/1/revisions/2")
    with live.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Revision).filter_by(campaign_id=1)) == 2
        licence = db.session.scalar(sa.select(Licence).filter_by(campaign_id=1, institution_id=refused))
        assert licence is not None and licence.revoked_at is None
        assert db.session.scalar(sa.select(AuditEvent).filter_by(action="licence_override")).reason == \
            "Błąd w ocenie potwierdzony nagraniem."
    desk.goto(f"{live.url}/organiser/campaigns/1/log")
    assert "Błąd w ocenie potwierdzony nagraniem." in desk.locator("table.log").inner_text()
    assert serious_violations(desk) == []


def test_the_director_picker_filters_the_institutions_by_name_or_town(desktop, live_url):
    login(desktop, live_url, "organiser")
    desktop.goto(f"{live_url}/organiser/people/new/director")
    choices = desktop.locator("#institution-choices li")
    everything = choices.count()
    desktop.get_by_label("Znajdź instytucję").fill("brzozow")
    shown = desktop.locator("#institution-choices li:visible")
    assert 0 < shown.count() < everything
    assert all("brzozow" in t.lower() for t in shown.all_inner_texts())
    shown.first.locator("input").check()
    desktop.get_by_label("Znajdź instytucję").fill("")
    assert desktop.locator("#institution-choices li:visible").count() == everything
