"""Local HTTP servers the collector tests (and bench/bench_collect.py) fetch from.

`FakeServer` serves whatever a test puts in `routes` (bytes, a status, headers, or a callable),
plus the misbehaviours real sources show: a hanging response, a redirect loop. `FakeWeibo` adds a
Weibo-format API (mentions, comments to me, since_id/max_id paging, error JSON, replies) and an
account's own timeline (statuses/user_timeline, for the 政务微博矩阵).
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)


class FakeServer:
    def __init__(self):
        self.routes: dict[str, object] = {}
        self.requests: list[tuple[str, str, dict, bytes]] = []  # (method, path+query, headers, body)
        self.stop_hanging = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep the test output clean
                pass

            def _handle(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append((method, self.path, dict(self.headers), body))
                parsed = urlparse(self.path)
                route = server.routes.get(parsed.path)
                if route == "hang":
                    server.stop_hanging.wait(60)
                    return
                if route == "redirect-loop":
                    reply = Reply(302, b"", {"Location": parsed.path})
                elif callable(route):
                    reply = route(method, parsed.path, parse_qs(parsed.query), dict(self.headers), body)
                elif isinstance(route, Reply):
                    reply = route
                elif isinstance(route, bytes):
                    reply = Reply(200, route, {"Content-Type": "application/rss+xml"})
                else:
                    reply = Reply(404, b"not found")
                self.send_response(reply.status)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                try:
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up on purpose (a size or time limit)

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_hanging.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def weibo_time(t: datetime) -> str:
    """Weibo's created_at format, in Beijing time: 'Mon Nov 23 10:21:07 +0800 2026'."""
    return t.astimezone(timezone(timedelta(hours=8))).strftime("%a %b %d %H:%M:%S %z %Y")


