"""The load check: 50 auditors submitting complete contacts to gunicorn, then a count of what was stored.

A throwaway database is seeded with 50 auditors, a fieldwork edition on the real rubrics and
enough assignments that every submission makes a new contact. gunicorn serves the app on
127.0.0.1; 50 virtual auditors (threads, plain http.client) each log in once, then post complete
contacts as the phone's form does (action=submit, a fresh client id, every visible criterion
answered, the channel's facts) for BENCH_LOAD_SECONDS (60 by default), at BENCH_LOAD_RATE
submissions a second between them (165: the budget and a tenth). About one submission in twenty
is sent twice with the same client id: half after its answer (a reply lost on the way back), half
at the same moment on a second connection (a double tap racing itself). Afterwards the database
is read directly: every client id stored exactly once, as a submitted contact with all its
answers, one journal entry each, no kept copy; and no request may have failed.

Why a paced load and not 50 auditors posting as fast as they can: with 50 requests always in
flight, latency is 50 / throughput whatever the server (Little's law), so "150/s with p95 under
200 ms" could never both hold (50 / 150 = 333 ms on average). A schedule offers a fixed rate; a
server that keeps up answers each submission quickly, one that does not falls behind, and its
latency, counted from when each submission was due, grows for everyone to see.

Which database the budget applies to: PostgreSQL, the production database. `make bench` starts
a throwaway PostgreSQL server (as scripts/with-postgres.sh does, but with the server's default
durability: fsync and synchronous commit on) when Debian's postgresql binaries are installed;
BENCH_DATABASE_URL names another PostgreSQL server instead (a database is created on it and
dropped after), or "sqlite" for a SQLite file. SQLite figures are printed without a budget, since
production does not run on it. The budget: 150 submissions/s with p95 under 200 ms on 2 cores,
which also run the database and the load generator; a row shows the CPU each submission costs
and how much of the machine other processes took meanwhile.
"""

from __future__ import annotations

import contextlib
import html
import http.client
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from .report import Row

ROOT = Path(__file__).resolve().parent.parent
AUDITORS = 50
INSTITUTIONS = 120
BUDGET_PER_SECOND = 150.0
BUDGET_P95_MS = 200.0
OFFERED_PER_SECOND = 165.0
"""The pace the auditors keep between them: the budget and a tenth, so that keeping up proves "150 or more"."""
RETRY_EVERY = 20  # one submission in twenty is sent twice with the same client id
TIMEOUT_S = 30.0  # a request slower than this counts as failed
PASSWORD = "bench-load"
# The channel mix of a real edition (demo.CONTACTS_PER_CHANNEL): phone calls are the most frequent.
CHANNEL_MIX = ("visit", "phone", "email", "visit", "phone", "social", "email", "phone", "website")
FACTS = {
    "visit": {"f_contacted_at": "2026-11-20T10:15", "f_wait_minutes": "4"},
    "phone": {"f_contacted_at": "2026-11-20T11:05", "f_rings": "3", "f_answer_seconds": "20",
              "f_transferred": "no", "f_call_minutes": "6,5"},
    "email": {"f_sent_at": "2026-11-18T09:00", "f_reply_at": "2026-11-19T14:30"},
    "social": {"f_platform": "facebook", "f_link": "https://www.facebook.com/osrodek", "f_sent_at": "2026-11-18T09:00",
               "f_reply_at": "2026-11-18T16:45"},
    "website": {"f_contacted_at": "2026-11-21T08:40"},
}
VARIANTS = 12  # answer sets per channel, so that scores differ between contacts
# gunicorn on 2 cores. Measured on the bench machine (PostgreSQL, 60 s, 50 auditors; see docs/operations.md):
# the app is CPU-bound in Python, so one process per core, and a few threads each keep a core busy while the
# other thread waits on the database. More processes than cores only add context switches; more threads per
# process queue behind the GIL and lengthen p95 without adding throughput.
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
THREADS = int(os.environ.get("BENCH_THREADS", "4"))
WORKER_CLASS = os.environ.get("BENCH_WORKER_CLASS", "gthread")


