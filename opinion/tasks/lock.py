"""The one active scheduler: a lock held for the process's life, so two `scheduler` processes can
run for availability while exactly one fires the timers.

PostgreSQL: a session advisory lock (pg_try_advisory_lock) on a connection of its own, kept open
while the process lives; the server drops it when the process or its connection dies. SQLite: an
fcntl.flock on a file beside the database, which the kernel drops when the process dies. A
waiting process polls every few seconds, so it takes over well within a minute.
"""
from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

# A fixed key: advisory locks are per database, so installs sharing a server do not collide.
ADVISORY_KEY = 0x6F70696E  # "opin"
INGEST_KEY = ADVISORY_KEY + 1  # the one worker that consumes the ingest queue
DEFAULT_POLL_SECONDS = 5.0


def poll_seconds() -> float:
    return float(os.environ.get("OPINION_SCHEDULER_LOCK_POLL", DEFAULT_POLL_SECONDS))


class SchedulerLock:
    """One holder among processes (`name` and `key` tell locks apart: the scheduler, the ingest
    consumer). try_acquire() once, wait() until acquired, still_held() to notice a lost database connection."""

    def __init__(self, engine, instance_path: str, name: str = "scheduler", key: int = ADVISORY_KEY):
        self.engine = engine
        self.name, self.key = name, key
        self.url = engine.url
        self._conn = None
        self._fd: int | None = None
        self.path = self._lock_file(instance_path) if self.url.get_backend_name() == "sqlite" else None

    def _lock_file(self, instance_path: str) -> Path:
        database = make_url(str(self.url)).database
        if database and database != ":memory:":
            return Path(database).with_name(Path(database).name + f".{self.name}.lock")
        return Path(instance_path) / f"{self.name}.lock"

    def describe(self) -> str:
        if self.path is not None:
            return f"锁文件 {self.path}"
        return f"PostgreSQL 咨询锁 {self.key}"

    def try_acquire(self) -> bool:
        if self.path is not None:
            return self._try_file()
        return self._try_advisory()

    def _try_file(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())  # who holds it, for the operator
        self._fd = fd
        return True

    def _try_advisory(self) -> bool:
        if self._conn is None:
            # Its own connection, out of the pool for good: the lock lives as long as it does.
            self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        got = bool(self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
        return got

    def wait(self, poll: float | None = None, stop=None) -> bool:
        """Block until acquired (True) or until `stop()` says so (False)."""
        poll = poll_seconds() if poll is None else poll
        while not self.try_acquire():
            if stop is not None and stop():
                return False
            time.sleep(poll)
        return True

    def still_held(self) -> bool:
        """False when the database connection that holds the advisory lock is gone: another process
        may have taken over, so this one must stop acting."""
        if self.path is not None:
            return self._fd is not None
        try:
            held = self._conn.execute(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                "AND objid = :k AND granted"), {"k": self.key}).scalar()
            return bool(held)
        except Exception:  # noqa: BLE001 - a broken connection means the lock is gone
            return False

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                self._conn.close()
            except Exception:  # noqa: BLE001 - closing the connection releases it anyway
                pass
            self._conn = None
