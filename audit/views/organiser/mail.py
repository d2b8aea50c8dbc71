"""Sent mail: every message of the outbox, its status and the server's answer; a failed one sent again."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from ... import outbox
from ...extensions import db
from ...forms import ActionForm
from ...models import MailMessage
from ...security import role_required
from . import bp


@bp.get("/mail")
@role_required("organiser")
def mail() -> str:
    return render_template("organiser/mail.html", messages=outbox.recent(),
                           smtp=bool(current_app.config.get("SMTP_HOST")))


@bp.get("/mail/<int:message_id>")
@role_required("organiser")
def mail_message(message_id: int) -> str:
    return render_template("organiser/mail_message.html", message=db.get_or_404(MailMessage, message_id),
                           action=ActionForm(formdata=None))


@bp.post("/mail/<int:message_id>/again")
@role_required("organiser")
def mail_again(message_id: int) -> Response:
    message = db.get_or_404(MailMessage, message_id)
    if ActionForm().validate_on_submit():
        outbox.send_again(message)  # a refusal is answered by views/errors.py
        db.session.commit()
        flash(_("The message will be sent again."), "success")
    return redirect(url_for("organiser.mail_message", message_id=message.id))
