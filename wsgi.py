"""WSGI entry point for production servers: `gunicorn wsgi:app`."""

from audit import create_app

app = create_app()
