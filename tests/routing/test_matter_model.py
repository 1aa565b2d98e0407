"""The second-level (matter) model: trained by `train_matters` on messages whose matter the
catalogue's keywords name, with those keywords blanked out, and used by routing only where no keyword
matched, when confident and under the first-level category; else the category's catch-all."""
from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

import config
from opinion.models import RoutingCorrection, Unit, utcnow
from opinion.routing import Router
from opinion.routing.catalogue import load_catalogue
from opinion.routing.retrain import (
    CORRECTION_WEIGHT,
    InstanceClassifier,
    matter_correction_examples,
    matter_model_dir,
    retrain_from_corrections,
    retrain_matters_with_corrections,
)
from opinion.routing.train import matter_examples, train_matters
from opinion.settings.district import load_district

SHIPPED = Path(config.Config.DISTRICT_FILE).resolve().parent


class FixedClassifier:
    def __init__(self, category="城乡建设", confidence=0.9):
        self.category, self.confidence = category, confidence

    def predict(self, texts, tokens=None):
        return [(self.category, self.confidence)] * len(texts)


class FixedMatter(FixedClassifier):
    """A matter model pinned to one answer."""


@pytest.fixture
def district_copy(tmp_path):
    for name in ("district.yaml", "gazetteer.yaml", "responsibilities.yaml"):
        shutil.copy(SHIPPED / name, tmp_path / name)
    return load_district(tmp_path / "district.yaml")


@pytest.fixture
def catalogue(district_copy):
    district = district_copy
    units = {u.code: (u.name, u.kind) for u in district.units}
    return load_catalogue(district.catalogue_file, units, list(district.categories))


# Segmented like the shared training copy. Each names its matter's keyword (物业, 违建, 停水) with
# other words that the model must learn, because the keyword is blanked out before training.
PROPERTY = ["小区 物业 门禁 坏 业主 投诉 没人 修", "物业 收取 业主 门禁卡 费用", "业主 反映 物业 门禁 楼道 卫生 差",
            "物业 不 修 门禁 业主 进出 困难", "业主 要求 物业 公开 门禁 收费 账目", "物业 门禁 系统 瘫痪 业主 不满"]
BUILDING = ["楼顶 违建 加盖 铁皮房", "邻居 楼顶 违建 铁皮房 遮挡", "违建 铁皮房 楼顶 存在 安全隐患",
            "举报 楼顶 违建 加盖 铁皮房", "楼顶 铁皮房 违建 无人 拆除", "违建 楼顶 铁皮房 影响 采光"]
WATER = ["停水 三天 居民 无法 做饭 洗澡", "频繁 停水 做饭 洗澡 困难", "停水 没有 通知 居民 洗澡",
         "小区 停水 居民 做饭 成问题", "停水 影响 居民 洗澡 做饭", "突然 停水 居民 做饭 洗澡 不便"]

BUS = ["公交 间隔 太长 等 一小时", "公交 站牌 看不清 等车 太久", "公交 末班 太早 下班 等车 没车",
       "公交 司机 不 等 乘客", "公交 等车 时间 太长", "公交 停靠 站点 太少 等车 不便"]


@pytest.fixture
def train_file(tmp_path):
    data = tmp_path / "train.csv"
    with open(data, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "category"])
        for text in PROPERTY + BUILDING + WATER:
            w.writerow([text, "城乡建设"])
        for text in BUS:
            w.writerow([text, "交通运输"])
    return data


@pytest.fixture
def matter_model(tmp_path, catalogue, train_file):
    data = train_file
    report = train_matters(str(data), catalogue, str(tmp_path / "matters"), progress=False)
    assert report["weak_labels"] == 24
    from opinion.routing.classifier import CategoryClassifier
    return CategoryClassifier.load(str(tmp_path / "matters"))


def test_weak_labels_name_one_matter_with_its_keywords_blanked_out(catalogue):
    texts = ["小区 物业 门禁 坏", "物业 门禁 停水", "楼顶 违建", "小区 门禁 坏"] + ["物业 收费"] * 4 + ["违建"] * 4
    labels = ["城乡建设"] * len(texts)
    got = matter_examples(texts, labels, catalogue)
    assert ("小区，门禁坏", "物业管理") in got
    # a tie (物业 and 停水, one word each) and a text without keyword teach nothing
    assert not any("停水" in t or t == "小区门禁坏" for t, _ in got)
    assert {m for _, m in got} == {"物业管理", "违章建筑"}
    # a keyword of another category's matter does not label a message of this category
    assert matter_examples(["物业 门禁"] * 6, ["交通运输"] * 6, catalogue) == []


