"""Plain text out of what a channel delivers: HTML and script dropped, entities decoded, terminal
and control characters gone. A feed's HTML summary, a pushed item or a pasted post all become the
same display text; the raw text is kept beside it on the post, exactly as received.
"""
from __future__ import annotations

import html
import re

MAX_TEXT = 200_000    # the display text keeps more, but not an unbounded amount
_SCRIPT = re.compile(r"<(script|style|iframe|noscript|template)\b[^>]*>.*?(?:</\1\s*>|$)", re.I | re.S)
_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)
_TAG = re.compile(r"</?[A-Za-z!][^<>]{0,2000}>")
_BR = re.compile(r"<br\s*/?>|</p\s*>|</div\s*>", re.I)
# Terminal colour codes ("\x1b[31m") arrive in text pasted from logs and consoles; dropping only
# the ESC would leave "[31m" behind as a word.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\ufff9-\ufffb\ud800-\udfff]")
_SPACE = re.compile(r"\s+")
_JS_LINK = re.compile(r"javascript:\S*", re.I)


def _as_text(raw: object) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bytes):
        return raw.decode("utf-8", errors="replace")
    return raw if isinstance(raw, str) else str(raw)


def display_text(raw: object) -> str:
    """Plain text for display: HTML and script dropped, entities decoded, control characters gone."""
    text = _as_text(raw)[: MAX_TEXT * 2]
    if "<" in text:
        text = _COMMENT.sub(" ", text)
        text = _SCRIPT.sub(" ", text)
        text = _BR.sub("\n", text)
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
        if "<" in text:  # "&lt;script&gt;" decodes into markup; it must not come back as a tag
            text = _TAG.sub(" ", _SCRIPT.sub(" ", text))
    text = _CONTROL.sub("", _ANSI.sub("", text))
    text = _JS_LINK.sub("", text)
    return _SPACE.sub(" ", text).strip()[:MAX_TEXT]
