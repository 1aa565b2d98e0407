"""The district file: the default one is complete, broken ones name their line, loading is idempotent."""
from pathlib import Path

import pytest
from sqlalchemy import func, select

import config
from opinion.accounts.directory import sync_units
from opinion.errors import DistrictFileError
from opinion.models import AuditEvent, Unit
from opinion.settings.district import load_district

DEFAULT = Path(config.Config.DISTRICT_FILE)
SEVEN = ["城乡建设", "环境保护", "交通运输", "教育文体", "劳动和社会保障", "商贸旅游", "卫生计生"]


def test_default_district_has_the_units_of_the_source_documents():
    d = load_district(DEFAULT)
    kinds = [u.kind for u in d.units]
    assert kinds.count("department") == 36
    assert kinds.count("street") == 8
    assert kinds.count("centre") == 1
    assert d.monitoring_centre == "center"
    assert all(u.places for u in d.units if u.kind == "street")
    assert all(u.keywords for u in d.units if u.kind == "department")
    assert list(d.categories)[:7] == SEVEN
    assert str(d.deadlines["urgent"]["acknowledge"]) == "30分钟"
    assert str(d.deadlines["normal"]["resolve"]) == "5个工作日"
    assert [s["name"] for s in d.escalation] == ["电子催办", "人工交办", "现场督办", "短信督办", "专报批办"]


def _broken(tmp_path, old: str, new: str) -> Path:
    text = DEFAULT.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "district.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


@pytest.mark.parametrize("old,new,needle,message", [
    ("kind: department, keywords: [物价", "kind: ministry, keywords: [物价", "ministry", "单位类型"),
    ("{code: 环境保护, units: [sthjj,", "{code: 环境保护, units: [nosuch,", "nosuch", "不存在的单位"),
    ("high: {acknowledge: 2 h,", "high: {acknowledge: two hours,", "two hours", "无法识别"),
    ("{code: kjj,", "{code: jyj,", "name: 区科学技术局", "重复"),
])
def test_broken_file_names_the_line(tmp_path, old, new, needle, message):
    path = _broken(tmp_path, old, new)
    with pytest.raises(DistrictFileError) as info:
        load_district(path)
    assert f"第 {_line_of(path, needle)} 行" in str(info.value)
    assert message in str(info.value)


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = _broken(tmp_path, "  - {code: fgw,", "  - {code: fgw,,, [")
    with pytest.raises(DistrictFileError, match=r"第 \d+ 行.*YAML"):
        load_district(path)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(DistrictFileError, match="无法读取"):
        load_district(tmp_path / "nope.yaml")


def test_loading_twice_changes_nothing(app, session, district):
    # the app fixture synced once already
    events = session.execute(select(func.count()).select_from(AuditEvent)).scalar()
    assert sync_units(session, district) == (0, 0)
    session.commit()
    assert session.execute(select(func.count()).select_from(Unit)).scalar() == 45
    assert session.execute(select(func.count()).select_from(AuditEvent)).scalar() == events


def test_changed_keywords_update_the_unit(app, session, district):
    district.units[1].keywords.append("新关键词")
    assert sync_units(session, district) == (0, 1)
    session.commit()
    unit = session.execute(select(Unit).where(Unit.code == district.units[1].code)).scalar_one()
    assert "新关键词" in unit.keywords


def _calendar_file(tmp_path, calendar_yaml: str):
    from pathlib import Path
    text = Path("opinion/district.yaml").read_text(encoding="utf-8")
    text = text.replace("calendar:\n  holidays: []   # 放假日期\n  workdays: []   # 调休上班日（周末上班）\n", calendar_yaml)
    path = tmp_path / "district.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_calendar_dates_and_ranges(tmp_path):
    from datetime import date

    from opinion.settings.district import load_district
    d = load_district(_calendar_file(tmp_path, "calendar:\n  holidays: [2027-01-01, '2027-02-05~2027-02-11']\n"
                                               "  workdays: ['2027-02-14']\n"))
    assert date(2027, 1, 1) in d.holidays and len(d.holidays) == 8
    assert d.workdays == frozenset({date(2027, 2, 14)})


@pytest.mark.parametrize("calendar,message", [
    ("calendar:\n  holidays: [2027-13-01]\n", "不是日期"),
    ("calendar:\n  holidays: ['2027-02-11~2027-02-05']\n", "区间“2027-02-11~2027-02-05”无效"),
    ("calendar:\n  holidays: [2027-01-01]\n  workdays: [2027-01-01]\n", "同时列为放假日期和调休上班日"),
    ("calendar:\n  holidays: 2027-01-01\n", "应为列表"),
])
def test_bad_calendar_entries_are_refused_with_the_file_and_line(tmp_path, calendar, message):
    from opinion.errors import DistrictFileError
    from opinion.settings.district import load_district
    with pytest.raises(DistrictFileError, match=message) as info:
        load_district(_calendar_file(tmp_path, calendar))
    assert "district.yaml" in str(info.value)


@pytest.mark.parametrize("days,ok", [("30", True), ("31", False), ("365", False)])
def test_no_reply_days_stop_at_the_collectors_30_days(tmp_path, days, ok):
    """The collector re-reads comments only under posts of the last 30 days, so a longer no-reply
    window is refused with the reason; the silent days keep their year."""
    path = _broken(tmp_path, "  silent_days: 7\n  no_reply_days: 7", f"  silent_days: 365\n  no_reply_days: {days}")
    if ok:
        district = load_district(path)
        assert (district.matrix_silent_days, district.matrix_no_reply_days) == (365, int(days))
        return
    with pytest.raises(DistrictFileError) as info:
        load_district(path)
    assert "不回复评论判定天数" in str(info.value) and "1 到 30 的整数" in str(info.value)
    assert "近 30 天" in str(info.value)
