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


def make_report(tmp_path, name: str, code: str, params_model=None, extra_params: str = ""):
    """A throwaway report: a notebook with the common parameters and ``code``, registered as ``name``."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from rtanalytics.reports import registry

    nb = new_notebook(cells=[
        new_code_cell('source = "demo"\nenvironment = "demo"\nstart = "-7d"\nend = "now"' + extra_params,
                      metadata={"tags": ["parameters"]}),
        new_code_cell(code)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, str(path))
    return registry.Report(name, name.title(), path, params_model or registry.CommonParams, "test report")
