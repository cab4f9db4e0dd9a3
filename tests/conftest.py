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


@pytest.fixture(scope="session")
def moto_server():
    from .aws_helpers import MotoServer

    srv = MotoServer()
    yield srv
    srv.stop()


@pytest.fixture
def aws(moto_server):
    """A clean moto server and an AwsContext pointing at it (loopback only, dummy credentials)."""
    from rtanalytics.sources.aws import AwsContext

    from .aws_helpers import session

    moto_server.reset()
    return AwsContext(region="us-west-1", endpoint_url=moto_server.url, session=session(), max_attempts=3)
