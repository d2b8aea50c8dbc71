"""Log in, log out, choose the UI language, and the home page that sends each role to its app."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from .. import accounts, login_guard, mail, sessions
from ..extensions import db
from ..forms import ForgotPasswordForm, LoginForm, NotificationsForm
from ..models import User
from ..security import session_lifetimes

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
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form)
    secret, email = current_app.config["SECRET_KEY"], form.email.data
    known = login_guard.is_known(request.cookies.get(login_guard.KNOWN_DEVICE_COOKIE), secret, email)
    attempt = login_guard.Attempt.of(email, request.remote_addr, known_device=known)
    wait = login_guard.admit(attempt)  # counted before the password is checked, so no guess overtakes the count
    if wait is not None:
        flash(ngettext("Too many failed attempts. Try again in %(num)s minute.",
                       "Too many failed attempts. Try again in %(num)s minutes.", login_guard.minutes(wait)), "error")
        return render_template("auth/login.html", form=form), 429
    user = accounts.authenticate(email, form.password.data)
    if user is None:
        flash(_("Wrong e-mail or password."), "error")
        return render_template("auth/login.html", form=form)
    login_guard.succeeded(attempt)
    begin_session(user)
    response = redirect(_safe_next(request.args.get("next")) or url_for("auth.index"))
    response.set_cookie(login_guard.KNOWN_DEVICE_COOKIE,
                        login_guard.remember(request.cookies.get(login_guard.KNOWN_DEVICE_COOKIE), secret, email),
                        max_age=login_guard.KNOWN_DEVICE_DAYS * 86400, path=url_for("auth.login"), httponly=True,
                        secure=current_app.config["SESSION_COOKIE_SECURE"], samesite="Strict")
    return response


def begin_session(user: User) -> None:
    """Log the user in with a fresh session that the server knows (and so can end)."""
    sessions.forget_old(session_lifetimes(current_app))
    token = sessions.start(user)
    db.session.commit()
    lang = session.get("lang")
    session.clear()  # nothing carried over from before the login
    if lang:
        session["lang"] = lang
    session["sid"] = token
    login_user(user)


# What logging out removes from the device: the HTTP cache and everything the pages stored,
# service worker and its cached pages included. The auditor's unsent answers are sent first by
# logout.js, or deleted only after the auditor has confirmed it (docs/field-app.md).
CLEAR_SITE_DATA = '"cache", "storage"'


@bp.post("/logout")
def logout() -> Response:
    sessions.end(session.get("sid"))
    db.session.commit()
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have been logged out."), "info")
    response = redirect(url_for("auth.login"))
    response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response


@bp.route("/forgot", methods=["GET", "POST"])
def forgot() -> Response | str:
    """Mail a password reset link; the same answer whether or not the address has an account, or is throttled."""
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return render_template("auth/forgot.html", form=form)
    admitted = login_guard.admit(login_guard.Attempt.reset(form.email.data, request.remote_addr)) is None
    flash(_("If an account uses this address, a link to set a new password is on its way there. "
            "It works once, for two hours."), "info")
    response = redirect(url_for("auth.login"))
    if admitted:  # after the answer has gone: its timing says nothing of whether the address has an account
        response.call_on_close(_mail_reset_link(current_app._get_current_object(), form.email.data))
    return response


def _mail_reset_link(app: Flask, email: str) -> Callable[[], None]:
    def mail_it() -> None:
        with app.app_context():
            found = accounts.forgotten_password(email)
            if found is not None:
                mail.one_time_link(*found, "reset")
            db.session.commit()

    return mail_it


@bp.route("/notifications", methods=["GET", "POST"])
@login_required
def notifications() -> Response | str:
    """The logged-in person's notifications: which they receive, and in which language."""
    form = NotificationsForm()
    topics = mail.preferences_for(current_user.role)
    form.topics.choices = [SelectChoice(topic, mail.PREFERENCES[topic].label) for topic in topics]
    if request.method == "GET":
        off = mail.turned_off(current_user)
        form.topics.data = [topic for topic in topics if topic not in off]
        form.language.data = current_user.language
    if form.validate_on_submit():
        mail.set_preferences(current_user, form.topics.data or [], form.language.data)
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("auth.notifications"))
    return render_template("auth/notifications.html", form=form)


@bp.get("/lang/<code>")
def set_language(code: str) -> Response:
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        if current_user.is_authenticated:  # the language of the mail they receive, too
            current_user.language = code
            db.session.commit()
    return redirect(_safe_next(request.args.get("next")) or url_for("auth.index"))
