"""The incident report against CloudWatch (moto server on loopback, behind a proxy that answers every request after
a delay, as AWS does): its independent fetches wait together, and the report it builds is exactly the one the
serial path builds (``RTANALYTICS_AWS_CONCURRENCY=1``)."""

import shutil

import pandas as pd
import pytest
import yaml

from rtanalytics import parallel
from rtanalytics.reports import incident
from rtanalytics.sources.demo import DemoSource

from .aws_helpers import END, NOW_AT, START, FaultProxy, seed_incident as _seed
from .conftest import NOW, ROOT

@pytest.fixture
def slow_aws(tmp_path, aws, moto_server, monkeypatch):
    """moto seeded with the incident's data, behind a proxy answering each request 0.15 s late; an environment
    ``moto`` pointing at the proxy."""
    _seed(aws, DemoSource(now=NOW))
    proxy = FaultProxy(moto_server.port, lambda n, body, h: None, delay_s=0.15)
    params = tmp_path / "parameters"
    shutil.copytree(ROOT / "parameters", params)
    envs = yaml.safe_load((params / "environments.yaml").read_text())
    envs["environments"]["moto"] = dict(envs["environments"]["production"], endpoint_url=proxy.url,
                                        description="moto server behind a slow proxy (tests)")
    (params / "environments.yaml").write_text(yaml.safe_dump(envs))
    monkeypatch.setenv("RTANALYTICS_PARAMETERS", str(params))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    from rtanalytics.catalog import _CACHE

    _CACHE.clear()
    yield proxy
    proxy.stop()
    _CACHE.clear()


def _run(tmp_path, name, monkeypatch, concurrency):
    monkeypatch.setenv("RTANALYTICS_AWS_CONCURRENCY", str(concurrency))
    monkeypatch.setenv("RTANALYTICS_CACHE", str(tmp_path / f"cache-{name}"))  # each run asks AWS itself
    return incident.run(source="cloudwatch", environment="moto", incident_start=START.isoformat(),
                        incident_end=END.isoformat(), now=NOW_AT)


def test_the_incident_reports_fetches_overlap_and_give_the_serial_report(tmp_path, slow_aws, monkeypatch):
    proxy = slow_aws
    serial = _run(tmp_path, "serial", monkeypatch, 1)
    serial_calls, serial_most = proxy.count, proxy.max_inflight
    proxy.count = proxy.max_inflight = 0
    fast = _run(tmp_path, "fast", monkeypatch, 16)
    assert serial_most == 1  # one request after another
    assert proxy.max_inflight >= 3  # the waits overlapped
    assert proxy.count == serial_calls  # the same requests, not more
    # the same report: signals, their onsets, the log signatures, the timeline, the impact and the problems
    pd.testing.assert_frame_equal(serial.metrics, fast.metrics)
    pd.testing.assert_frame_equal(serial.onsets.reset_index(drop=True), fast.onsets.reset_index(drop=True))
    pd.testing.assert_frame_equal(serial.signatures, fast.signatures)
    pd.testing.assert_frame_equal(serial.timeline, fast.timeline)
    assert serial.impact == fast.impact
    assert serial.notes == fast.notes
    assert len(serial.signatures) >= 1 and serial.metrics.notna().any().any()  # there was something to get right
    ps, pf = serial.provenance, fast.provenance
    assert sorted(map(str, ps["problems"])) == sorted(map(str, pf["problems"]))


def test_together_runs_thunks_at_once_and_keeps_their_order():
    import threading

    gate = threading.Barrier(3, timeout=5)  # only passes if all three wait at the same time

    def at(i):
        return lambda: (gate.wait(), i)[1]

    assert parallel.together(at(0), at(1), at(2), workers=4) == [0, 1, 2]
    assert parallel.together(lambda: 1, lambda: 2, workers=1) == [1, 2]  # serial: no thread at all

    def boom():
        raise ValueError("second failed")

    with pytest.raises(ValueError, match="second failed"):
        parallel.together(lambda: 1, boom, workers=4)


def test_a_bad_concurrency_setting_is_refused_with_the_fix(monkeypatch):
    from rtanalytics.errors import ParameterError
    from rtanalytics.sources.cloudwatch import _env_concurrency

    monkeypatch.setenv("RTANALYTICS_AWS_CONCURRENCY", "lots")
    with pytest.raises(ParameterError, match="RTANALYTICS_AWS_CONCURRENCY=16"):
        _env_concurrency()
    monkeypatch.setenv("RTANALYTICS_AWS_CONCURRENCY", "4")
    assert _env_concurrency() == 4


def test_several_log_groups_are_read_at_once_and_joined_in_time_order(tmp_path, slow_aws, monkeypatch):
    import rtanalytics as rt
    from rtanalytics.sources.cloudwatch import CloudWatchSource
    from rtanalytics.sources.aws import AwsContext

    from .aws_helpers import LG, session

    proxy = slow_aws
    direct = AwsContext(region="us-west-1", endpoint_url=proxy.url, session=session())
    logs = direct.client("logs")
    logs.create_log_group(logGroupName=LG + "/audit")
    logs.create_log_stream(logGroupName=LG + "/audit", logStreamName="a")
    logs.put_log_events(logGroupName=LG + "/audit", logStreamName="a", logEvents=[
        {"timestamp": int((START + pd.Timedelta(minutes=m)).value // 1_000_000), "message": f"audit {m}"}
        for m in range(5)])
    groups = [LG, LG + "/audit", LG + "/missing"]
    proxy.count = proxy.max_inflight = 0
    window = dict(start=START.isoformat(), end=END.isoformat())
    src = CloudWatchSource("moto", context=AwsContext(region="us-west-1", endpoint_url=proxy.url,
                                                       session=session()))
    from rtanalytics.sources.evidence import RecordingSource

    rec = RecordingSource(src)
    both = rt.logs(groups, **window, source=rec)
    assert proxy.max_inflight >= 2  # read together
    one = [rt.logs(g, **window, source=RecordingSource(src)) for g in groups[:2]]
    assert len(both) == len(one[0]) + len(one[1]) and len(one[1]) == 5
    assert both["timestamp"].is_monotonic_increasing
    assert set(both["log_group"]) == set(groups[:2])
    # the group that does not exist is a recorded problem of that group only, not a failed read of the others
    assert [p["query"] for p in rec.problems] == [f"logs {LG}/missing"]
