"""Mail to people, written to the outbox in the transaction of the event that causes it.

A message is composed when its event happens, in the recipient's language (`User.language`),
as plain text and HTML made from the same paragraphs, with the product's name and a link back
into the app. It is one `MailMessage` row, added to the session like the event's other rows:
if the transaction rolls back, there is no message; if it commits, a worker delivers it
(audit.outbox, run by audit.jobs). `key` names the event (a journal entry, a one-time link), so
one event never makes two messages, whoever calls twice.

What a message may say is in docs/security.md ("Mail"): never an auditor's name or pseudonym in
mail to a director, nothing of fieldwork a director could not see in the app. Functions here
only flush; the view commits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from .accounts import LIFETIMES, token_hash
from .extensions import db
from .models import Contact, MailMessage, User

PRODUCT = "Audyt Zaufania"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"  # `make run`; PUBLIC_URL is required once mail is really sent
QUEUED = "mail_queued"  # session.info flag: the commit should wake a worker (audit.jobs)


@dataclass(frozen=True)
class Letter:
    """What a message says, before it becomes text and HTML."""

    subject: str
    greeting: str
    paragraphs: tuple[str, ...]
    link_label: str
    link: str
    quote: str | None = None
    """Someone else's words shown as they wrote them (a reviewer's comment)."""


def absolute_url(endpoint: str, **values: object) -> str:
    """A link into the app from PUBLIC_URL, never from the request's Host header (which a visitor
    chooses: a "forgot password" posted with a forged Host must not mail a link to another site)."""
    base = urlsplit(current_app.config.get("PUBLIC_URL") or DEFAULT_PUBLIC_URL)
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


def _queue(user: User, kind: str, key: str, compose: Callable[[], Letter], secret: str | None = None) -> MailMessage:
    """Add the message for this event, or return the one already made for it."""
    existing = db.session.scalar(sa.select(MailMessage).where(MailMessage.key == key))
    if existing is not None:
        return existing
    language = user.language if user.language in current_app.config["LANGUAGES"] else "pl"
    with force_locale(language):
        letter = compose()
        footer = _("This message was sent by %(product)s. You receive it because you have an account there.",
                   product=PRODUCT)
        text = "\n\n".join([letter.greeting, *letter.paragraphs, *([_quote(letter.quote)] if letter.quote else []),
                            f"{letter.link_label}:\n{letter.link}", f"-- \n{PRODUCT}\n{footer}"]) + "\n"
        html = render_template("mail/message.html", letter=letter, product=PRODUCT, footer=footer, lang=language)
    message = MailMessage(key=key, kind=kind, user_id=user.id, to_address=user.email, language=language,
                          subject=f"{letter.subject} · {PRODUCT}", text=text, html=html, secret=secret)
    db.session.add(message)
    db.session.flush()
    db.session.info[QUEUED] = True
    return message


def _quote(words: str) -> str:
    return "\n".join("> " + line for line in words.splitlines())


# --- the messages ----------------------------------------------------------------------------


def one_time_link(user: User, token: str, purpose: str) -> MailMessage:
    """The invitation or password reset link just made for the user (accounts.invite)."""
    endpoint = "invitations.reset" if purpose == "reset" else "invitations.accept"
    link = absolute_url(endpoint, token=token)
    hours = int(LIFETIMES[purpose].total_seconds() // 3600)

    def compose() -> Letter:
        if purpose == "reset":
            return Letter(_("Set a new password"), _("Hello %(name)s,", name=user.name), (
                _("someone (we hope you) asked to set a new password for your account. The link below works "
                  "once, for %(hours)s hours. If you did not ask, ignore this message: your password stays "
                  "as it is.", hours=hours),), _("Set a new password"), link)
        return Letter(_("Your account is ready"), _("Hello %(name)s,", name=user.name), (
            _("an account has been made for you. Choose your password with the link below: it works once, "
              "for %(days)s days.", days=hours // 24),), _("Choose your password"), link)

    return _queue(user, purpose, f"{purpose}:{token_hash(token)}", compose, secret=token)


def contact_returned(contact: Contact, comment: str, event_id: int) -> MailMessage:
    """To the auditor: the reviewer sent their contact back for correction, with the comment.

    Keyed by the journal entry of the return, so each return makes one message."""
    auditor = contact.auditor
    link = absolute_url("auditor.contact_form", assignment_id=contact.assignment_id) \
        if contact.assignment_id is not None else absolute_url("auditor.home")

    def compose() -> Letter:
        return Letter(_("A contact is back for correction"), _("Hello %(name)s,", name=auditor.name), (
            _("the reviewer has returned your contact with %(institution)s (%(city)s) for correction. "
              "Their comment:", institution=contact.institution.name, city=contact.institution.city),),
            _("Open the contact"), link, quote=comment)

    return _queue(auditor, "contact_returned", f"contact_returned:{event_id}", compose)
