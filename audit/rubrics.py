"""YAML rubrics -> frozen, validated dataclasses.

A rubric is read once, checked completely, and refused with every problem named by file,
criterion and line (see docs/rubrics.md). Pure: no Flask, no database.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml

CHANNELS: tuple[str, ...] = ("visit", "phone", "email", "social", "website")
ANSWER_TYPES: tuple[str, ...] = ("yes_no", "scale", "choice", "number")
LANGUAGES: tuple[str, ...] = ("pl", "en")
FACTS: tuple[str, ...] = ("rings", "answer_seconds", "wait_minutes", "reply_hours", "call_minutes")
MAX_FILE_BYTES = 256 * 1024
MAX_DEPTH = 12
YES, NO = "yes", "no"

AnswerType = Literal["yes_no", "scale", "choice", "number"]
_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


# --- the model -----------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """A text in every UI language."""

    pl: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.pl


@dataclass(frozen=True)
class Option:
    """One choice option or one scale level (whose id is its number, from "1")."""

    id: str
    points: float
    label: Text


@dataclass(frozen=True)
class Band:
    """Numbers with at_least <= value < below (below None: no upper end)."""

    at_least: float
    below: float | None
    points: float

    def holds(self, value: float) -> bool:
        return value >= self.at_least and (self.below is None or value < self.below)


@dataclass(frozen=True)
class Condition:
    """Show a criterion only when another criterion's answer is one of `values`."""

    criterion: str
    values: frozenset[str]


@dataclass(frozen=True)
class Criterion:
    id: str
    type: AnswerType
    question: Text
    standard: str
    max_points: float
    guidance: Text | None = None
    recommendation: Text | None = None
    yes_points: float = 0.0
    options: tuple[Option, ...] = ()
    bands: tuple[Band, ...] = ()
    unit: Text | None = None
    fact: str | None = None
    na_allowed: bool = False
    critical: bool = False
    when: Condition | None = None
    section_id: str = ""
    line: int = 0

    def answer_values(self) -> tuple[str, ...]:
        """The allowed answers of a yes/no, scale or choice criterion."""
        if self.type == "yes_no":
            return (YES, NO)
        return tuple(o.id for o in self.options)


@dataclass(frozen=True)
class Section:
    id: str
    title: Text
    criteria: tuple[Criterion, ...]


@dataclass(frozen=True)
class Rubric:
    id: str
    version: str
    channel: str
    title: Text
    sections: tuple[Section, ...]
    hash: str
    source: str = field(repr=False)
    description: Text | None = None
    path: str = ""

    @property
    def criteria(self) -> tuple[Criterion, ...]:
        return tuple(c for s in self.sections for c in s.criteria)

    def criterion(self, criterion_id: str) -> Criterion:
        return self._by_id()[criterion_id]

    def _by_id(self) -> Mapping[str, Criterion]:
        cached = self.__dict__.get("_by_id_cache")
        if cached is None:
            cached = {c.id: c for c in self.criteria}
            object.__setattr__(self, "_by_id_cache", cached)
        return cached

    @property
    def max_points(self) -> float:
        return sum(c.max_points for c in self.criteria)


# --- errors ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    path: str
    line: int | None
    criterion: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        who = f"criterion '{self.criterion}': " if self.criterion else ""
        return f"{where}: {who}{self.message}"


