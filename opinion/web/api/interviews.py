"""`POST /api/v1/interviews/{id}/questions`: questions to an online interview (在线访谈) from another
system (the district's website, a 政务 app's live room), on the read API's blueprint, token and
error shape (opinion.web.api.read). A monitor's or admin's token may send; each question is checked,
masked and merged as one from the public form (opinion.interviews.questions)."""
from __future__ import annotations

from flask import current_app, jsonify

from opinion.errors import InterviewClosed, InterviewError
from opinion.interviews import questions
from opinion.models import Interview, db, utcnow
from opinion.web.api.read import bp, fail, params, require
from opinion.web.api.write import body_of, text_field


@bp.route("/interviews/<int:interview_id>/questions", methods=["POST"])
@params()
def interview_question(interview_id: int):
    require(("monitor", "admin"))
    data = body_of("interview_question")
    text, nickname = text_field(data, "text"), text_field(data, "nickname")
    interview = db.session.get(Interview, interview_id)
    if interview is None:
        fail(404, f"在线访谈 #{interview_id} 不存在", "not_found")
    try:
        question = questions.add_question(db.session, current_app.extensions["district"], interview, text, nickname,
                                          utcnow(), source="webhook")
        db.session.commit()
    except InterviewClosed as exc:
        db.session.rollback()
        fail(409, str(exc), "interview_closed")
    except InterviewError as exc:
        db.session.rollback()
        fail(400, str(exc), "bad_body")
    return jsonify({"id": question.id, "status": question.status, "merged_into": question.merged_into_id,
                    "text": question.text}), 201
