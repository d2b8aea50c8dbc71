"""UI language (Polish first, English second) and the labels of domain codes."""

from __future__ import annotations

import functools
import re
from datetime import date, datetime
from typing import Any

from babel import Locale, support
from babel.dates import format_interval
from flask import Flask, current_app, request, session
from flask_babel import (
    format_date,
    format_datetime,
    format_decimal,
    get_locale,
    get_translations,
    ngettext,
    to_user_timezone,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms.i18n import messages_path as wtforms_messages_path

from .errors import Np_
from .facts import CHANNEL_FACTS, parse_datetime
from .rubrics import YES, Criterion
from .scoring import NOT_APPLICABLE, AnswerValue, Reason

CHANNEL_LABELS = {
    "visit": _l("In-person visit"),
    "phone": _l("Phone"),
    "email": _l("E-mail"),
    "social": _l("Social media"),
    "website": _l("Website"),
}
FACT_LABELS = {
    "contacted_at": _l("Date and time of the contact"),
    "wait_minutes": _l("Minutes waited before being served"),
    "rings": _l("Rings before the phone was answered"),
    "answer_seconds": _l("Seconds until answered"),
    "transferred": _l("Was the call transferred?"),
    "call_minutes": _l("Length of the call (minutes)"),
    "sent_at": _l("Message sent at"),
    "reply_at": _l("Reply received at (empty: no reply yet)"),
    "platform": _l("Platform"),
    "link": _l("Link to the conversation or profile"),
}
PLATFORM_LABELS = {"facebook": "Facebook", "instagram": "Instagram", "x": "X", "youtube": "YouTube",
                   "linkedin": "LinkedIn", "other": _l("Other")}
CATEGORY_LABELS = {
    "social_welfare": _l("Social welfare centre"),
    "municipal_services": _l("Municipal services centre"),
    "utility": _l("Utility customer office"),
    "helpline": _l("Helpline"),
}
CAMPAIGN_STATUS_LABELS = {
    "draft": _l("Draft"),
    "fieldwork": _l("Fieldwork"),
    "review": _l("Review"),
    "published": _l("Published"),
}
CONTACT_STATUS_LABELS = {
    "draft": _l("Draft"),
    "submitted": _l("Submitted"),
    "returned": _l("Returned"),
    "accepted": _l("Accepted"),
}
CONTACT_COUNT_LABELS = {
    "planned": _l("Not started"),
    "draft": _l("Drafts"),
    "submitted": _l("Sent for review"),
    "returned": _l("Returned to auditors"),
    "accepted": _l("Accepted contacts"),
}
"""Labels for a count of contacts in a state ("Przesłane: 25"): a status label is singular ("Przesłany")."""
CHANNEL_STATUS_LABELS = {
    "scored": _l("scored"),
    "no_contacts": _l("no accepted contacts yet"),
    "not_offered_excluded": _l("not offered: left out"),
    "not_offered_zero": _l("not offered: counts as zero"),
}


EVENT_LABELS = {
    "contact_submitted": _l("contact submitted"),
    "contact_accepted": _l("contact accepted"),
    "contact_returned": _l("contact returned to its auditor"),
    "answer_corrected": _l("answer corrected"),
    "licence_override": _l("licence decision overridden"),
    "licence_override_removed": _l("override removed: the engine decides"),
    "licence_granted": _l("licence granted"),
    "licence_restored": _l("licence restored"),
    "licence_revoked": _l("licence revoked"),
    "licence_points_changed": _l("licence points changed"),
    "publish": _l("revision published"),
    "edition_saved": _l("edition rules saved"),
    "edition_status": _l("edition stage changed"),
    "assignments_planned": _l("assignments planned"),
    "assignment_moved": _l("assignment moved"),
    "director_access": _l("directors' settings changed (appeals, evidence, comments, plans in public)"),
    "appeal_filed": _l("appeal filed by the director"),
    "appeal_upheld": _l("appeal upheld"),
    "appeal_rejected": _l("appeal rejected"),
    "appeal_criterion_upheld": _l("contested criterion upheld"),
    "appeal_criterion_rejected": _l("contested criterion rejected"),
    "plan_submitted": _l("improvement plan submitted"),
    "plan_commented": _l("improvement plan commented by the organiser"),
}
FOLLOW_UP_LABELS = {"improved": _l("improved"), "same": _l("unchanged"), "worse": _l("worse"),
                    "too_few": _l("not enough contacts to tell")}
APPEAL_STATUS_LABELS = {"open": _l("waiting for a decision"), "upheld": _l("upheld"), "rejected": _l("rejected")}


def select_locale() -> Locale:
    """The language chosen in the header, else Polish. A parsed Locale, kept per language: flask_babel
    parses a name on every request, and parsing looks for the locale's data file on disk."""
    chosen = session.get("lang")
    name = chosen if chosen in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]
    return _parsed_locale(name)


