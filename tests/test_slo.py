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
    (tmp_path / "a.yaml").write_text("apiVersion: openslo/v1\nkind: Pipeline\nmetadata: {name: x}\nspec: {}\n")
    with pytest.raises(CatalogError, match="unsupported kind 'Pipeline'"):
        load_openslo(tmp_path)


# Shaped like the OpenSLO specification's own examples: a YAML list of objects, a Service, a DataSource by
# reference, an unquoted calendar start, RatioTimeslices without timeSliceTarget, an empty alertPolicies:, the
# raw/rawType ratio, burn-rate op lte, notification targets by reference.
PUBLISHED = """
- apiVersion: openslo/v1
  kind: Service
  metadata: {name: my-rest-service, displayName: My Rest Service}
  spec: {description: Service description}
- apiVersion: openslo/v1
  kind: DataSource
  metadata: {name: datadog-datasource}
  spec:
    type: Datadog
    connectionDetails: {apiKey: from-the-environment}
- apiVersion: openslo/v1
  kind: SLO
  metadata: {name: foo-slo, displayName: Foo SLO}
  spec:
    service: my-rest-service
    indicator:
      metadata: {name: foo-error}
      spec:
        ratioMetric:
          counter: true
          good:
            metricSource:
              metricSourceRef: datadog-datasource
              type: Datadog
              spec: {query: "sum:trace.http.request.hits.by_http_status{http.status_code:200}.as_count()"}
          total:
            metricSource:
              metricSourceRef: datadog-datasource
              type: Datadog
              spec: {query: "sum:trace.http.request.hits.by_http_status{*}.as_count()"}
    timeWindow:
      - duration: 1M
        isRolling: false
        calendar:
          startTime: 2022-01-01 12:00:00
          timeZone: America/New_York
    budgetingMethod: RatioTimeslices
    objectives:
      - displayName: Foo Total Errors
        target: 0.98
        timeSliceWindow: 5m
    alertPolicies:
- apiVersion: openslo/v1
  kind: SLO
  metadata: {name: alb-success}
  spec:
    service: my-rest-service
    indicator:
      metadata: {name: alb-success-ratio}
      spec:
        ratioMetric:
          counter: false
          rawType: success
          raw:
            metricSource:
              type: CloudWatch
              spec: {namespace: RealTechee/Business, metricName: SuccessRatio, stat: Average}
    timeWindow: [{duration: 7d, isRolling: true}]
    budgetingMethod: RatioTimeslices
    objectives: [{targetPercent: 99.5, timeSliceWindow: 5m}]
    alertPolicies: [{alertPolicyRef: fast-burn}]
- apiVersion: openslo/v1
  kind: AlertPolicy
  metadata: {name: fast-burn}
  spec:
    conditions: [{conditionRef: burn-lte}]
    notificationTargets: [{targetRef: oncall}]
- apiVersion: openslo/v1
  kind: AlertCondition
  metadata: {name: burn-lte}
  spec:
    severity: page
    condition: {kind: burnrate, op: lte, threshold: 2, lookbackWindow: 1h, alertAfter: 5m}
- apiVersion: openslo/v1
  kind: AlertNotificationTarget
  metadata: {name: oncall}
  spec: {target: sns, description: the on-call topic}
"""


def test_openslo_as_published_loads_with_references_resolved(tmp_path):
    (tmp_path / "all.yaml").write_text(PUBLISHED)
    cat = load_openslo(tmp_path)
    assert set(cat.slos) == {"foo-slo", "alb-success"} and set(cat.services) == {"my-rest-service"}
    foo, alb = cat.slos["foo-slo"], cat.slos["alb-success"]
    assert foo.spec.timeWindow[0].calendar.startTime == "2022-01-01 12:00:00" and foo.spec.alertPolicies == []
    assert cat.computable(foo) == (False, "its indicator reads Datadog metrics, not CloudWatch: not computable "
                                          "from this source")
    assert cat.computable(alb)[0] and alb.spec.objectives[0].target == pytest.approx(0.995)
    assert [c.spec.condition.op for c in cat.burn_conditions(alb)] == ["lte"]
    assert cat.policies["fast-burn"].spec.notificationTargets[0].targetRef == "oncall"


def test_openslo_reports_every_error_at_once_with_file_and_path(tmp_path):
    (tmp_path / "a.yaml").write_text(PUBLISHED.replace("targetRef: oncall", "targetRef: nobody"))
    (tmp_path / "b.yaml").write_text("apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: b}\nspec:\n"
                                     "  service: my-rest-service\n  indicatorRef: missing-sli\n"
                                     "  timeWindow: [{duration: 30d}]\n  budgetingMethod: Sometimes\n"
                                     "  objectives: [{target: 0.99}]\n")
    with pytest.raises(CatalogError) as e:
        load_openslo(tmp_path)
    msg = str(e.value)
    assert "no AlertNotificationTarget named 'nobody'" in msg and "a.yaml" in msg
    assert "b.yaml: document 1 (SLO b).spec.budgetingMethod" in msg
    assert "problem(s)" in msg


