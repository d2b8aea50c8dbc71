"""One blueprint per audience: auth (everyone), organiser, auditor, director."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa

from ..extensions import db

T = TypeVar("T")


def decide_once(use_case: Callable[[], T]) -> T:
    """Run a use case and commit; if a concurrent request committed the same decision first (a unique
    constraint refuses ours), roll back and run it once more, so that it answers with the first one's
    result (or the domain's refusal) instead of a 500. A second refusal is a real error and is raised."""
    for attempt in range(2):
        try:
            result = use_case()
            db.session.commit()
            return result
        except sa.exc.IntegrityError:
            db.session.rollback()
            if attempt:
                raise
    raise AssertionError("unreachable")
