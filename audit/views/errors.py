"""Refusals and HTTP errors turned into answers in one place: JSON for the page's scripts, the site's pages for people.

Views raise (a RuleError from the domain, or abort(404)); nothing here decides what is allowed.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError

from ..errors import RuleError, describe
from ..extensions import db
from ..i18n import lang
from ..security import wants_json
from .auth import HOME_BY_ROLE, _safe_next

# status -> (the word a script reads, the page's title, what happened and what to do, in plain words)
PAGES: dict[int, tuple[str, Any, Any]] = {
    400: ("bad_request", _l("The request could not be understood"),
          _l("Something in what your browser sent was incomplete or damaged. Go back, reload the page and try "
             "again.")),
    403: ("forbidden", _l("This page is not for your account"),
          _l("You are logged in, but your role does not open this page. If you think it should, ask the "
             "organiser.")),
    404: ("not_found", _l("Page not found"),
          _l("There is nothing here: the address may be mistyped, or what it pointed to is not available to "
             "you.")),
    405: ("method_not_allowed", _l("This action cannot be done this way"),
          _l("The page was opened in a way it does not accept (for example a form's address typed in). Go back "
             "and use the page's own buttons.")),
    409: ("conflict", _l("This cannot be done now"),
          _l("What you asked for no longer fits the state of things (it changed meanwhile, or its stage is "
             "over). Go back and reload the page to see how it stands.")),
    413: ("too_large", _l("Too much to send"),
          _l("What you sent is larger than the site accepts at once. Send smaller files, or fewer at a time.")),
    429: ("too_many_requests", _l("Too many attempts"),
          _l("Too many requests came in a short time. Wait a few minutes, then try again.")),
    500: ("error", _l("Something went wrong on our side"),
          _l("The site could not complete this request. Try again in a moment; if it keeps happening, tell the "
             "organiser.")),
}
GENERIC = ("error", _l("This request cannot be answered"), _l("Go back and try again."))


def back_url(default: str | None = None) -> str:
    """The page the visitor came from, if it is on this site (never an open redirect), else `default` or their home.

    A GET that is refused is not sent back to itself (a reload keeps its referrer: that would loop).
    """
    referrer = urlsplit(request.referrer or "")
    target = None
    if referrer.netloc == request.host:
        target = _safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else ""))
    if target is not None and not (request.method == "GET" and target == request.full_path.rstrip("?")):
        return target
    if default is not None:
        return default
    if current_user.is_authenticated:
        return url_for(HOME_BY_ROLE[current_user.role])
    return url_for("auth.login")


def _rule_error(error: RuleError) -> Any:
    """A domain refusal: nothing of the request is kept, and the visitor is told why in their language."""
    db.session.rollback()
    message = describe(error)
    if wants_json():
        return jsonify(outcome=error.outcome, message=message), error.status
    flash(message, "error")
    return redirect(back_url())


def _page(status: int, headers: list[tuple[str, str]] | None = None) -> Any:
    outcome, title, text = PAGES.get(status, GENERIC)
    extra = [(k, v) for k, v in headers or () if k.lower() != "content-type"]  # Allow (405), Retry-After (429)
    if wants_json():
        return jsonify(outcome=outcome, message=str(text)), status, extra
    # A 404 must be the same page, byte for byte, for a contact that does not exist and for one a director may
    # not know about (docs/security.md): no logout form (its CSRF token changes every second), and after a POST
    # no address of the request (the language links of a GET come back to the page they were on).
    here = request.full_path.rstrip("?") if request.method == "GET" else None
    return render_template("errors/http.html", status=status, title=title, text=text, current_path=here,
                           login_url=url_for("auth.login", next=here), error_page=True), status, extra


def _http_error(error: HTTPException) -> Any:
    if error.code is None or error.code < 400:
        return error
    return _page(error.code, error.get_headers())


def _server_error(error: InternalServerError) -> Any:
    """The page for a failure: never a traceback, and rendered even when the database session is broken."""
    with suppress(Exception):  # the connection itself may be gone; the page must still be shown
        db.session.rollback()
    try:
        return _page(500)
    except Exception:  # even the layout failed (say the user could not be loaded): plain words
        _outcome, title, text = PAGES[500]
        home = _("Home page")  # outside the f-string, where pybabel finds it
        body = (f'<!doctype html><html lang="{lang()}"><meta charset="utf-8"><meta name="viewport" '
                f'content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
                f'<h1>{escape(title)}</h1><p>{escape(text)}</p><p><a href="/">{escape(home)}</a></p></html>')
        return body, 500, {"Content-Type": "text/html; charset=utf-8"}


def init_app(app: Flask) -> None:
    app.register_error_handler(RuleError, _rule_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _server_error)
