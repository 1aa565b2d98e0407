"""Two-step log-in (两步验证) for administrators and leaders: a password and a code from an
authenticator app (TOTP, RFC 6238), with one-time recovery codes for a lost phone.

An administrator's account changes who may see and do everything, so a stolen password alone
should not be enough. pyotp computes the codes (a well-kept library, rather than our own HMAC
arithmetic); segno draws the QR code the app scans, in pure Python, as an inline SVG.

Each code is taken with one conditional UPDATE, on SQLite and PostgreSQL alike: a time step
accepted once is not accepted again (a code read over someone's shoulder is spent), and a
recovery code removed from the list by one request cannot be used by a parallel one.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from sqlalchemy import or_, update

from opinion.models import User, utcnow

ROLES = ("admin", "leader")  # who may switch it on
RECOVERY_CODES = 10
ISSUER = "政务舆情回应系统"


def new_secret() -> str:
    return pyotp.random_base32()


def qr_data_uri(user: User, secret: str) -> str:
    """The otpauth:// address of this secret as a QR code image (an SVG data: URI)."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
    return segno.make(uri, error="m").svg_data_uri(scale=4)


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _digits(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def code_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step a 6-digit code is right for (this one or one either side, for clocks that
    drift), or None."""
    code = _digits(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp, now = pyotp.TOTP(secret), time.time() if now is None else now
    for offset in (0, -1, 1):
        moment = now + offset * totp.interval
        if hmac.compare_digest(totp.at(moment), code):
            return totp.timecode(moment)
    return None


def _hash(code: str) -> str:
    return hashlib.sha256(_digits(code).encode()).hexdigest()


def enable(user: User, secret: str, now: float | None = None) -> list[str]:
    """Switch it on with a secret the user's app has shown a right code for; returns the recovery
    codes, which are shown once and kept only as hashes (not committed)."""
    codes = [f"{secrets.token_hex(4)[:4]}-{secrets.token_hex(4)[:4]}" for _ in range(RECOVERY_CODES)]
    user.totp_secret, user.totp_enabled_at = secret, utcnow()
    user.totp_last_step = pyotp.TOTP(secret).timecode(time.time() if now is None else now)
    user.recovery_codes = " ".join(_hash(c) for c in codes)
    return codes


def disable(user: User) -> None:
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = user.recovery_codes = None


def recovery_left(user: User) -> int:
    return len((user.recovery_codes or "").split())


def verify(session, user: User, code: str, now: float | None = None) -> str | None:
    """Take a code for this user's log-in: "code" for an app code, "recovery" for a recovery code
    (spent now), None when neither is right or it was used already. Commits what it took."""
    if not user.totp_enabled_at or not user.totp_secret:
        return None
    step = code_step(user.totp_secret, code, now)
    if step is not None:
        taken = session.execute(
            update(User).where(User.id == user.id,
                               or_(User.totp_last_step.is_(None), User.totp_last_step < step))
            .values(totp_last_step=step).execution_options(synchronize_session=False))
        session.commit()
        session.refresh(user)
        return "code" if taken.rowcount == 1 else None
    hashed = _hash(code)
    unused = (user.recovery_codes or "").split()
    if not any(hmac.compare_digest(hashed, h) for h in unused):
        return None
    taken = session.execute(
        update(User).where(User.id == user.id, User.recovery_codes == user.recovery_codes)
        .values(recovery_codes=" ".join(h for h in unused if h != hashed))
        .execution_options(synchronize_session=False))
    session.commit()
    session.refresh(user)
    return "recovery" if taken.rowcount == 1 else None


def required(user: User, roles) -> bool:
    """True when this user's role must use it (`roles`, from the configuration) and it is off."""
    return user.role in roles and not user.totp_enabled_at
