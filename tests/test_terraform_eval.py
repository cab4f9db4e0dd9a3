"""Terraform as teams write it, evaluated statically (rtanalytics/hcl.py, rtanalytics/iac.py).

Each construct below was found in a public repository (named in the test); the HCL here is written for the test
in the same form, not copied. Function results are the examples of Terraform's own function documentation
(developer.hashicorp.com/terraform/language/functions/NAME); the expression rules are the HCL native syntax
specification's (hashicorp/hcl, hclsyntax/spec.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rtanalytics import hcl
from rtanalytics.cli import main
from rtanalytics.errors import CatalogError
from rtanalytics.iac import import_alarms


def ev(expr: str, **variables):
    return hcl.value_of("${" + expr + "}", hcl.Scope(variables, set(variables)))


# ------------------------------------------------------------------------------------ functions, as documented
@pytest.mark.parametrize("expr, expected", [
    ('format("Hello, %s!", "Ander")', "Hello, Ander!"),
    ('format("There are %d lights", 4)', "There are 4 lights"),
    ('join(", ", ["foo", "bar", "baz"])', "foo, bar, baz"),
    ('join(", ", ["foo"])', "foo"),
    ('lookup({a="ay", b="bee"}, "a", "what?")', "ay"),
    ('lookup({a="ay", b="bee"}, "c", "what?")', "what?"),
    ('merge({a="b", c="d"}, {e="f", c="z"})', {"a": "b", "c": "z", "e": "f"}),
    ('concat(["a", ""], ["b", "c"])', ["a", "", "b", "c"]),
    ('coalesce("a", "b")', "a"),
    ('coalesce("", "b")', "b"),
    ('coalesce(1, 2)', 1),
    ('replace("1 + 2 + 3", "+", "-")', "1 - 2 - 3"),
    ('replace("hello world", "/w.*d/", "everybody")', "hello everybody"),
    ('lower("HELLO")', "hello"),
    ('upper("hello")', "HELLO"),
    ('tostring("hello")', "hello"),
    ('tostring(1)', "1"),
    ('tostring(true)', "true"),
    ('tonumber("1")', 1),
    ('tonumber(1)', 1),
    ('try(tonumber("nope"), "fallback")', "fallback"),
    ('element(["a", "b", "c"], 3)', "a"),
    ('length({a = "b"})', 1),
    ('keys({a=1, c=2, d=3})', ["a", "c", "d"]),
    ('flatten([["a", "b"], [], ["c"]])', ["a", "b", "c"]),
    ('toset(["c", "b", "b"])', ["b", "c"]),
    ('contains(["a", "b", "c"], "a")', True),
    ('substr("hello world", 1, 4)', "ello"),
    ('split(",", "foo,bar,baz")', ["foo", "bar", "baz"]),
    ('range(3)', [0, 1, 2]),
    ('zipmap(["a", "b"], [1, 2])', {"a": 1, "b": 2}),
    ('jsondecode("{\\"hello\\": \\"world\\"}")', {"hello": "world"}),
    ('trimspace("  hello\\n")', "hello"),
    ('min(12, 54, 3)', 3),
    ('floor(4.9)', 4),
])
def test_functions_give_what_terraforms_documentation_says(expr, expected):
    assert ev(expr) == expected


@pytest.mark.parametrize("expr, expected", [
    ("1 + 2 * 3", 7),                                         # * binds tighter than +
    ("(1 + 2) * 3", 9),
    ("5 % 3", 2),
    ("!true || true", True),
    ('var.env == "prod" ? 5 : 1', 5),
    ('var.env != "prod" ? 5 : var.env == "prod" ? 6 : 7', 6),  # conditionals nest to the right
    ("[for s in var.names : upper(s) if s != \"b\"]", ["A", "C"]),
    ("{for s in var.names : s => length(s)}", {"a": 1, "b": 1, "c": 1}),
    ("var.objs[*].id", ["x", "y"]),
    ("var.objs.0.id", "x"),                                    # the legacy index
    ('"${var.env}-${1 + 1}"', "prod-2"),
    ('"$${literal}"', "${literal}"),                           # the escape
    ("var.names", ["a", "b", "c"]),
])
def test_expressions_follow_the_hcl_specification(expr, expected):
    got = ev(expr, env="prod", names=["a", "b", "c"], objs=[{"id": "x"}, {"id": "y"}])
    assert got == expected


def test_a_template_of_one_interpolation_keeps_the_value_and_a_heredoc_strips_its_indent():
    # HCL spec: "If a template consists only of a single interpolation sequence ... the result is the value of
    # that expression, without string conversion"
    scope = hcl.Scope({"actions": ["arn:a", "arn:b"]}, {"actions"})
    assert hcl.value_of('"${var.actions}"', scope) == ["arn:a", "arn:b"]
    assert hcl.value_of('"<<-EOT\n    hello\n      world\n  EOT"', scope) == "hello\n  world\n"


def test_unknown_values_carry_their_reference_and_are_never_guessed():
    scope = hcl.Scope({}, {"db"}, resources=lambda t, n: None)
    u = hcl.value_of('"${var.prefix_missing}"', hcl.Scope({}, {"prefix_missing"}))
    assert isinstance(u, hcl.Unknown) and u.expr == "var.prefix_missing" and "--var prefix_missing=" in u.why
    got = hcl.value_of("${aws_sns_topic.alerts.arn}", scope)
    assert isinstance(got, hcl.Unknown) and got.expr == "aws_sns_topic.alerts.arn" and "after apply" in got.why
    got = hcl.value_of('"rds-${data.aws_db_instance.main.allocated_storage * 2}"', scope)
    assert isinstance(got, hcl.Unknown) and got.expr == "data.aws_db_instance.main.allocated_storage"
    assert hcl.value_of('${merge({a = "b"}, {c = var.db})}', scope)["a"] == "b"  # the known part stays known
    with pytest.raises(hcl.HclError, match="no variable 'nope' is declared"):
        hcl.value_of("${var.nope}", scope)
    with pytest.raises(hcl.HclError, match="no function named 'frobnicate'"):
        hcl.value_of("${frobnicate(1)}", scope)


def test_hostile_expressions_end_in_an_error_not_a_crash():
    with pytest.raises(hcl.HclError, match="nested too deeply"):
        hcl.parse("(" * 5000 + "1" + ")" * 5000)
    with pytest.raises(hcl.HclError, match="1024"):
        ev("range(100000000)")
    with pytest.raises(hcl.HclError, match="unterminated string"):
        hcl.parse('"abc')
    with pytest.raises(hcl.HclError, match="digits"):  # past Python's int conversion limit: named, not a ValueError
        hcl.parse("1" * 10_000)


# ------------------------------------------------------------------------------------- alarms as teams write them
def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


ALARM = '''
resource "aws_cloudwatch_metric_alarm" "cpu" {{
  alarm_name          = {name}
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = var.evaluation_period
  metric_name         = "CPUUtilization"
  namespace           = "AWS/RDS"
  period              = "60"
  statistic           = "Average"
  threshold           = "90"
  alarm_actions       = var.actions_alarm
  dimensions = {{
    DBInstanceIdentifier = var.db_instance_id
  }}
}}
'''
VARS = '''
variable "db_instance_id" {
  type = "string"
}
variable "prefix" {
  type    = "string"
  default = ""
}
variable "evaluation_period" {
  type    = "string"
  default = "5"
}
variable "actions_alarm" {
  type    = "list"
  default = []
}
'''


def test_a_name_built_by_interpolation_resolves_once_the_variable_is_given(tmp_path):
    # lorenzoaiello/terraform-aws-rds-alarms, main.tf: "${var.prefix}rds-${var.db_instance_id}-highCPUUtilization"
    # with Terraform 0.11's quoted types (type = "string") in variables.tf
    write(tmp_path, {"main.tf": ALARM.format(name='"${var.prefix}rds-${var.db_instance_id}-highCPUUtilization"'),
                     "variables.tf": VARS})
    r = import_alarms(tmp_path)
    assert not r.alarms
    (u,) = [u for u in r.unresolved if u["field"] == "AlarmName"]
    assert (u["line"], u["expression"]) == (3, "var.db_instance_id") and "--var db_instance_id=" in u["resolve"]
    r = import_alarms(tmp_path, tf_vars={"db_instance_id": "orders-db", "prefix": "prod-"})
    (a,) = r.alarms
    assert a.AlarmName == "prod-rds-orders-db-highCPUUtilization"
    assert (a.EvaluationPeriods, a.Period, a.Threshold) == (5, 60, 90.0)
    assert a.Dimensions == [{"Name": "DBInstanceIdentifier", "Value": "orders-db"}]
    assert r.address[a.AlarmName] == "aws_cloudwatch_metric_alarm.cpu"


def test_var_files_follow_terraforms_precedence(tmp_path):
    # terraform.tfvars and *.auto.tfvars load by themselves; other files only as -var-file; -var wins last
    write(tmp_path, {"main.tf": ALARM.format(name='"${var.prefix}${var.db_instance_id}"'), "variables.tf": VARS,
                     "terraform.tfvars": 'db_instance_id = "from-tfvars"\nprefix = "a-"\n',
                     "x.auto.tfvars": 'prefix = "auto-"\n', "prod.tfvars": 'db_instance_id = "from-var-file"\n'})
    assert import_alarms(tmp_path).alarms[0].AlarmName == "auto-from-tfvars"
    assert import_alarms(tmp_path, var_files=[tmp_path / "prod.tfvars"]).alarms[0].AlarmName == "auto-from-var-file"
    got = import_alarms(tmp_path, var_files=[tmp_path / "prod.tfvars"], tf_vars={"db_instance_id": "cli"})
    assert got.alarms[0].AlarmName == "auto-cli"


def test_count_and_for_each_give_one_alarm_per_address(tmp_path):
    # tothenew/terraform-aws-cloudwatch-alarm ec2-cw/cpu/main.tf: count = length(var.instance_id) with
    # var.instance_id[count.index]; terraform-aws-modules/terraform-aws-cloudwatch modules/metric-alarm:
    # count = var.create_metric_alarm ? 1 : 0
    write(tmp_path, {"main.tf": '''
variable "instance_id" {
  type    = list(string)
  default = ["i-1", "i-2"]
}
variable "create" {
  default = false
}
resource "aws_cloudwatch_metric_alarm" "ec2_cpu" {
  count               = length(var.instance_id)
  alarm_name          = "instance-${var.instance_id[count.index]}-cpu-utilization"
  comparison_operator = "GreaterThanOrEqualToThreshold"
  evaluation_periods  = "2"
  metric_name         = "CPUUtilization"
  namespace           = "AWS/EC2"
  period              = "120"
  statistic           = "Average"
  threshold           = "80"
  dimensions = {
    InstanceId = var.instance_id[count.index]
  }
}
resource "aws_cloudwatch_metric_alarm" "off" {
  count               = var.create ? 1 : 0
  alarm_name          = "never"
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 1
  metric_name         = "Errors"
  namespace           = "AWS/Lambda"
  period              = 60
  statistic           = "Sum"
  threshold           = 0
}
resource "aws_cloudwatch_metric_alarm" "queues" {
  for_each            = { orders = 300, billing = 900 }
  alarm_name          = "${each.key}-age"
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 1
  metric_name         = "ApproximateAgeOfOldestMessage"
  namespace           = "AWS/SQS"
  period              = 60
  statistic           = "Maximum"
  threshold           = each.value
  dimensions          = { QueueName = each.key }
}
'''})
    r = import_alarms(tmp_path)
    got = {a.AlarmName: a for a in r.alarms}
    assert set(got) == {"instance-i-1-cpu-utilization", "instance-i-2-cpu-utilization", "orders-age", "billing-age"}
    assert r.address["instance-i-2-cpu-utilization"] == "aws_cloudwatch_metric_alarm.ec2_cpu[1]"
    assert r.address["billing-age"] == 'aws_cloudwatch_metric_alarm.queues["billing"]'
    assert got["billing-age"].Threshold == 900 and got["orders-age"].Dimensions == [
        {"Name": "QueueName", "Value": "orders"}]
    assert not r.skipped  # count = 0 is no alarm, not a problem
    assert sorted(r.blocks.values()) == [0, 2, 2]


DYNAMIC_MODULE = '''
variable "alarm_name" { type = string }
variable "evaluation_periods" { type = number }
variable "threshold" {
  type    = number
  default = null
}
variable "dimensions" {
  type    = any
  default = null
}
variable "metric_query" {
  type    = any
  default = []
}
variable "statistic" {
  type    = string
  default = null
}
variable "metric_name" {
  type    = string
  default = null
}
variable "namespace" {
  type    = string
  default = null
}
variable "period" {
  type    = string
  default = null
}
resource "aws_cloudwatch_metric_alarm" "this" {
  alarm_name          = var.alarm_name
  comparison_operator = "GreaterThanOrEqualToThreshold"
  evaluation_periods  = var.evaluation_periods
  threshold           = var.threshold
  metric_name         = var.metric_name
  namespace           = var.namespace
  period              = var.period
  statistic           = var.statistic
  dimensions          = var.dimensions
  dynamic "metric_query" {
    for_each = var.metric_query
    content {
      id          = lookup(metric_query.value, "id")
      label       = lookup(metric_query.value, "label", null)
      return_data = lookup(metric_query.value, "return_data", null)
      expression  = lookup(metric_query.value, "expression", null)
      dynamic "metric" {
        for_each = lookup(metric_query.value, "metric", [])
        content {
          metric_name = lookup(metric.value, "metric_name")
          namespace   = lookup(metric.value, "namespace")
          period      = lookup(metric.value, "period")
          stat        = lookup(metric.value, "stat")
          dimensions  = lookup(metric.value, "dimensions", null)
        }
      }
    }
  }
}
'''


def test_local_modules_expand_with_their_inputs_and_dynamic_blocks(tmp_path):
    # terraform-aws-modules/terraform-aws-cloudwatch: modules/metric-alarm (dynamic "metric_query" with a nested
    # dynamic "metric", lookup(..., null)) called from examples/lambda-metric-alarm with source "../../modules/..."
    write(tmp_path, {"modules/metric-alarm/main.tf": DYNAMIC_MODULE, "examples/lambda/main.tf": '''
module "errors" {
  source              = "../../modules/metric-alarm"
  alarm_name          = "all-lambdas-errors"
  evaluation_periods  = 1
  threshold           = 0
  period              = 60
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  statistic           = "Maximum"
}
module "rate" {
  source             = "../../modules/metric-alarm"
  alarm_name         = "mq-lambda-error-rate"
  evaluation_periods = 1
  threshold          = 10
  metric_query = [{
    id          = "e1"
    return_data = true
    expression  = "m2/m1*100"
    label       = "Error Rate"
    }, {
    id = "m1"
    metric = [{
      namespace   = "AWS/Lambda"
      metric_name = "Invocations"
      period      = 60
      stat        = "Sum"
      dimensions  = { FunctionName = "checkout" }
    }]
    }, {
    id = "m2"
    metric = [{
      namespace   = "AWS/Lambda"
      metric_name = "Errors"
      period      = 60
      stat        = "Sum"
      dimensions  = { FunctionName = "checkout" }
    }]
  }]
}
module "labels" {
  source  = "clouddrove/labels/aws"
  version = "1.3.0"
  name    = "x"
}
'''})
    r = import_alarms(tmp_path)
    got = {a.AlarmName: a for a in r.alarms}
    assert got["all-lambdas-errors"].Statistic == "Maximum" and not got["all-lambdas-errors"].Dimensions
    rate = got["mq-lambda-error-rate"]
    assert rate.is_math and [q["Id"] for q in rate.Metrics] == ["e1", "m1", "m2"]
    assert [q.get("ReturnData") for q in rate.Metrics] == [True, False, False]
    assert rate.Metrics[1]["MetricStat"] == {"Metric": {"Namespace": "AWS/Lambda", "MetricName": "Invocations",
                                                        "Dimensions": [{"Name": "FunctionName",
                                                                        "Value": "checkout"}]},
                                             "Period": 60, "Stat": "Sum"}
    assert r.address["mq-lambda-error-rate"] == "module.rate.aws_cloudwatch_metric_alarm.this"
    (ne,) = r.not_expanded  # a registry module is named with its file and line, never guessed
    assert ne["module"] == "module.labels" and ne["source"] == "clouddrove/labels/aws" and ne["line"] == 42


def test_optional_attributes_take_their_defaults_and_a_json_file_is_read(tmp_path):
    # Senora-dev/terraform-aws-cloudwatch-alarms: map(object({... period = optional(number, 300) ...})) and
    # jsondecode(file(var.alarms_json_path)) with "${path.module}/alarms.json" from examples/complete
    write(tmp_path, {"main.tf": '''
variable "alarms_json_path" {
  type    = string
  default = null
}
variable "alarms" {
  type = map(object({
    alarm_name          = string
    comparison_operator = string
    evaluation_periods  = number
    threshold           = number
    period              = optional(number, 300)
    namespace           = string
    metric_name         = string
    statistic           = optional(string, "Average")
    dimensions          = optional(map(string), {})
    treat_missing_data  = optional(string, "missing")
  }))
  default = {}
}
locals {
  from_json = var.alarms_json_path != null ? jsondecode(file(var.alarms_json_path)) : {}
  all       = merge(var.alarms, local.from_json)
}
resource "aws_cloudwatch_metric_alarm" "this" {
  for_each            = local.all
  alarm_name          = each.value.alarm_name
  comparison_operator = each.value.comparison_operator
  evaluation_periods  = each.value.evaluation_periods
  threshold           = each.value.threshold
  period              = try(each.value.period, 60)
  namespace           = each.value.namespace
  metric_name         = each.value.metric_name
  statistic           = try(each.value.statistic, "Sum")
  dimensions          = try(each.value.dimensions, {})
  treat_missing_data  = try(each.value.treat_missing_data, "missing")
}
''', "examples/complete/main.tf": '''
module "from_json" {
  source           = "../../"
  alarms_json_path = "${path.module}/alarms.json"
}
module "direct" {
  source = "../../"
  alarms = {
    high_cpu = {
      alarm_name          = "high-cpu-usage"
      comparison_operator = "GreaterThanThreshold"
      evaluation_periods  = 2
      threshold           = 80
      namespace           = "AWS/EC2"
      metric_name         = "CPUUtilization"
    }
  }
}
''', "examples/complete/alarms.json": json.dumps({"low_memory": {
        "alarm_name": "low-memory-available", "comparison_operator": "LessThanThreshold", "evaluation_periods": 3,
        "threshold": 10, "namespace": "System/Linux", "metric_name": "MemoryUtilization", "period": 120}})})
    got = {a.AlarmName: a for a in import_alarms(tmp_path).alarms}
    assert (got["high-cpu-usage"].Period, got["high-cpu-usage"].Statistic) == (300, "Average")  # optional defaults
    assert (got["low-memory-available"].Period, got["low-memory-available"].Statistic) == (120, "Sum")
    (tmp_path / "examples/complete/main.tf").write_text('module "x" {\n  source = "../../"\n  alarms_json_path = '
                                                       '"/etc/passwd"\n}\n')
    r = import_alarms(tmp_path / "examples")  # a path outside the imported folder is never read
    assert not r.alarms and any("outside the imported folder" in u.get("resolve", "") for u in r.unresolved)


def test_terraform_0_11_forms_and_account_data_sources(tmp_path):
    # the block form dimensions { ... } (Terraform 0.11); SevereOverfl0w/terraform-aws-elb-cloudwatch-sns-
    # alarms alarm_actions = ["${var.alarm_actions}"] (a list in a list, flattened by 0.11); dubiety/terraform-aws-
    # elasticsearch-cloudwatch-sns-alarms ClientId = data.aws_caller_identity.default.account_id
    write(tmp_path, {"main.tf": '''
variable "alarm_actions" {
  type    = "list"
  default = ["arn:aws:sns:eu-west-1:123456789012:ops"]
}
data "aws_caller_identity" "default" {}
resource "aws_cloudwatch_metric_alarm" "red" {
  alarm_name          = "es-red"
  comparison_operator = "GreaterThanOrEqualToThreshold"
  evaluation_periods  = "1"
  metric_name         = "ClusterStatus.red"
  namespace           = "AWS/ES"
  period              = "60"
  statistic           = "Maximum"
  threshold           = "1"
  alarm_actions       = ["${var.alarm_actions}"]
  dimensions {
    DomainName = "search"
    ClientId   = "${data.aws_caller_identity.default.account_id}"
  }
}
'''})
    r = import_alarms(tmp_path)
    assert not r.alarms and r.unresolved[0]["expression"] == "data.aws_caller_identity.default.account_id"
    (a,) = import_alarms(tmp_path, pseudo={"AWS::AccountId": "123456789012"}).alarms
    assert a.Dimensions == [{"Name": "DomainName", "Value": "search"}, {"Name": "ClientId", "Value": "123456789012"}]
    assert a.AlarmActions == ["arn:aws:sns:eu-west-1:123456789012:ops"]


def test_what_terraform_itself_refuses_is_named_not_crashed(tmp_path):
    # lorenzoaiello/terraform-aws-nat-alarms main.tf names var.efs_id, which its variables.tf does not declare;
    # an anomaly-detection alarm (lorenzoaiello/terraform-aws-efs-alarms) is refused by name; a file that is not
    # HCL 2 is listed with its line while the others import
    write(tmp_path, {"a.tf": ALARM.format(name='"${var.prefix}nat-${var.efs_id}-dropped"').replace(
        "var.db_instance_id", '"x"'), "variables.tf": VARS, "band.tf": '''
resource "aws_cloudwatch_metric_alarm" "anomalous" {
  alarm_name          = "anomalous-connections"
  comparison_operator = "GreaterThanUpperThreshold"
  evaluation_periods  = 5
  threshold_metric_id = "e1"
  metric_query {
    id          = "e1"
    expression  = "ANOMALY_DETECTION_BAND(m1)"
    return_data = "true"
  }
  metric_query {
    id          = "m1"
    return_data = "true"
    metric {
      metric_name = "ClientConnections"
      namespace   = "AWS/EFS"
      period      = 600
      stat        = "Average"
    }
  }
}
''', "old.tf": 'resource "aws_cloudwatch_metric_alarm" "x" {\n  dimensions {\n    "LoadBalancerName" = "lb"\n  }\n}\n'})
    r = import_alarms(tmp_path)
    reasons = {s["alarm"]: s["reason"] for s in r.skipped}
    assert "no variable 'efs_id' is declared" in reasons["aws_cloudwatch_metric_alarm.cpu"]
    assert reasons["anomalous-connections"].startswith("an anomaly-detection alarm (ThresholdMetricId e1")
    (u,) = r.unreadable
    assert u["file"].endswith("old.tf") and u["line"] == 3 and "not valid HCL" in u["reason"]
    with pytest.raises(CatalogError, match="old.tf: line 3"):  # a single unreadable file is an error
        import_alarms(tmp_path / "old.tf")


def test_a_resources_configured_argument_is_known(tmp_path):
    # jodykpw/terraform-aws-cloudwatch-alarms: dimensions from aws_autoscaling_group.asg.name — known when the
    # group's block sets name (not when it sets only name_prefix); an .arn is known only after apply
    write(tmp_path, {"main.tf": '''
resource "aws_autoscaling_group" "named" {
  name     = "web-asg"
  max_size = 4
}
resource "aws_autoscaling_group" "prefixed" {
  name_prefix = "asg-"
}
resource "aws_sns_topic" "ops" {
  name = "ops"
}
resource "aws_cloudwatch_metric_alarm" "a" {
  alarm_name          = "cpu-${aws_autoscaling_group.named.name}"
  comparison_operator = "GreaterThanOrEqualToThreshold"
  evaluation_periods  = "2"
  metric_name         = "CPUUtilization"
  namespace           = "AWS/EC2"
  period              = "120"
  statistic           = "Average"
  threshold           = aws_autoscaling_group.named.max_size * 20
  dimensions          = { AutoScalingGroupName = aws_autoscaling_group.named.name }
  alarm_actions       = [aws_sns_topic.ops.arn]
}
resource "aws_cloudwatch_metric_alarm" "b" {
  alarm_name          = "cpu-prefixed"
  comparison_operator = "GreaterThanOrEqualToThreshold"
  evaluation_periods  = "2"
  metric_name         = "CPUUtilization"
  namespace           = "AWS/EC2"
  period              = "120"
  statistic           = "Average"
  threshold           = 80
  dimensions          = { AutoScalingGroupName = aws_autoscaling_group.prefixed.name }
}
'''})
    r = import_alarms(tmp_path)
    (a,) = r.alarms
    assert a.AlarmName == "cpu-web-asg" and a.Threshold == 80 and a.AlarmActions == []
    assert {u["expression"] for u in r.unresolved} == {"aws_sns_topic.ops.arn", "aws_autoscaling_group.prefixed.name"}
    r = import_alarms(tmp_path, values={"aws_sns_topic.ops.arn": "arn:aws:sns:eu-west-1:1:ops"})
    assert {a.AlarmName: a for a in r.alarms}["cpu-web-asg"].AlarmActions == ["arn:aws:sns:eu-west-1:1:ops"]


def test_the_command_takes_var_and_var_file(tmp_path, capsys):
    write(tmp_path, {"main.tf": ALARM.format(name='"${var.prefix}${var.db_instance_id}"'), "variables.tf": VARS,
                     "prod.tfvars": 'prefix = "prod-"\n'})
    code = main(["alarms", "import", str(tmp_path), "--format", "json", "--var", "db_instance_id=orders",
                 "--var-file", str(tmp_path / "prod.tfvars")])
    out = capsys.readouterr().out
    assert code == 0 and json.loads(out)[0]["AlarmName"] == "prod-orders"
    assert main(["alarms", "import", str(tmp_path), "--var", "novalue"]) == 2
    assert "NAME=VALUE" in capsys.readouterr().err
