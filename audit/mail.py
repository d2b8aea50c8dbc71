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

import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from markupsafe import escape

from .accounts import LIFETIMES, token_hash
from .extensions import db
from .i18n import CHANNEL_LABELS, day, days, points
from .models import (
    Appeal,
    Assignment,
    Campaign,
    Contact,
    Institution,
    JobRecord,
    MailMessage,
    MailOptOut,
    Revision,
    RevisionStanding,
    User,
    director_institution,
)

if TYPE_CHECKING:
    from .standings import FrozenRow

PRODUCT = "Audyt Zaufania"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"  # `make run`; PUBLIC_URL is required once mail is really sent
QUEUED = "mail_queued"  # session.info flag: the commit should wake a worker (audit.jobs)


@dataclass(frozen=True)
class Preference:
    """Notifications a person may turn off: what they are called, and who receives them."""

    label: LazyString
    roles: frozenset[str]


PREFERENCES: dict[str, Preference] = {
    "assignments": Preference(_l("Assignments given to me or moved away from me"), frozenset({"auditor"})),
    "reminders": Preference(_l("A reminder a few days before an assignment's window closes while its contact "
                               "is not sent"), frozenset({"auditor"})),
    "contact_returned": Preference(_l("A contact of mine returned for correction"), frozenset({"auditor"})),
    "results_published": Preference(_l("Results published for my institution"), frozenset({"director"})),
    "appeal_window": Preference(_l("A reminder a few days before the appeal window closes"),
                                frozenset({"director"})),
    "appeal_decided": Preference(_l("A decision on my appeal"), frozenset({"director"})),
    "appeal_filed": Preference(_l("A new appeal filed by a director"), frozenset({"organiser"})),
}
"""Topic -> preference. Mail about the account itself (invitations, password resets) is not here:
it cannot be turned off, since without it nobody could log in."""


def preferences_for(role: str) -> list[str]:
    """The topics a person of this role receives, in the order the settings page lists them."""
    return [topic for topic, preference in PREFERENCES.items() if role in preference.roles]


def turned_off(user: User) -> set[str]:
    return set(db.session.scalars(sa.select(MailOptOut.topic).where(MailOptOut.user_id == user.id)))


def set_preferences(user: User, wanted: Sequence[str], language: str | None = None) -> None:
    """Keep the topics in `wanted` on and turn the role's others off; optionally the mail's language."""
    topics = preferences_for(user.role)
    off = set(topics) - set(wanted)
    db.session.execute(sa.delete(MailOptOut).where(MailOptOut.user_id == user.id,
                                                   MailOptOut.topic.not_in(off) if off else sa.true()))
    for topic in sorted(off - turned_off(user)):
        db.session.add(MailOptOut(user_id=user.id, topic=topic))
    if language is not None and language in current_app.config["LANGUAGES"]:
        user.language = language
    db.session.flush()


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
    items: tuple[str, ...] = ()
    """A list after the paragraphs (the assignments a message is about)."""


def absolute_url(endpoint: str, **values: object) -> str:
    """A link into the app from PUBLIC_URL, never from the request's Host header (which a visitor
    chooses: a "forgot password" posted with a forged Host must not mail a link to another site)."""
    base = urlsplit(current_app.config.get("PUBLIC_URL") or DEFAULT_PUBLIC_URL)
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


def _queue(user: User, kind: str, key: str, compose: Callable[[], Letter], secret: str | None = None,
           topic: str | None = None) -> MailMessage | None:
    """Add the message for this event, or return the one already made for it; None when the person
    turned this topic off (then nothing is written, and nothing will be)."""
    existing = db.session.scalar(sa.select(MailMessage).where(MailMessage.key == key))
    if existing is not None:
        return existing
    if topic is not None and (not user.active or db.session.get(MailOptOut, (user.id, topic)) is not None):
        return None  # notifications go to active accounts only (an auditor deactivated is not told of moves)
    message = MailMessage(**_written(Queued(user, kind, key, compose, secret, topic)))
    db.session.add(message)
    db.session.flush()
    db.session.info[QUEUED] = True
    return message


