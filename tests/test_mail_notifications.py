"""Notifications: assignments given or moved, reminders before a window closes, the appeal window,
a new appeal for organisers; each person's opt-outs and mail language; what a director may read.

Messages are written by the real use cases (planning, appeals) and by the real reminders sweep;
one test runs the sweep through a real worker (`flask jobs worker`) against a real SMTP server.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from audit import appeals, mail, outbox, planning, publication, reminders
from audit.extensions import db
from audit.models import Assignment, Campaign, Contact, MailMessage, MailOptOut, User

from . import test_mail
from .live_server import csrf_token, free_port
from .test_mail import PUBLIC_URL, Inbox, Worker, smtp_server, wait_for

TODAY = date(2026, 12, 2)
mail_app = test_mail.mail_app  # the same app as the mail tests': their PUBLIC_URL and queue


@pytest.fixture
def worker(mail_app, tmp_path):
    w = Worker(mail_app, tmp_path, free_port())
    w.port = int(w.env["SMTP_PORT"])  # type: ignore[attr-defined]
    yield w
    w.stop()


def _user(email: str) -> User:
    user = db.session.scalar(sa.select(User).filter_by(email=email))
    assert user is not None
    return user


def _messages(kind: str | None = None) -> list[MailMessage]:
    query = sa.select(MailMessage).order_by(MailMessage.id)
    return list(db.session.scalars(query.filter_by(kind=kind) if kind else query))


def _open_assignment(campaign_id: int = 1) -> Assignment:
    """An assignment of the edition in fieldwork whose contact is not started."""
    started = sa.select(Contact.assignment_id).where(Contact.assignment_id.is_not(None))
    assignment = db.session.scalar(sa.select(Assignment).where(Assignment.campaign_id == campaign_id,
                                                               Assignment.id.not_in(started)).order_by(Assignment.id))
    assert assignment is not None
    return assignment


def _identities(auditor: User) -> list[str]:
    return [auditor.name, auditor.email, *([auditor.pseudonym] if auditor.pseudonym else [])]


# --- assignments given or moved ---------------------------------------------------------------------


def test_moving_an_assignment_tells_the_new_holder_and_the_previous_one_without_naming_the_new(mail_app):
    with mail_app.app_context():
        organiser, assignment = _user("organiser@demo.test"), _open_assignment()
        before, after = assignment.auditor, _user("auditor3@demo.test")
        after.language = "en"
        assert before.id != after.id
        planning.move_assignment(assignment, after, organiser)
        db.session.commit()
        given, gone = _messages("assignments_given"), _messages("assignment_moved_away")
        assert [m.to_address for m in given] == [after.email] and [m.to_address for m in gone] == [before.email]
        assert given[0].language == "en" and "A new assignment" in given[0].subject
        assert assignment.institution.name in given[0].text and f"{PUBLIC_URL}/auditor" in given[0].text
        assert assignment.institution.name in gone[0].text and "innemu audytorowi" in gone[0].text
        for identity in _identities(after):
            assert identity not in gone[0].text and identity not in gone[0].html and identity not in gone[0].subject
        # the same event again writes nothing more; moving it back is a new change of holder
        event_id = int(given[0].key.split(":")[1])
        assert mail.assignments_given(after, [assignment], event_id).id == given[0].id
        planning.move_assignment(assignment, before, organiser)
        db.session.commit()
        assert len(_messages("assignments_given")) == 2 and len(_messages("assignment_moved_away")) == 2
        assert _messages("assignments_given")[1].to_address == before.email


def test_a_rolled_back_move_writes_no_mail(mail_app):
    with mail_app.app_context():
        assignment = _open_assignment()
        planning.move_assignment(assignment, _user("auditor3@demo.test"), _user("organiser@demo.test"))
        db.session.rollback()
        assert _messages() == []


def test_saving_a_plan_tells_each_auditor_once_with_their_assignments(mail_app):
    with mail_app.app_context():
        campaign = db.session.get(Campaign, 1)
        result = planning.plan_edition(campaign, {ch.channel: 3 for ch in campaign.channels})
        assert result.planned, "the demo edition has room for more contacts"
        rows = planning.save_plan(campaign, result, _user("organiser@demo.test"))
        db.session.commit()
        holders = {r.auditor_id for r in rows}
        given = _messages("assignments_given")
        assert sorted(m.user_id for m in given) == sorted(holders)  # one message per auditor, not per assignment
        for message in given:
            theirs = [r for r in rows if r.auditor_id == message.user_id]
            assert message.text.count("\n- ") == len(theirs)


# --- reminders ---------------------------------------------------------------------------------------


def _closing(on: date, days: int = 2) -> Assignment:
    assignment = _open_assignment()
    assignment.due_end = on + timedelta(days=days)
    db.session.commit()
    return assignment


def test_a_reminder_goes_once_per_assignment_and_window_whatever_how_often_the_sweep_runs(mail_app):
    with mail_app.app_context():
        assignment = _closing(TODAY)
        done = reminders.sweep(TODAY)
        assert done.assignment_reminders >= 1
        again = reminders.sweep(TODAY)
        later = reminders.sweep(TODAY + timedelta(days=1))
        assert again.assignment_reminders == 0 and later.assignment_reminders == 0
        mine = [m for m in _messages("assignment_reminder") if m.key.startswith(f"assignment_reminder:{assignment.id}:")]
        assert len(mine) == 1 and mine[0].to_address == assignment.auditor.email
        assert "4\xa0gru\xa02026" in mine[0].subject and f"/auditor/assignments/{assignment.id}" in mine[0].text
        assert "Powiadomienia" in mine[0].text  # how to turn it off
        # the window moved later: a reminder for the new window, once
        assignment.due_end = TODAY + timedelta(days=3)
        db.session.commit()
        assert reminders.sweep(TODAY + timedelta(days=1)).assignment_reminders == 1
        assert reminders.sweep(TODAY + timedelta(days=1)).assignment_reminders == 0


def test_no_reminder_too_early_after_the_window_for_a_sent_contact_or_outside_fieldwork(mail_app):
    with mail_app.app_context():
        assignment = _closing(TODAY, days=5)
        keys = lambda: {m.key for m in _messages("assignment_reminder")}  # noqa: E731
        reminders.sweep(TODAY)
        assert not any(k.startswith(f"assignment_reminder:{assignment.id}:") for k in keys())  # 5 days ahead > 3
        # a submitted contact needs no reminder
        sent = db.session.scalar(sa.select(Contact).filter_by(campaign_id=1, status="submitted"))
        sent_assignment = db.session.get(Assignment, sent.assignment_id)
        sent_assignment.due_end = TODAY + timedelta(days=1)
        db.session.commit()
        reminders.sweep(TODAY)
        assert not any(k.startswith(f"assignment_reminder:{sent_assignment.id}:") for k in keys())
        # the window has closed: nothing
        assignment.due_end = TODAY - timedelta(days=1)
        db.session.commit()
        reminders.sweep(TODAY)
        assert not any(k.startswith(f"assignment_reminder:{assignment.id}:") for k in keys())
        # the edition's fieldwork is over: nothing
        assignment.due_end = TODAY + timedelta(days=1)
        db.session.get(Campaign, 1).status = "review"
        db.session.commit()
        before = len(keys())
        reminders.sweep(TODAY)
        assert len(keys()) == before


def test_sweeps_running_at_once_write_each_reminder_once(mail_app):
    with mail_app.app_context():
        _closing(TODAY)
    results, errors = [], []

    def run() -> None:
        try:
            with mail_app.app_context():
                results.append(reminders.sweep(TODAY))
        except Exception as error:  # pragma: no cover - the assertion below shows it
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with mail_app.app_context():
        written = _messages("assignment_reminder")
        assert len(written) == len({m.key for m in written}) == sum(r.assignment_reminders for r in results) >= 1


def test_the_worker_runs_the_reminders_sweep_and_delivers_each_reminder_once(mail_app, worker):
    with mail_app.app_context():
        assignment = _closing(reminders.today(), days=1)
        address = assignment.auditor.email
    from audit import jobs

    with smtp_server(worker.port, Inbox()) as inbox:
        worker.start()  # a starting worker sweeps once
        huey = jobs.get(mail_app)
        try:
            for _ in range(3):  # and the periodic task may run again, in any worker: still one each
                huey.send_reminders()
        finally:
            huey.storage.close()  # this thread's connection to the queue (on PostgreSQL, a real one)
        wait_for(lambda: any(m["To"] == address and "gru" in m["Subject"] for m in inbox.received),
                 "the reminder delivered", log=worker.log)
        wait_for(lambda: statuses_sent(mail_app), "every message sent", log=worker.log)
        keys = [m["Message-ID"] for m in inbox.received]
        assert len(keys) == len(set(keys))
    with mail_app.app_context():
        ours = [m for m in _messages("assignment_reminder") if m.key.startswith(f"assignment_reminder:{assignment.id}:")]
        assert len(ours) == 1 and ours[0].status == "sent"


def statuses_sent(app) -> bool:
    with app.app_context():
        waiting = db.session.scalar(sa.select(sa.func.count()).select_from(MailMessage)
                                    .where(MailMessage.status != "sent"))
        db.session.rollback()
        return waiting == 0


# --- the appeal window, a new appeal ----------------------------------------------------------------


def _published() -> Campaign:
    campaign = db.session.scalar(sa.select(Campaign).filter_by(status="published").order_by(Campaign.year.desc()))
    assert campaign is not None
    return campaign


def test_directors_hear_once_that_the_appeal_window_closes_and_only_after_publication(mail_app):
    with mail_app.app_context():
        campaign = _published()
        campaign.appeal_until = TODAY + timedelta(days=2)
        fieldwork = db.session.get(Campaign, 1)
        fieldwork.appeal_until = TODAY + timedelta(days=1)  # set early, never published: not a word
        db.session.commit()
        done = reminders.sweep(TODAY)
        told = _messages("appeal_window")
        assert done.appeal_reminders == len(told) > 0
        assert all(m.key.startswith(f"appeal_window:{campaign.id}:") for m in told)
        director = _user("director@demo.test")
        theirs = [m for m in told if m.user_id == director.id]
        assert len(theirs) == 1  # one per director per edition, however many institutions
        assert all(i.name in theirs[0].text for i in director.institutions)
        assert reminders.sweep(TODAY).appeal_reminders == 0
        assert reminders.sweep(TODAY + timedelta(days=1)).appeal_reminders == 0
        # too early: nothing
        campaign.appeal_until = TODAY + timedelta(days=10)
        db.session.execute(sa.delete(MailMessage))
        db.session.commit()
        assert reminders.sweep(TODAY).appeal_reminders == 0


def test_a_filed_appeal_tells_every_organiser_and_names_no_auditor(mail_app):
    with mail_app.app_context():
        campaign, director = _published(), _user("director@demo.test")
        institution = director.institutions[0]
        contact = db.session.get(Contact, min(publication.counted_contacts(campaign.id, institution.id)))
        appeals.file_appeal(director, contact, "Pracownik nie był wtedy na zmianie.", today=campaign.appeal_until)
        db.session.commit()
        filed = _messages("appeal_filed")
        organisers = set(db.session.scalars(sa.select(User.email).filter_by(role="organiser", active=True)))
        assert {m.to_address for m in filed} == organisers
        assert all(institution.name in m.text and "> Pracownik nie był wtedy na zmianie." in m.text for m in filed)
        assert all(f"/organiser/campaigns/{campaign.id}/appeals" in m.text for m in filed)
        for identity in _identities(contact.auditor):
            assert all(identity not in m.text and identity not in m.html for m in filed)


# --- what a director may read -------------------------------------------------------------------------


def test_no_message_to_a_director_names_an_auditor_in_its_headers_or_body(mail_app):
    """Every kind of director-bound mail, rendered for real and put in its envelope."""
    with mail_app.app_context():
        organiser, director = _user("organiser@demo.test"), _user("director@demo.test")
        campaign = _published()
        institution = director.institutions[0]
        contact = db.session.get(Contact, min(publication.counted_contacts(campaign.id, institution.id)))
        appeal = appeals.file_appeal(director, contact, "Nie zgadzam się.", today=campaign.appeal_until)
        appeals.resolve(appeal, organiser, True, "Uwzględniamy; poprawimy odpowiedź.")
        campaign.appeal_until = TODAY + timedelta(days=1)
        db.session.commit()
        reminders.sweep(TODAY)
        fresh = db.session.get(Campaign, 1)
        fresh.status = "review"
        publication.publish(fresh, organiser, "Wyniki 2026", 1)
        db.session.commit()
        to_directors = [m for m in _messages() if m.user is not None and m.user.role == "director"]
        assert {m.kind for m in to_directors} == {"appeal_decided", "appeal_window", "results_published"}
        assert {kind for kind in ("appeal_decided", "appeal_window", "results_published")} <= set(mail.PREFERENCES)
        auditors = db.session.scalars(sa.select(User).filter_by(role="auditor")).all()
        forbidden = [i for a in auditors for i in _identities(a)]
        for message in to_directors:
            envelope = outbox.envelope(message, "Audyt Zaufania <audyt@example.org>").as_string()
            for identity in forbidden:
                assert identity not in envelope and identity not in message.text and identity not in message.html, \
                    (message.kind, identity)


# --- opt-outs and language -----------------------------------------------------------------------------


def test_the_notifications_page_turns_reminders_off_and_sets_the_mail_language(mail_app, auth):
    auth.as_role("auditor")
    page = auth.client.get("/notifications").get_data(as_text=True)
    assert "Powiadomienia" in page and 'href="/notifications"' in page  # in the header too
    assert page.count('type="checkbox"') == 3 and page.count("checked") == 3
    assert "hasła" in page  # account mail cannot be turned off, and the page says so
    answer = auth.client.post("/notifications", data={"csrf_token": csrf_token(page), "language": "en",
                                                      "topics": ["assignments", "contact_returned"]},
                              follow_redirects=True)
    assert answer.status_code == 200 and answer.get_data(as_text=True).count("checked") == 2
    with mail_app.app_context():
        auditor = _user("auditor@demo.test")
        assert auditor.language == "en"
        assert set(db.session.scalars(sa.select(MailOptOut.topic).filter_by(user_id=auditor.id))) == {"reminders"}
        assignment = _open_assignment()
        assert assignment.auditor_id == auditor.id
        _closing(TODAY)
        reminders.sweep(TODAY)
        assert not [m for m in _messages("assignment_reminder") if m.user_id == auditor.id]
        # account mail still comes, in the chosen language
        from audit import accounts

        token = accounts.invite(auditor, purpose="reset")
        message = mail.one_time_link(auditor, token, "reset")
        assert message is not None and message.language == "en"


def test_a_topic_of_another_role_cannot_be_posted(mail_app, auth):
    auth.as_role("director")
    page = auth.client.get("/notifications").get_data(as_text=True)
    assert page.count('type="checkbox"') == 3
    answer = auth.client.post("/notifications", data={"csrf_token": csrf_token(page), "language": "pl",
                                                      "topics": ["reminders"]})
    assert answer.status_code == 200  # the form is shown again with its error, nothing saved
    with mail_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MailOptOut)) == 0


def test_the_organiser_sets_a_persons_mail_language_and_the_invitation_goes_in_it(mail_app, auth):
    auth.as_role("organiser")
    page = auth.client.get("/organiser/people/new/director").get_data(as_text=True)
    assert "Język e-maili" in page
    auth.client.post("/organiser/people/new/director", data={
        "csrf_token": csrf_token(page), "name": "Anna Smith", "email": "anna@example.org", "language": "en"})
    with mail_app.app_context():
        user = _user("anna@example.org")
        assert user.language == "en"
        message = db.session.scalar(sa.select(MailMessage).filter_by(to_address="anna@example.org"))
        assert message.language == "en" and "Your account is ready" in message.subject
        user_id = user.id
    edit = auth.client.get(f"/organiser/people/{user_id}/edit").get_data(as_text=True)
    assert 'value="en" selected' in edit or 'selected value="en"' in edit
    auth.client.post(f"/organiser/people/{user_id}/edit", data={
        "csrf_token": csrf_token(edit), "name": "Anna Smith", "email": "anna@example.org", "language": "pl"})
    with mail_app.app_context():
        assert _user("anna@example.org").language == "pl"


@pytest.mark.parametrize("topic", sorted(mail.PREFERENCES))
def test_every_topic_has_a_role_and_account_mail_is_not_a_topic(topic):
    assert mail.PREFERENCES[topic].roles and topic not in ("invite", "reset")


def test_a_deactivated_auditor_is_not_told_of_a_move_but_the_new_holder_is(mail_app):
    with mail_app.app_context():
        assignment = _open_assignment()
        before, after = assignment.auditor, _user("auditor3@demo.test")
        before.active = False
        planning.move_assignment(assignment, after, _user("organiser@demo.test"))
        db.session.commit()
        assert [m.to_address for m in _messages()] == [after.email]
