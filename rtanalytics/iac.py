"""Alarms where teams keep them: CloudWatch alarms read from Terraform and CloudFormation, and written back.

* **CloudFormation** (YAML or JSON, ``!Ref``/``!Sub``/``!GetAtt``/``Fn::*`` included) is decoded by cfn-lint's
  own template decoder; ``AWS::CloudWatch::Alarm`` resources become :class:`~rtanalytics.alarms.Alarm` models
  (the properties are PutMetricAlarm's fields). ``Ref`` to a template parameter with a ``Default`` and
  ``Fn::Sub`` over such parameters are resolved; ``Fn::If`` over a condition of ``Fn::Equals`` on resolvable
  values is evaluated; anything else (``Ref`` to another resource, ``Fn::GetAtt``, a parameter without a
  default, pseudo parameters such as ``AWS::AccountId``) is **listed as unresolved with its file and line and
  never guessed** — an alarm action that cannot be resolved is listed and left out of the model, a value its
  evaluation needs (threshold, period, names) makes the alarm unimportable, with the reason.
* **Terraform** (``.tf``) is parsed by python-hcl2; ``aws_cloudwatch_metric_alarm`` resources map their
  arguments to PutMetricAlarm's fields; ``var.NAME`` is resolved from the folder's ``variable`` blocks with a
  ``default`` (and ``*.tfvars`` files beside them), references to other resources are listed as unresolved.
* **Metric math** (``Metrics`` / ``metric_query`` blocks) imports as the alarm's inputs and expressions, replayed by
  :mod:`rtanalytics.metricmath`; **composite alarms** (``AWS::CloudWatch::CompositeAlarm``,
  ``aws_cloudwatch_composite_alarm``) import as :class:`~rtanalytics.alarms.CompositeAlarm` with their rule, a
  reference to an alarm of the same files (``!Ref``, ``!GetAtt X.Arn``, ``${aws_cloudwatch_metric_alarm.X.arn}``)
  resolved to its name.

:func:`terraform` writes alarms as ``aws_cloudwatch_metric_alarm`` blocks (the CloudFormation writer is
:mod:`rtanalytics.export`); reading what either writes gives back the same models (tested).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .alarms import Alarm, CompositeAlarm
from .errors import CatalogError
from .metricmath import MathError, rule_children

TF_FIELDS = {  # Terraform argument -> PutMetricAlarm field
    "alarm_name": "AlarmName", "alarm_description": "AlarmDescription", "namespace": "Namespace",
    "metric_name": "MetricName", "statistic": "Statistic", "extended_statistic": "ExtendedStatistic",
    "period": "Period", "evaluation_periods": "EvaluationPeriods", "datapoints_to_alarm": "DatapointsToAlarm",
    "threshold": "Threshold", "comparison_operator": "ComparisonOperator", "treat_missing_data": "TreatMissingData",
    "evaluate_low_sample_count_percentiles": "EvaluateLowSampleCountPercentile", "actions_enabled": "ActionsEnabled",
    "alarm_actions": "AlarmActions", "ok_actions": "OKActions",
    "insufficient_data_actions": "InsufficientDataActions", "unit": "Unit", "dimensions": "Dimensions",
}
ACTIONS = ("AlarmActions", "OKActions", "InsufficientDataActions")
CFN_FIELDS = set(Alarm.model_fields)
COMPOSITE_FIELDS = set(CompositeAlarm.model_fields)
TF_COMPOSITE_FIELDS = {"alarm_name": "AlarmName", "alarm_rule": "AlarmRule", "alarm_description": "AlarmDescription",
                       "actions_enabled": "ActionsEnabled", "alarm_actions": "AlarmActions", "ok_actions": "OKActions",
                       "insufficient_data_actions": "InsufficientDataActions"}
TF_QUERY_FIELDS = {"id": "Id", "expression": "Expression", "label": "Label", "return_data": "ReturnData",
                   "period": "Period", "account_id": "AccountId"}
TF_METRIC_FIELDS = {"metric_name": "MetricName", "namespace": "Namespace", "period": "Period", "stat": "Stat",
                    "unit": "Unit", "dimensions": "Dimensions"}


@dataclass
class Imported:
    """What :func:`import_alarms` found: the alarms, what could not be resolved (file, line, alarm, field,
    expression), what was skipped (with why), each alarm's source file and line."""

    alarms: list[Alarm] = field(default_factory=list)
    composites: list[CompositeAlarm] = field(default_factory=list)
    unresolved: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    origin: dict[str, str] = field(default_factory=dict)

    def problems(self) -> list[str]:
        return ([f"{u['file']}:{u['line']}: {u['alarm']}.{u['field']}: unresolved {u['expression']}"
                 for u in self.unresolved]
                + [f"{s['file']}:{s['line']}: {s['alarm']}: skipped: {s['reason']}" for s in self.skipped])


