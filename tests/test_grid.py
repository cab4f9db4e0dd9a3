"""Every report, every window from 1 hour to 90 days, every source: ``ok``, ``partial`` or ``no-data`` with the
reason — never a traceback, never ``ok`` over data that is not there.

Sources: the demo; the ``files`` source reading the evidence bundle of the demo run (which must give the same
figures and status); CloudWatch on moto server (loopback), seeded with one day of the demo's ALB metrics only,
so every report there is missing data it needs and must say so. The report modules are called in process.
"""

import shutil

import numpy as np
import pandas as pd
import pytest
import yaml

from rtanalytics.reports import alarms, capacity, dashboards, health, incident, kpi, slo
from rtanalytics.timewindow import parse_duration

from .conftest import NOW, ROOT

WINDOWS = ["1h", "2h", "24h", "7d", "14d", "90d"]
REPORTS = ["kpis", "slo", "incident", "capacity", "alarms", "dashboards", "health", "weekly-performance",
           "daily-ops"]
STATUSES = {"ok", "partial", "no-data"}


def call(name, w, tmp, **kw):
    now = pd.Timestamp(NOW)
    start = f"-{w}"
    hp = {"history_path": tmp / "health.sqlite"}
    fns = {
        "kpis": lambda: kpi.run(start=start, now=NOW, **kw),
        "slo": lambda: slo.run(start=start, now=NOW, **kw),
        # an incident that long ago (the window is the incident's age), one hour long
        "incident": lambda: incident.run(incident_start=str(now - parse_duration(w)),
                                         incident_end=str(min(now - parse_duration(w) + pd.Timedelta("1h"), now)),
                                         now=NOW, **kw),
        "capacity": lambda: capacity.run(start=start, now=NOW, **kw),
        "alarms": lambda: alarms.run(start=start, now=NOW, **kw),
        "dashboards": lambda: dashboards.run(start=start, now=NOW, **kw),
        "health": lambda: health.run(start=start, now=NOW, **hp, **kw),
        "weekly-performance": lambda: capacity.weekly(end=NOW, now=NOW, **kw),
        "daily-ops": lambda: health.daily(end=NOW, now=NOW, **kw),
    }
    return fns[name]()


def check_honest(rep):
    st = rep.status
    assert st in STATUSES
    if st != "ok":
        assert rep.all_notes(), f"{st} without a word on what is missing"
    else:
        assert rep.provenance.get("complete", True) and not rep.gaps()
    rep.summary()  # the key figures serialise whatever the data
    return st


# weekly-performance and daily-ops analyse the week/day before ``end`` whatever the window; the health checks'
# live probes cost the same for every window: fewer cells for them keep the suite fast without losing a case
CELLS = [(n, w) for n in REPORTS for w in WINDOWS
         if not (n in ("weekly-performance", "daily-ops") and w != "7d") and not (n == "health" and w in ("2h", "7d"))]


@pytest.mark.parametrize("name,w", CELLS)
def test_demo_and_its_evidence_bundle(name, w, tmp_path):
    bundle = tmp_path / "bundle"
    rep = call(name, w, tmp_path, evidence_dir=str(bundle))
    st = check_honest(rep)
    if w in ("24h", "7d"):  # what the demo can answer completely, it answers ok
        want = {"kpis": "ok", "slo": "ok", "alarms": "ok", "weekly-performance": "ok", "dashboards": "ok",
                "capacity": "no-data" if w == "24h" else "partial"}.get(name, st)
        assert st == want, rep.all_notes()
    again = call(name, w, tmp_path, source="files", files_path=str(bundle))
    st2 = check_honest(again)
    if name in ("kpis", "slo", "capacity", "alarms", "dashboards", "weekly-performance"):
        assert st2 == st, (again.all_notes(), rep.all_notes())
        a, b = rep.summary(), again.summary()
        assert a.keys() == b.keys()
        for k in a:
            if isinstance(a[k], float) and np.isnan(a[k]):
                assert isinstance(b[k], float) and np.isnan(b[k]), k
            else:
                assert a[k] == pytest.approx(b[k]) if isinstance(a[k], float) else a[k] == b[k], k
    for ta, tb in zip(main_tables(name, rep), main_tables(name, again)):  # and the tables, cell for cell
        pd.testing.assert_frame_equal(ta.reset_index(drop=True), tb.reset_index(drop=True), check_dtype=False)
    if name == "incident":
        assert rep.markdown == again.markdown  # the postmortem, byte for byte
        pd.testing.assert_frame_equal(rep.timeline.reset_index(drop=True), again.timeline.reset_index(drop=True),
                                      check_dtype=False)


