"""What every blueprint does with a submitted form: commit the change it asks for, or roll the
change back and tell the person why not, in the service's own Chinese words.

Each page then decides where the person goes next (back to the list, or the same page with what
they typed still in the form), so the helper only reports what happened.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import flash
from sqlalchemy.orm.exc import StaleDataError

from opinion.errors import OpinionError
from opinion.models import db


@dataclass
class Outcome:
    """What commit_or_flash did: `value` is what the action returned, `error` the refusal that
    was flashed instead (None when the change was committed). True when committed."""
    value: Any = None
    error: Exception | None = None

    def __bool__(self) -> bool:
        return self.error is None


def commit_or_flash(action: Callable[[], Any], *, refusals: tuple[type[Exception], ...] = (OpinionError,),
                    stale: str | None = None, keep: tuple[type[Exception], ...] = (),
                    prefix: str = "") -> Outcome:
    """Run `action()` and commit the session.

    A refusal (one of `refusals`) is rolled back and its message flashed as an error, after
    `prefix`. With `stale` given, a change that lost a race at commit (StaleDataError) is refused
    the same way with that message; without it, the race is a bug and raises. An error in `keep`
    is flashed too, but what was done before it is committed (a reply approved whose channel
    failed keeps the approval, to retry)."""
    races = (StaleDataError,) if stale is not None else ()
    try:
        value = action()
        db.session.commit()
    except keep as exc:
        db.session.commit()
        flash(prefix + str(exc), "error")
        return Outcome(error=exc)
    except refusals + races as exc:
        db.session.rollback()
        flash(stale if isinstance(exc, StaleDataError) else prefix + str(exc), "error")
        return Outcome(error=exc)
    return Outcome(value=value)