class _Unresolved(Exception):
    def __init__(self, expression: str):
        self.expression = expression


def import_alarms(paths, pseudo: dict | None = None, values: dict | None = None) -> Imported:
    """Every alarm in ``paths`` (files or folders: ``*.tf``, ``*.yaml``/``*.yml``/``*.json``/``*.template``
    CloudFormation templates). ``pseudo``: values of CloudFormation pseudo parameters the caller knows (the
    environment's ``{"AWS::AccountId": ..., "AWS::Region": ...}``); others stay unresolved. ``values``: the
    environment's own values of Terraform variables and CloudFormation parameters (``iac_values`` in
    environments.yaml, resources filled in), winning over defaults and ``*.tfvars``. A file that does not parse
    raises :class:`CatalogError` naming it and the line."""
    out = Imported()
    files: list[Path] = []
    for p in [Path(x) for x in ([paths] if isinstance(paths, (str, Path)) else paths)]:
        if p.is_dir():
            files += sorted(f for f in p.rglob("*") if f.suffix in (".tf", ".yaml", ".yml", ".json", ".template"))
        elif p.exists():
            files.append(p)
        else:
            raise CatalogError(str(p), None, "not found", "name a Terraform or CloudFormation file or folder")
    tf = [f for f in files if f.suffix == ".tf"]
    if tf:
        _terraform_files(tf, out, values or {})
    for f in files:
        if f.suffix != ".tf":
            _cloudformation_file(f, out, pseudo or {}, values or {})
    return out


# ------------------------------------------------------------------------------------------ CloudFormation
def _cloudformation_file(path: Path, out: Imported, pseudo: dict, values: dict | None = None) -> None:
    from cfnlint.decode import decode  # lazy: cfn-lint takes ~0.6 s to import; only reading CloudFormation pays

    template, matches = decode(str(path))
    if template is None:
        m = matches[0] if matches else None
        line = getattr(m, "linenumber", None) if m is not None else None
        raise CatalogError(str(path), f"line {line}" if line else None,
                           f"not a readable template: {getattr(m, 'message', m)}",
                           "fix the YAML/JSON at that line (cfn-lint decodes it)")
    if not isinstance(template, dict) or "Resources" not in template:
        return  # JSON or YAML that is not a template (a dashboard, a catalog file): nothing to import
    declared = {k: v for k, v in (template.get("Parameters") or {}).items() if isinstance(v, dict)}
    params = dict(pseudo) | {k: v.get("Default") for k, v in declared.items()} | {
        k: v for k, v in (values or {}).items() if k in declared}  # the environment's own values win
    conditions = template.get("Conditions") or {}
    for logical, res in (template.get("Resources") or {}).items():  # Ref / GetAtt Arn of an alarm: its name
        if isinstance(res, dict) and res.get("Type") in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"):
            nm = (res.get("Properties") or {}).get("AlarmName")
            try:
                nm = _cfn_value(nm, params, conditions) if nm is not None else logical
            except _Unresolved:
                nm = logical  # CloudFormation would generate one: the rule then names the logical id
            params[logical] = nm
            region, account = params.get("AWS::Region"), params.get("AWS::AccountId")
            params[f"{logical}.Arn"] = f"arn:aws:cloudwatch:{region}:{account}:alarm:{nm}" if region and account \
                else nm  # in a rule, ALARM(arn) and ALARM(name) are the same alarm
    for logical, res in (template.get("Resources") or {}).items():
        if not isinstance(res, dict):
            continue
        line = _line(res)
        kind = res.get("Type")
        props = res.get("Properties") or {}
        name = props.get("AlarmName") if isinstance(props.get("AlarmName"), str) else logical
        if kind not in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"):
            continue
        if "Condition" in res and not _condition(res["Condition"], conditions, params):
            out.skipped.append({"file": str(path), "line": line, "alarm": name,
                                "reason": f"its Condition {res['Condition']} is false with the parameters' defaults"})
            continue
        data, bad = {}, []
        fields = COMPOSITE_FIELDS if kind == "AWS::CloudWatch::CompositeAlarm" else CFN_FIELDS
        for k, v in props.items():
            if k not in fields:
                continue
            if k in ACTIONS and isinstance(v, list):  # each action on its own: one unresolved leaves the others
                data[k] = []
                for a in v:
                    try:
                        data[k].append(_cfn_value(a, params, conditions))
                    except _Unresolved as e:
                        bad.append((k, e.expression, _line(a) or line))
                continue
            try:
                data[k] = _cfn_value(v, params, conditions)
            except _Unresolved as e:
                bad.append((k, e.expression, _line(v) or line))
        data.setdefault("AlarmName", logical)
        if kind == "AWS::CloudWatch::CompositeAlarm":
            _finish_composite(data, bad, str(path), line, out)
        else:
            _finish(data, bad, str(path), line, out)


