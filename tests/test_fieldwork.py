"""The auditor's field app over HTTP: assignments, drafts, submissions, retries, copies, access."""

from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa

from audit import fieldwork
from audit.extensions import db
from audit.models import Answer, Assignment, AuditEvent, Campaign, Contact, ContactCopy, User
from audit.rubrics import load_rubric

from .conftest import ROOT, Auth

PHONE = load_rubric(ROOT / "rubrics" / "phone.yaml")
VISIT = load_rubric(ROOT / "rubrics" / "visit.yaml")
EMAIL = load_rubric(ROOT / "rubrics" / "email.yaml")
WEBSITE = load_rubric(ROOT / "rubrics" / "website.yaml")


def best_answers(rubric) -> dict[str, str]:
    """Form fields answering every criterion with its best answer (measured ones come from facts)."""
    fields = {}
    for c in rubric.criteria:
        if c.type == "yes_no":
            fields[f"a_{c.id}"] = "yes"
        elif c.type in ("scale", "choice"):
            fields[f"a_{c.id}"] = max(c.options, key=lambda o: o.points).id
        elif c.fact is None:
            fields[f"a_{c.id}"] = "1"
    return fields


def todo(app, channel: str, email: str = "auditor@demo.test") -> int:
    """A fresh assignment of the demo auditor, with no contact yet."""
    with app.app_context():
        auditor = db.session.scalar(sa.select(User).filter_by(email=email))
        template = db.session.scalar(sa.select(Assignment).filter_by(channel=channel))
        assignment = Assignment(campaign_id=template.campaign_id, institution_id=template.institution_id,
                                channel=channel, auditor_id=auditor.id, scenario="Pytanie o dodatek mieszkaniowy.")
        db.session.add(assignment)
        db.session.commit()
        return assignment.id


def hidden_fields(page: str) -> dict[str, str]:
    return {name: value for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page)}


def open_form(client, assignment_id: int) -> dict[str, str]:
    response = client.get(f"/auditor/assignments/{assignment_id}")
    assert response.status_code == 200
    return hidden_fields(response.get_data(as_text=True))


def contact_of(app, assignment_id: int) -> Contact | None:
    with app.app_context():
        contact = db.session.scalar(sa.select(Contact).filter_by(assignment_id=assignment_id))
        if contact is not None:
            contact.answers, contact.copies  # load before the session ends  # noqa: B018
        return contact


@pytest.fixture
def auditor(demo_client):
    Auth(demo_client).as_role("auditor")
    return demo_client


# --- what an auditor sees ---------------------------------------------------------------------

def test_the_list_shows_only_the_auditors_own_assignments_with_their_state(demo_app, auditor):
    page = auditor.get("/auditor/").get_data(as_text=True)
    shown = {int(i) for i in re.findall(r'href="/auditor/assignments/(\d+)"', page)}
    with demo_app.app_context():
        me = db.session.scalar(sa.select(User).filter_by(email="auditor@demo.test"))
        mine = set(db.session.scalars(sa.select(Assignment.id).filter_by(auditor_id=me.id)))
    assert shown == mine and len(shown) > 5
    assert "Do zrobienia" in page and "Zwrócony" in page and "Zaakceptowany" in page
    assert "Termin badania" in page


