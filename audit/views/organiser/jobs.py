"""Background jobs: the list, one job's progress (JSON for the page's script), its file, a failed one
started again; and the buttons that ask for a national export or the fairness analysis.

The work itself is audit/job_records.py, run by a worker. Organisers only; a file is served under
the name the direct download gives it, never under its stored name.
"""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from ... import exports, job_records
from ...extensions import db
from ...forms import ActionForm
from ...models import Campaign, JobRecord
from ...publication import latest_revision, revision_of
from ...security import role_required
from . import bp


@bp.app_template_global()
def job_percent(record: JobRecord) -> int:
    return job_records.percent(record)


@bp.app_template_global()
def job_error(record: JobRecord) -> str:
    return job_records.error_text(record)


@bp.context_processor
def job_labels() -> dict[str, object]:
    return {"job_kinds": job_records.KIND_LABELS, "job_states": job_records.STATE_LABELS}


@bp.get("/jobs")
@role_required("organiser")
def jobs() -> str:
    listed = job_records.recent()
    return render_template("organiser/jobs.html", jobs=listed,
                           pending=any(j.state in job_records.PENDING for j in listed))


@bp.get("/jobs/<int:job_id>")
@role_required("organiser")
def job(job_id: int) -> str:
    record = db.get_or_404(JobRecord, job_id)
    return render_template("organiser/job.html", job=record, action=ActionForm(formdata=None),
                           has_file=job_records.result_file(record) is not None)


@bp.get("/jobs/<int:job_id>/status")
@role_required("organiser")
def job_status(job_id: int) -> Response:
    response = jsonify(job_records.status(db.get_or_404(JobRecord, job_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/jobs/<int:job_id>/download")
@role_required("organiser")
def job_download(job_id: int) -> Response:
    record = db.get_or_404(JobRecord, job_id)
    path = job_records.result_file(record)
    if path is None or record.kind == "fairness":
        abort(404)
    response = send_file(path, mimetype=exports.XLSX_MIMETYPE, as_attachment=True, etag=False, max_age=0,
                         download_name=str(record.params.get("download_name") or "export.xlsx"))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/jobs/<int:job_id>/again")
@role_required("organiser")
def job_again(job_id: int) -> Response:
    record = db.get_or_404(JobRecord, job_id)
    if ActionForm().validate_on_submit():
        job_records.retry(record)  # a refusal is answered by views/errors.py
        db.session.commit()
        flash(_("The job will run again."), "success")
    return redirect(url_for("organiser.job", job_id=record.id))


@bp.post("/campaigns/<int:campaign_id>/exports/<kind>")
@role_required("organiser")
def export_job(campaign_id: int, kind: str) -> Response:
    """Ask for the edition workbook (?revision=N, ?live=1, else the newest published revision) or the raw
    answers as a file made by a job; the organiser follows its progress and downloads it when done."""
    campaign = db.get_or_404(Campaign, campaign_id)
    if kind not in ("edition_workbook", "answers") or not ActionForm().validate_on_submit():
        abort(400 if kind in ("edition_workbook", "answers") else 404)
    params: dict[str, object] = {"language": str(get_locale() or "pl")}
    if kind == "edition_workbook":
        number = request.args.get("revision", type=int)
        if number is not None and revision_of(campaign_id, number) is None:
            abort(404)
        if number is None and not request.args.get("live"):
            latest = latest_revision(campaign_id)
            number = latest.number if latest is not None else None
        params["revision"] = number
    record = job_records.request(kind, campaign, current_user, params)
    db.session.commit()
    return redirect(url_for("organiser.job", job_id=record.id))
