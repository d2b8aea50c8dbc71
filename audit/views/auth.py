"""Log in, log out, choose the UI language, and the home page that sends each role to its app."""

from __future__ import annotations

import math
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from .. import login_guard
from ..extensions import db
from ..forms import LoginForm
from ..models import User

bp = Blueprint("auth", __name__)

HOME_BY_ROLE = {"organiser": "organiser.home", "auditor": "auditor.home", "director": "director.home"}


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never an open redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.get("/")
def index() -> Response:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for(HOME_BY_ROLE[current_user.role]))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("auth.index"))
    form = LoginForm()
    if form.validate_on_submit():
        limits = login_guard.keys(form.email.data, request.remote_addr)
        wait = login_guard.wait_needed(limits)
        if wait is not None:  # checked before the password, so a locked account cannot be probed
            minutes = max(1, math.ceil(wait.total_seconds() / 60))
            flash(ngettext("Too many failed attempts. Try again in %(num)s minute.",
                           "Too many failed attempts. Try again in %(num)s minutes.", minutes), "error")
            return render_template("auth/login.html", form=form), 429
        user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == form.email.data.strip().lower()))
        if user is not None and user.active and user.check_password(form.password.data):
            login_guard.succeeded(form.email.data)
            lang = session.get("lang")
            session.clear()  # a fresh session on login: nothing carried over from before
            if lang:
                session["lang"] = lang
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("auth.index"))
        login_guard.failed(limits)
        flash(_("Wrong e-mail or password."), "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout() -> Response:
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have been logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.get("/lang/<code>")
def set_language(code: str) -> Response:
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(_safe_next(request.args.get("next")) or url_for("auth.index"))
