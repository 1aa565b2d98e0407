"""Fixtures for the topic tests: the production text stages and the shared-data location."""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from opinion.nlp.doc import Doc


@pytest.fixture(scope="session")
def prepare() -> Callable[[Doc], Doc]:
    from opinion.topics.evaluate import default_prepare  # the production clean + segment
    return default_prepare()


@pytest.fixture(scope="session")
def make_doc(prepare) -> Callable[[str], Doc]:
    return lambda text: prepare(Doc(raw=text))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    root = Path(__file__).resolve().parents[2]
    return Path(os.environ.get("OPINION_SHARED_DATA", root.parent / "shared" / "data"))