def test_slo_report_lists_slos_it_cannot_compute(tmp_path, demo):
    from rtanalytics.reports import slo

    (tmp_path / "all.yaml").write_text(PUBLISHED)
    rep = slo.run(start="-7d", now="2026-11-20T00:00Z", slo_dir=tmp_path)
    assert any("foo-slo" in g and "not computable" in g for g in rep.gaps())
    assert any("burn-lte" in g and "not simulated" in g for g in rep.gaps())
    assert rep.status in ("partial", "no-data")


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


def test_ratio_timeslices_without_a_slice_target_is_the_mean_of_the_slice_ratios():
    idx = pd.date_range("2026-11-01", periods=4, freq="5min", tz="UTC")
    sli = S.fraction_sli(idx, [1.0, 0.5, float("nan"), 0.9], 300)
    b = S.budget(sli, 0.9, idx[0], idx[-1] + pd.Timedelta(minutes=5))
    assert b.attainment == pytest.approx((1.0 + 0.5 + 0.9) / 3)  # the slice without data is left out
    bad = S.fraction_sli(idx, [1.0, 0.5, float("nan"), 0.9], 300, missing="bad")
    assert S.budget(bad, 0.9, idx[0], idx[-1] + pd.Timedelta(minutes=5)).attainment == pytest.approx(2.4 / 4)


def test_an_open_slice_at_the_end_is_not_judged_bad():
    """Found by reading the rendered report: run at 01:02, the throughput floor (>= 100 requests every hour)
    judged the two-minute-old hour a bad slice and showed its budget overspent (-49 %) with a 1000x burn.
    A slice still open at the end of the window is judged when it is complete."""
    from rtanalytics.reports import slo

    closed = slo.run(now="2026-11-20T01:00Z", end="2026-11-20T01:00Z", slos=["throughput-floor"])
    opened = slo.run(now="2026-11-20T01:02Z", end="2026-11-20T01:02Z", slos=["throughput-floor"])
    a, b = closed.table.iloc[0], opened.table.iloc[0]
    assert b["remaining"] == pytest.approx(a["remaining"]) and b["remaining"] > 0
    assert b["burn_1h"] == pytest.approx(a["burn_1h"]) and b["burn_1h"] < 1


def test_occurrences_sli_counts_edge_cases():
    # missing total: no data (0/0); missing bad with a total: nothing bad; bad above total: all bad, never
    # negative good; a negative count (no counter produces one) counts as 0
    total = [np.nan, 100.0, 100.0, 50.0, -5.0]
    bad = [3.0, np.nan, 250.0, 5.0, 1.0]
    sli = S.occurrences_sli(idx(5), bad=bad, total=total)
    assert sli.total.tolist() == [0.0, 100.0, 100.0, 50.0, 0.0]
    assert sli.good.tolist() == [0.0, 100.0, 0.0, 45.0, 0.0]
    assert sli.has_data.tolist() == [False, True, True, True, False]
    g = S.occurrences_sli(idx(3), good=[np.nan, 120.0, 7.0], total=[10.0, 100.0, np.nan])
    assert g.good.tolist() == [0.0, 100.0, 0.0] and g.total.tolist() == [10.0, 100.0, 0.0]


def test_map_slos_matches_one_after_another_and_raises(monkeypatch):
    rng = np.random.default_rng(5)
    data = [(rng.poisson(30, 5000).astype(float), rng.binomial(30, 0.01, 5000).astype(float)) for _ in range(6)]

    def analyse(tb):
        sli = S.occurrences_sli(idx(5000), bad=tb[1], total=tb[0])
        return [S.burn_rate(sli, w, 0.999) for w in ("5m", "1h", "3d")], S.attainment(sli, "1d").to_numpy()

    serial = [analyse(x) for x in data]
    threaded = S.map_slos(analyse, data, workers=3)
    for (b1, a1), (b2, a2) in zip(serial, threaded):
        assert all(np.array_equal(x, y) for x, y in zip(b1, b2)) and np.array_equal(a1, a2, equal_nan=True)
    with pytest.raises(ZeroDivisionError):
        S.map_slos(lambda x: 1 / x, [1, 0, 2], workers=2)
    monkeypatch.setenv("RTANALYTICS_THREADS", "1")
    assert S.threads() == 1
    monkeypatch.setenv("RTANALYTICS_THREADS", "two")
    with pytest.raises(ValueError, match="RTANALYTICS_THREADS"):
        S.threads()


def test_threads_follow_the_cores_this_process_may_use(monkeypatch):
    monkeypatch.delenv("RTANALYTICS_THREADS", raising=False)
    monkeypatch.setattr(S.os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert S.threads() == 3
    monkeypatch.setattr(S.os, "sched_getaffinity", lambda pid: {5}, raising=False)
    assert S.threads() == 1
    monkeypatch.setenv("RTANALYTICS_THREADS", "4")
    assert S.threads() == 4  # the setting wins


def test_slo_report_same_on_one_thread_and_several(monkeypatch):
    from rtanalytics.reports import slo as report

    now = pd.Timestamp("2026-11-20T12:00Z")
    monkeypatch.setenv("RTANALYTICS_THREADS", "1")
    one = report.run(start="-2d", now=now)
    monkeypatch.setenv("RTANALYTICS_THREADS", "3")
    many = report.run(start="-2d", now=now)
    pd.testing.assert_frame_equal(one.table, many.table)
    pd.testing.assert_frame_equal(one.alerts, many.alerts)
    assert len(one.table) >= 2 and list(one.budgets) == list(many.budgets)