@dataclass(frozen=True)
class Queued:
    """One message an event causes, before it is written."""

    user: User
    kind: str
    key: str
    compose: Callable[[], Letter]
    secret: str | None = None
    topic: str | None = None
    data: Any = None
    """What a Stencil fills this message's slots from."""


def _queue_many(messages: Sequence[Queued], write: Callable[[Sequence[Queued]], list[dict[str, Any]]] | None = None
                ) -> int:
    """The messages of one event to many people (a publication mails every director): the same rules as
    `_queue`, with one query for those already made, one for opt-outs and one INSERT; how many were written."""
    existing: set[str] = set()
    keys = [m.key for m in messages]
    for start in range(0, len(keys), 500):  # bounded IN lists, whatever the database's parameter limit
        existing.update(db.session.scalars(sa.select(MailMessage.key).where(MailMessage.key.in_(keys[start:start + 500]))))
    topics = {m.topic for m in messages if m.topic is not None}
    turned_off = {(u, t) for u, t in db.session.execute(
        sa.select(MailOptOut.user_id, MailOptOut.topic).where(MailOptOut.topic.in_(topics)))} if topics else set()
    kept = [m for m in messages if m.key not in existing and (
        m.topic is None or (m.user.active and (m.user.id, m.topic) not in turned_off))]
    rows = write(kept) if write is not None else [_written(m) for m in kept]
    if rows:
        db.session.execute(sa.insert(MailMessage), rows)  # one executemany; the columns' defaults apply
        db.session.info[QUEUED] = True
    return len(rows)


def _language(user: User) -> str:
    return user.language if user.language in current_app.config["LANGUAGES"] else "pl"


def _written(message: Queued) -> dict[str, Any]:
    """A message rendered in its recipient's language, as the outbox row's columns."""
    language = _language(message.user)
    with force_locale(language):
        subject, text, html = _rendered(message.compose(), language, message.topic)
    return _columns(message, language, subject, text, html)


def _rendered(letter: Letter, language: str, topic: str | None) -> tuple[str, str, str]:
    """A letter's subject, plain text and HTML, in the locale in force (which is `language`)."""
    footer = _("This message was sent by %(product)s. You receive it because you have an account there.",
               product=PRODUCT)
    if topic is not None:
        footer += " " + _("You can turn such messages off under Notifications: %(link)s",
                          link=absolute_url("auth.notifications"))
    text = "\n\n".join([letter.greeting, *letter.paragraphs, *(["\n".join(f"- {i}" for i in letter.items)]
                                                              if letter.items else []),
                        *([_quote(letter.quote)] if letter.quote else []),
                        f"{letter.link_label}:\n{letter.link}", f"-- \n{PRODUCT}\n{footer}"]) + "\n"
    html = render_template("mail/message.html", letter=letter, product=PRODUCT, footer=footer, lang=language)
    return f"{letter.subject} · {PRODUCT}", text, html


def _columns(message: Queued, language: str, subject: str, text: str, html: str) -> dict[str, Any]:
    user = message.user
    return {"key": message.key, "kind": message.kind, "user_id": user.id, "to_address": user.email,
            "language": language, "subject": subject, "text": text, "html": html, "secret": message.secret}


_SLOT = "\x1e{}\x1e"
_SLOTS = re.compile("\x1e(\\w+)\x1e")


