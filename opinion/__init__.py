"""政务微博与网络舆情回应系统: the Flask application.

create_app builds the app; importing this package connects to nothing and starts nothing.
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

BASE_DIR = Path(__file__).resolve().parent.parent
# How long a connection waits for SQLite's write lock before "database is locked". Jobs hold the
# lock only for short writes (they render and call the network outside a transaction), so a web
# request that meets one waits a moment and goes on; past this it gets the 503 page, not a 500.
SQLITE_BUSY_TIMEOUT_MS = 10000


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    # WAL lets the scheduler write while web workers read; foreign keys are off by default in SQLite.
    if isinstance(dbapi_connection, sqlite3.Connection):
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_MS)}")
        cur.close()


def create_app(config: str | type | dict | None = None) -> Flask:
    """Build the application. `config` is a name from config.CONFIGS, a class, or a dict of overrides."""
    # lazy: config.py reads the environment when first imported; that is the first app built, not
    # `import opinion`, which every opinion.* import runs. The same for the imports below: the
    # web, the settings and the command line load when an app is built, so `opinion.nlp` or
    # `analyze` alone never pay for them.
    import config as settings

    # Read at each call, not when config.py was first imported: every test app gets its own folder
    # (retrained models, report archive), and so does each app a process builds.
    instance = os.environ.get("OPINION_INSTANCE_DIR") or str(settings.INSTANCE_DIR)
    app = Flask(__name__, template_folder=str(BASE_DIR / "templates"),
                static_folder=str(BASE_DIR / "static"), instance_path=instance)
    if isinstance(config, dict):
        app.config.from_object(settings.CONFIGS["test" if config.get("TESTING") else "default"])
        app.config.update(config)
    else:
        cls = settings.CONFIGS[config or "default"] if not isinstance(config, type) else config
        app.config.from_object(cls() if cls is settings.ProductionConfig else cls)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.json.ensure_ascii = False  # API answers in readable Chinese (half the bytes), not \uXXXX

    from opinion.settings.district import load_district  # lazy: as above
    app.extensions["district"] = load_district(app.config["DISTRICT_FILE"])

    _init_extensions(app)
    _init_web(app)
    from opinion.settings.overrides import init_overrides  # lazy: as above
    init_overrides(app)  # an admin's settings from the database, laid over the district file
    from opinion.cli import register  # lazy: as above
    register(app)
    return app


def _init_extensions(app: Flask) -> None:
    # lazy: loaded when an app is built (see create_app)
    from flask_migrate import Migrate

    from opinion.models import db
    from opinion.web.auth import init_login

    db.init_app(app)
    Migrate(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True)
    init_login(app)


def _init_web(app: Flask) -> None:
    from opinion.web import register_blueprints  # lazy: loaded when an app is built (see create_app)
    register_blueprints(app)
