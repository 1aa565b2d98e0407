"""Data sources: adding, editing, switching on and off, and how healthy each one is.

One set of rules for the command line (`python -m opinion source …`) and the source pages, so a
source added either way is checked the same way. Secrets (a Weibo token, a webhook secret) live in
the source's config and are never printed in full except right after they are generated.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from collectors import PUSH_KINDS
from opinion.errors import SourceConfigError
from opinion.ingest.schedule import next_run_at
from opinion.labels import SOURCE_KIND_NAMES, SOURCE_STATUS_NAMES
from opinion.models import Post, Source, db, utcnow

_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")
MIN_INTERVAL, MAX_INTERVAL = 60, 7 * 86400
SECRET_KEYS = ("access_token", "token", "secret")
# Posts that people bring in (the manual-entry form, a file import): nothing is collected or pushed,
# so the source has no on/off switch and is never "停用", whatever its enabled flag says.
ENTERED_KINDS = ("manual", "file")


def has_switch(source: Source) -> bool:
    """Whether switching the source on and off means anything (collected or pushed sources)."""
    return source.kind not in ENTERED_KINDS


def _int(value, field: str, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise SourceConfigError(f"{field}应为整数，实为“{value}”") from None
    if not low <= number <= high:
        raise SourceConfigError(f"{field}应在 {low} 到 {high} 之间，实为 {number}")
    return number


def _url(value: str, field: str) -> str:
    value = (value or "").strip()
    if not re.match(r"^https?://[^\s/]+", value, re.I):
        raise SourceConfigError(f"{field}应为 http:// 或 https:// 开头的地址")
    if len(value) > 500:
        raise SourceConfigError(f"{field}过长（最多 500 个字符）")
    return value


def apply_settings(source: Source, data: dict, *, new: bool) -> list[str]:
    """Check `data` (strings as typed in a form or on the command line) and write it on the source.
    Returns notes for the operator (e.g. a generated webhook secret). Raises SourceConfigError."""
    notes = []
    if new:
        code = (data.get("code") or "").strip()
        if not _CODE.match(code):
            raise SourceConfigError(f"代码“{code}”不符合规则：代码应为 2–64 位小写英文字母、数字、- 或 _，"
                                    "且以字母或数字开头（如 gov-rss、weibo_1），请改写后再保存")
        if db.session.execute(select(Source.id).where(Source.code == code)).first():
            raise SourceConfigError(f"代码“{code}”已被其他数据源使用")
        kind = (data.get("kind") or "").strip()
        if kind not in SOURCE_KIND_NAMES:
            raise SourceConfigError(f"请选择数据源类型：{'、'.join(SOURCE_KIND_NAMES.values())}之一")
        source.code, source.kind = code, kind
    name = (data.get("name") or "").strip()
    if not name or len(name) > 100:
        raise SourceConfigError("名称不能为空，最多 100 个字符")
    source.name = name
    config = dict(source.config or {})
    if data.get("interval_seconds") not in (None, ""):
        source.interval_seconds = _int(data["interval_seconds"], "采集间隔（秒）", MIN_INTERVAL, MAX_INTERVAL)
    elif new:
        source.interval_seconds = 600
    if data.get("jitter_seconds") not in (None, ""):
        config["jitter_seconds"] = _int(data["jitter_seconds"], "随机抖动（秒）", 0, source.interval_seconds // 2)
    if data.get("expected_period_hours") not in (None, ""):
        hours = _int(data["expected_period_hours"], "预期更新周期（小时）", 0, 24 * 30)
        config["expected_period_seconds"] = hours * 3600 if hours else None
    if source.kind == "rss":
        source.url = config["url"] = _url(data.get("url") or config.get("url") or "", "订阅地址")
    elif source.kind == "weibo_api":
        if data.get("base_url"):
            config["base_url"] = _url(data["base_url"], "接口地址")
        if data.get("access_token"):
            token = data["access_token"].strip()
            if len(token) < 8 or re.search(r"\s", token):
                raise SourceConfigError("访问令牌（access_token）格式不对：至少 8 个字符，不含空格，请从微博开放平台复制完整令牌")
            config["access_token"] = token
        if not config.get("access_token"):
            raise SourceConfigError("微博开放接口需要访问令牌（access_token），请填写微博开放平台发放的令牌")
        source.url = config.get("base_url") or "https://api.weibo.com/2"
    elif source.kind == "webhook":
        for key, words in (("token", "令牌"), ("secret", "签名密钥")):
            if data.get(key):
                if len(data[key].strip()) < 16:
                    raise SourceConfigError(f"{words}至少 16 个字符")
                config[key] = data[key].strip()
            elif not config.get(key):
                config[key] = secrets.token_urlsafe(24)
                notes.append(f"已生成{words}（请妥善保存，仅显示这一次）：{config[key]}")
    source.config = config
    return notes


def create_source(data: dict) -> tuple[Source, list[str]]:
    source = Source(enabled=str(data.get("enabled", "1")) not in ("0", "false", ""), status="never",
                    config={}, state={})
    notes = apply_settings(source, data, new=True)
    db.session.add(source)
    db.session.commit()
    return source, notes


def get_source(code: str) -> Source:
    source = db.session.execute(select(Source).where(Source.code == code)).scalar_one_or_none()
    if source is None:
        raise SourceConfigError(f"没有代码为“{code}”的数据源")
    return source


def set_enabled(source: Source, enabled: bool) -> None:
    source.enabled = enabled
    if enabled:
        source.failure_count = 0  # switched on again by a person: try now, not after the back-off
        source.state = {k: v for k, v in (source.state or {}).items() if k != "retry_at"}
    db.session.commit()


def masked(config: dict) -> dict:
    return {k: (f"{str(v)[:4]}…（已隐藏）" if k in SECRET_KEYS and v else v) for k, v in (config or {}).items()}


@dataclass
class Health:
    source: Source
    status_name: str
    items_today: int
    next_run: str
    last_run: dict

    @property
    def last_run_at(self) -> datetime | None:
        """When the last run was (aware; the record keeps it as ISO text)."""
        at = self.last_run.get("at")
        return datetime.fromisoformat(at) if at else None


def describe_health(sources: list[Source], now: datetime | None = None) -> list[Health]:
    """Status in words, items collected today (Beijing day), next run, for each source."""
    now = now or utcnow()
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    midnight = now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    today = dict(db.session.execute(select(Post.source_id, func.count()).where(Post.collected_at >= midnight)
                                    .group_by(Post.source_id)).all())
    rows = []
    for source in sources:
        if source.kind in PUSH_KINDS:
            nxt = {"webhook": "推送接收（无需调度）", "manual": "随时录入（无需调度）"}.get(source.kind,
                                                                                 "导入文件时（无需调度）")
        elif not source.enabled:
            nxt = "已停用"
        else:
            due = next_run_at(source)
            nxt = "下一轮调度（1 分钟内）" if due is None or due <= now else due.astimezone(tz).strftime("%m-%d %H:%M")
            if source.failure_count:
                nxt += f"（失败退避中，第 {source.failure_count} 次）"
        rows.append(Health(source, SOURCE_STATUS_NAMES.get(source.status, source.status), today.get(source.id, 0),
                           nxt, (source.state or {}).get("last_run") or {}))
    return rows

