"""The district file's `alerts:` section: defaults, quiet hours, and broken entries named by line."""
from datetime import time, timedelta
from pathlib import Path

import pytest

import config
from opinion.errors import DistrictFileError
from opinion.settings.alerts import AlertSettings, QuietHours
from opinion.settings.district import load_district

DEFAULT = Path(config.Config.DISTRICT_FILE)


def test_default_file_has_every_rule_and_quiet_hours():
    s = load_district(DEFAULT).alerts
    assert set(s.rules) == {"sensitive_word", "negative_surge", "volume_burst", "influential_negative",
                            "source_silent", "case_overdue"}
    assert s.rule("negative_surge")["window"] == timedelta(hours=1)
    assert s.rule("source_silent")["silent_for"] == timedelta(hours=6)
    assert s.quiet_hours.contains(time(23, 0)) and s.quiet_hours.contains(time(6, 0))
    assert not s.quiet_hours.contains(time(12, 0))
    assert "sms" in s.channels["critical"] and "sms" not in s.channels["warning"]


def test_absent_section_means_defaults():
    s = AlertSettings()
    assert s.enabled("case_overdue") and s.quiet_hours is None
    assert s.rule("sensitive_word")["words"] is None  # the district's sensitive_words


def test_quiet_hours_within_a_day():
    q = QuietHours(time(12, 0), time(14, 0))
    assert q.contains(time(12, 30)) and not q.contains(time(14, 0)) and not q.contains(time(2, 0))


@pytest.mark.parametrize("old,new,needle,message", [
    ("volume_burst: {severity: warning,", "volume_burst: {severity: loud,", "severity: loud", "应为 info"),
    ("min_negative: 8,", "min_negative: -3,", "min_negative: -3", "正整数"),
    ("min_share: 0.5,", "min_share: 5,", "min_share: 5", "0 到 1"),
    ("silent_for: 6 h,", "silent_for: six hours,", "six hours", "时长"),
    ("source_silent: {severity", "source_silence: {severity", "source_silence", "不存在"),
    ("case_overdue: {severity: warning,", "case_overdue: {severty: warning,", "severty", "没有 “severty”"),
    ('quiet_hours: {start: "22:00"', 'quiet_hours: {start: "25:00"', "25:00", "时刻"),
    # a list has no line of its own: the error names where the channels mapping starts
    ("critical: [inapp, email, webhook, sms]", "critical: [inapp, fax]", "    info: [inapp]", "inapp、email"),
])
def test_broken_alert_settings_name_the_line(tmp_path, old, new, needle, message):
    text = DEFAULT.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "district.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    line = next(i for i, row in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in row)
    with pytest.raises(DistrictFileError) as info:
        load_district(path)
    assert f"第 {line} 行" in str(info.value) and message in str(info.value)
