"""Password guessing is slowed down per account and per address; a new password ends other sessions."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from audit import login_guard
from audit.extensions import db
from audit.models import LoginThrottle, User

from .conftest import Auth


def test_an_account_pauses_after_five_failures_even_for_the_right_password(demo_app, demo_client):
    auth = Auth(demo_client)
    for _ in range(login_guard.ACCOUNT_LIMIT):
        assert auth.login("auditor@demo.test", "wrong-password").status_code == 200
    blocked = auth.login("auditor@demo.test")
    assert blocked.status_code == 429
    assert "Zbyt wiele" in blocked.get_data(as_text=True) or "Too many" in blocked.get_data(as_text=True)
    assert Auth(demo_app.test_client()).login("auditor2@demo.test").status_code == 302  # other accounts log in
    with demo_app.app_context():  # the window passes
        row = db.session.get(LoginThrottle, "account:auditor@demo.test")
        row.window_start -= login_guard.WINDOW + timedelta(seconds=1)
        db.session.commit()
    assert auth.login("auditor@demo.test").status_code == 302


def test_a_success_clears_the_accounts_failures(demo_app):
    auth = Auth(demo_app.test_client())
    for _ in range(login_guard.ACCOUNT_LIMIT - 1):
        auth.login("Auditor@Demo.test", "nope")
    assert auth.login("auditor@demo.test").status_code == 302
    with demo_app.app_context():
        assert db.session.get(LoginThrottle, "account:auditor@demo.test") is None


def test_an_address_pauses_after_many_failures_over_many_accounts(demo_app):
    with demo_app.app_context():
        limits = login_guard.keys("someone@example.org", "10.0.0.7")
        for n in range(login_guard.ADDRESS_LIMIT):
            login_guard.failed(login_guard.keys(f"guess{n}@example.org", "10.0.0.7"))
        assert login_guard.wait_needed(limits) is not None
        assert login_guard.wait_needed(login_guard.keys("someone@example.org", "10.0.0.8")) is None


def test_a_new_password_ends_every_other_session(demo_app):
    phone, laptop = Auth(demo_app.test_client()), Auth(demo_app.test_client())
    phone.login("auditor@demo.test")
    laptop.login("auditor@demo.test")
    assert phone.client.get("/auditor/").status_code == 200
    with demo_app.app_context():
        user = db.session.scalar(sa.select(User).filter_by(email="auditor@demo.test"))
        user.set_password("a brand new passphrase")
        db.session.commit()
    assert phone.client.get("/auditor/").status_code == 302  # back to the login page
    assert laptop.client.get("/auditor/").status_code == 302
    assert phone.login("auditor@demo.test", "a brand new passphrase").status_code == 302
    assert phone.client.get("/auditor/").status_code == 200
