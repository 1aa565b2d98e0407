"""Retraining routing from the monitors' corrections, into the instance folder.

Every reassignment (triage, transfer) is a RoutingCorrection: what routing saw and the unit that
was right. Retraining learns from them twice:
- as (text, category) examples added to the labelled file, so the classifier's categories move;
- as a memory of the decisions themselves (corrections.json), because a category only names its
  lead unit: a matter the monitors keep sending to a street office, or to a unit that helps with a
  category but does not lead it, would otherwise go back to the lead unit every time. A new text
  that shares most of its words with a corrected one goes where the monitor sent that one.
Both are written under instance/models/routing, never over the shipped model, so an upgrade of the
code does not lose a district's learning and a bad retrain is undone by deleting one folder. Every
process picks the new files up by itself: `InstanceClassifier` checks the model's time on each batch.
"""
from __future__ import annotations

import json
import logging
import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from opinion.models import RoutingCorrection, Unit, db
from opinion.routing.classifier import MATTER_DIR, CategoryClassifier, _load
from opinion.settings.district import District

log = logging.getLogger(__name__)
# A monitor's decision on this district's own text counts for more than one message of the
# general labelled set (tens of thousands of rows): each correction is added this many times.
CORRECTION_WEIGHT = 5
MEMORY_FILE = "corrections.json"
# Recall a correction only for a text about the same matter: most of the words shared (set
# cosine), and at least a few of them, so two short texts that share "没人管" do not count.
RECALL_SIMILARITY = 0.5
RECALL_MIN_SHARED = 3


def model_dir(instance_path: str | Path) -> Path:
    return Path(instance_path) / "models" / "routing"


def category_for_unit(district: District, unit_code: str, hint: str | None = None) -> str | None:
    """The category a correction teaches: the case's own if the new unit handles it, otherwise
    the first category the unit leads or handles; None for a unit of no category (a street)."""
    if hint and unit_code in district.categories.get(hint, []):
        return hint
    leads = [c for c, units in district.categories.items() if units and units[0] == unit_code]
    handles = [c for c, units in district.categories.items() if unit_code in units]
    return (leads or handles or [None])[0]


def correction_examples(session, district: District) -> list[tuple[str, str]]:
    """(text, category) per correction, each CORRECTION_WEIGHT times; corrections to units of no
    category teach nothing about categories and are left out."""
    codes = dict(session.execute(select(Unit.id, Unit.code)).all())
    examples = []
    for c in session.execute(select(RoutingCorrection).order_by(RoutingCorrection.at)).scalars():
        category = category_for_unit(district, codes.get(c.to_unit_id, ""), c.category)
        if category and (c.text or "").strip():
            examples += [(c.text, category)] * CORRECTION_WEIGHT
    return examples


def correction_memory(session, district: District, tokens) -> list[dict]:
    """The decisions to recall: per distinct wording (as `tokens(text)` reads it), the latest
    correction's unit and the category it teaches (None for a unit of no category)."""
    codes = dict(session.execute(select(Unit.id, Unit.code)).all())
    memory: dict[tuple[str, ...], dict] = {}
    for c in session.execute(select(RoutingCorrection).order_by(RoutingCorrection.at, RoutingCorrection.id)).scalars():
        words = tuple(sorted(set(tokens(c.text or ""))))
        unit = codes.get(c.to_unit_id)
        if len(words) >= RECALL_MIN_SHARED and unit:
            memory[words] = {"id": c.id, "unit": unit, "category": category_for_unit(district, unit, c.category),
                             "tokens": list(words)}
    return list(memory.values())


def matter_correction_examples(session, district: District, catalogue) -> list[tuple[str, str]]:
    """(text, matter) per correction whose new unit leads exactly one keyworded matter under the
    category it teaches, each CORRECTION_WEIGHT times. A unit that leads several matters of the
    category (交警: 交通秩序 and 交通事故), or none (a street office: it leads whatever happens on its
    ground), says nothing about which matter the text was; those corrections are left out."""
    codes = dict(session.execute(select(Unit.id, Unit.code)).all())
    examples = []
    for c in session.execute(select(RoutingCorrection).order_by(RoutingCorrection.at)).scalars():
        unit = codes.get(c.to_unit_id, "")
        category = category_for_unit(district, unit, c.category)
        led = [m.code for m in catalogue.matters if m.lead == unit and m.category == category and not m.catch_all]
        if len(led) == 1 and (c.text or "").strip():
            examples += [(c.text, led[0])] * CORRECTION_WEIGHT
    return examples


