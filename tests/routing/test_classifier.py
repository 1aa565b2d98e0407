"""The category classifier on raw messages, its raw/segmented agreement, training and evaluation.

The shipped model must place hand-written raw messages (never in any data set) in the right one of
the seven first-level categories, give the same answer for a message and its jieba-segmented,
stopword-free copy, and retrain from any CSV/JSON Lines file whose columns are named by the caller.
"""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest

from opinion.routing.classifier import CATEGORIES, CategoryClassifier, is_presegmented
from opinion.routing.train import evaluate_routing, format_report, train_routing

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("OPINION_SHARED_DATA", REPO.parent / "shared" / "data")) / "gov-messages"

RAW = {
    "城乡建设": ["我们小区的物业公司乱收停车费，电梯坏了三个月也没人修，业主委员会也不管，请住建局查一查。",
             "开发商逾期交房已经一年多了，房产证到现在也办不下来，我们购房户该怎么办？",
             "老旧小区改造工程把路面挖开后就停工了，下雨天到处是积水，居民出行非常不便。"],
    "环境保护": ["工业园区的化工厂每天晚上偷偷排放废气，气味刺鼻，周边居民晚上都不敢开窗。",
             "河边的养猪场把粪水直接排进河里，河水发黑发臭，鱼都死了，希望环保局来检测。",
             "附近工地和搅拌站的噪音污染严重，凌晨两点还在施工，严重影响居民休息。"],
    "交通运输": ["12路公交车经常不按时发车，司机开车很猛，还经常跳站，希望公交公司管一管。",
             "出租车司机拒载、不打表、乱要价，在高铁站尤其严重，请交通部门整治。",
             "乡里那条公路坑坑洼洼，货车超载把路面压坏了，什么时候能修好？"],
    "教育文体": ["孩子今年上小学，学区划分不合理，离家最近的学校却不能入学，请教育局解释。",
             "学校强制学生购买教辅资料，还要求周末到老师开的培训班补课，家长负担很重。",
             "乡村教师的工资和绩效补贴拖欠了半年，代课老师的待遇也一直没有落实。"],
    "劳动和社会保障": ["公司拖欠我们农民工工资半年了，老板跑了，劳动监察大队能不能帮我们讨薪？",
                "单位一直没给我缴纳养老保险和医疗保险，辞职后社保断缴了怎么办？",
                "我今年退休，退休金的计算方式和工龄认定有问题，请人社局帮忙核实。"],
    "商贸旅游": ["在超市买到过期食品，找商家退货他们不认账，希望市场监管局处理消费纠纷。",
             "景区门票价格太高，导游强制游客进店购物，旅游体验很差。",
             "网上购买的手机是假货，商家拒绝退款，电商平台投诉也没有结果。"],
    "卫生计生": ["医院看病排队要排一上午，医生态度很差，还乱开检查，医疗费用太高了。",
             "二孩生育登记和准生证办理手续太复杂，计生办要我们来回跑好几趟。",
             "乡镇卫生院缺医少药，疫苗接种点也不规范，希望卫健委加强管理。"],
}


@pytest.fixture(scope="module")
def clf() -> CategoryClassifier:
    return CategoryClassifier.load()


def test_shipped_model_has_the_seven_categories(clf):
    assert sorted(clf.labels) == sorted(CATEGORIES)
    assert CategoryClassifier.load() is clf  # loaded once, cached


def test_hand_written_raw_messages(clf):
    texts = [t for ts in RAW.values() for t in ts]
    truth = [c for c, ts in RAW.items() for _ in ts]
    out = clf.predict(texts)
    right = [p == t for (p, _), t in zip(out, truth)]
    assert sum(right) >= len(texts) - 3, [(t[:12], p) for (p, _), t, ok in zip(out, texts, right) if not ok]
    for cat in RAW:  # every category gets at least two of its three right
        assert sum(ok for ok, t in zip(right, truth) if t == cat) >= 2, cat
    assert all(0.0 <= c <= 1.0 for _, c in out)
    # right answers are more confident than wrong ones on average, or all are right
    conf = np.array([c for _, c in out])
    assert np.mean(conf[right]) > 0.5


def test_proba_rows_sum_to_one_and_nonsense_is_low_confidence(clf):
    labels, p = clf.predict_proba(["公交车司机拒载", "", "hello world 12345"])
    assert labels == clf.labels and p.shape == (3, len(labels))
    assert np.allclose(p.sum(axis=1), 1.0)
    (_, c_bus), (_, c_empty), (_, c_foreign) = clf.predict(["公交车司机拒载", "", "hello world 12345"])
    assert c_empty < 0.5 and c_foreign < 0.5 < c_bus
    assert clf.predict([]) == []


