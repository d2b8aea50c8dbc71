"""The production set-up in deploy/, started for real: nginx (deploy/nginx-audit.conf) in front of
gunicorn (deploy/gunicorn.conf.py), on a migrated SQLite database.

Issue 12, finding 10: connections that send their headers and half a POST body, then stall,
hold gunicorn's threads until the body comes, which is never. 24 of them freeze a bare
`gunicorn -w 2 --threads 4` (eight threads); behind nginx, which reads every request whole
before passing it on, the same 24 wait in nginx and the login page still answers.

The configuration files are the shipped ones, with only the ports, the certificate and the
upstream address changed for the test (each replaced string must be found exactly once, so an
edit of the shipped file that the test no longer matches fails here instead of testing
something else). nginx runs in the foreground with its pid, logs and temporary files in the
test's folder. A missing nginx or openssl fails with what to install, never a skip.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from audit.config import from_environment

from .conftest import ROOT
from .live_server import free_port, stop

DEPLOY = ROOT / "deploy"
STALLED = 24  # connections that send half a body and stall: three per thread of a bare 2 x 4 gunicorn
MOST_STALLED = 48  # what nginx is shown to absorb, and more than a bare gunicorn ever needed to freeze
DEADLINE_S = 10.0  # a login page not answered within this is frozen (it normally takes milliseconds)
PROMPT_S = 5.0
"""Behind nginx, the login page answers within this while uploads stall. It must be well under nginx's
client_body_timeout: then nginx drops the stalled uploads, which would free gunicorn's threads even
if they had been passed on unbuffered, and an answer would prove nothing."""
MiB = 1024 * 1024

pytestmark = pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")),
                                reason="the web front is tested on the SQLite pass; its database is not the point")


def system_binary(name: str, package: str) -> str:
    found = shutil.which(name) or next((str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name)
                                        if p.exists()), None)
    if found is None:
        pytest.fail(f"{name} is missing: run `make test` (it installs it) or apt-get install {package}")
    return found


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}:\n"
                               f"{log.read_text()[-3000:] if log.exists() else ''}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing listens on {port} after {seconds:g} s")
        time.sleep(0.1)


@contextlib.contextmanager
def running(command: list[str], log: Path, port: int, **popen) -> Iterator[subprocess.Popen[bytes]]:
    """A server process, until it listens on port; terminated (and reaped) afterwards."""
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, **popen)
    try:
        wait_for_port(port, process, log)
        yield process
    finally:
        stop(process)


def migrated_database(tmp: Path) -> dict[str, str]:
    """The app's environment in production mode, on a SQLite file made by `flask db upgrade`."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp / 'audit.db'}", "SECRET_KEY": "deploy-test-secret",
           "AUDIT_ENV": "production", "EVIDENCE_DIR": str(tmp / "evidence"), "FLASK_APP": "audit"}
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    return env


def gunicorn(env: dict[str, str], tmp: Path, port: int, *options: str):
    log = tmp / f"gunicorn-{port}.log"
    command = [sys.executable, "-m", "gunicorn", *options, "--bind", f"127.0.0.1:{port}", "--error-logfile", str(log)]
    return running(command, log, port, cwd=ROOT, env=env)


# --- nginx with the shipped site file -------------------------------------------------------------


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"deploy/nginx-audit.conf no longer has exactly one {old!r}: update tests/test_deploy.py"
    return text.replace(old, new)


SERVER_NAME = re.search(r"server_name (\S+);", (DEPLOY / "nginx-audit.conf").read_text())[1]  # type: ignore[index]


def render_site(tmp: Path, http_port: int, https_port: int, app_port: int) -> Path:
    """The shipped site file with the test's ports, certificate and gunicorn address."""
    site = (DEPLOY / "nginx-audit.conf").read_text()
    site = replace_once(site, "    listen 80;\n", f"    listen 127.0.0.1:{http_port};\n")
    site = replace_once(site, "    listen [::]:80;\n", "")
    site = replace_once(site, "    listen 443 ssl http2;\n", f"    listen 127.0.0.1:{https_port} ssl http2;\n")
    site = replace_once(site, "    listen [::]:443 ssl http2;\n", "")
    site = replace_once(site, "server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};")
    site = replace_once(site, "/etc/ssl/audit/fullchain.pem", str(tmp / "cert.pem"))
    site = replace_once(site, "/etc/ssl/audit/privkey.pem", str(tmp / "key.pem"))
    path = tmp / "audit.conf"
    path.write_text(site)
    return path