def main_tables(name, rep) -> list:
    """The tables a report shows, for the evidence round trip (live health probes excepted: they are run, not
    read)."""
    if name == "kpis":
        return [rep.table]
    if name == "slo":
        return [rep.table, rep.alerts]
    if name == "capacity":
        return [rep.table, rep.accuracy]
    if name == "alarms":
        return [rep.scores, rep.audit, rep.sweep]
    if name == "dashboards":
        return [rep.queries()] + [v.correction_table() for v in rep.views]
    if name == "weekly-performance":
        return [rep.response_daily, rep.volume, rep.dynamodb, rep.vitals, rep.biz.daily, rep.biz.quote_sizes]
    if name == "health":
        return [rep.stats, rep.correlation]
    if name == "daily-ops":
        return [rep.error_breakdown, rep.dynamodb, rep.biz.daily, rep.active_alarms]
    return []


@pytest.fixture(scope="module")
def moto_env(tmp_path_factory, moto_server):
    """parameters/ with an environment on the moto server (loopback; the app URLs point at a closed port), and
    one day of the demo's ALB metrics published there."""
    from rtanalytics.catalog import _CACHE
    from rtanalytics.sources.demo import DemoSource

    from .test_cloudwatch_report import seed_alb

    tmp = tmp_path_factory.mktemp("grid-moto")
    params = tmp / "parameters"
    shutil.copytree(ROOT / "parameters", params)
    envs = yaml.safe_load((params / "environments.yaml").read_text())
    env = dict(envs["environments"]["production"], endpoint_url=moto_server.url, description="moto (tests)")
    env["resources"] = dict(env["resources"], app_url="http://127.0.0.1:9/", graphql_url="http://127.0.0.1:9/gql",
                            s3_bucket="realtechee-gen2-storage", user_pool_id="us-west-1_none")
    envs["environments"]["moto"] = env
    (params / "environments.yaml").write_text(yaml.safe_dump(envs))
    mp = pytest.MonkeyPatch()
    mp.setenv("RTANALYTICS_PARAMETERS", str(params))
    mp.setenv("AWS_ACCESS_KEY_ID", "testing")
    mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    mp.setenv("RTANALYTICS_CACHE", str(tmp / "cache"))
    _CACHE.clear()
    moto_server.reset()
    from rtanalytics.sources.aws import AwsContext

    from .aws_helpers import session

    seed_alb(AwsContext(region="us-west-1", endpoint_url=moto_server.url, session=session()),
             DemoSource(now=NOW))
    yield tmp
    mp.undo()
    _CACHE.clear()


@pytest.mark.parametrize("name,w", [(n, w) for n in REPORTS for w in ("1h", "24h", "90d")
                                    if not (n in ("weekly-performance", "daily-ops") and w != "24h")])
def test_cloudwatch_on_moto(name, w, moto_env):
    rep = call(name, w, moto_env, environment="moto")  # the environment's own source: cloudwatch
    assert rep.provenance["source"] == "cloudwatch"
    st = check_honest(rep)
    if name in ("kpis", "slo", "capacity", "dashboards", "weekly-performance", "daily-ops"):
        # only a day of ALB data exists there: no report of these can be complete
        assert st != "ok", rep.summary()
