"""系统管理 → 发布与矩阵: who approves statements, a 情况通报's required parts, and the matrix's days,
set in plain words and stored as settings overrides; a bad value is refused in Chinese and keeps
what was typed."""
import pytest
from sqlalchemy import select

from opinion.matrix.statements import check_statement
from opinion.models import Setting
from tests.factories import login, make_user


@pytest.fixture
def admin(session):
    return make_user(session, "admin", "admin")


def _current(client) -> dict:
    """The form's fields as the page shows them, as a dict to post back."""
    import re
    html = client.get("/admin/publishing").get_data(as_text=True)
    fields = {}
    for tag in re.findall(r"<input[^>]+>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if not name or name.group(1) == "csrf_token":
            continue
        kind = re.search(r'type="(radio|checkbox)"', tag)
        if kind and " checked" not in tag:
            continue
        fields[name.group(1)] = value.group(1) if value else ""
    return fields


def test_the_admin_sets_approval_parts_and_days_without_configuration_syntax(app, client, session, admin):
    login(client, "admin")
    page = client.get("/admin/publishing").get_data(as_text=True)
    assert "本单位负责人或舆情监测中心审核" in page and "咨询渠道" in page and "僵尸号" in page
    assert "patterns" not in page and "head_or_monitor\"" in page and "\\d" not in page  # no rule shown
    form = _current(client)
    assert form["statement_approval"] == "head_or_monitor" and form["silent_days"] == "7"
    names = {v: k.split("-")[1] for k, v in form.items() if k.endswith("-name")}
    new_row = max(int(k.split("-")[1]) for k in form if k.endswith("-name")) + 1

    form.update({"statement_approval": "monitor", "silent_days": "10", "no_reply_days": "3",
                 f"part-{new_row}-name": "伤亡情况", f"part-{new_row}-words": "伤亡、无人员受伤",
                 f"part-{new_row}-on": "1", f"part-{names['咨询渠道']}-words": "留言板"})
    form.pop(f"part-{names['地点']}-on")   # 地点 no longer required
    saved = client.post("/admin/publishing", data=form, follow_redirects=True).get_data(as_text=True)
    assert "已保存" in saved
    district = app.extensions["district"]
    assert (district.statement_approval, district.matrix_silent_days, district.matrix_no_reply_days) == ("monitor", 10, 3)
    assert [p["name"] for p in district.situation_report_parts] == ["时间", "事件经过", "处置情况", "咨询渠道", "伤亡情况"]
    assert {s.key for s in session.execute(select(Setting)).scalars()} >= {"statement_approval", "matrix",
                                                                            "situation_report_parts"}
    # the new part and the extra word are used by the check, the dropped part is not asked for
    text = "12月7日上午发生积水，已组织抢修。无人员受伤。详情请看区政府留言板"
    assert not [f for f in check_statement(district, "situation", text) if f.severity == "error"]
    missing = [f.message for f in check_statement(district, "situation", "12月7日上午发生积水，已组织抢修。")]
    assert any("伤亡情况" in m for m in missing) and any("咨询渠道" in m for m in missing)
    # the page shows what was saved, in the same plain words
    again = _current(client)
    assert again[f"part-{names['咨询渠道']}-words"] == "留言板" and f"part-{names['地点']}-on" not in again
    assert "伤亡情况" in again.values() and again["statement_approval"] == "monitor"


@pytest.mark.parametrize("change,message", [
    ({"silent_days": "0"}, "“僵尸号判定天数”应为 1 到 365 的整数"),
    ({"no_reply_days": "一周"}, "“不回复评论判定天数”应为 1 到 30 的整数"),
    ({"no_reply_days": "31"}, "系统只回读近 30 天发布的信息下的网友评论"),
    ({"silent_days": "366"}, "“僵尸号判定天数”应为 1 到 365 的整数"),
    ({"statement_approval": "anyone"}, "请选择发布稿由谁审核"),
    ({"part-9-name": "伤亡情况", "part-9-on": "1", "part-9-words": ""}, "新增要素“伤亡情况”请填写识别用语"),
    ({"part-9-name": "时间", "part-9-on": "1", "part-9-words": "当天"}, "要素“时间”写了两次"),
])
def test_bad_input_is_refused_in_chinese_and_kept(app, client, session, admin, change, message):
    login(client, "admin")
    form = {**_current(client), **change}
    response = client.post("/admin/publishing", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "未保存" in html and message in html
    assert session.execute(select(Setting)).scalars().all() == []
    district = app.extensions["district"]
    assert (district.statement_approval, district.matrix_silent_days) == ("head_or_monitor", 7)
    for value in change.values():
        if value and value != "1" and value != "anyone":
            assert f'value="{value}"' in html   # what the admin typed stays on the page


def test_no_part_left_is_refused(client, session, admin):
    login(client, "admin")
    form = {k: v for k, v in _current(client).items() if not k.endswith("-on")}
    html = client.post("/admin/publishing", data=form).get_data(as_text=True)
    assert "情况通报至少要有一项必备要素" in html


def test_only_admins(client, session, admin):
    make_user(session, "monitor1", "monitor", "center")
    login(client, "monitor1")
    assert client.get("/admin/publishing").status_code == 403
