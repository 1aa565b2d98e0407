"""The write API under /api/v1/cases/{id}/…: the case actions a partner system needs (签收, 回复,
申请退回, 办结, 回访), on the read API's blueprint, token and error shape (opinion.web.api.read).

Each action calls the same service as the case page, so the permission checks (a spokesperson's
token acts on its unit's cases, only monitors record callbacks), the reply check and approval,
and the audit log are the pages' own. A JSON body `version` (the case's `version` as read)
refuses a change made on a stale read with 409 conflict, as a stale page is.
"""
from __future__ import annotations

from flask import current_app, g, jsonify, request
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from opinion.accounts.queries import unit_by_code
from opinion.cases import lifecycle, replies, survey, transfers
from opinion.errors import CaseStateError, ConflictError, EditLockedError, PermissionDenied, PublishError
from opinion.models import Case, db, utcnow
from opinion.web.api import serialize as api_json
from opinion.web.api.read import bp, fail, params
from opinion.web.cases import public_base_url

WRITE_FIELDS = {"acknowledge": {"version"}, "reply": {"version", "text", "link", "confirmed"},
                "transfer": {"version", "reason", "suggested_unit"}, "resolve": {"version", "note"},
                "callback": {"version", "satisfaction", "note"},
                "interview_question": {"text", "nickname"}}  # opinion.web.api.interviews


def body_of(action: str) -> dict:
    """The JSON object an action was sent, with only the fields WRITE_FIELDS gives it; else 400 bad_body."""
    data = request.get_json(silent=True) if request.data else {}
    if not isinstance(data, dict):
        fail(400, "请求体应为 JSON 对象", "bad_body")
    unknown = sorted(set(data) - WRITE_FIELDS[action])
    if unknown:
        fail(400, f"未知字段：{'、'.join(unknown)}（此接口可用的字段：{'、'.join(sorted(WRITE_FIELDS[action]))}）",
             "bad_body")
    return data


def text_field(data: dict, name: str) -> str:
    value = data.get(name, "")
    if not isinstance(value, str):
        fail(400, f"字段 {name} 应为字符串", "bad_body")
    return value


def _run(case_id: int, action: str, do):
    """Find the case as the token's user sees it, run `do(case, body)`, commit; or the error."""
    data = body_of(action)
    case = db.session.execute(lifecycle.visible_cases(g.api_user).where(Case.id == case_id)
                              .options(*api_json.CASE_LOADS, selectinload(Case.replies))).scalar_one_or_none()
    if case is None:
        fail(404, f"工单 #{case_id} 不存在", "not_found")
    try:
        lifecycle.check_version(case, data.get("version"))
        extra = do(case, data)
        db.session.commit()
    except PermissionDenied as exc:
        db.session.rollback()
        fail(403, str(exc), "forbidden")
    except (ConflictError, StaleDataError) as exc:
        db.session.rollback()
        fail(409, str(exc) if isinstance(exc, ConflictError) else "该工单刚被他人修改，请重新读取后再提交", "conflict")
    except EditLockedError as exc:
        db.session.rollback()
        fail(409, str(exc), "edit_locked")
    except (CaseStateError, PublishError) as exc:
        db.session.rollback()
        fail(409, str(exc), "case_state")
    db.session.refresh(case)
    return jsonify({**api_json.case(case, detail=True), **(extra or {})})


def _district():
    return current_app.extensions["district"]


@bp.route("/cases/<int:case_id>/acknowledge", methods=["POST"])
@params()
def case_acknowledge(case_id: int):
    """签收, as the case page's button."""
    return _run(case_id, "acknowledge", lambda case, data: lifecycle.acknowledge(db.session, case, g.api_user, utcnow()))


@bp.route("/cases/<int:case_id>/reply", methods=["POST"])
@params()
def case_reply(case_id: int):
    """A reply through the composer: checked, sent to approval where the page would, published."""
    def do(case, data):
        out = replies.submit(db.session, _district(), case, g.api_user, text_field(data, "text"), utcnow(),
                             link=text_field(data, "link") or None, confirmed=data.get("confirmed") is True,
                             tz=current_app.config["TIMEZONE"])
        if out.status == "blocked":  # the draft is kept, as on the page; the caller sees why
            db.session.commit()
            why = "；".join(f.message for f in out.findings)
            if all(f.severity == "warning" for f in out.findings):
                why += "（均为提示：确认无误可加 \"confirmed\": true 再次提交）"
            fail(422, why, "reply_blocked")
        return {"reply_status": out.status, "approval_reason": out.reason}
    return _run(case_id, "reply", do)


@bp.route("/cases/<int:case_id>/transfer", methods=["POST"])
@params()
def case_transfer(case_id: int):
    """申请退回 to the monitoring centre, with the reason and optionally the unit it belongs to."""
    def do(case, data):
        code = text_field(data, "suggested_unit")
        unit = unit_by_code(db.session, code) if code else None
        if code and unit is None:
            fail(400, f"字段 suggested_unit 应为单位代码，没有代码为 “{code}” 的单位", "bad_body")
        transfers.transfer_back(db.session, _district(), case, g.api_user, text_field(data, "reason"), utcnow(),
                                suggested_unit=unit)
    return _run(case_id, "transfer", do)


@bp.route("/cases/<int:case_id>/resolve", methods=["POST"])
@params()
def case_resolve(case_id: int):
    """办结, with the note of what was done; the citizen's survey link is issued as from the page."""
    return _run(case_id, "resolve", lambda case, data: survey.resolve(
        db.session, _district(), case, g.api_user, text_field(data, "note"), utcnow(), base_url=public_base_url()) and None)


@bp.route("/cases/<int:case_id>/callback", methods=["POST"])
@params()
def case_callback(case_id: int):
    """回访 recorded by a monitor (a hotline's callback): 满意/基本满意 verify, 不满意 reopens."""
    return _run(case_id, "callback", lambda case, data: lifecycle.record_callback(
        db.session, _district(), case, g.api_user, text_field(data, "satisfaction"), text_field(data, "note"), utcnow()))
