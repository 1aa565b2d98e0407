"""通知中心: what happened that concerns me — a leader's 批示, a reply sent back, a case assigned,
reassigned or about to pass its deadline, a decision on my transfer or extension request.

The bell on every page (base.html) shows the unread count; the list links each entry to its case;
the settings say which events also go out by e-mail or a webhook robot (opinion.notify sends them).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, has_request_context, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from opinion.models import NOTIFICATION_KINDS, NotificationSetting, db, utcnow
from opinion.notify.queries import mark_read, my_notification, notifications_page, setting_for, unread_count
from opinion.web.forms import commit_or_flash

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
PAGE = 30
OUTSIDE_CHANNELS = {"email": "电子邮件", "webhook": "群机器人（Webhook）"}


@bp.app_context_processor
def bell():
    """The unread count for the bell in the top bar of every page."""
    # Outside a request (a report rendered by the command line or the scheduler) there is no user.
    if not has_request_context() or not current_user.is_authenticated:
        return {}
    return {"unread_notifications": unread_count(db.session, current_user)}


@bp.route("/")
@login_required
def index():
    unread_only = request.args.get("unread") == "1"
    page = max(request.args.get("page", 1, type=int), 1)
    rows, total = notifications_page(db.session, current_user, unread_only=unread_only, page=page, per_page=PAGE)
    return render_template("notifications.html", rows=rows, total=total, page=page, unread_only=unread_only,
                           pages=max((total + PAGE - 1) // PAGE, 1), KINDS=NOTIFICATION_KINDS)


@bp.route("/<int:notification_id>")
@login_required
def open_one(notification_id: int):
    """Mark one notification read and go to what it is about."""
    row = my_notification(db.session, current_user, notification_id) or abort(404)
    if row.read_at is None:
        row.read_at = utcnow()
        db.session.commit()
    if row.case_id:
        return redirect(url_for("cases.show", case_id=row.case_id))
    return redirect(url_for("notifications.index"))


@bp.route("/read-all", methods=["POST"])
@login_required
def read_all():
    count = mark_read(db.session, current_user, utcnow())
    db.session.commit()
    flash(f"已将 {count} 条通知标为已读" if count else "没有未读通知", "info")
    return redirect(url_for("notifications.index"))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    setting = setting_for(db.session, current_user)
    if request.method == "POST":
        def save():
            channels = [c for c in request.form.getlist("channels") if c in OUTSIDE_CHANNELS]
            url = request.form.get("webhook_url", "").strip()
            if "webhook" in channels and not url.lower().startswith(("http://", "https://")):
                raise ValueError("选择群机器人时须填写以 http:// 或 https:// 开头的 Webhook 地址")
            if "email" in channels and not current_user.email:
                raise ValueError("您的账号没有登记电子邮箱，请联系系统管理员登记后再选择邮件通知")
            row = db.session.get(NotificationSetting, current_user.id)
            if row is None:
                row = NotificationSetting(user_id=current_user.id)
                db.session.add(row)
            row.channels = channels
            row.kinds = [k for k in request.form.getlist("kinds") if k in NOTIFICATION_KINDS]
            row.webhook_url = url[:500] or None
        if commit_or_flash(save, refusals=(ValueError,)):
            flash("通知设置已保存", "info")
            return redirect(url_for("notifications.settings"))
        return render_template("notification_settings.html", setting=setting, KINDS=NOTIFICATION_KINDS,
                               CHANNELS=OUTSIDE_CHANNELS, form=request.form), 400
    return render_template("notification_settings.html", setting=setting, KINDS=NOTIFICATION_KINDS,
                           CHANNELS=OUTSIDE_CHANNELS, form=None)
