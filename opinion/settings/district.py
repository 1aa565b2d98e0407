"""The district file: units, categories, deadline table and escalation ladder.

A district describes itself in YAML so that an admin changes routing keywords or a deadline without
touching code. Errors name the file and line, because the person fixing it has the file open.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import yaml

from opinion.errors import DistrictFileError
from opinion.settings.alerts import AlertSettings, parse_alert_settings

UNIT_KINDS = ("department", "street", "centre")
PRIORITIES = ("urgent", "high", "normal")
CLOCKS = ("acknowledge", "respond", "resolve")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(\S+?)\s*$")
# What people type for each unit: the file's English spellings and the Chinese an admin writes.
_UNIT_WORDS = {"min": "min", "mins": "min", "minutes": "min", "分钟": "min", "分": "min",
               "h": "h", "hour": "h", "hours": "h", "小时": "h", "个小时": "h", "时": "h",
               "working_days": "working_days", "working_day": "working_days", "工作日": "working_days",
               "个工作日": "working_days"}
DURATION_RULE = "数字加单位，如 “30分钟”、“5小时” 或 “3个工作日”"


@dataclass(frozen=True)
class Duration:
    amount: float
    unit: str  # min | h | working_days

    def __str__(self) -> str:
        label = {"min": "分钟", "h": "小时", "working_days": "个工作日"}[self.unit]
        return f"{self.amount:g}{label}"


@dataclass
class UnitSpec:
    code: str
    name: str
    kind: str
    keywords: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)


@dataclass
class District:
    name: str
    timezone: str
    monitoring_centre: str
    units: list[UnitSpec]
    categories: dict[str, list[str]]          # category code -> unit codes, lead first
    deadlines: dict[str, dict[str, Duration]]  # priority -> clock -> duration
    escalation: list[dict]
    urgent_words: list[str]
    high_words: list[str]
    influential_followers: int
    sensitive_words: list[str]
    extension_cap_working_days: int = 15
    transfer_back_working_days: int = 2
    callback_no_answer_days: int = 7  # a resolved case with no callback answer closes after these
    public_disclosure: bool = True  # the 信息公开 page (/p/open); an admin switches it off and on
    # Who gets each scheduled report by e-mail: report kind (daily, weekly, monthly, quarterly,
    # special) -> addresses. Set by the admin (系统管理 → 报告邮件订阅).
    report_recipients: dict = field(default_factory=dict)
    performance: dict = field(default_factory=dict)  # weights and grade cut-offs (opinion.reports.performance)
    source: str = ""
    erroneous_terms: dict[str, str] = field(default_factory=dict)  # wrong -> right, for replies
    reply_required_parts: list[dict] = field(default_factory=list)  # {name, patterns}
    situation_report_parts: list[dict] = field(default_factory=list)  # a 情况通报's parts, same shape
    alerts: AlertSettings = field(default_factory=AlertSettings)  # opinion.alerts.settings
    # 节假日安排 for years the chinese_calendar package does not know yet (opinion.settings.calendar): they win over it.
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()   # 调休上班日: weekend days that are working days
    # The gazetteer (辖区地名录) and responsibility catalogue (事权清单) beside this file, read by
    # opinion.routing on every batch; empty: routing uses the units' keywords and places only.
    gazetteer_file: str = ""
    catalogue_file: str = ""
    # 政务微博矩阵 (opinion.matrix): an official account with no post in this many days is a 僵尸号.
    matrix_silent_days: int = 7
    # an account whose posts got comments in this many days but which answered none (从不回复评论)
    matrix_no_reply_days: int = 7
    # who approves a unit's statement (opinion.matrix.statements): head_or_monitor | monitor
    statement_approval: str = "head_or_monitor"
    # 历史帖子归档 (opinion.ingest.archive): posts older than this many months that nothing cites are
    # written to an archive file and taken out of the database; 0: kept for ever.
    archive_after_months: int = 0

    def unit(self, code: str) -> UnitSpec:
        return next(u for u in self.units if u.code == code)

    def user_words(self) -> list[str]:
        """Words jieba must keep whole: unit names, places and routing keywords."""
        words = set()
        for u in self.units:
            words.update([u.name, *u.keywords, *u.places])
        return sorted(w for w in words if len(w) > 1)


class TextDatesLoader(yaml.SafeLoader):
    """A SafeLoader that leaves dates as text: PyYAML turns an unquoted 2027-02-30 into a crash
    (ValueError) before our checks could name the line; the calendar section parses dates itself."""


TextDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


class _LineLoader(TextDatesLoader):
    """Remembers where each mapping starts, to name the line in errors."""


def _mapping_with_line(loader, node):
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def fail(path: str, line: int | None, message: str):
    """Refuse the file, naming the line."""
    where = f"{path}, 第 {line} 行" if line else path
    raise DistrictFileError(f"{where}: {message}")


def parse_duration(text: str, path: str = "", line: int | None = None) -> Duration:
    """A deadline as the file or an admin writes it: "30 min" or "30分钟", "5 h" or "5小时",
    "3 working_days" or "3个工作日"."""
    m = _DURATION.match(str(text))
    unit = _UNIT_WORDS.get(m.group(2).lower()) if m else None
    if unit is None:
        fail(path, line, f"时限 “{text}” 无法识别，应写成{DURATION_RULE}")
    return Duration(float(m.group(1)), unit)


def load_district(path: str | Path) -> District:
    """Read and check a district file; raise DistrictFileError naming the line on any problem."""
    return build_district(str(path), read_district_data(path))


def read_district_data(path: str | Path) -> dict:
    """The file's YAML, each mapping marked with its line (`__line__`) for build_district's errors."""
    return read_yaml(path, _LineLoader, "辖区配置文件", "（units、categories、deadlines …）")


def read_yaml(path: str | Path, loader, what: str = "文件", expected: str = "") -> dict:
    """A YAML mapping read with `loader` (which marks lines); errors name the file and the line."""
    path = str(path)
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.load(fh, Loader=loader)
    except OSError as exc:
        raise DistrictFileError(f"{path}: 无法读取{what}（{exc.strerror}）") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        fail(path, mark.line + 1 if mark else None, f"YAML 格式错误：{problem}")
    if not isinstance(data, dict):
        fail(path, None, f"文件内容应为键值映射{expected}")
    return data


def _require(path, node, key, kind=None):
    if not isinstance(node, dict) or key not in node:
        fail(path, node.get("__line__") if isinstance(node, dict) else None, f"缺少必填项 “{key}”")
    value = node[key]
    if kind is not None and not isinstance(value, kind):
        fail(path, node.get("__line__"), f"“{key}” 的类型不对")
    return value


def build_district(path: str, data: dict) -> District:
    """Check the data read from a district file (or laid over it, opinion.settings.overrides) and build it."""
    meta = _require(path, data, "district", dict)
    units: list[UnitSpec] = []
    seen: dict[str, int] = {}
    for raw in _require(path, data, "units", list):
        line = raw.get("__line__") if isinstance(raw, dict) else None
        if not isinstance(raw, dict):
            fail(path, line, "每个单位应为一个映射")
        code = str(_require(path, raw, "code"))
        if code in seen:
            fail(path, line, f"单位代码 “{code}” 重复（第一次出现在第 {seen[code]} 行）")
        seen[code] = line
        kind = _require(path, raw, "kind")
        if kind not in UNIT_KINDS:
            fail(path, line, f"单位类型 “{kind}” 无效，应为 {', '.join(UNIT_KINDS)} 之一")
        units.append(UnitSpec(code, str(_require(path, raw, "name")), kind,
                              [str(w) for w in raw.get("keywords", [])],
                              [str(w) for w in raw.get("places", [])]))
    centre = str(_require(path, meta, "monitoring_centre"))
    if centre not in seen:
        fail(path, meta["__line__"], f"监测中心 “{centre}” 不在单位列表中")

    categories: dict[str, list[str]] = {}
    for raw in _require(path, data, "categories", list):
        code = str(_require(path, raw, "code"))
        unit_codes = [str(u) for u in _require(path, raw, "units", list)]
        for u in unit_codes:
            if u not in seen:
                fail(path, raw["__line__"], f"分类 “{code}” 引用了不存在的单位 “{u}”")
        categories[code] = unit_codes

    deadlines: dict[str, dict[str, Duration]] = {}
    table = _require(path, data, "deadlines", dict)
    for priority in PRIORITIES:
        row = _require(path, table, priority, dict)
        deadlines[priority] = {c: parse_duration(_require(path, row, c), path, row["__line__"])
                               for c in CLOCKS}

    escalation = []
    for raw in _require(path, data, "escalation", list):
        level = _require(path, raw, "level", int)
        if not 1 <= level <= 5:
            fail(path, raw["__line__"], f"督办级别 {level} 无效，应为 1 到 5")
        step = {k: v for k, v in raw.items() if k != "__line__"}
        _check_step(path, raw["__line__"], step)
        if "after" in step:
            step["after"] = parse_duration(step["after"], path, raw["__line__"])
        escalation.append(step)
    if sorted(s["level"] for s in escalation) != [1, 2, 3, 4, 5]:
        fail(path, data["__line__"], "五级督办应恰好包含 1 到 5 级各一次")

    prio = data.get("priority", {}) or {}
    holidays, workdays = _calendar(path, data.get("calendar") or {})
    return District(
        name=str(_require(path, meta, "name")),
        timezone=str(meta.get("timezone", "Asia/Shanghai")),
        monitoring_centre=centre,
        units=units,
        categories=categories,
        deadlines=deadlines,
        escalation=sorted(escalation, key=lambda s: s["level"]),
        urgent_words=[str(w) for w in prio.get("urgent_words", [])],
        high_words=[str(w) for w in prio.get("high_words", [])],
        influential_followers=int(prio.get("influential_followers", 100000)),
        sensitive_words=[str(w) for w in data.get("sensitive_words", [])],
        extension_cap_working_days=int(data.get("extension_cap_working_days", 15)),
        transfer_back_working_days=int(data.get("transfer_back_working_days", 2)),
        callback_no_answer_days=int(data.get("callback_no_answer_days", 7)),
        public_disclosure=_switch(data.get("public_disclosure")),
        report_recipients=_recipients(path, data.get("report_recipients") or {}),
        performance=_performance(path, data.get("performance") or {}),
        source=path,
        erroneous_terms={str(k): str(v) for k, v in (data.get("erroneous_terms") or {}).items()
                         if k != "__line__"},
        reply_required_parts=_reply_parts(path, data.get("reply_required_parts") or []),
        situation_report_parts=_reply_parts(path, data.get("situation_report_parts") or []),
        alerts=parse_alert_settings(data.get("alerts") or {}, lambda line, msg: fail(path, line, msg)),
        holidays=holidays,
        workdays=workdays,
        gazetteer_file=_beside(path, data.get("gazetteer")),
        catalogue_file=_beside(path, data.get("responsibilities")),
        matrix_silent_days=_matrix_days(path, data.get("matrix") or {}, "silent_days", "僵尸号判定天数"),
        matrix_no_reply_days=_matrix_days(path, data.get("matrix") or {}, "no_reply_days", "不回复评论判定天数"),
        statement_approval=_statement_approval(path, data.get("statement_approval", "head_or_monitor")),
        archive_after_months=parse_archive_months(path, data.get("retention") or {}),
    )


ARCHIVE_MONTHS = (3, 120)


def parse_archive_months(path: str, raw: dict) -> int:
    """retention: {archive_after_months: N}: 0 (never) or a whole number of months, 3 to 120."""
    if not isinstance(raw, dict):
        fail(path, None, "retention 应为映射，如 retention: {archive_after_months: 12}")
    value = raw.get("archive_after_months", 0)
    low, high = ARCHIVE_MONTHS
    rule = f"历史帖子归档期限 “{value}” 无效：应为 0（不归档）或 {low} 到 {high} 之间的整数（月）"
    try:
        months = int(str(value).strip())
    except ValueError:
        fail(path, raw.get("__line__"), rule)
    if isinstance(value, bool) or not (months == 0 or low <= months <= high):
        fail(path, raw.get("__line__"), rule)
    return months


# The matrix collector re-reads comments only under the account's posts of the last 30 days
# (opinion.matrix.collect.REFRESH_DAYS): a longer no-reply window would count comments nobody read.
MATRIX_DAYS_MAX = {"silent_days": 365, "no_reply_days": 30}


def _matrix_days(path: str, raw: dict, key: str, name: str) -> int:
    """matrix: {silent_days: N, no_reply_days: N}: each a whole number of days, from 1 to its
    MATRIX_DAYS_MAX (7 if absent)."""
    if not isinstance(raw, dict):
        fail(path, None, "matrix 应为映射，如 matrix: {silent_days: 7, no_reply_days: 7}")
    value = raw.get(key, 7)
    try:
        days = int(value)
    except (TypeError, ValueError):
        fail(path, raw.get("__line__"), f"{name} “{value}” 应为整数")
    high = MATRIX_DAYS_MAX[key]
    if isinstance(value, bool) or not 1 <= days <= high or str(value).strip() != str(days):
        why = "（系统只回读近 30 天发布的信息下的评论）" if key == "no_reply_days" else ""
        fail(path, raw.get("__line__"), f"{name} “{value}” 应为 1 到 {high} 的整数{why}")
    return days


def _statement_approval(path: str, value) -> str:
    """statement_approval: head_or_monitor (the unit head or a monitor) or monitor (the centre only)."""
    if value not in ("head_or_monitor", "monitor"):
        fail(path, None, f"发布稿审核方式 “{value}” 无效：应为 head_or_monitor（单位负责人或监测中心）或 monitor（仅监测中心）")
    return str(value)


def _beside(path: str, name) -> str:
    """A file named in the district file, relative to it; checked when routing reads it."""
    if not name:
        return ""
    return str((Path(path).resolve().parent / str(name)) if not Path(str(name)).is_absolute() else Path(str(name)))


REPORT_RECIPIENT_KINDS = {"daily": "日报", "weekly": "周报", "monthly": "月报", "quarterly": "季报", "special": "专报"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _recipients(path: str, raw) -> dict[str, list[str]]:
    if not isinstance(raw, dict):
        fail(path, None, "report_recipients 应为“报告类型: 邮箱列表”的映射")
    out = {}
    for kind, addresses in raw.items():
        if kind == "__line__":
            continue
        if kind not in REPORT_RECIPIENT_KINDS:
            fail(path, raw.get("__line__"), f"报告类型 “{kind}” 无效，可选：{'、'.join(REPORT_RECIPIENT_KINDS)}")
        if not isinstance(addresses, list):
            fail(path, raw.get("__line__"), f"{kind} 的收件人应为列表（每项以 “- ” 开头）")
        bad = [str(a) for a in addresses if not _EMAIL.match(str(a))]
        if bad:
            fail(path, raw.get("__line__"), f"{kind} 的收件人邮箱格式不正确：{'、'.join(bad)}")
        out[kind] = [str(a) for a in addresses]
    return out


def _switch(raw) -> bool:
    """`public_disclosure: {enabled: false}` (as the admin page stores it) or a plain boolean."""
    if raw is None:
        return True
    return bool(raw.get("enabled", True)) if isinstance(raw, dict) else bool(raw)


def _calendar(path: str, raw: dict) -> tuple[frozenset[date], frozenset[date]]:
    """The `calendar` section: holidays and make-up working days, as single dates or ranges."""
    if not isinstance(raw, dict):
        fail(path, None, "calendar 应为映射，含 holidays 与 workdays 两个列表")
    line = raw.get("__line__")
    found = {}
    for key, name in (("holidays", "放假日期"), ("workdays", "调休上班日")):
        items = raw.get(key) or []
        if not isinstance(items, list):
            fail(path, line, f"calendar.{key}（{name}）应为列表")
        found[key] = frozenset(d for item in items for d in _days(path, line, item, name))
    both = found["holidays"] & found["workdays"]
    if both:
        fail(path, line, f"{min(both).isoformat()} 同时列为放假日期和调休上班日")
    return found["holidays"], found["workdays"]


def _days(path: str, line: int | None, item, name: str) -> list[date]:
    """One date, or every date of a range written "2027-02-05~2027-02-11"."""
    text = str(item).strip()
    first, sep, last = text.partition("~")
    try:
        start = date.fromisoformat(first.strip())
        end = date.fromisoformat(last.strip()) if sep else start
    except ValueError:
        fail(path, line, f"{name}“{text}”不是日期，应写成 2027-01-01 或区间 2027-02-05~2027-02-11")
    if not 0 <= (end - start).days <= 31:
        fail(path, line, f"{name}区间“{text}”无效：结束日期应在开始日期之后，且不超过 31 天")
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _reply_parts(path: str, raw_parts: list) -> list[dict]:
    """The required parts of a reply, each pattern compiled once here so a bad one names its line."""
    parts = []
    for raw in raw_parts:
        name = str(_require(path, raw, "name"))
        patterns = [str(p) for p in _require(path, raw, "patterns", list)]
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                fail(path, raw["__line__"], f"回复必备要素 “{name}” 的规则 “{pattern}” 无效：{exc}")
        parts.append({"name": name, "patterns": patterns})
    return parts


LADDER_TRIGGERS = ("reminder", "acknowledge_overdue", "respond_overdue", "still_open_after",
                   "resolve_overdue")
LADDER_RECIPIENTS = ("assignee", "monitors", "unit_head", "leader", "leaders")
NOTIFY_CHANNELS = ("inapp", "email", "webhook", "sms")


def _check_step(path: str, line: int, step: dict) -> None:
    """A ladder step names a known trigger, known recipients and known channels."""
    if step.get("trigger") not in LADDER_TRIGGERS:
        fail(path, line, f"督办触发条件 “{step.get('trigger')}” 无效，应为 {', '.join(LADDER_TRIGGERS)} 之一")
    for who in step.get("notify", []):
        if who not in LADDER_RECIPIENTS:
            fail(path, line, f"督办通知对象 “{who}” 无效，应为 {', '.join(LADDER_RECIPIENTS)} 之一")
    channels = step.get("channel", "inapp")
    for channel in [channels] if isinstance(channels, str) else channels:
        if channel not in NOTIFY_CHANNELS:
            fail(path, line, f"通知渠道 “{channel}” 无效，应为 {', '.join(NOTIFY_CHANNELS)} 之一")


def _performance(path: str, raw: dict) -> dict:
    """Score weights and A-D cut-offs; cut-offs must fall from A to C (below C is D)."""
    line = raw.get("__line__")
    weights = {k: float(v) for k, v in (raw.get("weights") or {}).items() if k != "__line__"}
    grades = {k: float(v) for k, v in (raw.get("grades") or {}).items() if k != "__line__"}
    if grades and not (set(grades) == {"A", "B", "C"} and grades["A"] > grades["B"] > grades["C"]):
        fail(path, line, "绩效等级分数线应为 A、B、C 三项且 A > B > C（低于 C 为 D）")
    return {"weights": weights, "grades": grades}