def test_another_auditors_assignment_is_not_found_and_other_roles_are_forbidden(demo_app, demo_client):
    other = todo(demo_app, "visit", email="auditor2@demo.test")
    auth = Auth(demo_client)
    auth.as_role("auditor")
    assert demo_client.get(f"/auditor/assignments/{other}").status_code == 404
    page = demo_client.get("/auditor/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    posted = demo_client.post(f"/auditor/assignments/{other}", data={"csrf_token": token, "client_id": str(uuid.uuid4())})
    assert posted.status_code == 404 and contact_of(demo_app, other) is None
    demo_client.post("/logout", data={"csrf_token": token})
    auth.as_role("organiser")
    assert demo_client.get(f"/auditor/assignments/{other}").status_code == 403


def test_the_form_offers_na_only_where_the_rubric_allows_it(demo_app, auditor):
    assignment = todo(demo_app, "visit")
    page = auditor.get(f"/auditor/assignments/{assignment}").get_data(as_text=True)
    for c in VISIT.criteria:
        if c.type == "number":
            continue
        offered = f'name="a_{c.id}" value="n/a"' in page
        assert offered == c.na_allowed, c.id
    assert page.count("<legend>") >= len(VISIT.criteria)
    assert 'id="f_contacted_at"' in page and 'id="f_wait_minutes"' in page


# --- drafts and submissions ---------------------------------------------------------------------

def test_a_visit_is_saved_as_a_draft_then_sent_when_complete(demo_app, auditor):
    assignment = todo(demo_app, "visit")
    form = open_form(auditor, assignment)
    draft = {**form, "action": "save", "a_signage": "yes", "n_signage": "Tablica przy wejściu."}
    assert auditor.post(f"/auditor/assignments/{assignment}", data=draft).status_code == 302
    contact = contact_of(demo_app, assignment)
    assert contact.status == "draft" and contact.client_id == form["client_id"]
    assert {a.criterion_id: a.comment for a in contact.answers}["signage"] == "Tablica przy wejściu."

    form = open_form(auditor, assignment)
    complete = {**form, "action": "submit", **best_answers(VISIT), "f_contacted_at": "2026-11-20T10:15",
                "f_wait_minutes": "4"}
    response = auditor.post(f"/auditor/assignments/{assignment}", data=complete)
    assert response.status_code == 302 and response.headers["Location"].endswith("/auditor/")
    contact = contact_of(demo_app, assignment)
    assert contact.status == "submitted" and contact.submitted_at is not None
    assert contact.facts == {"contacted_at": "2026-11-20T10:15", "wait_minutes": 4.0}
    assert str(contact.contacted_at) == "2026-11-20 10:15:00"
    earned = sum(a.earned for a in contact.answers)
    possible = sum(a.possible for a in contact.answers)
    assert earned == possible > 0  # best answers everywhere, and 4 minutes is in the best band


def test_a_submit_with_missing_answers_names_each_and_keeps_everything_typed(demo_app, auditor):
    assignment = todo(demo_app, "visit")
    form = open_form(auditor, assignment)
    answers = best_answers(VISIT)
    del answers["a_signage"]
    response = auditor.post(f"/auditor/assignments/{assignment}",
                            data={**form, "action": "submit", **answers, "n_greeting": "Miła rozmowa",
                                  "f_wait_minutes": "3"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    missing = page.split('id="missing"')[1].split("</div>")[0]
    assert VISIT.criterion("signage").question.pl in missing and 'href="#q-signage"' in missing
    assert 'href="#f_contacted_at"' in missing  # the date of the visit is required too
    assert 'name="a_noticed" value="yes" checked' in page and "Miła rozmowa" in page
    contact = contact_of(demo_app, assignment)
    assert contact.status == "draft"  # saved, not sent
    assert {a.criterion_id for a in contact.answers} >= {"noticed", "greeting"}


@pytest.mark.parametrize(("field", "value", "message"), [
    ("a_greeting", "maybe", "Wybierz jedną z pokazanych odpowiedzi."),
    ("a_greeting", "yes; DROP TABLE answer", "Wybierz jedną z pokazanych odpowiedzi."),
    ("a_visit_minutes_note", "", None),  # not a field of the rubric: ignored
])
def test_a_posted_answer_outside_the_rubric_is_refused_beside_its_field_and_nothing_is_saved(
        demo_app, auditor, field, value, message):
    assignment = todo(demo_app, "visit")
    form = open_form(auditor, assignment)
    response = auditor.post(f"/auditor/assignments/{assignment}",
                            data={**form, "action": "save", "a_noticed": "yes", "n_noticed": "Tablica przy wejściu",
                                  field: value})
    if message is None:
        assert response.status_code == 302
        return
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.count(message) == 1 and "nic z wpisanych danych nie zginęło" in page
    assert 'name="a_noticed" value="yes" checked' in page and "Tablica przy wejściu" in page  # kept as typed
    assert contact_of(demo_app, assignment) is None  # a refused form saves nothing


@pytest.mark.parametrize("typed", ["-1", "abc", "inf", "nan", "1e999"])
def test_a_typed_number_that_is_not_a_count_is_refused_in_polish(demo_app, auditor, typed):
    rubric = WEBSITE
    criterion = next(c for c in rubric.criteria if c.type == "number" and c.fact is None)
    assignment = todo(demo_app, rubric.channel)
    form = open_form(auditor, assignment)
    response = auditor.post(f"/auditor/assignments/{assignment}",
                            data={**form, "action": "save", f"a_{criterion.id}": typed})
    assert response.status_code == 422
    assert "Podaj liczbę równą zero lub większą, na przykład 4 albo 4,5." in response.get_data(as_text=True)
    assert contact_of(demo_app, assignment) is None


def test_a_decimal_comma_and_a_long_comment_are_read_as_the_auditor_meant(demo_app, auditor):
    rubric = WEBSITE
    criterion = next(c for c in rubric.criteria if c.type == "number" and c.fact is None)
    assignment = todo(demo_app, rubric.channel)
    form = open_form(auditor, assignment)
    too_long = auditor.post(f"/auditor/assignments/{assignment}", data={
        **form, "action": "save", f"a_{criterion.id}": " 4,5 ", f"n_{criterion.id}": "x" * 2001})
    assert too_long.status_code == 422
    assert "Komentarz może mieć najwyżej 2000 znaków." in too_long.get_data(as_text=True)
    assert contact_of(demo_app, assignment) is None
    saved = auditor.post(f"/auditor/assignments/{assignment}", data={
        **form, "action": "save", f"a_{criterion.id}": " 4,5 ", f"n_{criterion.id}": " " + "x" * 1998 + " "})
    assert saved.status_code == 302
    (answer,) = [a for a in contact_of(demo_app, assignment).answers if a.criterion_id == criterion.id]
    assert answer.value == "4.5" and answer.comment == "x" * 1998


def test_a_phone_call_takes_its_ring_count_from_the_facts(demo_app, auditor):
    assignment = todo(demo_app, "phone")
    form = open_form(auditor, assignment)
    data = {**form, "action": "submit", **best_answers(PHONE), "f_contacted_at": "2026-11-21T09:00",
            "f_rings": "5", "f_answer_seconds": "20", "f_transferred": "no", "f_call_minutes": "4,5"}
    assert auditor.post(f"/auditor/assignments/{assignment}", data=data).status_code == 302
    contact = contact_of(demo_app, assignment)
    rings = next(a for a in contact.answers if a.criterion_id == "rings")
    band = next(b for b in PHONE.criterion("rings").bands if b.holds(5.0))
    assert rings.value == "5" and rings.earned == band.points
    assert contact.facts["call_minutes"] == 4.5 and contact.facts["transferred"] == "no"


def test_a_measured_criterion_without_its_fact_blocks_the_submission(demo_app, auditor):
    assignment = todo(demo_app, "phone")
    form = open_form(auditor, assignment)
    response = auditor.post(f"/auditor/assignments/{assignment}",
                            data={**form, "action": "submit", **best_answers(PHONE), "f_contacted_at": "2026-11-21T09:00"})
    assert response.status_code == 422
    assert 'href="#f_rings"' in response.get_data(as_text=True).split('id="missing"')[1].split("</div>")[0]


def test_conditional_criteria_are_hidden_by_the_server_until_their_condition_holds(demo_app, auditor):
    assignment = todo(demo_app, "phone")
    form = open_form(auditor, assignment)
    auditor.post(f"/auditor/assignments/{assignment}", data={**form, "action": "save", "a_answered": "no"})
    page = auditor.get(f"/auditor/assignments/{assignment}").get_data(as_text=True)
    assert re.search(r'id="q-greeting" data-when=\'[^\']*\' hidden', page)
    assert not re.search(r'id="q-answered" data-when=\'[^\']*\' hidden', page)
    # Not answered: the conditional criteria are not asked, so a submit needs only the rest.
    form = hidden_fields(page)
    response = auditor.post(f"/auditor/assignments/{assignment}",
                            data={**form, "action": "submit", "a_answered": "no", "f_contacted_at": "2026-11-21T09:00"})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    assert contact_of(demo_app, assignment).status == "submitted"


def test_an_email_reply_time_is_computed_from_sent_and_received(demo_app, auditor):
    assignment = todo(demo_app, "email")
    form = open_form(auditor, assignment)
    data = {**form, "action": "submit", **best_answers(EMAIL), "f_sent_at": "2026-11-02T08:00",
            "f_reply_at": "2026-11-03T14:30"}
    assert auditor.post(f"/auditor/assignments/{assignment}", data=data).status_code == 302
    contact = contact_of(demo_app, assignment)
    assert next(a for a in contact.answers if a.criterion_id == "reply_hours").value == "30.5"
    bad = todo(demo_app, "email")
    form = open_form(auditor, bad)
    response = auditor.post(f"/auditor/assignments/{bad}", data={**form, "action": "submit", **best_answers(EMAIL),
                                                                 "f_sent_at": "2026-11-02T08:00",
                                                                 "f_reply_at": "2026-11-01T08:00"})
    assert response.status_code == 422 and "the reply cannot come before" not in response.get_data(as_text=True)
    assert "odpowiedź nie może" in response.get_data(as_text=True)


# --- nothing lost, nothing doubled ------------------------------------------------------------

def test_a_retried_or_double_submission_makes_one_contact(demo_app, auditor):
    assignment = todo(demo_app, "visit")
    form = open_form(auditor, assignment)
    data = {**form, "action": "submit", **best_answers(VISIT), "f_contacted_at": "2026-11-20T10:15",
            "f_wait_minutes": "2"}
    first = auditor.post(f"/auditor/assignments/{assignment}", data=data)
    second = auditor.post(f"/auditor/assignments/{assignment}", data=data)
    assert first.status_code == second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    with demo_app.app_context():
        contacts = db.session.scalars(sa.select(Contact).filter_by(assignment_id=assignment)).all()
        assert len(contacts) == 1 and contacts[0].status == "submitted"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ContactCopy)) == 0


def autosave(client, assignment_id: int, data: dict[str, str]):
    return client.post(f"/auditor/assignments/{assignment_id}/autosave", data=data,
                       headers={"X-Requested-With": "fetch"})


def test_autosave_answers_json_with_the_new_version(demo_app, auditor):
    assignment = todo(demo_app, "visit")
    form = open_form(auditor, assignment)
    first = autosave(auditor, assignment, {**form, "a_signage": "yes"})
    assert first.status_code == 200 and first.json["outcome"] == "saved"
    again = autosave(auditor, assignment, {**form, "base_version": str(first.json["version"]), "a_signage": "yes"})
    assert again.json["outcome"] == "unchanged" and again.json["version"] == first.json["version"]
    later = autosave(auditor, assignment, {**form, "base_version": str(first.json["version"]), "a_signage": "no"})
    assert later.json["outcome"] == "saved" and later.json["version"] > first.json["version"]


def test_a_stale_save_never_overwrites_a_newer_one_and_both_are_kept(demo_app, auditor):
    assignment = todo(demo_app, "visit")
    form = open_form(auditor, assignment)
    phone = autosave(auditor, assignment, {**form, "a_signage": "yes"}).json  # the phone saves first
    newer = autosave(auditor, assignment, {**form, "base_version": str(phone["version"]), "a_signage": "no"}).json
    stale = autosave(auditor, assignment, {**form, "base_version": str(phone["version"]), "a_noticed": "yes"})
    assert stale.status_code == 409 and stale.json["outcome"] == "copy_kept"
    contact = contact_of(demo_app, assignment)
    assert contact.version == newer["version"]
    assert {a.criterion_id: a.value for a in contact.answers} == {"signage": "no"}
    (copy,) = contact.copies
    assert copy.payload["answers"] == {"noticed": "yes"} and copy.base_version == phone["version"]

    page = auditor.get(f"/auditor/assignments/{assignment}").get_data(as_text=True)
    assert "Otwórz tamtą wersję" in page
    shown = auditor.get(f"/auditor/assignments/{assignment}?copy={copy.id}").get_data(as_text=True)
    assert 'name="a_noticed" value="yes" checked' in shown and 'name="a_signage" value="no" checked' not in shown
    token = hidden_fields(page)["csrf_token"]
    auditor.post(f"/auditor/assignments/{assignment}/copies/{copy.id}/dismiss", data={"csrf_token": token,
                                                                                     "confirm": "1"})
    assert "Otwórz tamtą wersję" not in auditor.get(f"/auditor/assignments/{assignment}").get_data(as_text=True)
    assert contact_of(demo_app, assignment).copies[0].dismissed_at is not None  # dismissed, still kept


def test_discarding_a_kept_version_asks_first_and_says_what_it_holds(demo_app, auditor):
    assignment = todo(demo_app, "visit")
    form = open_form(auditor, assignment)
    phone = autosave(auditor, assignment, {**form, "a_signage": "yes"}).json
    autosave(auditor, assignment, {**form, "base_version": str(phone["version"]), "a_signage": "no"})
    autosave(auditor, assignment, {**form, "base_version": str(phone["version"]), "a_noticed": "yes"})
    (copy,) = contact_of(demo_app, assignment).copies
    token = hidden_fields(auditor.get(f"/auditor/assignments/{assignment}").get_data(as_text=True))["csrf_token"]

    asked = auditor.post(f"/auditor/assignments/{assignment}/copies/{copy.id}/dismiss", data={"csrf_token": token})
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Odrzucić tamtą wersję?" in page
    assert re.search(r"<dt>Odpowiedzi w niej</dt><dd>1</dd>", page)
    assert 'name="confirm" value="1"' in page
    assert contact_of(demo_app, assignment).copies[0].dismissed_at is None  # nothing changed yet


def test_an_expired_session_gets_json_401_for_autosave_and_a_login_page_for_the_form(demo_app, demo_client):
    assignment = todo(demo_app, "visit")
    Auth(demo_client).as_role("auditor")
    form = open_form(demo_client, assignment)
    with demo_client.session_transaction() as session:
        session.clear()  # the session ended (expired, or the server's key changed)
    response = autosave(demo_client, assignment, {**form, "a_signage": "yes"})
    assert response.status_code == 401 and response.json["outcome"] == "login_required"
    assert response.json["login_url"].startswith("/login")
    response = demo_client.post(f"/auditor/assignments/{assignment}", data={**form, "a_signage": "yes"})
    assert response.status_code == 400 and "Zaloguj się ponownie" in response.get_data(as_text=True)
    assert f"next=/auditor/assignments/{assignment}" in response.get_data(as_text=True).replace("%2F", "/")


@pytest.mark.parametrize("stage", ["fieldwork", "review"])
def test_a_returned_contact_shows_the_comment_and_can_be_corrected_and_resent(demo_app, auditor, stage):
    with demo_app.app_context():
        db.session.get(Campaign, 1).status = stage  # after fieldwork too: a returned contact is corrected
        db.session.commit()
        me = db.session.scalar(sa.select(User).filter_by(email="auditor@demo.test"))
        returned = db.session.scalar(sa.select(Contact).filter_by(auditor_id=me.id, status="returned"))
        assignment, comment = returned.assignment_id, returned.review_comment
    page = auditor.get(f"/auditor/assignments/{assignment}").get_data(as_text=True)
    assert comment in page and "Zwrócony przez weryfikatora" in page
    form = hidden_fields(page)
    values = dict(re.findall(r'name="(a_\w+)" value="([^"]+)" checked', page))
    values.update(dict(re.findall(r'id="(f_\w+)" name="f_\w+" value="([^"]+)"', page)))
    values.update({f"f_{k}": v for k, v in re.findall(r'name="f_(\w+)" value="(\w+)" checked', page)})
    first = next(k for k in values if k.startswith("a_"))[2:]
    values[f"n_{first}"] = "Poprawione po uwagach."  # a contact made outside the app: the first phone adopts it
    response = auditor.post(f"/auditor/assignments/{assignment}", data={**form, **values, "action": "submit"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    contact = contact_of(demo_app, assignment)
    assert contact.status == "submitted" and contact.client_id == form["client_id"] and not contact.copies
    assert "Poprawione po uwagach." in {a.comment for a in contact.answers}


def test_an_accepted_contact_is_read_only_and_a_late_change_is_kept_aside(demo_app, auditor):
    with demo_app.app_context():
        me = db.session.scalar(sa.select(User).filter_by(email="auditor@demo.test"))
        accepted = db.session.scalar(sa.select(Contact).filter_by(auditor_id=me.id, status="accepted", channel="visit"))
        assignment, before = accepted.assignment_id, accepted.version
        answers_before = dict(db.session.execute(
            sa.select(Answer.criterion_id, Answer.value).filter_by(contact_id=accepted.id)).all())
    page = auditor.get(f"/auditor/assignments/{assignment}").get_data(as_text=True)
    assert "nie można go już zmienić" in page and "<fieldset class=\"section-body\" disabled>" in page
    assert "Wyślij do weryfikacji" not in page
    response = autosave(auditor, assignment, {**hidden_fields(page), "a_signage": "no"})
    assert response.status_code == 409 and response.json["outcome"] == "locked"
    contact = contact_of(demo_app, assignment)
    assert contact.version == before and contact.status == "accepted"
    assert {a.criterion_id: a.value for a in contact.answers} == answers_before


# --- after fieldwork ----------------------------------------------------------------------------

CLOSED = "Badanie terenowe w tej edycji jest zamknięte: nowych kontaktów"


def close_fieldwork(app) -> None:
    with app.app_context():
        db.session.get(Campaign, 1).status = "review"
        db.session.commit()


def submissions(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).filter_by(action="contact_submitted"))


@pytest.mark.parametrize(("stage", "contact", "refused"), [
    ("fieldwork", None, False), ("fieldwork", "draft", False), ("fieldwork", "returned", False),
    ("review", None, True), ("review", "draft", True), ("review", "returned", False),
    ("review", "submitted", False),  # a late save of a sent contact is kept aside as a copy, as in fieldwork
    ("published", "returned", True), ("published", None, True),
])
def test_after_fieldwork_only_a_returned_contact_is_taken(stage, contact, refused):
    assert (fieldwork.stage_refusal(stage, contact) is not None) == refused


def test_after_fieldwork_a_new_contact_is_refused_on_every_path_and_what_was_typed_is_shown(demo_app, auditor):
    assignment = todo(demo_app, "visit")
    form = open_form(auditor, assignment)  # opened during fieldwork, sent after it closed
    close_fieldwork(demo_app)
    data = {**form, **best_answers(VISIT), "f_contacted_at": "2026-11-20T10:15", "f_wait_minutes": "2"}

    before = submissions(demo_app)
    page = auditor.get(f"/auditor/assignments/{assignment}").get_data(as_text=True)
    assert CLOSED in page and 'value="submit"' not in page and 'data-editable="0"' in page
    sent = auditor.post(f"/auditor/assignments/{assignment}", data={**data, "action": "submit"})
    assert sent.status_code == 409
    shown = sent.get_data(as_text=True)
    assert CLOSED in shown and 'name="a_signage" value="yes" checked' in shown and 'value="submit"' not in shown
    saved = autosave(auditor, assignment, data)
    assert saved.status_code == 409 and saved.json["outcome"] == "closed" and CLOSED in saved.json["message"]
    with demo_app.app_context():
        assert db.session.scalar(sa.select(Contact).filter_by(assignment_id=assignment)) is None
        assert submissions(demo_app) == before


def test_after_fieldwork_a_draft_keeps_what_is_stored_and_cannot_be_sent(demo_app, auditor):
    assignment = todo(demo_app, "visit")
    form = open_form(auditor, assignment)
    draft = autosave(auditor, assignment, {**form, "a_signage": "yes"}).json
    close_fieldwork(demo_app)
    later = {**form, "base_version": str(draft["version"]), **best_answers(VISIT), "a_signage": "no",
             "f_contacted_at": "2026-11-20T10:15", "f_wait_minutes": "2"}
    assert autosave(auditor, assignment, later).json["outcome"] == "closed"
    assert auditor.post(f"/auditor/assignments/{assignment}", data={**later, "action": "submit"}).status_code == 409
    contact = contact_of(demo_app, assignment)
    assert contact.status == "draft" and contact.version == draft["version"]
    assert {a.criterion_id: a.value for a in contact.answers} == {"signage": "yes"}


def test_a_draft_of_comments_alone_is_stored_with_empty_answers(demo_app, auditor):
    """Every stored column of the new contact's rows empty but one (on PostgreSQL the rows go as arrays)."""
    assignment = todo(demo_app, "visit")
    form = open_form(auditor, assignment)
    response = auditor.post(f"/auditor/assignments/{assignment}",
                            data={**form, "action": "save", "n_greeting": "Nikt nie powitał", "n_signage": "Brak tablicy"})
    assert response.status_code == 302
    rows = {(a.criterion_id, a.value, a.comment, a.earned, a.possible, a.critical_failed)
            for a in contact_of(demo_app, assignment).answers}
    assert rows == {("greeting", None, "Nikt nie powitał", 0.0, 2.0, False),  # unanswered yet: nothing earned
                    ("signage", None, "Brak tablicy", 0.0, 1.0, False)}


def test_a_first_submission_is_two_reads_then_one_write_per_table_or_one_in_all(demo_app, auditor):
    """The field app's busiest request: the person and session, then the assignment with what is stored; then
    the contact, its answers and its log entry, with no ORM bookkeeping and no re-read after: three statements,
    or on PostgreSQL one (data-modifying CTEs)."""
    assignment = todo(demo_app, "visit")
    form = open_form(auditor, assignment)
    data = {**form, "action": "submit", **best_answers(VISIT), "f_contacted_at": "2026-11-20T10:15",
            "f_wait_minutes": "4"}
    statements: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()[:3]))

    with demo_app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        response = auditor.post(f"/auditor/assignments/{assignment}", data=data)
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
    assert response.status_code == 302 and response.headers["Location"].endswith("/auditor/")
    reads = [s.replace('"', "") for s in statements if s.startswith("SELECT")]
    writes = [s for s in statements if not s.startswith("SELECT")]
    assert reads == ["SELECT user.id, user.email,", "SELECT assignment.id, assignment.campaign_id,"], statements
    if engine.dialect.name == "postgresql":
        assert writes == ["WITH new_contact AS"], statements
    else:
        assert writes == ["INSERT INTO contact", "INSERT INTO answer", "INSERT INTO audit_event"], statements
    contact = contact_of(demo_app, assignment)
    with demo_app.app_context():
        entry = db.session.scalar(sa.select(AuditEvent).filter_by(action="contact_submitted", object_id=contact.id))
        assert (entry.actor_id, entry.campaign_id, entry.object_type) == (contact.auditor_id, contact.campaign_id,
                                                                          "contact")
    assert contact.status == "submitted" and contact.version == 1 and contact.client_id == form["client_id"]
    assert sum(a.earned for a in contact.answers) == sum(a.possible for a in contact.answers) > 0
