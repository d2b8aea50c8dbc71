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

from .errors import N_, Phrase

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
    """One reason a rubric is refused: `message % params` in English (an N_() text the UI translates,
    a parameter may itself be a Phrase), with the file, line and criterion it is about."""

    path: str
    line: int | None
    criterion: str | None
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The message in English, as the command line prints it."""
        return self.message % {k: v.text if isinstance(v, Phrase) else v for k, v in self.params.items()} \
            if self.params else self.message

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        who = f"criterion '{self.criterion}': " if self.criterion else ""
        return f"{where}: {who}{self.text}"


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


_TOO_BIG = N_("file is %(size)s KB; a rubric may be at most %(limit)s KB")
_ALIASES = N_("anchors and aliases (&, *) are not allowed in rubrics")
_DEEP = N_("nested deeper than %(depth)s levels")


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses aliases and deep nesting and keeps each mapping's line."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.MarkedYAMLError(
                None, None, _ALIASES, event.start_mark
            )
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.MarkedYAMLError(
                    None, None, _DEEP, self.peek_event().start_mark  # type: ignore[no-untyped-call]
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
        detail: str | Phrase = exc.problem or exc.context or ""
        if detail in (_ALIASES, _DEEP):  # our own refusals are translated; the YAML parser's own words are not
            detail = Phrase(str(detail), {"depth": MAX_DEPTH} if detail == _DEEP else {})
        raise RubricError([Problem(path, line, None, N_("not valid YAML: %(detail)s"), {"detail": detail})]) from None
    except yaml.YAMLError as exc:
        raise RubricError([Problem(path, None, None, N_("not valid YAML: %(detail)s"), {"detail": str(exc)})]) from None


# --- validation ------------------------------------------------------------------------


class _Checker:
    """Collects every problem of one file instead of stopping at the first."""

    def __init__(self, path: str):
        self.path = path
        self.problems: list[Problem] = []

    def fail(self, node: Any, message: str, criterion: str | None = None, **params: Any) -> None:
        line = _line(node) or None
        self.problems.append(Problem(self.path, line, criterion, message, params))

    def keys(self, node: dict[Any, Any], required: Iterable[str], optional: Iterable[str], what: Phrase, crit: str | None = None) -> bool:
        required = tuple(required)
        allowed = set(required) | set(optional)
        ok = True
        for key in node:
            if key not in allowed:
                hint = _closest(str(key), allowed)
                if hint:
                    self.fail(node, N_("unknown key '%(key)s' in %(what)s (did you mean '%(hint)s'?)"), crit,
                              key=key, what=what, hint=hint)
                else:
                    self.fail(node, N_("unknown key '%(key)s' in %(what)s"), crit, key=key, what=what)
                ok = False
        for key in required:
            if key not in node:
                self.fail(node, N_("%(what)s is missing '%(key)s'"), crit, what=what, key=key)
                ok = False
        return ok

    def text(self, node: Any, parent: Any, key: str, crit: str | None = None) -> Text | None:
        if not isinstance(node, dict):
            self.fail(parent, N_("'%(key)s' must give a text per language: pl and en"), crit, key=key)
            return None
        for lang in node:
            if lang not in LANGUAGES:
                self.fail(node, N_("'%(key)s' has unknown language '%(lang)s' (use pl and en)"), crit, key=key, lang=lang)
        values = {}
        for lang in LANGUAGES:
            value = node.get(lang)
            if not isinstance(value, str) or not value.strip():
                self.fail(node, N_("'%(key)s' is missing the %(lang)s text"), crit, key=key, lang=lang)
                return None
            values[lang] = value.strip()
        return Text(**values)

    def points(self, value: Any, node: Any, what: Phrase, crit: str | None) -> float | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(node, N_("%(what)s must be a number, not %(value)s"), crit, what=what, value=repr(value))
            return None
        if value < 0:
            self.fail(node, N_("%(what)s must not be negative (%(value)s)"), crit, what=what, value=value)
            return None
        if Decimal(repr(float(value))).scaleb(3) % 1 != 0:  # SQL sums points in thousandths, exactly
            self.fail(node, N_("%(what)s has more than three decimals (%(value)s)"), crit, what=what, value=value)
            return None
        return float(value)

    def ident(self, value: Any, node: Any, what: Phrase, crit: str | None = None) -> str | None:
        if not isinstance(value, str) or not _ID.match(value):
            self.fail(node, N_("%(what)s %(value)s must be lowercase letters, digits and _"), crit, what=what,
                      value=repr(value))
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
        ck.fail(None, N_("section '%(section)s': each criterion must be a mapping of keys"), section=section_id)
        return None
    cid = node.get("id")
    name = cid if isinstance(cid, str) else None
    ctype = node.get("type")
    if ctype not in ANSWER_TYPES:
        ck.fail(node, N_("unknown answer type %(type)s (use one of: %(types)s)"), name, type=repr(ctype),
                types=", ".join(ANSWER_TYPES))
        ck.keys(node, _CRITERION_COMMON, _CRITERION_OPTIONAL + sum((r + o for r, o in _TYPE_KEYS.values()), ()),
                Phrase(N_("a criterion")), name)
        return None
    required, optional = _TYPE_KEYS[ctype]
    before = len(ck.problems)
    ck.keys(node, _CRITERION_COMMON + required, _CRITERION_OPTIONAL + optional, Phrase(N_("a %(type)s criterion"), {"type": ctype}), name)
    ck.ident(cid, node, Phrase(N_("criterion id")), name)
    question = ck.text(node.get("question"), node, "question", name)
    guidance = ck.text(node["guidance"], node, "guidance", name) if "guidance" in node else None
    recommendation = ck.text(node["recommendation"], node, "recommendation", name) if "recommendation" in node else None
    standard = node.get("standard")
    if not isinstance(standard, (str, int, float)) or not str(standard).strip():
        ck.fail(node, N_("'standard' must name the standard it checks, e.g. \"III.1 zal. 1\""), name)
    flags = {}
    for flag in ("na_allowed", "critical"):
        value = node.get(flag, False)
        if not isinstance(value, bool):
            ck.fail(node, N_("'%(flag)s' must be true or false, not %(value)s"), name, flag=flag, value=repr(value))
        flags[flag] = bool(value)

    yes_points: float = 0.0
    options: tuple[Option, ...] = ()
    bands: tuple[Band, ...] = ()
    unit: Text | None = None
    fact: str | None = None
    if ctype == "yes_no":
        yes_points = ck.points(node.get("points"), node, Phrase(N_("'points'")), name) or 0.0
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
            ck.fail(node, N_("unknown fact %(fact)s (use one of: %(facts)s)"), name, fact=repr(fact), facts=", ".join(FACTS))

    if flags["critical"] and len(ck.problems) == before:
        lowest = 0.0 if ctype == "yes_no" else min((o.points for o in options or bands), default=0.0)
        if max_points == 0 or lowest > 0:
            # A critical failure is an answer worth 0 points; it must be possible and not the only answer.
            ck.fail(node, N_("a critical criterion needs an answer worth 0 points (the failure) and one worth more"), name)

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
        ck.fail(node, N_("'%(key)s' must list at least two entries"), name, key=key)
        return ()
    out: list[Option] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            ck.fail(node, N_("%(key)s entry %(number)s must be a mapping"), name, key=key, number=number)
            continue
        required = ("points", "label") if ctype == "scale" else ("id", "points", "label")
        if not ck.keys(item, required, (), Phrase(N_("%(key)s entry %(number)s"), {"key": key, "number": number}), name):
            continue
        oid = str(number) if ctype == "scale" else ck.ident(item["id"], item, Phrase(N_("option id")), name)
        points = ck.points(item["points"], item, Phrase(N_("%(key)s entry %(number)s points"),
                                                        {"key": key, "number": number}), name)
        label = ck.text(item["label"], item, "label", name)
        if oid is None or points is None or label is None:
            continue
        if any(o.id == oid for o in out):
            ck.fail(item, N_("duplicate option id '%(id)s'"), name, id=oid)
        if ctype == "scale" and out and points < out[-1].points:
            ck.fail(item, N_("scale levels go from worst to best: level %(number)s has fewer points than level "
                            "%(previous)s"), name, number=number, previous=number - 1)
        out.append(Option(oid, points, label))
    return tuple(out)


def _bands(ck: _Checker, node: dict[Any, Any], name: str | None) -> tuple[Band, ...]:
    items = node.get("bands")
    if not isinstance(items, list) or not items:
        ck.fail(node, N_("'bands' must list at least one band"), name)
        return ()
    bands: list[Band] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not ck.keys(item, ("at_least", "points"), ("below",),
                                                    Phrase(N_("band %(number)s"), {"number": number}), name):
            continue
        low = ck.points(item["at_least"], item, Phrase(N_("band %(number)s 'at_least'"), {"number": number}), name)
        high = ck.points(item["below"], item, Phrase(N_("band %(number)s 'below'"), {"number": number}), name) \
            if "below" in item else None
        points = ck.points(item["points"], item, Phrase(N_("band %(number)s points"), {"number": number}), name)
        if low is None or points is None or ("below" in item and high is None):
            continue
        if high is not None and high <= low:
            ck.fail(item, N_("band %(number)s is empty: 'below' (%(high)s) must be above 'at_least' (%(low)s)"), name,
                    number=number, high=f"{high:g}", low=f"{low:g}")
            continue
        if bands:
            prev = bands[-1]
            if prev.below is None:
                ck.fail(item, N_("band %(number)s has no 'below', so only the last band may leave it out"), name,
                        number=number - 1)
            elif low < prev.below:
                ck.fail(item, N_("bands overlap: %(value)s is in bands %(previous)s and %(number)s"), name,
                        value=f"{low:g}", previous=number - 1, number=number)
            elif low > prev.below:
                ck.fail(item, N_("bands leave a gap from %(low)s to %(high)s"), name, low=f"{prev.below:g}", high=f"{low:g}")
        bands.append(Band(low, high, points))
    return tuple(bands)


def _condition(ck: _Checker, node: Any, parent: Any, name: str | None) -> Condition | None:
    if not isinstance(node, dict):
        ck.fail(parent, N_("'when' must be {criterion: ID, equals: VALUE} or {criterion: ID, in: [...]}"), name)
        return None
    if not ck.keys(node, ("criterion",), ("equals", "in"), Phrase(N_("'when'")), name):
        return None
    if ("equals" in node) == ("in" in node):
        ck.fail(node, N_("'when' needs exactly one of 'equals' or 'in'"), name)
        return None
    raw = [node["equals"]] if "equals" in node else node["in"]
    if not isinstance(raw, list) or not raw:
        ck.fail(node, N_("'when: in' must list at least one value"), name)
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
            ck.problems.append(Problem(ck.path, c.line, c.id, N_("'when' names criterion '%(target)s', which does not exist"),
                                       {"target": c.when.criterion}))
        elif target.type == "number":
            ck.problems.append(Problem(ck.path, c.line, c.id, N_("'when' cannot depend on number criterion '%(target)s'"),
                                       {"target": target.id}))
        else:
            bad = sorted(c.when.values - set(target.answer_values()))
            if bad:
                allowed = ", ".join(target.answer_values())
                ck.problems.append(Problem(ck.path, c.line, c.id, N_("'when' value %(values)s is not an answer of "
                                                                    "'%(target)s' (%(allowed)s)"),
                                           {"values": ", ".join(bad), "target": target.id, "allowed": allowed}))
    for c in criteria:  # follow each chain; a chain longer than the rubric is a cycle
        seen, cur = [c.id], c
        while cur.when is not None and cur.when.criterion in by_id:
            cur = by_id[cur.when.criterion]
            if cur.id in seen:
                if cur.id == c.id:
                    cycle = " -> ".join([*seen, cur.id])
                    ck.problems.append(Problem(ck.path, c.line, c.id, N_("'when' conditions form a cycle: %(cycle)s"),
                                               {"cycle": cycle}))
                break
            seen.append(cur.id)


def parse_rubric(source: str, path: str = "<rubric>") -> Rubric:
    """Validate a rubric's YAML text completely; raise RubricError listing every problem."""
    size = len(source.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        raise RubricError([Problem(path, None, None, _TOO_BIG, {"size": size // 1024, "limit": MAX_FILE_BYTES // 1024})])
    source = source.replace("\r\n", "\n")
    doc = _parse_yaml(source, path)
    ck = _Checker(path)
    if not isinstance(doc, dict):
        raise RubricError([Problem(path, None, None, N_("a rubric must be a mapping with id, version, channel, title "
                                                          "and sections"))])
    ck.keys(doc, ("id", "version", "channel", "title", "sections"), ("description",), Phrase(N_("the rubric")))
    rid = ck.ident(doc.get("id"), doc, Phrase(N_("rubric id")))
    version = doc.get("version")
    if not isinstance(version, (str, int, float)) or isinstance(version, bool) or not str(version).strip():
        ck.fail(doc, N_("'version' must be a text such as \"2026.1\""))
    channel = doc.get("channel")
    if channel not in CHANNELS:
        ck.fail(doc, N_("unknown channel %(channel)s (use one of: %(channels)s)"), channel=repr(channel),
                channels=", ".join(CHANNELS))
    title = ck.text(doc.get("title"), doc, "title")
    description = ck.text(doc["description"], doc, "description") if "description" in doc else None

    sections: list[Section] = []
    seen_ids: dict[str, int] = {}
    raw_sections = doc.get("sections")
    if not isinstance(raw_sections, list) or not raw_sections:
        ck.fail(doc, N_("'sections' must list at least one section"))
        raw_sections = []
    for snode in raw_sections:
        if not isinstance(snode, dict):
            ck.fail(doc, N_("each section must be a mapping with id, title and criteria"))
            continue
        ck.keys(snode, ("id", "title", "criteria"), (), Phrase(N_("a section")))
        sid = ck.ident(snode.get("id"), snode, Phrase(N_("section id"))) or ""
        stitle = ck.text(snode.get("title"), snode, "title")
        if sid in seen_ids:
            ck.fail(snode, N_("duplicate id '%(id)s' (also on line %(line)s)"), id=sid, line=seen_ids[sid])
        seen_ids[sid] = _line(snode)
        raw_criteria = snode.get("criteria")
        if not isinstance(raw_criteria, list) or not raw_criteria:
            ck.fail(snode, N_("section '%(section)s' must list at least one criterion"), section=sid)
            raw_criteria = []
        criteria = []
        for cnode in raw_criteria:
            crit = _criterion(ck, cnode, sid)
            if isinstance(cnode, dict) and isinstance(cnode.get("id"), str):
                cid = cnode["id"]
                if cid in seen_ids:
                    ck.fail(cnode, N_("duplicate id '%(id)s' (also on line %(line)s)"), cid, id=cid, line=seen_ids[cid])
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
            raise RubricError([Problem(str(p), None, None, _TOO_BIG, {"size": size // 1024,
                                                                        "limit": MAX_FILE_BYTES // 1024})])
        source = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise RubricError([Problem(str(p), None, None, N_("file is not UTF-8 text"))]) from None
    except OSError as exc:
        raise RubricError([Problem(str(p), None, None, N_("cannot read: %(reason)s"), {"reason": exc.strerror})]) from None
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
            problems.append(Problem(r.path, None, None, N_("rubric '%(rubric)s' version %(version)s is also in %(other)s "
                                                             "with other content; raise the version"),
                                    {"rubric": r.id, "version": r.version, "other": other.path}))
    return rubrics, problems


if __name__ == "__main__":  # python -m audit.rubrics PATH...: a check without the app
    found, trouble = check_paths(sys.argv[1:] or ["rubrics"])
    for problem in trouble:
        print(problem)
    for rubric in found:
        print(f"ok  {rubric.path}: {rubric.id} {rubric.version}, {len(rubric.criteria)} criteria, {rubric.max_points:g} points, {rubric.hash[:12]}")
    sys.exit(1 if trouble else 0)
