"""Weibo-style open API: the government accounts' @mentions and the comments they receive.

Shaped like Sina Weibo's API v2: `statuses/mentions.json` and `comments/to_me.json` page newest
first with `since_id` (only newer than) and `max_id` (this id or older); times look like
"Mon Nov 23 10:21:07 +0800 2026"; errors come back as {"error": ..., "error_code": 21327}.
The cursor (the newest id seen per endpoint) is saved only when a run completes, so a run stopped by
a rate limit or an expired token is read again from the same place and nothing is read twice.
Replies go back with `comments/create.json` (a comment on a status) or `comments/reply.json`
(an answer to a comment). A government account's own posts and figures come from
`statuses/user_timeline.json` (`timeline`), read for the 政务微博矩阵 (opinion.matrix), with the
comments under each of them from `comments/show.json` (`comments_on`: who commented, and whether
the account answered); the account's own statements go out with `statuses/share.json` (`publish`).
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Iterator

from collectors.base import (
    BaseCollector,
    CollectorError,
    NormalisedPost,
    RateLimited,
    SourceNotConfigured,
    plausible_time,
)
from collectors.http import fetch

DEFAULT_BASE = "https://api.weibo.com/2"
ENDPOINTS = {"statuses/mentions": "statuses", "comments/to_me": "comments"}
TOKEN_ERRORS = {21327: "访问令牌已过期", 21332: "访问令牌无效", 21314: "访问令牌已被使用",
                21315: "访问令牌已过期", 21316: "访问令牌已被撤销", 21317: "访问令牌被拒绝",
                21319: "授权已被收回", 21501: "缺少访问令牌"}
RATE_ERRORS = {10022: "IP 请求频次超限", 10023: "用户请求频次超限", 10024: "该接口请求频次超限"}
WEIBO_TIME = "%a %b %d %H:%M:%S %z %Y"


def parse_weibo_time(text: str) -> datetime:
    """'Mon Nov 23 10:21:07 +0800 2026' -> aware UTC datetime; ValueError if not that shape."""
    return datetime.strptime(text.strip(), WEIBO_TIME).astimezone(timezone.utc)


class WeiboCollector(BaseCollector):
    kind = "weibo_api"
    can_publish = True
    max_reply_chars = 140  # the open API refuses longer comments (error 20019 and friends)

    def __init__(self, config: dict, state: dict):
        super().__init__(config, state)
        self.token = self.config.get("access_token")
        if not self.token:
            raise SourceNotConfigured("缺少 access_token（微博开放平台访问令牌）")
        self.base = str(self.config.get("base_url") or DEFAULT_BASE).rstrip("/")
        self.endpoints = list(self.config.get("endpoints") or ENDPOINTS)
        unknown = [e for e in self.endpoints if e not in ENDPOINTS]
        if unknown:
            raise SourceNotConfigured(f"不支持的接口：{', '.join(unknown)}（可用：{', '.join(ENDPOINTS)}）")
        self.count = min(int(self.config.get("count", 50)), 200)
        self.max_pages = int(self.config.get("max_pages", 20))

    def _call(self, path: str, method: str = "GET", **params) -> dict:
        args = {"access_token": self.token, **params}
        got = fetch(f"{self.base}/{path}.json", method=method,
                    params=args if method == "GET" else None, data=args if method == "POST" else None,
                    config=self.config, rate_limit_statuses=(429, 418),
                    ok_statuses=(200, 400, 401, 403))
        try:
            body = json.loads(got.content.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            if got.status == 403:
                raise RateLimited("被限流（HTTP 403）") from exc
            raise CollectorError(f"{path} 返回的不是 JSON（HTTP {got.status}）") from exc
        if isinstance(body, dict) and "error_code" in body:
            code = int(body.get("error_code") or 0)
            detail = f"{body.get('error', '')}（错误码 {code}）"
            if code in RATE_ERRORS:
                raise RateLimited(f"{RATE_ERRORS[code]}：{detail}")
            if code in TOKEN_ERRORS:
                raise CollectorError(f"{TOKEN_ERRORS[code]}，请在数据源设置中更新 access_token：{detail}")
            raise CollectorError(f"{path} 出错：{detail}")
        if got.status != 200:
            if got.status == 403:
                raise RateLimited("被限流（HTTP 403）")
            raise CollectorError(f"{path} 返回 HTTP {got.status}")
        if not isinstance(body, dict):
            raise CollectorError(f"{path} 返回的 JSON 结构不对（应为对象）")
        return body

    def collect(self, since: datetime | None) -> Iterator[NormalisedPost]:
        cursors = dict(self.state.get("since_id") or {})
        now = datetime.now(timezone.utc)
        found: list[NormalisedPost] = []
        for endpoint in self.endpoints:
            newest = self._read_endpoint(endpoint, int(cursors.get(endpoint, 0)), now, found)
            if newest:
                cursors[endpoint] = max(newest, int(cursors.get(endpoint, 0)))
        self.state["since_id"] = cursors  # only stored by the caller once every item is ingested
        return iter(found)

    def _read_endpoint(self, endpoint: str, since_id: int, now: datetime, out: list) -> int:
        key = ENDPOINTS[endpoint]
        max_id, newest = None, 0
        for _ in range(self.max_pages):
            params = {"count": self.count, "since_id": since_id}
            if max_id is not None:
                params["max_id"] = max_id
            items = self._call(endpoint, **params).get(key) or []
            ids = []
            for raw in items:
                try:
                    ident = int(raw.get("id") or raw.get("idstr"))
                except (TypeError, ValueError, AttributeError):
                    self.warnings.append(f"{endpoint} 中有一条缺少 id，已跳过")
                    continue
                if ident <= since_id:
                    continue
                ids.append(ident)
                out.append(self._normalise(key, raw, now))
            if not ids:
                break
            newest = max(newest, *ids)
            max_id = min(ids) - 1
            if len(items) < self.count:
                break
        return newest

    def _normalise(self, key: str, raw: dict, now: datetime) -> NormalisedPost:
        user = raw.get("user") or {}
        payload = {"endpoint": key, "item": raw}
        try:
            created = plausible_time(parse_weibo_time(str(raw.get("created_at", ""))), now, payload)
        except ValueError:
            payload["time_note"] = f"无法识别的时间 “{raw.get('created_at')}”，按采集时间记录"
            created = None
        ident = str(raw.get("idstr") or raw.get("id"))
        if key == "comments":
            status = raw.get("status") or {}
            external = f"c{ident}/{status.get('idstr') or status.get('id') or ''}"
            url = f"https://weibo.com/{(status.get('user') or {}).get('id', '')}/{status.get('mid') or status.get('id', '')}"
            counts = {}
        else:
            external = ident
            url = f"https://weibo.com/{user.get('id', '')}/{raw.get('mid') or ident}"
            counts = {"reposts": _int(raw.get("reposts_count")), "comments": _int(raw.get("comments_count")),
                      "likes": _int(raw.get("attitudes_count"))}
        return NormalisedPost(external_id=external, text=str(raw.get("text") or ""), created_at=created,
                              author=user.get("screen_name") or user.get("name"),
                              author_followers=_int(user["followers_count"]) if "followers_count" in user else None,
                              url=url, payload=payload, **counts)

    def timeline(self, uid: str | None, screen_name: str | None,
                 not_before: datetime | None = None) -> tuple[list[NormalisedPost], dict]:
        """The account's own posts, newest first, back to `not_before` (or `max_pages` pages), and
        the account's figures from the user object ({followers, posts}). Read without a cursor:
        the recent posts' reposts, comments and likes keep changing, so each run reads them again."""
        if not uid and not screen_name:
            raise SourceNotConfigured("缺少 uid 或 screen_name（要采集的政务账号）")
        who = {"uid": uid} if uid else {"screen_name": screen_name}
        now = datetime.now(timezone.utc)
        found: list[NormalisedPost] = []
        figures: dict = {}
        max_id = None
        for _ in range(self.max_pages):
            params = {"count": self.count, **who}
            if max_id is not None:
                params["max_id"] = max_id
            items = self._call("statuses/user_timeline", **params).get("statuses") or []
            ids, older = [], False
            for raw in items:
                try:
                    ident = int(raw.get("id") or raw.get("idstr"))
                except (TypeError, ValueError, AttributeError):
                    self.warnings.append("user_timeline 中有一条缺少 id，已跳过")
                    continue
                ids.append(ident)
                user = raw.get("user") or {}
                if not figures and user:
                    figures = {"followers": _int(user.get("followers_count")),
                               "posts": _int(user.get("statuses_count")),
                               "uid": str(user.get("idstr") or user.get("id") or "")}
                post = self._normalise("statuses", raw, now)
                if not_before is not None and post.created_at is not None and post.created_at < not_before:
                    older = True
                    continue
                found.append(post)
            if not ids or older or len(items) < self.count:
                break
            max_id = min(ids) - 1
        return found, figures

    def comments_on(self, status_id: str) -> list[dict]:
        """The comments under one status (`comments/show`), newest first, up to `max_pages` pages:
        each {"at": aware datetime or None, "user": the commenter's id as text}. Only who and
        when: the matrix counts comments and the account's answers, it does not keep their words."""
        found: list[dict] = []
        max_id = None
        for _ in range(self.max_pages):
            params = {"id": status_id, "count": self.count}
            if max_id is not None:
                params["max_id"] = max_id
            items = self._call("comments/show", **params).get("comments") or []
            ids = []
            for raw in items:
                try:
                    ids.append(int(raw.get("id") or raw.get("idstr")))
                except (TypeError, ValueError, AttributeError):
                    self.warnings.append("comments/show 中有一条缺少 id，已跳过")
                    continue
                try:
                    when = parse_weibo_time(str(raw.get("created_at", "")))
                except ValueError:
                    when = None
                user = raw.get("user") or {}
                found.append({"at": when, "user": str(user.get("idstr") or user.get("id") or "")})
            if not ids or len(items) < self.count:
                break
            max_id = min(ids) - 1
        return found

    max_status_chars = 2000  # a status published through the open API (longer ones are refused)

    def publish(self, text: str) -> str:
        """Publish a status as the account itself (`statuses/share`); the published status's URL."""
        text = (text or "").strip()
        if not text:
            raise CollectorError("发布内容为空")
        if len(text) > self.max_status_chars:
            raise CollectorError(f"微博正文最多 {self.max_status_chars} 字，本条 {len(text)} 字")
        body = self._call("statuses/share", method="POST", status=text)
        ident = body.get("idstr") or body.get("id")
        if not ident:
            raise CollectorError("发布接口没有返回微博 id，内容可能未发出")
        uid = (body.get("user") or {}).get("idstr") or (body.get("user") or {}).get("id") or ""
        return f"https://weibo.com/{uid}/{body.get('mid') or ident}"

    def publish_reply(self, post_external_id: str, text: str) -> str | None:
        """Comment on a status (`comments/create`) or answer a comment (`comments/reply`)."""
        text = (text or "").strip()
        if not text:
            raise CollectorError("回复内容为空")
        if len(text) > self.max_reply_chars:
            raise CollectorError(f"微博评论最多 {self.max_reply_chars} 字，本条 {len(text)} 字")
        if post_external_id.startswith("c"):
            cid, _, status_id = post_external_id[1:].partition("/")
            body = self._call("comments/reply", method="POST", cid=cid, id=status_id, comment=text)
        else:
            status_id = post_external_id
            body = self._call("comments/create", method="POST", id=status_id, comment=text)
        comment_id = body.get("idstr") or body.get("id")
        if not comment_id:
            raise CollectorError("发布接口没有返回评论 id，回复可能未发出")
        return f"https://weibo.com/comment/{status_id}/{comment_id}"


def _int(value) -> int:
    # OverflowError: a count of Infinity or 1e400 is no count; too large ones are refused by
    # opinion.ingest.store.validate, for that item alone
    try:
        return max(int(value), 0)
    except (TypeError, ValueError, OverflowError):
        return 0
