"""Who may see what: the login manager, role checks and response security headers."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_url
from flask_wtf.csrf import CSRFError
from werkzeug.middleware.proxy_fix import ProxyFix

from . import sessions
from .extensions import db, login_manager
from .models import User

F = TypeVar("F", bound=Callable[..., Any])

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def role_required(*roles: str) -> Callable[[F], F]:
    """Log in first; then only these roles, others get 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def wants_json() -> bool:
    """A request from the page's own scripts (contact.js), which read JSON, not a redirect."""
    return request.headers.get("X-Requested-With") == "fetch"


def _unauthorized() -> Any:
    if wants_json():  # the page keeps its answers and asks the auditor to log in again
        return jsonify(outcome="login_required", login_url=url_for("auth.login", next=request.referrer and
                                                                   _path_of(request.referrer))), 401
    flash(str(login_manager.login_message), "info")
    return redirect(login_url(login_manager.login_view or "auth.login", next_url=request.url))


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _csrf_error(error: CSRFError) -> Any:
    """A form posted after its session ended (or a forged one): explain, and lose nothing we hold."""
    if wants_json():
        return jsonify(outcome="login_required", login_url=url_for("auth.login", next=_path_of(request.referrer or "/"))), 401
    return render_template("errors/session.html", next=request.path), 400


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if hsts := current_app.config.get("STRICT_TRANSPORT_SECURITY"):
        response.headers.setdefault("Strict-Transport-Security", hsts)
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def session_lifetimes(app: Flask) -> sessions.Lifetimes:
    return sessions.Lifetimes(idle=timedelta(minutes=app.config["SESSION_IDLE_MINUTES"]),
                              absolute=timedelta(hours=app.config["SESSION_MAX_HOURS"]))


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.session_protection = "strong"
    if proxies := app.config.get("TRUSTED_PROXIES", 0):  # believe X-Forwarded-* from that many proxies only
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    lifetimes = session_lifetimes(app)

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        user_id, _, stamp = session_id.partition(":")
        found = sessions.user_and_session(session.get("sid"), int(user_id), lifetimes) if user_id.isdigit() else None
        if found is None:
            return None  # no such person, logged out, ended elsewhere, idle too long or too old
        user, open_session = found
        if not user.active or not hmac.compare_digest(stamp, user.password_stamp()):
            return None  # deactivated, or the password changed since this session began
        g.session_seen = open_session in db.session.dirty
        return user

    @app.before_request
    def _load_user_first() -> None:
        """Load the user before the view, so that noting the session's use commits nothing else."""
        if request.endpoint != "static" and current_user.is_authenticated and g.pop("session_seen", False):
            db.session.commit()

    login_manager.unauthorized_handler(_unauthorized)
    app.register_error_handler(CSRFError, _csrf_error)
    app.after_request(_security_headers)
