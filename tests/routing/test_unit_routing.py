"""Routing to the unit that must act: the place (属地, from the gazetteer) and the matter (事权, from
the responsibility catalogue), with the reason in words; the files' checks; edits without restart."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import config
from opinion.errors import DistrictFileError
from opinion.routing import Router
from opinion.routing.catalogue import load_catalogue
from opinion.routing.places import load_gazetteer
from opinion.settings.district import load_district

SHIPPED = Path(config.Config.DISTRICT_FILE).resolve().parent


class FixedClassifier:
    """The learned classifier, pinned: these tests are about the rules and the catalogue."""

    def __init__(self, category="城乡建设", confidence=0.9):
        self.category, self.confidence = category, confidence

    def predict(self, texts, tokens=None):
        return [(self.category, self.confidence)] * len(texts)


@pytest.fixture
def district_dir(tmp_path):
    for name in ("district.yaml", "gazetteer.yaml", "responsibilities.yaml"):
        shutil.copy(SHIPPED / name, tmp_path / name)
    return tmp_path


def route(router, text):
    return router.route_batch([text])[0]


@pytest.fixture
def router(district_dir):
    return Router(load_district(district_dir / "district.yaml"), classifier=FixedClassifier())


def test_a_post_naming_a_community_goes_to_its_street_office(router):
    d = route(router, "锦绣社区的物业公司收了物业费不干事，楼道垃圾一个月没人清")
    assert d.unit == "xc" and not d.triage
    assert d.matter == "物业管理" and d.co_units == ["fgj", "zjj"]
    assert "锦绣社区 → 西城街道" in d.reason and "物业管理 属地为主" in d.reason
    # another office's community, same matter: the place decides
    assert route(router, "翠湖社区物业不作为").unit == "zs"


def test_a_department_matter_goes_to_the_department_with_the_street_office_co_handling(router):
    d = route(router, "新华菜市场昨晚发生火灾，消防通道被摊位堵死了")
    # 新华菜市场 is a place (新华街道), not the market-management matter; the fire is 消防's
    assert d.unit == "xfjy" and d.matter == "消防安全" and d.co_units == ["xh"]
    assert "新华菜市场 → 新华街道" in d.reason and "新华街道 协办" in d.reason
    # no co-handling street where the catalogue lists none
    e = route(router, "光明小区门口的12路公交车改线了")
    assert e.unit == "jtj" and e.co_units == []


def test_an_ambiguous_place_goes_to_triage_with_both_candidates_named(router):
    d = route(router, "解放大道上每天晚上都有人乱摆摊")
    assert d.triage and d.unit == "center"
    assert d.candidates == ["zs", "rml"]
    assert "中山街道" in d.reason and "人民路街道" in d.reason
    # two offices' places named equally: triage too
    e = route(router, "翠湖社区和新风社区之间的垃圾堆没人清")
    assert e.triage and set(e.candidates) == {"zs", "rml"}


def test_no_place_sends_a_local_matter_to_its_lead_department(router):
    d = route(router, "我们小区物业乱收费")
    assert d.unit == "fgj" and "未提到辖区地名" in d.reason


def test_a_letter_naming_the_street_office_or_a_village_goes_to_it(router):
    # a department's matter, but the post names the office itself: it leads, the department helps
    d = route(router, "西城街道办的公交车改线了，老人出行不便")
    assert d.unit == "xc" and d.co_units == ["jtj"] and "来信点名街道" in d.reason
    # a village's water supply: the street office first, where the catalogue has it co-handle
    e = route(router, "沙洲村停水三天了没人管")
    assert e.unit == "bj" and "村级事务" in e.reason and "zjj" in e.co_units
    # a village, but a matter with no street co-handler: the department
    assert route(router, "沙洲村的孩子入学被拒").unit == "jyj"


def test_a_place_word_the_gazetteer_lacks_is_named_for_the_monitor(router):
    text = "幸福里小区物业不作为"
    d = router.route_batch([text], [["幸福里小区", "物业", "不作为"]])[0]
    assert d.unit == "fgj" and "幸福里小区" in d.reason and "不在辖区地名录" in d.reason
    known = router.route_batch(["翠湖社区物业不作为"], [["翠湖社区", "物业", "不作为"]])[0]
    assert "不在辖区地名录" not in known.reason


def test_an_edited_catalogue_takes_effect_without_a_restart(router, district_dir):
    text = "锦绣社区的物业公司收了物业费不干事"
    assert route(router, text).unit == "xc"
    path = district_dir / "responsibilities.yaml"
    body = path.read_text(encoding="utf-8")
    edited = body.replace("{code: 物业管理, category: 城乡建设, lead: fgj, co: [zjj], local: true",
                          "{code: 物业管理, category: 城乡建设, lead: zjj, co: [属地街道], local: false")
    assert edited != body
    path.write_text(edited, encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # a coarse clock must still see it
    d = route(router, text)
    assert d.unit == "zjj" and d.co_units == ["xc"]
    # a broken edit keeps the last good catalogue working and says why
    path.write_text(edited.replace("lead: zjj, co: [属地街道]", "lead: nosuch, co: [属地街道]"), encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000))
    assert route(router, text).unit == "zjj"
    assert "nosuch" in router._catalogue.error


def test_a_catalogue_broken_from_the_start_leaves_routing_on_the_units_keywords(district_dir):
    (district_dir / "responsibilities.yaml").write_text("matters: [oops", encoding="utf-8")
    router = Router(load_district(district_dir / "district.yaml"), classifier=FixedClassifier())
    d = route(router, "中山路下穿隧道积水半米深")
    assert d.unit == "slj" and d.reason.startswith("规则：关键词")  # the old rules, not an error


def test_an_edited_gazetteer_takes_effect_without_a_restart(router, district_dir):
    assert route(router, "幸福里社区物业不作为").unit == "fgj"
    path = district_dir / "gazetteer.yaml"
    body = path.read_text(encoding="utf-8")
    path.write_text(body.replace("communities: [翠湖社区,", "communities: [幸福里社区, 翠湖社区,"), encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert route(router, "幸福里社区物业不作为").unit == "zs"


UNITS = {"zs": ("中山街道办事处", "street"), "xc": ("西城街道办事处", "street"),
         "zjj": ("区住房和城乡建设局", "department"), "center": ("区互联网信息中心", "centre")}


def test_the_gazetteer_refuses_a_name_under_two_offices_naming_both_lines(tmp_path):
    p = tmp_path / "g.yaml"
    p.write_text("streets:\n  zs:\n    communities: [锦绣社区]\n  xc:\n    communities:\n      - 锦绣社区\n",
                 encoding="utf-8")
    with pytest.raises(DistrictFileError) as err:
        load_gazetteer(p, UNITS)
    assert "第 6 行" in str(err.value) and "第 3 行" in str(err.value) and "锦绣社区" in str(err.value)


@pytest.mark.parametrize("body, words", [
    ("streets:\n  zjj:\n    roads: [中山路]\n", "不是街道办事处"),
    ("streets:\n  zs:\n    roads: [路]\n", "太短"),
    ("streets:\n  zs:\n    shops: [中山路]\n", "无法识别"),
    ("streets:\n  zs:\n    roads: [中山路]\nshared:\n  - {name: 解放大道, streets: [zs]}\n", "至少两个街道"),
])
def test_the_gazetteer_refuses_what_would_misroute(tmp_path, body, words):
    p = tmp_path / "g.yaml"
    p.write_text(body, encoding="utf-8")
    with pytest.raises(DistrictFileError, match=words):
        load_gazetteer(p, UNITS)


def test_the_catalogue_refuses_a_keyword_in_two_matters_naming_both_lines(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("matters:\n"
                 "  - {code: 物业管理, category: 城乡建设, lead: zjj, local: true, keywords: [物业]}\n"
                 "  - {code: 房屋安全, category: 城乡建设, lead: zjj, keywords: [危房, 物业]}\n", encoding="utf-8")
    with pytest.raises(DistrictFileError) as err:
        load_catalogue(p, UNITS, ["城乡建设"])
    assert "第 3 行" in str(err.value) and "第 2 行" in str(err.value)


def test_the_shipped_files_load_and_cover_every_category():
    district = load_district(SHIPPED / "district.yaml")
    units = {u.code: (u.name, u.kind) for u in district.units}
    catalogue = load_catalogue(district.catalogue_file, units, list(district.categories))
    gazetteer = load_gazetteer(district.gazetteer_file, units)
    assert 60 <= len(catalogue.matters) <= 90
    assert set(catalogue.fallback) == set(district.categories)
    streets = {u.code for u in district.units if u.kind == "street"}
    assert {p.streets[0] for p in gazetteer.places.values()} == streets


def test_the_demo_incidents_reach_street_offices_and_zhongshan_has_work(router):
    """The demo stream's local complaints go to their street offices (none did before), 中山街道
    among them, so zs_fyr has an inbox; the seed itself is untouched."""
    from collectors.demo import INCIDENTS
    texts = [t.replace("{emo}", "") for incident in INCIDENTS for t in incident[2]]
    decisions = router.route_batch(texts)
    streets = [d.unit for d in decisions if d.unit in {"zs", "rml", "dh", "xc", "nm", "bg", "xh", "bj"}]
    assert len(streets) >= 0.25 * len(texts)
    assert "zs" in streets
