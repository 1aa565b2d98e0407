"""Retraining from monitors' corrections: the next similar topic goes where the monitor sent the last."""
import csv
import os

import pytest
from sqlalchemy import select

from opinion.models import RoutingCorrection, Unit, utcnow
from opinion.routing import Router
from opinion.routing.classifier import MODEL_DIR
from opinion.routing.retrain import (
    CorrectionMemory,
    InstanceClassifier,
    category_for_unit,
    model_dir,
    retrain_from_corrections,
    retrain_with_corrections,
)
from opinion.routing.rules import RuleMatcher

TRAIN = {
    "交通运输": ["公交线路调整后等车时间太长", "地铁站出口指示牌不清楚", "出租车拒载还绕路", "道路限行时段不合理",
             "公交站台没有遮雨棚", "长途客车站售票窗口太少", "网约车司机乱收费", "停车场收费标准不透明",
             "停车收费太贵而且没有发票", "路边停车位太少停车难"],
    "城乡建设": ["小区楼道墙皮脱落", "老旧小区加装电梯进展慢", "房屋漏水开发商不管", "小区外墙保温层开裂",
             "物业维修基金使用不透明", "棚户区改造补偿标准", "新建楼盘交房延期", "住宅楼地基下沉出现裂缝",
             "小区物业服务差不作为", "楼顶违建没人拆"],
    "教育文体": ["学校食堂饭菜质量差", "幼儿园收费太高", "体育馆开放时间太短", "图书馆座位不够", "中学补课乱收费",
             "小学放学太早家长接不了", "校车超载很危险", "文化馆活动太少", "学校操场不对外开放", "课外培训退费难"],
}
CORRECTED = ["停车位长期被外来车辆占着，收了钱却没人管理", "外来车辆占着停车位没人管理，业主没地方停",
             "门口的停车位被外来车辆长期占用，管理处不作为"]
NEXT = "停车位又被外来车辆占了，根本没人管理"


@pytest.fixture
def train_file(tmp_path):
    path = tmp_path / "train.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "category"])
        for category, texts in TRAIN.items():
            w.writerows([t, category] for t in texts)
    return path


def test_reassignment_changes_routing_of_the_next_similar_topic(app, session, district, train_file, runner):
    assert RuleMatcher(district).match_keyword(NEXT) is None and RuleMatcher(district).match_place(NEXT) is None
    gazetteer, catalogue = Router(district).tables()  # nor does the catalogue name its matter
    assert catalogue.match(NEXT) is None and not gazetteer.find(NEXT)
    shipped = os.stat(MODEL_DIR / "model.npz").st_mtime
    retrain_with_corrections(app, [str(train_file)])  # the district's model before any correction
    router = Router(district, classifier=InstanceClassifier(app.instance_path), min_confidence=0.0)
    before = router.route_batch([NEXT])[0]
    assert before.category == "交通运输" and before.unit == "jtj"

    units = {u.code: u for u in session.execute(select(Unit)).scalars()}
    for text in CORRECTED:  # the monitors sent these topics from 交通局 to 住建局
        session.add(RoutingCorrection(from_unit_id=units["jtj"].id, to_unit_id=units["zjj"].id,
                                      category="交通运输", text=text, at=utcnow()))
    session.commit()
    result = runner.invoke(args=["train", "routing", "--data", str(train_file), "--with-corrections"])
    assert result.exit_code == 0, result.output
    assert "改派记录 3 条" in result.output

    after = router.route_batch([NEXT])[0]  # the same router object: it reloads by itself
    assert after.category == "城乡建设" and after.unit == "zjj"
    assert (model_dir(app.instance_path) / "model.npz").exists()
    assert os.stat(MODEL_DIR / "model.npz").st_mtime == shipped  # the shipped model is untouched


def test_without_instance_model_the_shipped_one_routes(app):
    clf = InstanceClassifier(app.instance_path)
    assert clf.labels and clf.predict(["公交车站台破损"])[0][0] in clf.labels