# --- the database -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    url: str
    label: str
    server_pid: int | None = None
    """The PostgreSQL server's main process when it runs here (to count its CPU time)."""

    @property
    def budgeted(self) -> bool:
        return self.url.startswith("postgresql")


@contextlib.contextmanager
def throwaway_database(tmp: Path) -> Iterator[Database]:
    """An empty database that disappears afterwards."""
    server = os.environ.get("BENCH_DATABASE_URL", "").strip()
    if server.startswith("sqlite"):
        yield Database(f"sqlite:///{tmp / 'load.db'}", "SQLite (BENCH_DATABASE_URL): no budget")
    elif server:
        with fresh_postgres_database(server) as url:
            yield Database(url, "PostgreSQL (BENCH_DATABASE_URL)")
    elif postgres_bin() is not None:
        with throwaway_postgres(tmp) as (url, pid):
            yield Database(url, "PostgreSQL (throwaway server)", pid)
    else:
        yield Database(f"sqlite:///{tmp / 'load.db'}", "SQLite (no PostgreSQL installed: no budget)")


def postgres_bin() -> Path | None:
    """The newest Debian PostgreSQL server binaries, as scripts/with-postgres.sh finds them."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    return found[-1].parent if found else None


@contextlib.contextmanager
def throwaway_postgres(tmp: Path) -> Iterator[tuple[str, int]]:
    """A PostgreSQL server in a temporary folder on a free loopback port, stopped afterwards."""
    bin_dir = postgres_bin()
    assert bin_dir is not None
    data = tmp / "pg"
    data.mkdir()
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(data, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run([*as_postgres, str(bin_dir / "initdb"), "-D", str(data / "data"), "-A", "trust", "-U", "postgres",
                    "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True)
    subprocess.run([*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data / "data"), "-l", str(data / "log"), "-w",
                    "-o", f"-k {data} -p {port} -c listen_addresses=127.0.0.1 -c max_connections=200", "start"],
                   check=True, capture_output=True)
    try:
        pid = int((data / "data" / "postmaster.pid").read_text().split()[0])
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", pid
    finally:
        subprocess.run([*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data / "data"), "-m", "fast", "-w", "stop"],
                       capture_output=True)


@contextlib.contextmanager
def fresh_postgres_database(server_url: str) -> Iterator[str]:
    """A new database on the given server, dropped afterwards (the server itself is left as found)."""
    url = make_url(re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", server_url))
    name = f"bench_load_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


# --- seeding ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What the virtual auditors do: who logs in, which assignments, which answers."""

    auditors: list[tuple[str, list[tuple[int, str]]]]
    """(e-mail, [(assignment id, channel), ...]) per auditor."""
    payloads: dict[str, list[dict[str, str]]]
    """Channel -> complete form bodies (without csrf_token and client_id)."""
    expected_answers: dict[tuple[str, int], int]
    """(channel, variant) -> answer rows a submission of that body stores."""
    campaign_id: int


