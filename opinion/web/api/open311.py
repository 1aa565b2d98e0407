"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2/): the standard that civic-issue
apps, FixMyStreet and city 12345 platforms speak, so they can file requests here and follow them.

- `GET /open311/v2/services.json`: the district's categories as services.
- `POST /open311/v2/requests.json` (form fields, as the standard sends them): a request becomes
  a post of the "open311" source and goes through the same pipeline as every post (analysis,
  topic, routing, case); its location and contact are kept in the post's payload, and a phone
  number on the case, so the satisfaction survey reaches the citizen by SMS. Needs `api_key`: a
  personal API token of a monitor or admin account (the partner system's account), as /api/v1.
- `GET /open311/v2/requests.json` and `requests/{id}.json`: status (open/closed), the handling
  unit, the deadline and the latest public reply as status_notes. Public, as the standard has
  them, rate-limited, and every text masked like the public lookup page.

Errors are the standard's shape: `[{"code": 400, "description": "<Chinese message>"}]`.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from flask import Blueprint, current_app, jsonify, make_response, request
from sqlalchemy import select

from collectors.base import NormalisedPost
from opinion.accounts import tokens
from opinion.cases.public import format_code, mask_personal, without_lookup_line
from opinion.cases.queries import cases_on_topic
from opinion.errors import ApiTokenError
from opinion.ingest.importer import get_or_create_source
from opinion.models import Case, Post, Source, db, utcnow
from opinion.pipeline.batch import ingest
from opinion.web.public import limiter

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
SOURCE_CODE = "open311"
SUBMITTERS = ("monitor", "admin")
CLOSED = ("resolved", "verified", "closed")
MAX_DESCRIPTION = 4000  # the standard's limit
CONTACT_FIELDS = ("email", "phone", "first_name", "last_name", "device_id", "account_id")
LOCATION_FIELDS = ("lat", "long", "address_string", "address_id")


def _fail(status: int, description: str):
    return make_response(jsonify([{"code": status, "description": description}]), status)


def _rate() -> str:
    return current_app.config["PUBLIC_RATE_LIMIT"]


def _services() -> dict[str, str]:
    return {code: code for code in current_app.extensions["district"].categories}


@bp.route("/services.json")
@limiter.limit(_rate)
def services():
    district = current_app.extensions["district"]
    units = {u.code: u.name for u in district.units}
    return jsonify([{"service_code": code, "service_name": code,
                     "description": "承办单位：" + "、".join(units.get(u, u) for u in unit_codes),
                     "metadata": False, "type": "realtime", "keywords": "", "group": "网络问政"}
                    for code, unit_codes in district.categories.items()])


def _api_user():
    secret = request.form.get("api_key") or request.args.get("api_key")
    scheme, _, bearer = request.headers.get("Authorization", "").partition(" ")
    secret = secret or (bearer.strip() if scheme.lower() == "bearer" else "")
    if not secret:
        return None, _fail(403, "缺少 api_key：请使用监测员或管理员账号的个人 API 令牌")
    try:
        token = tokens.authenticate(db.session, secret)
    except ApiTokenError as exc:
        db.session.rollback()
        return None, _fail(403, f"api_key 无效：{exc}")
    if token.user.role not in SUBMITTERS:
        db.session.rollback()
        return None, _fail(403, "该令牌的账号不能提交诉求：请使用监测员或管理员账号的令牌")
    return token.user, None


@bp.route("/requests.json", methods=["POST"])
def create_request():
    user, refused = _api_user()
    if refused:
        return refused
    form = request.form
    code = (form.get("service_code") or "").strip()
    if code not in _services():
        return _fail(400, f"service_code “{code[:40]}” 不存在：请先 GET services.json 取得可用的服务代码")
    description = (form.get("description") or "").strip()
    if not description:
        return _fail(400, "缺少 description：请描述所反映的问题")
    if len(description) > MAX_DESCRIPTION:
        return _fail(400, f"description 过长（最多 {MAX_DESCRIPTION} 字）")
    location = {f: form.get(f).strip() for f in LOCATION_FIELDS if (form.get(f) or "").strip()}
    if not (("lat" in location and "long" in location) or "address_string" in location or "address_id" in location):
        return _fail(400, "缺少位置：请提供 lat 和 long，或 address_string，或 address_id")
    for axis, bound in (("lat", 90), ("long", 180)):
        if axis in location:
            try:
                if abs(float(location[axis])) > bound:
                    raise ValueError
            except ValueError:
                return _fail(400, f"{axis} 应为 -{bound} 到 {bound} 之间的数字")
    contact = {f: form.get(f).strip()[:200] for f in CONTACT_FIELDS if (form.get(f) or "").strip()}
    name = " ".join(filter(None, (contact.get("last_name"), contact.get("first_name")))) or None
    where = location.get("address_string")
    text = f"【{code}】{description}" + (f"（地点：{where}）" if where else "")  # routing reads the place
    ident = uuid.uuid4().hex
    media = (form.get("media_url") or "").strip()
    post = NormalisedPost(external_id=ident, text=text, created_at=utcnow(), author=name or "Open311 用户",
                          url=media if media.lower().startswith(("http://", "https://")) else None,
                          payload={"open311": {"service_code": code, "description": description, **location,
                                               "contact": contact, "media_url": media or None,
                                               "submitted_by": user.username}})
    source = get_or_create_source(SOURCE_CODE, kind="manual", name="Open311 接口")
    report = ingest(db.session, current_app._get_current_object(), source, [post])
    if report.rejected:
        return _fail(400, f"未能受理：{report.rejected[0][1]}")
    stored = db.session.execute(select(Post).where(Post.source_id == source.id, Post.external_id == ident)
                                ).scalar_one()
    case = _case_of(stored)
    if case is not None and contact.get("phone") and not case.contact_phone:
        case.contact_phone = contact["phone"][:32]
    db.session.commit()
    notice = (f"已受理，由{case.unit.name}办理；查询码 {format_code(case.lookup_code)}" if case
              else "已受理，正在分拨承办单位")
    return make_response(jsonify([{"service_request_id": str(stored.id), "service_notice": notice,
                                   "account_id": None}]), 201)


def _case_of(post: Post) -> Case | None:
    """The case the post's topic opened (following merges), or None while it has none."""
    if post.topic_id is None:
        return None
    cases = cases_on_topic(db.session, post.topic_id)
    mine = [c for c in cases if c.unit_id == post.unit_id] or cases
    case = mine[-1] if mine else None
    for _ in range(10):  # a merged case answers through the one it joined
        if case is None or case.merged_into_id is None:
            break
        case = db.session.get(Case, case.merged_into_id)
    return case


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _request_json(post: Post) -> dict:
    data = (post.payload or {}).get("open311", {})
    case = _case_of(post)
    replies = case.published_replies if case else []
    closed = case is not None and case.status in CLOSED
    return {
        "service_request_id": str(post.id),
        "status": "closed" if closed else "open",
        "status_notes": mask_personal(without_lookup_line(replies[-1].text)) if replies else None,
        "service_name": data.get("service_code"),
        "service_code": data.get("service_code"),
        "description": mask_personal(data.get("description") or post.text),
        "agency_responsible": case.unit.name if case else None,
        "service_notice": f"查询码 {format_code(case.lookup_code)}" if case else "正在分拨承办单位",
        "requested_datetime": _iso(post.created_at),
        "updated_datetime": _iso(max(filter(None, (case.updated_at, *(r.published_at for r in replies))))
                                 if case else post.collected_at),
        "expected_datetime": _iso(case.resolve_due_at) if case and not closed else None,
        "address": mask_personal(data.get("address_string")) or None,
        "address_id": data.get("address_id"),
        "zipcode": None,
        "lat": float(data["lat"]) if data.get("lat") else None,
        "long": float(data["long"]) if data.get("long") else None,
        "media_url": post.url,
    }


def _open311_posts():
    return select(Post).join(Source, Post.source_id == Source.id).where(Source.code == SOURCE_CODE)


def _when(name: str) -> datetime | None:
    text = request.args.get(name)
    if not text:
        return None
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(name)
    return value


@bp.route("/requests.json")
@limiter.limit(_rate)
def list_requests():
    query = _open311_posts()
    ids = request.args.get("service_request_id")
    if ids:
        try:
            wanted = [int(i) for i in ids.split(",") if i.strip()][:100]
        except ValueError:
            return _fail(400, "service_request_id 应为以逗号分隔的编号")
        rows = db.session.execute(query.where(Post.id.in_(wanted)).order_by(Post.id)).scalars().all()
        return jsonify([_request_json(p) for p in rows])
    try:
        start, end = _when("start_date"), _when("end_date")
    except ValueError:
        return _fail(400, "start_date / end_date 应为带时区的 ISO-8601 时间，如 2026-12-01T00:00:00+08:00")
    end = end or utcnow()
    start = start or end - timedelta(days=90)  # the standard's default window
    query = query.where(Post.created_at >= start, Post.created_at <= end)
    rows = db.session.execute(query.order_by(Post.created_at.desc()).limit(1000)).scalars().all()
    out = [_request_json(p) for p in rows]
    codes = set(filter(None, (request.args.get("service_code") or "").split(",")))
    status = request.args.get("status")
    if status and status not in ("open", "closed"):
        return _fail(400, "status 只能为 open 或 closed")
    return jsonify([r for r in out if (not codes or r["service_code"] in codes)
                    and (not status or r["status"] == status)])


@bp.route("/requests/<request_id>.json")
@limiter.limit(_rate)
def get_request(request_id: str):
    post = None
    if request_id.isdigit() and int(request_id) < 2**31:
        post = db.session.execute(_open311_posts().where(Post.id == int(request_id))).scalar_one_or_none()
    if post is None:
        return _fail(404, f"没有编号为 {request_id[:20]} 的诉求")
    return jsonify([_request_json(post)])
