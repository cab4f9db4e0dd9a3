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
    assert set(got) == {"prod-alb-5xx", "prod-alb-p99"}
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
    assert "metric math" in skipped["prod-error-ratio"] and "composite" in skipped["prod-both"]
    assert "Condition IsDev is false" in skipped["dev-noise"] and "unresolved Threshold" in skipped["prod-needs-a-topic"]
    assert all(s["line"] for s in r.skipped) and all(u["file"].endswith("service-alarms.yaml") for u in r.unresolved)
    # without the pseudo parameters the account is not guessed: the action is listed, not invented
    bare = import_alarms(FIX / "cfn")
    assert {a.AlarmName: a for a in bare.alarms}["prod-alb-5xx"].AlarmActions == []
    assert any("AWS::AccountId" in u["expression"] or "AWS::Region" in u["expression"] for u in bare.unresolved)


def test_terraform_variables_defaults_and_references():
    r = import_alarms(FIX / "tf")
    (a,) = r.alarms
    assert a.AlarmName == "tf-alb-5xx" and a.Threshold == 25.0 and a.DatapointsToAlarm == 3
    assert a.Dimensions == [{"Name": "LoadBalancer", "Value": "app/web-alb/50dc6c495c0c9188"}]
    assert a.AlarmActions == ["arn:aws:sns:us-west-1:123456789012:oncall"]
    lines = {(u["alarm"], u["field"]): u["line"] for u in r.unresolved}
    assert lines[("tf-alb-5xx", "AlarmActions")] == 17 and lines[("tf-queue-age", "Period")] == 35
    skipped = {s["alarm"]: s["reason"] for s in r.skipped}
    assert set(skipped) == {"tf-queue-age", "tf-error-ratio", "tf-both"}


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
    assert [Alarm.model_validate(a).AlarmName for a in yaml.safe_load(out)["alarms"]] == ["tf-alb-5xx"]
    assert "alarms.tf:35: tf-queue-age.Period: unresolved ${var.period}" in err
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