def seed(url: str, tmp: Path, per_auditor: int) -> Plan:
    """Fill the empty database: rubrics, a fieldwork edition, institutions, auditors, assignments."""
    from werkzeug.security import generate_password_hash

    from audit import create_app, services
    from audit.demo import _latest_rubric_per_channel
    from audit.extensions import db
    from audit.models import Assignment, Campaign, CampaignChannel, Institution, User

    app = create_app({"INSTANCE_PATH": str(tmp / "instance"), "SECRET_KEY": "bench",
                      "SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": {"poolclass": NullPool}})
    with app.app_context():
        db.create_all()
        rubrics = _latest_rubric_per_channel(services.load_rubric_dir(app.config["RUBRICS_DIR"]))
        for rubric in rubrics.values():
            services.store_rubric(rubric)
        campaign = Campaign(name="Load check", year=2026, status="fieldwork", threshold=750.0)
        for position, channel in enumerate(rubrics):
            campaign.channels.append(CampaignChannel(channel=channel, rubric_hash=rubrics[channel].hash,
                                                     weight=1 / len(rubrics), position=position))
        db.session.add(campaign)
        password_hash = generate_password_hash(PASSWORD)  # one scrypt hash for all: scrypt is slow on purpose
        db.session.execute(sa.insert(User), [
            {"email": f"load{n:02d}@bench.test", "name": f"Load auditor {n}", "role": "auditor",
             "pseudonym": f"L-{n:02d}", "password_hash": password_hash} for n in range(1, AUDITORS + 1)])
        db.session.execute(sa.insert(Institution), [
            {"name": f"Ośrodek {n}", "category": "social_welfare", "city": f"Miasto {n}", "region": "śląskie",
             "channels": list(rubrics)} for n in range(1, INSTITUTIONS + 1)])
        db.session.flush()
        users = db.session.execute(sa.select(User.id, User.email).order_by(User.id)).all()
        institutions = db.session.scalars(sa.select(Institution.id).order_by(Institution.id)).all()
        rows = []
        for a, (user_id, _email) in enumerate(users):
            for k in range(per_auditor):
                channel = CHANNEL_MIX[(a + k) % len(CHANNEL_MIX)]
                rows.append({"campaign_id": campaign.id, "institution_id": institutions[(a * 7 + k) % len(institutions)],
                             "channel": channel, "auditor_id": user_id, "scenario": "Pytanie o dodatek mieszkaniowy."})
        db.session.execute(sa.insert(Assignment), rows)
        db.session.commit()
        assignments: dict[int, list[tuple[int, str]]] = {user_id: [] for user_id, _ in users}
        for assignment_id, auditor_id, channel in db.session.execute(
                sa.select(Assignment.id, Assignment.auditor_id, Assignment.channel).order_by(Assignment.id)):
            assignments[auditor_id].append((assignment_id, channel))
        payloads, expected = form_bodies(app, rubrics)
        return Plan([(email, assignments[user_id]) for user_id, email in users], payloads, expected, campaign.id)


def form_bodies(app, rubrics) -> tuple[dict[str, list[dict[str, str]]], dict[tuple[str, int], int]]:
    """Complete submissions per channel, checked in process against the app's own form and completeness rules."""
    from audit import fieldwork
    from audit.contact_form import answer_choices, form_class
    from audit.scoring import NOT_APPLICABLE

    rng = random.Random(2026)
    payloads: dict[str, list[dict[str, str]]] = {}
    expected: dict[tuple[str, int], int] = {}
    for channel, rubric in rubrics.items():
        payloads[channel] = []
        for variant in range(VARIANTS):
            body = {"action": "submit", "base_version": "", **FACTS[channel]}
            for c in rubric.criteria:
                if c.type == "number":
                    if c.fact is None:
                        body[f"a_{c.id}"] = str(rng.randrange(1, 6))
                    continue
                # Mostly good answers (a gate like "answered" or "replied" stays open), N/A now and then.
                choices = [v for v in answer_choices(c) if v != NOT_APPLICABLE]
                best = max(c.options, key=lambda o: o.points).id if c.options else "yes"
                body[f"a_{c.id}"] = best if rng.random() < 0.7 or c.id in GATES else rng.choice(choices)
                if c.na_allowed and rng.random() < 0.1:
                    body[f"a_{c.id}"] = NOT_APPLICABLE
            for c in rng.sample(rubric.criteria, 2):
                body[f"n_{c.id}"] = "Uwaga audytora: rozmowa uprzejma, informacja podana bez pośpiechu."
            client_id = str(uuid.uuid4())
            with app.test_request_context(method="POST", data={**body, "client_id": client_id}):
                form = form_class(rubric, channel)(meta={"csrf": False})
                assert form.validate(), (channel, form.errors)
                data = form.to_input()
                answers = fieldwork.engine_answers(rubric, channel, data)
                missing = fieldwork.missing_items(rubric, channel, data, answers)
                assert not missing, (channel, missing)
            expected[(channel, variant)] = len(set(answers) | set(data.comments))
            payloads[channel].append(body)
    return payloads, expected


