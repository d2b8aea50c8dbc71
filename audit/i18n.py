"""UI language (Polish first, English second) and the labels of domain codes."""

from __future__ import annotations

from flask import Flask, current_app, request, session
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

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
    "director_access": _l("directors' appeal window or evidence access changed"),
    "appeal_filed": _l("appeal filed by the director"),
    "appeal_upheld": _l("appeal upheld"),
    "appeal_rejected": _l("appeal rejected"),
}
APPEAL_STATUS_LABELS = {"open": _l("waiting for a decision"), "upheld": _l("upheld"), "rejected": _l("rejected")}


def select_locale() -> str:
    """The language chosen in the header, else Polish."""
    chosen = session.get("lang")
    return chosen if chosen in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]


def lang() -> str:
    return str(get_locale() or "pl")


def points(value: float | None) -> str:
    """Ranking points with one decimal, in the UI language's notation."""
    return "—" if value is None else format_decimal(value, format="#,##0.0")


def percent(value: float | None) -> str:
    return "—" if value is None else format_decimal(float(value) * 100, format="0.0") + "%"


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
        if reason.passed:
            return _("%(channel)s: %(have)d of %(need)d required contacts.", channel=channel,
                     have=int(reason.value or 0), need=int(reason.required or 0))
        return _("%(channel)s: only %(have)d of %(need)d required contacts.", channel=channel,
                 have=int(reason.value or 0), need=int(reason.required or 0))
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
        return f"{format_decimal(float(value), format='#,##0.#')} {unit}".strip()
    option = next((o for o in criterion.options if o.id == str(value)), None)
    return option.label.get(lang()) if option else str(value)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        lang=lang, CHANNEL_LABELS=CHANNEL_LABELS, CATEGORY_LABELS=CATEGORY_LABELS,
        CAMPAIGN_STATUS_LABELS=CAMPAIGN_STATUS_LABELS, CONTACT_STATUS_LABELS=CONTACT_STATUS_LABELS,
        CHANNEL_STATUS_LABELS=CHANNEL_STATUS_LABELS, FACT_LABELS=FACT_LABELS,
        PLATFORM_LABELS=PLATFORM_LABELS, EVENT_LABELS=EVENT_LABELS, APPEAL_STATUS_LABELS=APPEAL_STATUS_LABELS,
        describe_reason=describe_reason,
        answer_label=answer_label,
    )
    app.jinja_env.filters.update(points=points, percent=percent)

    @app.context_processor
    def _current_path() -> dict[str, str]:
        return {"current_path": request.full_path.rstrip("?") if request else "/"}
