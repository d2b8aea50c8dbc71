"""The one error type for a rule the domain refuses, with a message the UI can translate.

Domain modules stay free of Flask-Babel: they mark messages with N_() (which pybabel
extracts) and pass parameters separately; a view shows `describe(error)` in the reader's
language.
"""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:  # the name pybabel looks for
    """Mark a message for translation without translating it here."""
    return message


def Np_(singular: str, plural: str) -> tuple[str, str]:  # pybabel: -k Np_:1,2
    """Mark a singular/plural pair (with %(num)s) for translation; the view picks the form."""
    return singular, plural


class RuleError(ValueError):
    """An action the rules refuse; `message % params` says why, in English."""

    def __init__(self, message: str, **params: Any):
        self.message, self.params = message, params
        super().__init__(message % params if params else message)


def describe(error: RuleError) -> str:
    """The error in the current UI language (needs a request or app context)."""
    from flask_babel import gettext

    return gettext(error.message, **error.params)
