"""Password guessing is slowed per (account, address) and by ceilings that never lock anyone out;
the count holds under parallel requests; login takes the same work whether or not an account exists."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa

from audit import accounts, login_guard
from audit.extensions import db
from audit.models import LoginThrottle, User, UserSession, utcnow

from .conftest import Auth
from .live_server import Browser, Page, all_at_once, csrf_token

PAIR_KEY = "pair:auditor@demo.test|{}"


def from_address(app, address: str) -> Auth:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return Auth(client)


def age(app, key: str, by: timedelta) -> None:
    """Move a count's last attempt into the past, as if that much time had passed."""
    with app.app_context():
        row = db.session.get(LoginThrottle, key)
        row.last_at -= by
        db.session.commit()


def failures(app, key: str) -> int | None:
    with app.app_context():
        row = db.session.get(LoginThrottle, key)
        return row.failures if row else None


def test_parallel_guesses_are_counted_one_by_one_and_never_fail(demo_app, live_server):
    """24 wrong passwords at once for one account from one address, against gunicorn: exactly the
    five free ones are checked, all five are counted, every other answer is a calm 429, never a 500."""
    visitors = [Browser(live_server) for _ in range(24)]
    tokens = [csrf_token(v.get("/login").text) for v in visitors]

    def guess(n: int) -> Callable[[], Page]:
        return lambda: visitors[n].post("/login", {"email": "auditor@demo.test", "password": f"guess-{n}",
                                                   "csrf_token": tokens[n]})

    statuses = sorted(page.status for page in all_at_once([guess(n) for n in range(len(visitors))]))
    assert statuses == [200] * login_guard.PAIR.free + [429] * (24 - login_guard.PAIR.free), statuses
    assert failures(demo_app, PAIR_KEY.format("127.0.0.1")) == login_guard.PAIR.free
    right = visitors[0].post("/login", {"email": "auditor@demo.test", "password": "demo", "csrf_token": tokens[0]})
    assert right.status == 429  # paused: the right password is not even checked
    assert live_server.errors() == ""


def test_a_guesser_elsewhere_does_not_lock_the_real_user_out(demo_app):
    guesser = from_address(demo_app, "203.0.113.9")
    for _ in range(12):
        guesser.login("auditor@demo.test", "wrong-password")
    assert guesser.login("auditor@demo.test").status_code == 429
    assert from_address(demo_app, "198.51.100.4").login("auditor@demo.test").status_code == 302


def test_waits_grow_after_the_free_attempts_then_the_count_is_forgotten(demo_app):
    auth, key = from_address(demo_app, "192.0.2.1"), PAIR_KEY.format("192.0.2.1")
    for _ in range(login_guard.PAIR.free):
        assert auth.login("auditor@demo.test", "wrong-password").status_code == 200
    paused = auth.login("auditor@demo.test", "wrong-password")
    assert paused.status_code == 429
    assert "1 minut" in paused.get_data(as_text=True)  # "Spróbuj ponownie za 1 minutę"
    age(demo_app, key, timedelta(seconds=61))
    assert auth.login("auditor@demo.test", "wrong-password").status_code == 200  # one more, then a longer wait
    assert "2 minuty" in auth.login("auditor@demo.test", "wrong-password").get_data(as_text=True)
    assert failures(demo_app, key) == login_guard.PAIR.free + 1  # refused attempts count nowhere
    assert [login_guard.PAIR.wait_after(n) for n in range(5, 11)] == [
        timedelta(minutes=m) for m in (1, 2, 4, 8, 15, 15)]
    age(demo_app, key, login_guard.FORGET_AFTER)
    assert auth.login("auditor@demo.test", "wrong-password").status_code == 200
    assert failures(demo_app, key) == 1


