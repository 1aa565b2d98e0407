"""API 令牌: each person makes, lists and revokes their own personal API tokens; admins also see and
revoke everyone's here. The secret appears once, on the page that answers the creation, and is
never stored (opinion.accounts.tokens keeps its SHA-256)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from opinion.accounts import tokens as service
from opinion.models import ApiToken, db, utcnow
from opinion.web.forms import commit_or_flash

bp = Blueprint("tokens", __name__, url_prefix="/tokens")
DAY_CHOICES = {"30": "30 天", "90": "90 天", "180": "180 天", "365": "一年", "": "永不过期"}


def _page(new_secret: str | None = None, form: dict | None = None, status: int = 200):
    mine = service.tokens_of(db.session, current_user)
    others = ([t for t in service.tokens_of(db.session) if t.user_id != current_user.id]
              if current_user.role == "admin" else [])
    response = render_template("tokens.html", mine=mine, others=others, new_secret=new_secret, form=form or {},
                               DAY_CHOICES=DAY_CHOICES, state=service.token_state, now_at=utcnow())
    headers = {"Cache-Control": "no-store"} if new_secret else {}  # the secret must not sit in a cache
    return response, status, headers


@bp.route("/")
@login_required
def index():
    return _page()


@bp.route("/", methods=["POST"])
@login_required
def create():
    days_text = request.form.get("days", "")
    try:
        days = int(days_text) if days_text else None
    except ValueError:
        days = -1  # the service names the allowed range
    created = commit_or_flash(lambda: service.create_token(db.session, current_user, request.form.get("name", ""),
                                                           days=days))
    if not created:
        return _page(form=request.form, status=400)
    token, secret = created.value
    flash(f"已创建令牌“{token.name}”。请立即复制保存：离开本页后将无法再次查看", "success")
    return _page(new_secret=secret)


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int):
    token = db.session.get(ApiToken, token_id)
    # Someone else's token is answered as a missing one: its existence is not theirs to learn.
    if token is None or (token.user_id != current_user.id and current_user.role != "admin"):
        abort(404)
    if commit_or_flash(lambda: service.revoke_token(db.session, token, current_user)):
        flash(f"已吊销令牌“{token.name}”（{token.prefix}…），使用它的程序将无法再访问", "info")
    return redirect(url_for("tokens.index"))
