"""Nightly copies of the database, so that a district on the embedded SQLite file loses at most a day.

SQLite is copied with its online backup API: a consistent snapshot while the web and the scheduler
keep writing (a plain file copy of a WAL database can be torn). PostgreSQL goes through pg_dump's
custom format, restored with pg_restore. Only the newest `keep` copies stay.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url

from opinion.errors import OpinionError

PREFIX = "opinion-"


def backup_database(app, out_dir: str | Path | None = None, keep: int | None = None,
                    now: datetime | None = None) -> Path:
    """Write one backup into `out_dir` (default instance/backups) and prune the old ones."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    folder = Path(out_dir or app.config.get("BACKUP_DIR") or Path(app.instance_path) / "backups")
    folder.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now(ZoneInfo(app.config["TIMEZONE"]))).strftime("%Y%m%d-%H%M%S")
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise OpinionError("内存数据库无法备份")
        target = folder / f"{PREFIX}{stamp}.db"
        _sqlite_copy(Path(url.database), target)
    elif url.get_backend_name() == "postgresql":
        target = folder / f"{PREFIX}{stamp}.dump"
        _pg_dump(url, target)
    else:
        raise OpinionError(f"不支持备份 {url.get_backend_name()} 数据库")
    prune(folder, keep if keep is not None else int(app.config.get("BACKUP_KEEP", 14)))
    return target


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups in `folder` (names sort by time)."""
    copies = sorted(p for p in folder.glob(f"{PREFIX}*") if p.suffix in (".db", ".dump"))
    gone = copies[:-keep] if keep > 0 else []
    for path in gone:
        path.unlink()
    return gone


def _sqlite_copy(source: Path, target: Path) -> None:
    if not source.is_file():
        raise OpinionError(f"找不到数据库文件 {source}")
    partial = target.with_suffix(".partial")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
            if dst.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise OpinionError("备份文件完整性检查未通过")
        finally:
            dst.close()
    finally:
        src.close()
    partial.replace(target)  # a crash mid-copy never leaves a file that looks like a good backup


def _pg_dump(url, target: Path) -> None:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise OpinionError("找不到 pg_dump：请安装 PostgreSQL 客户端（Debian: postgresql-client）")
    partial = target.with_suffix(".partial")
    args = [pg_dump, "--format=custom", f"--file={partial}", "--no-owner",
            f"--dbname={url.database}"]
    if url.host:
        args.append(f"--host={url.host}")
    if url.port:
        args.append(f"--port={url.port}")
    if url.username:
        args.append(f"--username={url.username}")
    env = {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}
    result = subprocess.run(args, capture_output=True, text=True, env=env, timeout=3600)
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        why = (result.stderr.strip().splitlines() or [f"退出码 {result.returncode}"])[-1]
        raise OpinionError(f"pg_dump 失败：{why}")
    partial.replace(target)
