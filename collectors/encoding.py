"""Bytes from outside into text: a feed, a pushed body or an imported file, whatever it declares.

Sources in a Chinese district send UTF-8, GBK/GB18030, Big5 (Hong Kong, Taiwan and overseas
sites), and now and then UTF-16 written by a Windows tool. The order of trust follows the WHATWG
encoding rules: a byte-order mark, then what the sender declared, then UTF-8 when the bytes are
valid UTF-8. Anything else is a guess: charset-normalizer weighs the candidates (GB18030 decodes
most Big5 bytes without error, only into gibberish, so "does it decode" cannot choose), and the
guess is said in a warning so that a person can check the text instead of trusting it silently.
"""
from __future__ import annotations

import codecs
from dataclasses import dataclass

import charset_normalizer

# The BOMs, longest first: UTF-32 LE starts with the UTF-16 LE mark.
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# GB2312 and GBK text routinely contains characters only their superset has, Big5 the HKSCS ones.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030",
              "big5": "big5hkscs", "ascii": "utf-8", "us-ascii": "utf-8", "iso-8859-1": "utf-8"}
# What an undeclared non-UTF-8 source in this district can be; cp1252 for a Western site.
GUESSES = ("gb18030", "big5hkscs", "cp1252")
NAMES = {"gb18030": "GB18030（简体中文）", "big5hkscs": "Big5（繁体中文）", "cp1252": "Windows-1252（西文）",
         "utf-8": "UTF-8", "utf-16-le": "UTF-16", "utf-16-be": "UTF-16", "utf-32-le": "UTF-32",
         "utf-32-be": "UTF-32"}


@dataclass
class Decoded:
    text: str
    encoding: str               # Python's codec name
    guessed: bool = False       # neither a BOM, a declaration nor valid UTF-8 said so
    warning: str | None = None  # in Chinese, for the run's or the import's report


def codec(name: str | None) -> str | None:
    """Python's codec for a declared charset name, with the Chinese supersets; None if unknown."""
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    name = _SUPERSETS.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def name(encoding: str) -> str:
    """An encoding as a person reads it: "Big5（繁体中文）"."""
    return NAMES.get(encoding, encoding)


def bom(data: bytes) -> tuple[str, int] | None:
    """(codec, length of the mark) when the bytes start with a byte-order mark."""
    for mark, enc in _BOMS:
        if data.startswith(mark):
            return enc, len(mark)
    return None


def decode(data: bytes, declared: list[str] | tuple[str, ...] = (), what: str = "内容",
           fix: str = "") -> Decoded:
    """The text of `data`. `declared` are the charsets the sender named, most trusted first (the
    HTTP header, then the XML declaration). `what` names the thing in the warning ("订阅", "文件"),
    `fix` says what a person can do about a guess."""
    marked = bom(data)
    if marked:
        enc, length = marked
        try:
            return Decoded(data[length:].decode(enc), enc)
        except UnicodeDecodeError:
            return Decoded(data[length:].decode(enc, errors="replace"), enc,
                           warning=f"{what}以 {name(enc)} 字节序标记开头，但部分字节无效，已用 � 代替")
    warning = None
    for label in declared:
        enc = codec(label)
        if enc is None:
            warning = f"声明的编码“{label}”无法识别"
            continue
        if enc.startswith(("utf-16", "utf-32")) and b"\x00" not in data[:4]:
            # Text that starts with ASCII characters without NULs is not UTF-16 or UTF-32 (an XML
            # declaration readable as ASCII says so); decoding it as such would "succeed" on any
            # even length, into CJK-looking gibberish.
            warning = f"声明的编码“{label}”与内容不符"
            continue
        try:
            return Decoded(data.decode(enc), enc)
        except UnicodeDecodeError:
            warning = f"声明的编码“{label}”与内容不符"
    try:
        text = data.decode("utf-8")
        return Decoded(text, "utf-8", warning=(warning + "，已按 UTF-8 解析") if warning else None)
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data, cp_isolation=list(GUESSES)).best()
    enc = codec(best.encoding) if best is not None else None
    if enc is not None:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            enc = None
    if enc is None:
        return Decoded(data.decode("gb18030", errors="replace"), "gb18030", guessed=True,
                       warning=(warning or f"{what}的编码无法识别") + "，已按 GB18030 解析，个别字符可能有误"
                       + (f"；{fix}" if fix else ""))
    # The existing wording of a wrong declaration names the codec used ("…，已按 gb18030 解析").
    said = (f"{warning}，已按 {enc} 解析（推测为 {name(enc)}）" if warning
            else f"{what}未声明编码，已按内容推测为 {name(enc)}")
    return Decoded(text, enc, guessed=True, warning=said + (f"；{fix}" if fix else ""))
