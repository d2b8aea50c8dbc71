"""Mail: written with its event, in the recipient's language, delivered by a real worker process to a
real SMTP server (aiosmtpd on 127.0.0.1) whose received messages the tests read.

The worker is `flask --app audit jobs worker`, as `make run` and production start it; nothing is
mocked. SMTP down, a worker killed in the middle of a message, a rolled-back transaction: each is
made to happen for real.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from audit import mail, review
from audit.extensions import db
from audit.models import Assignment, Campaign, Contact, MailMessage, User

from .conftest import ROOT
from .live_server import csrf_token, free_port

PUBLIC_URL = "https://audyt.example.org"


# --- a real SMTP server, a real worker --------------------------------------------------------


class Inbox:
    """What the SMTP server received; `hold_first` keeps the first message's DATA unanswered until
    released, then refuses it (451), as a server does whose client has gone."""

    def __init__(self, hold_first: bool = False):
        self.received: list[EmailMessage] = []
        self.hold_first = hold_first
        self.arrived, self.release = threading.Event(), threading.Event()
        self.datas = 0

    async def handle_DATA(self, server, session, envelope):
        self.datas += 1
        if self.hold_first and self.datas == 1:
            self.arrived.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 Try again later"
        self.received.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 2.0.0 OK"


@contextmanager
def smtp_server(port: int, inbox: Inbox) -> Iterator[Inbox]:
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


class Worker:
    """`flask jobs worker` in its own process, against the test's database and SMTP port."""

    def __init__(self, app, tmp_path: Path, smtp_port: int):
        self.env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": "test-secret",
                    "RUBRICS_DIR": str(ROOT / "rubrics"), "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port),
                    "SMTP_SECURITY": "none", "SMTP_TIMEOUT": "5", "PUBLIC_URL": PUBLIC_URL,
                    "MAIL_FROM": "Audyt Zaufania <audyt@example.org>", "MAIL_RETRY_SECONDS": "1",
                    "JOBS_LEASE_SECONDS": "2", "JOBS_URL": app.config.get("JOBS_URL") or ""}
        self.log = tmp_path / "worker.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "audit", "jobs", "worker",
                                             "--workers", "2"], cwd=ROOT, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def mail_app(demo_app, tmp_path):
    demo_app.config.update(PUBLIC_URL=PUBLIC_URL)
    if not os.environ.get("TEST_DATABASE_URL"):  # on PostgreSQL huey's queue is in the test's own database
        demo_app.config["JOBS_URL"] = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    return demo_app


@pytest.fixture
def worker(mail_app, tmp_path):
    """A worker, and no assignment window closing soon: its reminders sweep (tests/test_mail_notifications.py)
    writes nothing into these tests' inboxes, whatever today's date is beside the demo's."""
    with mail_app.app_context():
        db.session.execute(sa.update(Assignment).values(due_end=date.today() + timedelta(days=60)))
        db.session.commit()
    port = free_port()
    w = Worker(mail_app, tmp_path, port)
    w.port = port  # type: ignore[attr-defined]
    yield w
    w.stop()


def wait_for(check: Callable[[], object], what: str, seconds: float = 30, log: Path | None = None) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s: {what}\n" + (log.read_text()[-3000:] if log and log.exists() else ""))


def statuses(app) -> list[tuple[str, int, str | None]]:
    with app.app_context():
        rows = db.session.execute(sa.select(MailMessage.status, MailMessage.attempts, MailMessage.last_error)
                                  .order_by(MailMessage.id)).all()
        db.session.rollback()
        return [tuple(r) for r in rows]  # type: ignore[misc]


def return_a_contact(app, comment: str = "Proszę dopisać godzinę rozmowy.", language: str = "pl",
                     commit: bool = True) -> tuple[int, str]:
    """An organiser returns the first submitted contact; (contact id, the auditor's address)."""
    with app.app_context():
        organiser = db.session.scalar(sa.select(User).filter_by(role="organiser"))
        contact = db.session.scalar(sa.select(Contact).filter_by(status="submitted").order_by(Contact.id))
        contact.auditor.language = language
        review.return_to_auditor(contact, organiser, contact.version, comment)
        if commit:
            db.session.commit()
        else:
            db.session.rollback()
        return contact.id, contact.auditor.email


# --- what is written, and in which language ------------------------------------------------------


