"""gunicorn for production, behind nginx (deploy/nginx-audit.conf): `gunicorn -c deploy/gunicorn.conf.py`.

Why each setting is here: docs/operations.md, "Serving in production". nginx reads every request
whole before it passes it on, so these threads only ever see complete requests from loopback;
the limits below guard against anything that reaches gunicorn another way.
"""

import os

wsgi_app = "audit:create_app()"

# Loopback only: nginx is the one door in. A port on the public interface would let a client skip
# the buffering proxy (and its slow-upload protection) and forge X-Forwarded-* headers.
bind = "127.0.0.1:8000"

# The app is CPU-bound in Python: one process per core, four threads each to keep the core busy
# while a thread waits on PostgreSQL (measured on 2 cores: docs/operations.md, "gunicorn on 2 cores").
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = 4

# A worker whose main loop is silent this long (stuck in C code, deadlocked) is killed and replaced.
# With gthread this is a heartbeat, not a limit on one request's duration.
timeout = 30
# On a restart or deploy (SIGHUP, SIGTERM) a worker gets this long to finish the requests it holds.
graceful_timeout = 30
# nginx opens a new upstream connection per request (HTTP/1.0, no upstream keep-alive), so this
# only serves other local callers (a health check); short, so an idle one is soon closed.
keepalive = 2

# At least nginx's own limits (large_client_header_buffers 4 8k), so that nothing nginx accepts is
# refused here with a puzzling 400; they stop oversized requests that reach gunicorn another way.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190

# Only nginx on this machine may say the request came over HTTPS (X-Forwarded-Proto); this is
# gunicorn's default, written down because the scheme of links in e-mails depends on it.
forwarded_allow_ips = "127.0.0.1,::1"

proc_name = "audit"
errorlog = "-"  # to stderr: the service manager's journal; nginx keeps the access log
loglevel = "info"
