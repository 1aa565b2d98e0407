"""The `alerts:` section of the district file: per-rule thresholds, severities, quiet hours.

Parsed here and checked by opinion.settings.district with the same line-numbered errors as the rest of the
file, so an admin who mistypes a threshold is told the line instead of getting silent defaults.
Nothing here imports Flask or the models: the district file loads before the app exists.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Callable

SEVERITIES = ("info", "warning", "critical")
_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(min|h)\s*$")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")

# Safety and incident vocabulary: a post that speaks of harm to people (children made ill by a school
# track, poisoning, fire, a collapse) is an incident, and ranks above any paperwork alert. The
# sensitive-word rule raises it as critical even where no sensitive word is present.
SAFETY_WORDS = ("毒跑道", "毒操场", "流鼻血", "鼻出血", "中毒", "火灾", "起火", "着火", "失火", "爆炸",
                "燃气泄漏", "煤气泄漏", "坍塌", "倒塌", "塌方", "触电", "溺水", "受伤", "死亡", "身亡", "伤亡",
                "急救", "送医", "住院")
# Who is harmed makes it graver; named in the alert, not an alert by themselves (every school
# complaint mentions pupils).
VULNERABLE_WORDS = ("孩子", "儿童", "学生", "幼儿园", "小学", "婴儿", "老人", "孕妇")

# Each rule's settings and their defaults; the type of the default is the type the file must use
# (None: the district's own list or figure, e.g. sensitive_words, influential_followers).
RULE_DEFAULTS: dict[str, dict] = {
    "sensitive_word": {"enabled": True, "severity": "warning", "words": None, "critical_words": [],
                       "safety_words": list(SAFETY_WORDS), "window": "24 h"},
    "negative_surge": {"enabled": True, "severity": "warning", "window": "1 h", "baseline": "24 h",
                       "min_negative": 8, "min_share": 0.5, "alpha": 0.001},
    "volume_burst": {"enabled": True, "severity": "warning", "window": "1 h", "baseline": "24 h",
                     "min_count": 10, "alpha": 0.001},
    "influential_negative": {"enabled": True, "severity": "warning", "min_followers": None,
                             "window": "24 h"},
    "source_silent": {"enabled": True, "severity": "warning", "silent_for": "6 h",
                      "kinds": ["rss", "weibo_api", "webhook"]},
    # An overdue case is paperwork: critical only when the case itself is urgent.
    "case_overdue": {"enabled": True, "severity": "warning", "critical_when": ["urgent"]},
}
DEFAULT_CHANNELS = {"info": ["inapp"], "warning": ["inapp", "email", "webhook"],
                    "critical": ["inapp", "email", "webhook", "sms"]}


@dataclass
class QuietHours:
    """Local (district time) span in which only critical alerts leave the system; may wrap midnight."""

    start: time
    end: time

    def contains(self, local: time) -> bool:
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


@dataclass
class AlertSettings:
    rules: dict[str, dict] = field(default_factory=lambda: parse_alert_settings({}, _raise).rules)
    quiet_hours: QuietHours | None = None
    channels: dict[str, list[str]] = field(default_factory=lambda: {k: list(v) for k, v in DEFAULT_CHANNELS.items()})

    def rule(self, name: str) -> dict:
        return self.rules[name]

    def enabled(self, name: str) -> bool:
        return bool(self.rules[name]["enabled"])


def _raise(line, message):
    raise ValueError(message)


def parse_span(text, fail: Callable, line: int | None) -> timedelta:
    m = _SPAN.match(str(text))
    if not m:
        fail(line, f"时长 “{text}” 无法识别，应写成 “30 min” 或 “6 h”")
    amount = float(m.group(1))
    if amount <= 0:
        fail(line, f"时长 “{text}” 应大于 0")
    return timedelta(minutes=amount) if m.group(2) == "min" else timedelta(hours=amount)


def _clock(text, fail: Callable, line: int | None) -> time:
    m = _CLOCK.match(str(text).strip())
    if not m:
        fail(line, f"时刻 “{text}” 无法识别，应写成 “22:00” 这样的 24 小时制")
    return time(int(m.group(1)), int(m.group(2)))


def _check_value(rule: str, key: str, value, default, fail: Callable, line: int | None):
    """The value in the type its default has; spans become timedelta."""
    where = f"预警规则 {rule} 的 “{key}”"
    if key in ("window", "baseline", "silent_for"):
        return parse_span(value, fail, line)
    if key == "severity":
        if value not in SEVERITIES:
            fail(line, f"{where} 应为 {', '.join(SEVERITIES)} 之一，而不是 “{value}”")
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            fail(line, f"{where} 应为 true 或 false")
        return value
    if isinstance(default, list) or key == "words":
        if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
            fail(line, f"{where} 应为列表，例如 [腐败, 黑幕]")
        return [str(v) for v in value]
    if isinstance(default, int) or key == "min_followers":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            fail(line, f"{where} 应为正整数，而不是 “{value}”")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
            fail(line, f"{where} 应为 0 到 1 之间的数，而不是 “{value}”")
        return float(value)
    return value


def parse_alert_settings(raw: dict, fail: Callable[[int | None, str], None]) -> AlertSettings:
    """Check and complete the `alerts:` mapping; `fail(line, message)` raises for a bad entry."""
    if not isinstance(raw, dict):
        fail(None, "“alerts” 应为映射（rules、quiet_hours、channels）")
    line = raw.get("__line__")
    for key in raw:
        if key not in ("__line__", "rules", "quiet_hours", "channels"):
            fail(line, f"alerts 中的 “{key}” 无法识别，应为 rules、quiet_hours 或 channels")
    given = raw.get("rules") or {}
    if not isinstance(given, dict):
        fail(line, "alerts.rules 应为映射：规则名 → 设置")
    rules: dict[str, dict] = {}
    for name in given:
        if name != "__line__" and name not in RULE_DEFAULTS:
            own = given[name].get("__line__") if isinstance(given[name], dict) else None
            fail(own or given.get("__line__"), f"预警规则 “{name}” 不存在，应为 {', '.join(RULE_DEFAULTS)} 之一")
    for name, defaults in RULE_DEFAULTS.items():
        spec = given.get(name) or {}
        if not isinstance(spec, dict):
            fail(given.get("__line__"), f"预警规则 {name} 的设置应为映射")
        rule_line = spec.get("__line__", given.get("__line__"))
        for key in spec:
            if key != "__line__" and key not in defaults:
                fail(rule_line, f"预警规则 {name} 没有 “{key}” 这一项，可用：{', '.join(defaults)}")
        rules[name] = {key: _check_value(name, key, spec[key] if key in spec else default, default,
                                         fail, rule_line) if (key in spec or default is not None) else None
                       for key, default in defaults.items()}
    overdue = given.get("case_overdue") or {}
    for item in rules["case_overdue"]["critical_when"]:
        if item not in ("urgent", "acknowledge", "respond", "resolve"):
            fail(overdue.get("__line__"), f"case_overdue.critical_when 中的 “{item}” 应为 urgent、acknowledge、respond 或 resolve")
    quiet = None
    if raw.get("quiet_hours"):
        q = raw["quiet_hours"]
        if not isinstance(q, dict) or "start" not in q or "end" not in q:
            fail(line, "quiet_hours 应写成 {start: \"22:00\", end: \"07:30\"}")
        quiet = QuietHours(_clock(q["start"], fail, q.get("__line__")), _clock(q["end"], fail, q.get("__line__")))
        if quiet.start == quiet.end:
            fail(q.get("__line__"), "quiet_hours 的开始与结束不能相同")
    channels = {k: list(v) for k, v in DEFAULT_CHANNELS.items()}
    for severity, names in (raw.get("channels") or {}).items():
        if severity == "__line__":
            continue
        ch_line = raw["channels"].get("__line__")
        if severity not in SEVERITIES:
            fail(ch_line, f"alerts.channels 的 “{severity}” 应为 {', '.join(SEVERITIES)} 之一")
        if not isinstance(names, list) or any(n not in ("inapp", "email", "webhook", "sms") for n in names):
            fail(ch_line, f"alerts.channels.{severity} 应为 inapp、email、webhook、sms 组成的列表")
        channels[severity] = [str(n) for n in names]
    return AlertSettings(rules=rules, quiet_hours=quiet, channels=channels)
