"""Alarms read from Terraform and CloudFormation (rtanalytics/iac.py), on fixtures written in the style of public
modules and templates: parameters and variables with defaults, intrinsics, conditions, M of N, extended
statistics, metric math and composites (listed as not imported, with the reason), broken files (an error with
file and line); and the seed's own alarms round-tripping through both writers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from rtanalytics.alarms import Alarm, load_alarms
from rtanalytics.cli import main
from rtanalytics.errors import CatalogError, ParameterError
from rtanalytics.export import MARK, Backtested, cloudformation
from rtanalytics.iac import import_alarms, terraform
from rtanalytics.reports.registry import get_report, resolve_params

FIX = Path(__file__).parent / "fixtures" / "iac"


def test_cloudformation_parameters_intrinsics_conditions_and_what_is_left_out():
    r = import_alarms(FIX / "cfn", pseudo={"AWS::Region": "us-west-1", "AWS::AccountId": "123456789012"})
    got = {a.AlarmName: a for a in r.alarms}
    assert set(got) == {"prod-alb-5xx", "prod-alb-p99", "prod-error-ratio"}
    a = got["prod-alb-5xx"]  # !Sub over a parameter, !Ref to defaults, M of N
    assert (a.Threshold, a.EvaluationPeriods, a.DatapointsToAlarm, a.TreatMissingData) == (25.0, 5, 3, "notBreaching")
    assert a.Dimensions == [{"Name": "LoadBalancer", "Value": "app/web-alb/50dc6c495c0c9188"}]
    assert a.AlarmActions == ["arn:aws:sns:us-west-1:123456789012:oncall"]  # the topic resource's !Ref: listed
    p = got["prod-alb-p99"]  # !If on a condition of the defaults; an extended statistic
    assert (p.Threshold, p.ExtendedStatistic, p.EvaluateLowSampleCountPercentile) == (2.0, "p99", "ignore")
    unresolved = {(u["alarm"], u["field"], u["expression"]) for u in r.unresolved}
    assert ("prod-alb-5xx", "AlarmActions", "!Ref Alerts") in unresolved
    assert any(al == "prod-needs-a-topic" and f == "Threshold" for al, f, _ in unresolved)
    skipped = {s["alarm"]: s["reason"] for s in r.skipped}
    assert "SEARCH is not supported" in skipped["prod-broken-math"]
    assert "Condition IsDev is false" in skipped["dev-noise"] and "unresolved Threshold" in skipped["prod-needs-a-topic"]
    # metric math: the inputs (each its own period and statistic, the parameter resolved) and the expression
    m = got["prod-error-ratio"]
    assert m.is_math and m.Period == 60 and (m.EvaluationPeriods, m.DatapointsToAlarm) == (3, 2)
    assert [q.dims for q in m.input_queries()] == [{"LoadBalancer": "app/web-alb/50dc6c495c0c9188"}] * 2
    assert [q.metric for q in m.input_queries()] == ["HTTPCode_Target_5XX_Count", "RequestCount"]
    # composites: !Sub over the alarms' own !Ref and !GetAtt .Arn, resolved to their names / ARNs
    comps = {c.AlarmName: c for c in r.composites}
    assert comps["prod-both"].children == ["prod-alb-5xx", "prod-alb-p99"]
    assert "arn:aws:cloudwatch:us-west-1:123456789012:alarm:prod-alb-p99" in comps["prod-both"].AlarmRule
    assert comps["prod-ratio-or-5xx"].children == ["prod-error-ratio", "prod-alb-5xx", "prod-alb-p99"]
    assert ("prod-both", "AlarmActions", "!Ref Alerts") in unresolved  # its topic: listed, the rule kept
    assert all(s["line"] for s in r.skipped) and all(u["file"].endswith("service-alarms.yaml") for u in r.unresolved)
    # without the pseudo parameters the account is not guessed: the action is listed, not invented
    bare = import_alarms(FIX / "cfn")
    assert {a.AlarmName: a for a in bare.alarms}["prod-alb-5xx"].AlarmActions == []
    assert any("AWS::AccountId" in u["expression"] or "AWS::Region" in u["expression"] for u in bare.unresolved)


def test_terraform_variables_defaults_and_references():
    r = import_alarms(FIX / "tf")
    a, ratio = r.alarms
    assert a.AlarmName == "tf-alb-5xx" and a.Threshold == 25.0 and a.DatapointsToAlarm == 3
    # metric_query blocks: Terraform's return_data defaults to false, so the expression alone returns data
    assert ratio.is_math and [q.get("ReturnData") for q in ratio.Metrics] == [True, False, False]
    assert [q.dims for q in ratio.input_queries()] == [{"LoadBalancer": "app/web-alb/50dc6c495c0c9188"}] * 2
    (both,) = r.composites  # references to the alarms' alarm_name and arn, resolved to their names
    assert both.AlarmRule == "ALARM(tf-alb-5xx) AND ALARM(tf-error-ratio)"
    assert a.Dimensions == [{"Name": "LoadBalancer", "Value": "app/web-alb/50dc6c495c0c9188"}]
    assert a.AlarmActions == ["arn:aws:sns:us-west-1:123456789012:oncall"]
    lines = {(u["alarm"], u["field"]): u["line"] for u in r.unresolved}
    # the line of the attribute itself, and what would resolve it
    assert lines[("tf-alb-5xx", "AlarmActions")] == 32 and lines[("tf-queue-age", "Period")] == 41
    why = {(u["alarm"], u["field"]): u.get("resolve", "") for u in r.unresolved}
    assert "--var period=VALUE" in why[("tf-queue-age", "Period")]
    assert "known after apply" in why[("tf-alb-5xx", "AlarmActions")]
    skipped = {s["alarm"]: s["reason"] for s in r.skipped}
    assert set(skipped) == {"tf-queue-age", "tf-needs-queue"}
    assert "aws_cloudwatch_metric_alarm.elsewhere.alarm_name" in skipped["tf-needs-queue"]


def test_broken_files_name_the_file_and_line(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("Resources:\n  A:\n    Type: AWS::CloudWatch::Alarm\n    Properties: [unclosed\n")
    with pytest.raises(CatalogError) as e:
        import_alarms(bad)
    assert "broken.yaml" in str(e.value) and "line" in str(e.value)
    tf = tmp_path / "broken.tf"
    tf.write_text('resource "aws_cloudwatch_metric_alarm" "x" {\n  alarm_name = "x"\n  period = \n}\n')
    with pytest.raises(CatalogError) as e:
        import_alarms(tf)
    assert "broken.tf" in str(e.value) and "not valid HCL" in str(e.value)
    with pytest.raises(CatalogError, match="not found"):
        import_alarms(tmp_path / "nothing-here")


def test_the_seed_alarms_round_trip_through_terraform_and_cloudformation(tmp_path):
    seed = load_alarms(environment="demo")
    (tmp_path / "tf").mkdir()
    (tmp_path / "tf" / "main.tf").write_text(terraform(seed))
    back = import_alarms(tmp_path / "tf")
    assert not back.skipped and not back.unresolved
    assert [a.model_copy(update={"Tags": []}) for a in back.alarms] == [a.model_copy(update={"Tags": []}) for a in seed]
    template = cloudformation([Backtested(a, {}, ("2026-11-01T00:00", "2026-11-14T00:00")) for a in seed])
    (tmp_path / "cfn.json").write_text(json.dumps(template))
    cf = import_alarms(tmp_path / "cfn.json", pseudo={"AWS::AccountId": "ACCOUNT"})
    assert not cf.skipped and not cf.unresolved

    def norm(a: Alarm) -> Alarm:
        return a.model_copy(update={"AlarmDescription": a.AlarmDescription.split(MARK)[0], "Tags": []})

    assert [norm(a) for a in cf.alarms] == [norm(a) for a in seed]


def test_alarms_import_command_and_the_alarms_report_read_them(tmp_path, capsys):
    assert main(["alarms", "import", str(FIX / "tf"), "--format", "yaml"]) == 4  # some not imported: said
    out, err = capsys.readouterr()
    assert [Alarm.model_validate(a).AlarmName for a in yaml.safe_load(out)["alarms"]] == ["tf-alb-5xx",
                                                                                            "tf-error-ratio"]
    assert "alarms.tf:41: tf-queue-age.Period: unresolved var.period" in err
    (tmp_path / "main.tf").write_text(terraform(load_alarms(environment="demo")))
    assert main(["alarms", "import", str(tmp_path)]) == 0
    rep = get_report("alarms")
    p = resolve_params(rep, {"alarms_from": str(tmp_path)})
    assert p["alarms_from"] == str(tmp_path.resolve())
    with pytest.raises(ParameterError, match="alarms_from"):
        resolve_params(rep, {"alarms_from": str(tmp_path / "missing")})
    from rtanalytics.reports import alarms as R

    got = R.run(alarms_from=str(tmp_path), start="-7d", now="2026-11-20T00:00:00Z")
    assert set(got.scores["alarm"]) == {a.AlarmName for a in load_alarms(environment="demo")}
    assert any("alarms read from" in n for n in got.notes)


def test_metric_math_and_composites_round_trip_through_both_writers(tmp_path):
    from rtanalytics.export import cloudformation_composites

    r = import_alarms(FIX / "cfn", pseudo={"AWS::Region": "us-west-1", "AWS::AccountId": "123456789012"})
    (tmp_path / "tf").mkdir()
    (tmp_path / "tf" / "main.tf").write_text(terraform(r.alarms, r.composites))
    back = import_alarms(tmp_path / "tf")
    assert not back.skipped and not back.unresolved
    assert back.alarms == r.alarms and back.composites == r.composites
    template = cloudformation_composites(r.composites, cloudformation(
        [Backtested(a, {}, ("2026-11-01T00:00", "2026-11-14T00:00")) for a in r.alarms]))
    (tmp_path / "cfn.json").write_text(json.dumps(template))
    cf = import_alarms(tmp_path / "cfn.json")
    assert not cf.skipped and not cf.unresolved
    assert [a.model_copy(update={"AlarmDescription": a.AlarmDescription.split(MARK)[0]}) for a in cf.alarms] == \
        [a.model_copy(update={"AlarmDescription": a.AlarmDescription.split(MARK)[0]}) for a in r.alarms]
    assert cf.composites == [c.model_copy(update={"AlarmActions": []}) for c in r.composites]
    assert "Period" not in template["Resources"]["ProdErrorRatio"]["Properties"]  # math: periods in Metrics


def test_the_alarms_report_replays_metric_math_and_composites_from_terraform(tmp_path):
    """A team's Terraform on the demo's own ALB: a metric-math error ratio, a p95 alarm and a composite over
    both; the ratio replayed from its inputs equals the ratio computed by hand from the same series."""
    import numpy as np
    import pandas as pd

    from rtanalytics import backtest as bt
    from rtanalytics.reports import alarms as R
    from rtanalytics.sources.demo import DemoSource
    from rtanalytics.timewindow import TimeWindow

    from .conftest import NOW

    (tmp_path / "alarms.tf").write_text((FIX / "demo-alb.tf").read_text())
    got = R.run(alarms_from=str(tmp_path), start="-14d", now=NOW, sweep_alarm="demo-error-ratio")
    scores = got.scores.set_index("alarm")
    assert set(scores.index) == {"demo-error-ratio", "demo-slow", "demo-errors-or-slow"}
    assert any("1 composite" in n for n in got.notes)
    ratio = next(a for a in got.alarms if a.AlarmName == "demo-error-ratio")
    w = TimeWindow(pd.Timestamp("2026-11-10", tz="UTC"), pd.Timestamp("2026-11-11", tz="UTC"))
    demo = DemoSource(now=NOW)
    replayed = bt.alarm_series([ratio], demo, w)["demo-error-ratio"]
    q = {x.metric: x for x in ratio.input_queries()}
    raw = demo.metrics(list(q.values()), w)
    e5, req = raw[q["HTTPCode_Target_5XX_Count"].label], raw[q["RequestCount"].label]
    by_hand = (100 * e5.fillna(0) / req).where(req != 0)
    assert np.allclose(replayed.to_numpy(), by_hand.reindex(replayed.index).to_numpy(), equal_nan=True)
    # the composite (OR) is in ALARM at least as long as either child, never longer than both together
    t = scores["minutes_in_alarm"]
    assert max(t["demo-error-ratio"], t["demo-slow"]) <= t["demo-errors-or-slow"] <= t["demo-error-ratio"] + \
        t["demo-slow"]


def test_the_environments_own_values_resolve_variables_and_parameters():
    """``iac_values`` in environments.yaml: a variable without a default is resolved, a default is overridden,
    and ``${alb}`` names the environment's own load balancer."""
    from rtanalytics.catalog.models import Environment

    env = Environment(name="prod", resources={"alb": "app/prod-alb/1"},
                      iac_values={"period": 300, "lb_name": "${alb}", "LoadBalancerFullName": "${alb}"})
    vals = env.iac_resolved()
    assert vals == {"period": 300, "lb_name": "app/prod-alb/1", "LoadBalancerFullName": "app/prod-alb/1"}
    r = import_alarms(FIX / "tf", values=vals)
    got = {a.AlarmName: a for a in r.alarms}
    assert got["tf-queue-age"].Period == 300  # no default: now resolved
    assert got["tf-alb-5xx"].Dimensions == [{"Name": "LoadBalancer", "Value": "app/prod-alb/1"}]  # default overridden
    assert not any(u["alarm"] == "tf-queue-age" for u in r.unresolved)
    c = import_alarms(FIX / "cfn", values=vals)
    assert {a.AlarmName: a for a in c.alarms}["prod-alb-5xx"].Dimensions == [
        {"Name": "LoadBalancer", "Value": "app/prod-alb/1"}]
    # a name the template does not declare is not injected into it
    assert "period" not in str(c.unresolved)
    bare = import_alarms(FIX / "tf")
    assert any("iac_values" in s["reason"] for s in bare.skipped if s["alarm"] == "tf-queue-age")
