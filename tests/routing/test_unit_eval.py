"""The unit-level routing set and `eval routing --level unit`: labels from who answered, places
mapped onto the district, and the three figures printed before and after."""
from __future__ import annotations

import csv

import config
from opinion.routing import Router
from opinion.routing.unitset import acting_units, build_examples, mapped_text, read_examples, write_examples
from opinion.settings.district import load_district

REPLIES = [
    ("1", "A3区芙蓉社区楼道垃圾堆没人清", "芙蓉社区的垃圾堆了半个月，臭气熏天。",
     "网友您好！针对您反映的问题,A3区洋湖街道高度重视，立即组织力量调查处理，现回复如下：……"),
    ("2", "A2区景蓉华苑物业乱收停车费", "景蓉华苑的物业公司乱收费。",
     "网友您好！经A2区住建局调查核实，现回复如下：…… A2区住建局 2019年5月5日"),
    ("3", "咨询户口迁移", "想把户口迁回老家。", "您好！留言已收悉。"),
]


def _replies(tmp_path):
    path = tmp_path / "replies.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "subject", "text", "time", "reply", "reply_time"])
        for i, subject, text, reply in REPLIES:
            w.writerow([i, subject, text, "", reply, ""])
    return path


def test_the_label_is_the_unit_the_reply_names_and_places_map_onto_the_district(tmp_path):
    assert acting_units(REPLIES[0][3])[0] == ("street", "洋湖街道")
    assert acting_units(REPLIES[1][3])[0][0] == "zjj"
    assert acting_units(REPLIES[2][3]) == []
    district = load_district(config.Config.DISTRICT_FILE)
    gazetteer, _ = Router(district).tables()
    streets = [u.code for u in district.units if u.kind == "street"]
    examples = build_examples(_replies(tmp_path), gazetteer, streets)
    assert [e.id for e in examples] == ["1", "2"]  # nobody named in 3: no label
    first = examples[0]
    assert first.unit in streets and "芙蓉社区" in first.mapping
    # the community is renamed to a community of the very street office the label became
    text = mapped_text("芙蓉社区的垃圾堆了半个月", first.mapping)
    found = gazetteer.find(text)
    assert found and found[0].place.streets == (first.unit,) and found[0].place.kind == "communities"
    out = tmp_path / "set.csv"
    write_examples(out, examples)
    assert [(e.id, e.unit, e.mapping) for e in read_examples(out)] == [(e.id, e.unit, e.mapping) for e in examples]


def test_eval_routing_unit_prints_accuracy_recall_and_triage_before_and_after(tmp_path, monkeypatch):
    monkeypatch.setenv("OPINION_INSTANCE_DIR", str(tmp_path / "instance"))
    from opinion import create_app
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})
    replies = _replies(tmp_path)
    district = app.extensions["district"]
    gazetteer, _ = Router(district).tables()
    examples = build_examples(replies, gazetteer, [u.code for u in district.units if u.kind == "street"])
    for e in examples:
        e.split = "report"
    data = tmp_path / "set.csv"
    write_examples(data, examples)
    result = app.test_cli_runner().invoke(args=["eval", "routing", "--level", "unit", "--data", str(data),
                                                "--messages", str(replies)])
    assert result.exit_code == 0, result.output
    before, rules, after = result.output.strip().splitlines()  # the last with the shipped matter model
    assert "改造前" in before and "改造后" in rules and "二级事项模型" in after
    for line in (before, rules, after):
        assert "单位准确率" in line and "街道召回率" in line and "转人工分拨" in line
    # the community's rubbish reaches its street office (属地); the old rules sent it to 城管
    assert "街道召回率 1.000（1 条" in after and "街道召回率 1.000（1 条" in rules and "街道召回率 0.000（1 条" in before
    missing = app.test_cli_runner().invoke(args=["eval", "routing", "--level", "unit", "--data", str(data),
                                                 "--messages", str(tmp_path / "nope.csv")])
    assert missing.exit_code != 0 and "找不到留言数据" in missing.output