def test_a_returned_contact_writes_one_message_to_its_auditor_in_their_language(mail_app):
    contact_id, _ = return_a_contact(mail_app, language="en", comment="Add the time of the call.")
    with mail_app.app_context():
        message = db.session.scalar(sa.select(MailMessage))
        contact = db.session.get(Contact, contact_id)
        assert message.to_address == contact.auditor.email and message.status == "waiting"
        assert message.language == "en" and message.subject == "A contact is back for correction · Audyt Zaufania"
        assert "> Add the time of the call." in message.text and "Add the time of the call." in message.html
        assert f"{PUBLIC_URL}/auditor/assignments/{contact.assignment_id}" in message.text
        assert contact.institution.name in message.text
        # the same event again makes no second message
        event_id = int(message.key.split(":")[1])
        assert mail.contact_returned(contact, "x", event_id).id == message.id
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MailMessage)) == 1


def test_a_rolled_back_return_writes_no_message(mail_app):
    return_a_contact(mail_app, commit=False)
    assert statuses(mail_app) == []


def test_forgot_password_answers_the_same_with_or_without_an_account_and_is_throttled(mail_app):
    client = mail_app.test_client()

    def ask(email: str) -> str:
        token = csrf_token(client.get("/forgot").get_data(as_text=True))
        answer = client.post("/forgot", data={"email": email, "csrf_token": token}, follow_redirects=True)
        assert answer.status_code == 200
        page = answer.get_data(as_text=True).split('<main', 1)[1]
        return re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "csrf", page)  # a token names its second, not the account

    known, unknown = ask("auditor@demo.test"), ask("nobody@demo.test")
    assert known == unknown and "link do ustawienia nowego hasła" in known
    for _ in range(5):
        assert ask("auditor@demo.test") == known
    with mail_app.app_context():
        messages = db.session.scalars(sa.select(MailMessage)).all()
        assert len(messages) == 3 and {m.to_address for m in messages} == {"auditor@demo.test"}  # 3 free, then a wait
        assert all(m.kind == "reset" and m.language == "pl" and "Ustaw nowe hasło" in m.subject for m in messages)
        assert all(f"{PUBLIC_URL}/reset/" in m.text and m.secret in m.text for m in messages)


def test_the_link_in_a_reset_mail_never_comes_from_the_host_header(mail_app):
    mail_app.config["WTF_CSRF_ENABLED"] = False  # the session cookie is for localhost, not the forged host
    answer = mail_app.test_client().post("/forgot", data={"email": "auditor@demo.test"},
                                         headers={"Host": "evil.example.com"})
    answer.close()  # as a server does once the answer is sent: the mail is written after it
    assert answer.status_code == 302
    with mail_app.app_context():
        message = db.session.scalar(sa.select(MailMessage))
        assert message is not None and "evil" not in message.text and f"{PUBLIC_URL}/reset/" in message.text


def test_an_invitation_mails_the_link_and_the_organiser_still_sees_it(mail_app, auth):
    auth.as_role("organiser")
    page = auth.client.get("/organiser/people/new/auditor").get_data(as_text=True)
    answer = auth.client.post("/organiser/people/new/auditor", data={
        "csrf_token": csrf_token(page), "name": "Ewa Nowak", "email": "ewa@example.org", "pseudonym": ""})
    shown = answer.get_data(as_text=True).split('id="one-time-link" value="')[1].split('"')[0]
    with mail_app.app_context():
        message = db.session.scalar(sa.select(MailMessage).filter_by(to_address="ewa@example.org"))
        assert message.kind == "invite" and shown.replace("http://localhost", PUBLIC_URL) in message.text
    listing = auth.client.get("/organiser/mail").get_data(as_text=True)
    assert "ewa@example.org" in listing and "Czeka" in listing and "SMTP_HOST" in listing


# --- delivery by the worker -----------------------------------------------------------------


def test_the_worker_delivers_in_the_recipients_language_text_and_html(mail_app, worker):
    _, to_pl = return_a_contact(mail_app, language="pl")
    with smtp_server(worker.port, Inbox()) as inbox:
        worker.start()
        wait_for(lambda: len(inbox.received) == 1, "the Polish message arrives", log=worker.log)
        return_a_contact(mail_app, language="en", comment="Add the time.")
        wait_for(lambda: len(inbox.received) == 2, "the English message arrives", log=worker.log)
    pl, en = inbox.received
    assert pl["To"] == to_pl and pl["From"] == "Audyt Zaufania <audyt@example.org>"
    assert pl["Subject"] == "Kontakt wrócił do poprawy · Audyt Zaufania" and pl["Content-Language"] == "pl"
    assert en["Subject"] == "A contact is back for correction · Audyt Zaufania" and en["Content-Language"] == "en"
    for message, words in ((pl, "weryfikator zwrócił do poprawy"), (en, "the reviewer has returned")):
        assert message.get_content_type() == "multipart/alternative"
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert words in text and words in html and "Audyt Zaufania" in text
        assert f"{PUBLIC_URL}/auditor/assignments/" in text and f'href="{PUBLIC_URL}/auditor/assignments/' in html
    assert "> Proszę dopisać godzinę rozmowy." in pl.get_body(("plain",)).get_content()
    assert [s[0] for s in statuses(mail_app)] == ["sent", "sent"]


