"""Database backups: a consistent copy that restores, on SQLite and PostgreSQL; old copies pruned."""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
from datetime import datetime

import pytest

from opinion.backup import backup_database, prune
from opinion.errors import OpinionError
from tests.factories import make_user


def test_backup_holds_the_data_and_only_the_newest_copies_stay(app, session, tmp_path):
    make_user(session, "zs_fyr", "spokesperson", "zs")
    out = tmp_path / "backups"
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") and not shutil.which("pg_dump"):
        pytest.skip("没有 pg_dump（PostgreSQL 客户端），无法测试 PostgreSQL 备份")
    paths = [backup_database(app, out, keep=2, now=datetime(2026, 12, 1, 2, 30, second)) for second in range(3)]
    assert sorted(p.name for p in out.iterdir()) == [paths[1].name, paths[2].name]  # the oldest went
    assert not list(out.glob("*.partial"))
    if paths[-1].suffix == ".db":
        copy = sqlite3.connect(paths[-1])
        assert copy.execute("select username from users").fetchall() == [("zs_fyr",)]
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    else:
        listing = subprocess.run(["pg_restore", "--list", str(paths[-1])], capture_output=True, text=True)
        assert listing.returncode == 0 and "TABLE public users" in listing.stdout


def test_the_command_says_where_the_copy_went(runner, app, tmp_path):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") and not shutil.which("pg_dump"):
        pytest.skip("没有 pg_dump（PostgreSQL 客户端），无法测试 PostgreSQL 备份")
    result = runner.invoke(args=["backup", "--out", str(tmp_path / "b"), "--keep", "3"])
    assert result.exit_code == 0 and "已备份到" in result.output and len(list((tmp_path / "b").iterdir())) == 1


def test_what_cannot_be_backed_up_is_said(tmp_path, monkeypatch):
    monkeypatch.setenv("OPINION_INSTANCE_DIR", str(tmp_path))
    from opinion import create_app
    memory = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with pytest.raises(OpinionError, match="内存数据库"):
        backup_database(memory, tmp_path)
    missing = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'none.db'}"})
    with pytest.raises(OpinionError, match="找不到数据库文件"):
        backup_database(missing, tmp_path / "b")


def test_prune_leaves_other_files_alone(tmp_path):
    for name in ("opinion-20261129-023000.db", "opinion-20261130-023000.db", "opinion-20261201-023000.dump",
                 "notes.txt", "other.db"):
        (tmp_path / name).write_text("x")
    gone = prune(tmp_path, 1)
    assert [p.name for p in gone] == ["opinion-20261129-023000.db", "opinion-20261130-023000.db"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "opinion-20261201-023000.dump", "other.db"]


def test_the_nightly_job_writes_a_copy_into_the_instance_folder(app):
    from pathlib import Path

    from opinion.jobs import backup
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") and not shutil.which("pg_dump"):
        pytest.skip("没有 pg_dump（PostgreSQL 客户端），无法测试 PostgreSQL 备份")
    backup(app)
    assert len(list((Path(app.instance_path) / "backups").glob("opinion-*"))) == 1
