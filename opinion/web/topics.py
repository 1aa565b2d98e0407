"""A topic seen by a monitor (its posts, trend, keywords, emotions, routing), the corrections a
monitor makes to clustering (rename, merge, split), and search over posts."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from opinion.accounts.queries import active_units
from opinion.cases.lifecycle import follow_topic_merge
from opinion.cases.queries import cases_on_topic
from opinion.labels import EMOTION_NAMES, POLARITY_NAMES
from opinion.matrix import rumours
from opinion.matrix.statements import for_topic as statements_for_topic
from opinion.matrix.statements import reception as statement_reception
from opinion.models import RUMOUR_VERDICTS, Topic, Unit, db, utcnow
from opinion.pipeline.batch import loaded_topic_store
from opinion.topics import edit
from opinion.topics.queries import copy_counts, hot_topics, latest_posts, posts_in_topic
from opinion.topics.search import COUNT_CAP, count_posts, search_posts
from opinion.topics.trends import emotion_mix, sparkline_points, topic_timeline
from opinion.web.auth import roles_required
from opinion.web.forms import commit_or_flash

bp = Blueprint("topics", __name__, url_prefix="/monitor")
PAGE = 50


@bp.route("/topics/<int:topic_id>")
@roles_required("monitor", "admin")
def show(topic_id: int):
    topic = db.session.get(Topic, topic_id) or abort(404)
    counts, slot = topic_timeline(db.session, topic.id, topic.first_seen_at, topic.last_seen_at)
    merged_into = db.session.get(Topic, topic.merged_into_id) if topic.merged_into_id else None
    active_since = utcnow() - timedelta(hours=current_app.config["TOPIC_DORMANT_HOURS"])
    related = edit.related_topics(db.session, topic, active_since) if topic.status == "open" else []
    # The topics a monitor may merge into or move posts to, by name: the related ones first, then
    # the active ones by heat (typing a topic's number from another tab was the old way).
    seen = {topic.id} | {t.id for t, _ in related}
    others = [t for t in hot_topics(db.session, active_since, limit=60) if t.id not in seen]
    return render_template("monitor_topic.html", topic=topic, posts=latest_posts(db.session, topic.id),
                           copies=copy_counts(db.session, topic.id), related=related,
                           trend=sparkline_points(counts, 600, 80, 4), trend_counts=counts,
                           slot_hours=slot.total_seconds() / 3600, emotions=emotion_mix(db.session, topic.id),
                           cases=cases_on_topic(db.session, topic.id), merged_into=merged_into,
                           choices=[t for t, _ in related] + others, **_rumour_context(topic),
                           official=statements_for_topic(db.session, topic.id),
                           reception=lambda s: statement_reception(db.session, s),
                           EMOTION_NAMES=EMOTION_NAMES, POLARITY_NAMES=POLARITY_NAMES)


def _rumour_context(topic: Topic) -> dict:
    """The 辟谣 block: the topic's checks, the before/after figures once refuted, the units to ask."""
    refuted = rumours.refuted_check(db.session, topic.id)
    return {"rumour_checks": rumours.checks_on_topic(db.session, topic.id),
            "rumour_figures": rumours.before_after(db.session, topic.id, refuted.refutation_at, utcnow())
            if refuted else None,
            "rumour_refuted": refuted, "rumour_units": active_units(db.session, centre=False),
            "rumour_refutation": rumours.refutation_text(db.session, refuted) if refuted else None,
            "RUMOUR_VERDICTS": RUMOUR_VERDICTS}


@bp.route("/topics/<int:topic_id>/rumour", methods=["POST"])
@roles_required("monitor", "admin")
def mark_rumour(topic_id: int):
    """Mark the topic as a suspected rumour (疑似谣言) for a unit to verify."""
    topic = _topic_or_404(topic_id)
    unit = db.session.get(Unit, request.form.get("unit", type=int) or 0)
    if unit is None:
        flash("请选择负责核实的单位", "error")
        return redirect(url_for("topics.show", topic_id=topic.id))
    return _apply(topic.id, lambda: rumours.mark_rumour(db.session, current_app.extensions["district"], topic, unit,
                                                         current_user, request.form.get("note", ""), utcnow()),
                  f"已标记为疑似谣言，并通知{unit.name}核实")