def self_signed_certificate(tmp: Path) -> Path:
    openssl = system_binary("openssl", "openssl")
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(tmp / "key.pem"), "-out", str(tmp / "cert.pem"), "-days", "2",
                    "-subj", f"/CN={SERVER_NAME}", "-addext", f"subjectAltName=DNS:{SERVER_NAME}"],
                   check=True, capture_output=True)
    return tmp / "cert.pem"


def nginx_main_config(tmp: Path, site: Path) -> Path:
    """What Debian's /etc/nginx/nginx.conf gives the site file, with every path in the test's folder."""
    temp = {name: tmp / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for folder in temp.values():
        folder.mkdir()
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers as root here: the test folder is private
    path = tmp / "nginx.conf"
    path.write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {tmp / 'nginx.pid'};\nerror_log {tmp / 'nginx-error.log'} warn;\n"
        "events { worker_connections 1024; }\n"
        "http {\n"
        f"    access_log {tmp / 'nginx-access.log'};\n"
        + "".join(f"    {name}_temp_path {folder};\n" for name, folder in temp.items())
        + f"    include {site};\n}}\n")
    return path


@dataclass(frozen=True)
class Production:
    http_port: int
    https_port: int
    tls: ssl.SSLContext
    gunicorn_access_log: Path


@pytest.fixture(scope="module")
def production(tmp_path_factory) -> Iterator[Production]:
    nginx = system_binary("nginx", "nginx")
    tmp = tmp_path_factory.mktemp("deploy")
    env = migrated_database(tmp)
    tls = ssl.create_default_context(cafile=str(self_signed_certificate(tmp)))
    app_port, http_port, https_port = free_port(), free_port(), free_port()
    access = tmp / "gunicorn-access.log"
    config = nginx_main_config(tmp, render_site(tmp, http_port, https_port, app_port))
    with gunicorn(env, tmp, app_port, "--config", str(DEPLOY / "gunicorn.conf.py"), "--access-logfile", str(access),
                  "--access-logformat", "%(r)s|%({host}i)s|%({x-forwarded-for}i)s|%({x-forwarded-proto}i)s"), \
            running([nginx, "-p", str(tmp), "-c", str(config), "-e", str(tmp / "nginx-error.log")],
                    tmp / "nginx-error.log", https_port):
        answering(https_port, tls)
        yield Production(http_port, https_port, tls, access)


# --- the client side ------------------------------------------------------------------------------


def connect(port: int, tls: ssl.SSLContext | None) -> socket.socket:
    raw = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_S)
    return tls.wrap_socket(raw, server_hostname=SERVER_NAME) if tls else raw


def stall_uploads(port: int, count: int, tls: ssl.SSLContext | None = None) -> list[socket.socket]:
    """Connections that announce a 1,000-byte form, send 500 bytes of it, and go quiet.

    They arrive 20 ms apart, as an attacker's do over a network: sent all at once, one gunicorn
    worker's accept loop can take nearly all of them and leave the other worker's threads free.
    """
    half = b"email=someone%40example.org&password=" + b"x" * (500 - 37)
    head = (f"POST /login HTTP/1.1\r\nHost: {SERVER_NAME}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {2 * len(half)}\r\n\r\n").encode()
    stalled = []
    try:
        for _ in range(count):
            conn = connect(port, tls)
            stalled.append(conn)
            conn.sendall(head + half)
            time.sleep(0.02)
    except BaseException:
        for conn in stalled:
            conn.close()
        raise
    time.sleep(0.2)  # the last ones have reached a worker's thread (or nginx)
    return stalled


class ToServerName(http.client.HTTPConnection):
    """HTTPS to 127.0.0.1, checking the certificate against SERVER_NAME (as a browser would the real name)."""

    tls: ssl.SSLContext

    def connect(self) -> None:
        self.sock = connect(self.port, self.tls)


