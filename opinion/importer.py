"""`import FILE`: history and exports from other systems, in JSON Lines or CSV.

Lines are stored in batches, each batch one transaction, so an import killed halfway and run again
ends with every line stored exactly once. Every bad line is reported with its line number and why.
"""
from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from sqlalchemy import select
from tqdm import tqdm

from collectors.base import NormalisedPost
from opinion.errors import ImportFileError
from opinion.ingest import IngestReport, ingest
from opinion.models import Source, db

FIELDS = ("id", "text", "created_at", "author", "author_followers", "url", "reposts", "comments", "likes")


@dataclass
class ImportSummary:
    file: str
    lines: int = 0
    report: IngestReport = field(default_factory=IngestReport)
    encoding: str = "utf-8"

    def describe(self) -> str:
        r = self.report
        lines = [f"导入 {self.file}（编码 {self.encoding}）：共 {self.lines} 行",
                 f"  新增 {len(r.accepted)} 条，重复 {len(r.duplicate)} 条（已存在，未重复保存），"
                 f"拒收 {len(r.rejected)} 条，新开工单 {r.cases_opened} 件"]
        if r.analysis_failed:
            lines.append(f"  其中 {len(r.analysis_failed)} 条已原样保存但分析失败，可重新分析")
        for ref, reason in r.rejected[:50]:
            lines.append(f"  拒收 {ref}：{reason}")
        if len(r.rejected) > 50:
            lines.append(f"  ……另有 {len(r.rejected) - 50} 条拒收未列出")
        if not r.accepted and r.duplicate and not r.rejected:
            lines.append("  没有新内容：文件中的帖子此前均已导入。")
        return "\n".join(lines)


def _decode(path: Path) -> tuple[str, str]:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding), encoding.replace("-sig", "")
        except UnicodeDecodeError:
            continue
    raise ImportFileError(f"{path.name}: 无法识别文件编码（支持 UTF-8 与 GBK/GB18030）")


def _rows(text: str, fmt: str, mapping: dict[str, str]) -> Iterator[tuple[int, dict | str]]:
    """(line number, row dict) or (line number, error message)."""
    if fmt == "jsonl":
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield n, f"不是合法的 JSON（{exc.msg}）"
                continue
            yield (n, obj) if isinstance(obj, dict) else (n, "应为 JSON 对象")
        return
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [f for f in ("text",) if mapping.get(f, f) not in (reader.fieldnames or [])]
    if missing:
        raise ImportFileError(f"CSV 缺少列 “{mapping.get('text', 'text')}”；现有列：{', '.join(reader.fieldnames or [])}。"
                              "可用 --map text=列名 指定")
    for row in reader:
        yield reader.line_num, row


def _to_post(n: int, row: dict, mapping: dict[str, str]) -> NormalisedPost | str:
    get = lambda f: row.get(mapping.get(f, f))
    ident, text = get("id"), get("text")
    if ident in (None, ""):
        return "缺少 id"
    if not isinstance(text, str):
        return "缺少正文 text"
    created = None
    if get("created_at"):
        try:
            created = datetime.fromisoformat(str(get("created_at")).replace("Z", "+00:00"))
        except ValueError:
            return f"时间 “{get('created_at')}” 不是 ISO-8601 格式"
        if created.tzinfo is None:
            return f"时间 “{get('created_at')}” 缺少时区（如 +08:00）"
    counts = {}
    for f in ("author_followers", "reposts", "comments", "likes"):
        value = get(f)
        if value in (None, ""):
            continue
        try:
            counts[f] = int(value)
        except (TypeError, ValueError):
            return f"{f} 应为整数，实为 “{value}”"
    return NormalisedPost(external_id=str(ident), text=text, created_at=created,
                          author=get("author") or None, url=get("url") or None,
                          author_followers=counts.get("author_followers"),
                          reposts=counts.get("reposts", 0), comments=counts.get("comments", 0),
                          likes=counts.get("likes", 0), payload={k: row[k] for k in row if k})


def get_or_create_source(code: str, kind: str = "file", name: str | None = None) -> Source:
    source = db.session.execute(select(Source).where(Source.code == code)).scalar_one_or_none()
    if source is None:
        source = Source(code=code, name=name or f"文件导入（{code}）", kind=kind, enabled=False,
                        status="never", config={}, state={})
        db.session.add(source)
        db.session.commit()
    return source


def import_file(app, path: str, source_code: str = "import", fmt: str = "auto",
                mapping: dict[str, str] | None = None, batch: int = 200) -> ImportSummary:
    path_ = Path(path)
    mapping = mapping or {}
    if fmt == "auto":
        fmt = "csv" if path_.suffix.lower() == ".csv" else "jsonl"
    text, encoding = _decode(path_)
    source = get_or_create_source(source_code)
    summary = ImportSummary(file=path_.name, encoding=encoding)
    pending: list[NormalisedPost] = []
    bar = tqdm(desc="导入", unit="行", file=sys.stderr, disable=None)

    def flush() -> None:
        summary.report.merge(ingest(db.session, app, source, pending))
        bar.update(len(pending))
        pending.clear()

    for n, row in _rows(text, fmt, mapping):
        summary.lines += 1
        post = row if isinstance(row, str) else _to_post(n, row, mapping)
        if isinstance(post, str):
            summary.report.rejected.append((f"第 {n} 行", post))
            bar.update(1)
            continue
        pending.append(post)
        if len(pending) >= batch:
            flush()
    if pending:
        flush()
    bar.close()
    source.last_run_at = source.last_success_at = datetime.now(timezone.utc)
    source.status = "ok"
    db.session.commit()
    return summary
