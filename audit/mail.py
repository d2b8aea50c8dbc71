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
from .i18n import points
from .models import (
    Appeal,
    Campaign,
    Contact,
    Institution,
    JobRecord,
    MailMessage,
    Revision,
    RevisionStanding,
    User,
    director_institution,
)

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


# To a director the rule of docs/security.md holds: what the scorecard shows, nothing more. No
# auditor's name or pseudonym, no contact's number or scenario, nothing of fieldwork in progress.


def appeal_decided(appeal: Appeal, event_id: int) -> MailMessage:
    """To the director who contested a contact: the organiser's decision and its reason."""
    director, campaign = db.session.get(User, appeal.director_id), db.session.get(Campaign, appeal.campaign_id)
    institution = appeal.institution
    assert director is not None and campaign is not None
    link = absolute_url("director.scorecard_page", campaign_id=campaign.id, institution_id=institution.id)

    def compose() -> Letter:
        decided = (_("Your appeal about a contact with %(institution)s in %(edition)s was upheld. The result "
                     "changes only with the next published version of the ranking.",
                     institution=institution.name, edition=campaign.name) if appeal.status == "upheld" else
                   _("Your appeal about a contact with %(institution)s in %(edition)s was rejected.",
                     institution=institution.name, edition=campaign.name))
        return Letter(_("Your appeal has been decided"), _("Hello %(name)s,", name=director.name),
                      (decided, _("The organiser's reason:")), _("Open the scorecard"), link,
                      quote=appeal.resolution or "")

    return _queue(director, "appeal_decided", f"appeal_decided:{event_id}", compose)


def results_published(revision: Revision, event_id: int) -> list[MailMessage]:
    """To every director of an institution the revision ranks: its result is out, with a link to it."""
    campaign = db.session.get(Campaign, revision.campaign_id)
    assert campaign is not None
    rows = {row.institution_id: row for row in revision.standings}
    pairs = db.session.execute(
        sa.select(User, Institution).join(director_institution, director_institution.c.user_id == User.id)
        .join(Institution, Institution.id == director_institution.c.institution_id)
        .where(Institution.id.in_(rows), User.active.is_(True), User.role == "director")
        .order_by(User.id, Institution.id)).all()
    messages = []
    for director, institution in pairs:
        row = rows[institution.id]
        link = absolute_url("director.scorecard_page", campaign_id=campaign.id, institution_id=institution.id)

        def compose(row: RevisionStanding = row, institution: Institution = institution,
                    director: User = director, link: str = link) -> Letter:
            outcome = (_("It holds the quality licence.") if row.licensed else _("It did not earn the licence."))
            said = (_("%(institution)s: %(points)s points.", institution=institution.name, points=points(row.points))
                    if row.points is not None else _("%(institution)s has no result in this version.",
                                                     institution=institution.name))
            return Letter(_("The results of %(edition)s are published", edition=campaign.name),
                          _("Hello %(name)s,", name=director.name),
                          (_("the results of %(edition)s are published (version %(n)s of the ranking).",
                             edition=campaign.name, n=revision.number), said, outcome),
                          _("Open the scorecard"), link)

        messages.append(_queue(director, "results_published",
                               f"results_published:{event_id}:{institution.id}:{director.id}", compose))
    return messages


# To organisers.


def job_failed(job: JobRecord) -> list[MailMessage]:
    """To every active organiser: a background job failed for good, with its error and a link to the jobs page.

    Keyed by the job and its attempts, so a job started again that fails again mails again."""
    from .job_records import KIND_LABELS

    campaign = db.session.get(Campaign, job.campaign_id) if job.campaign_id is not None else None
    link = absolute_url("organiser.job", job_id=job.id)
    messages = []
    for organiser in db.session.scalars(sa.select(User).where(User.role == "organiser", User.active.is_(True))
                                        .order_by(User.id)):
        def compose(organiser: User = organiser) -> Letter:
            what = _(KIND_LABELS.get(job.kind, job.kind))
            return Letter(_("A background job failed"), _("Hello %(name)s,", name=organiser.name), (
                _("the background job (%(job)s) for %(edition)s failed (attempts made: %(n)s). "
                  "The error:", job=what, edition=campaign.name if campaign else "—", n=job.attempts),),
                _("Open the background jobs"), link, quote=job.error or "")

        messages.append(_queue(organiser, "job_failed", f"job_failed:{job.id}:{job.attempts}:{job.finished_at}:"
                                                        f"{organiser.id}", compose))
    return messages