def _line(node) -> int | None:
    mark = getattr(node, "start_mark", None)
    return mark.line + 1 if mark is not None else None


def _cfn_value(v, params: dict, conditions: dict):
    if isinstance(v, dict) and len(v) == 1:
        (fn, arg), = v.items()
        if fn == "Ref":
            if arg in params and params[arg] is not None:
                return params[arg]
            raise _Unresolved(f"!Ref {arg}")
        if fn == "Fn::Sub":
            text, local = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1] if len(arg) > 1 else {})

            def one(m):
                key = m.group(1)
                if key in local:
                    return str(_cfn_value(local[key], params, conditions))
                if key in params and params[key] is not None:
                    return str(params[key])
                raise _Unresolved(f"!Sub ${{{key}}}")

            return re.sub(r"\$\{([^}!]+)\}", one, text)  # ${X} and ${X.Arn} (an alarm's) alike
        if fn == "Fn::If":
            cond, yes, no = arg
            return _cfn_value(yes if _condition(cond, conditions, params) else no, params, conditions)
        if fn == "Fn::GetAtt":
            key = ".".join(arg) if isinstance(arg, list) else str(arg)
            if key in params:
                return params[key]
            raise _Unresolved(f"!GetAtt {key}")
        if fn == "Fn::Join":
            sep, parts = arg
            return sep.join(str(_cfn_value(p, params, conditions)) for p in parts)
        if fn.startswith("Fn::") or fn == "Ref":
            raise _Unresolved(f"{fn} {json.dumps(arg, default=str)[:80]}")
    if isinstance(v, dict):
        return {k: _cfn_value(x, params, conditions) for k, x in v.items()}
    if isinstance(v, list):
        return [_cfn_value(x, params, conditions) for x in v]
    return v


def _condition(name_or_expr, conditions: dict, params: dict) -> bool:
    expr = conditions.get(name_or_expr) if isinstance(name_or_expr, str) else name_or_expr
    if expr is None:
        raise _Unresolved(f"Condition {name_or_expr}")
    (fn, arg), = expr.items()
    if fn == "Fn::Equals":
        a, b = (_cfn_value(x, params, conditions) for x in arg)
        return str(a) == str(b)
    if fn == "Fn::Not":
        return not _condition(arg[0], conditions, params)
    if fn == "Fn::And":
        return all(_condition(x, conditions, params) for x in arg)
    if fn == "Fn::Or":
        return any(_condition(x, conditions, params) for x in arg)
    if fn == "Condition":
        return _condition(arg, conditions, params)
    raise _Unresolved(f"{fn} in a condition")


# ------------------------------------------------------------------------------------------------ Terraform
_TF_VAR = re.compile(r"^\$\{var\.([A-Za-z0-9_-]+)\}$")


def _tf_text(v):
    """python-hcl2 keeps string literals quoted (``'"x"'``) and expressions as ``${...}``."""
    if isinstance(v, str) and len(v) >= 2 and v[0] == v[-1] == '"':
        inner = v[1:-1]
        # HCL's escapes within a quoted string (python-hcl2 keeps them as written)
        return re.sub(r'\\(["\\nt])', lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), inner) \
            if "\\" in inner else inner
    return v


