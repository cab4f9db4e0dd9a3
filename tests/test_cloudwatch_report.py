"""A report pointed at CloudWatch (moto server on loopback, seeded with a day of the demo's ALB data) gets the
same figures the demo gives — and says "partial" for what the endpoint cannot answer instead of inventing it."""

import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml

from rtanalytics.reports.runner import run_report
from rtanalytics.sources.demo import DemoSource

from .conftest import ROOT

DAY = ("2026-11-18T00:00:00Z", "2026-11-19T00:00:00Z")


@pytest.fixture
def moto_params(tmp_path, moto_server, monkeypatch):
    """A copy of parameters/ with an environment whose endpoint is the local moto server."""
    params = tmp_path / "parameters"
    shutil.copytree(ROOT / "parameters", params)
    envs = yaml.safe_load((params / "environments.yaml").read_text())
    envs["environments"]["moto"] = dict(envs["environments"]["production"], endpoint_url=moto_server.url,
                                        description="moto server on loopback (tests)")
    (params / "environments.yaml").write_text(yaml.safe_dump(envs))
    monkeypatch.setenv("RTANALYTICS_PARAMETERS", str(params))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("RTANALYTICS_CACHE", str(tmp_path / "cache"))
    from rtanalytics.catalog import _CACHE

    _CACHE.clear()
    yield params
    _CACHE.clear()


def seed_alb(aws, demo):
    """Publish the demo's per-minute ALB counts the way the ALB does (only non-zero minutes)."""
    cw = aws.client("cloudwatch")
    m0 = int(pd.Timestamp(DAY[0]).timestamp()) // 60
    items = []
    for key, metric in (("alb.requests", "RequestCount"), ("alb.2xx", "HTTPCode_Target_2XX_Count"),
                        ("alb.5xx", "HTTPCode_Target_5XX_Count")):
        k = demo.raw_range(key, m0, m0 + 1440)["k"]
        for i in np.flatnonzero(k):
            items.append({"MetricName": metric, "Dimensions": [{"Name": "LoadBalancer", "Value": "RealTechee-ALB"}],
                          "Timestamp": pd.Timestamp((m0 + int(i)) * 60, unit="s", tz="UTC").to_pydatetime(),
                          "Value": float(k[i]), "Unit": "Count"})
    lat = demo.raw_range("alb.latency", m0, m0 + 1440)
    for i in np.flatnonzero(lat["n"])[::10]:  # some latency samples too: enough for moto to be asked for a p95
        items.append({"MetricName": "TargetResponseTime", "Dimensions": [{"Name": "LoadBalancer",
                      "Value": "RealTechee-ALB"}], "Timestamp": pd.Timestamp((m0 + int(i)) * 60, unit="s",
                                                                           tz="UTC").to_pydatetime(),
                      "Value": float(np.exp(lat["mu"][i])), "Unit": "Seconds"})
    for j in range(0, len(items), 1000):
        cw.put_metric_data(Namespace="AWS/ApplicationELB", MetricData=items[j:j + 1000])


def test_kpi_report_on_cloudwatch_matches_the_demo(aws, moto_params, tmp_path):
    demo = DemoSource()
    seed_alb(aws, demo)
    out = tmp_path / "outputs"
    res = run_report("kpis", {"source": "cloudwatch", "environment": "moto", "start": DAY[0], "end": DAY[1],
                              "kpis": "[availability, error_rate, throughput, response_time]"}, out, progress=False)
    s = res.summary
    # moto cannot compute percentiles (HTTP 500): the run is partial and says which query, not a made-up number
    assert res.status == "partial", s.get("error")
    assert any("TargetResponseTime" in n for n in s["notes"])
    assert s["figures"]["response_time.status"] == "no data"
    prov = s["provenance"]
    assert prov["source"] == "cloudwatch" and prov["api_calls"] >= 2 and prov["complete"] is False
    assert any(r["api"] == "get_metric_data" for r in prov["requests"])
    # the ratio and rate KPIs equal the demo's own figures for the same day
    m0 = int(pd.Timestamp(DAY[0]).timestamp()) // 60
    req = demo.raw_range("alb.requests", m0, m0 + 1440)["k"].sum()
    ok2 = demo.raw_range("alb.2xx", m0, m0 + 1440)["k"].sum()
    e5 = demo.raw_range("alb.5xx", m0, m0 + 1440)["k"].sum()
    assert s["figures"]["availability"] == pytest.approx(100 * ok2 / req, rel=1e-9)
    assert s["figures"]["error_rate"] == pytest.approx(100 * e5 / req, rel=1e-9)
    assert s["figures"]["throughput"] == pytest.approx(req / 24, rel=1e-9)
    page = (res.run_dir / "report.html").read_text()
    assert "TargetResponseTime" in page and "partial" in page


def test_an_account_without_alarms_is_no_data_not_a_traceback(moto_params, moto_server):
    """Issue #38 item 10: `run alarms -p alarms_from aws` on an account with no alarms failed with KeyError:
    'threshold'."""
    from rtanalytics.reports import alarms

    moto_server.reset()
    rep = alarms.run(environment="moto", alarms_from="aws", start=DAY[0], end=DAY[1], now=DAY[1])
    assert rep.status == "no-data" and any("DescribeAlarms answered no alarms" in n for n in rep.all_notes())
    # every call the report's notebook makes works on it (a no-data page, not a failed run)
    figs = rep.figures()
    for call in (rep.headline_block, rep.catalog_table, rep.detection_matrix, rep.pages_per_week, rep.noise_table,
                 rep.provenance_table, rep.data_notes):
        call()
    assert set(figs) >= {"timeline", "sweep", "pages"}
    rep.publish(str(moto_params.parent / "out"))