class RubricError(Exception):
    """A rubric was refused; `problems` lists every reason found."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


# --- safe YAML with line numbers --------------------------------------------------------


class _LineDict(dict[Any, Any]):
    line: int = 0


def _line(node: object) -> int:
    return node.line if isinstance(node, _LineDict) else 0


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses aliases and deep nesting and keeps each mapping's line."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.MarkedYAMLError(
                None, None, "anchors and aliases (&, *) are not allowed in rubrics", event.start_mark
            )
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.MarkedYAMLError(
                    None, None, f"nested deeper than {MAX_DEPTH} levels", self.peek_event().start_mark  # type: ignore[no-untyped-call]
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_line_mapping(self, node: yaml.MappingNode) -> _LineDict:
        mapping = _LineDict(self.construct_mapping(node, deep=True))
        mapping.line = node.start_mark.line + 1
        return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _Loader.construct_line_mapping)


def read_yaml(text: str, path: str) -> Any:
    """Parse YAML safely (no aliases, no tags, bounded depth); RubricError names the line."""
    return _parse_yaml(text, path)


def _parse_yaml(text: str, path: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise RubricError([Problem(path, line, None, f"not valid YAML: {exc.problem or exc.context}")]) from None
    except yaml.YAMLError as exc:
        raise RubricError([Problem(path, None, None, f"not valid YAML: {exc}")]) from None


# --- validation ------------------------------------------------------------------------


class _Checker:
    """Collects every problem of one file instead of stopping at the first."""

    def __init__(self, path: str):
        self.path = path
        self.problems: list[Problem] = []

    def fail(self, node: Any, message: str, criterion: str | None = None) -> None:
        line = _line(node) or None
        self.problems.append(Problem(self.path, line, criterion, message))

    def keys(self, node: dict[Any, Any], required: Iterable[str], optional: Iterable[str], what: str, crit: str | None = None) -> bool:
        required = tuple(required)
        allowed = set(required) | set(optional)
        ok = True
        for key in node:
            if key not in allowed:
                hint = _closest(str(key), allowed)
                self.fail(node, f"unknown key '{key}' in {what}" + (f" (did you mean '{hint}'?)" if hint else ""), crit)
                ok = False
        for key in required:
            if key not in node:
                self.fail(node, f"{what} is missing '{key}'", crit)
                ok = False
        return ok

    def text(self, node: Any, parent: Any, key: str, crit: str | None = None) -> Text | None:
        if not isinstance(node, dict):
            self.fail(parent, f"'{key}' must give a text per language: pl and en", crit)
            return None
        for lang in node:
            if lang not in LANGUAGES:
                self.fail(node, f"'{key}' has unknown language '{lang}' (use pl and en)", crit)
        values = {}
        for lang in LANGUAGES:
            value = node.get(lang)
            if not isinstance(value, str) or not value.strip():
                self.fail(node, f"'{key}' is missing the {lang} text", crit)
                return None
            values[lang] = value.strip()
        return Text(**values)

    def points(self, value: Any, node: Any, what: str, crit: str | None) -> float | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(node, f"{what} must be a number, not {value!r}", crit)
            return None
        if value < 0:
            self.fail(node, f"{what} must not be negative ({value})", crit)
            return None
        if Decimal(repr(float(value))).scaleb(3) % 1 != 0:  # SQL sums points in thousandths, exactly
            self.fail(node, f"{what} has more than three decimals ({value})", crit)
            return None
        return float(value)

    def ident(self, value: Any, node: Any, what: str, crit: str | None = None) -> str | None:
        if not isinstance(value, str) or not _ID.match(value):
            self.fail(node, f"{what} {value!r} must be lowercase letters, digits and _", crit)
            return None
        return value


_CRITERION_COMMON = ("id", "type", "question", "standard")
_CRITERION_OPTIONAL = ("guidance", "recommendation", "na_allowed", "critical", "when")
_TYPE_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "yes_no": (("points",), ()),
    "scale": (("levels",), ()),
    "choice": (("options",), ()),
    "number": (("bands", "unit"), ("fact",)),
}


def _closest(word: str, candidates: Iterable[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.75)
    return found[0] if found else None


def _as_value(value: Any) -> str:
    """Normalise a condition value: YAML reads yes/no as booleans, levels as ints."""
    if value is True:
        return YES
    if value is False:
        return NO
    return str(value)


def _criterion(ck: _Checker, node: Any, section_id: str) -> Criterion | None:
    if not isinstance(node, dict):
        ck.fail(None, f"section '{section_id}': each criterion must be a mapping of keys")
        return None
    cid = node.get("id")
    name = cid if isinstance(cid, str) else None
    ctype = node.get("type")
    if ctype not in ANSWER_TYPES:
        ck.fail(node, f"unknown answer type {ctype!r} (use one of: {', '.join(ANSWER_TYPES)})", name)
        ck.keys(node, _CRITERION_COMMON, _CRITERION_OPTIONAL + sum((r + o for r, o in _TYPE_KEYS.values()), ()), "a criterion", name)
        return None
    required, optional = _TYPE_KEYS[ctype]
    before = len(ck.problems)
    ck.keys(node, _CRITERION_COMMON + required, _CRITERION_OPTIONAL + optional, f"a {ctype} criterion", name)
    ck.ident(cid, node, "criterion id", name)
    question = ck.text(node.get("question"), node, "question", name)
    guidance = ck.text(node["guidance"], node, "guidance", name) if "guidance" in node else None
    recommendation = ck.text(node["recommendation"], node, "recommendation", name) if "recommendation" in node else None
    standard = node.get("standard")
    if not isinstance(standard, (str, int, float)) or not str(standard).strip():
        ck.fail(node, "'standard' must name the standard it checks, e.g. \"III.1 zal. 1\"", name)
    flags = {}
    for flag in ("na_allowed", "critical"):
        value = node.get(flag, False)
        if not isinstance(value, bool):
            ck.fail(node, f"'{flag}' must be true or false, not {value!r}", name)
        flags[flag] = bool(value)

    yes_points: float = 0.0
    options: tuple[Option, ...] = ()
    bands: tuple[Band, ...] = ()
    unit: Text | None = None
    fact: str | None = None
    if ctype == "yes_no":
        yes_points = ck.points(node.get("points"), node, "'points'", name) or 0.0
        max_points = yes_points
    elif ctype in ("scale", "choice"):
        options = _options(ck, node, ctype, name)
        max_points = max((o.points for o in options), default=0.0)
    else:
        bands = _bands(ck, node, name)
        max_points = max((b.points for b in bands), default=0.0)
        unit = ck.text(node.get("unit"), node, "unit", name)
        fact = node.get("fact")
        if fact is not None and fact not in FACTS:
            ck.fail(node, f"unknown fact {fact!r} (use one of: {', '.join(FACTS)})", name)

    if flags["critical"] and len(ck.problems) == before:
        lowest = 0.0 if ctype == "yes_no" else min((o.points for o in options or bands), default=0.0)
        if max_points == 0 or lowest > 0:
            # A critical failure is an answer worth 0 points; it must be possible and not the only answer.
            ck.fail(node, "a critical criterion needs an answer worth 0 points (the failure) and one worth more", name)

    when = None
    if "when" in node:
        when = _condition(ck, node["when"], node, name)
    if len(ck.problems) > before or question is None or not isinstance(cid, str):
        return None
    return Criterion(
        id=cid, type=ctype, question=question, standard=str(standard).strip(), max_points=max_points,
        guidance=guidance, recommendation=recommendation, yes_points=yes_points, options=options,
        bands=bands, unit=unit, fact=fact, when=when, section_id=section_id, line=_line(node),
        **flags,
    )


def _options(ck: _Checker, node: dict[Any, Any], ctype: str, name: str | None) -> tuple[Option, ...]:
    key = "levels" if ctype == "scale" else "options"
    items = node.get(key)
    if not isinstance(items, list) or len(items) < 2:
        ck.fail(node, f"'{key}' must list at least two entries", name)
        return ()
    out: list[Option] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            ck.fail(node, f"{key} entry {number} must be a mapping", name)
            continue
        required = ("points", "label") if ctype == "scale" else ("id", "points", "label")
        if not ck.keys(item, required, (), f"{key} entry {number}", name):
            continue
        oid = str(number) if ctype == "scale" else ck.ident(item["id"], item, "option id", name)
        points = ck.points(item["points"], item, f"{key} entry {number} points", name)
        label = ck.text(item["label"], item, "label", name)
        if oid is None or points is None or label is None:
            continue
        if any(o.id == oid for o in out):
            ck.fail(item, f"duplicate option id '{oid}'", name)
        if ctype == "scale" and out and points < out[-1].points:
            ck.fail(item, f"scale levels go from worst to best: level {number} has fewer points than level {number - 1}", name)
        out.append(Option(oid, points, label))
    return tuple(out)


def _bands(ck: _Checker, node: dict[Any, Any], name: str | None) -> tuple[Band, ...]:
    items = node.get("bands")
    if not isinstance(items, list) or not items:
        ck.fail(node, "'bands' must list at least one band", name)
        return ()
    bands: list[Band] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not ck.keys(item, ("at_least", "points"), ("below",), f"band {number}", name):
            continue
        low = ck.points(item["at_least"], item, f"band {number} 'at_least'", name)
        high = ck.points(item["below"], item, f"band {number} 'below'", name) if "below" in item else None
        points = ck.points(item["points"], item, f"band {number} points", name)
        if low is None or points is None or ("below" in item and high is None):
            continue
        if high is not None and high <= low:
            ck.fail(item, f"band {number} is empty: 'below' ({high:g}) must be above 'at_least' ({low:g})", name)
            continue
        if bands:
            prev = bands[-1]
            if prev.below is None:
                ck.fail(item, f"band {number - 1} has no 'below', so only the last band may leave it out", name)
            elif low < prev.below:
                ck.fail(item, f"bands overlap: {low:g} is in bands {number - 1} and {number}", name)
            elif low > prev.below:
                ck.fail(item, f"bands leave a gap from {prev.below:g} to {low:g}", name)
        bands.append(Band(low, high, points))
    return tuple(bands)


def _condition(ck: _Checker, node: Any, parent: Any, name: str | None) -> Condition | None:
    if not isinstance(node, dict):
        ck.fail(parent, "'when' must be {criterion: ID, equals: VALUE} or {criterion: ID, in: [...]}", name)
        return None
    if not ck.keys(node, ("criterion",), ("equals", "in"), "'when'", name):
        return None
    if ("equals" in node) == ("in" in node):
        ck.fail(node, "'when' needs exactly one of 'equals' or 'in'", name)
        return None
    raw = [node["equals"]] if "equals" in node else node["in"]
    if not isinstance(raw, list) or not raw:
        ck.fail(node, "'when: in' must list at least one value", name)
        return None
    return Condition(str(node["criterion"]), frozenset(_as_value(v) for v in raw))


def _check_conditions(ck: _Checker, criteria: Sequence[Criterion], declared: Iterable[str]) -> None:
    by_id = {c.id: c for c in criteria}
    declared = set(declared)
    for c in criteria:
        if c.when is None:
            continue
        target = by_id.get(c.when.criterion)
        if target is None and c.when.criterion in declared:
            continue  # the target has problems of its own, already reported
        if target is None:
            ck.problems.append(Problem(ck.path, c.line, c.id, f"'when' names criterion '{c.when.criterion}', which does not exist"))
        elif target.type == "number":
            ck.problems.append(Problem(ck.path, c.line, c.id, f"'when' cannot depend on number criterion '{target.id}'"))
        else:
            bad = sorted(c.when.values - set(target.answer_values()))
            if bad:
                allowed = ", ".join(target.answer_values())
                ck.problems.append(Problem(ck.path, c.line, c.id, f"'when' value {', '.join(bad)} is not an answer of '{target.id}' ({allowed})"))
    for c in criteria:  # follow each chain; a chain longer than the rubric is a cycle
        seen, cur = [c.id], c
        while cur.when is not None and cur.when.criterion in by_id:
            cur = by_id[cur.when.criterion]
            if cur.id in seen:
                if cur.id == c.id:
                    cycle = " -> ".join([*seen, cur.id])
                    ck.problems.append(Problem(ck.path, c.line, c.id, f"'when' conditions form a cycle: {cycle}"))
                break
            seen.append(cur.id)


def parse_rubric(source: str, path: str = "<rubric>") -> Rubric:
    """Validate a rubric's YAML text completely; raise RubricError listing every problem."""
    size = len(source.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        raise RubricError([Problem(path, None, None, f"file is {size // 1024} KB; a rubric may be at most {MAX_FILE_BYTES // 1024} KB")])
    source = source.replace("\r\n", "\n")
    doc = _parse_yaml(source, path)
    ck = _Checker(path)
    if not isinstance(doc, dict):
        raise RubricError([Problem(path, None, None, "a rubric must be a mapping with id, version, channel, title and sections")])
    ck.keys(doc, ("id", "version", "channel", "title", "sections"), ("description",), "the rubric")
    rid = ck.ident(doc.get("id"), doc, "rubric id")
    version = doc.get("version")
    if not isinstance(version, (str, int, float)) or isinstance(version, bool) or not str(version).strip():
        ck.fail(doc, "'version' must be a text such as \"2026.1\"")
    channel = doc.get("channel")
    if channel not in CHANNELS:
        ck.fail(doc, f"unknown channel {channel!r} (use one of: {', '.join(CHANNELS)})")
    title = ck.text(doc.get("title"), doc, "title")
    description = ck.text(doc["description"], doc, "description") if "description" in doc else None

    sections: list[Section] = []
    seen_ids: dict[str, int] = {}
    raw_sections = doc.get("sections")
    if not isinstance(raw_sections, list) or not raw_sections:
        ck.fail(doc, "'sections' must list at least one section")
        raw_sections = []
    for snode in raw_sections:
        if not isinstance(snode, dict):
            ck.fail(doc, "each section must be a mapping with id, title and criteria")
            continue
        ck.keys(snode, ("id", "title", "criteria"), (), "a section")
        sid = ck.ident(snode.get("id"), snode, "section id") or ""
        stitle = ck.text(snode.get("title"), snode, "title")
        if sid in seen_ids:
            ck.fail(snode, f"duplicate id '{sid}' (also on line {seen_ids[sid]})")
        seen_ids[sid] = _line(snode)
        raw_criteria = snode.get("criteria")
        if not isinstance(raw_criteria, list) or not raw_criteria:
            ck.fail(snode, f"section '{sid}' must list at least one criterion")
            raw_criteria = []
        criteria = []
        for cnode in raw_criteria:
            crit = _criterion(ck, cnode, sid)
            if isinstance(cnode, dict) and isinstance(cnode.get("id"), str):
                cid = cnode["id"]
                if cid in seen_ids:
                    ck.fail(cnode, f"duplicate id '{cid}' (also on line {seen_ids[cid]})", cid)
                seen_ids[cid] = _line(cnode)
            if crit is not None:
                criteria.append(crit)
        if stitle is not None:
            sections.append(Section(sid, stitle, tuple(criteria)))
    all_criteria = [c for s in sections for c in s.criteria]
    _check_conditions(ck, all_criteria, seen_ids)
    if ck.problems:
        raise RubricError(ck.problems)
    assert rid is not None and title is not None and isinstance(channel, str)
    return Rubric(
        id=rid, version=str(version).strip(), channel=channel, title=title, sections=tuple(sections),
        hash=rubric_hash(source), source=source, description=description, path=path,
    )


def rubric_hash(source: str) -> str:
    """SHA-256 of the rubric's text (line endings normalised), the rubric version's identity."""
    return hashlib.sha256(source.replace("\r\n", "\n").encode("utf-8")).hexdigest()


def load_rubric(path: str | Path) -> Rubric:
    """Read and validate one rubric file; the size is checked before anything is parsed."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise RubricError([Problem(str(p), None, None, f"file is {size // 1024} KB; a rubric may be at most {MAX_FILE_BYTES // 1024} KB")])
        source = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise RubricError([Problem(str(p), None, None, "file is not UTF-8 text")]) from None
    except OSError as exc:
        raise RubricError([Problem(str(p), None, None, f"cannot read: {exc.strerror}")]) from None
    return parse_rubric(source, str(p))


def rubric_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand directories to their *.yaml / *.yml files, sorted."""
    files: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files.extend(sorted([*p.glob("*.yaml"), *p.glob("*.yml")]))
        else:
            files.append(p)
    return files


def check_paths(paths: Iterable[str | Path]) -> tuple[list[Rubric], list[Problem]]:
    """Load every rubric file under `paths`; return the good ones and every problem."""
    rubrics: list[Rubric] = []
    problems: list[Problem] = []
    for path in rubric_files(paths):
        try:
            rubrics.append(load_rubric(path))
        except RubricError as exc:
            problems.extend(exc.problems)
    seen: dict[tuple[str, str], Rubric] = {}
    for r in rubrics:
        other = seen.setdefault((r.id, r.version), r)
        if other is not r and other.hash != r.hash:
            problems.append(Problem(r.path, None, None, f"rubric '{r.id}' version {r.version} is also in {other.path} with other content; raise the version"))
    return rubrics, problems


if __name__ == "__main__":  # python -m audit.rubrics PATH...: a check without the app
    found, trouble = check_paths(sys.argv[1:] or ["rubrics"])
    for problem in trouble:
        print(problem)
    for rubric in found:
        print(f"ok  {rubric.path}: {rubric.id} {rubric.version}, {len(rubric.criteria)} criteria, {rubric.max_points:g} points, {rubric.hash[:12]}")
    sys.exit(1 if trouble else 0)
