"""Fixtures for the topic tests: the production text stages, or the test-only stand-in."""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from opinion.nlp.doc import Doc


def _prepare() -> Callable[[Doc], Doc]:
    try:
        from opinion.topics.evaluate import default_prepare
        return default_prepare()
    except ImportError:     # clean/segment not written yet: the stand-in keeps tests running
        from tests.topics.standin import Segmenter, clean
        seg = Segmenter()
        return lambda d: seg(clean(d))


@pytest.fixture(scope="session")
def prepare() -> Callable[[Doc], Doc]:
    return _prepare()


@pytest.fixture(scope="session")
def make_doc(prepare) -> Callable[[str], Doc]:
    return lambda text: prepare(Doc(raw=text))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    root = Path(__file__).resolve().parents[2]
    return Path(os.environ.get("OPINION_SHARED_DATA", root.parent / "shared" / "data"))
