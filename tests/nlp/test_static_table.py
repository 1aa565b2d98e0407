"""The static word table distilled from the encoder (issue 20): a post's vector is a pure function
of its tokens, needs no model and no network, and reads like the encoder it came from."""
from __future__ import annotations

import numpy as np
import pytest

from opinion.nlp.doc import Doc
from opinion.nlp.static import StaticTable, shipped_table


def test_a_post_is_the_mean_of_its_known_words_less_the_common_direction():
    table = StaticTable(["隧道", "积水", "小学"], np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], np.float32),
                        pc=np.array([0, 0, 1], np.float32))
    v = table.vector(["隧道", "积水", "没见过的词"])
    assert np.allclose(v, np.array([1, 1, 0]) / np.sqrt(2))
    assert not table.vector(["小学"]).any()          # only the common direction: nothing left
    assert not table.vector(["没见过的词"]).any()
    docs = [Doc(raw="x", tokens=["隧道", "积水"]), Doc(raw="y", tokens=["积水"])]
    assert np.array_equal(table.encode_docs(docs), table.encode_docs(docs))


def test_the_shipped_table_loads_without_the_model_and_groups_by_meaning(monkeypatch):
    from opinion.topics.evaluate import default_prepare
    prepare = default_prepare()
    table = shipped_table()
    if table is None:
        pytest.skip("opinion/nlp/models/static.npz not built (python -m opinion.nlp.static build)")
    import opinion.nlp.encoder as enc
    monkeypatch.setattr(enc.Encoder, "model", property(lambda self: pytest.fail("the table read the model")))
    a, b, c = (table.vector(prepare(Doc(raw=t)).tokens) for t in
               ("中山路隧道积水严重，车辆熄火", "隧道被淹，汽车熄火在水里", "实验小学推迟开学，家长着急"))
    assert a @ b > a @ c