def _terraform_files(files: list[Path], out: Imported, values: dict | None = None) -> None:
    import hcl2  # lazy: only reading Terraform loads the HCL grammar

    parsed, variables = [], {}
    for f in files:
        text = f.read_text(encoding="utf-8")
        try:
            doc = hcl2.loads(text)
        except Exception as e:  # lark's errors carry the line
            line = getattr(e, "line", None)
            raise CatalogError(str(f), f"line {line}" if line else None, f"not valid HCL: {str(e).splitlines()[0]}",
                               "fix the Terraform at that line (`terraform validate` says the same)") from None
        parsed.append((f, text, doc))
        for block in doc.get("variable", []):
            for name, body in block.items():
                if isinstance(body, dict) and "default" in body:
                    variables[_tf_text(name)] = _tf_text(body["default"])
    for tfvars in sorted({p for f in files for p in f.parent.glob("*.tfvars")}):
        for k, v in hcl2.loads(tfvars.read_text(encoding="utf-8")).items():
            variables[k] = _tf_text(v)
    variables |= dict(values or {})  # the environment's own values win over defaults and tfvars
    names = {}  # "aws_cloudwatch_metric_alarm.X" -> the alarm's name (what .alarm_name, .id and .arn refer to)
    for f, text, doc in parsed:
        for block in doc.get("resource", []):
            for rtype, bodies in block.items():
                rtype = _tf_text(rtype)
                if rtype in ("aws_cloudwatch_composite_alarm", "aws_cloudwatch_metric_alarm"):
                    for name, body in bodies.items():
                        lit = _tf_text(body.get("alarm_name")) if isinstance(body, dict) else None
                        names[f"{rtype}.{_tf_text(name)}"] = lit if isinstance(lit, str) and "${" not in lit else None
    for f, text, doc in parsed:
        for block in doc.get("resource", []):
            for rtype, bodies in block.items():
                rtype = _tf_text(rtype)
                for name, body in bodies.items():
                    name = _tf_text(name)
                    m = re.search(rf'resource\s+"{re.escape(rtype)}"\s+"{re.escape(name)}"', text)
                    line = text[:m.start()].count("\n") + 1 if m else None
                    if rtype in ("aws_cloudwatch_composite_alarm", "aws_cloudwatch_metric_alarm"):
                        _terraform_alarm(f, line, name, body, variables, out, rtype, names)


_TF_REF = re.compile(r"\$\{(aws_cloudwatch_(?:metric|composite)_alarm\.[A-Za-z0-9_-]+)\.(alarm_name|id|arn)\}")


def _terraform_alarm(f: Path, line, name: str, body: dict, variables: dict, out: Imported,
                     rtype: str = "aws_cloudwatch_metric_alarm", names: dict | None = None) -> None:
    literal = _tf_text(body.get("alarm_name"))
    if isinstance(literal, str) and not literal.startswith("${"):
        name = literal
    composite = rtype == "aws_cloudwatch_composite_alarm"
    fields = TF_COMPOSITE_FIELDS if composite else TF_FIELDS
    data, bad = {}, []
    names = names or {}

    def resolve(v, key):
        v = _tf_text(v)
        if isinstance(v, str) and "${" in v:
            m = _TF_VAR.match(v)
            if m and m.group(1) in variables:
                return variables[m.group(1)]

            def ref(mm):  # another alarm of these files: its name (an ARN's last part is the name, too)
                got = names.get(mm.group(1))
                if got is None:
                    raise _Unresolved(mm.group(0))
                return got  # .arn too: a rule's ALARM(arn) means the alarm of that name

            out_v = _TF_REF.sub(ref, v)
            if "${" in out_v:
                raise _Unresolved(v)
            return out_v
        return v

    for arg, value in body.items():
        fld = fields.get(arg)
        if fld is None:
            continue
        try:
            if fld == "Dimensions":
                data[fld] = [{"Name": _tf_text(k), "Value": str(resolve(v, fld))} for k, v in value.items()
                             if not k.startswith("__")]
            elif fld in ACTIONS:
                acts = []
                for a in value:
                    try:
                        acts.append(resolve(a, fld))
                    except _Unresolved as e:
                        bad.append((fld, e.expression, line))
                data[fld] = acts
            else:
                data[fld] = resolve(value, fld)
        except _Unresolved as e:
            bad.append((fld, e.expression, line))
    if not composite and "metric_query" in body:  # metric math: PutMetricAlarm's Metrics
        metrics = []
        for i, q in enumerate(body["metric_query"]):
            item = {}
            for arg, value in q.items():
                if arg in TF_QUERY_FIELDS:
                    try:
                        item[TF_QUERY_FIELDS[arg]] = resolve(value, "Metrics")
                    except _Unresolved as e:
                        bad.append((f"Metrics.{i}.{arg}", e.expression, line))
            for met in q.get("metric", []) or []:
                stat = {}
                for arg, value in met.items():
                    fld = TF_METRIC_FIELDS.get(arg)
                    try:
                        if fld == "Dimensions":
                            stat[fld] = [{"Name": _tf_text(k), "Value": str(resolve(v, fld))}
                                         for k, v in value.items() if not k.startswith("__")]
                        elif fld:
                            stat[fld] = resolve(value, fld)
                    except _Unresolved as e:
                        bad.append((f"Metrics.{i}.metric.{arg}", e.expression, line))
                item["MetricStat"] = {"Metric": {k: stat[k] for k in ("Namespace", "MetricName", "Dimensions")
                                                 if k in stat},
                                      **{k: stat[k] for k in ("Period", "Stat", "Unit") if k in stat}}
            if isinstance(item.get("ReturnData"), str):
                item["ReturnData"] = item["ReturnData"].lower() == "true"
            item.setdefault("ReturnData", False)  # Terraform's default (PutMetricAlarm's API default is true)
            metrics.append(item)
        data["Metrics"] = metrics
    data.setdefault("AlarmName", name)
    if composite:
        _finish_composite(data, bad, str(f), line, out)
    else:
        _finish(data, bad, str(f), line, out)


