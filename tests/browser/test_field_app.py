"""The auditor's field app on a phone (390x844, touch) in a real browser: record, lose nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import Error as PlaywrightError

from audit.extensions import db
from audit.models import Assignment, Contact, User

from ..test_fieldwork import PHONE, VISIT
from .conftest import PHONE as PHONE_CONTEXT
from .conftest import login, no_horizontal_page_scroll, serious_violations, shot

pytestmark = pytest.mark.browser


@pytest.fixture
def phone(browser):
    context = browser.new_context(**PHONE_CONTEXT)
    page = context.new_page()
    page.device = "phone"
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"


def new_assignment(live, channel: str, email: str = "auditor@demo.test") -> int:
    with live.app.app_context():
        auditor = db.session.scalar(sa.select(User).filter_by(email=email))
        template = db.session.scalar(sa.select(Assignment).filter_by(channel=channel))
        assignment = Assignment(campaign_id=template.campaign_id, institution_id=template.institution_id,
                                channel=channel, auditor_id=auditor.id, scenario="Pytanie o dodatek mieszkaniowy.")
        db.session.add(assignment)
        db.session.commit()
        return assignment.id


def contacts_of(live, assignment_id: int) -> list[Contact]:
    with live.app.app_context():
        contacts = db.session.scalars(sa.select(Contact).filter_by(assignment_id=assignment_id)).all()
        for c in contacts:
            c.answers  # noqa: B018 - load before the session closes
        return contacts


def answer_all(page, rubric) -> None:
    """Tap the best answer of every criterion shown (conditional ones appear as it goes)."""
    for c in rubric.criteria:
        box = page.locator(f"#q-{c.id}")
        if not box.is_visible() or c.type == "number":
            continue
        value = "yes" if c.type == "yes_no" else max(c.options, key=lambda o: o.points).id
        box.locator(f"label:has(input[value='{value}'])").tap()


def saved_on_server(page) -> None:
    page.locator("#save-status.server").wait_for()


def open_form(page, live, assignment_id: int) -> None:
    page.goto(f"{live.url}/auditor/assignments/{assignment_id}")
    page.wait_for_load_state("networkidle")


def test_the_assignment_list_on_a_phone(phone, live):
    login(phone, live.url, "auditor")
    shot(phone, "auditor-assignments")
    assert phone.get_by_role("heading", name="Moje zadania").is_visible()
    assert phone.locator(".badge.status-returned").first.is_visible()
    assert no_horizontal_page_scroll(phone)
    assert serious_violations(phone) == []


def test_record_and_submit_a_visit(phone, live):
    assignment = new_assignment(live, "visit")
    login(phone, live.url, "auditor")
    open_form(phone, live, assignment)
    assert no_horizontal_page_scroll(phone)
    assert serious_violations(phone) == []
    phone.get_by_role("button", name="Teraz").tap()
    phone.get_by_label("Czas oczekiwania na obsługę (minuty)").fill("6")
    answer_all(phone, VISIT)
    phone.locator("#q-greeting summary", has_text="Komentarz").tap()
    phone.get_by_label("Komentarz: " + VISIT.criterion("greeting").question.pl).fill("Powitanie z uśmiechem.")
    shot(phone, "contact-form")
    phone.get_by_role("button", name="Wyślij do weryfikacji").tap()
    phone.wait_for_url(f"{live.url}/auditor/")
    assert phone.get_by_text("Kontakt wysłany do weryfikacji").is_visible()
    (contact,) = contacts_of(live, assignment)
    assert contact.status == "submitted" and contact.facts["wait_minutes"] == 6.0
    assert {a.criterion_id: a.comment for a in contact.answers}["greeting"] == "Powitanie z uśmiechem."


def test_record_a_phone_call_with_the_ring_counter_and_conditional_questions(phone, live):
    assignment = new_assignment(live, "phone")
    login(phone, live.url, "auditor")
    open_form(phone, live, assignment)
    greeting = phone.locator("#q-greeting")
    assert not greeting.is_visible()  # asked only once someone answered
    phone.locator("#q-answered label:has(input[value='no'])").tap()
    assert not greeting.is_visible()
    phone.locator("#q-answered label:has(input[value='yes'])").tap()
    assert greeting.is_visible()
    for _ in range(3):
        phone.get_by_role("button", name="+1 sygnał").tap()
    assert phone.get_by_label("Liczba sygnałów przed odebraniem").input_value() == "3"
    phone.get_by_role("button", name="Teraz").tap()
    answer_all(phone, PHONE)
    saved_on_server(phone)
    phone.get_by_role("button", name="Wyślij do weryfikacji").tap()
    phone.wait_for_url(f"{live.url}/auditor/")
    (contact,) = contacts_of(live, assignment)
    rings = next(a for a in contact.answers if a.criterion_id == "rings")
    assert contact.status == "submitted" and rings.value == "3" and rings.earned == rings.possible


def test_a_submit_with_a_missing_answer_lists_it_and_keeps_the_rest(phone, live):
    assignment = new_assignment(live, "visit")
    login(phone, live.url, "auditor")
    open_form(phone, live, assignment)
    phone.get_by_role("button", name="Teraz").tap()
    phone.get_by_label("Czas oczekiwania na obsługę (minuty)").fill("2")
    answer_all(phone, VISIT)
    phone.locator("#q-signage input[value='yes']").evaluate("el => { el.checked = false; }")
    with phone.expect_navigation():
        phone.get_by_role("button", name="Wyślij do weryfikacji").tap()
    missing = phone.locator("#missing")
    assert missing.is_visible()
    assert missing.get_by_role("link", name=VISIT.criterion("signage").question.pl).is_visible()
    assert missing.locator("a").count() == 1
    assert phone.locator("#q-noticed input[value='yes']").is_checked()  # nothing typed was lost
    assert serious_violations(phone) == []
    missing.get_by_role("link").first.tap()
    phone.locator("#q-signage label:has(input[value='yes'])").tap()
    phone.get_by_role("button", name="Wyślij do weryfikacji").tap()
    phone.wait_for_url(f"{live.url}/auditor/")
    assert contacts_of(live, assignment)[0].status == "submitted"


def test_a_draft_survives_a_lost_connection_and_a_reload_then_is_sent(phone, live):
    assignment = new_assignment(live, "visit")
    login(phone, live.url, "auditor")  # the list page installs the service worker
    phone.evaluate("async () => { await navigator.serviceWorker.ready; }")
    phone.reload()  # the first page loaded before the worker existed; this one is controlled
    assert phone.evaluate("navigator.serviceWorker.controller !== null")
    open_form(phone, live, assignment)
    phone.locator("#q-signage label:has(input[value='yes'])").tap()
    saved_on_server(phone)

    phone.context.set_offline(True)
    phone.locator("#q-noticed label:has(input[value='no'])").tap()
    phone.get_by_label("Czas oczekiwania na obsługę (minuty)").fill("12")
    assert "Brak połączenia" in phone.locator("#save-status").inner_text()
    phone.reload()  # offline: the service worker serves the page, the phone restores the answers
    phone.wait_for_load_state("domcontentloaded")
    assert phone.locator("#q-noticed input[value='no']").is_checked()
    assert phone.get_by_label("Czas oczekiwania na obsługę (minuty)").input_value() == "12"
    # No check that the server has not seen them yet: Chromium's offline emulation does not
    # cover requests a service worker passes through, so the phone may resend them already.

    phone.context.set_offline(False)
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    saved_on_server(phone)
    (contact,) = contacts_of(live, assignment)
    assert {a.criterion_id: a.value for a in contact.answers} == {"signage": "yes", "noticed": "no", "wait_minutes": "12"}
    assert contact.facts["wait_minutes"] == 12.0


def test_a_double_tap_on_send_makes_one_contact(phone, live):
    assignment = new_assignment(live, "visit")
    login(phone, live.url, "auditor")
    open_form(phone, live, assignment)
    phone.get_by_role("button", name="Teraz").tap()
    phone.get_by_label("Czas oczekiwania na obsługę (minuty)").fill("1")
    answer_all(phone, VISIT)
    phone.get_by_role("button", name="Wyślij do weryfikacji").dblclick()
    phone.wait_for_url(f"{live.url}/auditor/")
    contacts = contacts_of(live, assignment)
    assert len(contacts) == 1 and contacts[0].status == "submitted"


def test_an_expired_session_keeps_the_answers_until_the_auditor_logs_in_again(phone, live):
    assignment = new_assignment(live, "visit")
    login(phone, live.url, "auditor")
    open_form(phone, live, assignment)
    phone.locator("#q-signage label:has(input[value='yes'])").tap()
    saved_on_server(phone)
    phone.context.clear_cookies()  # the session ends
    phone.locator("#q-noticed label:has(input[value='yes'])").tap()
    status = phone.locator("#save-status")
    status.get_by_role("link").wait_for()
    assert "Sesja wygasła" in status.inner_text()
    status.get_by_role("link").tap()
    phone.get_by_label("E-mail").fill("auditor@demo.test")
    phone.get_by_label("Hasło").fill("demo")
    phone.get_by_role("button", name="Zaloguj się").tap()
    phone.wait_for_url(f"{live.url}/auditor/assignments/{assignment}")
    saved_on_server(phone)
    (contact,) = contacts_of(live, assignment)
    assert {a.criterion_id: a.value for a in contact.answers} == {"signage": "yes", "noticed": "yes"}


def test_a_returned_contact_is_corrected_and_sent_again(phone, live):
    with live.app.app_context():
        me = db.session.scalar(sa.select(User).filter_by(email="auditor@demo.test"))
        returned = db.session.scalars(sa.select(Contact).filter_by(auditor_id=me.id, status="returned")).first()
        assignment, comment = returned.assignment_id, returned.review_comment
    login(phone, live.url, "auditor")
    open_form(phone, live, assignment)
    assert phone.get_by_text(comment).is_visible()
    first_question = phone.locator("fieldset.criterion:visible").first
    first_question.locator("summary", has_text="Komentarz").tap()
    first_question.locator("textarea").fill("Uzupełniono zgodnie z uwagą weryfikatora.")
    phone.get_by_role("button", name="Wyślij do weryfikacji").tap()
    phone.wait_for_url(f"{live.url}/auditor/")
    (contact,) = contacts_of(live, assignment)
    assert contact.status == "submitted"
    assert "Uzupełniono zgodnie z uwagą weryfikatora." in {a.comment for a in contact.answers}


def test_an_auditor_cannot_open_another_auditors_contact(phone, live):
    other = new_assignment(live, "visit", email="auditor2@demo.test")
    login(phone, live.url, "auditor")
    response = phone.goto(f"{live.url}/auditor/assignments/{other}")
    assert response.status == 404
    assert "Pytanie o dodatek mieszkaniowy." not in phone.content()


def site_data(page) -> dict:
    return page.evaluate("""async () => ({
        caches: (await caches.keys()).length,
        workers: (await navigator.serviceWorker.getRegistrations()).length,
        stored: localStorage.length})""")


def log_out(page) -> None:
    page.get_by_role("button", name="Wyloguj").tap()


def test_logging_out_leaves_nothing_of_the_auditor_on_the_phone(phone, live):
    """The next person to pick up the phone, offline, sees none of the auditor's pages."""
    assignment = new_assignment(live, "visit")
    login(phone, live.url, "auditor")
    phone.evaluate("async () => { await navigator.serviceWorker.ready; }")
    phone.reload()
    open_form(phone, live, assignment)
    phone.goto(f"{live.url}/auditor/")
    phone.wait_for_load_state("networkidle")
    before = site_data(phone)
    assert before["caches"] > 0 and before["workers"] == 1  # the pages are kept for offline use
    pseudonym = phone.locator("body").inner_text()
    log_out(phone)
    phone.wait_for_url(f"{live.url}/login")
    assert site_data(phone) == {"caches": 0, "workers": 0, "stored": 0}
    phone.context.set_offline(True)
    for path in ("/auditor/", f"/auditor/assignments/{assignment}"):
        try:
            phone.goto(live.url + path)
            shown = phone.locator("body").inner_text()
        except PlaywrightError as error:  # the browser's own "no connection" page is the right outcome
            assert "ERR_INTERNET_DISCONNECTED" in str(error)
            shown = ""
        assert "Pytanie o dodatek mieszkaniowy" not in shown and "A-01" not in shown, shown
    assert "A-01" in pseudonym  # what we looked for was there before logging out
    phone.context.set_offline(False)


