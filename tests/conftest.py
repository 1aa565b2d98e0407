"""Fixtures: an app on a fresh database per test, on SQLite and (where it runs) PostgreSQL.

Every test that takes `app` (or `session`, `client`, `runner`) runs once per backend. PostgreSQL
is found at TEST_POSTGRES_URL or 127.0.0.1:5432; a database is created for the run and dropped
after. Where no PostgreSQL answers, those runs skip and say why.
"""
from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Posts are read by words only in tests unless a test asks for vectors: the encoder reads ~10 posts a
# second, and tests that store posts are about storing them (tests/nlp/test_encoder.py,
# test_classifier_vectors.py and tests/topics/test_cluster_vectors.py switch the vectors on).
os.environ.setdefault("OPINION_TOPIC_VECTORS", "off")
os.environ.setdefault("OPINION_ENCODER", "off")
SHARED_DATA = Path(os.environ.get("OPINION_SHARED_DATA", REPO.parent / "shared" / "data"))
PG_CANDIDATES = [os.environ.get("TEST_POSTGRES_URL")] if os.environ.get("TEST_POSTGRES_URL") else [
    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    "postgresql+psycopg://root@127.0.0.1:5432/postgres",
]


def _admin_connect():
    """(psycopg connection to the maintenance db, its URL) or (None, reason)."""
    import psycopg
    errors = []
    for url in PG_CANDIDATES:
        try:
            conn = psycopg.connect(url.replace("+psycopg", ""), autocommit=True, connect_timeout=3)
            return conn, url
        except psycopg.Error as exc:
            errors.append(f"{url}: {str(exc).strip().splitlines()[0]}")
    return None, "; ".join(errors)


@pytest.fixture(scope="session")
def postgres_url():
    conn, info = _admin_connect()
    if conn is None:
        pytest.skip(f"PostgreSQL 不可用，跳过 PostgreSQL 后端的测试（{info}）")
    name = f"opinion_test_{uuid.uuid4().hex[:10]}"
    conn.execute(f'CREATE DATABASE "{name}"')
    yield info.rsplit("/", 1)[0] + "/" + name
    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def app(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("OPINION_INSTANCE_DIR", str(tmp_path / "instance"))
    from opinion import create_app
    from opinion.accounts.directory import sync_units
    from opinion.models import db

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url,
                      "WTF_CSRF_ENABLED": False})
    with app.app_context():
        db.create_all()
        sync_units(db.session, app.extensions["district"])
        db.session.commit()
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def session(app):
    from opinion.models import db
    return db.session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def district(app):
    return app.extensions["district"]


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"共享数据目录 {SHARED_DATA} 不存在（设置 OPINION_SHARED_DATA 指向 shared/data）")
    return SHARED_DATA


def at(text: str) -> datetime:
    """An aware time from 'YYYY-MM-DD HH:MM' in Beijing time, for readable tests."""
    from zoneinfo import ZoneInfo
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(timezone.utc)