GATES = {"answered", "replied", "routing", "transfer_fallback"}
"""Criteria that open others: always answered well, so that submissions have their full length."""


# --- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def gunicorn(url: str, tmp: Path) -> Iterator[tuple[int, int]]:
    """gunicorn serving the app on 127.0.0.1; yields its port and process id once it answers."""
    port = free_port()
    log = tmp / "gunicorn.log"
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-load-secret", "AUDIT_ENV": "production",
           "EVIDENCE_DIR": str(tmp / "evidence")}
    command = [sys.executable, "-m", "gunicorn", "audit:create_app()", "--bind", f"127.0.0.1:{port}",
               "--worker-class", WORKER_CLASS, "--workers", str(WORKERS), "--threads", str(THREADS),
               "--backlog", "256", "--error-logfile", str(log), "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                status, _, _ = request(port, "GET", "/login")
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer within 60 s")
            time.sleep(0.2)
        yield port, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        server_errors = log.read_text() if log.exists() else ""
        if "Traceback" in server_errors:
            print(f"gunicorn logged errors:\n{server_errors[-3000:]}", file=sys.stderr)


# --- the load generator -------------------------------------------------------------------------


def request(port: int, method: str, path: str, body: str | None = None,
            cookie: str = "") -> tuple[int, dict[str, str], str]:
    """One request on a new connection (as behind a proxy that does not keep upstream connections)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_S)
    try:
        send(conn, method, path, body, cookie)
        return receive(conn)
    finally:
        conn.close()


def send(conn: http.client.HTTPConnection, method: str, path: str, body: str | None, cookie: str) -> None:
    headers = {"Connection": "close", "User-Agent": "audit-load-check"}
    if cookie:
        headers["Cookie"] = cookie
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)


def receive(conn: http.client.HTTPConnection) -> tuple[int, dict[str, str], str]:
    response = conn.getresponse()
    text = response.read().decode("utf-8", "replace")
    headers = {k.lower(): v for k, v in response.getheaders() if k.lower() != "set-cookie"}
    cookies = [v.split(";", 1)[0] for k, v in response.getheaders() if k.lower() == "set-cookie"]
    if cookies:
        headers["set-cookie"] = "; ".join(cookies)
    return response.status, headers, text


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def login(port: int, email: str, first_form: str) -> tuple[str, str]:
    """Log in as the phone does; returns the session cookie and the session's CSRF token.

    Flask-WTF keeps one token per session (a signed copy of a value in the session), so the token
    of one form page is good for every form the auditor posts in that session; the login clears
    the session, so it is read from a page loaded after logging in.
    """
    status, headers, page = request(port, "GET", "/login")
    token, cookie = CSRF.search(page).group(1), headers.get("set-cookie", "")  # type: ignore[union-attr]
    status, headers, page = request(port, "POST", "/login", urlencode(
        {"email": email, "password": PASSWORD, "csrf_token": token}), cookie)
    if status != 302 or "set-cookie" not in headers:
        raise RuntimeError(f"login as {email} failed: HTTP {status} {page[:300]}")
    cookie = headers["set-cookie"]
    status, headers, page = request(port, "GET", first_form, cookie=cookie)
    found = CSRF.search(page)
    if status != 200 or found is None:
        raise RuntimeError(f"the form page {first_form} answered HTTP {status} without a CSRF token")
    return headers.get("set-cookie", cookie), found.group(1)


@dataclass
class Tally:
    """What one virtual auditor saw."""

    latencies: list[float] = field(default_factory=list)
    sent: dict[str, tuple[str, int, bool]] = field(default_factory=dict)
    """Client id -> (channel, payload variant, whether every request sending it was answered with the redirect
    home) of every submission."""
    retries: int = 0
    failures: list[str] = field(default_factory=list)
    ran_out: bool = False


@dataclass(frozen=True)
class Clock:
    start: float
    stop: float
    period: float
    """Seconds between one auditor's submissions."""


def auditor(port: int, session: tuple[str, str], work: list[tuple[int, str]], plan: Plan, number: int,
            ready: threading.Barrier, clock: list[Clock], tally: Tally) -> None:
    """Submit contacts on a fixed schedule until the time is up; every twentieth twice.

    The schedule is kept whatever the server does: a late answer makes the next submission leave at
    once, and its latency counts from when it was due, so a server falling behind shows as latency
    instead of hiding behind a slower pace. Nothing new leaves after the window, even if behind.
    """
    cookie, token = session
    ready.wait()
    due = clock[0].start + clock[0].period * number / AUDITORS  # the auditors take turns, evenly spread
    for k, (assignment_id, channel) in enumerate(work):
        if due >= clock[0].stop or time.perf_counter() >= clock[0].stop:
            return
        time.sleep(max(0.0, due - time.perf_counter()))
        variant = (number + k) % VARIANTS
        client_id = str(uuid.uuid4())
        body = urlencode({**plan.payloads[channel][variant], "client_id": client_id, "csrf_token": token})
        path = f"/auditor/assignments/{assignment_id}"
        retry = (number + k) % RETRY_EVERY == 0
        double_tap = retry and (number + k) // RETRY_EVERY % 2 == 0
        outcomes = post(port, path, body, cookie, tally, due, twice=double_tap)
        if retry and not double_tap:
            outcomes += post(port, path, body, cookie, tally, time.perf_counter())
        tally.retries += retry
        failed = [o for o in outcomes if o[0] != 302 or not o[1].endswith("/auditor/")]
        tally.failures += [f"{path}: HTTP {status} {detail}" for status, _location, detail in failed]
        tally.sent[client_id] = (channel, variant, not failed)
        due += clock[0].period
    tally.ran_out = True


FLASH = re.compile(r'<p class="flash [^"]*"[^>]*>([^<]*)</p>')


def post(port: int, path: str, body: str, cookie: str, tally: Tally, due: float,
         twice: bool = False) -> list[tuple[int, str, str]]:
    """POST the form (twice at the same moment on two connections for a double tap); time each from `due`.

    The answer is a redirect home; it is not followed, and its cookie (carrying the flashed
    "sent" message) is not kept, so the session stays the one made at login.
    """
    conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_S) for _ in range(2 if twice else 1)]
    outcomes = []
    try:
        for conn in conns:
            send(conn, "POST", path, body, cookie)
        for conn in conns:
            status, headers, text = receive(conn)
            tally.latencies.append(time.perf_counter() - due)
            flashed = [html.unescape(m) for m in FLASH.findall(text)]
            outcomes.append((status, headers.get("location", ""), " / ".join(flashed) or text[:200]))
    except (OSError, http.client.HTTPException) as exc:
        outcomes.append((0, "", f"{type(exc).__name__}: {exc}"))
    finally:
        for conn in conns:
            conn.close()
    return outcomes