class Stencil:
    """One event's letter to many people, rendered once per language and variant with each person's own words
    (a name, an institution, a link) left as slots, then filled in per message.

    `fields(user, data)` -> (variant, slot -> value), called in the recipient's locale (so numbers are said
    as they would be); `letter(data, values)` -> the Letter, the variant's words around `values`. A message is
    exactly what `_written` makes of it alone: the slots are filled in one pass (a value is never read again
    for slots), escaped in the HTML as the template escapes it. `fixed`: the words the stencil itself holds
    beside the translations (an edition's name); one holding a slot's marker renders each message alone.
    """

    def __init__(self, letter: Callable[[Any, Mapping[str, str]], Letter],
                 fields: Callable[[User, Any], tuple[Hashable, dict[str, str]]], fixed: Sequence[str] = ()):
        self.letter, self.fields = letter, fields
        self.usable = not any("\x1e" in words for words in fixed)

    def queued(self, user: User, kind: str, key: str, data: Any, topic: str | None = None) -> Queued:
        """The message, composable alone too (what `_written` does with it)."""
        return Queued(user, kind, key, lambda: self.letter(data, self.fields(user, data)[1]), topic=topic, data=data)

    def write(self, messages: Sequence[Queued]) -> list[dict[str, Any]]:
        """The outbox rows of `messages`, in their order."""
        if not self.usable:
            return [_written(m) for m in messages]
        rows: list[dict[str, Any]] = [{} for _m in messages]
        by_language: dict[str, list[int]] = {}
        for n, message in enumerate(messages):
            by_language.setdefault(_language(message.user), []).append(n)
        for language, indices in by_language.items():
            with force_locale(language):
                rendered: dict[Hashable, tuple[str, str, str]] = {}
                for n in indices:
                    message = messages[n]
                    variant, values = self.fields(message.user, message.data)
                    if variant not in rendered:
                        slots = {name: _SLOT.format(name) for name in values}
                        rendered[variant] = _rendered(self.letter(message.data, slots), language, message.topic)
                    subject, text, html = rendered[variant]
                    escaped = {name: str(escape(value)) for name, value in values.items()}
                    rows[n] = _columns(message, language, _fill(subject, values), _fill(text, values),
                                       _fill(html, escaped))
        return rows


def _fill(stencil: str, values: Mapping[str, str]) -> str:
    return _SLOTS.sub(lambda m: values[m.group(1)], stencil)


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

    message = _queue(user, purpose, f"{purpose}:{token_hash(token)}", compose, secret=token)
    assert message is not None  # account mail has no topic: it cannot be turned off
    return message


def contact_returned(contact: Contact, comment: str, event_id: int) -> MailMessage | None:
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

    return _queue(auditor, "contact_returned", f"contact_returned:{event_id}", compose, topic="contact_returned")


def _assignment_line(assignment: Assignment) -> str:
    institution = assignment.institution
    channel = str(CHANNEL_LABELS.get(assignment.channel, assignment.channel))
    return _("%(institution)s (%(city)s), %(channel)s, %(window)s", institution=institution.name,
             city=institution.city, channel=channel[:1].lower() + channel[1:],  # mid-sentence: "wizyta osobista"
             window=days(assignment.due_start, assignment.due_end))


def assignments_given(auditor: User, assignments: Sequence[Assignment], event_id: int) -> MailMessage | None:
    """To an auditor: assignments are theirs now (a plan saved, or one moved to them), listed.

    Keyed by the journal entry of the change and the auditor, so each change of holder makes one
    message per auditor, however often it is called."""
    campaign = assignments[0].campaign

    def compose() -> Letter:
        return Letter(ngettext("A new assignment", "New assignments", len(assignments)),
                      _("Hello %(name)s,", name=auditor.name),
                      (ngettext("%(num)s assignment in %(edition)s is now yours:",
                                "%(num)s assignments in %(edition)s are now yours:", len(assignments),
                                edition=campaign.name),),
                      _("Open my assignments"), absolute_url("auditor.home"),
                      items=tuple(_assignment_line(a) for a in assignments))

    return _queue(auditor, "assignments_given", f"assignments_given:{event_id}:{auditor.id}", compose,
                  topic="assignments")


