"""`analyze`: JSON Lines in, one JSON object per line out, in input order, no database.

The contract is PRODUCT.md's: id, tokens, keywords, sentiment, polarity, emotion, topic, category,
department, priority. A malformed line yields {"id"?, "error"} and the rest still come out.
Progress goes to standard error so standard output stays clean JSON Lines.

Topics are clustered in input order, as the live system does, with its maintenance (the merge of
topics that converged) after every batch. A post's `topic` is where it ended up: the lines wait in
a temporary file until the input ends, so that a topic merged later is printed under the topic it
joined (`--stream` prints each batch at once, with the topics as they stood then).
"""
from __future__ import annotations

import json
import sys
import tempfile
from datetime import datetime, timezone
from typing import BinaryIO, TextIO

from tqdm import tqdm

import config
from opinion.nlp.encoder import OFF_NOTE, encoder_enabled
from opinion.pipeline.analysis import Entry, Pipeline, make_entry
from opinion.settings.district import load_district
from opinion.topics.cluster import surviving


def _parse(line_no: int, raw: bytes) -> tuple[Entry | None, dict | None]:
    """(Entry, {"id": as given}) or (None, the error object to print in its place)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")  # GBK exports are common in Chinese government systems
        except UnicodeDecodeError:
            return None, {"error": f"第 {line_no} 行：无法识别的文字编码（应为 UTF-8）"}
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, {"error": f"第 {line_no} 行：不是合法的 JSON（{exc.msg}，第 {exc.colno} 列）"}
    if not isinstance(obj, dict):
        return None, {"error": f"第 {line_no} 行：应为 JSON 对象"}
    given = obj.get("id")  # echoed as given (a number stays a number); a string inside
    ident = str(given) if given is not None else None
    base = {"id": given} if given is not None else {}
    body = obj.get("text")
    if not isinstance(body, str):
        return None, {**base, "error": f"第 {line_no} 行：缺少字符串字段 text"}
    created = None
    if obj.get("created_at"):
        try:
            created = datetime.fromisoformat(str(obj["created_at"]).replace("Z", "+00:00"))
            if created.tzinfo is None:
                created = created.replace(tzinfo=timezone.utc)
        except ValueError:
            return None, {**base, "error": f"第 {line_no} 行：created_at 不是 ISO-8601 时间"}
    followers = obj.get("author_followers")
    entry = make_entry(ident if ident is not None else str(line_no), body, created,
                       followers if isinstance(followers, int) else None)
    return entry, base or None


def result_of(entry: Entry) -> dict:
    doc = entry.doc
    out = {"id": entry.id, "tokens": doc.tokens, "keywords": doc.keywords,
           "sentiment": None if doc.sentiment is None else round(float(doc.sentiment), 4),
           "polarity": doc.polarity, "emotion": doc.emotion, "topic": entry.topic_key,
           "category": entry.category, "department": entry.unit, "priority": entry.priority}
    if doc.error:
        out["error"] = doc.error
    return out


def analyze_stream(infile: BinaryIO, out: TextIO, batch: int = 500, engine: str | None = None,
                   pipeline: Pipeline | None = None, stream: bool = False) -> int:
    """Analyse every line of `infile`; return how many lines were read."""
    if pipeline is None:
        pipeline = Pipeline(load_district(config.Config.DISTRICT_FILE),
                            engine or config.Config.SENTIMENT_ENGINE,
                            min_confidence=config.Config.ROUTING_MIN_CONFIDENCE,
                            vector_budget_s=None)   # a file, not a live stream: every post is read whole
    if not encoder_enabled():
        print(OFF_NOTE, file=sys.stderr)
    pending: list[tuple[Entry | None, dict | None]] = []
    n = 0
    bar = tqdm(desc="analyze", unit="条", file=sys.stderr, disable=None)
    merged_into: dict[str, str] = {}
    held = out if stream else tempfile.TemporaryFile("w+", encoding="utf-8")

    def flush() -> None:
        entries = pipeline.run([e for e, _ in pending if e is not None])
        if entries:
            now = max(e.created_at for e in entries)
            merged_into.update({frm: into for into, frm in pipeline.clusterer.maintenance(now)})
        for entry, extra in pending:
            # With an entry, `extra` is the id as given ({"id": 7}); without one, the error object.
            line = {**result_of(entry), **(extra or {})} if entry else extra
            if entry and stream:  # held lines get their final topic when the input ends
                line["topic"] = surviving(merged_into, line["topic"])
            held.write(json.dumps(line, ensure_ascii=False) + "\n")
        held.flush()
        bar.update(len(pending))
        pending.clear()

    for n, raw in enumerate(infile, start=1):
        if not raw.strip():
            pending.append((None, {"error": f"第 {n} 行：空行"}))
        else:
            pending.append(_parse(n, raw.rstrip(b"\r\n")))
        if len(pending) >= batch:
            flush()
    flush()
    bar.close()
    if not stream:
        held.seek(0)
        for text in held:
            line = json.loads(text)
            if "topic" in line:
                line["topic"] = surviving(merged_into, line["topic"])
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        held.close()
        out.flush()
    return n