def keep_unsent_on_phone(page, live, assignment: int) -> None:
    """Answers only this phone holds, as contact.js keeps them when they cannot be sent."""
    open_form(page, live, assignment)
    page.evaluate("""([key, url]) => localStorage.setItem(key, JSON.stringify({
        client_id: crypto.randomUUID(), base_version: "", url: url, synced: false,
        fields: {a_signage: "yes"}}))""", [page.locator("#contact-form").get_attribute("data-key"),
                                            page.locator("#contact-form").get_attribute("data-autosave")])
    page.goto(f"{live.url}/auditor/")


def test_logging_out_sends_unsent_answers_first(phone, live):
    assignment = new_assignment(live, "visit")
    login(phone, live.url, "auditor")
    keep_unsent_on_phone(phone, live, assignment)
    log_out(phone)
    phone.wait_for_url(f"{live.url}/login")
    (contact,) = contacts_of(live, assignment)
    assert {a.criterion_id: a.value for a in contact.answers} == {"signage": "yes"}


def test_logging_out_offline_shows_what_would_be_lost_and_lets_the_auditor_stay(phone, live):
    assignment = new_assignment(live, "visit")
    login(phone, live.url, "auditor")
    keep_unsent_on_phone(phone, live, assignment)
    phone.context.set_offline(True)
    log_out(phone)
    dialog = phone.get_by_role("dialog", name="Odpowiedzi jeszcze niewysłane")
    dialog.wait_for()
    assert dialog.locator("[data-count]").inner_text() == "1"
    shot(phone, "logout-unsent")
    dialog.get_by_role("button", name="Nie wylogowuj").tap()
    assert not dialog.is_visible()
    assert phone.evaluate("localStorage.length") == 1  # nothing deleted without a yes
    phone.context.set_offline(False)
    log_out(phone)  # online again: sent, then logged out
    phone.wait_for_url(f"{live.url}/login")
    assert len(contacts_of(live, assignment)) == 1


