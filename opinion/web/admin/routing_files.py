"""系统管理 — the gazetteer (辖区地名录) and the responsibility catalogue (事权清单), edited as YAML.

Both files are routing's (opinion.routing.places, opinion.routing.catalogue) and are re-read by the
pipeline when they change, so saving here takes effect on the next batch without a restart. What an
admin saves is checked by the same loader first, on a copy beside the file: a refused edit names the
line and leaves the file as it was, with the admin's text still on the page.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from opinion import audit
from opinion.errors import DistrictFileError
from opinion.models import db
from opinion.routing.catalogue import load_catalogue
from opinion.routing.places import load_gazetteer

FILES = {"gazetteer": "辖区地名录", "responsibilities": "事权清单"}


def add_routes(bp: Blueprint) -> None:
    bp.add_url_rule("/routing/<which>", view_func=routing_file, methods=["GET", "POST"])


def _path(which: str) -> str:
    district = current_app.extensions["district"]
    return district.gazetteer_file if which == "gazetteer" else district.catalogue_file


def _check(which: str, path: str):
    district = current_app.extensions["district"]
    units = {u.code: (u.name, u.kind) for u in district.units}
    if which == "gazetteer":
        return load_gazetteer(path, units)
    return load_catalogue(path, units, list(district.categories))


def routing_file(which: str):
    if which not in FILES:
        abort(404)
    path = _path(which)
    if not path:
        flash(f"辖区配置文件未指定{FILES[which]}文件（district.yaml 中的 "
              f"{'gazetteer' if which == 'gazetteer' else 'responsibilities'}），请先在配置文件中写明", "error")
        return redirect(url_for("admin.index"))
    title = FILES[which]
    if request.method == "POST":
        text = request.form.get("body", "").replace("\r\n", "\n")
        error = _save(which, path, text)
        if error is None:
            flash(f"{title}已保存，下一批帖子即按新文件分拨（无需重启）", "info")
            return redirect(url_for("admin.routing_file", which=which))
        flash(f"未保存：{error}", "error")
        return render_template("admin/routing_file.html", which=which, title=title, body=text,
                               files=FILES), 400
    try:
        body = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        body = ""
        flash(f"无法读取 {path}（{exc.strerror}），保存时将新建该文件", "error")
    return render_template("admin/routing_file.html", which=which, title=title, body=body, files=FILES)


def _save(which: str, path: str, text: str) -> str | None:
    """Check the text with routing's own loader on a copy beside the file, then put it in place in
    one step (a reader never sees half a file). The refusal's message, naming the line, or None."""
    folder = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=".check-", suffix=".yaml", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        try:
            _check(which, tmp)
        except DistrictFileError as exc:
            return str(exc).replace(tmp, os.path.basename(path))
        try:
            before = Path(path).read_text(encoding="utf-8")
        except OSError:
            before = ""
        os.replace(tmp, path)
        tmp = None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    audit.record(db.session, "config.changed", "setting", None, actor=current_user,
                 before={which: before[:20000]}, after={which: text[:20000]}, reason=which)
    db.session.commit()
    return None
