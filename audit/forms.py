"""Static forms. (The rubric form, built from a Rubric at run time, comes with the auditor's app.)"""

from typing import Any

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FloatField,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput, TextInput

from .rubrics import CHANNELS


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username"})


LANGUAGE_CHOICES = [SelectChoice("pl", "Polski"), SelectChoice("en", "English")]
"""Each language named in itself, so that whoever reads the list finds their own."""


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (one per choice) instead of a multiple select."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class NotificationsForm(FlaskForm):
    """The notifications a person wants (the choices are their role's, set by the view) and their mail's language."""

    topics = MultiCheckboxField(_l("Send me an e-mail about"), choices=[], validate_choice=True)
    language = SelectField(_l("Language of my e-mails"), choices=LANGUAGE_CHOICES)


class LoginForm(FlaskForm):
    """No format check on the e-mail: a login only needs to match an account."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})


class DecimalInput(FloatField):
    """A decimal typed by a Polish or an English user: "7,5" and "7.5" both mean seven and a half.

    Shown in the UI language without trailing zeros ("800", "7,5"), in a text input (the page sets
    inputmode="decimal"): a number input would show the browser's notation, not the page's.
    """

    widget = TextInput()

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist and isinstance(valuelist[0], str):
            raw = valuelist[0].strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
            if raw == "":
                self.data = None
                return
            valuelist = [raw]
        super().process_formdata(valuelist)

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else format_decimal(self.data, format="0.##")


# --- the organiser's console --------------------------------------------------------------


class ChannelSetupForm(Form):
    """One channel of an edition (a sub-form: the edition form carries the CSRF token)."""

    enabled = BooleanField(_l("Audited in this edition"))
    rubric = SelectField(_l("Rubric version"), choices=[], validate_choice=False)
    # Optional: a channel left out of the edition posts nothing; an audited one without a value gets the default.
    weight = DecimalInput(_l("Weight"), default=1.0, validators=[Optional(), NumberRange(min=0, max=100)])
    min_contacts = IntegerField(_l("Minimum contacts for a licence"), default=1,
                                validators=[Optional(), NumberRange(min=0, max=50)])


class EditionForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(min=2000, max=2100)])
    threshold = DecimalInput(_l("Licence threshold (ranking points, 0–1000)"), default=800.0,
                           validators=[InputRequired(), NumberRange(min=0, max=1000)])
    missing_channel = RadioField(_l("A channel the institution does not offer"), default="exclude", choices=[
        SelectChoice("exclude", _l("is left out of its score (weights renormalised)")),
        SelectChoice("zero", _l("counts as zero"))])
    fieldwork_start = DateField(_l("Fieldwork starts"), validators=[Optional()])
    fieldwork_end = DateField(_l("Fieldwork ends"), validators=[Optional()])


for _channel in CHANNELS:  # one sub-form per channel a rubric can be written for
    setattr(EditionForm, _channel, FormField(ChannelSetupForm, label=_channel))


class DirectorAccessForm(FlaskForm):
    appeal_until = DateField(_l("Directors may appeal until"), validators=[Optional()])
    evidence_to_directors = BooleanField(_l("Directors may see the evidence of their contacts"))
    comments_to_directors = BooleanField(_l("Directors may read the auditors' comments on each criterion"))
    plans_in_public = BooleanField(_l("The registry and the method page show which licence holders submitted an improvement plan"))


class ActionForm(FlaskForm):
    """A button that changes something: CSRF only."""


class ReviewForm(FlaskForm):
    """A review action on the contact version the reviewer saw."""

    version = HiddenField(validators=[InputRequired()])
    comment = TextAreaField(_l("What should the auditor correct?"), validators=[Optional(), Length(max=4000)])


class CorrectionForm(FlaskForm):
    version = HiddenField(validators=[InputRequired()])
    criterion = HiddenField(validators=[InputRequired()])
    value = StringField(_l("Corrected answer"), validators=[InputRequired(), Length(max=64)])
    reason = TextAreaField(_l("Reason for the correction"), validators=[DataRequired(), Length(max=4000)])


class StepForm(FlaskForm):
    """Confirming a step after its readiness check: the list it was shown, and the organiser's yes."""

    target = HiddenField(validators=[InputRequired()])
    seen = HiddenField()
    confirm = BooleanField(_l("I have read what is still open and go ahead anyway."))


class PublishForm(FlaskForm):
    note = TextAreaField(_l("What this revision publishes (e.g. “results of the 2026 edition”, "
                            "“correction after appeal”)"), validators=[DataRequired(), Length(max=2000)])
    number = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    """The revision the page offers to publish: a repeat of the request is recognised by it."""
    seen = HiddenField()
    state = HiddenField()
    """The edition's results as the page showed them (result_cache.fingerprint): what is published."""
    confirm = BooleanField(_l("I have read what is still open and go ahead anyway."))


class OverrideForm(FlaskForm):
    decision = RadioField(_l("Licence decision"), choices=[
        SelectChoice("engine", _l("As the engine decides")), SelectChoice("grant", _l("Grant the licence")),
        SelectChoice("refuse", _l("Refuse the licence"))], validators=[InputRequired()])
    reason = TextAreaField(_l("Written reason"), validators=[DataRequired(), Length(max=4000)])


class ScenarioForm(FlaskForm):
    channel = SelectField(_l("Channel"), choices=[])
    category = SelectField(_l("Institution category"), choices=[])
    text = TextAreaField(_l("What the mystery client asks about"), validators=[DataRequired(), Length(max=2000)])


class PlanForm(FlaskForm):
    categories = SelectMultipleField(_l("Institution categories"), choices=[], validate_choice=False)
    region = StringField(_l("Region (empty: all)"), validators=[Optional(), Length(max=120)])


class MoveForm(FlaskForm):
    auditor = SelectField(_l("Move to auditor"), choices=[], coerce=int, validate_choice=False)


class AppealForm(FlaskForm):
    reason = TextAreaField(_l("Why do you contest this contact?"), validators=[DataRequired(), Length(max=4000)])


class AppealDecisionForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=[SelectChoice("upheld", _l("Uphold")),
                                                   SelectChoice("rejected", _l("Reject"))],
                          validators=[InputRequired()])
    resolution = TextAreaField(_l("Reason for the decision"), validators=[DataRequired(), Length(max=4000)])


class RubricSourceForm(FlaskForm):
    """A rubric's YAML text, typed or pasted in the page, or uploaded as a file (the file wins)."""

    source = TextAreaField(_l("Rubric text (YAML)"), validators=[Optional(), Length(max=256 * 1024)],
                           render_kw={"rows": 24, "spellcheck": "false", "autocapitalize": "off", "wrap": "off"})
