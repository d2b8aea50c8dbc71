"""A real server for tests that need real concurrency: gunicorn serving the app on a test database.

The test client runs one request at a time in the test's own thread, so it can never show a race
between two requests. These helpers start the app as production does (gunicorn, several worker
processes with threads each; see bench/load.py), on the test's own database (a SQLite file or a
fresh PostgreSQL database, as conftest.py makes them), and talk to it over HTTP with nothing but
the standard library. The `live_server` fixture (conftest.py) yields one for a demo database.
"""

from __future__ import annotations

import html
import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


@dataclass(frozen=True)
class LiveServer:
    port: int
    log: Path

    def errors(self) -> str:
        """What the server logged as failures (tracebacks); empty when every request went well."""
        text = self.log.read_text() if self.log.exists() else ""
        return text if "Traceback" in text else ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gunicorn(database_url: str, tmp_path: Path, workers: int = 2, threads: int = 4,
             env: dict[str, str] | None = None) -> Iterator[LiveServer]:
    """gunicorn serving the app on 127.0.0.1 against `database_url`, stopped afterwards; `env` adds settings."""
    port, log = free_port(), tmp_path / "gunicorn.log"
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "live-test-secret",
           "EVIDENCE_DIR": str(tmp_path / "evidence"), "RUBRICS_DIR": str(ROOT / "rubrics"), **(env or {})}
    command = [sys.executable, "-m", "gunicorn", "audit:create_app()", "--bind", f"127.0.0.1:{port}",
               "--worker-class", "gthread", "--workers", str(workers), "--threads", str(threads),
               "--error-logfile", str(log), "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    server = LiveServer(port, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if Browser(server).get("/login").status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer within 60 s")
            time.sleep(0.2)
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ask a server process to stop, and reap it; kill it if it will not."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass(frozen=True)
class Page:
    status: int
    location: str
    text: str

    @property
    def path(self) -> str:
        """Where a redirect points, as a browser asks for it: without the host and the #fragment."""
        parts = urlsplit(self.location)
        return parts.path + (f"?{parts.query}" if parts.query else "")


class Browser:
    """One visitor: a cookie jar and plain requests that do not follow redirects."""

    def __init__(self, server: LiveServer):
        self.server = server
        self.cookies: dict[str, str] = {}
        self._lock = threading.Lock()

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Page:
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
            with self._lock:
                for header in response.headers.get_all("Set-Cookie") or []:
                    name, _, rest = header.partition("=")
                    self.cookies[name.strip()] = rest.split(";", 1)[0]
            return Page(response.status, response.headers.get("Location", ""), text)
        finally:
            connection.close()

    def get(self, path: str) -> Page:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str]) -> Page:
        return self.request("POST", path, form)

    def login(self, email: str, password: str, language: str = "en") -> None:
        page = self.get("/login")
        answer = self.post("/login", {"email": email, "password": password, "csrf_token": csrf_token(page.text)})
        assert answer.status == 302, f"login as {email} failed: {answer.status}"
        self.get(f"/lang/{language}")


def csrf_token(page: str) -> str:
    found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def form_fields(page: str, action: str) -> dict[str, str]:
    """The hidden fields of the page's form that posts to `action`, as a browser would send them."""
    found = re.search(r'<form[^>]*action="' + re.escape(action) + r'"[^>]*>(.*?)</form>', page, re.S)
    assert found, f"no form posting to {action}"
    fields = {}
    for tag in re.findall(r"<input[^>]*>", found.group(1)):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and 'type="hidden"' in tag:
            fields[name.group(1)] = html.unescape(value.group(1)) if value else ""
    return fields


def all_at_once(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Run the calls in threads released together by a barrier, as a double click or a retry storm does."""
    barrier = threading.Barrier(len(calls))
    results: list[T | BaseException | None] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except BaseException as error:  # re-raised in the test's thread below
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results  # type: ignore[return-value]