def test_a_form_left_open_when_fieldwork_closes_keeps_its_answers_and_says_why(phone, own_live):
    live = own_live
    assignment = new_assignment(live, "visit")
    login(phone, live.url, "auditor")
    open_form(phone, live, assignment)
    with live.app.app_context():  # the organiser closes the fieldwork while the form is open
        from audit.models import Campaign

        db.session.get(Campaign, 1).status = "review"
        db.session.commit()
    phone.locator("#q-signage label:has(input[value='yes'])").tap()
    status = phone.locator("#save-status.error")
    status.wait_for()
    assert "zamknięte" in status.inner_text() and "zachowane w telefonie" in status.inner_text()
    kept = phone.evaluate("key => JSON.parse(localStorage.getItem(key))",
                          phone.locator("#contact-form").get_attribute("data-key"))
    assert kept["fields"]["a_signage"] == "yes" and not kept["synced"]
    assert contacts_of(live, assignment) == []  # nothing new reached the closed edition
    phone.reload()
    assert phone.locator("#closed").is_visible() and phone.get_by_role("button", name="Wyślij do weryfikacji").count() == 0


def test_the_stopwatch_never_records_a_short_wait_as_zero(phone, live):
    assignment = new_assignment(live, "visit")
    login(phone, live.url, "auditor")
    open_form(phone, live, assignment)
    phone.get_by_role("button", name="Start").tap()
    phone.wait_for_timeout(2200)
    assert phone.get_by_role("button", name="Stop · 0:02").is_visible()  # the running time is shown
    phone.get_by_role("button", name="Stop · 0:02").tap()
    recorded = float(phone.get_by_label("Czas oczekiwania na obsługę (minuty)").input_value())
    assert 0.03 <= recorded <= 0.05  # 2 seconds are 0.03 minutes, not 0
