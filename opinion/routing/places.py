"""The district's gazetteer (辖区地名录): which street office's ground a post's places lie on.

A 12345 centre sends a neighbourhood complaint to the street office that owns the place (属地), so
routing must know every community, village, road and landmark of the district, not a handful of
words. The gazetteer is a YAML file beside district.yaml that admins edit; the loader refuses a
name listed under two street offices (naming both lines), because a silent first-wins would send
one office's cases to another. Places that really lie on several offices' ground are declared
`shared` and send a post that names only them to triage with the candidates named.

Mentions are found by longest match: one regular expression of every name, longest alternatives
first, scanned left to right, so "南苑小区" wins over "南苑" and "中山路小学" over "中山路".
A few hundred names make this as fast as an Aho-Corasick automaton, without another dependency.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from opinion.settings.district import TextDatesLoader, fail
from opinion.settings.district import read_yaml as read_district_yaml

KINDS = {"names": "街道", "areas": "片区", "communities": "社区", "villages": "村", "roads": "道路", "landmarks": "地标"}
# How strongly a mention points at its street office: the office's own name most, a road (which
# may run past several offices) least.
WEIGHT = {"names": 3.0, "areas": 2.0, "communities": 2.0, "villages": 2.0, "landmarks": 2.0, "roads": 1.0, "shared": 0.0}


class _Text(str):
    """A YAML string that remembers its line, so an error about a name can point at it."""
    line: int = 0


class _PlaceLoader(TextDatesLoader):
    pass


def _text_with_line(loader, node):
    s = _Text(loader.construct_scalar(node))
    s.line = node.start_mark.line + 1
    return s


def _mapping_with_line(loader, node):
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_PlaceLoader.add_constructor("tag:yaml.org,2002:str", _text_with_line)
_PlaceLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def read_yaml(path: str | Path) -> dict:
    """A YAML file whose strings and mappings know their line; errors name the file and line."""
    return read_district_yaml(path, _PlaceLoader)


def line_of(value, default: int | None = None) -> int | None:
    if isinstance(value, dict):
        return value.get("__line__", default)
    return getattr(value, "line", default)


@dataclass(frozen=True)
class Place:
    name: str            # as written in the post (a name or an alias)
    canonical: str       # the entry's name
    kind: str            # names | communities | villages | roads | landmarks | shared
    streets: tuple[str, ...]  # street office codes; several only for shared places
    line: int
    note: str = ""


@dataclass(frozen=True)
class Mention:
    place: Place
    start: int
    end: int


@dataclass
class PlaceResolution:
    """Where a text's places point: one street office, several (ambiguous), or none."""
    streets: list[str]                 # one: resolved; several: ambiguous; none: no place named
    mentions: list[Mention] = field(default_factory=list)
    reason: str = ""

    @property
    def street(self) -> str | None:
        return self.streets[0] if len(self.streets) == 1 else None

    @property
    def ambiguous(self) -> bool:
        return len(self.streets) > 1


class Gazetteer:
    def __init__(self, places: dict[str, Place], street_names: dict[str, str], source: str = ""):
        self.places = places
        self.street_names = street_names  # code -> short name (中山街道) for reasons
        self.source = source
        names = sorted(places, key=lambda n: (-len(n), n))
        self._pattern = re.compile("|".join(map(re.escape, names))) if names else None

    def find(self, text: str) -> list[Mention]:
        """Non-overlapping mentions, the longest name at each position, left to right."""
        if self._pattern is None or not text:
            return []
        return [Mention(self.places[m.group(0)], m.start(), m.end()) for m in self._pattern.finditer(text)]

    def mask(self, text: str, mentions: list[Mention]) -> str:
        """The text with its place names blanked, so "新华菜市场" is not also read as the matter 菜市场."""
        chars = list(text)
        for m in mentions:
            chars[m.start:m.end] = "　" * (m.end - m.start)
        return "".join(chars)

    def resolve(self, text: str, mentions: list[Mention] | None = None) -> PlaceResolution:
        mentions = self.find(text) if mentions is None else mentions
        if not mentions:
            return PlaceResolution([], [], "")
        score: dict[str, float] = {}
        said: dict[str, list[str]] = {}
        for m in mentions:
            for s in m.place.streets:
                said.setdefault(s, [])
                if m.place.name not in said[s]:
                    said[s].append(m.place.name)
            if m.place.kind != "shared":
                s = m.place.streets[0]
                score[s] = score.get(s, 0.0) + WEIGHT[m.place.kind]
        if score:
            best = max(score.values())
            top = [s for s in score if score[s] == best]
            if len(top) == 1:
                s = top[0]
                return PlaceResolution([s], mentions, f"提到 {'、'.join(said[s][:3])} → {self.street_names[s]}")
            streets = top
        else:
            # Only shared places: every office they lie on is a candidate.
            streets = list(dict.fromkeys(s for m in mentions for s in m.place.streets))
        parts = [f"{'、'.join(said[s][:2])}（{self.street_names[s]}）" for s in streets]
        notes = [m.place.note for m in mentions if m.place.note]
        reason = f"提到 {'；'.join(parts)}，属地不唯一：{'、'.join(self.street_names[s] for s in streets)}"
        if notes:
            reason += f"（{notes[0]}）"
        return PlaceResolution(streets, mentions, reason)