def test_category_taught_by_a_correction(district):
    assert category_for_unit(district, "zjj") == "城乡建设"            # the category it leads
    assert category_for_unit(district, "ylj", "环境保护") == "环境保护"   # the case's, when it handles it
    assert category_for_unit(district, "zs") is None                   # a street office: no category


def test_weekly_job_skips_without_training_data(app):
    app.config["ROUTING_TRAIN_DATA"] = ""
    assert "跳过" in retrain_from_corrections(app)


STREET_CORRECTED = ["小区门口的夜市摊位每天开到凌晨，油烟和吵闹让居民睡不着",
                    "夜市摊位开到凌晨两点，吵闹声让小区居民睡不着觉"]
STREET_NEXT = "楼下夜市摊位又开到凌晨了，吵闹得居民根本睡不着"


def test_reassignment_to_a_street_office_is_remembered(app, session, district, train_file, runner):
    """A street office leads no category, so only the memory of the decision can send the next
    such post there; a different matter is not caught by it."""
    router = Router(district, classifier=InstanceClassifier(app.instance_path), min_confidence=0.0)
    before = router.route_batch([STREET_NEXT])[0]
    assert before.unit != "zs"

    units = {u.code: u for u in session.execute(select(Unit)).scalars()}
    for text in STREET_CORRECTED:
        session.add(RoutingCorrection(from_unit_id=units[before.unit].id, to_unit_id=units["zs"].id,
                                      category=before.category, text=text, at=utcnow()))
    session.commit()
    result = runner.invoke(args=["train", "routing", "--data", str(train_file), "--with-corrections"])
    assert result.exit_code == 0, result.output
    assert "记住 2 条改派决定" in result.output

    after, other = router.route_batch([STREET_NEXT, "学校食堂饭菜质量差，孩子吃不饱"])
    assert after.unit == "zs"
    assert "监测员改派记录" in after.reason and 0.5 <= after.confidence <= 1.0
    assert other.unit != "zs" and "改派记录" not in other.reason

    # The pipeline's own tokens reach the same decision as the raw text.
    tokens = [router.classifier.tokens(STREET_NEXT)]
    assert router.route_batch([STREET_NEXT], tokens)[0].unit == "zs"


def test_memory_needs_most_words_shared():
    memory = CorrectionMemory([
        {"id": 1, "unit": "zs", "category": None, "tokens": ["夜市", "摊位", "凌晨", "吵闹", "居民", "睡不着"]},
        {"id": 2, "unit": "jtj", "category": "交通运输", "tokens": ["公交", "站台", "没有", "遮雨棚"]},
    ])
    hit = memory.recall(["夜市", "摊位", "凌晨", "吵闹"])
    assert hit is not None and hit.unit == "zs" and hit.correction_id == 1
    assert abs(hit.similarity - 4 / (4 * 6) ** 0.5) < 1e-9
    assert memory.recall(["夜市", "摊位"]) is None                       # too few words shared
    assert memory.recall(["夜市", "摊位", "凌晨", "房价", "学区", "医保", "停车", "地铁", "高考"]) is None  # 3 of 9
    assert memory.recall([]) is None


def test_latest_decision_on_the_same_wording_wins(app, session, district):
    from opinion.routing.classifier import CategoryClassifier
    from opinion.routing.retrain import correction_memory
    units = {u.code: u for u in session.execute(select(Unit)).scalars()}
    text = "夜市摊位开到凌晨两点，吵闹声让小区居民睡不着觉"
    for code in ("csglj", "zs"):
        session.add(RoutingCorrection(to_unit_id=units[code].id, text=text, at=utcnow()))
        session.commit()
    memory = correction_memory(session, district, CategoryClassifier.load().tokens)
    assert [m["unit"] for m in memory] == ["zs"]
    assert memory[0]["category"] is None
