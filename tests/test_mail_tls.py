"""SMTP over TLS: STARTTLS on 587 and TLS from the first byte on 465, with a login, against a real
aiosmtpd server holding a self-signed certificate made by the test (the openssl binary).

The app trusts that certificate only through SMTP_CA_FILE, as production trusts a private
authority; without it, or with a wrong password, the message waits and Sent mail shows why.
"""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from audit import outbox
from audit.extensions import db
from audit.models import MailMessage

from .live_server import free_port
from .test_mail import PUBLIC_URL, Inbox, return_a_contact

USER, PASSWORD = "audyt", "tajne-haslo-1"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (cert.pem, key.pem)."""
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def _authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() and \
        auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)  # not handled: the server answers 535 itself


@contextmanager
def tls_server(port: int, inbox: Inbox, certificate: tuple[Path, Path], implicit: bool) -> Iterator[Inbox]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    if implicit:  # TLS from the first byte; aiosmtpd counts only STARTTLS as "TLS" for AUTH, hence False
        controller = Controller(inbox, hostname="127.0.0.1", port=port, ssl_context=context,
                                server_hostname="localhost", authenticator=_authenticator, auth_required=True,
                                auth_require_tls=False)
    else:
        controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                                authenticator=_authenticator, auth_required=True, auth_require_tls=True)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def tls_app(demo_app, certificate):
    demo_app.config.update(PUBLIC_URL=PUBLIC_URL, SMTP_HOST="localhost", SMTP_USER=USER, SMTP_PASSWORD=PASSWORD,
                           SMTP_CA_FILE=str(certificate[0]), SMTP_TIMEOUT=5, MAIL_FROM="Audyt <audyt@example.org>")
    return demo_app


def _deliver(app) -> tuple[str, str | None]:
    with app.app_context():
        outbox.deliver_due()
        message = db.session.scalar(sa.select(MailMessage).order_by(MailMessage.id.desc()))
        assert message is not None
        return message.status, message.last_error


IMPLICIT_TLS_AUTH = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # see tls_server


@IMPLICIT_TLS_AUTH
@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_a_message_goes_over_tls_with_a_login(tls_app, certificate, security):
    port = free_port()
    tls_app.config.update(SMTP_SECURITY=security, SMTP_PORT=port)
    _, address = return_a_contact(tls_app)
    with tls_server(port, Inbox(), certificate, implicit=security == "ssl") as inbox:
        assert _deliver(tls_app) == ("sent", None)
    assert [m["To"] for m in inbox.received] == [address]
    assert "Kontakt wrócił do poprawy" in inbox.received[0]["Subject"]


@IMPLICIT_TLS_AUTH
@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_an_untrusted_certificate_keeps_the_message_waiting_with_the_reason(tls_app, certificate, security):
    port = free_port()
    tls_app.config.update(SMTP_SECURITY=security, SMTP_PORT=port, SMTP_CA_FILE=None)  # the system's authorities only
    return_a_contact(tls_app)
    with tls_server(port, Inbox(), certificate, implicit=security == "ssl") as inbox:
        status, error = _deliver(tls_app)
    assert status == "waiting" and "CERTIFICATE_VERIFY_FAILED" in (error or "")
    assert inbox.received == []


def test_a_wrong_password_keeps_the_message_waiting_with_the_servers_answer(tls_app, certificate, auth):
    """A refused login is the server's set-up, not the message's fault: it is retried, and Sent mail says why."""
    port = free_port()
    tls_app.config.update(SMTP_SECURITY="starttls", SMTP_PORT=port, SMTP_PASSWORD="wrong")
    return_a_contact(tls_app)
    with tls_server(port, Inbox(), certificate, implicit=False) as inbox:
        status, error = _deliver(tls_app)
    assert status == "waiting" and (error or "").startswith("535 ")
    assert inbox.received == []
    auth.as_role("organiser")
    page = auth.client.get("/organiser/mail").get_data(as_text=True)
    assert "535 5.7.8 Authentication credentials invalid" in page and "Czeka" in page


def test_a_server_without_starttls_is_refused_rather_than_sent_in_clear(tls_app):
    from .test_mail import smtp_server

    port = free_port()
    tls_app.config.update(SMTP_SECURITY="starttls", SMTP_PORT=port, SMTP_HOST="127.0.0.1")
    return_a_contact(tls_app)
    with smtp_server(port, Inbox()) as inbox:  # a plain server: no STARTTLS offered
        status, error = _deliver(tls_app)
    assert status == "waiting" and "STARTTLS" in (error or "")
    assert inbox.received == []


def test_a_login_smtplib_cannot_send_is_refused_at_start_up(monkeypatch):
    from audit.config import ConfigError, mail_settings

    monkeypatch.setenv("SMTP_HOST", "smtp.example.org")
    monkeypatch.setenv("PUBLIC_URL", PUBLIC_URL)
    monkeypatch.setenv("SMTP_PASSWORD", "zażółć")
    with pytest.raises(ConfigError, match="ASCII"):
        mail_settings(production=False)
    monkeypatch.setenv("SMTP_PASSWORD", "zazolc")
    assert mail_settings(production=False)["SMTP_PASSWORD"] == "zazolc"