def test_raw_and_segmented_forms_agree(clf):
    texts = [t for ts in RAW.values() for t in ts]
    segmented = [" ".join(clf.tokens(t)) for t in texts]
    assert all(is_presegmented(s) for s in segmented) and not any(is_presegmented(t) for t in texts)
    assert [clf.tokens(s) for s in segmented] == [clf.tokens(t) for t in texts]
    assert "的" not in clf.tokens(texts[0]) and "，" not in clf.tokens(texts[0])
    _, a = clf.predict_proba(texts)
    _, b = clf.predict_proba(segmented)
    assert np.allclose(a, b, atol=1e-6)


def _write_small(path: Path, fmt: str) -> None:
    rows = [{"内容": t + f"（第{i}次反映）", "单位": cat} for i in range(4) for cat, ts in RAW.items() for t in ts]
    if fmt == "csv":
        with open(path, "w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=["内容", "单位"])
            w.writeheader()
            w.writerows(rows)
    else:
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_train_on_custom_columns_round_trips(tmp_path, fmt):
    data = tmp_path / f"history.{fmt}"
    _write_small(data, fmt)
    out = tmp_path / "model"
    extra = [("小区门口的垃圾站臭气熏天", "环境保护")]
    report = train_routing(str(data), str(out), text_col="内容", label_col="单位", extra=extra, progress=False)
    assert report["n"] == 7 * 3 * 4 + 1 and report["extra"] == 1
    assert 0.0 <= report["cv_macro_f1"] <= 1.0 and report["temperature"] > 0
    assert set(report["per_class_f1"]) == set(CATEGORIES)
    # the same message with different suffixes is one near-duplicate group, not four
    assert report["near_duplicate_groups"] <= 7 * 3 + 1
    assert not any(p.suffix in (".pkl", ".joblib") for p in out.iterdir())
    loaded = CategoryClassifier.load(str(out))
    assert sorted(loaded.labels) == sorted(CATEGORIES)
    assert loaded.predict([RAW["交通运输"][1]])[0][0] == "交通运输"
    with pytest.raises(ValueError):
        train_routing(str(data), str(out), text_col="text", label_col="单位", progress=False)


def test_eval_reports_macro_f1_and_consistent_confusion(tmp_path):
    data = tmp_path / "eval.csv"
    _write_small(data, "csv")
    r = evaluate_routing(str(data), text_col="内容", label_col="单位")
    conf = np.array(r["confusion"])
    assert conf.sum() == r["n"] == 84 and sorted(r["labels"]) == sorted(CATEGORIES)
    assert np.trace(conf) / conf.sum() == pytest.approx(r["accuracy"])
    for i, label in enumerate(r["labels"]):
        assert conf[i].sum() == 12  # every label has 4 x 3 rows
    text = format_report(r)
    assert "macro_f1" in text and "confusion" in text and f"{r['macro_f1']:.4f}" in text
    assert r["posts_per_second"] > 0


@pytest.mark.skipif(not (SHARED / "train.csv").exists(),
                    reason=f"shared data absent: {SHARED} (set OPINION_SHARED_DATA)")
def test_real_data_raw_messages_match_their_segmented_copies(clf):
    """replies.csv holds raw messages; some of them are also in train.csv (segmented, labelled).
    Raw and segmented copies of the same message must get the same category, mostly the label."""
    with open(SHARED / "train.csv", encoding="utf-8") as fh:
        seg = {" ".join(clf.tokens(r["text"])): r["category"] for r in csv.DictReader(fh)}
    with open(SHARED / "replies.csv", encoding="utf-8") as fh:
        raw = [r["subject"] + " " + r["text"] for r in csv.DictReader(fh)]
    pairs = [(t, " ".join(clf.tokens(t))) for t in raw]
    pairs = [(t, s) for t, s in pairs if s in seg]  # token-for-token the same message
    print(f"{len(pairs)} raw messages of replies.csv are token-for-token in train.csv")
    assert len(pairs) >= 50
    p_raw = [c for c, _ in clf.predict([t for t, _ in pairs])]
    p_seg = [c for c, _ in clf.predict([s for _, s in pairs])]
    assert p_raw == p_seg
    assert np.mean([p == seg[s] for p, (_, s) in zip(p_raw, pairs)]) >= 0.9
    # every category is predicted for some of the unlabelled raw messages
    assert set(c for c, _ in clf.predict(raw[:800])) == set(CATEGORIES)