def test_smtp_down_the_message_waits_with_the_reason_then_goes_once_when_it_is_back(mail_app, worker):
    return_a_contact(mail_app)
    worker.start()  # no server listens on the port yet
    wait_for(lambda: (s := statuses(mail_app)) and s[0][0] == "waiting" and s[0][1] >= 1, "a failed attempt",
             log=worker.log)
    error = statuses(mail_app)[0][2]
    assert "ConnectionRefusedError" in (error or "")
    with smtp_server(worker.port, Inbox()) as inbox:
        wait_for(lambda: statuses(mail_app)[0][0] == "sent", "delivery once the server is back", log=worker.log)
        time.sleep(3)  # retries and sweeps that may still be scheduled find nothing more to send
    assert len(inbox.received) == 1


def test_a_worker_killed_in_the_middle_of_a_message_sends_it_exactly_once_after_a_restart(mail_app, worker):
    return_a_contact(mail_app)
    with smtp_server(worker.port, Inbox(hold_first=True)) as inbox:
        worker.start()
        assert inbox.arrived.wait(30), worker.log.read_text()
        assert statuses(mail_app)[0][0] == "sending"
        worker.kill()  # SIGKILL while the server holds the message's DATA unanswered
        inbox.release.set()
        assert inbox.received == []
        worker.start()
        wait_for(lambda: statuses(mail_app)[0][0] == "sent", "delivery after the restart", log=worker.log)
        time.sleep(3)
    assert len(inbox.received) == 1
    assert statuses(mail_app)[0][1] == 2  # the killed attempt and the one that went through


def test_a_permanent_refusal_fails_at_once_with_the_servers_answer(mail_app, worker):
    class Refusing(Inbox):
        async def handle_RCPT(self, server, session, envelope, address, options):
            return "550 5.1.1 No such mailbox"

    return_a_contact(mail_app)
    with smtp_server(worker.port, Refusing()):
        worker.start()
        wait_for(lambda: statuses(mail_app)[0][0] == "failed", "the refusal recorded", log=worker.log)
    assert statuses(mail_app)[0] == ("failed", 1, "550 5.1.1 No such mailbox")


def test_a_rolled_back_transaction_sends_nothing_through_the_worker(mail_app, worker):
    return_a_contact(mail_app, commit=False)
    with smtp_server(worker.port, Inbox()) as inbox:
        worker.start()
        return_a_contact(mail_app, comment="Ten zwrot jest zatwierdzony.")
        wait_for(lambda: len(inbox.received) == 1, "the committed message", log=worker.log)
        time.sleep(2)
    assert len(inbox.received) == 1 and "Ten zwrot jest zatwierdzony." in inbox.received[0].get_body(
        ("plain",)).get_content()


# --- to directors: what their scorecard shows, never an auditor -----------------------------------


def test_a_decided_appeal_tells_its_director_the_decision_and_names_no_auditor(mail_app):
    from audit import appeals
    from audit.models import Appeal

    with mail_app.app_context():
        organiser = db.session.scalar(sa.select(User).filter_by(role="organiser"))
        director = db.session.scalar(sa.select(User).filter_by(email="director@demo.test"))
        director.language = "en"
        campaign = db.session.scalar(sa.select(Campaign).filter_by(status="published").order_by(Campaign.year.desc()))
        from audit import publication

        institution = director.institutions[0]
        contact = db.session.get(Contact, min(publication.counted_contacts(campaign.id, institution.id)))
        appeal = Appeal(campaign_id=campaign.id, contact_id=contact.id, institution_id=institution.id,
                        director_id=director.id, reason="Nie zgadzam się")
        db.session.add(appeal)
        db.session.flush()
        appeals.resolve(appeal, organiser, False, "The recording confirms the auditor's answer.")
        db.session.commit()
        message = db.session.scalar(sa.select(MailMessage).filter_by(kind="appeal_decided"))
        auditor = contact.auditor
        assert message.to_address == "director@demo.test" and message.language == "en"
        assert "rejected" in message.text and "The recording confirms" in message.text
        assert f"/directors/campaigns/{campaign.id}/institutions/{institution.id}" in message.text or \
            f"{PUBLIC_URL}/director/" in message.text
        for identity in (auditor.name, auditor.email, auditor.pseudonym, f"#{contact.id}"):
            assert identity not in message.text and identity not in message.html


