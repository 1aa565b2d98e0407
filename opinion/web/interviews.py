"""在线访谈 for staff: the list and the scheduling form (admins, monitors), the screening page
(monitors), the live answering page (the leader's office: a spokesperson of the interview's unit,
or a monitor), the steps 开始/结束/发布实录 and the transcript as a Word document. District
leaders read the list and the transcripts; they neither screen nor answer. The workflow
itself is opinion.interviews; the public page is opinion.web.public."""
from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from opinion.interviews import live, questions
from opinion.interviews.transcript import public_interview
from opinion.models import SCREENING_STATUSES, Interview, InterviewQuestion, Post, Unit, db, utcnow
from opinion.reports.docx import render_interview_docx
from opinion.reports.document import MEDIA_TYPES
from opinion.reports.html import public_url
from opinion.routing import Router
from opinion.web.auth import roles_required
from opinion.web.forms import commit_or_flash

bp = Blueprint("interviews", __name__, url_prefix="/interviews")
STAFF = ("admin", "monitor", "spokesperson")
READERS = (*STAFF, "leader")   # a leader reads the list and the transcripts, nothing more
ORGANISERS = ("admin", "monitor")


def _district():
    return current_app.extensions["district"]


def _interview(interview_id: int) -> Interview:
    return db.session.get(Interview, interview_id) or abort(404)


def _question(interview: Interview, question_id: int) -> InterviewQuestion:
    question = db.session.get(InterviewQuestion, question_id)
    if question is None or question.interview_id != interview.id:
        abort(404)
    return question


def _router() -> Router:
    """One router per process (its classifier loads once), for the follow-up's suggested unit."""
    app = current_app._get_current_object()
    if "opinion.interview_router" not in app.extensions:
        app.extensions["opinion.interview_router"] = Router(app.extensions["district"])
    return app.extensions["opinion.interview_router"]


def _units():
    return db.session.execute(select(Unit).where(Unit.active.is_(True), Unit.kind != "centre")
                              .order_by(Unit.id)).scalars().all()


def _local(text: str) -> datetime | None:
    try:
        local = datetime.strptime((text or "").strip(), "%Y-%m-%dT%H:%M")
    except ValueError:
        return None
    return local.replace(tzinfo=ZoneInfo(_district().timezone))


@bp.route("/")
@roles_required(*READERS)
def index(form=None, status: int = 200):
    query = select(Interview).order_by(Interview.scheduled_at.desc())
    if current_user.role == "spokesperson":
        query = query.where(Interview.unit_id == current_user.unit_id)
    rows = db.session.execute(query.limit(200)).scalars().all()
    return render_template("interviews.html", rows=rows, units=_units(), form=form or {},
                           can_schedule=current_user.role in ORGANISERS), status


@bp.route("/", methods=["POST"])
@roles_required(*ORGANISERS)
def schedule():
    form = request.form
    when = _local(form.get("scheduled_at", ""))
    unit = db.session.get(Unit, form.get("unit_id", type=int) or 0)
    done = commit_or_flash(lambda: live.schedule(db.session, current_user, unit, form.get("guest_name", ""),
                                                 form.get("guest_title", ""), form.get("theme", ""), when, utcnow(),
                                                 title=form.get("title", "")), prefix="未安排：")
    if not done:
        return index(form=form, status=400)
    flash("已安排访谈。请把公开页面的地址发布出去，网友即可提前提问", "info")
    return redirect(url_for("interviews.show", interview_id=done.value.id))


def _counts(interview: Interview) -> dict[str, int]:
    counts = dict.fromkeys(SCREENING_STATUSES, 0)
    for status in db.session.execute(select(InterviewQuestion.status).where(
            InterviewQuestion.interview_id == interview.id)).scalars():
        counts[status] += 1
    return counts


def _check_sees(interview: Interview) -> None:
    if current_user.role == "spokesperson" and current_user.unit_id != interview.unit_id:
        abort(403)


@bp.route("/<int:interview_id>")
@roles_required(*READERS)
def show(interview_id: int):
    interview = _interview(interview_id)
    _check_sees(interview)
    transcript = public_interview(db.session, interview, with_transcript=True) \
        if interview.status != "scheduled" else None
    return render_template("interview.html", interview=interview, counts=_counts(interview), transcript=transcript,
                           SCREENING_STATUSES=SCREENING_STATUSES, steps=live.STEPS,
                           can_answer=live.can_answer(current_user, interview),
                           public_link=public_url("public.interview_page", slug=interview.slug))


@bp.route("/<int:interview_id>/status", methods=["POST"])
@roles_required(*ORGANISERS)
def move(interview_id: int):
    interview, to = _interview(interview_id), request.form.get("to", "")
    if to not in live.STEPS:
        abort(400)
    if commit_or_flash(lambda: live.move(db.session, interview, to, current_user, utcnow())):
        flash({"live": "访谈已开始，网友提问继续接收", "ended": "访谈已结束，不再接收提问",
               "published": "实录已发布，公开页面显示问答"}[to], "info")
    return redirect(url_for("interviews.show", interview_id=interview.id))


# --- screening (monitors) ----------------------------------------------------------------------

@bp.route("/<int:interview_id>/screen")
@roles_required(*ORGANISERS)
def screen(interview_id: int):
    interview = _interview(interview_id)
    wanted = request.args.get("status", "pending")
    wanted = wanted if wanted in SCREENING_STATUSES else "pending"
    rows = db.session.execute(select(InterviewQuestion).where(
        InterviewQuestion.interview_id == interview.id, InterviewQuestion.status == wanted)
        .order_by(InterviewQuestion.id)).scalars().all()
    district = _district()
    return render_template("interview_screen.html", interview=interview, rows=rows, wanted=wanted,
                           counts=_counts(interview), SCREENING_STATUSES=SCREENING_STATUSES,
                           sensitive=lambda q: questions.sensitive_words_in(district, q.text))