def test_a_success_clears_its_pair_and_gives_its_attempt_back(demo_app):
    auth = from_address(demo_app, "192.0.2.2")
    for _ in range(login_guard.PAIR.free - 1):
        auth.login("Auditor@Demo.test", "nope")
    assert auth.login("auditor@demo.test").status_code == 302
    assert failures(demo_app, PAIR_KEY.format("192.0.2.2")) is None
    assert failures(demo_app, "account:auditor@demo.test") == login_guard.PAIR.free - 1


def set_count(app, key: str, count: int) -> None:
    with app.app_context():
        db.session.merge(LoginThrottle(key=key, failures=count, last_at=utcnow()))
        db.session.commit()


def test_the_account_ceiling_slows_strangers_and_spares_a_known_browser(demo_app):
    known = from_address(demo_app, "192.0.2.3")
    assert known.login("auditor@demo.test").status_code == 302  # this browser now knows the account
    known.client.get("/")  # then the session ends (a cookie jar keeps the known-device cookie)
    with demo_app.app_context():
        db.session.execute(sa.update(UserSession).values(ended_at=utcnow()))
        db.session.commit()
    set_count(demo_app, "account:auditor@demo.test", login_guard.ACCOUNT.free)  # a botnet's guesses
    stranger = from_address(demo_app, "192.0.2.4")
    assert stranger.login("auditor@demo.test").status_code == 429
    assert known.login("auditor@demo.test").status_code == 302
    age(demo_app, "account:auditor@demo.test", login_guard.ACCOUNT.max_wait + timedelta(seconds=1))
    assert stranger.login("auditor@demo.test").status_code == 302  # slowed, never locked


def test_the_address_ceiling_slows_spraying_over_many_accounts(demo_app):
    set_count(demo_app, "address:192.0.2.5", login_guard.ADDRESS.free)
    assert from_address(demo_app, "192.0.2.5").login("director@demo.test").status_code == 429
    assert from_address(demo_app, "192.0.2.6").login("director@demo.test").status_code == 302


def test_forwarded_addresses_are_believed_only_from_configured_proxies(demo_app, tmp_path):
    forwarded = {"X-Forwarded-For": "198.51.100.77"}
    client = demo_app.test_client()
    client.environ_base.update(REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR=forwarded["X-Forwarded-For"])
    Auth(client).login("auditor@demo.test", "wrong")
    assert failures(demo_app, PAIR_KEY.format("10.1.1.1")) == 1  # the header is anyone's to write
    assert failures(demo_app, PAIR_KEY.format("198.51.100.77")) is None

    from audit import create_app

    behind_proxy = create_app({**demo_app.config, "TRUSTED_PROXIES": 1, "INSTANCE_PATH": str(tmp_path / "p")})
    client = behind_proxy.test_client()
    client.environ_base.update(REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR=forwarded["X-Forwarded-For"])
    Auth(client).login("auditor@demo.test", "wrong")
    assert failures(demo_app, PAIR_KEY.format("198.51.100.77")) == 1


def test_login_does_the_same_password_work_whether_or_not_the_account_exists(demo_app, monkeypatch):
    """One scrypt check of the same cost for an unknown e-mail, a deactivated account and a wrong
    password: timing tells nobody which addresses have accounts."""
    checked: list[str] = []
    real = accounts.check_password_hash

    def spy(stored: str, password: str) -> bool:
        checked.append(stored.split("$")[0])  # the method and its cost, e.g. scrypt:32768:8:1
        return real(stored, password)

    monkeypatch.setattr(accounts, "check_password_hash", spy)
    with demo_app.app_context():
        db.session.execute(sa.update(User).where(User.email == "auditor2@demo.test").values(active=False))
        db.session.commit()
    for email, password in [("auditor@demo.test", "wrong"), ("nobody@example.org", "wrong"),
                            ("auditor2@demo.test", "demo"), ("auditor@demo.test", "demo")]:
        from_address(demo_app, f"192.0.2.{len(checked) + 10}").login(email, password)
    assert len(checked) == 4
    assert len(set(checked)) == 1, checked


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
