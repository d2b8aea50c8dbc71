"""What changed between two versions of a rubric, criterion by criterion, in words a reader follows.

Pure: two parsed rubrics in, a list of changes out. The organiser's library and the public
method page show the same list, so directors and the public see what changed in the instrument
from one edition to the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .rubrics import Criterion, Rubric, Text

ChangeKind = Literal["added", "removed", "moved", "question", "points", "options", "condition", "type", "critical",
                     "na", "standard"]


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    criterion: str
    question: Text
    """The criterion's question (the newer one where it exists), to name it for a reader."""
    before: str = ""
    after: str = ""
    """Short renderings of what differs (numbers, ids); the page words the change by its kind."""


def _points(c: Criterion) -> str:
    if c.type == "yes_no":
        return f"{c.yes_points:g}"
    if c.type == "number":
        return ", ".join(f"[{b.at_least:g}, {'∞' if b.below is None else f'{b.below:g}'}) → {b.points:g}"
                         for b in c.bands)
    return ", ".join(f"{o.id} → {o.points:g}" for o in c.options)


def _options(c: Criterion) -> tuple[tuple[str, str], ...]:
    return tuple((o.id, o.label.pl) for o in c.options)


def _condition(c: Criterion) -> str:
    if c.when is None:
        return ""
    return f"{c.when.criterion} ∈ {{{', '.join(sorted(c.when.values))}}}"


def compare(old: Rubric, new: Rubric) -> list[Change]:
    """Every difference that can change a score or what an auditor is asked, in the newer rubric's order,
    removed criteria last."""
    before = {c.id: c for c in old.criteria}
    changes: list[Change] = []
    for c in new.criteria:
        was = before.get(c.id)
        if was is None:
            changes.append(Change("added", c.id, c.question, after=_points(c)))
            continue
        if was.section_id != c.section_id:
            changes.append(Change("moved", c.id, c.question, was.section_id, c.section_id))
        if was.type != c.type:
            changes.append(Change("type", c.id, c.question, was.type, c.type))
        if was.question != c.question:
            changes.append(Change("question", c.id, c.question, was.question.pl, c.question.pl))
        if _points(was) != _points(c) or was.max_points != c.max_points:
            changes.append(Change("points", c.id, c.question, _points(was), _points(c)))
        if _options(was) != _options(c):
            changes.append(Change("options", c.id, c.question, " / ".join(label for _, label in _options(was)),
                                  " / ".join(label for _, label in _options(c))))
        if _condition(was) != _condition(c):
            changes.append(Change("condition", c.id, c.question, _condition(was), _condition(c)))
        if was.critical != c.critical:
            changes.append(Change("critical", c.id, c.question, str(was.critical), str(c.critical)))
        if was.na_allowed != c.na_allowed:
            changes.append(Change("na", c.id, c.question, str(was.na_allowed), str(c.na_allowed)))
        if was.standard != c.standard:
            changes.append(Change("standard", c.id, c.question, was.standard, c.standard))
    now = {c.id for c in new.criteria}
    changes += [Change("removed", c.id, c.question, before=_points(c)) for c in old.criteria if c.id not in now]
    return changes
