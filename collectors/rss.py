"""RSS / Atom feeds: government sites, news portals, forums that publish a feed.

The bytes are fetched here (bounded in time and size, with a conditional GET) and decoded here
(collectors.encoding), because feedparser falls back to windows-1252 for undeclared text, and an
undeclared Chinese feed is GBK or Big5 when it is not UTF-8. feedparser then parses what it can: a `bozo` feed (malformed XML, a
truncated download) still gives the entries before the fault, and the fault is recorded as a
warning on the source instead of dropping the whole feed.
"""
from __future__ import annotations

import calendar
import hashlib
import re
from datetime import datetime, timezone
from typing import Iterator
from urllib.parse import urljoin

import feedparser

from collectors import encoding
from collectors.base import BaseCollector, CollectorError, NormalisedPost, SourceNotConfigured, plausible_time
from collectors.http import fetch
from collectors.text import display_text

_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*?encoding=[\"']([A-Za-z0-9_\-]+)[\"'][^>]*\?>", re.I)
_XML_DECL_ANY = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_CHARSET = re.compile(r"charset=[\"']?([A-Za-z0-9_\-]+)", re.I)
MAX_ID = 128
_ENTRY_START = re.compile(r"<(?:[\w.-]+:)?(item|entry)(?=[\s>/])[^<>]*>", re.I)
_FIX = "如有乱码，请联系对方网站在响应头或 XML 声明中注明编码"


def decode_feed(content: bytes, content_type: str | None) -> tuple[str, str, str | None]:
    """(text, encoding used, warning or None). Tries the BOM, the HTTP charset, the XML declaration,
    then UTF-8, then a guess by content (said in the warning); a declared encoding that does not fit
    the bytes is named in the warning."""
    declared = []
    header = _CHARSET.search(content_type or "")
    if header:
        declared.append(header.group(1))
    decl = _XML_DECL.match(content[:200])
    if decl:
        declared.append(decl.group(1).decode("ascii"))
    got = encoding.decode(content, declared, what="订阅", fix=_FIX)
    return got.text, got.encoding, got.warning


class RSSCollector(BaseCollector):
    kind = "rss"

    def __init__(self, config: dict, state: dict):
        super().__init__(config, state)
        self.url = self.config.get("url")
        if not self.url:
            raise SourceNotConfigured("缺少订阅地址 url")

    def collect(self, since: datetime | None) -> Iterator[NormalisedPost]:
        headers = {}
        if self.state.get("etag"):
            headers["If-None-Match"] = self.state["etag"]
        if self.state.get("last_modified"):
            headers["If-Modified-Since"] = self.state["last_modified"]
        got = fetch(self.url, headers=headers, config=self.config)
        if got.status == 304:
            return iter(())
        posts = self.parse(got.content, got.headers.get("Content-Type"), got.url)
        # Saved by the caller only once every item is stored: a failed run fetches in full again.
        self.state["etag"] = got.headers.get("ETag")
        self.state["last_modified"] = got.headers.get("Last-Modified")
        return iter(posts)

    def parse(self, content: bytes, content_type: str | None, base_url: str) -> list[NormalisedPost]:
        """Entries of a feed document; raises CollectorError when it is no feed at all."""
        text, _, warning = decode_feed(content, content_type)
        if warning:
            self.warnings.append(warning)
        # feedparser gets clean UTF-8 with a matching declaration, so it never guesses again.
        body = _XML_DECL_ANY.sub("", text, count=1).lstrip()
        parsed = feedparser.parse(('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode("utf-8"),
                                  response_headers={"content-type": "application/xml; charset=utf-8",
                                                    "content-location": base_url},
                                  sanitize_html=False)  # the original is kept; display_text cleans
        problem = parsed.get("bozo_exception")
        if not parsed.entries:
            if not parsed.version:
                looks_html = re.search(r"<\s*html|<!doctype\s+html", body[:2000], re.I)
                raise CollectorError("返回的是 HTML 网页而不是 RSS/Atom 订阅，请检查订阅地址" if looks_html
                                     else f"无法解析为 RSS/Atom：{_why(problem) or '没有找到条目'}")
            if problem:
                raise CollectorError(f"订阅内容有误且没有可用条目：{_why(problem)}")
            return []
        entries = list(parsed.entries)
        if problem and _last_entry_cut(body):
            # A download cut inside an entry: that entry is skipped, not stored half, and comes in
            # whole with the next complete fetch. A cut after its end tag ("</feed" without ">")
            # costs nothing: every entry is whole.
            entries = entries[:-1]
            self.warnings.append("订阅内容不完整（下载被截断），最后一条已跳过，待下次完整获取")
        if problem:
            self.warnings.append(f"订阅格式有误（已尽量解析出 {len(entries)} 条）：{_why(problem)}")
        now = datetime.now(timezone.utc)
        channel = parsed.feed.get("link") or base_url
        return [self._normalise(e, channel, base_url, now) for e in entries]

    def _normalise(self, entry, channel: str, base_url: str, now: datetime) -> NormalisedPost:
        title = entry.get("title") or ""
        html = _entry_html(entry)
        link = entry.get("link")
        if link:
            link = urljoin(base_url, link)
            if not link.lower().startswith(("http://", "https://")):
                link = None  # javascript: and data: links are never kept as the post's link
        body = display_text(html)
        title_text = display_text(title)
        text = body if title_text and body.startswith(title_text) else "\n".join(x for x in (title_text, body) if x)
        payload = {"title": title, "html": html, "link": entry.get("link"), "feed": channel}
        when = entry.get("published_parsed") or entry.get("updated_parsed")
        created = None
        if when:
            created = plausible_time(datetime.fromtimestamp(calendar.timegm(when), timezone.utc), now, payload)
        else:
            payload["time_note"] = "条目没有时间，按采集时间记录"
        ident = entry.get("id") or link
        if not ident:
            # No id and no link: the content itself is the identity, so re-reading it matches.
            ident = "sha1:" + hashlib.sha1(f"{title}\n{html}".encode("utf-8")).hexdigest()
        elif len(ident) > MAX_ID:
            ident = "sha1:" + hashlib.sha1(ident.encode("utf-8")).hexdigest()
        author = entry.get("author") or None
        return NormalisedPost(external_id=ident, text=text, created_at=created,
                              author=author[:100] if author else None, url=link and link[:1000],
                              payload=payload)


def _last_entry_cut(body: str) -> bool:
    """Whether the document's last entry (an RSS item or an Atom entry, with a namespace prefix or
    not) lacks its own end tag."""
    last = None
    for last in _ENTRY_START.finditer(body):
        pass
    if last is None or last.group(0).endswith("/>"):
        return False
    return not re.search(rf"</(?:[\w.-]+:)?{last.group(1)}\s*>", body[last.end():], re.I)


def _entry_html(entry) -> str:
    for content in entry.get("content") or []:
        if content.get("value"):
            return content["value"]
    return entry.get("summary") or entry.get("description") or ""


def _why(exc) -> str:
    if exc is None:
        return ""
    message = getattr(exc, "getMessage", lambda: str(exc))()
    line = getattr(exc, "getLineNumber", lambda: None)()
    return f"{message}（第 {line} 行）" if line else str(message)
