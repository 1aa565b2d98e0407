"""The clusterer's word statistics (document frequencies, next topic number) on disk.

IDF is learnt from the stream; rebuilt from nothing after every restart, the first hours of posts
would weigh every word as rare and start topics that should have joined old ones. One JSON file
in the instance folder, replaced atomically, so a crash mid-write leaves the previous copy.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)


def save_stats(clusterer, path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(clusterer.export_stats(), ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def load_stats(clusterer, path: str | Path) -> bool:
    """Load saved statistics if there are any; an unreadable file is logged and ignored."""
    path = Path(path)
    if not path.exists():
        return False
    try:
        clusterer.load_stats(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        log.exception("topic statistics at %s unreadable; starting fresh", path)
        return False
    return True
