"""The edit lock: one person composes a reply on a case at a time (opinion.cases.replies uses it).

The lock has an owner and an expiry, is shown to anyone else who opens the case, and is released
when the reply is sent or the person cancels, or simply runs out (LOCK_MINUTES, renewed while typing).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from opinion.errors import EditLockedError
from opinion.models import Case, CaseEditLock, User

LOCK_MINUTES = 15


def current_lock(session, case: Case, now: datetime) -> CaseEditLock | None:
    """The unexpired lock on the case, if anyone holds one."""
    lock = session.get(CaseEditLock, case.id, populate_existing=True)
    return lock if lock is not None and lock.expires_at > now else None


def acquire_lock(session, case: Case, user: User, now: datetime, tz: str = "Asia/Shanghai") -> CaseEditLock:
    """Take or renew the lock for `user`; raise EditLockedError naming the holder if taken.

    The take-over of an expired lock is one conditional UPDATE, so two people racing for it
    cannot both win; the first lock on a case is an INSERT on its primary key, likewise.
    """
    expires = now + timedelta(minutes=LOCK_MINUTES)
    taken = session.execute(
        update(CaseEditLock).where(CaseEditLock.case_id == case.id,
                                   (CaseEditLock.user_id == user.id) | (CaseEditLock.expires_at <= now))
        .values(user_id=user.id, acquired_at=now, expires_at=expires)
        .execution_options(synchronize_session=False)).rowcount
    if not taken:
        if session.get(CaseEditLock, case.id, populate_existing=True) is None:
            try:
                with session.begin_nested():
                    session.add(CaseEditLock(case_id=case.id, user_id=user.id, acquired_at=now,
                                             expires_at=expires))
                return session.get(CaseEditLock, case.id)
            except IntegrityError:
                pass  # someone took it between our look and our insert
        holder = session.get(CaseEditLock, case.id, populate_existing=True)
        until = holder.expires_at.astimezone(ZoneInfo(tz)).strftime("%H:%M")
        raise EditLockedError(f"{holder.user.name} 正在撰写此工单的回复（锁定至 {until}），请稍后再试")
    return session.get(CaseEditLock, case.id, populate_existing=True)


def release_lock(session, case: Case, user: User) -> None:
    """Let go of the lock if this user holds it (sending, cancelling)."""
    lock = session.get(CaseEditLock, case.id)
    if lock is not None and lock.user_id == user.id:
        session.delete(lock)
