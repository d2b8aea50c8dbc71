"""The auditor's list (issue 14): by edition, the current first; filter by state; what is due soon;
and an assignment whose window has not opened cannot be filled in yet."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from audit import fieldwork
from audit.extensions import db
from audit.i18n import local_today
from audit.models import Assignment, Campaign, Contact, User

from .conftest import Auth
from .test_fieldwork import VISIT, autosave, best_answers, open_form


@pytest.fixture
def auditor(demo_client):
    Auth(demo_client).as_role("auditor")
    return demo_client


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page))).replace("\u00a0", " ")


def assignment(app, campaign_id: int = 1, start: int | None = None, end: int | None = None) -> int:
    """A new assignment of the demo auditor with its window `start`..`end` days from today (local)."""
    with app.app_context(), app.test_request_context():
        today = local_today()
        auditor = db.session.scalar(sa.select(User).filter_by(email="auditor@demo.test"))
        template = db.session.scalar(sa.select(Assignment).filter_by(channel="visit", campaign_id=campaign_id))
        new = Assignment(campaign_id=campaign_id, institution_id=template.institution_id, channel="visit",
                         auditor_id=auditor.id, scenario="Pytanie o dodatek mieszkaniowy.",
                         due_start=None if start is None else today + timedelta(days=start),
                         due_end=None if end is None else today + timedelta(days=end))
        db.session.add(new)
        db.session.commit()
        return new.id


def card(page: str, assignment_id: int) -> str:
    found = re.search(r'<li class="card[^"]*"[^>]*>\s*<h3><a href="/auditor/assignments/' + str(assignment_id)
                      + r'">.*?</li>', page, re.S)
    assert found, f"no card for assignment {assignment_id}"
    return text_of(found.group(0))


def test_the_window_rule_refuses_only_before_it_opens():
    campaign = Campaign(status="fieldwork")
    a = Assignment(campaign=campaign, due_start=date(2027, 3, 1), due_end=date(2027, 6, 30))
    with pytest.raises(fieldwork.WindowNotOpen):
        fieldwork.check_open(a, None, today=date(2027, 2, 28))
    fieldwork.check_open(a, None, today=date(2027, 3, 1))  # the first day of the window takes it
    fieldwork.check_open(a, None, today=date(2027, 7, 1))  # late is late, not refused
    sent = Contact(status="returned")
    fieldwork.check_open(a, sent, today=date(2027, 2, 28))  # a returned contact follows its stage's rule


def test_an_assignment_before_its_window_says_so_and_refuses_every_save(demo_app, auditor):
    early = assignment(demo_app, start=90, end=180)
    form = open_form(auditor, early)
    page = auditor.get(f"/auditor/assignments/{early}").get_data(as_text=True)
    assert "Termin badania tego zadania zaczyna się" in text_of(page) and 'data-editable="0"' in page
    data = {**form, **best_answers(VISIT), "f_contacted_at": "2026-11-20T10:15", "f_wait_minutes": "2"}
    sent = auditor.post(f"/auditor/assignments/{early}", data={**data, "action": "submit"})
    assert sent.status_code == 409 and "do tego dnia nie można go wypełniać" in text_of(sent.get_data(as_text=True))
    saved = autosave(auditor, early, data)
    assert saved.status_code == 409 and saved.json["outcome"] == "closed"
    assert "zaczyna się" in saved.json["message"]
    with demo_app.app_context():
        assert db.session.scalar(sa.select(Contact).filter_by(assignment_id=early)) is None
    listed = card(auditor.get("/auditor/").get_data(as_text=True), early)
    assert "Termin badania jeszcze się nie zaczął" in listed


def test_the_list_groups_by_edition_current_first_and_folds_closed_ones(demo_app, auditor):
    page = auditor.get("/auditor/").get_data(as_text=True)
    with demo_app.app_context():
        names = dict(db.session.execute(sa.select(Campaign.id, Campaign.name)).all())
    current = page.index(f'<h2 id="edition-1">{names[1]}')
    folded = [page.index(names[i]) for i in (2, 3)]
    assert all(current < f for f in folded)
    assert page.count('<details class="edition-work closed">') == 2
    assert "Lider Zaufania Mieszkańców 2026 (demo)" in card(page, int(re.search(
        r'href="/auditor/assignments/(\d+)"', page[current:]).group(1)))  # each card names its edition


def test_a_closed_editions_cards_never_say_to_do(demo_app, auditor):
    missed = assignment(demo_app, campaign_id=3)  # never done, and the edition is published
    page = auditor.get("/auditor/").get_data(as_text=True)
    shown = card(page, missed)
    assert "Do zrobienia" not in shown and "Niewykonane (badanie zakończone)" in shown
    closed = page[page.index('<details class="edition-work closed">'):]
    assert "Do zrobienia" not in text_of(closed)


def test_the_filter_keeps_one_state_and_due_soon_lists_the_nearest_ends(demo_app, auditor):
    soon = assignment(demo_app, start=-3, end=2)
    page = auditor.get("/auditor/").get_data(as_text=True)
    soon_box = text_of(page[page.index('id="soon-title"'):page.index("</section>", page.index('id="soon-title"'))])
    assert "Wkrótce mija termin" in text_of(page) and "Zostały 2 dni" in card(page, soon)
    assert soon_box.count("termin mija") >= 1
    returned = auditor.get("/auditor/?state=returned").get_data(as_text=True)
    states = set(re.findall(r'<li class="card status-(\w+)"', returned))
    assert states == {"returned"}
    with demo_app.app_context():
        me = db.session.scalar(sa.select(User).filter_by(email="auditor@demo.test"))
        count = db.session.scalar(sa.select(sa.func.count()).select_from(Contact)
                                  .filter_by(auditor_id=me.id, status="returned"))
    assert returned.count('<li class="card status-returned"') == count