@functools.lru_cache(maxsize=16)
def _parsed_locale(name: str) -> Locale:
    return Locale.parse(name)


def lang() -> str:
    return str(get_locale() or "pl")


# --- moments, dates and numbers, for the reader --------------------------------------------------
#
# Moments the app stamps (created_at, submitted_at, published_at...) are naive UTC; they are shown
# in the deployment's zone (BABEL_DEFAULT_TIMEZONE, from DISPLAY_TIMEZONE) by Flask-Babel, which
# takes a naive datetime as UTC. Times an auditor typed (a fact's "contacted_at") are already the
# office's wall-clock time and are shown as typed.

MOMENT = "d MMM y, HH:mm"
NBSP = "\u00a0"


def _unbroken(text: str) -> str:
    """A date or time that a phone's narrow screen must not split over two lines."""
    return text.replace(" ", NBSP).replace("-", "\u2011")


def moment(value: datetime | None, fmt: str = MOMENT) -> str:
    """A stored UTC moment in the display zone ("25 paź 2026, 02:30")."""
    return "" if value is None else format_datetime(value, fmt)


def zone_name(value: datetime | None = None) -> str:
    """The display zone's short name at that moment (CET or CEST in Warsaw), now if none given."""
    return str(to_user_timezone(value or datetime.now().astimezone()).tzname() or "")


def moment_with_zone(value: datetime | None) -> str:
    """A moment with its zone's short name, where two readings of one hour may both occur (DST)."""
    return "" if value is None else f"{moment(value)}{NBSP}{zone_name(value)}"


def wall_time(value: datetime | None, fmt: str = MOMENT) -> str:
    """A time as the auditor typed it (local already): formatted, not converted."""
    return "" if value is None else format_datetime(value, fmt, rebase=False)


def local_today() -> date:
    """Today's date in the display zone (an assignment's window is in the office's days, not UTC's)."""
    return to_user_timezone(datetime.now().astimezone()).date()


def day(value: date | datetime | None) -> str:
    """A calendar date ("1 wrz 2026"); a stored moment gives its day in the display zone."""
    return "" if value is None else _unbroken(format_date(value, "medium"))


def days(start: date | None, end: date | None) -> str:
    """A window of dates ("1 wrz – 18 gru 2026"), unbreakable; an open end shows as "…"."""
    if start is None and end is None:
        return "—"
    if start is None or end is None:
        return f"{day(start) or '…'}{NBSP}–{NBSP}{day(end) or '…'}"
    return _unbroken(format_interval(start, end, "yMMMd", locale=get_locale()))


def number(value: float | int | None) -> str:
    """A count or a measure without trailing zeros ("3", "7,5"), in the UI language's notation."""
    return "" if value is None else format_decimal(value, format="#,##0.##")


