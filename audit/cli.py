"""Command-line tools: `flask --app audit rubrics check|try` and `flask --app audit demo`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from .rubrics import RubricError, check_paths, load_rubric, read_yaml
from .scoring import AnswerError, parse_answer, score_contact


@click.group("rubrics", cls=AppGroup)
def rubrics_cli() -> None:
    """Check rubric files and try them on sample answers."""


@rubrics_cli.command("check")
@click.argument("paths", nargs=-1, type=click.Path())
def check(paths: tuple[str, ...]) -> None:
    """Validate rubric files (default: the rubrics directory); print every problem."""
    found, problems = check_paths(paths or [current_app.config["RUBRICS_DIR"]])
    for rubric in found:
        click.echo(f"ok    {rubric.path}: {rubric.id} {rubric.version} ({rubric.channel}), "
                   f"{len(rubric.criteria)} criteria, {rubric.max_points:g} points, hash {rubric.hash[:12]}")
    for problem in problems:
        click.echo(f"error {problem}", err=True)
    if problems or not found:
        raise click.ClickException(f"{len(problems)} problem(s) found" if problems else "no rubric files found")


@rubrics_cli.command("try")
@click.argument("rubric_path", type=click.Path(exists=True, dir_okay=False))
@click.argument("answers_path", type=click.Path(exists=True, dir_okay=False))
@click.option("--lang", type=click.Choice(["pl", "en"]), default="en")
def try_rubric(rubric_path: str, answers_path: str, lang: str) -> None:
    """Score ANSWERS_PATH (criterion id: answer) against a rubric and explain each point."""
    try:
        rubric = load_rubric(rubric_path)
        raw = read_yaml(Path(answers_path).read_text(encoding="utf-8"), answers_path) or {}
        if not isinstance(raw, dict):
            raise click.ClickException(f"{answers_path}: answers must be a mapping of criterion id: answer")
        unknown = sorted(set(raw) - {c.id for c in rubric.criteria})
        if unknown:
            raise click.ClickException(f"{answers_path}: no such criteria in {rubric_path}: {', '.join(map(str, unknown))}")
        answers = {cid: value for cid, value in ((c.id, parse_answer(c, raw.get(c.id))) for c in rubric.criteria)
                   if value is not None}
        result = score_contact(rubric, answers)
    except RubricError as exc:
        raise click.ClickException(str(exc)) from None
    except AnswerError as exc:
        raise click.ClickException(f"{answers_path}: {exc}") from None
    by_id = {c.id: c for c in rubric.criteria}
    click.echo(f"{rubric.title.get(lang)} ({rubric.id} {rubric.version})")
    for item in result.criteria:
        c = by_id[item.criterion_id]
        answer = "" if item.answer is None else str(item.answer)
        mark = " CRITICAL FAILED" if item.critical_failed else ""
        click.echo(f"  {c.id:<28} {item.status:<15} {answer:<10} {item.earned:g}/{item.possible:g}  [{c.standard}]{mark}")
    ratio = "n/a" if result.ratio is None else f"{float(result.ratio):.1%}"
    click.echo(f"total: {result.earned:g} of {result.possible:g} points = {ratio}")
    if result.unanswered:
        click.echo(f"unanswered (count as 0): {', '.join(result.unanswered)}")
    if result.critical_failures:
        click.echo(f"critical failures (no licence): {', '.join(result.critical_failures)}")


@click.command("demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) if the database holds other data.")
def demo_command(if_empty: bool) -> None:
    """Load the demo contest (idempotent; refuses a database holding non-demo data)."""
    from .demo import DemoRefused, load_demo

    try:
        message = load_demo()
    except DemoRefused as exc:
        if if_empty:
            click.echo(f"demo not loaded: {exc}")
            return
        raise click.ClickException(str(exc)) from None
    click.echo(message)


@click.group("results", cls=AppGroup)
def results_cli() -> None:
    """Check published results."""


class CannotVerify(click.ClickException):
    """Nothing to verify (no such edition, nothing published): exit 2, apart from "a difference" (1)."""

    exit_code = 2


@results_cli.command("verify")
@click.argument("edition", type=int)
@click.option("--revision", "revision_number", type=int, default=None, help="Check only this revision.")
def verify_results(edition: int, revision_number: int | None) -> None:
    """Recompute every published revision of EDITION (an edition id) from the stored answers and
    rubric texts, and print any difference. Exit 0 if all match, 1 if any differs, 2 if there is
    nothing to verify."""
    from .verification import VerificationError, verify_edition

    try:
        checks = verify_edition(edition, revision_number)
    except VerificationError as exc:
        raise CannotVerify(str(exc)) from None
    for check in checks:
        for difference in check.differences:
            click.echo(str(difference))
        for note in check.notes:
            click.echo(f"note: {note}")
        undone = (f" ({check.corrections_undone} correction{'s' if check.corrections_undone != 1 else ''} "
                  "made after publication undone)") if check.corrections_undone else ""
        click.echo(check.summary() + undone)
    failed = [c for c in checks if not c.matches]
    if failed:
        total = sum(len(c.differences) for c in failed)
        click.echo(f"edition {edition}: {total} difference{'s' if total != 1 else ''} in {len(failed)} of "
                   f"{len(checks)} revision{'s' if len(checks) != 1 else ''}", err=True)
        raise click.exceptions.Exit(1)


@click.group("jobs", cls=AppGroup)
def jobs_cli() -> None:
    """The background worker: delivers the outbox's mail."""