@dataclass(frozen=True)
class LoadResult:
    seconds: float
    requests: int
    latencies: list[float]
    sent: dict[str, tuple[str, int, bool]]
    retries: int
    failures: list[str]
    ran_out: int


def log_in(port: int, plan: Plan) -> list[tuple[str, str]]:
    """Every virtual auditor's session cookie and CSRF token."""
    return [login(port, email, f"/auditor/assignments/{work[0][0]}") for email, work in plan.auditors]


def drive(port: int, plan: Plan, sessions: list[tuple[str, str]], seconds: float, rate: float) -> LoadResult:
    """Let the logged-in auditors submit `rate` contacts a second between them for `seconds`.

    Requests still in flight at the end are waited for; the rate reported is what was answered.
    """
    ready = threading.Barrier(len(plan.auditors) + 1)
    clock: list[Clock] = []
    tallies = [Tally() for _ in plan.auditors]
    threads = [threading.Thread(target=auditor, args=(port, session, work, plan, n, ready, clock, tally))
               for n, (session, (_email, work), tally) in enumerate(zip(sessions, plan.auditors, tallies, strict=True))]
    for thread in threads:
        thread.start()
    began = time.perf_counter() + 0.1
    clock.append(Clock(began, began + seconds, len(plan.auditors) / rate))
    ready.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    return LoadResult(
        seconds=elapsed, requests=sum(len(t.latencies) for t in tallies),
        latencies=sorted(x for t in tallies for x in t.latencies),
        sent={k: v for t in tallies for k, v in t.sent.items()}, retries=sum(t.retries for t in tallies),
        failures=[f for t in tallies for f in t.failures], ran_out=sum(t.ran_out for t in tallies))


