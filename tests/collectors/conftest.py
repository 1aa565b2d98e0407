"""Fixtures for the collector tests: a local HTTP server per test and a Weibo-format API on it."""
from pathlib import Path

import pytest

from tests.collectors.fake_server import FakeServer, FakeWeibo

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def server():
    with FakeServer() as s:
        yield s


@pytest.fixture
def weibo(server):
    return FakeWeibo(server)


@pytest.fixture
def fixture_bytes():
    return lambda name: (FIXTURES / name).read_bytes()
