"""SLO arithmetic against the SRE Workbook's published figures and hand-worked cases; OpenSLO validation."""

import numpy as np
import pandas as pd
import pytest

from rtanalytics import slo as S
from rtanalytics.catalog.openslo import load_openslo
from rtanalytics.errors import CatalogError

T0 = pd.Timestamp("2026-11-01T00:00Z")


def idx(n, period_s=60, start=T0):
    return pd.date_range(start, periods=n, freq=f"{period_s}s")


def test_workbook_budget_shares():
    # "Alerting on SLOs", table of recommended parameters for a 99.9% SLO over 30 days
    assert S.budget_share(14.4, "1h", "30d") == pytest.approx(0.02)
    assert S.budget_share(6, "6h", "30d") == pytest.approx(0.05)
    assert S.budget_share(1, "3d", "30d") == pytest.approx(0.10)
    assert [S.short_window(r.long) for r in S.WORKBOOK_RULES] == ["300s", "1800s", "21600s"]


def test_workbook_detection_time_for_a_full_outage():
    # 99.9% SLO, 100% errors, 1-hour window at burn rate 14.4: (1 - 0.999) / 1 x 60 min x 14.4 = 0.864 min
    assert S.detection_time(0.999, 1.0, "1h", 14.4).total_seconds() == pytest.approx(51.84)
    # simulated at 1-minute resolution the page fires at the end of the first bad minute
    n = 12 * 60
    total = np.full(n, 100.0)
    good = total.copy()
    good[400:] = 0.0  # full outage from minute 400, after more than 6 hours of good traffic
    sli = S.occurrences_sli(idx(n), good=good, total=total)
    alerts = S.burn_alerts(sli, 0.999)
    fast = alerts[alerts["rule"] == "page-fast-burn"].iloc[0]
    assert fast["start"] - idx(n)[400] == pd.Timedelta(minutes=1)
    slow = alerts[alerts["rule"] == "page-slow-burn"].iloc[0]
    # 6-hour rule at 6: 0.001 x 360 min x 6 = 2.16 min -> the end of the 3rd bad minute
    assert slow["start"] - idx(n)[400] == pd.Timedelta(minutes=3)


def test_calendar_month_with_missing_data():
    # 10 daily periods; days 3 and 7 have no data at all; 1,000 requests/day; 5 bad on day 5
    total = np.array([1000, 1000, np.nan, 1000, 1000, 1000, np.nan, 1000, 1000, 1000], dtype=float)
    bad = np.array([0, 0, np.nan, 0, 5, 0, np.nan, 0, 0, 0], dtype=float)
    sli = S.occurrences_sli(idx(10, 86400), bad=bad, total=total, period_s=86400)
    b = S.budget(sli, 0.999, T0, T0 + pd.Timedelta(days=10))
    assert (b.good, b.total, b.bad) == (7995.0, 8000.0, 5.0)  # missing days count neither way
    assert b.allowed == pytest.approx(8.0) and b.consumed == pytest.approx(5 / 8)
    assert b.remaining == pytest.approx(3 / 8)
    bd = S.burndown(sli, 0.999, T0, T0 + pd.Timedelta(days=10))
    assert bd.iloc[0] == 1.0 and bd.iloc[3] == 1.0  # exactly 100% until the first bad request
    assert bd.iloc[4] == pytest.approx(1 - 5 / (0.001 * 8000)) == pytest.approx(b.remaining)
    assert bd.iloc[-1] == pytest.approx(b.remaining)


def test_no_traffic_and_exact_figures():
    sli = S.occurrences_sli(idx(5), good=[np.nan] * 5, total=[np.nan] * 5)
    b = S.budget(sli, 0.999, T0, T0 + pd.Timedelta(minutes=5))
    assert b.remaining == 1.0 and not np.isnan(b.remaining) and np.isnan(b.attainment)
    # float noise never leaves a tiny negative: 1 bad of a budget of exactly 1
    sli = S.occurrences_sli(idx(1), bad=[1.0], total=[1000.0])
    assert S.budget(sli, 0.999, T0, T0 + pd.Timedelta(minutes=1)).remaining == 0.0


def test_exclusions_apply_to_good_and_total_alike():
    total = np.full(60, 100.0)
    bad = np.zeros(60)
    bad[10:20] = 50.0  # a bad deploy
    sli = S.occurrences_sli(idx(60), bad=bad, total=total)
    w = (T0, T0 + pd.Timedelta(hours=1))
    before = S.budget(sli, 0.99, *w)
    after = S.budget(S.exclude(sli, [(idx(60)[10], idx(60)[20])]), 0.99, *w)
    assert before.bad == 500 and before.total == 6000
    assert after.bad == 0 and after.total == 5000 and after.remaining == 1.0 and after.excluded_periods == 10


