"""The contact form, built from a rubric at run time.

Field names: `a_<criterion>` for an answer, `n_<criterion>` for its comment, `f_<fact>` for a
recorded fact. The WTForms class checks the form's own fields (CSRF, client id, version, action)
and the channel's few facts; the rubric's answers and comments (60 criteria make 120 fields) are
checked against a spec made once per rubric version (`CriterionSpec`), which costs a fraction of
binding and validating 120 WTForms fields on every save of every auditor. The page itself is
rendered by templates/auditor/contact.html from the rubric, which is several times cheaper
than rendering 120 WTForms widgets (see `make bench`).
"""

from __future__ import annotations

import json
import math
import re
import uuid
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import (
    DateTimeLocalField,
    Field,
    FloatField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.validators import URL, Length, NumberRange, Optional, ValidationError

from .facts import CHANNEL_FACTS, PLATFORMS, FactField
from .fieldwork import ContactInput
from .rubrics import NO, YES, Criterion, Rubric
from .scoring import NOT_APPLICABLE

COMMENT_MAX = 2000
_UUID = re.compile(r"^[0-9a-fA-F-]{32,36}$")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


class AnswerField(RadioField):
    """A radio group that may stay empty in a draft (completeness is checked on submit)."""

    def pre_validate(self, form: Any) -> None:
        if self.data in (None, ""):
            self.data = None
            return
        super().pre_validate(form)


class NumberField(FloatField):
    """A number typed on a phone: accepts a decimal comma."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist and isinstance(valuelist[0], str):
            valuelist = [valuelist[0].strip().replace(",", ".")]
        if valuelist and valuelist[0] == "":
            self.data = None
            return
        super().process_formdata(valuelist)


def _client_id(form: Any, field: Field) -> None:
    if not field.data or not _UUID.match(field.data):
        raise ValidationError(_l("The form lost its id; reload the page."))


@dataclass(frozen=True)
class CriterionSpec:
    """What a criterion's two fields accept: `choices` for a radio group, a number otherwise; `answered`
    is False for a measured criterion (its answer comes from the facts, so no `a_` field is read)."""

    id: str
    choices: frozenset[str] | None
    answered: bool


def criterion_specs(rubric: Rubric) -> tuple[CriterionSpec, ...]:
    return tuple(CriterionSpec(c.id, None if c.type == "number" else frozenset(answer_choices(c)),
                               answered=not (c.type == "number" and c.fact is not None))
                 for c in rubric.criteria)


def _number(text: str) -> float:
    """A number typed on a phone (a decimal comma accepted); ValueError if it is none, or negative."""
    value = float(text.replace(",", "."))
    if not math.isfinite(value) or value < 0:
        raise ValueError(text)
    return value


@dataclass(frozen=True)
class PostedCriteria:
    answers: dict[str, str]
    comments: dict[str, str]
    errors: dict[str, list[str]]


def read_criteria(specs: tuple[CriterionSpec, ...], formdata: Any) -> PostedCriteria:
    """The posted answers and comments of a rubric's criteria (empty ones left out), and what is wrong with any."""
    answers: dict[str, str] = {}
    comments: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    get = formdata.get if formdata is not None else (lambda name, default=None: default)
    for spec in specs:
        if spec.answered:
            raw = (get(f"a_{spec.id}") or "").strip()
            if raw and spec.choices is not None:
                if raw in spec.choices:
                    answers[spec.id] = raw
                else:
                    errors[f"a_{spec.id}"] = [_("Choose one of the answers shown.")]
            elif raw:
                try:
                    answers[spec.id] = f"{_number(raw):g}"
                except ValueError:
                    errors[f"a_{spec.id}"] = [_("Enter a number that is zero or more, for example 4 or 4,5.")]
        comment = get(f"n_{spec.id}") or ""
        if len(comment) > COMMENT_MAX:
            errors[f"n_{spec.id}"] = [_("A comment can be at most %(max)d characters long.", max=COMMENT_MAX)]
        elif comment.strip():
            comments[spec.id] = comment.strip()
    return PostedCriteria(answers, comments, errors)


class ContactFormBase(FlaskForm):
    class Meta:
        csrf = False  # CSRFProtect has checked the request's token before any view runs; a second check repeats it

    client_id = HiddenField(validators=[_client_id])
    base_version = HiddenField()
    action = HiddenField(default="save")

    rubric: Rubric
    channel: str
    specs: tuple[CriterionSpec, ...]
    posted: PostedCriteria

    def process(self, formdata: Any = None, obj: Any = None, data: Any = None, extra_filters: Any = None,
                **kwargs: Any) -> None:
        formdata = self.meta.wrap_formdata(self, formdata)
        super().process(formdata, obj, data=data, extra_filters=extra_filters, **kwargs)
        self.posted = read_criteria(self.specs, formdata)

    def validate(self, extra_validators: Any = None) -> bool:
        fields_valid = super().validate(extra_validators)
        return fields_valid and not self.posted.errors

    @property
    def errors(self) -> dict[str | None, list[Any]]:
        """Field name -> messages, for every field: WTForms' own and the rubric's criteria."""
        return {**super().errors, **self.posted.errors}

    def to_input(self) -> ContactInput:
        """The form's data as the fieldwork functions take it (empty fields left out)."""
        answers = dict(self.posted.answers)
        comments = dict(self.posted.comments)
        facts: dict[str, Any] = {}
        for fact in CHANNEL_FACTS[self.channel]:
            value = self[f"f_{fact.name}"].data
            if value in (None, ""):
                continue
            facts[fact.name] = value.isoformat(timespec="minutes") if hasattr(value, "isoformat") else value
        version = self.base_version.data
        return ContactInput(str(self.client_id.data), int(version) if str(version or "").isdigit() else None,
                            answers, comments, facts)


def answer_choices(c: Criterion) -> list[str]:
    """The values a criterion's radio group accepts (labels come from form_layout)."""
    values = [YES, NO] if c.type == "yes_no" else [o.id for o in c.options]
    if c.na_allowed:
        values.append(NOT_APPLICABLE)
    return values


def _fact_field(fact: FactField) -> Field:
    if fact.kind == "datetime":
        return DateTimeLocalField(format=DATETIME_FORMATS, validators=[Optional()])
    if fact.kind == "count":
        return IntegerField(validators=[Optional(), NumberRange(min=0, max=fact.maximum)])
    if fact.kind in ("minutes", "seconds"):
        return NumberField(validators=[Optional(), NumberRange(min=0, max=fact.maximum)])
    if fact.kind == "yes_no":
        return AnswerField(choices=[YES, NO])
    if fact.kind == "platform":
        return SelectField(choices=["", *PLATFORMS], validators=[Optional()])
    return StringField(validators=[Optional(), Length(max=500), URL(require_tld=False)])


_form_classes: dict[tuple[str, str], type[ContactFormBase]] = {}


def form_class(rubric: Rubric, channel: str) -> type[ContactFormBase]:
    """A form class for one rubric version and channel (made once, then reused)."""
    key = (rubric.hash, channel)
    if key not in _form_classes:
        _form_classes[key] = _build_form_class(rubric, channel)
    return _form_classes[key]


def _build_form_class(rubric: Rubric, channel: str) -> type[ContactFormBase]:
    fields: dict[str, Any] = {"rubric": rubric, "channel": channel, "specs": criterion_specs(rubric)}
    for fact in CHANNEL_FACTS[channel]:
        fields[f"f_{fact.name}"] = _fact_field(fact)
    return type(f"ContactForm_{rubric.id}_{rubric.hash[:8]}", (ContactFormBase,), fields)


def new_client_id() -> str:
    return str(uuid.uuid4())


# --- what the page shows, prepared once per rubric version and language ------------------


@dataclass(frozen=True)
class CriterionView:
    id: str
    type: str
    question: Markup
    options: tuple[tuple[str, Markup], ...]
    guidance: Markup | None
    unit: Markup | None
    fact: str | None
    critical: bool
    when: str
    """JSON of the condition for contact.js: {"c": criterion, "v": [values]}; "" if none."""


@dataclass(frozen=True)
class SectionView:
    id: str
    title: Markup
    criteria: tuple[CriterionView, ...]


_layouts: dict[tuple[str, str], tuple[SectionView, ...]] = {}


def form_layout(rubric: Rubric, lang: str) -> tuple[SectionView, ...]:
    """The rubric's sections with every text escaped and translated, cached: rendering then
    only fills in the answers."""
    key = (rubric.hash, lang)
    if key not in _layouts:
        labels = {YES: escape(_("Yes")), NO: escape(_("No")), NOT_APPLICABLE: escape(_("Not applicable"))}
        _layouts[key] = tuple(
            SectionView(s.id, escape(s.title.get(lang)), tuple(_criterion_view(c, lang, labels) for c in s.criteria))
            for s in rubric.sections)
    return _layouts[key]


def _criterion_view(c: Criterion, lang: str, labels: dict[str, Markup]) -> CriterionView:
    options: tuple[tuple[str, Markup], ...] = ()
    if c.type != "number":
        by_id = {o.id: escape(o.label.get(lang)) for o in c.options}
        options = tuple((value, labels.get(value) or by_id[value]) for value in answer_choices(c))
    when = json.dumps({"c": c.when.criterion, "v": sorted(c.when.values)}) if c.when else ""
    return CriterionView(
        id=c.id, type=c.type, question=escape(c.question.get(lang)), options=options,
        guidance=escape(c.guidance.get(lang)) if c.guidance else None,
        unit=escape(c.unit.get(lang)) if c.unit else None, fact=c.fact, critical=c.critical, when=when)
