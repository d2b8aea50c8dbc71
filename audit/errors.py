"""The one family of errors for a rule the domain refuses, with a message the UI can translate.

Domain modules stay free of Flask-Babel: they mark messages with N_() (which pybabel
extracts) and pass parameters separately. One error handler (audit/views/errors.py) turns
any RuleError into a response: the session rolled back, then JSON for the page's scripts
(`outcome`, `message`, the error's `status`), or for a page the message flashed and the
visitor sent back where they came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar, NamedTuple, Protocol


def N_(message: str) -> str:  # the name pybabel looks for
    """Mark a message for translation without translating it here."""
    return message


def Np_(singular: str, plural: str) -> tuple[str, str]:  # pybabel: -k Np_:1,2
    """Mark a singular/plural pair (with %(num)s) for translation; the view picks the form."""
    return singular, plural


class Phrase(NamedTuple):
    """A piece of a message translated on its own (`message % params`), given as a parameter of another
    (a rubric problem names "levels entry 2 points" inside "%(what)s must be a number")."""

    message: str
    params: Mapping[str, Any] = {}

    @property
    def text(self) -> str:
        return self.message % self.params if self.params else self.message


class RuleError(ValueError):
    """An action the rules refuse; `message % params` says why, in English.

    `status` is the HTTP status a script's request gets (409: the state of things refuses it;
    subclasses use 422 for invalid input, 413 for too large); `outcome` is the word the
    phone's script reads (static/js/contact.js).
    """

    status: ClassVar[int] = 409
    outcome: ClassVar[str] = "refused"

    def __init__(self, message: str, **params: Any):
        self.message, self.params = message, params
        super().__init__(message % params if params else message)


class Translatable(Protocol):
    """Anything with an N_() message and its parameters: a RuleError, an import problem."""

    @property
    def message(self) -> str: ...

    @property
    def params(self) -> Mapping[str, Any]: ...


def describe(error: Translatable) -> str:
    """The error in the current UI language (needs a request or app context)."""
    from flask_babel import gettext

    from .i18n import day  # dates in a message read as the user's calendar ("1 mar 2027")

    params = {k: gettext(v.message, **v.params) if isinstance(v, Phrase) else day(v) if isinstance(v, date) else v
              for k, v in error.params.items()}
    return gettext(error.message, **params)
