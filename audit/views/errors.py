"""Refusals turned into answers in one place: JSON for the page's scripts, a message and the way back for people.

Views let the domain's RuleError rise; nothing here decides what is allowed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, flash, jsonify, redirect, request, url_for
from flask_login import current_user

from ..errors import RuleError, describe
from ..extensions import db
from ..security import wants_json
from .auth import HOME_BY_ROLE, _safe_next


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


def init_app(app: Flask) -> None:
    app.register_error_handler(RuleError, _rule_error)
