"""The public page behind a one-time link: set a password (first time or reset), then log in.

A link that is unknown, expired, used or for a deactivated account gets one plain answer that
says nothing about the account, whatever the reason.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from .. import accounts
from ..errors import describe
from ..extensions import db
from .auth import HOME_BY_ROLE, begin_session

bp = Blueprint("invitations", __name__)


class SetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)],
                             description=_l("At least %(min)s characters, not your e-mail address. A few words "
                                            "make a good password.", min=accounts.MIN_PASSWORD_LENGTH),
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("The same password again"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords are not the same."))],
        render_kw={"autocomplete": "new-password"})


@bp.route("/invite/<token>", methods=["GET", "POST"], endpoint="accept")
@bp.route("/reset/<token>", methods=["GET", "POST"], endpoint="reset")
def set_password(token: str) -> Response | tuple[str, int] | str:
    try:
        invitation = accounts.check_link(token)
    except accounts.InvalidLink:
        return render_template("auth/set_password.html", form=None, invitation=None), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = accounts.redeem(token, form.password.data)
        except accounts.InvalidLink:
            db.session.rollback()
            return render_template("auth/set_password.html", form=None, invitation=None), 404
        except accounts.PasswordRejected as error:
            db.session.rollback()
            form.password.errors = [*form.password.errors, describe(error)]
        else:
            begin_session(user)  # commits the new password with the session
            flash(_("Your password is set. Welcome, %(name)s!", name=user.name), "success")
            return redirect(url_for(HOME_BY_ROLE[user.role]))
    return render_template("auth/set_password.html", form=form, invitation=invitation)