def assignment_moved_away(previous: User, assignment: Assignment, event_id: int) -> MailMessage | None:
    """To the auditor who held an assignment until it moved: it is no longer theirs. Who holds it
    now is not said (auditors do not learn each other's work)."""

    def compose() -> Letter:
        return Letter(_("An assignment is no longer yours"), _("Hello %(name)s,", name=previous.name),
                      (_("this assignment in %(edition)s has been given to another auditor; you need not do it:",
                         edition=assignment.campaign.name),),
                      _("Open my assignments"), absolute_url("auditor.home"), items=(_assignment_line(assignment),))

    return _queue(previous, "assignment_moved_away", f"assignment_moved_away:{event_id}:{previous.id}", compose,
                  topic="assignments")


def assignment_reminder(assignment: Assignment) -> MailMessage | None:
    """To the holder of an assignment whose window closes soon and whose contact is not sent.

    Keyed by the assignment, its holder and the window's last day: one reminder per window, however
    often the sweep runs; a window moved later, or a new holder, earns its own."""
    auditor = assignment.auditor
    assert assignment.due_end is not None

    def compose() -> Letter:
        return Letter(_("An assignment closes on %(day)s", day=day(assignment.due_end)),
                      _("Hello %(name)s,", name=auditor.name),
                      (_("the window of this assignment closes on %(day)s and its contact has not been sent yet:",
                         day=day(assignment.due_end)),),
                      _("Open the assignment"), absolute_url("auditor.contact_form", assignment_id=assignment.id),
                      items=(_assignment_line(assignment),))

    return _queue(auditor, "assignment_reminder",
                  f"assignment_reminder:{assignment.id}:{auditor.id}:{assignment.due_end.isoformat()}", compose,
                  topic="reminders")


# To a director the rule of docs/security.md holds: what the scorecard shows, nothing more. No
# auditor's name or pseudonym, no contact's number or scenario, nothing of fieldwork in progress.


def appeal_decided(appeal: Appeal, event_id: int) -> MailMessage | None:
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

    return _queue(director, "appeal_decided", f"appeal_decided:{event_id}", compose, topic="appeal_decided")


def appeal_window_closing(campaign: Campaign, director: User, institutions: Sequence[Institution],
                          until: date) -> MailMessage | None:
    """To a director whose institutions a published revision of the edition ranks: the appeal
    window closes soon. Sent only once results are out (audit.reminders): before, a message about
    an edition would tell an institution that fieldwork is under way. One per director per edition."""
    link = absolute_url("director.home")

    def compose() -> Letter:
        return Letter(_("Appeals for %(edition)s close on %(day)s", edition=campaign.name, day=day(until)),
                      _("Hello %(name)s,", name=director.name),
                      (_("you can contest a contact of the published results of %(edition)s until %(day)s. "
                         "After that day the results stand. Your institutions in this edition:",
                         edition=campaign.name, day=day(until)),),
                      _("Open my institutions"), link, items=tuple(f"{i.name} ({i.city})" for i in institutions))

    return _queue(director, "appeal_window", f"appeal_window:{campaign.id}:{director.id}", compose,
                  topic="appeal_window")


def appeal_filed(appeal: Appeal, event_id: int) -> list[MailMessage]:
    """To every active organiser: a director contested a contact; it waits for a decision.

    Names the institution, the edition and the director's reason, not the auditor: the appeals page
    shows the rest to those who may see it."""
    campaign = db.session.get(Campaign, appeal.campaign_id)
    assert campaign is not None
    link = absolute_url("organiser.appeals", campaign_id=campaign.id)
    messages = []
    for organiser in db.session.scalars(sa.select(User).where(User.role == "organiser", User.active.is_(True))
                                        .order_by(User.id)):
        def compose(organiser: User = organiser) -> Letter:
            return Letter(_("A new appeal: %(institution)s", institution=appeal.institution.name),
                          _("Hello %(name)s,", name=organiser.name),
                          (_("the director of %(institution)s (%(city)s) contests a contact of %(edition)s. "
                             "Their reason:", institution=appeal.institution.name, city=appeal.institution.city,
                             edition=campaign.name),),
                          _("Open the appeals"), link, quote=appeal.reason)

        message = _queue(organiser, "appeal_filed", f"appeal_filed:{event_id}:{organiser.id}", compose,
                         topic="appeal_filed")
        if message is not None:
            messages.append(message)
    return messages


