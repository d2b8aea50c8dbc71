"""Institutions: the list, adding and editing one, and importing many from an Excel file."""

from __future__ import annotations

from io import BytesIO

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from ... import institution_import as importer
from ... import job_records, paging
from ...errors import describe
from ...extensions import db
from ...i18n import CATEGORY_LABELS, CHANNEL_LABELS, lang
from ...institutions import (
    InstitutionData,
    add_imported,
    both_languages,
    existing_keys,
    imports_dir,
    same_institution,
    save_institution,
    vocabulary,
)
from ...models import CATEGORIES, Institution, JobRecord
from ...rubrics import CHANNELS
from ...security import role_required
from . import bp

PAGE_SIZE = 100
PROBLEMS_SHOWN = 2000
"""A preview lists at most this many problems; a file with more has a systematic fault anyway."""

# --- forms ---------------------------------------------------------------------------------


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (one per choice) instead of a multiple select."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class InstitutionForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=300)])
    category = SelectField(_l("Category"), choices=[], validators=[InputRequired()])
    city = StringField(_l("Town or city"), validators=[DataRequired(), Length(max=120)])
    region = SelectField(_l("Region"), choices=[], validators=[InputRequired()])
    channels = MultiCheckboxField(_l("Channels offered"), choices=[])
    address = StringField(_l("Address"), validators=[Length(max=300)])
    phone = StringField(_l("Phone number"), validators=[Length(max=60)])
    email = StringField(_l("E-mail address"), validators=[
        Optional(), Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Enter an e-mail address, e.g. sekretariat@gmina.pl.")),
        Length(max=254)])
    website = StringField(_l("Website"), validators=[Length(max=300)])
    social = StringField(_l("Social media profile"), validators=[Length(max=300)])
    opening_hours = TextAreaField(_l("Opening hours"), validators=[Length(max=500)])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.region.choices = [("", _l("Choose the voivodeship")), *((v, v) for v in importer.VOIVODESHIPS)]
        self.category.choices = [(c, str(CATEGORY_LABELS[c])) for c in CATEGORIES]
        self.channels.choices = [(c, str(CHANNEL_LABELS[c])) for c in CHANNELS]


class UploadForm(FlaskForm):
    file = FileField(_l("Excel file (.xlsx)"), validators=[FileRequired(_l("Choose the file to import."))])


class ConfirmImportForm(FlaskForm):
    token = HiddenField(validators=[InputRequired()])


# --- list, add, edit -----------------------------------------------------------------------


@bp.get("/institutions")
@role_required("organiser")
def institutions() -> str:
    q, category, region = (request.args.get(k, "").strip() for k in ("q", "category", "region"))
    query = sa.select(Institution).order_by(Institution.city, Institution.name)
    if category in CATEGORIES:
        query = query.where(Institution.category == category)
    if region:
        query = query.where(Institution.region == region)
    if q:  # folded in Python: case-insensitive for Polish letters on SQLite too
        query = query.where(paging.institution_matches(q))
    found = paging.paginate(query, request.args.get("page", 1, type=int), size=PAGE_SIZE)
    regions = db.session.scalars(sa.select(Institution.region).distinct().order_by(Institution.region)).all()
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Institution))
    return render_template(
        "organiser/institutions.html", institutions=found.items, found=found, count=found.total, total=total,
        q=q, category=category, region=region, regions=regions)


@bp.route("/institutions/new", methods=["GET", "POST"])
@bp.route("/institutions/<int:institution_id>/edit", methods=["GET", "POST"])
@role_required("organiser")
def institution_form(institution_id: int | None = None) -> Response | str:
    institution = db.get_or_404(Institution, institution_id) if institution_id is not None else None
    form = InstitutionForm(obj=institution)
    if request.method == "GET" and institution is None:
        form.channels.data = list(CHANNELS)
    if form.validate_on_submit():
        data = InstitutionData(form.name.data, form.category.data, form.city.data, form.region.data,
                               tuple(form.channels.data or ()),
                               {name: getattr(form, name).data or "" for name in importer.DETAILS})
        twin = same_institution(data.name, data.city, institution_id)
        if twin is not None:
            form.name.errors = [*form.name.errors, _(
                "%(name)s in %(city)s is already on the list; names and towns are compared ignoring case "
                "and spaces.", name=twin.name, city=twin.city)]
        else:
            try:
                saved = save_institution(institution, data)
                db.session.commit()
            except IntegrityError:  # another organiser saved the same one a moment ago
                db.session.rollback()
                form.name.errors = [*form.name.errors, _("This institution is already on the list.")]
            else:
                flash(_("Saved: %(name)s.", name=saved.name), "success")
                return redirect(url_for("organiser.institutions", q=saved.name))
    return render_template("organiser/institutions_form.html", form=form, institution=institution)


