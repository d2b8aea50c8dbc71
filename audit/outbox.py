"""Delivering the outbox: claim a due message, hand it to the SMTP server, record what it answered.

Run by a worker (audit.jobs), never in a request. The rules:

- **Due**: "waiting" with `next_attempt_at` passed, or "sending" with a claim older than
  JOBS_LEASE_SECONDS (its worker died mid-attempt: the message is taken again).
- **Claimed by one worker**: a conditional UPDATE whose condition is "still due", committed
  before the server is contacted. Of several workers only one changes the row; on PostgreSQL the
  candidate is read `FOR UPDATE SKIP LOCKED`, so workers do not queue behind each other's rows.
- **Outcome**: the server accepted it → "sent" (once the server has said 250, no attempt is made
  again); a 5xx answer → "failed" at once (the server refuses for good: a wrong address); anything
  else (no connection, a timeout, a 4xx, a certificate not trusted, a refused login: the server's or
  our set-up, which an operator fixes) → "waiting" again after MAIL_RETRY_SECONDS, doubled at each
  attempt up to an hour, and "failed" after MAIL_MAX_ATTEMPTS. `last_error` keeps the server's
  answer for the organiser's "Sent mail" page.
- **The one window left**: a worker killed after the server accepted the message and before the
  "sent" is committed (a few milliseconds) leaves it "sending"; it is sent again when the claim
  lapses. Every attempt carries the same Message-ID, made from the event's key, so a mailbox
  can recognise the copy. Losing a message to avoid this would be worse.
- **No SMTP server configured**: nothing is claimed; messages wait and organisers read them in the app.
- **Secrets**: a one-time link's token is blanked out of the stored copy once the message is sent
  or has failed (the outbox holds it only while it must, as `Invitation` holds only a hash).
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any

import sqlalchemy as sa
from flask import current_app

from .errors import N_, RuleError
from .extensions import db
from .mail import QUEUED
from .models import MailMessage, utcnow

MAX_WAIT = timedelta(hours=1)
BATCH = 200  # messages per run at most; the next wake-up takes the rest


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    user: str | None
    password: str | None
    timeout: int
    sender: str
    ca_file: str | None = None

    @classmethod
    def from_config(cls, config: Any) -> SmtpSettings | None:
        if not config.get("SMTP_HOST"):
            return None
        return cls(config["SMTP_HOST"], int(config["SMTP_PORT"]), config["SMTP_SECURITY"], config.get("SMTP_USER"),
                   config.get("SMTP_PASSWORD"), int(config["SMTP_TIMEOUT"]), config["MAIL_FROM"],
                   config.get("SMTP_CA_FILE"))

    def tls(self) -> ssl.SSLContext:
        """Certificate and host name checked, against SMTP_CA_FILE if given, else the system's authorities."""
        return ssl.create_default_context(cafile=self.ca_file)


class MailError(RuleError):
    """An outbox action the rules refuse."""


class Refused(Exception):
    """The server's answer to an attempt; `permanent` for a 5xx, which no retry will change."""

    def __init__(self, answer: str, permanent: bool):
        self.permanent = permanent
        super().__init__(answer)


@dataclass(frozen=True)
class Run:
    """What one delivery run did, and when the next message falls due (None: nothing waits)."""

    sent: int
    failed: int
    retrying: int
    next_due: datetime | None


def retry_wait(attempts: int, first: timedelta) -> timedelta:
    """The wait after the n-th failed attempt: first, doubled each time, at most an hour."""
    return min(first * 2 ** max(attempts - 1, 0), MAX_WAIT)


def _due(now: datetime, lease: timedelta) -> sa.ColumnElement[bool]:
    return sa.or_(sa.and_(MailMessage.status == "waiting", MailMessage.next_attempt_at <= now),
                  sa.and_(MailMessage.status == "sending", MailMessage.claimed_at <= now - lease))


def claim_next(lease: timedelta) -> tuple[int, str] | None:
    """Take one due message for this worker and commit the claim: (id, claim), or None when none is due."""
    while True:
        now = utcnow()
        candidate = sa.select(MailMessage.id).where(_due(now, lease)).order_by(MailMessage.next_attempt_at,
                                                                               MailMessage.id).limit(1)
        if db.session.get_bind().dialect.name == "postgresql":
            candidate = candidate.with_for_update(skip_locked=True)
        message_id = db.session.scalar(candidate)
        if message_id is None:
            db.session.rollback()
            return None
        claim = uuid.uuid4().hex
        taken = db.session.execute(sa.update(MailMessage).where(MailMessage.id == message_id, _due(now, lease)).values(
            status="sending", claimed_at=now, claim=claim, attempts=MailMessage.attempts + 1))
        db.session.commit()
        if getattr(taken, "rowcount", 0) == 1:
            return message_id, claim
        # another worker took it between the read and the update (SQLite): look again


