"""The responsibility catalogue (事权清单): second-level matters, who leads and who co-handles.

A first-level category says too little to dispatch: 城乡建设 covers a leaking roof (the street
office, 属地) and an unfinished housing estate (the housing bureau, wherever it is). The catalogue
lists the matters a 12345 centre dispatches by, each with its lead unit, its co-handlers and
whether the place decides (属地管理) or the department does; routing reads it on every batch, so an
admin's edit takes effect without a restart.
"""
from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from opinion.errors import DistrictFileError
from opinion.routing.places import fail, line_of, read_yaml

LOCAL_STREET = "属地街道"  # in `co`: the street office whose ground the post names


@dataclass(frozen=True)
class Matter:
    code: str
    category: str
    lead: str
    co: tuple[str, ...]
    local: bool
    keywords: tuple[str, ...]
    line: int

    @property
    def catch_all(self) -> bool:
        return not self.keywords


@dataclass(frozen=True)
class MatterHit:
    matter: Matter
    words: list[str]


class Catalogue:
    def __init__(self, matters: list[Matter], source: str = ""):
        self.matters = matters
        self.source = source
        self.by_code = {m.code: m for m in matters}
        self._of_word = {w: m for m in matters for w in m.keywords}
        self.fallback = {m.category: m for m in matters if m.catch_all}
        words = sorted(self._of_word, key=lambda w: (-len(w), w))
        self._pattern = re.compile("|".join(map(re.escape, words))) if words else None
        self._order = {m.code: i for i, m in enumerate(matters)}

    @property
    def keyword_pattern(self) -> re.Pattern | None:
        """Every keyword, longest first (for training the matter model on the same words)."""
        return self._pattern

    def matter_of_word(self, word: str) -> Matter:
        return self._of_word[word]

    def match(self, text: str) -> MatterHit | None:
        """The matter whose keywords the text names most (distinct words, then their length, then
        the catalogue's order), reading each stretch of text once, longest word first."""
        if self._pattern is None or not text:
            return None
        hits: dict[str, list[str]] = {}
        for m in self._pattern.finditer(text):
            matter = self._of_word[m.group(0)]
            words = hits.setdefault(matter.code, [])
            if m.group(0) not in words:
                words.append(m.group(0))
        if not hits:
            return None
        best = max(hits, key=lambda c: (len(hits[c]), sum(map(len, hits[c])), -self._order[c]))
        return MatterHit(self.by_code[best], hits[best])


def load_catalogue(path: str | Path, units: dict[str, tuple[str, str]], categories: list[str]) -> Catalogue:
    """Read and check a catalogue file: known units and categories, one catch-all per category at
    most, and a keyword in one matter only (else which matter it names would be a coin toss)."""
    path = str(path)
    data = read_yaml(path)
    raw_matters = data.get("matters")
    if not isinstance(raw_matters, list) or not raw_matters:
        fail(path, line_of(data), "缺少 matters：应列出各二级事项及其牵头单位")
    matters: list[Matter] = []
    seen: dict[str, int] = {}
    word_at: dict[str, tuple[str, int]] = {}
    fallback_at: dict[str, int] = {}
    for raw in raw_matters:
        line = line_of(raw)
        if not isinstance(raw, dict):
            fail(path, line, "每个事项应写成 {code: 事项名称, category: 一级分类, lead: 牵头单位, …}")
        for key in ("code", "category", "lead"):
            if not raw.get(key):
                fail(path, line, f"事项缺少必填项“{key}”")
        code, category, lead = str(raw["code"]), str(raw["category"]), str(raw["lead"])
        if code in seen:
            fail(path, line, f"事项“{code}”重复（第一次出现在第 {seen[code]} 行）")
        seen[code] = line
        if category not in categories:
            fail(path, line, f"事项“{code}”的一级分类“{category}”不存在，应为 {'、'.join(categories)} 之一")
        if lead not in units or units[lead][1] == "centre":
            fail(path, line, f"事项“{code}”的牵头单位“{lead}”不在 district.yaml 的单位列表中（或是监测中心）")
        co = [str(c) for c in raw.get("co") or []]
        for c in co:
            if c != LOCAL_STREET and c not in units:
                fail(path, line, f"事项“{code}”的协办单位“{c}”不在单位列表中（属地街道请写“{LOCAL_STREET}”）")
        local = raw.get("local", False)
        if not isinstance(local, bool):
            fail(path, line, f"事项“{code}”的 local 应为 true（属地管理）或 false（部门管理）")
        words = [str(w).strip() for w in raw.get("keywords") or []]
        for w in words:
            if len(w) < 2:
                fail(path, line, f"事项“{code}”的关键词“{w}”太短（至少两个字）")
            if w in word_at and word_at[w][0] != code:
                fail(path, line, f"关键词“{w}”同时属于事项“{word_at[w][0]}”（第 {word_at[w][1]} 行）与“{code}”，"
                                 f"请只保留在一个事项下")
            word_at[w] = (code, line)
        if not words:
            if category in fallback_at:
                fail(path, line, f"一级分类“{category}”已有兜底事项（第 {fallback_at[category]} 行），"
                                 f"无关键词的事项每类只能有一个")
            fallback_at[category] = line
        matters.append(Matter(code, category, lead, tuple(dict.fromkeys(co)), local,
                              tuple(dict.fromkeys(words)), line))
    return Catalogue(matters, path)


class FileCache:
    """One parsed file, read again when it changes on disk (an admin's edit, another process's
    save). A broken edit keeps the last good copy and its error, for the admin page to show."""

    def __init__(self, path: str, loader: Callable[[str], object]):
        self.path = path
        self.loader = loader
        self._stamp = None
        self._value = None
        self.error: str | None = None
        self._lock = threading.Lock()

    def get(self):
        try:
            st = os.stat(self.path)
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)  # os.replace gives a new inode
        except OSError:
            stamp = None
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    try:
                        self._value = self.loader(self.path)
                        self.error = None
                    except DistrictFileError as exc:
                        if self._value is None:
                            raise
                        self.error = str(exc)
                    self._stamp = stamp
        return self._value