def _store():
    """This process's topic store if it has loaded one; edits reach other processes' stores through
    the audit log before their next batch (opinion.topics.edit.sync_edits)."""
    return loaded_topic_store(current_app)


def _merge(keep: Topic, gone: Topic) -> None:
    """The topic side of a merge, then the case stage's: the merged topic's cases follow."""
    now = utcnow()
    edit.merge_topics(db.session, _store(), keep, gone, current_user, now)
    follow_topic_merge(db.session, keep, gone, current_user, now)


def _topic_or_404(topic_id: int) -> Topic:
    return db.session.get(Topic, topic_id) or abort(404)


@bp.route("/topics/<int:topic_id>/rename", methods=["POST"])
@roles_required("monitor", "admin")
def rename(topic_id: int):
    topic = _topic_or_404(topic_id)
    label = request.form.get("label", "").strip()
    return _apply(topic.id, lambda: edit.rename_topic(db.session, topic, label, current_user, utcnow()),
                  f"话题已更名为“{label}”")


@bp.route("/topics/<int:topic_id>/merge", methods=["POST"])
@roles_required("monitor", "admin")
def merge(topic_id: int):
    """Fold this topic into the one named by number (the other keeps its name and its cases)."""
    topic = _topic_or_404(topic_id)
    number = request.form.get("into", "").strip().lstrip("#").strip()
    into = db.session.get(Topic, int(number)) if number.isdigit() else None
    if into is None:
        flash(f"没有编号为 {number} 的话题" if number.isdigit() else
              f"话题编号“{number}”应为数字（话题页标题旁的 #号）" if number else
              "请从列表中选择要并入的话题", "error")
        return redirect(url_for("topics.show", topic_id=topic.id))
    return _apply(into.id, lambda: _merge(into, topic),
                  f"话题 #{topic.id} 已并入 #{into.id}", back_to=topic.id)


@bp.route("/topics/<int:topic_id>/split", methods=["POST"])
@roles_required("monitor", "admin")
def split(topic_id: int):
    """Move the ticked posts to the topic named by number, or split them off into a new topic."""
    topic = _topic_or_404(topic_id)
    ids = request.form.getlist("post", type=int)
    posts = posts_in_topic(db.session, topic.id, ids)
    target_id = request.form.get("into", type=int)
    target = db.session.get(Topic, target_id) if target_id else None
    if target_id and target is None:
        flash(f"话题 #{target_id} 不存在", "error")
        return redirect(url_for("topics.show", topic_id=topic.id))
    moved = commit_or_flash(lambda: edit.move_posts(db.session, _store(), posts, target, current_user, utcnow()))
    if not moved:
        return redirect(url_for("topics.show", topic_id=topic.id))
    flash(f"已将 {len(posts)} 条帖子移入话题 #{moved.value.id}", "info")
    return redirect(url_for("topics.show", topic_id=moved.value.id))


def _apply(topic_id: int, action, done: str, back_to: int | None = None):
    """Run one edit; on success show `topic_id`, on a refusal go back to where the form was."""
    if commit_or_flash(action):
        flash(done, "info")
    else:
        topic_id = back_to or topic_id
    return redirect(url_for("topics.show", topic_id=topic_id))


@bp.route("/search")
@roles_required("monitor", "admin")
def search():
    text = request.args.get("q", "").strip()[:100]
    page = max(request.args.get("page", 1, type=int), 1)
    tokens, posts, total = [], [], 0
    if text:
        tokens, posts = search_posts(db.session, text, PAGE, (page - 1) * PAGE)
        total = count_posts(db.session, tokens) if tokens else 0
        if not tokens:
            flash("请输入要检索的词，多个词用空格分开", "error")
    # not counted in time: a next page wherever this one is full
    pages = (min(total, COUNT_CAP) + PAGE - 1) // PAGE if total is not None else page + (len(posts) == PAGE)
    return render_template("monitor_search.html", q=text, tokens=tokens, posts=posts, total=total,
                           page=page, pages=pages, cap=COUNT_CAP, POLARITY_NAMES=POLARITY_NAMES,
                           EMOTION_NAMES=EMOTION_NAMES)

