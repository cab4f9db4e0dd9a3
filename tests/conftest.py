import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOW = "2026-11-20T00:00:00Z"  # a fixed demo clock: tests never depend on the wall clock


@pytest.fixture(scope="session")
def demo():
    from rtanalytics.sources.demo import DemoSource

    return DemoSource(now=NOW)


@pytest.fixture
def outputs(tmp_path):
    return tmp_path / "outputs"