def test_a_post_without_keywords_goes_to_the_matter_the_model_learned(district_copy, matter_model):
    district = district_copy
    router = Router(district, classifier=FixedClassifier(), matter_classifier=matter_model)
    text = "我们小区的门禁坏了一个月，业主天天投诉"
    _, catalogue = router.tables()
    assert catalogue.match(text) is None  # no keyword of the catalogue: the rules alone would not know
    d = router.route_batch([text])[0]
    assert d.matter == "物业管理" and d.unit == "fgj" and not d.triage
    assert re.search(r"模型判断为 物业管理（置信度 [01]\.\d\d）", d.reason)
    assert d.confidence >= router.matter_min_confidence
    # the same post without the model: the category's catch-all
    plain = Router(district, classifier=FixedClassifier(), matter_classifier=False).route_batch([text])[0]
    assert plain.matter == "其他城乡建设事项" and plain.unit == "zjj" and "模型判断" not in plain.reason


def test_a_low_confidence_or_foreign_matter_falls_back_to_the_catch_all(district_copy):
    district = district_copy
    text = "我们这里的事情一直没人管"
    low = Router(district, classifier=FixedClassifier(), matter_classifier=FixedMatter("物业管理", 0.3))
    d = low.route_batch([text])[0]
    assert d.matter == "其他城乡建设事项" and d.unit == "zjj" and "模型判断" not in d.reason
    # a confident matter under another category than the first-level model's is not taken
    other = Router(district, classifier=FixedClassifier(), matter_classifier=FixedMatter("公交线路", 0.95))
    assert other.route_batch([text])[0].matter == "其他城乡建设事项"
    # a keyword still decides before the model
    kw = Router(district, classifier=FixedClassifier(), matter_classifier=FixedMatter("物业管理", 0.95))
    assert kw.route_batch(["小区停水三天了"])[0].matter == "供水供电"


TREES = ["楼下的大树枝叶遮住了窗户，屋里白天也要开灯", "枝叶伸进阳台，遮住窗户，蚊虫很多",
         "窗户被枝叶遮住，晾衣服都晒不干"]


def test_monitors_corrections_that_name_a_matter_train_the_matter_model(app, session, district, train_file,
                                                                         tmp_path):
    units = {u.code: u for u in session.execute(select(Unit)).scalars()}
    for text in TREES:  # sent to 园林局, the only 城乡建设 matter it leads: 园林绿化
        session.add(RoutingCorrection(from_unit_id=units["zjj"].id, to_unit_id=units["ylj"].id,
                                      category="城乡建设", text=text, at=utcnow()))
    # 房管局 leads three 城乡建设 matters: which one this was is not known, so it teaches nothing
    session.add(RoutingCorrection(from_unit_id=units["zjj"].id, to_unit_id=units["fgj"].id,
                                  category="城乡建设", text="窗户外面一直很吵", at=utcnow()))
    session.commit()
    _, catalogue = Router(district, matter_classifier=False).tables()
    examples = matter_correction_examples(session, district, catalogue)
    assert {m for _, m in examples} == {"园林绿化"} and len(examples) == 3 * CORRECTION_WEIGHT

    report = retrain_matters_with_corrections(app, [str(train_file)])
    assert report["corrections"] == 3 and Path(report["model"]) == matter_model_dir(app.instance_path)
    router = Router(district, classifier=FixedClassifier(),
                    matter_classifier=InstanceClassifier(app.instance_path, matters=True))
    d = router.route_batch(["枝叶把我家窗户全遮住了"])[0]
    assert d.matter == "园林绿化" and d.unit == "ylj" and "模型判断为 园林绿化" in d.reason


def test_the_weekly_retrain_also_retrains_the_matter_model(app, session, district, train_file):
    units = {u.code: u for u in session.execute(select(Unit)).scalars()}
    for text in TREES:
        session.add(RoutingCorrection(from_unit_id=units["zjj"].id, to_unit_id=units["ylj"].id,
                                      category="城乡建设", text=text, at=utcnow()))
    session.commit()
    app.config["ROUTING_TRAIN_DATA"] = str(train_file)
    message = retrain_from_corrections(app)
    assert "二级事项模型已重新训练（3 条改派可确定事项）" in message
    assert (matter_model_dir(app.instance_path) / "model.npz").exists()
