"""Static files with content-hashed URLs, cached by browsers for a year.

Every url_for("static", ...) gets `?v=<hash of the file>`; a response to such a URL may be
kept forever (a changed file gets a new URL), so a repeat visit downloads only the page.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from flask import Flask, Response, request

YEAR = 365 * 24 * 3600


def init_app(app: Flask) -> None:
    folder = Path(app.static_folder or "static")
    versions: dict[str, tuple[float, str]] = {}

    def version_of(filename: str) -> str | None:
        path = folder / filename
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return None
        known = versions.get(filename)
        if known is None or known[0] != mtime:  # re-hash only a file that changed on disk
            known = versions[filename] = (mtime, hashlib.sha256(path.read_bytes()).hexdigest()[:12])
        return known[1]

    @app.url_defaults
    def _hashed_static(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = version_of(values["filename"])
            if version:
                values["v"] = version

    @app.after_request
    def _cache_versioned(response: Response) -> Response:
        if request.endpoint == "static" and request.args.get("v") and response.status_code in (200, 304):
            response.cache_control.public = True
            response.cache_control.max_age = YEAR
            response.cache_control.immutable = True
        return response