def results_letter(campaign: Campaign, number: int, row: FrozenRow, values: Mapping[str, str]) -> Letter:
    """What a director is told of a revision: the institution's points and licence. `values`: the director's
    name, the institution's name, its points said in the recipient's locale, the link to its scorecard."""
    outcome = (_("It holds the quality licence.") if row.licensed else _("It did not earn the licence."))
    said = (_("%(institution)s: %(points)s points.", institution=values["institution"], points=values["points"])
            if row.points is not None else _("%(institution)s has no result in this version.",
                                             institution=values["institution"]))
    return Letter(_("The results of %(edition)s are published", edition=campaign.name),
                  _("Hello %(name)s,", name=values["name"]),
                  (_("the results of %(edition)s are published (version %(n)s of the ranking).",
                     edition=campaign.name, n=number), said, outcome),
                  _("Open the scorecard"), values["link"])


def results_published(revision: Revision, rows: Sequence[FrozenRow], event_id: int) -> int:
    """To every director of an institution the revision ranks (`rows`, as stored): its result is out, with a
    link to it. Written in one batch (a national edition has thousands of directors); how many were written.
    What is the same for every director is rendered once per language and kind of result (Stencil)."""
    campaign = db.session.get(Campaign, revision.campaign_id)
    assert campaign is not None
    by_institution = {row.institution_id: row for row in rows}
    # Three light reads joined here: one query joining them, with the ranked ids as an IN list, made SQLite
    # probe every director's links for every ranked institution (4 s at 5,000 institutions).
    links = sorted((u, i) for u, i in db.session.execute(
        sa.select(director_institution.c.user_id, director_institution.c.institution_id)) if i in by_institution)
    directors = {u.id: u for u in db.session.scalars(
        sa.select(User).where(User.role == "director", User.active.is_(True)))}
    ranked = sa.select(RevisionStanding.institution_id).where(RevisionStanding.revision_id == revision.id)
    places = {i.id: i.name for i in db.session.scalars(sa.select(Institution).where(Institution.id.in_(ranked)))}

    def fields(director: User, data: tuple[FrozenRow, str, str]) -> tuple[Hashable, dict[str, str]]:
        row, institution, link = data
        return ((row.licensed, row.points is not None),
                {"name": director.name, "institution": institution, "points": points(row.points), "link": link})

    stencil = Stencil(lambda data, values: results_letter(campaign, revision.number, data[0], values), fields,
                      fixed=(campaign.name,))
    messages = [stencil.queued(directors[u], "results_published", f"results_published:{event_id}:{i}:{u}",
                               (by_institution[i], places[i], absolute_url(
                                   "director.scorecard_page", campaign_id=campaign.id, institution_id=i)),
                               topic="results_published")
                for u, i in links if u in directors and i in places]
    return _queue_many(messages, stencil.write)


# To organisers.


def job_failed(job: JobRecord) -> list[MailMessage]:
    """To every active organiser: a background job failed for good, with its error and a link to the jobs page.

    Keyed by the job and its attempts, so a job started again that fails again mails again."""
    from .job_records import KIND_LABELS, error_text

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
                _("Open the background jobs"), link, quote=error_text(job))

        messages.append(_queue(organiser, "job_failed", f"job_failed:{job.id}:{job.attempts}:{job.finished_at}:"
                                                        f"{organiser.id}", compose))
    return messages