def plural(forms: tuple[str, str], value: float | int, **variables: Any) -> str:
    """ngettext for a number shown formatted ("7,5", "1 000"): Flask-Babel's puts the raw value in %(num)s."""
    text = get_translations().ngettext(forms[0], forms[1], _plural_count(value))
    return text % {"num": number(value), **variables}


def _plural_count(value: float) -> int:
    # A fraction takes the same form as 2 in both languages ("1,5 minuty", "1.5 minutes").
    return int(value) if float(value).is_integer() else 2


UNITS: dict[str, tuple[str, str]] = {
    "minutes": Np_("%(num)s minute", "%(num)s minutes"),
    "hours": Np_("%(num)s hour", "%(num)s hours"),
    "seconds": Np_("%(num)s second", "%(num)s seconds"),
    "rings": Np_("%(num)s ring", "%(num)s rings"),
    "clicks": Np_("%(num)s click", "%(num)s clicks"),
}
"""Units a rubric or a fact measures in, by their English name, with their plural forms: a rubric
gives one word per language ("minuty"), which would read "7 minuty"."""


def quantity(value: float | int, unit: str | None, fallback: str = "") -> str:
    """A number with its unit in the right plural form ("7 minut", "3 sygnały", "1 ring")."""
    forms = UNITS.get(unit or "")
    if forms is None:
        return f"{number(value)} {fallback}".strip()
    return plural(forms, value)


FACT_UNITS = {"wait_minutes": "minutes", "call_minutes": "minutes", "rings": "rings", "answer_seconds": "seconds"}


def fact_value(name: str, value: Any) -> str:
    """A recorded fact as the reader expects it: a date and time, "3 sygnały", Tak/Nie, a platform."""
    kind = next((f.kind for fields in CHANNEL_FACTS.values() for f in fields if f.name == name), None)
    if value in (None, ""):
        return ""
    if kind == "datetime":
        when = parse_datetime(value)
        return wall_time(when) if when is not None else str(value)
    if kind in ("count", "minutes", "seconds") and isinstance(value, int | float) and not isinstance(value, bool):
        return quantity(value, FACT_UNITS.get(name))
    if kind == "yes_no":
        return _("Yes") if value == YES else _("No")
    if kind == "platform":
        return str(PLATFORM_LABELS.get(str(value), value))
    return str(value)


def points(value: float | None) -> str:
    """Ranking points with one decimal, in the UI language's notation."""
    return "—" if value is None else format_decimal(value, format="#,##0.0")


def percent(value: float | None) -> str:
    return "—" if value is None else format_decimal(float(value) * 100, format="0.0") + "%"


STANDARD_PARTS = {
    "I": _l("basic standards"),
    "II": _l("the service process"),
    "III": _l("phone calls and electronic communication"),
    "IV": _l("difficult situations with a client"),
}
"""The parts of the standard the shipped rubrics cite ("Standardy obsługi klienta w MOPS w Rydułtowach", 2019)."""
_STANDARD_CODE = re.compile(r"^(I|II|III|IV)\.(\d+)(?:\s+za[lł]\.\s*(\d+))?$")


def standard_reference(code: str) -> str:
    """A rubric's `standard` code in words, the code kept as the reference: "II.1 zal. 3" ->
    "the service process, standard 1, recommendation 3 (II.1 zal. 3)"; "LZM: ..." names the contest."""
    code = code.strip()
    if code.startswith("LZM:"):
        return _("a criterion of the “Lider Zaufania Mieszkańców” contest: %(topic)s", topic=code[4:].strip())
    found = _STANDARD_CODE.match(code)
    if found is None:
        return code
    part, number, recommendation = found.groups()
    if recommendation:
        words = _("part %(part)s (%(title)s), standard %(n)s, recommendation %(r)s", part=part,
                  title=STANDARD_PARTS[part], n=number, r=recommendation)
    else:
        words = _("part %(part)s (%(title)s), standard %(n)s", part=part, title=STANDARD_PARTS[part], n=number)
    return _("Customer service standards of MOPS in Rydułtowy (2019), %(where)s (%(code)s)", where=words, code=code)


