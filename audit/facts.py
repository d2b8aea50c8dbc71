"""The facts an auditor records about a contact, per channel, and the measures derived from them.

Facts are recorded once (a ring count, the time an e-mail was sent and answered) and feed the
rubric's measured criteria (`fact: rings`, `fact: reply_hours`), so nothing is typed twice.
Pure Python: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

FactKind = Literal["datetime", "count", "minutes", "seconds", "yes_no", "platform", "url"]


@dataclass(frozen=True)
class FactField:
    name: str
    kind: FactKind
    required: bool = False
    maximum: float | None = None


_CONTACTED_AT = FactField("contacted_at", "datetime", required=True)
_SENT_AT = FactField("sent_at", "datetime", required=True)
_REPLY_AT = FactField("reply_at", "datetime")

CHANNEL_FACTS: dict[str, tuple[FactField, ...]] = {
    "visit": (_CONTACTED_AT, FactField("wait_minutes", "minutes", maximum=600)),
    "phone": (
        _CONTACTED_AT,
        FactField("rings", "count", maximum=100),
        FactField("answer_seconds", "seconds", maximum=3600),
        FactField("transferred", "yes_no"),
        FactField("call_minutes", "minutes", maximum=600),
    ),
    "email": (_SENT_AT, _REPLY_AT),
    "social": (FactField("platform", "platform", required=True), FactField("link", "url"), _SENT_AT, _REPLY_AT),
    "website": (_CONTACTED_AT,),
}
PLATFORMS = ("facebook", "instagram", "x", "youtube", "linkedin", "other")

DERIVED_FROM: dict[str, tuple[str, ...]] = {"reply_hours": ("sent_at", "reply_at")}
"""A measured fact computed from recorded ones, and which recorded fields it needs."""


def parse_datetime(value: Any) -> datetime | None:
    """An ISO date-time as an <input type="datetime-local"> sends it (minutes or seconds)."""
    if isinstance(value, datetime):
        return value
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def measures(channel: str, recorded: Mapping[str, Any]) -> dict[str, float]:
    """The numbers a rubric's measured criteria read, from a contact's recorded facts."""
    out: dict[str, float] = {}
    for field in CHANNEL_FACTS.get(channel, ()):
        value = recorded.get(field.name)
        if field.kind in ("count", "minutes", "seconds") and isinstance(value, int | float) \
                and not isinstance(value, bool):
            out[field.name] = float(value)
    sent, reply = parse_datetime(recorded.get("sent_at")), parse_datetime(recorded.get("reply_at"))
    if sent is not None and reply is not None and reply >= sent:
        out["reply_hours"] = round((reply - sent).total_seconds() / 3600, 2)
    return out


def contacted_at(channel: str, recorded: Mapping[str, Any]) -> datetime | None:
    """When the contact happened: the visit or call, or the moment the message was sent."""
    return parse_datetime(recorded.get("contacted_at") or recorded.get("sent_at"))


def fact_problems(channel: str, recorded: Mapping[str, Any]) -> dict[str, str]:
    """Facts that contradict each other, by field name (plain-English codes for the view)."""
    problems: dict[str, str] = {}
    sent, reply = parse_datetime(recorded.get("sent_at")), parse_datetime(recorded.get("reply_at"))
    if sent is not None and reply is not None and reply < sent:
        problems["reply_at"] = "reply_before_sent"
    return problems


def sources_of(fact: str) -> tuple[str, ...]:
    """The recorded fields an auditor fills for a measured fact."""
    return DERIVED_FROM.get(fact, (fact,))
