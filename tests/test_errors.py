"""Refusals answered in one place (audit/views/errors.py): flashed and sent back, JSON for scripts,
nothing of the request kept."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import abort

from audit.errors import N_, RuleError
from audit.extensions import db
from audit.models import Scenario

from .conftest import Auth, make_app
from .test_fieldwork import autosave, open_form, todo


class Refused(RuleError):
    status = 422


@pytest.fixture
def probe(tmp_path):
    """An app with two extra routes: one that half-writes then is refused, one that fails with a status."""
    app = make_app(tmp_path, WTF_CSRF_ENABLED=False, PROPAGATE_EXCEPTIONS=False, MAX_CONTENT_LENGTH=1024)
    seen: list[int] = []

    @app.post("/probe/refuse")
    def refuse():
        db.session.add(Scenario(channel="visit", text="half-written"))
        db.session.flush()
        raise Refused(N_("The file is empty."))

    @app.route("/probe/fail/<int:code>", methods=["GET", "POST"])
    def fail(code: int):
        if code == 500:
            db.session.add(Scenario(channel="visit", text="kept?"))
            db.session.add(Scenario(channel=None, text="no channel"))
            db.session.flush()  # an IntegrityError (NOT NULL) unhandled: the session now needs a rollback
        abort(code)

    @app.after_request
    def count_scenarios(response):  # what anything after the view (a hook, a commit) would see
        seen.append(db.session.scalar(sa.select(sa.func.count()).select_from(Scenario)))
        return response

    app.seen = seen
    return app


def test_a_refusal_from_a_page_is_flashed_and_sends_the_visitor_back(probe):
    client = probe.test_client()
    response = client.post("/probe/refuse", headers={"Referer": "http://localhost/registry?q=x"})
    assert response.status_code == 302 and response.headers["Location"] == "/registry?q=x"
    assert probe.seen == [0]  # rolled back before anything else ran: nothing half-written
    page = client.get("/registry?q=x").get_data(as_text=True)
    assert "Plik jest pusty." in page  # flashed, in Polish


def test_a_refusal_never_redirects_off_the_site(probe):
    client = probe.test_client()
    for referrer in ("http://evil.example/verify", "//evil.example/x", "javascript:alert(1)"):
        response = client.post("/probe/refuse", headers={"Referer": referrer})
        assert response.status_code == 302 and response.headers["Location"] == "/login", referrer


def test_a_refusal_from_a_script_is_json_with_the_errors_status_in_the_users_language(probe):
    client = probe.test_client()
    client.get("/lang/en")
    response = client.post("/probe/refuse", headers={"X-Requested-With": "fetch"})
    assert response.status_code == 422
    assert response.json == {"outcome": "refused", "message": "The file is empty."}
    assert probe.seen[-1] == 0
    with probe.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Scenario)) == 0


def test_the_phone_is_told_in_polish_when_its_form_belongs_to_another_contact(demo_app, demo_client):
    """FieldworkError used to be English text shown as is; now it is one of the family, translated."""
    auditor = Auth(demo_client)
    auditor.as_role("auditor")
    first, second = todo(demo_app, "visit"), todo(demo_app, "phone")
    form = open_form(demo_client, first)
    assert autosave(demo_client, first, {**form, "a_signage": "yes"}).status_code == 200
    other = open_form(demo_client, second)
    response = autosave(demo_client, second, {**other, "client_id": form["client_id"]})
    assert response.status_code == 409 and response.json["outcome"] == "refused"
    assert response.json["message"] == "Ten formularz należy do innego kontaktu: odśwież stronę."
