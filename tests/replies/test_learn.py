"""Templates learned from published replies: the common wording kept, the particulars replaced."""
import csv
import json

import pytest

from opinion.cases import replies
from opinion.cases.templates import TEMPLATES_FILE, learn_templates, load_templates

ROWS = [
    ("1", "路灯不亮", "网友“UU008123”您好！您的留言已收悉。现将有关情况答复如下：经查，已于2019年4月18日修复。"
     "如有疑问，请致电0731-84512345。感谢您对我们工作的支持、理解与监督！2019年4月20日"),
    ("2", "道路破损", "网友“A00023583”：您好！您的留言已收悉。现将有关情况答复如下：A3区已安排施工队维修。"
     "如有疑问，请致电0731-88886666。感谢您对我们工作的支持、理解与监督！2019年5月2日"),
    ("3", "噪音扰民", "网友“李四”您好！您的留言已收悉。现将有关情况答复如下：已责令整改。"
     "如有疑问，请致电0731-12345678。感谢您对我们工作的支持、理解与监督！"),
    ("4", "学校收费", "网友：您好！来信收悉。特此回复。"),
]


@pytest.fixture
def replies_csv(tmp_path):
    path = tmp_path / "replies.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "subject", "text", "time", "reply", "reply_time"])
        for ident, subject, reply in ROWS:
            w.writerow([ident, subject, subject, "2019/4/1 9:00:00", reply, "2019/4/20 9:00:00"])
    return path


def test_common_wording_is_kept_and_particulars_become_placeholders(replies_csv):
    doc = learn_templates(str(replies_csv), classify=lambda texts: ["城乡建设"] * len(texts))
    body = next(t["body"] for t in doc["templates"] if t["category"] == "城乡建设")
    assert body.startswith("{称呼}：您好！您的留言已收悉。现将有关情况答复如下：")
    assert "如有疑问，请致电【请填写：联系电话】。感谢您对我们工作的支持、理解与监督！" in body
    for particular in ("UU008123", "李四", "0731", "2019", "A3区", "路灯"):
        assert particular not in json.dumps(doc, ensure_ascii=False)
    assert [t["category"] for t in doc["templates"]] == ["城乡建设", None]


def test_a_file_without_replies_is_refused_by_name(tmp_path, runner):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,text\n1,hello\n", encoding="utf-8")
    result = runner.invoke(args=["templates", "learn", "--data", str(bad), "--out", str(tmp_path / "o.json")])
    assert result.exit_code != 0 and "bad.csv" in result.output and "reply" in result.output
    assert not (tmp_path / "o.json").exists()


def test_the_shipped_templates_fill_in_to_replies_that_only_lack_what_was_done(district):
    doc = json.loads(TEMPLATES_FILE.read_text(encoding="utf-8"))
    assert {t["category"] for t in doc["templates"]} >= {"城乡建设", "交通运输", None}
    for t in doc["templates"]:
        assert replies.template_problems(t["body"]) == []
        text = replies.render(t["body"], {"称呼": "网友“甲”", "话题": "路灯不亮", "单位": "区城管局",
                                          "承办单位": "区城管局", "日期": "2026年10月8日"})
        found = replies.check_reply(district, text)
        assert {f.kind for f in found} <= {"unfilled", "missing_part"}
        assert [f.message for f in found if f.kind == "missing_part"] in ([], ["缺少办理情况"])


def test_seed_loads_the_shipped_templates_once(session):
    added, kept = load_templates(session)
    session.commit()
    assert added >= 8 and kept == 0
    assert load_templates(session) == (0, added)


def test_learning_from_the_real_replies(shared_data, runner, tmp_path):
    out = tmp_path / "t.json"
    result = runner.invoke(args=["templates", "learn", "--data", str(shared_data / "gov-messages" / "replies.csv"),
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert len(doc["templates"]) == 8 and sum(t["learned_from"] for t in doc["templates"][:-1]) == 2816
