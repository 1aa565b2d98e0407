"""The unit-level routing set: real citizens' messages with the unit that acted, on our district's map.

The shared gov-messages replies (../shared/data/gov-messages/replies.csv) are real messages with the
government's published answer, and the answer names who acted ("A3区洋湖街道高度重视…",
"…A7县环境保护局"). That unit is the label. The messages come from another city, so their place
names are mapped onto this district's gazetteer, consistently: every original street office, town,
community, road or landmark of one message goes to one demo street office (the acting one's image,
when a street office acted) and to an entry of the same kind there. Only ids, labels and the name
mapping are stored in the repository (tests/routing/data/unit_set.csv); the text is read from the
shared data and rewritten here at evaluation time. How it is built: tests/routing/data/README.md.
"""
from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from opinion.routing.places import Gazetteer

# Unit names in a reply -> the demo district's unit code (city and county units map onto the
# district's counterpart). Order matters: the more specific first (交警 before 公安).
UNIT_WORDS: list[tuple[str, str]] = [
    (r"交警|交通警察|车管所", "jjdd"), (r"消防大队|消防救援|消防支队", "xfjy"), (r"退役军人", "tyjrswj"),
    (r"人防办|人民防空", "rfb"), (r"医保局|医疗保障局|医保中心|医保部门", "ybj"),
    (r"人社局|人力资源和社会保障|人力资源社会保障|社保局|社保中心|就业局|劳动监察|劳动保障", "rsj"),
    (r"住建局|住房和城乡建设|城乡建设局|建设局|城建局|住建委|质安站", "zjj"),
    (r"城管|城市管理局|行政执法局|执法大队|执法中队|综合执法", "csglj"),
    (r"规划局|规划分局|规划部门|自然资源局|自然资源和规划|国土局|国土资源局|国土分局|不动产登记中心", "zrzyj"),
    (r"房产局|房屋交易|住房保障|房地产管理局|征收办|拆迁办", "fgj"),
    (r"水利局|水务局|水业集团", "slj"), (r"园林局|林业局|园林绿化局|绿化局", "ylj"),
    (r"环保局|环境保护局|生态环境局|生态环境分局|环保部门|环保分局", "sthjj"),
    (r"交通运输局|交通局|运管|公交公司|巴士公司|公交集团", "jtj"),
    (r"教育局|教育部门|教体局|教育和体育局", "jyj"), (r"文旅局|文化局|文化和旅游|旅游局|广电局|文体局", "wlj"),
    (r"体育局", "tyj"), (r"民政局|民政部门", "mzj"), (r"商务局", "swj"),
    (r"市场监管|市场监督|工商局|质监局|质监站|食药监", "scjgj"),
    (r"发改局|发改委|发展和改革|物价局", "fgw"), (r"卫健局|卫健委|卫生健康|卫计局|卫计委|卫生计生|卫生局", "wjw"),
    (r"公安局|公安分局|派出所|刑侦", "gaj"), (r"应急管理局|安监局", "yjglj"),
    (r"农业农村局|农业局|农机局|畜牧", "nyncj"), (r"税务局", "swju"), (r"财政局", "czj"),
    (r"工信局|经信局|工业和信息化", "gxj"),
]
_UNIT = re.compile("|".join(f"(?P<u{i}>{p})" for i, (p, _) in enumerate(UNIT_WORDS)))
# An acting street office or township: 洋湖街道, 含浦镇, 黄兴镇 (a 镇 or 乡 plays the street's part).
_STREET = re.compile(r"([\u4e00-\u9fa5]{2,4}?(?:街道|镇|乡))(?:办事处|党工委|人民政府|政府|办|高度|立即|、|和|与|进行|核实|工作)")
_QUOTED = re.compile(r"“[^”]{0,200}”|\"[^\"]{0,200}\"")
# Places a message names, by kind; the gazetteer kind each maps onto.
_PLACE = re.compile(r"[\u4e00-\u9fa5]{2,6}?(街道|社区|小区|村|镇|乡|大道|路|街|花园|家园|苑|广场|市场|学校|小学|中学|医院)"
                    r"(?![\u4e00-\u9fa5]{0,1}(?:区|县|市))")
_KIND_OF = {"街道": "names", "镇": "names", "乡": "names", "社区": "communities", "村": "villages",
            "大道": "roads", "路": "roads", "街": "roads"}
_NOT_A_PLACE = re.compile(r"^(?:我们|我们的|这个|那个|一个|本|该|附近|周边|所在|我家|农村|城乡|全|各|新农|美丽|乡村|"
                          r"本小|整个|所有|其他|很多|老旧|高档|商品|安置|拆迁|回迁|公路|马路|道路|在|的|和|与|及|对)")


_FUNCTION_CHARS = re.compile(r"[的了是在说和与对把被到我你他她这那有个要会就也都还请问让望修走沿拐经过从往去来每现造成事实上条整治尽快为谢情况您处需]")


def _clean_name(name: str) -> str | None:
    """A place name without the county or city it hung on (A7县春华镇 → 春华镇), or None for words
    that only look like places (为了家乡, 我们小区)."""
    name = name.lstrip("县市区省")
    if len(name) < 3 or _NOT_A_PLACE.match(name) or _FUNCTION_CHARS.search(name[:-1]):
        return None
    return name


def _stable(text: str) -> int:
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:8], 16)