@bp.route("/<int:interview_id>/questions/<int:question_id>/screen", methods=["POST"])
@roles_required(*ORGANISERS)
def screen_one(interview_id: int, question_id: int):
    interview = _interview(interview_id)
    question, action, now = _question(interview, question_id), request.form.get("action"), utcnow()
    if action == "adopt":
        do = lambda: questions.adopt(db.session, _district(), question, current_user, now,  # noqa: E731
                                     confirmed=bool(request.form.get("confirmed")))
    elif action == "reject":
        do = lambda: questions.reject(db.session, question, current_user, request.form.get("reason", ""), now)  # noqa: E731
    elif action == "merge":
        target = request.form.get("into", "").strip().lstrip("#第号 ")
        into = db.session.get(InterviewQuestion, int(target)) if target.isdigit() and len(target) < 10 else None
        do = lambda: questions.merge(db.session, question, into, current_user, now)  # noqa: E731
    else:
        abort(400)
    if commit_or_flash(do, prefix=f"第 {question.id} 号未处理："):
        flash(f"第 {question.id} 号提问：{question.status_name}", "info")
    return redirect(url_for("interviews.screen", interview_id=interview.id,
                            status=request.form.get("back", "pending")))


@bp.route("/<int:interview_id>/from-post", methods=["POST"])
@roles_required(*ORGANISERS)
def from_post(interview_id: int):
    """A collected post (a netizen asking under the announcement) taken in as a question."""
    interview = _interview(interview_id)
    text = request.form.get("post_id", "").strip().lstrip("#")
    post = db.session.get(Post, int(text)) if text.isdigit() and len(text) < 10 else None
    if post is None:
        flash(f"帖子编号“{text}”不存在，请在帖子检索中核对编号", "error")
    elif commit_or_flash(lambda: questions.add_from_post(db.session, _district(), interview, post, utcnow()),
                         prefix="未加入："):
        flash(f"已把帖子 #{post.id} 加入提问，待筛选", "info")
    return redirect(url_for("interviews.screen", interview_id=interview.id))


# --- live answers (the leader's office) --------------------------------------------------------

def _check_answerer(interview: Interview) -> None:
    if not live.can_answer(current_user, interview):
        abort(403)


@bp.route("/<int:interview_id>/live")
@roles_required("spokesperson", "monitor")
def answer_page(interview_id: int, drafts: dict | None = None, status: int = 200):
    interview = _interview(interview_id)
    _check_answerer(interview)
    rows = db.session.execute(select(InterviewQuestion).where(
        InterviewQuestion.interview_id == interview.id, InterviewQuestion.status == "adopted")
        .order_by(InterviewQuestion.answered_at.is_not(None), InterviewQuestion.id)).scalars().all()
    router, suggestions = _router(), {}
    for q in rows:
        if q.case_id is None:
            suggestions[q.id] = live.suggested_unit(db.session, router, q)
    return render_template("interview_live.html", interview=interview, rows=rows, units=_units(),
                           suggestions=suggestions, drafts=drafts or {}), status


@bp.route("/<int:interview_id>/questions/<int:question_id>/answer", methods=["POST"])
@roles_required("spokesperson", "monitor")
def answer(interview_id: int, question_id: int):
    interview = _interview(interview_id)
    _check_answerer(interview)
    question, text = _question(interview, question_id), request.form.get("answer", "")
    done = commit_or_flash(lambda: live.answer(db.session, _district(), question, current_user, text, utcnow(),
                                               confirmed=bool(request.form.get("confirmed"))),
                           prefix=f"第 {question.id} 号答复未发送：")
    if not done:   # what was typed stays in its box, with the confirm box where only warnings stood
        return answer_page(interview.id, drafts={question.id: {
            "text": text, "confirm": isinstance(done.error, live.NeedsConfirmation)}}, status=400)
    flash(f"第 {question.id} 号提问已答复", "info")
    return redirect(url_for("interviews.answer_page", interview_id=interview.id) + f"#q{question.id}")


@bp.route("/<int:interview_id>/questions/<int:question_id>/follow-up", methods=["POST"])
@roles_required("spokesperson", "monitor")
def follow_up(interview_id: int, question_id: int):
    interview = _interview(interview_id)
    _check_answerer(interview)
    question = _question(interview, question_id)
    unit = db.session.get(Unit, request.form.get("unit_id", type=int) or 0)
    done = commit_or_flash(lambda: live.follow_up(db.session, _district(), question, unit, current_user,
                                                  request.form.get("note", ""), utcnow()),
                           prefix=f"第 {question.id} 号未转交：")
    if done:
        flash(f"第 {question.id} 号提问已转交{done.value.unit.name}办理（工单 #{done.value.id}）", "info")
    return redirect(url_for("interviews.answer_page", interview_id=interview.id) + f"#q{question.id}")


@bp.route("/<int:interview_id>/transcript.docx")
@roles_required(*READERS)
def transcript_docx(interview_id: int):
    interview = _interview(interview_id)
    _check_sees(interview)
    view = public_interview(db.session, interview, with_transcript=True)
    if not view.exchanges:
        flash("还没有已答复的提问，实录暂无内容", "error")
        return redirect(url_for("interviews.show", interview_id=interview.id))
    return send_file(io.BytesIO(render_interview_docx(view)), mimetype=MEDIA_TYPES["docx"], as_attachment=True,
                     download_name=f"{interview.title}实录.docx")

