"""Build tests/routing/data/unit_set.csv (ids, split, acting unit, place mapping) from the shared
gov-messages replies; see tests/routing/data/README.md. Run: .venv/bin/python scripts/make_routing_unit_set.py"""
from __future__ import annotations

import collections
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import config  # noqa: E402
from opinion.routing import Router  # noqa: E402
from opinion.routing.unitset import build_examples, write_examples  # noqa: E402
from opinion.settings.district import load_district  # noqa: E402

SHARED = Path(os.environ.get("OPINION_SHARED_DATA", REPO.parent / "shared" / "data"))

district = load_district(config.Config.DISTRICT_FILE)
gazetteer, _ = Router(district).tables()
streets = [u.code for u in district.units if u.kind == "street"]
examples = build_examples(SHARED / "gov-messages" / "replies.csv", gazetteer, streets)
out = REPO / "tests" / "routing" / "data" / "unit_set.csv"
write_examples(out, examples)
print(f"{len(examples)} 条 → {out}", dict(collections.Counter(e.split for e in examples)))