def acting_units(reply: str) -> list[tuple[str, str]]:
    """(code or 'street', the name as written) of the units a reply says acted, first named first:
    the opening (the citizen's quoted words removed) and the signature."""
    body = _QUOTED.sub("", reply or "")
    part = body[:260] + " " + body[-40:]
    found: list[tuple[int, str, str]] = []
    for m in _STREET.finditer(part):
        name = _clean_name(m.group(1))
        if name:
            found.append((m.start(), "street", name))
    for m in _UNIT.finditer(part):
        code = UNIT_WORDS[int(m.lastgroup[1:])][1]
        found.append((m.start(), code, m.group(0)))
    out: list[tuple[str, str]] = []
    for _, code, name in sorted(found):
        if all(c != code or (code == "street" and n != name) for c, n in out):
            out.append((code, name))
    return out


def original_places(text: str) -> list[tuple[str, str]]:
    """(name, gazetteer kind) of the places a message names, in the original city's names."""
    found = []
    for m in _PLACE.finditer(text or ""):
        name = _clean_name(m.group(0))
        if name is None:
            continue
        kind = _KIND_OF.get(m.group(1), "landmarks")
        if (name, kind) not in found:
            found.append((name, kind))
    return found


@dataclass
class UnitExample:
    id: str
    split: str       # tune | report
    unit: str        # the code of the unit that acted
    mapping: dict[str, str]  # original place name -> the demo district's name


def build_examples(replies_csv: str | Path, gazetteer: Gazetteer, street_codes: list[str]) -> list[UnitExample]:
    """Label every reply whose acting unit is clear: one unit named, or a street office and the
    departments it names after itself (the first named leads), and map its places."""
    by_street: dict[str, dict[str, list[str]]] = {s: {} for s in street_codes}
    for place in gazetteer.places.values():
        if place.kind != "shared" and place.name == place.canonical:
            by_street[place.streets[0]].setdefault(place.kind, []).append(place.name)
    examples = []
    with open(replies_csv, encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            acted = acting_units(row["reply"])
            if not acted or len({c for c, _ in acted}) > 2:
                continue  # nobody named, or a crowd: the lead is not clear
            text = f"{row['subject']}。{row['text']}"
            places = original_places(text)
            lead, lead_name = acted[0]
            if lead == "street":
                street = street_codes[_stable(lead_name) % len(street_codes)]
                unit = street
            else:
                unit = lead
                anchor = places[0][0] if places else row["id"]
                street = street_codes[_stable(anchor) % len(street_codes)]
            mapping = {}
            for name, kind in places:
                choices = by_street[street].get(kind) or by_street[street]["landmarks"]
                mapping[name] = choices[_stable(name) % len(choices)]
            split = "report" if _stable("split:" + row["id"]) % 2 else "tune"
            examples.append(UnitExample(row["id"], split, unit, mapping))
    return examples


def write_examples(path: str | Path, examples: list[UnitExample]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "split", "unit", "places"])
        for e in examples:
            w.writerow([e.id, e.split, e.unit, "；".join(f"{k}=>{v}" for k, v in e.mapping.items())])


def read_examples(path: str | Path) -> list[UnitExample]:
    with open(path, encoding="utf-8", newline="") as fh:
        return [UnitExample(r["id"], r["split"], r["unit"],
                            dict(p.split("=>", 1) for p in r["places"].split("；") if "=>" in p))
                for r in csv.DictReader(fh)]


def mapped_text(text: str, mapping: dict[str, str]) -> str:
    """The message with its places renamed into the district, longest original name first."""
    if not mapping:
        return text
    pattern = re.compile("|".join(map(re.escape, sorted(mapping, key=len, reverse=True))))
    return pattern.sub(lambda m: mapping[m.group(0)], text)


def load_texts(replies_csv: str | Path) -> dict[str, str]:
    with open(replies_csv, encoding="utf-8-sig", newline="") as fh:
        return {r["id"]: f"{r['subject']}。{r['text']}" for r in csv.DictReader(fh)}


def evaluate_units(router, examples: list[UnitExample], texts: dict[str, str], split: str = "report") -> dict:
    """Unit accuracy (the decided unit is the one that acted; triage counts as wrong), street-office
    recall on messages that name a place of the district and whose acting unit is a street office,
    the share sent to triage, and how often the acting unit is at least a co-handler."""
    chosen = [e for e in examples if split == "all" or e.split == split]
    missing = [e.id for e in chosen if e.id not in texts]
    if missing:
        raise ValueError(f"留言数据中找不到 {len(missing)} 条标注（如 {missing[0]}），请确认 --messages 指向 replies.csv")
    batch = [mapped_text(texts[e.id], e.mapping) for e in chosen]
    decisions = router.route_batch(batch)
    gazetteer, _ = router.tables() if hasattr(router, "tables") else (None, None)
    streets = {u.code for u in router.district.units if u.kind == "street"}
    right = triage = involved = 0
    street_total = street_right = 0
    for e, text, d in zip(chosen, batch, decisions):
        right += d.unit == e.unit
        triage += d.triage
        involved += d.unit == e.unit or e.unit in getattr(d, "co_units", [])
        names_place = bool(e.mapping) and (gazetteer is None or gazetteer.find(text))
        if e.unit in streets and names_place:
            street_total += 1
            street_right += d.unit == e.unit
    n = max(len(chosen), 1)
    return {"split": split, "n": len(chosen), "unit_accuracy": right / n, "lead_or_co": involved / n,
            "triage_share": triage / n, "street_n": street_total,
            "street_recall": street_right / street_total if street_total else float("nan")}


def format_unit_report(rows: list[tuple[str, dict]]) -> str:
    lines = []
    for name, r in rows:
        lines.append(f"{name}（{r['split']}，{r['n']} 条）：单位准确率 {r['unit_accuracy']:.3f}  "
                     f"主办或协办命中 {r['lead_or_co']:.3f}  街道召回率 {r['street_recall']:.3f}"
                     f"（{r['street_n']} 条提到辖区地名且由街道办理）  转人工分拨 {r['triage_share']:.3f}")
    return "\n".join(lines)
