"""Institutions in the database: the duplicate rule, saving one, and adding an import's checked rows, in the
request or, for a large file, by a job (audit/job_records.py) that adds them in chunks with progress.

The checker (audit/institution_import.py) is pure; this module is its database side. Adding is idempotent:
the rows are checked again against what is stored just before they are written, so an institution already
on the list (added by an earlier attempt of the same job, or by hand meanwhile) is skipped, never doubled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale

from . import institution_import as importer
from .extensions import db
from .i18n import CATEGORY_LABELS, CHANNEL_LABELS
from .models import Institution
from .rubrics import CHANNELS


@dataclass(frozen=True)
class InstitutionData:
    name: str
    category: str
    city: str
    region: str
    channels: tuple[str, ...]
    details: dict[str, str] | None = None
    """Contact details by name (importer.DETAILS); None leaves the stored ones as they are."""


def existing_keys() -> set[tuple[str, str]]:
    """Every stored institution as (name, town) in the form duplicates are compared in.

    Compared in Python, not SQL: SQLite's lower() leaves Polish letters (Ł, Ś, Ż...) as they are.
    """
    return {(importer.normalise(n), importer.normalise(c))
            for n, c in db.session.execute(sa.select(Institution.name, Institution.city))}


def same_institution(name: str, city: str, except_id: int | None = None) -> Institution | None:
    """The stored institution with this name and town (ignoring case and spaces), if any."""
    key = (importer.normalise(name), importer.normalise(city))
    for institution in db.session.scalars(sa.select(Institution).where(Institution.id != (except_id or 0))):
        if (importer.normalise(institution.name), importer.normalise(institution.city)) == key:
            return institution
    return None


def save_institution(institution: Institution | None, data: InstitutionData) -> Institution:
    """Create or change one institution (flush only); the caller has checked for a duplicate."""
    if institution is None:
        institution = Institution()
        db.session.add(institution)
    institution.name, institution.category = importer.clean(data.name), data.category
    institution.city, institution.region = importer.clean(data.city), importer.clean(data.region)
    institution.channels = [c for c in CHANNELS if c in data.channels]
    for name, value in (data.details or {}).items():
        setattr(institution, name, importer.clean(value or "") if name != "opening_hours" else (value or "").strip())
    db.session.flush()
    return institution


def add_imported(rows: tuple[importer.InstitutionRow, ...]) -> int:
    """Write checked rows (flush only: the caller commits them all at once, or none)."""
    db.session.add_all(Institution(name=r.name, category=r.category, city=r.city, region=r.region,
                                   channels=list(r.channels), **{d: getattr(r, d) for d in importer.DETAILS})
                       for r in rows)
    db.session.flush()
    return len(rows)


def vocabulary() -> importer.Vocabulary:
    """Category and channel codes with their Polish and English labels, as the import accepts them."""
    return importer.Vocabulary.of(
        {code: both_languages(label) for code, label in CATEGORY_LABELS.items()},
        {code: both_languages(label) for code, label in CHANNEL_LABELS.items()})


def both_languages(label: object) -> tuple[str, str]:
    """A lazy label in Polish and in English."""
    with force_locale("pl"):
        polish = str(label)
    with force_locale("en"):
        english = str(label)
    return polish, english


def imports_dir() -> Path:
    """Where previews (and the rows a job is to add) wait (IMPORTS_DIR, default instance/imports): one folder
    shared by the web processes and the workers."""
    return Path(current_app.config["IMPORTS_DIR"])


@dataclass(frozen=True)
class Added:
    added: int
    """Institutions added (over every attempt of a job)."""
    skipped: int
    """Rows of the file already on the list: found so at the preview, or added meanwhile by someone else."""


def add_in_chunks(rows: tuple[importer.InstitutionRow, ...], present_at_preview: int, added_before: int,
                  commit_chunk: Callable[[int, int], None]) -> Added:
    """A job's adding: the rows checked again against what is stored now, then written a chunk (IMPORT_CHUNK_ROWS)
    at a time, each committed by `commit_chunk(added so far, total)` with the job's progress (so a retry goes on
    where an attempt stopped: what it committed is then on the list, and skipped). A row now invalid (a value no
    longer accepted) refuses the whole import: importer.ImportCheck with problems."""
    check = importer.recheck(rows, vocabulary(), existing_keys())
    if not check.ok:
        raise ImportChanged(check)
    total, added, chunk = len(rows), added_before, max(1, int(current_app.config["IMPORT_CHUNK_ROWS"]))
    commit_chunk(added, total)
    for start in range(0, len(check.rows), chunk):
        added += add_imported(check.rows[start:start + chunk])
        commit_chunk(added, total)
    return Added(added, present_at_preview + len(check.present) - added_before)


class ImportChanged(Exception):
    """The checked rows no longer pass the check (the rules or the list changed since the preview)."""

    def __init__(self, check: importer.ImportCheck):
        self.check = check
        super().__init__(f"{len(check.problems)} problems")