# --- import --------------------------------------------------------------------------------


@bp.get("/institutions/template.xlsx")
@role_required("organiser")
def institutions_template() -> Response:
    data = importer.template_workbook(
        {code: both_languages(label) for code, label in CATEGORY_LABELS.items()},
        {code: both_languages(label) for code, label in CHANNEL_LABELS.items()}, polish=lang() == "pl")
    return send_file(BytesIO(data), as_attachment=True, download_name=_("institutions-template.xlsx"),
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/institutions/import", methods=["GET", "POST"])
@role_required("organiser")
def institutions_import() -> str:
    form = UploadForm()
    check, token, filename = None, None, ""
    if form.validate_on_submit():
        upload = form.file.data
        filename = upload.filename or ""
        data = upload.stream.read(importer.MAX_FILE_BYTES + 1)
        check = importer.check_workbook(data, vocabulary(), existing_keys())
        if check.ok:
            token = importer.save_pending(imports_dir(), current_user.id, filename, check)
    return _import_page(form, check, token, filename)


@bp.post("/institutions/import/confirm")
@role_required("organiser")
def institutions_import_confirm() -> Response | str:
    form = ConfirmImportForm()
    token = form.token.data or "" if form.validate_on_submit() else ""
    queued = db.session.scalar(sa.select(JobRecord).where(JobRecord.key == import_key(token))) if token else None
    if queued is not None:  # confirmed twice (a second click, a reload): the one job adding these rows
        return redirect(url_for("organiser.job", job_id=queued.id))
    pending = importer.load_pending(imports_dir(), token, current_user.id) if token else None
    if pending is None:
        flash(_("This preview has expired or was already imported. Upload the file again."), "error")
        return redirect(url_for("organiser.institutions_import"))
    if len(pending.rows) > int(current_app.config["IMPORT_INLINE_ROWS"]):
        return _import_by_job(token, pending)
    check = importer.recheck(pending.rows, vocabulary(), existing_keys())
    if not check.ok:
        return _import_page(UploadForm(), check, None, pending.filename)
    try:
        added = add_imported(check.rows)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        flash(_("Nothing was imported: some of these institutions were added meanwhile. Upload the file again "
                "to see which."), "error")
        return redirect(url_for("organiser.institutions_import"))
    importer.discard_pending(imports_dir(), form.token.data)
    skipped = len(pending.present) + len(check.present)
    message = ngettext("Imported %(num)s institution.", "Imported %(num)s institutions.", added)
    if skipped:
        message += " " + ngettext("%(num)s already on the list was skipped.",
                                  "%(num)s already on the list were skipped.", skipped)
    flash(message, "success")
    return redirect(url_for("organiser.institutions"))


def import_key(token: str) -> str:
    return f"institution_import:{token}"


def _import_by_job(token: str, pending: importer.PendingImport) -> Response:
    """A large file's rows are added by a job with progress; its rows wait for it on the server until it is done
    (asked twice: the same job, found by its key)."""
    job = job_records.request("institution_import", None, current_user, {
        "token": token, "rows": len(pending.rows), "present": len(pending.present)}, key=import_key(token))
    db.session.commit()
    importer.queue_pending(imports_dir(), token)  # after the commit: a job that exists finds its rows either way
    return redirect(url_for("organiser.job", job_id=job.id))


def _import_page(form: UploadForm, check: importer.ImportCheck | None, token: str | None, filename: str) -> str:
    problems = [(p, describe(p)) for p in check.problems[:PROBLEMS_SHOWN]] if check else []
    return render_template(
        "organiser/institutions_import.html", form=form, check=check, problems=problems,
        hidden_problems=max(len(check.problems) - PROBLEMS_SHOWN, 0) if check else 0,
        bad_rows=len({p.row for p in check.problems if p.row is not None}) if check else 0,
        confirm=ConfirmImportForm(token=token) if token else None, filename=filename,
        max_rows=importer.MAX_ROWS, max_mb=importer.MAX_FILE_BYTES // (1024 * 1024))
