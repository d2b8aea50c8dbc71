"""Sessions end on the server: at logout (a copied cookie opens nothing), on a new password, on
deactivation, after an idle spell and at an absolute age; logging out clears the device."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from audit import accounts
from audit.extensions import db
from audit.models import User, UserSession

from .conftest import Auth


def csrf(client, path: str = "/login") -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def copy_of(app, client):
    """A second browser holding a copy of this one's session cookie (as a thief would)."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def test_a_copied_cookie_opens_nothing_after_logout(demo_app):
    auth = Auth(demo_app.test_client())
    auth.login("director@demo.test")
    thief = copy_of(demo_app, auth.client)
    assert thief.get("/director/").status_code == 200  # the copy works while the session is open
    token = csrf(auth.client, "/director/")
    logout = auth.client.post("/logout", data={"csrf_token": token})
    assert logout.status_code == 302
    assert thief.get("/director/").status_code == 302  # to the login page
    with demo_app.app_context():
        assert db.session.scalar(sa.select(UserSession.ended_why)) == "logout"


def test_logout_clears_what_the_site_stored_on_the_device(demo_app):
    auth = Auth(demo_app.test_client())
    auth.login("auditor@demo.test")
    response = auth.client.post("/logout", data={"csrf_token": csrf(auth.client, "/auditor/")})
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'


def end_sessions_by_hand(app, **moved):
    with app.app_context():
        for row in db.session.scalars(sa.select(UserSession)):
            for column, by in moved.items():
                setattr(row, column, getattr(row, column) - by)
        db.session.commit()


def test_an_idle_session_ends_and_a_used_one_lives_on(demo_app):
    auth = Auth(demo_app.test_client())
    auth.login("auditor@demo.test")
    idle = timedelta(minutes=demo_app.config["SESSION_IDLE_MINUTES"])
    end_sessions_by_hand(demo_app, seen_at=idle - timedelta(minutes=2), started_at=idle)
    assert auth.client.get("/auditor/").status_code == 200  # used in time: noted, and so it lives on
    with demo_app.app_context():
        seen, started = db.session.execute(sa.select(UserSession.seen_at, UserSession.started_at)).one()
        assert seen - started >= idle - timedelta(minutes=1)
    end_sessions_by_hand(demo_app, seen_at=idle, started_at=idle)
    assert auth.client.get("/auditor/").status_code == 302


def test_a_session_ends_at_its_absolute_age_however_busy(demo_app):
    auth = Auth(demo_app.test_client())
    auth.login("auditor@demo.test")
    end_sessions_by_hand(demo_app, started_at=timedelta(hours=demo_app.config["SESSION_MAX_HOURS"]))
    assert auth.client.get("/auditor/").status_code == 302


def test_deactivation_and_a_new_password_end_sessions_on_the_server(demo_app):
    director, auditor = Auth(demo_app.test_client()), Auth(demo_app.test_client())
    director.login("director@demo.test")
    auditor.login("auditor@demo.test")
    with demo_app.app_context():
        organiser = db.session.scalar(sa.select(User).filter_by(email="organiser@demo.test"))
        accounts.set_active(db.session.scalar(sa.select(User).filter_by(email="director@demo.test")), False, organiser)
        user = db.session.scalar(sa.select(User).filter_by(email="auditor@demo.test"))
        accounts.redeem(accounts.reset_link(user), "a brand new passphrase")
        db.session.commit()
        why = dict(db.session.execute(sa.select(User.email, UserSession.ended_why).join(UserSession.user)).all())
    assert why == {"director@demo.test": "deactivated", "auditor@demo.test": "password"}
    assert director.client.get("/director/").status_code == 302
    assert auditor.client.get("/auditor/").status_code == 302


def test_lifetimes_come_from_the_environment(monkeypatch, tmp_path):
    from audit.config import ConfigError, from_environment

    monkeypatch.setenv("SESSION_IDLE_MINUTES", "30")
    monkeypatch.setenv("SESSION_MAX_HOURS", "8")
    monkeypatch.setenv("TRUSTED_PROXIES", "1")
    config = from_environment(str(tmp_path))
    assert (config["SESSION_IDLE_MINUTES"], config["SESSION_MAX_HOURS"], config["TRUSTED_PROXIES"]) == (30, 8, 1)
    monkeypatch.setenv("TRUSTED_PROXIES", "yes")
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES must be a whole number"):
        from_environment(str(tmp_path))