def envelope(message: MailMessage, sender: str) -> EmailMessage:
    """The message as it goes out: text and HTML alternatives, the same Message-ID at every attempt."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.to_address
    mail["Subject"] = message.subject
    mail["Date"] = format_datetime(message.created_at.replace(tzinfo=UTC))
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    mail["Message-ID"] = f"<{hashlib.sha256(message.key.encode()).hexdigest()[:32]}@{domain}>"
    mail["Auto-Submitted"] = "auto-generated"  # no out-of-office replies to an address nobody reads
    mail.set_content(message.text)
    mail.add_alternative(message.html, subtype="html")
    mail["Content-Language"] = message.language  # after the content, which clears Content-* headers
    return mail


def send(mail: EmailMessage, smtp: SmtpSettings) -> None:
    """Hand one message to the server; Refused with its answer when it does not take it."""
    try:
        if smtp.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=smtp.tls())
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=smtp.tls())
            if smtp.user:
                client.login(smtp.user, smtp.password or "")
            client.send_message(mail)
    except smtplib.SMTPAuthenticationError as error:  # the server's set-up, not the message: retried
        raise Refused(f"{error.smtp_code} {_text(error.smtp_error)}", permanent=False) from None
    except smtplib.SMTPRecipientsRefused as error:
        code, answer = next(iter(error.recipients.values()))
        raise Refused(f"{code} {_text(answer)}", permanent=500 <= code < 600) from None
    except smtplib.SMTPResponseException as error:
        raise Refused(f"{error.smtp_code} {_text(error.smtp_error)}", permanent=500 <= error.smtp_code < 600) from None
    except (OSError, ValueError, smtplib.SMTPException) as error:  # ValueError: a login smtplib cannot encode
        raise Refused(f"{type(error).__name__}: {error}", permanent=False) from None


def _text(answer: bytes | str) -> str:
    return answer.decode(errors="replace") if isinstance(answer, bytes) else str(answer)


def _redacted(message: MailMessage) -> dict[str, Any]:
    if not message.secret:
        return {}
    return {"secret": None, "text": message.text.replace(message.secret, "…"),
            "html": message.html.replace(message.secret, "…")}


def deliver_one(message_id: int, claim: str, smtp: SmtpSettings) -> str:
    """Attempt one claimed message and commit the outcome: "sent", "waiting" or "failed"."""
    message = db.session.get(MailMessage, message_id)
    assert message is not None
    mail = envelope(message, smtp.sender)
    db.session.rollback()  # no transaction held open while the server talks
    now, config = utcnow(), current_app.config
    mine = sa.and_(MailMessage.id == message_id, MailMessage.claim == claim)
    try:
        send(mail, smtp)
    except Refused as refusal:
        message = db.session.get(MailMessage, message_id)
        assert message is not None
        final = refusal.permanent or message.attempts >= int(config["MAIL_MAX_ATTEMPTS"])
        status = "failed" if final else "waiting"
        wait = retry_wait(message.attempts, timedelta(seconds=int(config["MAIL_RETRY_SECONDS"])))
        db.session.execute(sa.update(MailMessage).where(mine).values(
            status=status, claim=None, last_error=str(refusal)[:2000], next_attempt_at=now + wait,
            **(_redacted(message) if final else {})))
        db.session.commit()
        current_app.logger.warning("mail %s to user %s: %s (%s)", message_id, message.user_id, refusal, status)
        return status
    message = db.session.get(MailMessage, message_id)
    assert message is not None
    db.session.execute(sa.update(MailMessage).where(MailMessage.id == message_id).values(
        status="sent", sent_at=now, claim=None, **_redacted(message)))
    db.session.commit()
    return "sent"


def deliver_due(lease: timedelta | None = None) -> Run:
    """Deliver every due message (up to BATCH); say when the next one falls due."""
    smtp = SmtpSettings.from_config(current_app.config)
    lease = lease or timedelta(seconds=int(current_app.config["JOBS_LEASE_SECONDS"]))
    counts = {"sent": 0, "failed": 0, "waiting": 0}
    if smtp is not None:
        for _ in range(BATCH):
            claimed = claim_next(lease)
            if claimed is None:
                break
            counts[deliver_one(*claimed, smtp)] += 1
    next_due = None
    if smtp is not None:
        waiting = db.session.scalar(sa.select(sa.func.min(MailMessage.next_attempt_at))
                                    .where(MailMessage.status == "waiting"))
        sending = db.session.scalar(sa.select(sa.func.min(MailMessage.claimed_at))
                                    .where(MailMessage.status == "sending"))
        candidates = [t for t in (waiting, sending + lease if sending else None) if t is not None]
        next_due = min(candidates) if candidates else None
    db.session.rollback()
    return Run(counts["sent"], counts["failed"], counts["waiting"], next_due)


def send_again(message: MailMessage) -> None:
    """An organiser's retry of a failed message (after fixing the address, or the server): a fresh start."""
    if message.status != "failed" or (message.secret is None and message.kind in ("invite", "reset")):
        raise MailError(N_("Only a failed message can be sent again; for a one-time link, make a new link."))
    message.status, message.attempts, message.next_attempt_at, message.last_error = "waiting", 0, utcnow(), None
    db.session.flush()
    db.session.info[QUEUED] = True


def recent(limit: int = 300) -> list[MailMessage]:
    """The newest messages first, for the organiser's "Sent mail" page."""
    return list(db.session.scalars(sa.select(MailMessage).order_by(MailMessage.created_at.desc(),
                                                                   MailMessage.id.desc()).limit(limit)))
