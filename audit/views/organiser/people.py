"""People: auditors, directors and organisers; their one-time password links; auditors' conflicts."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import EmailField, HiddenField, SelectField, SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Length, Optional

from ... import accounts, mail
from ...errors import describe
from ...extensions import db
from ...forms import LANGUAGE_CHOICES
from ...models import ROLES, AuditorConflict, Institution, Invitation, User, utcnow
from ...security import role_required
from . import bp

ROLE_LABELS = {"auditor": _l("Auditors"), "director": _l("Directors"), "organiser": _l("Organisers")}
NEW_ROLE_TITLES = {"auditor": _l("New auditor"), "director": _l("New director"), "organiser": _l("New organiser")}

# --- forms ---------------------------------------------------------------------------------


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class PersonForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    pseudonym = StringField(_l("Pseudonym"), validators=[Optional(), Length(max=40)],
                            description=_l("What others see instead of the auditor's name. Empty: the next free one, "
                                           "e.g. A-07."))
    institutions = MultiCheckboxField(_l("Institutions they direct"), coerce=int, choices=[])
    language = SelectField(_l("Language of their e-mails"), choices=LANGUAGE_CHOICES, default="pl",
                           description=_l("Invitations, reminders and notifications go in this language. The "
                                          "person can change it under Notifications."))

    def for_role(self, role: str) -> PersonForm:
        """Keep only the fields that role has."""
        if role != "auditor":
            del self.pseudonym
        if role == "director":
            self.institutions.choices = [(i.id, f"{i.name} – {i.city}") for i in db.session.scalars(
                sa.select(Institution).order_by(Institution.city, Institution.name))]
        else:
            del self.institutions
        return self


class ConflictForm(FlaskForm):
    institution = SelectField(_l("Institution"), coerce=lambda v: int(v) if v not in (None, "") else None,
                              choices=[], validate_choice=False)
    city = StringField(_l("or a whole town"), validators=[Optional(), Length(max=120)])
    reason = StringField(_l("Reason (for organisers only)"), validators=[Optional(), Length(max=500)])


class ActionForm(FlaskForm):
    """A button that changes something: CSRF only (with the value it sends)."""

    value = HiddenField()


# --- pages ---------------------------------------------------------------------------------


@bp.get("/people")
@role_required("organiser")
def people() -> str:
    role = request.args.get("role", "auditor")
    if role not in ROLES:
        role = "auditor"
    search = (request.args.get("q") or "").strip()
    counts = dict(db.session.execute(sa.select(User.role, sa.func.count()).group_by(User.role)).all())
    found = accounts.people_page(role, search, request.args.get("page", type=int))
    pending = _with_open_link([u.id for u in found.items])
    conflicts = dict(db.session.execute(sa.select(AuditorConflict.auditor_id, sa.func.count())
                                        .group_by(AuditorConflict.auditor_id)).all()) if role == "auditor" else {}
    return render_template("organiser/people.html", role=role, found=found, q=search, counts=counts, pending=pending,
                           conflicts=conflicts, roles=("auditor", "director", "organiser"), role_labels=ROLE_LABELS)


def _with_open_link(user_ids: list[int]) -> set[int]:
    """Which of these users have a link that can still be used."""
    return set(db.session.scalars(sa.select(Invitation.user_id).where(
        Invitation.user_id.in_(user_ids), Invitation.used_at.is_(None), Invitation.expires_at > utcnow())))


@bp.route("/people/new/<role>", methods=["GET", "POST"])
@role_required("organiser")
def person_new(role: str) -> Response | str:
    if role not in ROLES:
        abort(404)
    form = PersonForm().for_role(role)
    if form.validate_on_submit():
        try:
            user = accounts.create_user(role, form.name.data, form.email.data, _field(form, "pseudonym"),
                                        _field(form, "institutions") or (), language=form.language.data)
            token = accounts.invite(user)
            mail.one_time_link(user, token, "invite")
        except accounts.AccountError as error:
            db.session.rollback()
            flash(describe(error), "error")
        else:
            db.session.commit()
            flash(_("The account of %(name)s is created. Send them the invitation link below.", name=user.name),
                  "success")
            return _person_page(user, link=_link_url(token, "invite"))
    return render_template("organiser/people_form.html", form=form, role=role, user=None,
                           title=NEW_ROLE_TITLES[role])


@bp.get("/people/<int:user_id>")
@role_required("organiser")
def person(user_id: int) -> str:
    return _person_page(db.get_or_404(User, user_id))


@bp.route("/people/<int:user_id>/edit", methods=["GET", "POST"])
@role_required("organiser")
def person_edit(user_id: int) -> Response | str:
    user = db.get_or_404(User, user_id)
    form = PersonForm(obj=user).for_role(user.role)
    if request.method == "GET" and user.role == "director":
        form.institutions.data = [i.id for i in user.institutions]
    if form.validate_on_submit():
        try:
            accounts.update_user(user, form.name.data, form.email.data, _field(form, "pseudonym"),
                                 _field(form, "institutions"), language=form.language.data)
        except accounts.AccountError as error:
            db.session.rollback()
            flash(describe(error), "error")
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("organiser.person", user_id=user.id))
    return render_template("organiser/people_form.html", form=form, role=user.role, user=user, title=user.name)


@bp.post("/people/<int:user_id>/active")
@role_required("organiser")
def person_active(user_id: int) -> Response | str:
    """Reactivate, or deactivate: that asks first, saying what ends, and happens only with `confirm=1`."""
    user = db.get_or_404(User, user_id)
    form = ActionForm()
    if not form.validate_on_submit():
        return redirect(url_for("organiser.person", user_id=user.id))
    active = form.value.data == "1"
    if not active and user.active and request.form.get("confirm") != "1":
        accounts.check_deactivation(user, current_user)
        return _deactivation_page(user)
    accounts.set_active(user, active, current_user)  # a refusal is flashed by views/errors.py
    db.session.commit()
    flash(_("%(name)s can log in again.", name=user.name) if user.active else
          _("%(name)s is deactivated: they can no longer log in, and their open links no longer work.",
            name=user.name), "success")
    return redirect(url_for("organiser.person", user_id=user.id))


def _deactivation_page(user: User) -> str:
    facts = [(_("Full name"), user.name), (_("E-mail"), user.email), (_("Role"), str(ROLE_LABELS[user.role]))]
    consequences = [_("They can no longer log in; if they are logged in now, they are logged out."),
                    _("Their unused invitation or password reset links stop working.")]
    if user.role == "auditor":
        open_work = accounts.open_assignments(user)
        facts.append((_("Pseudonym"), user.pseudonym or "—"))
        facts.append((_("Assignments not yet sent"), str(open_work)))
        if open_work:
            consequences.append(ngettext(
                "%(num)s assignment not yet sent stays theirs: move it to another auditor on the edition's "
                "assignments page.",
                "%(num)s assignments not yet sent stay theirs: move them to another auditor on the edition's "
                "assignments page.", open_work))
    consequences.append(_("Everything they recorded or decided is kept. You can reactivate the account later."))
    return render_template("confirm.html", title=_("Deactivate %(name)s?", name=user.name), facts=facts,
                           consequences=consequences, button=_("Deactivate"),
                           action=url_for("organiser.person_active", user_id=user.id), fields={"value": "0"},
                           cancel=url_for("organiser.person", user_id=user.id))


@bp.post("/people/<int:user_id>/link")
@role_required("organiser")
def person_link(user_id: int) -> Response | str:
    """A new one-time link, shown once on the page this returns; the previous link stops working."""
    user = db.get_or_404(User, user_id)
    form = ActionForm()
    if not form.validate_on_submit():
        return redirect(url_for("organiser.person", user_id=user.id))
    purpose = "reset" if user.password_hash else "invite"  # decided here, not by the button that was sent
    token = accounts.invite(user, purpose)  # a deactivated account is refused by views/errors.py
    mail.one_time_link(user, token, purpose)
    db.session.commit()
    return _person_page(user, link=_link_url(token, purpose))


@bp.post("/people/<int:user_id>/conflicts")
@role_required("organiser")
def conflict_add(user_id: int) -> Response | str:
    user = _auditor(user_id)
    form = _conflict_form()
    if form.validate_on_submit():
        try:
            accounts.add_conflict(user, form.institution.data, form.city.data, form.reason.data or "")
        except accounts.AccountError as error:
            db.session.rollback()
            flash(describe(error), "error")
        else:
            db.session.commit()
            flash(_("The conflict is declared: this auditor will not be assigned there."), "success")
            return redirect(url_for("organiser.person", user_id=user.id, _anchor="conflicts"))
    return _person_page(user, conflict_form=form)


@bp.post("/people/<int:user_id>/conflicts/<int:conflict_id>/remove")
@role_required("organiser")
def conflict_remove(user_id: int, conflict_id: int) -> Response:
    user = _auditor(user_id)
    if ActionForm().validate_on_submit() and accounts.remove_conflict(user, conflict_id):
        db.session.commit()
        flash(_("The conflict is removed."), "success")
    return redirect(url_for("organiser.person", user_id=user.id, _anchor="conflicts"))


# --- helpers -------------------------------------------------------------------------------


def _auditor(user_id: int) -> User:
    user = db.get_or_404(User, user_id)
    if user.role != "auditor":
        abort(404)
    return user


def _field(form: PersonForm, name: str) -> Any:
    """A field's data, or None where the role's form has no such field."""
    return form[name].data if name in form else None


def _link_url(token: str, purpose: str) -> str:
    return url_for("invitations.reset" if purpose == "reset" else "invitations.accept", token=token, _external=True)


def _conflict_form(**kwargs: Any) -> ConflictForm:
    form = ConflictForm(**kwargs)
    form.institution.choices = [("", _("— choose an institution —"))] + [
        (i.id, f"{i.city} – {i.name}") for i in db.session.scalars(
            sa.select(Institution).order_by(Institution.city, Institution.name))]
    return form


def _person_page(user: User, link: str | None = None, conflict_form: ConflictForm | None = None) -> str:
    """The person's page; `link` is a link just made, shown this once and never again."""
    is_auditor = user.role == "auditor"
    return render_template(
        "organiser/people_person.html", user=user, link=link, open_link=accounts.open_link(user),
        conflicts=accounts.conflicts_of(user) if is_auditor else [],
        conflict_form=(conflict_form or _conflict_form(formdata=None)) if is_auditor else None,
        action=ActionForm(formdata=None), role_labels=ROLE_LABELS)