# --- verification -------------------------------------------------------------------------------


def verify(url: str, plan: Plan, result: LoadResult) -> list[str]:
    """Problems found in the database after the run; none means every submission is stored exactly once."""
    engine = sa.create_engine(url, poolclass=NullPool)
    problems: list[str] = []
    try:
        with engine.connect() as conn:
            stored = conn.execute(sa.text(
                "SELECT c.client_id, c.status, c.submitted_at IS NOT NULL, COUNT(a.id) FROM contact c "
                "LEFT JOIN answer a ON a.contact_id = c.id WHERE c.campaign_id = :campaign "
                "GROUP BY c.id, c.client_id, c.status, c.submitted_at"), {"campaign": plan.campaign_id}).all()
            copies = conn.execute(sa.text("SELECT COUNT(*) FROM contact_copy")).scalar_one()
            journal = dict(conn.execute(sa.text(
                "SELECT object_id, COUNT(*) FROM audit_event WHERE action = 'contact_submitted' "
                "GROUP BY object_id")).all())
            contact_ids = dict(conn.execute(sa.text("SELECT client_id, id FROM contact")).all())
    finally:
        engine.dispose()
    by_client: dict[str, list[tuple[str, bool, int]]] = {}
    for client_id, status, has_time, answers in stored:
        by_client.setdefault(client_id, []).append((status, has_time, answers))
    for client_id, (channel, variant, ok) in result.sent.items():
        rows = by_client.pop(client_id, [])
        want = plan.expected_answers[(channel, variant)]
        if len(rows) > 1 or (ok and not rows):
            problems.append(f"{client_id}: stored {len(rows)} times")
        elif not rows:
            continue  # its request failed (counted there) before anything was stored
        elif rows[0] != ("submitted", True, want):
            problems.append(f"{client_id}: stored as {rows[0]}, expected ('submitted', True, {want})")
        elif journal.get(contact_ids[client_id]) != 1:
            problems.append(f"{client_id}: journalled {journal.get(contact_ids[client_id], 0)} times")
    if by_client:
        problems.append(f"{len(by_client)} contacts stored under client ids never sent")
    if copies:
        problems.append(f"{copies} retries kept as copies instead of being recognised")
    return problems


# --- where the CPU went --------------------------------------------------------------------------


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu(root: int | None) -> float:
    """CPU seconds used so far by a process and its children (running ones, and those it has reaped)."""
    if root is None:
        return 0.0
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if pid == root:
            ticks += sum(map(int, fields[11:15]))  # utime, stime, cutime, cstime
        elif ppid == root:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / CLOCK_TICKS


def machine_busy() -> float:
    """CPU seconds all processes of the machine have used since boot (every core)."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks[:3]) + sum(ticks[5:8])) / CLOCK_TICKS  # user, nice, system; irq, softirq, steal


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds spent during the run, by whom."""

    app: float
    database: float | None
    generator: float
    others: float
    """Every other process on the machine: a busy neighbour makes the figures worse than the app is."""


@contextlib.contextmanager
def cpu_meter(app_pid: int, database: Database) -> Iterator[list[CpuUse]]:
    out: list[CpuUse] = []
    before = (tree_cpu(app_pid), tree_cpu(database.server_pid), time.process_time(), machine_busy())
    yield out
    after = (tree_cpu(app_pid), tree_cpu(database.server_pid), time.process_time(), machine_busy())
    app, db, gen, busy = (b - a for a, b in zip(before, after, strict=True))
    out.append(CpuUse(app, db if database.server_pid else None, gen, max(0.0, busy - app - db - gen)))