def test_publishing_tells_each_director_once_and_names_no_auditor(mail_app):
    from audit import publication
    from audit.models import Campaign as Edition

    with mail_app.app_context():
        organiser = db.session.scalar(sa.select(User).filter_by(role="organiser"))
        campaign = db.session.get(Edition, 1)
        campaign.status = "review"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MailMessage)) == 0  # the demo mailed nobody
        revision = publication.publish(campaign, organiser, "Wyniki 2026", 1)
        db.session.commit()
        messages = db.session.scalars(sa.select(MailMessage).filter_by(kind="results_published")).all()
        from audit.models import RevisionStanding, director_institution

        ranked = set(db.session.scalars(sa.select(RevisionStanding.institution_id).filter_by(revision_id=revision.id)))
        expected = {(u, i) for u, i in db.session.execute(
            sa.select(director_institution.c.user_id, director_institution.c.institution_id)
            .join(User, User.id == director_institution.c.user_id).where(User.active.is_(True))) if i in ranked}
        assert {(m.user_id, int(m.key.split(":")[2])) for m in messages} == expected
        assert len(messages) == len(expected) > 0
        pseudonyms = set(db.session.scalars(sa.select(User.pseudonym).where(User.pseudonym.is_not(None))))
        names = set(db.session.scalars(sa.select(User.name).filter_by(role="auditor")))
        for message in messages:
            assert "Wyniki" in message.subject or "results" in message.subject.lower()
            assert not any(p in message.text for p in pseudonyms) and not any(n in message.text for n in names)
        from audit.models import MailOptOut

        quiet = sorted(expected)[0][0]  # a director who turned the message off is left out of the next batch
        db.session.add(MailOptOut(user_id=quiet, topic="results_published"))
        publication.publish(campaign, organiser, "again", 2)  # the next version is its own event
        db.session.commit()
        second = db.session.scalars(sa.select(MailMessage).filter_by(kind="results_published")
                                    .where(MailMessage.id > max(m.id for m in messages))).all()
        assert {(m.user_id, int(m.key.split(":")[2])) for m in second} == {p for p in expected if p[0] != quiet}
        assert all(m.status == "waiting" and m.attempts == 0 and m.created_at is not None for m in second)


def test_each_results_mail_is_what_rendering_it_alone_makes(mail_app):
    """The publication renders what every director shares once per language (mail.Stencil): each message must
    be, to the character, the one the ordinary path renders for that director alone, in their language, with
    names holding HTML's special characters escaped in the HTML only."""
    from audit import publication
    from audit.i18n import points
    from audit.models import Campaign as Edition
    from audit.models import Institution, RevisionStanding

    with mail_app.app_context():
        organiser = db.session.scalar(sa.select(User).filter_by(role="organiser"))
        campaign = db.session.get(Edition, 1)
        campaign.status = "review"
        directors = db.session.scalars(sa.select(User).filter_by(role="director").order_by(User.id)).all()
        directors[0].name, directors[0].language = "O'Brien <b>& \"Co\"</b> \x1ename\x1e", "en"
        revision = publication.publish(campaign, organiser, "Wyniki 2026", 1)
        db.session.commit()
        messages = db.session.scalars(sa.select(MailMessage).filter_by(kind="results_published")).all()
        assert {m.language for m in messages} == {"pl", "en"} and len(messages) > 2
        for message in messages:
            institution_id, user_id = (int(part) for part in message.key.split(":")[2:])
            row = db.session.get(RevisionStanding, (revision.id, institution_id))
            director, institution = db.session.get(User, user_id), db.session.get(Institution, institution_id)
            link = mail.absolute_url("director.scorecard_page", campaign_id=campaign.id, institution_id=institution_id)

            def alone_letter(row=row, director=director, institution=institution, link=link) -> mail.Letter:
                return mail.results_letter(campaign, revision.number, row, {
                    "name": director.name, "institution": institution.name, "points": points(row.points), "link": link})

            alone = mail._written(mail.Queued(director, message.kind, message.key, alone_letter,
                                              topic="results_published"))
            assert (message.subject, message.text, message.html, message.language, message.to_address) == (
                alone["subject"], alone["text"], alone["html"], alone["language"], alone["to_address"])
        first = next(m for m in messages if m.user_id == directors[0].id)
        assert first.text.startswith("Hello O'Brien <b>& \"Co\"</b> \x1ename\x1e,\n\nthe results of ")
        assert "O&#39;Brien &lt;b&gt;&amp; &#34;Co&#34;&lt;/b&gt;" in first.html and "<b>&" not in first.html
