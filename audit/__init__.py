"""Mystery-shopper audits and quality licences for public institutions."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """The application factory: configuration, extensions, blueprints, CLI."""
    from . import assets, cli, connections, i18n, jobs, result_cache, security, storage
    from .config import from_environment
    from .extensions import babel, csrf, db, login_manager, migrate
    from .views import auditor, auth, director, errors, evidence, invitations, organiser, public

    instance = (test_config or {}).get("INSTANCE_PATH") or str(ROOT / "instance")
    app = Flask(__name__, instance_path=instance, template_folder=str(ROOT / "templates"),
                static_folder=str(ROOT / "static"))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(from_environment(app.instance_path))
    if test_config:
        app.config.update(test_config)
        if "INSTANCE_PATH" in test_config and "EVIDENCE_DIR" not in test_config:
            app.config["EVIDENCE_DIR"] = Path(app.instance_path) / "evidence"
        if "INSTANCE_PATH" in test_config and "JOBS_DIR" not in test_config:
            app.config["JOBS_DIR"] = Path(app.instance_path) / "jobs"
        if "INSTANCE_PATH" in test_config and "IMPORTS_DIR" not in test_config:
            app.config["IMPORTS_DIR"] = Path(app.instance_path) / "imports"

    db.init_app(app)
    connections.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.init_app(app)
    security.init_app(app)
    assets.init_app(app)
    errors.init_app(app)
    jobs.init_app(app)
    result_cache.init_app(app)
    storage.init_app(app)

    for module in (auth, organiser, auditor, director, evidence, invitations, public):
        app.register_blueprint(module.bp)
    cli.init_app(app)
    return app
