"""Refusals and errors answered in one place (audit/views/errors.py): flashed and sent back, JSON for
scripts, nothing of the request kept; and the HTTP error pages in the site's frame and language."""

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


# --- the error pages --------------------------------------------------------------------------

TITLES = {
    400: ("Nie udało się zrozumieć żądania", "The request could not be understood"),
    403: ("Ta strona nie jest dostępna dla Twojego konta", "This page is not for your account"),
    404: ("Nie znaleziono strony", "Page not found"),
    405: ("Tej czynności nie można wykonać w ten sposób", "This action cannot be done this way"),
    409: ("Teraz nie można tego zrobić", "This cannot be done now"),
    413: ("Za dużo danych naraz", "Too much to send"),
    429: ("Zbyt wiele prób", "Too many attempts"),
    500: ("Coś poszło nie tak po naszej stronie", "Something went wrong on our side"),
}


@pytest.mark.parametrize("code", sorted(TITLES))
@pytest.mark.parametrize("language", ["pl", "en"])
def test_each_error_is_the_sites_page_in_the_users_language(probe, code, language):
    client = probe.test_client()
    if language == "en":
        client.get("/lang/en")
    response = client.get(f"/probe/fail/{code}")
    page = response.get_data(as_text=True)
    assert response.status_code == code and response.mimetype == "text/html"
    assert f'<html lang="{language}">' in page and 'class="brand"' in page  # base.html's frame
    assert TITLES[code][0 if language == "pl" else 1] in page
    assert f'href="/login?next=/probe/fail/{code}"' in page  # anonymous: a way to log in
    assert "Traceback" not in page and "IntegrityError" not in page and "UNIQUE" not in page


def test_a_500_rolls_the_broken_session_back_before_answering(probe):
    response = probe.test_client().get("/probe/fail/500")
    assert response.status_code == 500
    assert probe.seen == [0]  # the session works again, and holds nothing of the failed request


def test_errors_of_script_requests_are_json(probe):
    response = probe.test_client().get("/probe/fail/404", headers={"X-Requested-With": "fetch"})
    assert response.status_code == 404 and response.json["outcome"] == "not_found"
    assert response.json["message"].startswith("Nic tu nie ma")


def test_a_logged_in_visitor_gets_a_way_home_and_the_app_keeps_its_own_answers(auth):
    auth.as_role("auditor")
    forbidden = auth.client.get("/organiser/")
    page = forbidden.get_data(as_text=True)
    assert forbidden.status_code == 403 and "Ta strona nie jest dostępna dla Twojego konta" in page
    assert '<a class="button" href="/">Wróć na swoją stronę główną</a>' in page
    missing = auth.client.get("/auditor/assignments/999999")
    assert missing.status_code == 404 and "Nie znaleziono strony" in missing.get_data(as_text=True)
    not_allowed = auth.client.get("/logout")
    assert not_allowed.status_code == 405 and "POST" in not_allowed.headers["Allow"]


def test_too_large_a_request_gets_the_413_page(probe):
    response = probe.test_client().post("/login", data={"email": "x" * 5000, "password": "x"})
    assert response.status_code == 413 and "Za dużo danych naraz" in response.get_data(as_text=True)


def test_a_form_after_the_session_ended_still_gets_its_own_page(demo_client):
    response = demo_client.post("/login", data={"email": "organiser@demo.test", "password": "demo"})
    assert response.status_code == 400 and "Zaloguj się ponownie" in response.get_data(as_text=True)
