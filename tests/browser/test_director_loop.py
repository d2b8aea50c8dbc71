"""The director's loop in the browser, each walk at phone (390x844) and desktop (1366x900) size, the
organiser's side at the same size: contest one criterion with a document, the organiser upholds it and
corrects the answer, publishes, and the director sees the decision and the changed points; file a plan
in 2025 (the public registry marks plans, never their words) and see its follow-up once 2026 is published."""

from __future__ import annotations

import io

import sqlalchemy as sa
from PIL import Image

from audit import publication
from audit.extensions import db
from audit.models import Appeal, Contact, User
from audit.services import rubric_by_hash

from .conftest import DESKTOP, PHONE, login, no_horizontal_page_scroll, serious_violations, shot

PAST = 3  # the demo's 2025 edition, published, appeals open


def _contested(app) -> tuple[int, str]:
    """A counted contact of the demo director with a yes/no criterion answered "no", and that criterion."""
    with app.app_context():
        director = db.session.scalar(sa.select(User).filter_by(email="director@demo.test"))
        for institution in director.institutions:
            for contact_id in sorted(publication.counted_contacts(PAST, institution.id)):
                contact = db.session.get(Contact, contact_id)
                rubric = rubric_by_hash(contact.rubric_hash)
                for answer in contact.answers:
                    criterion = rubric.criterion(answer.criterion_id)
                    if (criterion.type == "yes_no" and answer.value == "no" and answer.possible > 0
                            and criterion.when is None and not criterion.critical):
                        return contact_id, answer.criterion_id
    raise AssertionError("the demo has no contested answer to try")


def test_a_director_contests_a_criterion_the_organiser_upholds_it_and_the_next_revision_shows_it(
        page, browser, own_live, tmp_path):
    live = own_live
    contact_id, criterion = _contested(live.app)
    photo = tmp_path / "IMG_2041_Jan.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), (20, 120, 200)).save(buffer, "JPEG")
    photo.write_bytes(buffer.getvalue())

    login(page, live.url, "director")
    with live.app.app_context():
        institution_id = db.session.get(Contact, contact_id).institution_id
    page.goto(f"{live.url}/director/campaigns/{PAST}/institutions/{institution_id}")
    page.locator(f"#contact-{contact_id}").get_by_role("link", name="Zobacz odpowiedzi i zakwestionuj").click()
    page.wait_for_url(f"{live.url}/director/contacts/{contact_id}")
    row = page.locator(f"#c-{criterion}")
    assert "Nie" in row.inner_text()
    before = row.locator("td.num").inner_text()
    assert "Odwołania są otwarte do" in page.locator(".appeal-window").inner_text()
    page.locator(f'input[name=criterion][value="{criterion}"]').check()
    page.get_by_label("Dlaczego kwestionujesz?").fill("Informacja wisiała przy wejściu, zdjęcie w załączniku.")
    page.get_by_label("Dokument na poparcie odwołania (nieobowiązkowo)").set_input_files(str(photo))
    shot(page, "director-contest")
    assert no_horizontal_page_scroll(page)
    page.get_by_role("button", name="Złóż odwołanie").click()
    page.wait_for_load_state("networkidle")
    assert "Odwołanie zostało złożone." in page.locator(".flash.success").inner_text()
    with live.app.app_context():
        appeal = db.session.scalar(sa.select(Appeal).filter_by(contact_id=contact_id))
        assert appeal is not None and appeal.document_key and [c.criterion_id for c in appeal.criteria] == [criterion]
        appeal_id = appeal.id

    organiser = browser.new_context(**(PHONE if page.device == "phone" else DESKTOP)).new_page()
    organiser.device = page.device
    login(organiser, live.url, "organiser")
    organiser.goto(f"{live.url}/organiser/campaigns/{PAST}/appeals")
    line = organiser.locator(f"#appeal-{appeal_id}-{criterion}")
    assert "IMG_2041_Jan.jpg" in organiser.locator(f"#appeal-{appeal_id}").inner_text()
    shot(organiser, "organiser-appeal")
    line.locator("input[value=upheld]").check()
    line.locator("textarea[name=resolution]").fill("Zdjęcie potwierdza informację przy wejściu.")
    line.get_by_role("button", name="Zapisz decyzję").click()
    organiser.wait_for_url(f"{live.url}/organiser/contacts/{contact_id}*")
    fix = organiser.locator(f"#c-{criterion}")
    fix.locator("summary").click()
    fix.locator("select[name=value]").select_option("yes")
    fix.locator("textarea[name=reason]").fill("Odwołanie uwzględnione: zdjęcie dyrektora.")
    fix.get_by_role("button", name="Zapisz korektę").click()
    organiser.wait_for_load_state("networkidle")
    with live.app.app_context():
        number = publication.next_number(PAST)
    organiser.goto(f"{live.url}/organiser/campaigns/{PAST}/publish")
    organiser.locator("textarea[name=note]").fill("Po odwołaniu")
    confirm = organiser.get_by_label("Wiem, co jest jeszcze otwarte, i mimo to kontynuuję.")
    if confirm.count():
        confirm.check()
    organiser.get_by_role("button", name=f"Opublikuj wersję {number}").click()
    organiser.wait_for_url(f"{live.url}/organiser/campaigns/{PAST}/revisions/{number}")
    assert no_horizontal_page_scroll(organiser)
    organiser.context.close()

    page.goto(f"{live.url}/director/contacts/{contact_id}")
    record = page.locator(f"#appeal-{appeal_id}")
    assert "Zdjęcie potwierdza informację przy wejściu." in record.inner_text()
    row = page.locator(f"#c-{criterion}")
    assert "Tak" in row.inner_text() and row.locator("td.num").inner_text() != before
    assert f"wersja {number}" in page.content()
    shot(page, "director-decision")
    assert no_horizontal_page_scroll(page)
    assert serious_violations(page) == []


