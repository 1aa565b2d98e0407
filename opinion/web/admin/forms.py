"""What every admin form shares: the error for a field the admin must fix, the errors a form
refuses with, and word lists typed one per line or separated by commas."""
from __future__ import annotations

import re

from opinion.errors import DistrictFileError


class FormError(Exception):
    """A field the admin must fix; the message names it, in Chinese."""


# What an admin form refuses with: a field to fix, or a district the file's own rules reject.
REFUSALS = (FormError, DistrictFileError)


def words(text: str) -> list[str]:
    """A word list typed one per line or separated by commas (Chinese or Latin), in order, once each."""
    return list(dict.fromkeys(w.strip() for w in re.split(r"[\n,，、;；]+", text or "") if w.strip()))