@jobs_cli.command("worker")
@click.option("--workers", default=2, show_default=True, help="worker threads")
def jobs_worker(workers: int) -> None:
    """Run a worker until stopped (Ctrl-C or SIGINT: after the running jobs; SIGTERM: at once)."""
    import logging

    from . import jobs

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config.get("SMTP_HOST"):
        click.echo("No SMTP_HOST: mail stays in the outbox (organisers read it under Sent mail).", err=True)
    jobs.run_worker(app, workers)


@click.group("storage", cls=AppGroup)
def storage_cli() -> None:
    """Stored files (evidence, appeal documents): move a local install's files into the store, check them."""


@storage_cli.command("copy")
@click.option("--from", "source", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="The local folder to copy from (default: EVIDENCE_DIR).")
def storage_copy(source: Path | None) -> None:
    """Copy every file of a local evidence folder into the configured store (EVIDENCE_STORE=s3).

    Safe to run again (files already there are skipped) and while the app runs; the folder is left as it
    is. Run it again after the last local upload, then start the app with the new settings."""
    from . import storage

    folder = storage.LocalStore(source or Path(current_app.config["EVIDENCE_DIR"]))
    target = storage.store_of(current_app)
    if isinstance(target, storage.LocalStore) and target.root.resolve() == folder.root.resolve():
        raise click.ClickException(f"the configured store is {folder.describe()} itself: set EVIDENCE_STORE=s3 "
                                   "and the S3_* settings first (docs/operations.md)")
    try:
        done = storage.copy_all(folder, target)
    except storage.StorageError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"copied {done.copied} files ({done.bytes:,} bytes) from {folder.describe()} to "
               f"{target.describe()}; {done.already_there} were already there")


@storage_cli.command("check")
@click.option("--delete-orphans", is_flag=True,
              help="Delete files no row names that are older than a day (newer ones may be uploads in progress).")
def storage_check(delete_orphans: bool) -> None:
    """Compare the files the database names with those in the store; fails if one is missing."""
    from datetime import UTC, datetime, timedelta

    import sqlalchemy as sa

    from . import storage
    from .extensions import db
    from .models import Appeal, Evidence

    named = set(db.session.scalars(sa.select(Evidence.storage_key)))
    named |= {storage.APPEALS + k for k in db.session.scalars(
        sa.select(Appeal.document_key).where(Appeal.document_key.is_not(None)))}
    target = storage.store_of(current_app)
    found = storage.audit_store(target, named)
    click.echo(f"{target.describe()}: {len(named) - len(found.missing)} of {len(named)} named files present, "
               f"{len(found.orphans)} files no row names")
    if delete_orphans:
        old = [f for f in found.orphans if f.modified < datetime.now(UTC) - timedelta(days=1)]
        for item in old:
            target.delete(item.key)
        click.echo(f"deleted {len(old)} orphans older than a day")
    for key in found.missing:
        click.echo(f"missing: {key}", err=True)
    if found.missing:
        raise click.exceptions.Exit(1)


def init_app(app: Flask) -> None:
    from .backup import backup_cli

    app.cli.add_command(rubrics_cli)
    app.cli.add_command(results_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(backup_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(storage_cli)