def test_timeslices_and_occurrences_disagree_on_the_same_data():
    # 100 five-minute slices; slice 0 carries a 10,000-request burst with 50% errors, the rest 100 requests,
    # all good. Occurrences: 5,000 bad of 19,900 (74.9%); Timeslices (slice good when >= 99% good): 99 of 100.
    n = 100
    total = np.full(n, 100.0)
    total[0] = 10_000
    good = total.copy()
    good[0] = 5_000
    occ = S.occurrences_sli(idx(n, 300), good=good, total=total, period_s=300)
    ts = S.ratio_timeslice_sli(idx(n, 300), good, total, 0.99, 300)
    w = (T0, T0 + pd.Timedelta(minutes=500))
    assert S.budget(occ, 0.99, *w).attainment == pytest.approx(14_900 / 19_900)
    assert S.budget(ts, 0.99, *w).attainment == pytest.approx(0.99)
    b = S.budget(ts, 0.99, *w)
    assert b.allowed_minutes == pytest.approx(5.0) and b.remaining_minutes == pytest.approx(0.0)


def test_burn_rate_and_exhaustion():
    total = np.full(120, 100.0)
    bad = np.full(120, 0.2)  # 0.2% errors against a 0.1% budget: burn rate 2
    sli = S.occurrences_sli(idx(120), bad=bad, total=total)
    assert S.burn_rate(sli, "1h", 0.999)[-1] == pytest.approx(2.0)
    b = S.budget(sli, 0.999, T0, T0 + pd.Timedelta(hours=2))
    assert b.remaining == pytest.approx(-1.0)
    good_b = S.Budget(T0, T0 + pd.Timedelta(days=30), 0.999, "requests", 0, 1, 0, 1, 0.5, 0.5, 1, 60, 0, 0, 0)
    assert S.exhaustion(good_b, 2.0, "30d") == T0 + pd.Timedelta(days=30) + pd.Timedelta(days=7.5)


def test_stale_sli_is_flagged():
    total = np.r_[np.full(30, 100.0), np.full(60, np.nan)]
    sli = S.occurrences_sli(idx(90), good=total, total=total)
    assert S.stale(sli, idx(90)[-1], "30m") and not S.stale(sli, idx(90)[35], "30m")


def test_openslo_validation_names_the_problem(tmp_path):
    (tmp_path / "a.yaml").write_text("""apiVersion: openslo/v1
kind: SLO
metadata: {name: x}
spec:
  service: s
  indicator:
    metadata: {name: i}
    spec:
      thresholdMetric: {metricSource: {type: CloudWatch, spec: {namespace: N, metricName: M, stat: p95}}}
  timeWindow: [{duration: 30d, isRolling: true}]
  budgetingMethod: Timeslices
  objectives: [{target: 0.99, op: lt, value: 3, timeSliceWindow: 5m, compositeWeight: 2}]
""")
    with pytest.raises(CatalogError, match=r"objectives.0.compositeWeight: unsupported field"):
        load_openslo(tmp_path)
    (tmp_path / "a.yaml").write_text("apiVersion: openslo/v1\nkind: Service\nmetadata: {name: x}\nspec: {}\n")
    with pytest.raises(CatalogError, match="unsupported kind 'Service'"):
        load_openslo(tmp_path)


def test_seed_slos_load():
    from rtanalytics.catalog import catalog

    cat = load_openslo(catalog().root / "slos")
    assert set(cat.slos) == {"availability", "error-rate", "response-time-p95", "dynamodb-latency",
                             "lambda-duration", "s3-latency", "throughput-floor"}
    conds = cat.burn_conditions(cat.slos["availability"])
    assert [(c.spec.condition.lookbackWindow, c.spec.condition.threshold) for c in conds] == [
        ("1h", 14.4), ("6h", 6.0), ("3d", 1.0)]


def test_slo_report_on_the_demo(demo):
    from rtanalytics.reports import slo

    r0 = slo.run(now="2026-11-20T00:00Z", end="2026-11-20T00:00Z")
    # every injected incident is caught by some burn-rate page, none of the pages is false
    comp = r0.comparison.set_index("approach")
    assert comp.loc["SLO burn-rate pages (multiwindow)", "caught"] == comp.loc[
        "SLO burn-rate pages (multiwindow)", "incidents"]
    assert comp.loc["SLO burn-rate pages (multiwindow)", "false_pages"] == 0
    assert comp.loc["seed's static alarms (all)", "caught"] < comp.loc["seed's static alarms (all)", "incidents"]
    r = slo.run(now="2026-11-20T00:00Z", end="2026-11-20T00:00Z", exclude=["deploys"])
    t = r.table.set_index("slo")
    assert set(t["status"]) <= {"ok", "at risk", "exhausted"}
    # excluding deploys gives back the budget the bad deploy burnt (for slice SLOs, excluding good slices also
    # shrinks the budget, so those may move either way)
    raw = r.table_without_exclusions.set_index("slo")
    assert t.loc["availability", "remaining"] > raw.loc["availability", "remaining"]
    w = r.working()
    assert {"good", "total", "formula"} <= set(w.columns)