def get(port: int, path: str, tls: ssl.SSLContext | None = None, timeout: float = DEADLINE_S,
        headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    conn = (ToServerName if tls else http.client.HTTPConnection)("127.0.0.1", port, timeout=timeout)
    if tls:
        conn.tls = tls  # type: ignore[attr-defined]
    try:
        conn.request("GET", path, headers={"Host": SERVER_NAME, **(headers or {})})
        response = conn.getresponse()
        response.read()
        return response
    finally:
        conn.close()


def answering(port: int, tls: ssl.SSLContext | None = None) -> None:
    """Wait until the login page answers (gunicorn listens before its workers have loaded the app),
    then ask a few more times so that both workers have drawn their first page."""
    deadline = time.monotonic() + 60
    while True:
        with contextlib.suppress(OSError, http.client.HTTPException):
            if get(port, "/login", tls).status == 200:
                break
        if time.monotonic() > deadline:
            raise RuntimeError("the login page did not answer within 60 s")
        time.sleep(0.2)
    for _ in range(6):
        assert get(port, "/login", tls).status == 200


# --- the tests ------------------------------------------------------------------------------------


def test_stalled_uploads_freeze_a_bare_gunicorn(tmp_path):
    """Why nginx is in front: half-sent bodies hold the eight threads of `gunicorn -w 2 --threads 4`.

    24 have frozen it in every run here; should the kernel ever hand them to the two workers so
    unevenly that a thread stays free, 8 more at a time are added, up to MOST_STALLED.
    """
    env = migrated_database(tmp_path)
    port = free_port()
    stalled: list[socket.socket] = []
    with gunicorn(env, tmp_path, port, "--worker-class", "gthread", "--workers", "2", "--threads", "4",
                  "audit:create_app()"):
        try:
            answering(port)
            stalled += stall_uploads(port, STALLED)
            while not frozen(port):
                assert len(stalled) < MOST_STALLED, f"{len(stalled)} stalled uploads did not freeze gunicorn"
                stalled += stall_uploads(port, 8)
        finally:
            for conn in stalled:
                conn.close()
        assert get(port, "/login").status == 200  # it was the stalled uploads, not a dead server


def frozen(port: int) -> bool:
    """The login page, which takes milliseconds, is not answered within 3 s."""
    try:
        get(port, "/login", timeout=3.0)
    except TimeoutError:
        return True
    return False


def test_stalled_uploads_wait_in_nginx_and_the_login_page_still_answers(production):
    body_timeout = re.search(r"client_body_timeout (\d+)s;", (DEPLOY / "nginx-audit.conf").read_text())
    assert body_timeout and int(body_timeout[1]) / 2 >= PROMPT_S
    stalled = stall_uploads(production.https_port, MOST_STALLED, production.tls)
    try:
        began = time.monotonic()
        try:
            response = get(production.https_port, "/login", production.tls, timeout=PROMPT_S)
        except TimeoutError:
            pytest.fail(f"the login page behind nginx was not answered within {PROMPT_S:g} s")
        assert response.status == 200
        assert time.monotonic() - began < PROMPT_S, "answered only once nginx had dropped the stalled uploads"
        for conn in stalled:  # still held open by nginx, waiting for the rest of their bodies
            conn.setblocking(False)
            with pytest.raises((BlockingIOError, ssl.SSLWantReadError)):
                conn.recv(1)
    finally:
        for conn in stalled:
            conn.close()


def test_nginx_passes_the_client_address_scheme_and_host_to_gunicorn(production):
    """The facts the app trusts with TRUSTED_PROXIES=1: nginx appends the address it saw to any forged one."""
    response = get(production.https_port, "/login?forwarded", production.tls, headers={"X-Forwarded-For": "203.0.113.9"})
    assert response.status == 200
    time.sleep(0.2)  # the access log is written after the answer
    line = next(line for line in production.gunicorn_access_log.read_text().splitlines() if "/login?forwarded" in line)
    assert line.split("|")[1:] == [SERVER_NAME, "203.0.113.9, 127.0.0.1", "https"]


def test_plain_http_is_sent_to_https(production):
    response = get(production.http_port, "/login?next=/organiser/")
    assert response.status == 301
    assert response.headers["Location"] == f"https://{SERVER_NAME}/login?next=/organiser/"


def test_nginx_takes_bodies_up_to_the_apps_own_limit_and_refuses_larger_at_once(production, tmp_path):
    limit = from_environment(str(tmp_path))["MAX_CONTENT_LENGTH"]
    declared = re.search(r"client_max_body_size (\d+)m;", (DEPLOY / "nginx-audit.conf").read_text())
    assert declared and int(declared[1]) * MiB == limit
    conn = connect(production.https_port, production.tls)
    try:  # headers only: nginx answers from the Content-Length before any of the body is sent
        conn.sendall(f"POST /login HTTP/1.1\r\nHost: {SERVER_NAME}\r\nContent-Length: {limit + 1}\r\n\r\n".encode())
        assert conn.recv(64).startswith(b"HTTP/1.1 413")
    finally:
        conn.close()
