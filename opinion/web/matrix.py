"""政务微博矩阵: the matrix page (monitors, leaders, admins) and the accounts' form (admins).

The page reads opinion.matrix.figures at the present moment; the command line replays another
(`matrix check --now`). An admin adds and edits each unit's official accounts here and sets the
number of days after which a silent account is a 僵尸号 (a district setting, as the other ones).
"""
from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from opinion import audit
from opinion.accounts.queries import active_units
from opinion.errors import DistrictFileError
from opinion.labels import PLATFORM_NAMES
from opinion.matrix import rumours
from opinion.matrix.figures import account_figures, add_statement_delays, unit_figures
from opinion.models import ACCOUNT_PLATFORMS, RUMOUR_VERDICTS, OfficialAccount, RumourCheck, Unit, db, utcnow
from opinion.settings.overrides import save_section, section
from opinion.web.auth import roles_required
from opinion.web.forms import commit_or_flash

bp = Blueprint("matrix", __name__, url_prefix="/matrix")
_URL = re.compile(r"^https?://\S+$", re.I)
_NUMBER = re.compile(r"^\d+$")


class AccountFormError(Exception):
    """A field of the account form the admin must fix; the message names it."""


@bp.route("/")
@roles_required("monitor", "leader", "admin")
def index():
    district = current_app.extensions["district"]
    now = utcnow()
    accounts = account_figures(db.session, now, district.timezone, district.matrix_silent_days,
                               no_reply_days=district.matrix_no_reply_days)
    units = unit_figures(accounts)
    add_statement_delays(db.session, units, now)
    silent = [a for a in accounts if a.silent]
    no_reply = [a for a in accounts if a.no_reply]
    covered = {a.account.unit_id for a in accounts}
    missing = [u for u in active_units(db.session, centre=False) if u.id not in covered]
    return render_template("matrix.html", accounts=accounts, units=units, silent=silent, missing=missing,
                           no_reply=no_reply, no_reply_days=district.matrix_no_reply_days,
                           silent_days=district.matrix_silent_days, now=now, PLATFORM_NAMES=PLATFORM_NAMES,
                           totals={"followers": sum(u.followers for u in units),
                                   "week": sum(u.posts_week for u in units),
                                   "month": sum(u.posts_month for u in units),
                                   "interactions": sum(u.interactions_month for u in units)})


