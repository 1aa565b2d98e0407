"""`POST /api/v1/interviews/{id}/questions`: questions to an online interview (在线访谈) from another
system (the district's website, a 政务 app's live room), on the read API's blueprint, token and
error shape (opinion.web.api.read). A monitor's or admin's token may send; each question is checked,
masked and merged as one from the public form (opinion.interviews.questions)."""
from __future__ import annotations

from flask import current_app, jsonify, request

from opinion.errors import InterviewClosed, InterviewError
from opinion.interviews import questions
from opinion.models import Interview, db, utcnow
from opinion.web.api.read import bp, fail, params, require

FIELDS = {"text", "nickname"}


@bp.route("/interviews/<int:interview_id>/questions", methods=["POST"])
@params()
def interview_question(interview_id: int):
    require(("monitor", "admin"))
    data = request.get_json(silent=True) if request.data else None
    if not isinstance(data, dict):
        fail(400, "请求体应为 JSON 对象，如 {\"text\": \"问题\", \"nickname\": \"昵称\"}", "bad_body")
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        fail(400, f"未知字段：{'、'.join(unknown)}（此接口可用的字段：{'、'.join(sorted(FIELDS))}）", "bad_body")
    if not all(isinstance(data.get(name, ""), str) for name in FIELDS):
        fail(400, "字段 text 和 nickname 应为字符串", "bad_body")
    interview = db.session.get(Interview, interview_id)
    if interview is None:
        fail(404, f"在线访谈 #{interview_id} 不存在", "not_found")
    try:
        question = questions.add_question(db.session, current_app.extensions["district"], interview, data.get("text", ""),
                                          data.get("nickname", ""), utcnow(), source="webhook")
        db.session.commit()
    except InterviewClosed as exc:
        db.session.rollback()
        fail(409, str(exc), "interview_closed")
    except InterviewError as exc:
        db.session.rollback()
        fail(400, str(exc), "bad_body")
    return jsonify({"id": question.id, "status": question.status, "merged_into": question.merged_into_id,
                    "text": question.text}), 201
