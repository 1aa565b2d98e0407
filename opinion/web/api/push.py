"""`POST /api/v1/ingest`: other systems (a 12345 hotline, another platform) push posts in.

Each webhook source has a token (who is calling) and a secret (proof the body is theirs):
    Authorization: Bearer <token>
    X-Opinion-Timestamp: <Unix seconds>
    X-Opinion-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>
A timestamp more than five minutes away from our clock is refused, so a captured request cannot be
replayed later; inside the window a resent item is answered "duplicate" and stored once.
The body is one item or a batch ({"items": [...]} or a list), each item like an import line
(id, text, created_at, author, author_followers, url, reposts, comments, likes). The answer lists
every item as accepted, duplicate or rejected with the reason: a bad value (a NUL, a count beyond
the column, Infinity, a 200,000-deep array) is refused for its item alone, never for the batch. `GET /api/v1/openapi.json` describes
all this for the people who write the sender (openapi.json beside this file), and the read API
(read.py) beside it; a personal API token is refused here, as a source's token is there.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from pathlib import Path

from flask import Blueprint, current_app, jsonify, request, send_file

from opinion.accounts.tokens import SECRET_PREFIX
from opinion.ingest.collect import record_received, record_refusal
from opinion.ingest.importer import row_to_post
from opinion.ingest.queries import webhook_source
from opinion.ingest.store import MAX_DEPTH, TOO_DEEP, IngestReport, new_items
from opinion.models import Source, db, utcnow
from opinion.pipeline.batch import ingest
from opinion.tasks.collect import to_message

bp = Blueprint("ingest_api", __name__, url_prefix="/api/v1")
REPLAY_WINDOW = 300
MAX_BODY = 5 * 1024 * 1024
MAX_ITEMS = 1000


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature a sender puts in X-Opinion-Signature."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _error(status: int, message: str, code: str):
    return jsonify({"error": message, "code": code}), status


def _refuse(source: Source, message: str, code: str, status: int = 401):
    """Refusals are written on the source too, where its operators look."""
    record_refusal(source, utcnow(), message)
    db.session.commit()
    return _error(status, message, code)


@bp.route("/openapi.json")
def openapi():
    return send_file(Path(__file__).with_name("openapi.json"), mimetype="application/json", max_age=3600)


@bp.route("/ingest", methods=["POST"])
def ingest_webhook():
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Bearer ") or not auth[7:].strip():
        return _error(401, "缺少令牌：请在 Authorization 头中提供 Bearer 令牌", "missing_token")
    source = webhook_source(db.session, auth[7:].strip())
    if source is None:
        if auth[7:].strip().startswith(SECRET_PREFIX):
            return _error(401, "令牌无效：这是个人 API 令牌，只能用于读取接口；推送请使用数据源的令牌", "invalid_token")
        return _error(401, "令牌无效", "invalid_token")
    if not source.enabled:
        return _error(403, f"数据源“{source.name}”已停用", "source_disabled")
    if request.content_length is not None and request.content_length > MAX_BODY:
        return _refuse(source, f"请求体过大（上限 {MAX_BODY // (1024 * 1024)} MB）", "too_large", 413)
    body = request.get_data(cache=False)
    if len(body) > MAX_BODY:
        return _refuse(source, f"请求体过大（上限 {MAX_BODY // (1024 * 1024)} MB）", "too_large", 413)
    stamp = request.headers.get("X-Opinion-Timestamp", "")
    # ASCII digits, at most 12: "²" passes isdigit() and fails int(), 400 digits overflow a float
    if not re.fullmatch(r"[0-9]{1,12}", stamp):
        return _refuse(source, "缺少或无效的时间戳 X-Opinion-Timestamp（Unix 秒）", "bad_timestamp")
    skew = abs(time.time() - int(stamp))
    if skew > REPLAY_WINDOW:
        return _refuse(source, f"时间戳与服务器相差 {int(skew)} 秒，超过 {REPLAY_WINDOW // 60} 分钟：请求已过期或被重放",
                       "stale_timestamp")
    secret = (source.config or {}).get("secret") or ""
    given = request.headers.get("X-Opinion-Signature", "")
    if not secret or not hmac.compare_digest(sign(secret, stamp, body), given):
        return _refuse(source, "签名无效：应为 sha256=HMAC-SHA256(密钥, 时间戳 + \".\" + 请求体) 的十六进制", "bad_signature")
    try:
        text = body.decode("utf-8")
        try:
            data = json.loads(text)
        except RecursionError:
            # one item nested too deep: cut it off there, so it alone is refused, with the reason
            data = json.loads(cut_deep(text, MAX_DEPTH + 4))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return _refuse(source, f"请求体不是 UTF-8 编码的 JSON：{exc}", "bad_json", 400)
    rows = data.get("items") if isinstance(data, dict) and "items" in data else data
    rows = rows if isinstance(rows, list) else [rows]
    if len(rows) > MAX_ITEMS:
        return _refuse(source, f"单次最多推送 {MAX_ITEMS} 条，本次 {len(rows)} 条", "too_many", 413)
    return jsonify(_ingest_rows(source, rows))


def cut_deep(text: str, limit: int) -> str:
    """`text` (JSON) with every value nested deeper than `limit` replaced by the TOO_DEEP marker,
    which validation refuses: Python's parser cannot read a 200,000-deep array at all, and the
    other items of the batch must not be lost with it. One pass, strings skipped whole."""
    out, depth, i, n, cut_from = [], 0, 0, len(text), None
    marker = json.dumps(TOO_DEEP)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if cut_from is None:
                out.append(text[i:j + 1])
            i = j + 1
            continue
        if c in "[{":
            depth += 1
            if depth == limit + 1 and cut_from is None:
                cut_from = depth
                out.append(marker)
        elif c in "]}":
            depth -= 1
            if cut_from is not None and depth < cut_from:
                cut_from = None
                i += 1
                continue
        if cut_from is None:
            out.append(c)
        i += 1
    return "".join(out)


def _ingest_rows(source: Source, rows: list) -> dict:
    results: list[dict] = []
    posts = []
    for n, row in enumerate(rows):
        ident = str(row.get("id")) if isinstance(row, dict) and row.get("id") not in (None, "") else None
        post = row_to_post(row, {}) if isinstance(row, dict) else "每一条应为 JSON 对象"
        if isinstance(post, str):
            results.append({"index": n, "id": ident, "status": "rejected", "reason": post})
        else:
            results.append({"index": n, "id": ident, "status": None})
            posts.append(post)
    now = utcnow()
    app = current_app._get_current_object()
    if app.config.get("BROKER_URL"):
        report = _queue(app, source, posts, now)
    else:
        report = ingest(db.session, app, source, posts, now=now)
    rejected = dict(report.rejected)
    accepted = set(report.accepted)
    seen: set[str] = set()
    for result in results:
        if result["status"]:
            continue
        ident = result["id"]
        if ident in rejected:
            result.update(status="rejected", reason=rejected[ident])
        elif ident in accepted and ident not in seen:
            result["status"] = "accepted"
        else:
            result["status"] = "duplicate"  # stored before, or sent twice in this batch
        seen.add(ident)
    # The source's page shows every refusal of this delivery, those the items' shape earned too.
    report.rejected = [(r["id"] or f"第 {r['index'] + 1} 条", r["reason"]) for r in results if r["status"] == "rejected"]
    record_received(db.session.merge(source), now, report)
    db.session.commit()
    answer = {"accepted": sum(r["status"] == "accepted" for r in results),
              "duplicate": sum(r["status"] == "duplicate" for r in results),
              "rejected": sum(r["status"] == "rejected" for r in results), "items": results}
    if app.config.get("BROKER_URL"):
        answer["queued"] = True  # accepted items are stored within seconds, by the ingest queue
    return answer


def _queue(app, source: Source, posts: list, now) -> IngestReport:
    """Queue mode (OPINION_BROKER_URL): the same checks as in process (valid, not stored yet),
    then the new items go to a worker for analysis and on to the one ingest consumer, so topic
    assignment stays serial however many web processes receive pushes; two web processes must
    never each open a topic for the same matter. A resent item that is queued but not stored yet
    is answered "accepted" again and still stored once (unique per source and external id)."""
    from opinion.jobs import init_task_queue  # lazy: APScheduler and Dramatiq only where a broker is set

    report = IngestReport()
    fresh = new_items(db.session, source, posts, now, report)
    if fresh:
        init_task_queue(app).send("analyse_batch", source_id=source.id, items=[to_message(p) for p in fresh])
    report.accepted = [p.external_id for p in fresh]
    return report