class FakeWeibo:
    """A Weibo-format API on a FakeServer: statuses/mentions, comments/to_me, comments/create|reply."""

    TOKEN = "good-token"

    def __init__(self, server: FakeServer):
        self.server = server
        self.mentions: list[dict] = []   # newest last; served newest first like Weibo
        self.comments: list[dict] = []
        self.published: list[dict] = []
        self.error: dict | None = None   # {"status": 403, "body": {...}} served once per call while set
        self.next_id = 4_900_000_000_000_000
        self.accounts: dict[str, dict] = {}   # uid -> the user object; its posts in self.own[uid]
        self.own: dict[str, list[dict]] = {}
        server.routes["/2/statuses/user_timeline.json"] = self._timeline
        server.routes["/2/statuses/share.json"] = self._share
        server.routes["/2/comments/show.json"] = self._comments_show
        self.comments_on: dict[int, list[dict]] = {}   # status id -> its comments, newest last
        self.shared: list[dict] = []   # statuses the accounts published (statuses/share)
        for path, handler in (("/2/statuses/mentions.json", self._list("statuses", self.mentions)),
                              ("/2/comments/to_me.json", self._list("comments", self.comments)),
                              ("/2/comments/create.json", self._publish("create")),
                              ("/2/comments/reply.json", self._publish("reply"))):
            server.routes[path] = handler

    @property
    def base(self) -> str:
        return self.server.base + "/2"

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    def add_mention(self, text: str, followers: int = 1200, at: datetime | None = None, **kw) -> dict:
        ident = self._id()
        status = {"created_at": weibo_time(at or datetime.now(timezone.utc) - timedelta(minutes=5)),
                  "id": ident, "idstr": str(ident), "mid": str(ident), "text": text,
                  "user": {"id": 1000 + len(self.mentions), "screen_name": f"网友{len(self.mentions)}",
                           "followers_count": followers},
                  "reposts_count": kw.get("reposts", 0), "comments_count": kw.get("comments", 0),
                  "attitudes_count": kw.get("likes", 0)}
        self.mentions.append(status)
        return status

    def add_comment(self, text: str, at: datetime | None = None) -> dict:
        ident = self._id()
        comment = {"created_at": weibo_time(at or datetime.now(timezone.utc) - timedelta(minutes=3)),
                   "id": ident, "idstr": str(ident), "text": text,
                   "user": {"id": 7, "screen_name": "评论网友", "followers_count": 35},
                   "status": {"id": 4_800_000_000_000_001, "idstr": "4800000000000001",
                              "mid": "4800000000000001", "user": {"id": 1}, "text": "区政府发布"}}
        self.comments.append(comment)
        return comment

    def add_account(self, uid: str, screen_name: str, followers: int) -> dict:
        self.accounts[uid] = {"id": int(uid), "idstr": uid, "screen_name": screen_name,
                              "followers_count": followers, "statuses_count": 0}
        self.own[uid] = []
        return self.accounts[uid]

    def add_own_post(self, uid: str, text: str, at: datetime, reposts=0, comments=0, likes=0) -> dict:
        ident = self._id()
        user = self.accounts[uid]
        user["statuses_count"] += 1
        status = {"created_at": weibo_time(at), "id": ident, "idstr": str(ident), "mid": str(ident),
                  "text": text, "user": user, "reposts_count": reposts, "comments_count": comments,
                  "attitudes_count": likes}
        self.own[uid].append(status)
        return status

    def add_comment_on(self, status: dict, at: datetime, by_uid: str | None = None, text: str = "请问何时办理？") -> dict:
        """A comment under one of an account's own posts: a netizen's, or (with `by_uid`) the account's
        answer; the post's comments_count moves as on the platform."""
        ident = self._id()
        user = self.accounts[by_uid] if by_uid else {"id": 9000 + ident % 1000, "screen_name": "留言网友"}
        comment = {"created_at": weibo_time(at), "id": ident, "idstr": str(ident), "text": text,
                   "user": dict(user), "status": {"id": status["id"], "idstr": status["idstr"]}}
        self.comments_on.setdefault(status["id"], []).append(comment)
        status["comments_count"] = len(self.comments_on[status["id"]])
        return comment

    def _comments_show(self, method, path, query, headers, body):
        """comments/show: a status's comments, newest first, paged with max_id like the others."""
        refused = self._auth((query.get("access_token") or [""])[0])
        if refused:
            return refused
        try:
            status_id = int((query.get("id") or [""])[0])
        except ValueError:
            return _json(400, {"error": "miss required parameter (id)", "error_code": 10016})
        max_id = int((query.get("max_id") or ["0"])[0])
        count = int((query.get("count") or ["20"])[0])
        items = self.comments_on.get(status_id, [])
        page = [c for c in reversed(items) if not max_id or c["id"] <= max_id][:count]
        return _json(200, {"comments": page, "total_number": len(items)})

    def _timeline(self, method, path, query, headers, body):
        refused = self._auth((query.get("access_token") or [""])[0])
        if refused:
            return refused
        uid = (query.get("uid") or [""])[0]
        if not uid:
            name = (query.get("screen_name") or [""])[0]
            uid = next((u for u, user in self.accounts.items() if user["screen_name"] == name), "")
        if uid not in self.accounts:
            return _json(400, {"error": "User does not exists!", "error_code": 20003})
        max_id = int((query.get("max_id") or ["0"])[0])
        count = int((query.get("count") or ["20"])[0])
        # the user object is copied per answer, as the platform sends the figures of that moment
        page = [{**s, "user": dict(self.accounts[uid])} for s in reversed(self.own[uid])
                if not max_id or s["id"] <= max_id][:count]
        return _json(200, {"statuses": page, "total_number": len(self.own[uid])})

    def _share(self, method, path, query, headers, body):
        """statuses/share: POST access_token and status; answers the new status, as Weibo does."""
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        refused = self._auth(form.get("access_token"))
        if refused:
            return refused
        if method != "POST" or not form.get("status"):
            return _json(400, {"error": "miss required parameter (status)", "error_code": 10016})
        ident = self._id()
        self.shared.append({**form, "new_id": ident})
        return _json(200, {"id": ident, "idstr": str(ident), "mid": str(ident), "text": form["status"],
                           "created_at": weibo_time(datetime.now(timezone.utc)),
                           "user": {"id": 2001, "idstr": "2001", "screen_name": "区政府发布"}})

    def _auth(self, token):
        if self.error:
            return Reply(self.error["status"], json.dumps(self.error["body"]).encode(),
                         {"Content-Type": "application/json", **self.error.get("headers", {})})
        if token != self.TOKEN:
            return _json(401, {"error": "invalid_access_token", "error_code": 21332, "request": "/2/x.json"})
        return None

    def _list(self, key: str, items: list[dict]):
        def handler(method, path, query, headers, body):
            refused = self._auth((query.get("access_token") or [""])[0])
            if refused:
                return refused
            since = int((query.get("since_id") or ["0"])[0])
            max_id = int((query.get("max_id") or ["0"])[0])
            count = int((query.get("count") or ["20"])[0])
            page = [i for i in reversed(items) if i["id"] > since and (not max_id or i["id"] <= max_id)][:count]
            return _json(200, {key: page, "total_number": len(items)})
        return handler

    def _publish(self, kind: str):
        def handler(method, path, query, headers, body):
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            refused = self._auth(form.get("access_token"))
            if refused:
                return refused
            if method != "POST" or not form.get("comment") or not form.get("id"):
                return _json(400, {"error": "miss required parameter", "error_code": 10016})
            if kind == "reply" and not form.get("cid"):
                return _json(400, {"error": "miss required parameter (cid)", "error_code": 10016})
            ident = self._id()
            self.published.append({"kind": kind, **form, "new_id": ident})
            return _json(200, {"id": ident, "idstr": str(ident), "text": form["comment"],
                               "created_at": weibo_time(datetime.now(timezone.utc))})
        return handler


def _json(status: int, body) -> Reply:
    try:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate can only travel escaped, as \ud800
        data = json.dumps(body).encode("utf-8")
    return Reply(status, data, {"Content-Type": "application/json; charset=utf-8"})


def wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False