def matter_model_dir(instance_path: str | Path) -> Path:
    return model_dir(instance_path) / "matters"


def retrain_matters_with_corrections(app, data: list[str], text_col: str = "text", label_col: str = "category",
                                     out: str | None = None, progress: bool = False) -> dict:
    """The matter model from the weak labels of `data` plus the corrections that name a matter,
    written to the instance folder (or `out`), never over the shipped model."""
    # lazy: training code (scikit-learn); only the train command needs it
    from opinion.routing import Router
    from opinion.routing.train import train_matters
    district = app.extensions["district"]
    _, catalogue = Router(district, matter_classifier=False).tables()
    if catalogue is None:
        raise ValueError("district.yaml 未配置事权清单（responsibilities），无法训练二级事项模型")
    extra = matter_correction_examples(db.session, district, catalogue)
    target = Path(out) if out else matter_model_dir(app.instance_path)
    report = train_matters(list(data), catalogue, str(target), text_col, label_col, extra=extra, progress=progress)
    report["corrections"] = len(extra) // CORRECTION_WEIGHT
    _load.cache_clear()
    return report


def retrain_with_corrections(app, data: list[str], text_col: str = "text", label_col: str = "category",
                             out: str | None = None, progress: bool = False) -> dict:
    """Train on `data` plus the corrections; write the model and the memory of the corrections to
    the instance model folder (or `out`)."""
    # lazy: training code (scikit-learn); only the train command needs it
    from opinion.routing.train import train_routing
    district = app.extensions["district"]
    extra = correction_examples(db.session, district)
    target = Path(out) if out else model_dir(app.instance_path)
    # The memory is written first: the model file's new time is what tells other processes to reload.
    target.mkdir(parents=True, exist_ok=True)
    memory = correction_memory(db.session, district, CategoryClassifier.load().tokens)
    (target / MEMORY_FILE).write_text(json.dumps({"format": "opinion-routing-memory/1", "corrections": memory},
                                                 ensure_ascii=False), encoding="utf-8")
    report = train_routing(list(data), str(target), text_col=text_col, label_col=label_col,
                           extra=extra, progress=progress)
    report["corrections"] = len(extra) // CORRECTION_WEIGHT
    report["remembered"] = len(memory)
    _load.cache_clear()  # this process reads the new files on its next batch
    return report


def retrain_from_corrections(app) -> str:
    """The weekly job: retrain when there are corrections and a training file is configured."""
    data = app.config.get("ROUTING_TRAIN_DATA")
    if not data or not Path(data).exists():
        return f"未配置路由训练数据（OPINION_ROUTING_TRAIN_DATA={data or '空'}），跳过重新训练"
    report = retrain_with_corrections(app, [data])
    if not report["remembered"]:
        return "没有监测员改派记录，模型未变"
    done = (f"路由模型已用 {report['corrections']} 条改派记录重新训练：交叉验证 macro-F1 "
            f"{report.get('cv_macro_f1', float('nan')):.4f}；记住 {report['remembered']} 条改派决定；"
            f"写入 {report['model']}")
    try:
        matters = retrain_matters_with_corrections(app, [data])
    except ValueError as exc:  # no catalogue, or nothing in the data that names a matter
        return f"{done}；二级事项模型未重新训练：{exc}"
    return (f"{done}；二级事项模型已重新训练（{matters['corrections']} 条改派可确定事项），"
            f"写入 {matters['model']}")


@dataclass
class Recall:
    """A past correction that a new text resembles."""
    correction_id: int
    unit: str  # the unit's code
    category: str | None
    similarity: float