def describe_reason(reason: Reason) -> str:
    """One licence check, in a plain sentence."""
    channel = str(CHANNEL_LABELS.get(reason.channel or "", reason.channel or ""))
    if reason.code == "threshold":
        if reason.passed:
            return _("%(points)s points reach the threshold of %(threshold)s.",
                     points=points(reason.value), threshold=points(reason.required))
        return _("%(points)s points are below the threshold of %(threshold)s.",
                 points=points(reason.value), threshold=points(reason.required))
    if reason.code == "min_contacts":
        need = int(reason.required or 0)
        if reason.passed:
            return ngettext("%(channel)s: %(have)d of %(num)d required contact.",
                            "%(channel)s: %(have)d of %(num)d required contacts.", need, channel=channel,
                            have=int(reason.value or 0))
        return ngettext("%(channel)s: only %(have)d of %(num)d required contact.",
                        "%(channel)s: only %(have)d of %(num)d required contacts.", need, channel=channel,
                        have=int(reason.value or 0))
    if reason.code == "critical":
        if reason.passed:
            return _("No critical criterion failed.")
        return _("Critical criterion “%(criterion)s” failed in contact #%(contact)d.",
                 criterion=reason.criterion_id, contact=reason.contact_id)
    return _("No channel could be scored yet.")


def answer_label(criterion: Criterion, value: AnswerValue | None) -> str:
    """An answer as the auditor saw it: Tak/Nie, the option's label, the number with its unit."""
    if value is None:
        return ""
    if value == NOT_APPLICABLE:
        return _("n/a")
    if criterion.type == "yes_no":
        return _("Yes") if value == YES else _("No")
    if criterion.type == "number":
        unit = criterion.unit.get(lang()) if criterion.unit else ""
        return quantity(float(value), criterion.unit.get("en") if criterion.unit else None, fallback=unit)
    option = next((o for o in criterion.options if o.id == str(value)), None)
    return option.label.get(lang()) if option else str(value)


@functools.cache
def _wtforms_translations(language: str) -> support.Translations:
    return support.Translations.load(wtforms_messages_path(), [language], domain="wtforms")


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        lang=lang, CHANNEL_LABELS=CHANNEL_LABELS, CATEGORY_LABELS=CATEGORY_LABELS,
        CAMPAIGN_STATUS_LABELS=CAMPAIGN_STATUS_LABELS, CONTACT_STATUS_LABELS=CONTACT_STATUS_LABELS,
        CONTACT_COUNT_LABELS=CONTACT_COUNT_LABELS,
        CHANNEL_STATUS_LABELS=CHANNEL_STATUS_LABELS, FACT_LABELS=FACT_LABELS,
        PLATFORM_LABELS=PLATFORM_LABELS, EVENT_LABELS=EVENT_LABELS, APPEAL_STATUS_LABELS=APPEAL_STATUS_LABELS,
        FOLLOW_UP_LABELS=FOLLOW_UP_LABELS, describe_reason=describe_reason, standard_reference=standard_reference,
        answer_label=answer_label, fact_value=fact_value, zone_name=zone_name, quantity=quantity,
    )
    app.jinja_env.filters.update(points=points, percent=percent, moment=moment, moment_with_zone=moment_with_zone,
                                 wall_time=wall_time, day=day, number=number)
    app.jinja_env.globals.update(days=days)

    @app.before_request
    def _wtforms_catalogue() -> None:
        # Flask-WTF reads WTForms' own messages from disk once per request that validates a form; every
        # auditor's save does. The catalogue is the same for every request in one language: read it once.
        request.wtforms_translations = _wtforms_translations(lang())  # type: ignore[attr-defined]

    @app.context_processor
    def _current_path() -> dict[str, str]:
        return {"current_path": request.full_path.rstrip("?") if request else "/"}
