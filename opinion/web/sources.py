"""数据源: the health of every channel, for monitors and admins, and manual entry of a post.

Monitors see each source's status, last success, last error in words, items today and next run,
switch sources on and off and run one now; admins also add and edit sources. A monitor who sees a
post elsewhere (a forum, a newspaper, a phone call) records it here and it goes through the same
ingest as everything collected.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from collectors import PUSH_KINDS
from collectors.base import NormalisedPost
from opinion import audit
from opinion.errors import SourceConfigError
from opinion.ingest.collect import record_received
from opinion.ingest.importer import get_or_create_source
from opinion.ingest.sources import apply_settings, create_source, describe_health, has_switch, masked, set_enabled
from opinion.labels import SOURCE_KIND_NAMES
from opinion.models import Source, db, utcnow
from opinion.pipeline.batch import ingest
from opinion.pipeline.runs import run_source
from opinion.web.auth import roles_required
from opinion.web.forms import commit_or_flash

bp = Blueprint("sources", __name__, url_prefix="/sources")
MANUAL_SOURCE = "manual"
EDITABLE_KINDS = [k for k in SOURCE_KIND_NAMES if k not in ("file", "manual")]


def _source(source_id: int) -> Source:
    return db.session.get(Source, source_id) or abort(404)


@bp.route("/")
@roles_required("monitor", "admin")
def index():
    sources = db.session.execute(select(Source).order_by(Source.enabled.desc(), Source.code)).scalars().all()
    return render_template("sources.html", rows=describe_health(sources), kinds=SOURCE_KIND_NAMES, push_kinds=PUSH_KINDS,
                           has_switch=has_switch)


@bp.route("/<int:source_id>/toggle", methods=["POST"])
@roles_required("monitor", "admin")
def toggle(source_id: int):
    source = _source(source_id)
    if not has_switch(source):
        flash(f"“{source.name}”由人工录入或文件导入，随时可用，无需启用或停用", "error")
        return redirect(url_for("sources.index"))
    enabled = not source.enabled
    set_enabled(source, enabled)
    audit.record(db.session, "source.enabled" if enabled else "source.disabled", "source", source.id,
                 actor=current_user, at=utcnow())
    db.session.commit()
    flash(f"数据源“{source.name}”已{'启用' if enabled else '停用'}")
    return redirect(url_for("sources.index"))


@bp.route("/<int:source_id>/run", methods=["POST"])
@roles_required("monitor", "admin")
def run_now(source_id: int):
    source = _source(source_id)
    if source.kind in PUSH_KINDS:
        flash(f"“{source.name}”由对方推送或人工录入，无需采集", "error")
        return redirect(url_for("sources.index"))
    line = run_source(current_app._get_current_object(), source)  # bounded by the collectors' timeouts
    source = _source(source_id)
    flash(line, "error" if source.status == "failing" else "info")
    return redirect(url_for("sources.index"))


def _form_data() -> dict:
    return {k: v for k, v in request.form.items() if k != "csrf_token"}


@bp.route("/new", methods=["GET", "POST"])
@roles_required("admin")
def new():
    data = _form_data() if request.method == "POST" else {"kind": "rss", "interval_seconds": "600"}
    if request.method == "POST":
        def create():
            source, notes = create_source(data)
            audit.record(db.session, "source.created", "source", source.id, actor=current_user, at=utcnow(),
                         after={"code": source.code, "kind": source.kind, "name": source.name})
            return source, notes
        created = commit_or_flash(create, refusals=(SourceConfigError,))
        if not created:
            return render_template("source_edit.html", source=None, data=data, kinds=EDITABLE_KINDS,
                                   kind_names=SOURCE_KIND_NAMES), 400
        source, notes = created.value
        flash(f"已添加数据源“{source.name}”")
        for note in notes:
            flash(note)
        return redirect(url_for("sources.index"))
    return render_template("source_edit.html", source=None, data=data, kinds=EDITABLE_KINDS, kind_names=SOURCE_KIND_NAMES)


@bp.route("/<int:source_id>/edit", methods=["GET", "POST"])
@roles_required("admin")
def edit(source_id: int):
    source = _source(source_id)
    config = source.config or {}
    period = config.get("expected_period_seconds")
    data = {"name": source.name, "url": config.get("url", ""), "interval_seconds": source.interval_seconds,
            "jitter_seconds": config.get("jitter_seconds", ""), "base_url": config.get("base_url", ""),
            "expected_period_hours": period // 3600 if period else ""}
    if request.method == "POST":
        data = _form_data()
        before = {"name": source.name, "interval_seconds": source.interval_seconds, "config": masked(config)}

        def save() -> list[str]:
            notes = apply_settings(source, data, new=False)
            audit.record(db.session, "source.edited", "source", source.id, actor=current_user, at=utcnow(),
                         before=before, after={"name": source.name, "interval_seconds": source.interval_seconds,
                                               "config": masked(source.config)})
            return notes
        saved = commit_or_flash(save, refusals=(SourceConfigError,))
        if not saved:
            return render_template("source_edit.html", source=_source(source_id), data=data,
                                   kinds=EDITABLE_KINDS, kind_names=SOURCE_KIND_NAMES), 400
        notes = saved.value
        flash(f"已保存数据源“{source.name}”")
        for note in notes:
            flash(note)
        return redirect(url_for("sources.index"))
    return render_template("source_edit.html", source=source, data=data, kinds=EDITABLE_KINDS,
                           kind_names=SOURCE_KIND_NAMES, config=masked(config))


def _manual_post(form: dict) -> NormalisedPost:
    """The form as a post; raises SourceConfigError naming the field to fix."""
    text = (form.get("text") or "").strip()
    if not text:
        raise SourceConfigError("请填写帖子内容")
    url = (form.get("url") or "").strip() or None
    if url and not url.lower().startswith(("http://", "https://")):
        raise SourceConfigError("链接须以 http:// 或 https:// 开头")
    created = None
    if form.get("created_at"):
        try:
            created = datetime.fromisoformat(form["created_at"])
        except ValueError:
            raise SourceConfigError(f"发帖时间“{form['created_at']}”格式不对") from None
        if created.tzinfo is None:  # typed on the page in Beijing time
            created = created.replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))
    followers = (form.get("author_followers") or "").strip()
    if followers and not followers.isdigit():
        raise SourceConfigError("粉丝数应为非负整数")
    author = (form.get("author") or "").strip() or None
    # The same post entered twice (a double click, two monitors) gets the same id and is stored once.
    key = "\n".join([text, url or "", author or "", created.isoformat() if created else ""])
    return NormalisedPost(external_id="manual-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:20], text=text,
                          created_at=created, author=author and author[:100], url=url,
                          author_followers=int(followers) if followers else None,
                          payload={"entered_by": current_user.username, "platform": form.get("platform") or None})


@bp.route("/manual", methods=["GET", "POST"])
@roles_required("monitor", "admin")
def manual():
    if request.method == "GET":
        return render_template("manual_entry.html", data={})
    data = _form_data()
    try:
        post = _manual_post(data)
    except SourceConfigError as exc:
        flash(str(exc), "error")
        return render_template("manual_entry.html", data=data), 400
    source = get_or_create_source(MANUAL_SOURCE, kind="manual", name="人工录入")
    report = ingest(db.session, current_app._get_current_object(), source, [post])
    if report.rejected:
        flash(f"未能录入：{report.rejected[0][1]}", "error")
        return render_template("manual_entry.html", data=data), 400
    if report.duplicate:
        flash("这条帖子此前已录入，未重复保存")
    else:
        audit.record(db.session, "post.entered", "source", source.id, actor=current_user, at=utcnow(),
                     after={"external_id": post.external_id})
        record_received(source, utcnow())
        db.session.commit()
        flash("已录入，并已进入分析、话题与分拨流程" + (f"（新开工单 {report.cases_opened} 件）" if report.cases_opened else ""))
    return redirect(url_for("sources.manual"))
