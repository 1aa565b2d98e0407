"""Retraining routing from the monitors' corrections, into the instance folder.

Every reassignment (triage, transfer) is a RoutingCorrection: what routing saw and the unit that
was right. Retraining adds those as (text, category) examples to the labelled file and writes the
model under instance/models/routing, never over the shipped one, so an upgrade of the code does not
lose a district's learning and a bad retrain is undone by deleting one folder. Every process picks
the new model up by itself: `InstanceClassifier` checks the file's time on each batch.
"""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from sqlalchemy import select

from opinion.district import District
from opinion.routing.classifier import CategoryClassifier, _load

log = logging.getLogger(__name__)
# A monitor's decision on this district's own text counts for more than one message of the
# general labelled set (tens of thousands of rows): each correction is added this many times.
CORRECTION_WEIGHT = 5


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
    from opinion.models import RoutingCorrection, Unit
    codes = dict(session.execute(select(Unit.id, Unit.code)).all())
    examples = []
    for c in session.execute(select(RoutingCorrection).order_by(RoutingCorrection.at)).scalars():
        category = category_for_unit(district, codes.get(c.to_unit_id, ""), c.category)
        if category and (c.text or "").strip():
            examples += [(c.text, category)] * CORRECTION_WEIGHT
    return examples


def retrain_with_corrections(app, data: list[str], text_col: str = "text", label_col: str = "category",
                             out: str | None = None, progress: bool = False) -> dict:
    """Train on `data` plus the corrections; write to the instance model folder (or `out`)."""
    from opinion.models import db
    from opinion.routing.train import train_routing
    extra = correction_examples(db.session, app.extensions["district"])
    target = Path(out) if out else model_dir(app.instance_path)
    report = train_routing(list(data), str(target), text_col=text_col, label_col=label_col,
                           extra=extra, progress=progress)
    report["corrections"] = len(extra) // CORRECTION_WEIGHT
    _load.cache_clear()  # this process reads the new files on its next batch
    return report


def retrain_from_corrections(app) -> str:
    """The weekly job: retrain when there are corrections and a training file is configured."""
    data = app.config.get("ROUTING_TRAIN_DATA")
    if not data or not Path(data).exists():
        return f"未配置路由训练数据（OPINION_ROUTING_TRAIN_DATA={data or '空'}），跳过重新训练"
    report = retrain_with_corrections(app, [data])
    if not report["corrections"]:
        return "没有监测员改派记录，模型未变"
    return (f"路由模型已用 {report['corrections']} 条改派记录重新训练：交叉验证 macro-F1 "
            f"{report.get('cv_macro_f1', float('nan')):.4f}，写入 {report['model']}")


class InstanceClassifier:
    """The retrained model from the instance folder when there is one, else the shipped model.

    Quacks like CategoryClassifier for the Router. Checks the model file's modification time at
    most once per batch, so a retrain by the scheduler reaches the web and collector processes
    without a restart."""

    def __init__(self, instance_path: str | Path):
        self.folder = model_dir(instance_path)
        self._lock = threading.Lock()
        self._stamp: float | None = None
        self._model: CategoryClassifier | None = None

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
                        else CategoryClassifier.load()
                    if stamp and self._stamp != stamp:
                        log.info("routing model loaded from %s", self.folder)
                except (OSError, ValueError, KeyError):
                    log.exception("retrained routing model at %s unreadable; using the shipped one", self.folder)
                    self._model = CategoryClassifier.load()
                self._stamp = stamp
            return self._model

    @property
    def labels(self) -> list[str]:
        return self._current().labels

    def predict(self, texts, tokens=None):
        return self._current().predict(texts, tokens)

    def predict_proba(self, texts):
        return self._current().predict_proba(texts)

    def tokens(self, text: str) -> list[str]:
        return self._current().tokens(text)