# ----------------------------------------------------------------------------------------------- both forms
def _finish(data: dict, bad: list, file: str, line, out: Imported) -> None:
    name = str(data.get("AlarmName"))
    needed = [b for b in bad if b[0] not in ACTIONS]
    for fld, expr, ln in bad:
        out.unresolved.append({"file": file, "line": ln, "alarm": name, "field": fld, "expression": expr})
    if needed:
        out.skipped.append({"file": file, "line": line, "alarm": name, "reason": "unresolved "
                            + ", ".join(f"{f} ({e})" for f, e, _ in needed) + ": give it in the environment's "
                            "iac_values (environments.yaml), or give the parameter/variable a default"})
        return
    for a in ACTIONS:  # an unresolved action is listed and left out; the others stay
        if a in data and not isinstance(data[a], list):
            data[a] = [data[a]]
    for k in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
        if k in data and data[k] is not None:
            data[k] = int(data[k])
    for item in data.get("Metrics") or []:  # numbers and booleans as PutMetricAlarm takes them
        if isinstance(item, dict):
            if item.get("Period") is not None:
                item["Period"] = int(item["Period"])
            if isinstance(item.get("MetricStat"), dict) and item["MetricStat"].get("Period") is not None:
                item["MetricStat"]["Period"] = int(item["MetricStat"]["Period"])
            if isinstance(item.get("ReturnData"), str):
                item["ReturnData"] = item["ReturnData"].lower() == "true"
    if "Threshold" in data and data["Threshold"] is not None:
        data["Threshold"] = float(data["Threshold"])
    if isinstance(data.get("ActionsEnabled"), str):
        data["ActionsEnabled"] = data["ActionsEnabled"].lower() == "true"
    try:
        alarm = Alarm.model_validate(data)
    except Exception as e:
        out.skipped.append({"file": file, "line": line, "alarm": name, "reason": f"not a valid alarm: {_why(e, data)}"})
        return
    out.alarms.append(alarm)
    out.origin[alarm.AlarmName] = f"{file}:{line}"


def _why(e: Exception, data: dict) -> str:
    """A validation error in one line per field (pydantic's own text names the field and the problem)."""
    errs = getattr(e, "errors", None)
    if not callable(errs):
        return str(e)
    parts = []
    for err in errs():
        loc = ".".join(str(x) for x in err.get("loc", ())) or "alarm"
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
        if loc == "Period" and data.get("Metrics"):
            msg += " (a metric-math alarm takes it from its returned expression's Period or its inputs' MetricStat)"
        parts.append(f"{loc}: {msg}" if loc != "alarm" else msg)
    return "; ".join(parts)