def test_a_director_files_a_plan_in_2025_and_sees_its_follow_up_once_2026_is_published(page, browser, own_live):
    live = own_live
    with live.app.app_context():
        director = db.session.scalar(sa.select(User).filter_by(email="director@demo.test"))
        institution_id = director.institutions[0].id
    login(page, live.url, "director")
    page.goto(f"{live.url}/director/campaigns/{PAST}/institutions/{institution_id}")
    page.get_by_role("link", name="Twój plan naprawczy").click()
    page.wait_for_url(f"{live.url}/director/campaigns/{PAST}/institutions/{institution_id}/plan")
    first = page.locator("ol.plan-actions > li").first
    first.locator("input[name^=who-]").fill("Kierownik działu obsługi i zespół")
    first.locator("textarea[name^=what-]").fill("Szkolenie zespołu i karta z gotowymi sformułowaniami.")
    page.get_by_role("button", name="Złóż plan").click()
    page.wait_for_load_state("networkidle")
    assert "Plan został złożony." in page.locator(".flash.success").inner_text()
    assert no_horizontal_page_scroll(page)
    assert serious_violations(page) == []
    page.emulate_media(media="print")
    assert page.locator(".print-only").is_visible() and not page.get_by_role("button", name="Złóż plan").is_visible()
    page.emulate_media(media="screen")

    page.goto(f"{live.url}/registry?edition={PAST}")  # the demo's 2025 edition shows plans in public
    assert page.locator(".plan-mark").first.is_visible() and "ma plan naprawczy" in page.locator("main").inner_text()
    assert "Szkolenie zespołu i karta" not in page.content() and "Kierownik działu obsługi" not in page.content()
    shot(page, "registry-plan")
    assert no_horizontal_page_scroll(page)
    assert serious_violations(page) == []

    organiser = browser.new_context(**(PHONE if page.device == "phone" else DESKTOP)).new_page()
    organiser.device = page.device  # the whole walk at the director's size, the organiser's side too
    login(organiser, live.url, "organiser")
    organiser.goto(f"{live.url}/organiser/campaigns/1")
    organiser.get_by_role("link", name="Zamknij badanie terenowe i przejdź do weryfikacji…").click()
    organiser.get_by_label("Wiem, co jest jeszcze otwarte, i mimo to kontynuuję.").check()
    organiser.get_by_role("button", name="Zamknij badanie terenowe").click()
    organiser.wait_for_url(f"{live.url}/organiser/campaigns/1")
    organiser.get_by_role("link", name="Sprawdź i opublikuj wersję 1…").click()
    organiser.locator("textarea[name=note]").fill("Wyniki edycji 2026")
    organiser.get_by_label("Wiem, co jest jeszcze otwarte, i mimo to kontynuuję.").check()
    organiser.get_by_role("button", name="Opublikuj wersję 1").click()
    organiser.wait_for_url(f"{live.url}/organiser/campaigns/1/revisions/1")
    organiser.goto(f"{live.url}/organiser/campaigns/1/plans")
    assert "Co się poprawiło od poprzedniej edycji" in organiser.locator("main").inner_text()
    assert no_horizontal_page_scroll(organiser)
    assert serious_violations(organiser) == []
    organiser.context.close()

    page.goto(f"{live.url}/director/campaigns/1/institutions/{institution_id}")
    follow_up = page.locator("#follow-up")
    assert "Szkolenie zespołu i karta z gotowymi sformułowaniami." in follow_up.inner_text()
    assert "kontakt" in follow_up.inner_text()
    shot(page, "director-plan-follow-up")
    assert no_horizontal_page_scroll(page)