class CorrectionMemory:
    """Set-cosine look-up of a token list among the remembered corrections, through an inverted
    index so the cost follows the words of the text, not the number of corrections."""

    def __init__(self, entries: list[dict]):
        self.entries = entries
        self.index: dict[str, list[int]] = {}
        for i, e in enumerate(entries):
            for w in e["tokens"]:
                self.index.setdefault(w, []).append(i)

    @classmethod
    def load(cls, folder: Path) -> "CorrectionMemory":
        try:
            doc = json.loads((folder / MEMORY_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls([])
        if doc.get("format") != "opinion-routing-memory/1":
            raise ValueError(f"{folder / MEMORY_FILE}: not a correction memory this code can read")
        return cls(doc["corrections"])

    def recall(self, tokens: list[str]) -> Recall | None:
        words = set(tokens)
        shared: dict[int, int] = {}
        for w in words:
            for i in self.index.get(w, ()):
                shared[i] = shared.get(i, 0) + 1
        best = None
        for i, n in shared.items():
            if n < RECALL_MIN_SHARED:
                continue
            sim = n / math.sqrt(len(words) * len(self.entries[i]["tokens"]))
            # Ties go to the later correction: the monitors' latest word on the matter.
            if sim >= RECALL_SIMILARITY and (best is None or (sim, i) > best):
                best = (sim, i)
        if best is None:
            return None
        e = self.entries[best[1]]
        return Recall(e["id"], e["unit"], e["category"], best[0])


class InstanceClassifier:
    """The retrained model from the instance folder when there is one, else the shipped model,
    with the memory of the monitors' corrections.

    Quacks like CategoryClassifier for the Router. Checks the model file's modification time at
    most once per batch, so a retrain by the scheduler reaches the web and collector processes
    without a restart."""

    def __init__(self, instance_path: str | Path, matters: bool = False):
        """`matters`: the second-level (matter) model, retrained in the instance folder's matters/,
        else the shipped one; it has no memory of corrections."""
        self.matters = matters
        self.folder = matter_model_dir(instance_path) if matters else model_dir(instance_path)
        self._lock = threading.Lock()
        self._stamp: float | None = None
        self._model: CategoryClassifier | None = None
        self._memory = CorrectionMemory([])

    def _current(self) -> CategoryClassifier:
        try:
            stamp = os.stat(self.folder / "model.npz").st_mtime
        except OSError:
            stamp = None
        with self._lock:
            if self._model is None or stamp != self._stamp:
                try:
                    # Past the per-path cache: the same folder holds a new model after a retrain.
                    self._model = _load.__wrapped__(str(self.folder.resolve())) if stamp \
                        else self._shipped()
                    self._memory = CorrectionMemory.load(self.folder) if not self.matters else CorrectionMemory([])
                    if stamp and self._stamp != stamp:
                        log.info("routing model and %d remembered corrections loaded from %s",
                                 len(self._memory.entries), self.folder)
                except (OSError, ValueError, KeyError):
                    log.exception("retrained routing model at %s unreadable; using the shipped one", self.folder)
                    self._model = self._shipped()
                    self._memory = CorrectionMemory([])
                self._stamp = stamp
            return self._model

    def _shipped(self) -> CategoryClassifier:
        return CategoryClassifier.load(str(MATTER_DIR) if self.matters else None)

    def recall(self, texts: list[str], tokens=None) -> list[Recall | None]:
        """The remembered correction each text resembles, if any, read with the model's tokens."""
        model = self._current()
        if not self._memory.entries:
            return [None] * len(texts)
        lists = [model.tokens(t) for t in texts] if tokens is None else [model.pre.filter(t) for t in tokens]
        return [self._memory.recall(t) for t in lists]

    @property
    def labels(self) -> list[str]:
        return self._current().labels

    def predict(self, texts, tokens=None, vectors=None):
        return self._current().predict(texts, tokens, vectors)

    def predict_proba(self, texts, vectors=None):
        return self._current().predict_proba(texts, vectors)

    def tokens(self, text: str) -> list[str]:
        return self._current().tokens(text)
