"""The rubric library: every version by channel, upload and edit with the loader's checks, compare, pin."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from ... import fieldwork, rubric_diff, rubric_library, scoring
from ...contact_form import form_class, form_layout, new_client_id
from ...errors import describe
from ...extensions import db
from ...facts import CHANNEL_FACTS
from ...forms import RubricSourceForm
from ...i18n import lang
from ...scoring import visible_criteria
from ...security import role_required
from . import bp


def _seeded() -> None:
    """The rubrics/ directory is a seed: what it holds that the library does not is loaded first."""
    if rubric_library.seed(current_app.config["RUBRICS_DIR"]):
        db.session.commit()


@bp.get("/rubrics")
@role_required("organiser")
def rubrics() -> str:
    _seeded()
    return render_template("organiser/rubrics.html", library=rubric_library.library())


@bp.route("/rubrics/new", methods=["GET", "POST"])
@role_required("organiser")
def rubric_new() -> Response | str | tuple[str, int]:
    """Upload or edit a rubric text; nothing is stored until the loader accepts it."""
    form = RubricSourceForm()
    base = rubric_library.get(request.args.get("from", "")) if request.args.get("from") else None
    if request.method == "GET" and base is not None:
        form.source.data = base[0].source
    if form.validate_on_submit():
        upload = request.files.get("file")
        source = upload.read(rubric_library.MAX_SOURCE_BYTES + 1).decode("utf-8", errors="replace") \
            if upload and upload.filename else (form.source.data or "")
        form.source.data = source
        try:
            row, new = rubric_library.add(source, current_user)
        except rubric_library.RubricRefused as refused:
            db.session.rollback()
            return render_template("organiser/rubric_edit.html", form=form, base=base, refused=refused,
                                   message=describe(refused),
                                   problems=[(p, describe(p)) for p in refused.problems]), 422
        db.session.commit()
        flash(_("Version %(version)s of %(rubric)s is in the library.", version=row.version, rubric=row.rubric_id)
              if new else _("This exact text is already in the library."), "success")
        runs = rubric_library.run_cases(rubric_library.check(source))
        if runs:
            passed = sum(run.passed for run in runs)
            flash(_("Its test cases were re-run on this version: %(passed)s of %(total)s give the points expected.",
                    passed=passed, total=len(runs)), "success" if passed == len(runs) else "warning")
        return redirect(url_for("organiser.rubric", rubric_hash=row.hash))
    return render_template("organiser/rubric_edit.html", form=form, base=base, refused=None)


@bp.get("/rubrics/<rubric_hash>")
@role_required("organiser")
def rubric(rubric_hash: str) -> str:
    found = rubric_library.get(rubric_hash)
    if found is None:
        abort(404)
    row, parsed = found
    same_channel = rubric_library.library().by_channel.get(row.channel, [])
    entry = next(e for e in same_channel if e.hash == rubric_hash)
    older = [e for e in same_channel if e.rubric_id == row.rubric_id and e.hash != rubric_hash]
    return render_template("organiser/rubric.html", row=row, rubric=parsed, entry=entry, older=older,
                           cases=rubric_library.run_cases(parsed))


@bp.post("/rubrics/<rubric_hash>/retire")
@role_required("organiser")
def rubric_retire(rubric_hash: str) -> Response:
    """Retire a version (a refusal is flashed by the one error handler); undone by restore."""
    row = rubric_library.retire(rubric_hash, current_user)
    db.session.commit()
    flash(_("Version %(version)s of %(rubric)s is retired: no edition can pin it now.", version=row.version,
            rubric=row.rubric_id), "success")
    return redirect(url_for("organiser.rubric", rubric_hash=rubric_hash))


@bp.post("/rubrics/<rubric_hash>/restore")
@role_required("organiser")
def rubric_restore(rubric_hash: str) -> Response:
    row = rubric_library.restore(rubric_hash, current_user)
    db.session.commit()
    flash(_("Version %(version)s of %(rubric)s can be pinned again.", version=row.version, rubric=row.rubric_id),
          "success")
    return redirect(url_for("organiser.rubric", rubric_hash=rubric_hash))


@bp.post("/rubrics/cases/<int:case_id>/delete")
@role_required("organiser")
def rubric_case_delete(case_id: int) -> Response:
    back = request.form.get("back", "")
    if request.form.get("confirm") == "yes":  # the button that names the case and says what is lost
        rubric_library.delete_case(case_id, current_user)
        db.session.commit()
        flash(_("The test case is deleted."), "success")
    found = rubric_library.get(back)
    return redirect(url_for("organiser.rubric", rubric_hash=found[0].hash, _anchor="cases") if found
                    else url_for("organiser.rubrics"))


@bp.get("/rubrics/compare")
@role_required("organiser")
def rubric_compare() -> str:
    old, new = rubric_library.get(request.args.get("old", "")), rubric_library.get(request.args.get("new", ""))
    if old is None or new is None:
        abort(404)
    return render_template("organiser/rubric_compare.html", old=old[1], new=new[1],
                           changes=rubric_diff.compare(old[1], new[1]))


@bp.route("/rubrics/<rubric_hash>/try", methods=["GET", "POST"])
@role_required("organiser")
def rubric_try(rubric_hash: str) -> Response | str:
    """The rubric as the auditor's phone form shows it (the same template), filled in and scored
    criterion by criterion, as `flask rubrics try` explains it."""
    found = rubric_library.get(rubric_hash)
    if found is None:
        abort(404)
    row, rubric = found
    form = form_class(rubric, rubric.channel)()
    values = {k: v for k, v in request.form.items() if k[:2] in ("a_", "n_", "f_")}
    score, errors, case_error = None, {}, None
    case_name = request.form.get("case_name", "")
    if form.validate_on_submit():
        try:
            score = scoring.score_contact(rubric, fieldwork.engine_answers(rubric, rubric.channel, form.to_input()))
        except ValueError as error:  # a number the engine cannot read: said beside the form
            errors = {"": [str(error)]}
        if score is not None and request.form.get("action") == "save_case":
            try:
                case = rubric_library.save_case(rubric_hash, case_name, form.to_input(), current_user)
            except rubric_library.CaseRefused as refused:
                db.session.rollback()
                case_error = describe(refused)
            else:
                db.session.commit()
                flash(_("The answers are saved as the test case “%(name)s”: every version of %(rubric)s runs them.",
                        name=case.name, rubric=rubric.id), "success")
                return redirect(url_for("organiser.rubric", rubric_hash=rubric_hash, _anchor="cases"))
    elif request.method == "POST":
        errors = {name: messages for name, messages in form.errors.items() if name}
    data = fieldwork.ContactInput("", None, {k[2:]: v for k, v in values.items() if k.startswith("a_")}, {},
                                  {k[2:]: v for k, v in values.items() if k.startswith("f_")})
    try:
        visible = visible_criteria(rubric, fieldwork.engine_answers(rubric, rubric.channel, data))
    except ValueError:
        visible = frozenset(c.id for c in rubric.criteria)
    return render_template("organiser/rubric_try.html", row=row, rubric=rubric, score=score, errors=errors,
                           sections=form_layout(rubric, lang()), facts=CHANNEL_FACTS[rubric.channel], values=values,
                           visible=visible, editable=True, client_id=new_client_id(), case_name=case_name,
                           case_error=case_error)