# --- the benchmark ------------------------------------------------------------------------------


def run() -> list[Row]:
    seconds = float(os.environ.get("BENCH_LOAD_SECONDS", "60"))
    rate = float(os.environ.get("BENCH_LOAD_RATE", str(OFFERED_PER_SECOND)))
    per_auditor = max(200, int(seconds * rate / AUDITORS) + 10)  # every submission makes a new contact
    with tempfile.TemporaryDirectory(prefix="audit-load.") as name:
        tmp = Path(name)
        tmp.chmod(0o755)  # the database server's user reads through it
        with throwaway_database(tmp) as database:
            print(f"load check: {database.label}; {AUDITORS} auditors x {per_auditor} assignments ...", flush=True)
            plan = seed(database.url, tmp, per_auditor)
            with gunicorn(database.url, tmp) as (port, pid):
                sessions = log_in(port, plan)
                print(f"load check: gunicorn {WORKER_CLASS} {WORKERS} workers x {THREADS} threads; {AUDITORS} "
                      f"auditors submitting {rate:g} contacts/s between them for {seconds:g} s ...", flush=True)
                with cpu_meter(pid, database) as cpu:
                    result = drive(port, plan, sessions, seconds, rate)
            problems = verify(database.url, plan, result) + result.failures
            if result.ran_out:
                problems.append(f"{result.ran_out} auditors ran out of assignments")
    return rows(result, problems, database, cpu[0])


def rows(result: LoadResult, problems: list[str], database: Database, cpu: CpuUse) -> list[Row]:
    ok = not problems
    stored = sum(1 for _channel, _variant, sent_ok in result.sent.values() if sent_ok)
    per_second = stored / result.seconds
    p50 = statistics.median(result.latencies) * 1000 if result.latencies else float("inf")
    p95 = statistics.quantiles(result.latencies, n=100)[94] * 1000 if len(result.latencies) > 1 else float("inf")
    for problem in problems[:10]:
        print(f"load check: {problem}", file=sys.stderr)
    budget = 1.0 if database.budgeted else None
    per = {k: v / max(stored, 1) * 1000 for k, v in (("app", cpu.app), ("db", cpu.database or 0.0),
                                                      ("gen", cpu.generator))}
    total = sum(per.values())
    cores = os.cpu_count() or 1
    split = f"app {per['app']:.1f} + database {per['db']:.1f} + load generator {per['gen']:.1f}" \
        if cpu.database is not None else f"app {per['app']:.1f} + load generator {per['gen']:.1f}"
    return [
        Row(f"load: submissions/s, {AUDITORS} auditors", f"{per_second:,.0f}/s",
            BUDGET_PER_SECOND / per_second if ok and per_second else float("inf"), budget,
            note=f"ratio {BUDGET_PER_SECOND:g}/measured; {result.requests / result.seconds:,.0f} requests/s with "
                 f"retries; {database.label.split(' (')[0]}, gunicorn {WORKER_CLASS} {WORKERS}x{THREADS}"),
        Row("load: p95 latency of a submission", f"{p95:,.0f} ms", p95 / BUDGET_P95_MS if ok else float("inf"),
            budget, note=f"ratio to {BUDGET_P95_MS:g} ms; p50 {p50:,.0f} ms"),
        Row("load: failed requests, lost or duplicated contacts", f"{len(problems):,}", float(len(problems)), 0.0,
            note=(f"{stored:,} stored once, {result.retries:,} sent twice" if ok
                  else f"{len(result.failures)} failed requests; first: {problems[0][:160]}")),
        Row("load: CPU per submission", f"{total:.1f} ms", total / (cores * 1000 / BUDGET_PER_SECOND), None,
            note=f"{split} ms; ratio to the budget's {cores * 1000 / BUDGET_PER_SECOND:.1f} ms on {cores} cores; "
                 f"other processes used {cpu.others / result.seconds:.1f} of the {cores} cores meanwhile"),
    ]