def _finish_composite(data: dict, bad: list, file: str, line, out: Imported) -> None:
    name = str(data.get("AlarmName"))
    for fld, expr, ln in bad:
        out.unresolved.append({"file": file, "line": ln, "alarm": name, "field": fld, "expression": expr})
    if any(b[0] not in ACTIONS for b in bad):
        out.skipped.append({"file": file, "line": line, "alarm": name, "reason": "unresolved " + ", ".join(
            f"{f} ({e})" for f, e, _ in bad if f not in ACTIONS) + ": name the alarms the rule refers to"})
        return
    if isinstance(data.get("ActionsEnabled"), str):
        data["ActionsEnabled"] = data["ActionsEnabled"].lower() == "true"
    try:
        comp = CompositeAlarm.model_validate(data)
        rule_children(comp.AlarmRule)
    except (MathError, ValueError) as e:
        out.skipped.append({"file": file, "line": line, "alarm": name,
                            "reason": f"not a valid composite alarm: {_why(e, data)}"})
        return
    out.composites.append(comp)
    out.origin[comp.AlarmName] = f"{file}:{line}"


def terraform(alarms, composites=()) -> str:
    """``aws_cloudwatch_metric_alarm`` (metric math as ``metric_query`` blocks) and
    ``aws_cloudwatch_composite_alarm`` resources (HCL text); importing it gives the same models."""
    rev = {v: k for k, v in TF_FIELDS.items()}
    blocks = []
    for a in alarms:
        ident = re.sub(r"[^A-Za-z0-9_]", "_", a.AlarmName).lower()
        lines = [f'resource "aws_cloudwatch_metric_alarm" "{ident}" {{']
        d = a.model_dump(exclude_none=True)
        for k, v in d.items():
            if k not in rev or v in ([], "") or (k == "ActionsEnabled" and v is True):
                continue
            if a.is_math and k == "Period":  # a metric-math alarm's periods are its queries'
                continue
            if k == "Dimensions":
                inner = "\n".join(f"    {x['Name']} = {json.dumps(x['Value'])}" for x in v)
                lines.append(f"  dimensions = {{\n{inner}\n  }}")
            elif k == "TreatMissingData" and v == "missing":
                continue
            else:
                lines.append(f"  {rev[k]} = {json.dumps(v)}")
        for q in a.Metrics or []:
            lines.append("  metric_query {")
            lines.append(f"    id = {json.dumps(q['Id'])}")
            for k in ("Expression", "Label", "Period", "AccountId"):
                if q.get(k) is not None:
                    lines.append(f"    {next(t for t, c in TF_QUERY_FIELDS.items() if c == k)} = {json.dumps(q[k])}")
            lines.append(f"    return_data = {json.dumps(bool(q.get('ReturnData', True)))}")
            if "MetricStat" in q:
                st, met = q["MetricStat"], q["MetricStat"]["Metric"]
                lines.append("    metric {")
                lines.append(f"      namespace = {json.dumps(met.get('Namespace', ''))}")
                lines.append(f"      metric_name = {json.dumps(met['MetricName'])}")
                lines.append(f"      period = {int(st['Period'])}")
                lines.append(f"      stat = {json.dumps(st['Stat'])}")
                if st.get("Unit"):
                    lines.append(f"      unit = {json.dumps(st['Unit'])}")
                if met.get("Dimensions"):
                    inner = "\n".join(f"        {x['Name']} = {json.dumps(x['Value'])}" for x in met["Dimensions"])
                    lines.append(f"      dimensions = {{\n{inner}\n      }}")
                lines.append("    }")
            lines.append("  }")
        lines.append("}")
        blocks.append("\n".join(lines))
    crev = {v: k for k, v in TF_COMPOSITE_FIELDS.items()}
    for c in composites:
        ident = re.sub(r"[^A-Za-z0-9_]", "_", c.AlarmName).lower()
        lines = [f'resource "aws_cloudwatch_composite_alarm" "{ident}" {{']
        for k, v in c.model_dump(exclude_none=True).items():
            if k in crev and v not in ([], "") and not (k == "ActionsEnabled" and v is True):
                lines.append(f"  {crev[k]} = {json.dumps(v)}")
        lines.append("}")
        blocks.append("\n".join(lines))
    return "# written by rtanalytics (rtanalytics alarms import reads it back)\n\n" + "\n\n".join(blocks) + "\n"
