"""What every admin form shares: the error for a field the admin must fix, the errors a form
refuses with, and word lists typed one per line or separated by commas."""
from __future__ import annotations

import re

from flask import flash, redirect, url_for

from opinion.errors import DistrictFileError
from opinion.web.forms import commit_or_flash


class FormError(Exception):
    """A field the admin must fix; the message names it, in Chinese."""


# What an admin form refuses with: a field to fix, or a district the file's own rules reject.
REFUSALS = (FormError, DistrictFileError)


def words(text: str) -> list[str]:
    """A word list typed one per line or separated by commas (Chinese or Latin), in order, once each."""
    return list(dict.fromkeys(w.strip() for w in re.split(r"[\n,，、;；]+", text or "") if w.strip()))


def new_key(form, field: str, pattern: re.Pattern, rule: str, taken, what: str) -> str:
    """The key a new record is created under (a unit's code, a user name), from `form[field]`:
    it must match `pattern` (else `rule` is the error) and `taken(key)` must be false."""
    key = form.get(field, "").strip()
    if not pattern.match(key):
        raise FormError(rule)
    if taken(key):
        raise FormError(f"{what} “{key}” 已存在")
    return key


def created_or_list(create, refusals, relist, done, back: str):
    """Commit `create()`; on a refusal show the list again with the form as typed (400),
    otherwise flash `done(value)` and go back to the list."""
    created = commit_or_flash(create, refusals=refusals)
    if not created:
        return relist()
    flash(done(created.value), "info")
    return redirect(url_for(back))