PLACE_SUFFIXES = ("街道", "社区", "小区", "村", "路", "大道", "花园", "家园", "市场", "小学", "中学", "医院")


def unknown_place_words(tokens, gazetteer: "Gazetteer") -> list[str]:
    """Words the segmenter cut whole that look like places (锦江花园, 幸福村) but the gazetteer
    lacks: said in the reason, so a monitor who knows where they are adds them to the gazetteer."""
    out = []
    for t in tokens or ():
        if len(t) >= 3 and t.endswith(PLACE_SUFFIXES) and t not in gazetteer.places and t not in out:
            out.append(t)
    return out[:3]


def short_street_name(name: str) -> str:
    return name.removesuffix("办事处")


def load_gazetteer(path: str | Path, units: dict[str, tuple[str, str]]) -> Gazetteer:
    """Read and check a gazetteer file. `units`: code -> (name, kind) of the district's units.

    Refused with the line named: an unknown or non-street unit, a name shorter than two characters
    (it would match inside unrelated words), and a name given twice, whether under two offices or
    as a shared place and an office's own."""
    path = str(path)
    data = read_yaml(path)
    streets = data.get("streets")
    if not isinstance(streets, dict):
        fail(path, line_of(data), "缺少 streets：应按街道代码列出各街道的社区、村、道路和地标")
    places: dict[str, Place] = {}

    def add(name, canonical, kind, codes, line, note=""):
        name = str(name).strip()
        if len(name) < 2:
            fail(path, line, f"地名“{name}”太短（至少两个字），会误配其他词语")
        if name in places:
            first = places[name]
            where = "、".join(short_street_name(units[c][0]) for c in first.streets)
            fail(path, line, f"地名“{name}”重复：第 {first.line} 行已列在 {where} 下。"
                             f"同一地名只能属一个街道；确实跨街道的请写入 shared 并列出各街道")
        places[name] = Place(name, str(canonical), kind, tuple(codes), line, note)

    names = {}
    for code, spec in streets.items():
        if code == "__line__":
            continue
        line = line_of(spec, line_of(code))
        if code not in units:
            fail(path, line, f"街道代码“{code}”不在 district.yaml 的单位列表中")
        if units[code][1] != "street":
            fail(path, line, f"“{code}”（{units[code][0]}）不是街道办事处，不能拥有地名")
        names[code] = short_street_name(units[code][0])
        if not isinstance(spec, dict):
            fail(path, line, f"街道“{code}”应为映射，含 names、communities、villages、roads、landmarks")
        for kind in KINDS:
            for entry in spec.get(kind) or []:
                if isinstance(entry, dict):
                    canonical = entry.get("name")
                    if canonical is None:
                        fail(path, line_of(entry), "地名条目缺少 name")
                    add(canonical, canonical, kind, [code], line_of(entry))
                    for alias in entry.get("aliases") or []:
                        add(alias, canonical, kind, [code], line_of(alias, line_of(entry)))
                else:
                    add(entry, entry, kind, [code], line_of(entry, line))
        unknown = sorted(str(k) for k in spec if k not in KINDS and k != "__line__")
        if unknown:
            fail(path, line, f"街道“{code}”下的“{unknown[0]}”无法识别，应为 {'、'.join(KINDS)} 之一")
    for entry in data.get("shared") or []:
        line = line_of(entry)
        if not isinstance(entry, dict) or "name" not in entry or not entry.get("streets"):
            fail(path, line, "shared 的每项应写成 {name: 地名, streets: [街道代码, …]}")
        codes = [str(c) for c in entry["streets"]]
        for c in codes:
            if c not in names:
                fail(path, line, f"跨街道地名“{entry['name']}”引用了未列出的街道“{c}”")
        if len(set(codes)) < 2:
            fail(path, line, f"跨街道地名“{entry['name']}”应列出至少两个街道；只属一个街道的请写在该街道下")
        add(entry["name"], entry["name"], "shared", codes, line, str(entry.get("note") or ""))
    return Gazetteer(places, names, path)