@bp.route("/accounts/new", methods=["GET", "POST"], defaults={"account_id": None})
@bp.route("/accounts/<int:account_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit(account_id: int | None):
    account = db.session.get(OfficialAccount, account_id) if account_id else None
    if account_id and account is None:
        abort(404)
    if request.method == "POST":
        outcome = commit_or_flash(lambda: _save(account, request.form), refusals=(AccountFormError,),
                                  prefix="未保存：")
        if outcome.error is None:
            flash(f"政务账号“{outcome.value.handle}”已保存，下一次采集时读取", "info")
            return redirect(url_for("matrix.index"))
        return _form_page(account, request.form), 400
    return _form_page(account, _as_form(account) if account else {"platform": "weibo", "interval_minutes": "60",
                                                                   "enabled": "on"})


@bp.route("/settings", methods=["POST"])
@roles_required("admin")
def settings():
    def save():
        text = request.form.get("silent_days", "").strip()
        if not _NUMBER.match(text):
            raise AccountFormError("“僵尸号判定天数”应为 1 到 365 的整数")
        # the section's other days (no_reply_days) are kept as they are
        save_section(current_app, "matrix", {**(section(current_app, "matrix") or {}), "silent_days": int(text)},
                     current_user)
    if commit_or_flash(save, refusals=(AccountFormError, DistrictFileError), prefix="未保存：").error is None:
        flash(f"僵尸号判定天数已改为 {request.form['silent_days'].strip()} 天，立即生效", "info")
    return redirect(url_for("matrix.index"))


def _form_page(account, form):
    return render_template("matrix_account.html", account=account, form=form, PLATFORM_NAMES=PLATFORM_NAMES,
                           units=active_units(db.session))


def _as_form(account: OfficialAccount) -> dict:
    config = account.config or {}
    return {"unit_id": str(account.unit_id), "platform": account.platform, "handle": account.handle,
            "url": account.url or "", "responsible": account.responsible or "",
            "responsible_phone": account.responsible_phone or "", "uid": config.get("uid", ""),
            "base_url": config.get("base_url", ""), "feed_url": config.get("feed_url", ""),
            "interval_minutes": str(account.interval_seconds // 60), "enabled": "on" if account.enabled else ""}


def _save(account: OfficialAccount | None, form) -> OfficialAccount:
    """Check every field, then create or update the account; AccountFormError names what to fix."""
    unit = db.session.get(Unit, int(form["unit_id"])) if _NUMBER.match(form.get("unit_id", "")) else None
    if unit is None or not unit.active:
        raise AccountFormError("请选择账号所属单位")
    platform = form.get("platform", "")
    if platform not in ACCOUNT_PLATFORMS:
        raise AccountFormError(f"平台应为 {'、'.join(PLATFORM_NAMES.values())} 之一")
    handle = form.get("handle", "").strip()
    if not handle or len(handle) > 100:
        raise AccountFormError("请填写账号名称（100 字以内），如“海曙发布”")
    taken = db.session.execute(select(OfficialAccount).where(OfficialAccount.platform == platform,
                                                             OfficialAccount.handle == handle)).scalar_one_or_none()
    if taken is not None and taken is not account:
        raise AccountFormError(f"{PLATFORM_NAMES[platform]}账号“{handle}”已登记在{taken.unit.name}名下")
    urls = {name: form.get(key, "").strip() for key, name in
            (("url", "账号主页"), ("feed_url", "订阅地址"), ("base_url", "接口地址"))}
    for name, value in urls.items():
        if value and (not _URL.match(value) or len(value) > 500):
            raise AccountFormError(f"“{name}”应为 http:// 或 https:// 开头的网址")
    responsible = form.get("responsible", "").strip()
    if not responsible or len(responsible) > 64:
        raise AccountFormError("请填写账号负责人（64 字以内），僵尸号提醒发给此人")
    phone = form.get("responsible_phone", "").strip()
    if phone and not re.match(r"^[\d\-+ ]{5,32}$", phone):
        raise AccountFormError("“负责人电话”只能包含数字、空格、“-” 和 “+”")
    minutes = form.get("interval_minutes", "").strip()
    if not _NUMBER.match(minutes) or not 5 <= int(minutes) <= 1440:
        raise AccountFormError("“采集间隔”应为 5 到 1440 之间的整数（分钟）")
    config = dict(account.config or {}) if account else {}
    token = form.get("access_token", "").strip()
    uid = form.get("uid", "").strip()
    if platform == "weibo":
        if uid and not _NUMBER.match(uid):
            raise AccountFormError("“微博 UID”应为数字；不知道时留空，按账号名称采集")
        if token:
            config["access_token"] = token
        if not config.get("access_token"):
            raise AccountFormError("微博账号需要填写 access_token（微博开放平台访问令牌）才能采集")
        config.update(uid=uid, base_url=urls["接口地址"])
        config.pop("feed_url", None)
    else:
        if not (urls["订阅地址"] or urls["账号主页"]):
            raise AccountFormError(f"{PLATFORM_NAMES[platform]}账号需要填写订阅地址（RSS）或主页地址，系统从中采集")
        config = {"feed_url": urls["订阅地址"]} if urls["订阅地址"] else {}
    config = {k: v for k, v in config.items() if v}
    before = _as_form(account) if account else None
    if account is None:
        account = OfficialAccount(state={}, created_at=utcnow())
        db.session.add(account)
    account.unit, account.platform, account.handle = unit, platform, handle
    account.url = urls["账号主页"] or None
    account.responsible, account.responsible_phone = responsible, phone or None
    account.interval_seconds, account.config = int(minutes) * 60, config
    account.enabled = bool(form.get("enabled"))
    db.session.flush()
    audit.record(db.session, "matrix.account_saved", "official_account", account.id, actor=current_user,
                 before=before, after=_as_form(account))
    return account


@bp.route("/rumours/<int:check_id>", methods=["GET", "POST"])
@roles_required("spokesperson", "monitor", "admin")
def rumour(check_id: int):
    """The unit's 核实 form for a suspected rumour: the verdict, and which of its published 辟谣
    statements (or collected posts) is the refutation; a link to draft one when there is none."""
    check = db.session.get(RumourCheck, check_id) or abort(404)
    if current_user.role == "spokesperson" and current_user.unit_id != check.unit_id:
        abort(403)
    if request.method == "POST":
        done = commit_or_flash(lambda: rumours.record_verification(
            db.session, check, current_user, request.form.get("verdict", ""), request.form.get("note", ""),
            utcnow(), statement_id=request.form.get("statement", type=int),
            official_post_id=request.form.get("official_post", type=int)))
        if done:
            flash("核实结果已登记", "info")
            return redirect(url_for("matrix.rumour", check_id=check.id))
    pending = check.status == "pending"
    return render_template("rumour_check.html", check=check, VERDICTS=RUMOUR_VERDICTS, form=request.form,
                           statements=rumours.published_refutations(db.session, check) if pending else [],
                           recent=rumours.recent_official_posts(db.session, check) if pending else [],
                           linked=rumours.refutation_statement(db.session, check))
