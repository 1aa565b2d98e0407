"""Reply templates (口径库) learned from real published government replies.

`python -m opinion templates learn --data replies.csv` reads messages with the government's reply
(columns subject, text, reply — ../shared/data/gov-messages/replies.csv), puts each message in its
issue category with the shipped routing classifier, and keeps, per category, the wording most
replies share: the salutation, the acknowledgement, the turn to the answer, the contact line and
the closing thanks. Names, quoted subjects, dates and phone numbers are replaced by placeholders
before counting, so what is kept is generic wording, never a citizen's or an official's details.
The part that differs in every reply (what was done) is left for the author to write.

The result is a small JSON file shipped in the repository (opinion/replytemplates.json);
`seed-demo` loads it into the ReplyTemplate table (load_templates).
"""
from __future__ import annotations

import csv
import json
import re
from collections import Counter
from datetime import date
from pathlib import Path

from sqlalchemy import select

from opinion.errors import ImportFileError
from opinion.models import ReplyTemplate

TEMPLATES_FILE = Path(__file__).resolve().parent / "replytemplates.json"
MIN_SUPPORT = 3  # a wording used by fewer replies of a category falls back to the whole corpus
_SENTENCE = re.compile(r"[^。！？!?]+[。！？!?]*")
_DATE_ONLY = re.compile(r"^\s*\d{4}年\d{1,2}月\d{1,2}日\s*$")
_GENERALISE = [
    (re.compile(r"(网友)?[“\"][A-Za-z0-9_\u4e00-\u9fa5]{1,30}[”\"]\s*[：:]?\s*(?=[您你]好)"), "{称呼}"),
    (re.compile(r"^(网友|尊敬的网友)\s*[：:]?\s*(?=[您你]好)"), "{称呼}"),
    (re.compile(r"\d{4}年\d{1,2}月\d{1,2}日"), "{日期}"),
    (re.compile(r"[“\"《][^”\"》]{2,80}[”\"》]"), "“{话题}”"),
    (re.compile(r"\d[\d\-—－\s]{6,}\d"), "【请填写：联系电话】"),
    (re.compile(r"[A-Z]\d*[市区县]"), "{单位}"),
    (re.compile(r"你好"), "您好"), (re.compile(r"\s+"), ""), (re.compile(r":"), "："),
    (re.compile(r"!"), "！"), (re.compile(r","), "，"),
]
# Which sentence (or, for the turn to the answer, which clause) plays which part; each part takes
# its most common wording. Wording naming a particular office is left out: it would not fit others.
_OFFICE = re.compile(r"局|办公室|委员会|中心|政府|街道|社区|{单位}|{日期}")
_TRANSITION = re.compile(r"[^，。：！？]*[答回]复如下")
PARTS = {
    "salutation": lambda s: s.startswith("{称呼}") and len(s) <= 12,
    "acknowledgement": lambda s: ("收悉" in s and "{称呼}" not in s and len(s) <= 40
                                  and not _OFFICE.search(s)),
    "transition": lambda s: (m := _TRANSITION.search(s)) is not None and m.group(0) + "：",
    "contact": lambda s: (s.startswith(("如", "若", "欢迎", "可")) and re.search(r"电话|咨询|联系", s)
                          is not None and len(s) <= 50 and not _OFFICE.search(s)),
    "closing": lambda s: s.startswith(("感谢", "谢谢")) and len(s) <= 30,
}
FALLBACK = {"salutation": "{称呼}：您好！", "acknowledgement": "您反映的问题已收悉。",
            "transition": "现将有关情况答复如下：", "contact": "如有疑问，请致电【请填写：联系电话】。",
            "closing": "感谢您对我们工作的关心与支持！"}


def generalise(sentence: str) -> str:
    for pattern, placeholder in _GENERALISE:
        sentence = pattern.sub(placeholder, sentence)
    return sentence


def sentences(reply: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(reply or "") if s.strip() and not _DATE_ONLY.match(s)]


def read_replies(path: str) -> list[dict]:
    """The rows of a replies CSV; ImportFileError naming the file if it is not one."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ImportFileError(f"{path}: 无法读取（{exc}）") from exc
    if not rows or "reply" not in rows[0]:
        raise ImportFileError(f"{path}: 需要带表头的 CSV，至少包含 reply 列（以及 subject、text 用于分类）")
    return [r for r in rows if (r.get("reply") or "").strip()]


def learn_templates(path: str, classify=None) -> dict:
    """Per-category templates from the replies in `path`, as the JSON document to ship."""
    rows = read_replies(path)
    if classify is None:
        # lazy: the classifier loads NumPy and SciPy; only learning templates needs it
        from opinion.routing.classifier import CategoryClassifier
        model = CategoryClassifier.load()
        classify = lambda texts: [c for c, _ in model.predict(texts)]  # noqa: E731
    categories = classify([f"{r.get('subject', '')} {r.get('text', '')}" for r in rows])
    counts: dict[str | None, dict[str, Counter]] = {}
    for row, category in zip(rows, categories):
        for key in (category, None):  # None: the whole corpus, the fallback and general template
            per_part = counts.setdefault(key, {p: Counter() for p in PARTS})
            for sentence in map(generalise, sentences(row["reply"])):
                for part, is_part in PARTS.items():
                    hit = is_part(sentence)
                    if hit:  # the predicate's own string is the wording it picked out
                        per_part[part][hit if isinstance(hit, str) else sentence] += 1
    n_by_category = Counter(categories)
    templates = []
    for category in sorted(n_by_category) + [None]:
        parts = {p: _best(counts[category][p], counts[None][p], p) for p in PARTS}
        templates.append({
            "category": category,
            "title": f"{category or '通用'}·答复口径",
            "body": _compose(parts),
            "learned_from": n_by_category[category] if category else len(rows),
        })
    return {"note": (f"由 python -m opinion templates learn 于 {date.today().isoformat()} 从 {len(rows)} 条"
                     "已发布的政府答复中归纳：按一级分类统计最常见的称呼、受理、转述、联系方式与致谢用语，"
                     "姓名、标题、日期、电话已替换为占位符；办理情况留给撰写人填写。不含原始数据。"),
            "placeholders": ["{称呼}", "{话题}", "{单位}", "{承办单位}", "{日期}"],
            "templates": templates}


def _best(own: Counter, corpus: Counter, part: str) -> str:
    for counter in (own, corpus):
        if counter:
            wording, n = counter.most_common(1)[0]
            if n >= MIN_SUPPORT:
                return wording
    return FALLBACK[part]


def _compose(parts: dict[str, str]) -> str:
    salutation = parts["salutation"]
    if not salutation.startswith("{称呼}："):
        salutation = salutation.replace("{称呼}", "{称呼}：", 1)
    return (f"{salutation}{parts['acknowledgement']}{parts['transition']}\n"
            "关于“{话题}”，经{承办单位}调查核实，【请填写：办理情况】\n"
            f"{parts['contact']}{parts['closing']}\n"
            "{单位}\n{日期}")


def load_templates(session, path: str | Path = TEMPLATES_FILE) -> tuple[int, int]:
    """Add the shipped learned templates that are not in the table yet; (added, already there)."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    have = {(t.category, t.title) for t in session.execute(
        select(ReplyTemplate).where(ReplyTemplate.unit_id.is_(None))).scalars()}
    added = 0
    for t in doc["templates"]:
        if (t["category"], t["title"]) in have:
            continue
        session.add(ReplyTemplate(category=t["category"], title=t["title"], body=t["body"],
                                  origin="learned", active=True))
        added += 1
    return added, len(doc["templates"]) - added

