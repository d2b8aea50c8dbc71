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
                                   message=describe(refused)), 422
        db.session.commit()
        flash(_("Version %(version)s of %(rubric)s is in the library.", version=row.version, rubric=row.rubric_id)
              if new else _("This exact text is already in the library."), "success")
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
    return render_template("organiser/rubric.html", row=row, rubric=parsed, entry=entry, older=older)


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
def rubric_try(rubric_hash: str) -> str:
    """The rubric as the auditor's phone form shows it (the same template), filled in and scored
    criterion by criterion, as `flask rubrics try` explains it."""
    found = rubric_library.get(rubric_hash)
    if found is None:
        abort(404)
    row, rubric = found
    form = form_class(rubric, rubric.channel)()
    values = {k: v for k, v in request.form.items() if k[:2] in ("a_", "n_", "f_")}
    score, errors = None, {}
    if form.validate_on_submit():
        try:
            score = scoring.score_contact(rubric, fieldwork.engine_answers(rubric, rubric.channel, form.to_input()))
        except ValueError as error:  # a number the engine cannot read: said beside the form
            errors = {"": [str(error)]}
    elif request.method == "POST":
        errors = {name: field.errors for name, field in form._fields.items() if field.errors}
    data = fieldwork.ContactInput("", None, {k[2:]: v for k, v in values.items() if k.startswith("a_")}, {},
                                  {k[2:]: v for k, v in values.items() if k.startswith("f_")})
    try:
        visible = visible_criteria(rubric, fieldwork.engine_answers(rubric, rubric.channel, data))
    except ValueError:
        visible = frozenset(c.id for c in rubric.criteria)
    return render_template("organiser/rubric_try.html", row=row, rubric=rubric, score=score, errors=errors,
                           sections=form_layout(rubric, lang()), facts=CHANNEL_FACTS[rubric.channel], values=values,
                           visible=visible, editable=True, client_id=new_client_id())
