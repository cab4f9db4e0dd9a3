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
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import hcl
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
    "threshold_metric_id": "ThresholdMetricId",
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
    #: Terraform module calls not expanded (registry or git sources, a missing folder): file, line, module, source
    not_expanded: list[dict] = field(default_factory=list)
    #: each imported alarm's Terraform address (``module.api["eu"].aws_cloudwatch_metric_alarm.cpu[0]``)
    address: dict[str, str] = field(default_factory=dict)
    #: the blocks ("file:line") that gave at least one imported alarm (two blocks may give alarms of one name)
    imported_blocks: set = field(default_factory=set)
    #: files that could not be read (not valid HCL 2, as Terraform 0.12+ would also refuse): file, line, reason
    unreadable: list[dict] = field(default_factory=list)
    #: each alarm resource block ("file:line") and how many instances its count/for_each gave, over every
    #: module instance that evaluated it (0: count = 0 everywhere — no alarm exists)
    blocks: dict[str, int] = field(default_factory=dict)

    def problems(self) -> list[str]:
        return ([f"{u['file']}:{u['line']}: {u['alarm']}.{u['field']}: unresolved {u['expression']}"
                 + (f" — {u['resolve']}" if u.get("resolve") else "") for u in self.unresolved]
                + [f"{s['file']}:{s['line']}: {s['alarm']}: skipped: {s['reason']}" for s in self.skipped]
                + [f"{m['file']}:{m['line']}: {m['module']} (source {m['source']}): not expanded: {m['reason']}"
                   for m in self.not_expanded]
                + [f"{u['file']}:{u['line']}: not read: {u['reason']}" for u in self.unreadable])


class _Unresolved(Exception):
    def __init__(self, expression: str, why: str = ""):
        self.expression, self.why = expression, why


def import_alarms(paths, pseudo: dict | None = None, values: dict | None = None, tf_vars: dict | None = None,
                  var_files: list | None = None) -> Imported:
    """Every alarm in ``paths`` (files or folders: ``*.tf``, ``*.yaml``/``*.yml``/``*.json``/``*.template``
    CloudFormation templates). ``pseudo``: values of CloudFormation pseudo parameters the caller knows (the
    environment's ``{"AWS::AccountId": ..., "AWS::Region": ...}``); others stay unresolved. ``values``: the
    environment's own values of Terraform variables and CloudFormation parameters (``iac_values`` in
    environments.yaml, resources filled in), winning over defaults and ``*.tfvars``. A file that does not parse
    raises :class:`CatalogError` naming it and the line. ``tf_vars`` and ``var_files`` are Terraform's ``-var NAME=VALUE``
    and ``-var-file FILE``, applied after the automatic ``terraform.tfvars`` / ``*.auto.tfvars`` and ``values``, in
    that order (later wins); a key of ``values`` with a dot (``aws_sns_topic.alerts.arn``,
    ``data.aws_caller_identity.current.account_id``) gives the value of that reference."""
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
        _terraform_files(tf, out, values or {}, tf_vars, var_files, pseudo or {})
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
def _tf_text(v):
    """python-hcl2 keeps string literals quoted (``'"x"'``) and expressions as ``${...}``."""
    if isinstance(v, str) and len(v) >= 2 and v[0] == v[-1] == '"':
        inner = v[1:-1]
        # HCL's escapes within a quoted string (python-hcl2 keeps them as written)
        return re.sub(r'\\(["\\nt])', lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), inner) \
            if "\\" in inner else inner
    return v


_NO_DEFAULT = object()
_ALARM_TYPES = ("aws_cloudwatch_metric_alarm", "aws_cloudwatch_composite_alarm")
_MAX_MODULE_DEPTH = 16


@dataclass
class _Module:
    """One folder of ``.tf`` files: a Terraform module."""

    dir: Path
    files: list = field(default_factory=list)       # (path, text, parsed)
    variables: dict = field(default_factory=dict)   # name -> (default or _NO_DEFAULT, type text)
    locals: dict = field(default_factory=dict)      # name -> syntax tree
    resources: list = field(default_factory=list)   # (path, text, type, name, body, line)
    calls: list = field(default_factory=list)       # (path, line, name, body)


def _line_of(text: str, pattern: str, start: int = 0) -> int | None:
    m = re.compile(pattern, re.M).search(text, start)
    return text[:m.start()].count("\n") + 1 if m else None


def _parse_tf(f: Path):
    import hcl2  # lazy: only reading Terraform loads the HCL grammar

    text = f.read_text(encoding="utf-8", errors="replace")
    try:
        return text, hcl2.loads(text)
    except Exception as e:  # lark's errors carry the line
        line = getattr(e, "line", None)
        raise CatalogError(str(f), f"line {line}" if line else None, f"not valid HCL: {str(e).splitlines()[0]}",
                           "fix the Terraform at that line (`terraform validate` says the same)") from None


def _load_module(d: Path, files: list[Path], cache: dict, out: Imported | None = None) -> _Module:
    """The module in folder ``d``. A file that is not valid HCL is listed in ``out.unreadable`` (file, line,
    reason) and the others are read; without ``out`` it raises :class:`CatalogError`."""
    key = d.resolve()
    if key in cache:
        return cache[key]
    mod = _Module(d)
    for f in sorted(files):
        try:
            text, doc = _parse_tf(f)
        except CatalogError as e:
            if out is None:
                raise
            line = (e.field or "").removeprefix("line ")
            out.unreadable.append({"file": str(f), "line": int(line) if line.isdigit() else None,
                                   "reason": e.problem})
            continue
        mod.files.append((f, text, doc))
        for block in doc.get("variable", []) or []:
            for name, body in block.items():
                body = body if isinstance(body, dict) else {}
                mod.variables[_tf_text(name)] = (body.get("default", _NO_DEFAULT), hcl.text_of(body.get("type", "")))
        for block in doc.get("locals", []) or []:
            for name, v in block.items():
                if not str(name).startswith("__"):
                    mod.locals[name] = hcl.from_hcl2(v)
        for block in doc.get("resource", []) or []:
            for rtype, bodies in block.items():
                rtype = _tf_text(rtype)
                if not isinstance(bodies, dict):
                    continue
                for name, body in bodies.items():
                    name = _tf_text(name)
                    line = _line_of(text, rf'^[ \t]*resource[ \t]+"?{re.escape(rtype)}"?[ \t]+"?{re.escape(name)}"?')
                    mod.resources.append((f, text, rtype, name, body if isinstance(body, dict) else {}, line))
        for block in doc.get("module", []) or []:
            for name, body in block.items():
                name = _tf_text(name)
                line = _line_of(text, rf'^[ \t]*module[ \t]+"?{re.escape(name)}"?')
                mod.calls.append((f, line, name, body if isinstance(body, dict) else {}))
    cache[key] = mod
    return mod


def _tfvars(path: Path) -> dict:
    """A ``.tfvars`` (HCL) or ``.tfvars.json`` file's values, as Terraform reads them."""
    if path.name.endswith(".json"):
        return json.loads(path.read_text(encoding="utf-8"))
    text, doc = _parse_tf(path)
    return {k: hcl.value_of(v, hcl.Scope()) for k, v in doc.items() if not str(k).startswith("__")}


def _cli_value(raw, type_text: str):
    """A ``--var NAME=VALUE``: a string for a string variable (or one without a type), else HCL syntax."""
    kind = str(type_text or "").strip().strip('"')
    kind = kind[2:-1] if kind.startswith("${") and kind.endswith("}") else kind
    if not isinstance(raw, str) or kind in ("", "string", "any"):
        return raw
    try:
        got = hcl.value_of("${" + raw + "}", hcl.Scope())
    except hcl.HclError:
        return raw
    return raw if hcl.first_unknown(got) is not None else got


def _local_source(src: str) -> bool:
    return src.startswith("./") or src.startswith("../")


def _terraform_files(files: list[Path], out: Imported, values: dict | None = None,
                     tf_vars: dict | None = None, var_files: list | None = None, pseudo: dict | None = None) -> None:
    """Every folder of ``files`` is a module; a folder that no other calls as a local module is a root and is
    evaluated with its variables' defaults, ``terraform.tfvars`` and ``*.auto.tfvars`` beside it (Terraform's
    automatic files), then ``values`` (the environment's iac_values), then ``var_files`` (``-var-file``) and
    ``tf_vars`` (``-var``) in that order — later wins. Local modules are expanded with their inputs;
    registry and git modules are listed as not expanded (unless ``terraform init`` left them in
    ``.terraform/modules``)."""
    cache: dict = {}
    by_dir: dict[Path, list[Path]] = {}
    for f in files:
        if ".terraform" in f.parts:
            continue
        by_dir.setdefault(f.parent, []).append(f)
    mods = {d.resolve(): _load_module(d, fs, cache, out) for d, fs in by_dir.items()}
    if out.unreadable and len(out.unreadable) == sum(len(fs) for fs in by_dir.values()):
        u = out.unreadable[0]
        raise CatalogError(u["file"], f"line {u['line']}" if u["line"] else None, u["reason"],
                           "fix the Terraform at that line (`terraform validate` says the same)")
    called = set()
    for mod in mods.values():
        for f, line, name, body in mod.calls:
            src = _tf_text(body.get("source"))
            if isinstance(src, str) and _local_source(src):
                called.add((mod.dir / src).resolve())
    base = Path(os.path.commonpath([str(d.resolve()) for d in by_dir])) if by_dir else None
    overrides = {k: v for k, v in (values or {}).items() if "." in k}
    # the data sources that answer with the caller's own account and region: what --account/--region give
    pseudo = pseudo or {}
    if pseudo.get("AWS::AccountId"):
        overrides.setdefault("data.aws_caller_identity.*.account_id", pseudo["AWS::AccountId"])
    if pseudo.get("AWS::Region"):
        for attr in ("name", "id", "region"):
            overrides.setdefault(f"data.aws_region.*.{attr}", pseudo["AWS::Region"])
    if pseudo.get("AWS::Partition"):
        overrides.setdefault("data.aws_partition.*.partition", pseudo["AWS::Partition"])
    plain = {k: v for k, v in (values or {}).items() if "." not in k}
    for key, mod in sorted(mods.items(), key=lambda kv: str(kv[0])):
        if key in called:
            continue  # evaluated through its callers, with their inputs
        given: dict = {}
        for auto in [mod.dir / "terraform.tfvars", mod.dir / "terraform.tfvars.json",
                     *sorted(mod.dir.glob("*.auto.tfvars")), *sorted(mod.dir.glob("*.auto.tfvars.json"))]:
            if auto.exists():
                given |= _tfvars(auto)
        given |= plain
        for vf in var_files or []:
            given |= _tfvars(Path(vf))
        given |= {k: _cli_value(v, mod.variables.get(k, (None, ""))[1]) for k, v in (tf_vars or {}).items()}
        _evaluate_module(mod, given, overrides, "", out, cache, 0, mod.dir, base)


def _module_scope(mod: _Module, given: dict, overrides: dict, root: Path, base: Path | None = None):
    variables, declared = {}, set(mod.variables)
    for name, (default, type_text) in mod.variables.items():
        if name in given and given[name] is not None:
            variables[name] = hcl.convert(given[name], hcl.parse_type(type_text))
        elif default is not _NO_DEFAULT:  # a null input takes the default, as Terraform's does for most variables
            try:
                variables[name] = hcl.convert(hcl.value_of(default, hcl.Scope()), hcl.parse_type(type_text))
            except hcl.HclError:
                pass
        elif name in given:
            variables[name] = None
    try:
        rel = str(mod.dir.resolve().relative_to(root.resolve())) or "."
    except ValueError:
        rel = str(mod.dir)
    scope = hcl.Scope(variables, declared, mod.locals, overrides, None, rel)
    scope.files_base, scope.root_dir = str(base or root), str(root)
    return scope


def _instances(body: dict, scope, what: str):
    """``count`` / ``for_each`` expanded: a list of (address suffix, bound names), or an Unknown / an error."""
    if "count" in body:
        n = hcl.value_of(body["count"], scope)
        if isinstance(n, hcl.Unknown):
            return n
        n = int(hcl.to_number(n))
        return [(f"[{i}]", {"count": {"index": i}}) for i in range(n)]
    if "for_each" in body:
        coll = hcl.value_of(body["for_each"], scope)
        if isinstance(coll, hcl.Unknown):
            return coll
        if isinstance(coll, dict):
            return [(f"[{json.dumps(k)}]", {"each": {"key": k, "value": coll[k]}}) for k in sorted(coll)]
        if isinstance(coll, list):
            if not all(isinstance(x, str) for x in coll):
                raise hcl.HclError(f"{what}: for_each over a set needs strings")
            return [(f"[{json.dumps(k)}]", {"each": {"key": k, "value": k}}) for k in sorted(set(coll))]
        raise hcl.HclError(f"{what}: for_each needs a map or a set of strings, not a {hcl.type_name(coll)}")
    return [("", {})]


def _evaluate_module(mod: _Module, given: dict, overrides: dict, prefix: str, out: Imported, cache: dict,
                     depth: int, root: Path, base: Path | None = None) -> None:
    scope = _module_scope(mod, given, overrides, root, base)
    names: dict[tuple[str, str], Any] = {}  # (type, name) -> the alarm's reference object(s), once known

    configured = {(r[2], r[3]): r[4] for r in mod.resources if r[2] not in _ALARM_TYPES
                  and "count" not in r[4] and "for_each" not in r[4]}

    def resources(rtype, name):
        if (rtype, name) in names:
            return names[(rtype, name)]
        body = configured.get((rtype, name))
        if body is not None:  # an argument the resource's block sets is known at plan time (its value as written)
            return hcl.Configured(f"{rtype}.{name}", body, scope)
        return None
    scope.resources = resources
    metric = [r for r in mod.resources if r[2] == "aws_cloudwatch_metric_alarm"]
    composite = [r for r in mod.resources if r[2] == "aws_cloudwatch_composite_alarm"]
    for group in (metric, composite):  # composites refer to the metric alarms' names
        for f, text, rtype, name, body, line in group:
            addr = f"{prefix}{rtype}.{name}"
            try:
                inst = _instances(body, scope, addr)
            except hcl.HclError as e:
                out.skipped.append({"file": str(f), "line": line, "alarm": addr, "reason": f"count/for_each: {e}"})
                continue
            if isinstance(inst, hcl.Unknown):
                out.blocks.setdefault(f"{f}:{line}", 0)
                field_ = "count" if "count" in body else "for_each"
                out.unresolved.append({"file": str(f), "line": _attr_line(text, line, field_) or line, "alarm": addr,
                                       "field": field_, "expression": inst.expr, "resolve": inst.why})
                out.skipped.append({"file": str(f), "line": line, "alarm": addr,
                                    "reason": f"{field_} unresolved ({inst.expr}): {inst.why}"})
                continue
            out.blocks[f"{f}:{line}"] = out.blocks.get(f"{f}:{line}", 0) + len(inst)
            refs = {}
            for suffix, bound in inst:
                got = _terraform_alarm(f, text, line, name, body, scope.child(**bound), out, rtype,
                                       address=addr + suffix)
                ref = {"alarm_name": got, "id": got, "arn": got} if got else None
                refs[suffix] = ref
            if inst == [("", {})]:
                if refs[""] is not None:
                    names[(rtype, name)] = refs[""]
            elif all(r is not None for r in refs.values()):
                if "count" in body:
                    names[(rtype, name)] = [refs[s] for s, _ in inst]
                else:
                    names[(rtype, name)] = {b["each"]["key"]: refs[s] for s, b in inst}
    for f, line, name, body in mod.calls:
        addr = f"{prefix}module.{name}"
        src = _tf_text(body.get("source"))
        target = None
        if isinstance(src, str) and _local_source(src):
            target = (mod.dir / src).resolve()
        elif isinstance(src, str):
            target = _installed_module(root, prefix, name)
        if target is None or not target.is_dir():
            out.not_expanded.append({"file": str(f), "line": line, "module": addr, "source": src,
                                     "reason": "a registry or git module is not fetched: run `terraform init` and "
                                               "import the folder again (its .terraform/modules are read), or "
                                               "point at a local copy" if target is None else
                                               f"the local module folder {src} does not exist"})
            continue
        if depth >= _MAX_MODULE_DEPTH:
            out.not_expanded.append({"file": str(f), "line": line, "module": addr, "source": src,
                                     "reason": f"modules nested more than {_MAX_MODULE_DEPTH} deep (a cycle?)"})
            continue
        tfs = sorted(p for p in target.glob("*.tf"))
        child = _load_module(target, tfs, cache, out)
        try:
            inst = _instances(body, scope, addr)
        except hcl.HclError as e:
            out.not_expanded.append({"file": str(f), "line": line, "module": addr, "source": src,
                                     "reason": f"count/for_each: {e}"})
            continue
        if isinstance(inst, hcl.Unknown):
            out.not_expanded.append({"file": str(f), "line": line, "module": addr, "source": src,
                                     "reason": f"count/for_each unresolved ({inst.expr}): {inst.why}"})
            continue
        for suffix, bound in inst:
            inner = scope.child(**bound)
            inputs = {}
            for k, v in body.items():
                if k in ("source", "version", "count", "for_each", "providers", "depends_on") or k.startswith("__"):
                    continue
                try:
                    inputs[k] = hcl.value_of(v, inner)
                except hcl.HclError as e:
                    inputs[k] = hcl.Unknown(hcl.text_of(v), f"module input {k} cannot be evaluated: {e}")
            _evaluate_module(child, inputs, overrides, f"{addr}{suffix}.", out, cache, depth + 1, root, base)


def _installed_module(root: Path, prefix: str, name: str) -> Path | None:
    """A registry/git module that ``terraform init`` installed: ``.terraform/modules/modules.json``'s Dir."""
    manifest = root / ".terraform" / "modules" / "modules.json"
    if not manifest.exists():
        return None
    key = ".".join(p for p in re.sub(r"\[[^\]]*\]", "", prefix + "module." + name).split(".")
                   if p and p != "module")
    for m in json.loads(manifest.read_text(encoding="utf-8")).get("Modules", []):
        if m.get("Key") == key and m.get("Dir"):
            return (root / m["Dir"]).resolve()
    return None


def _attr_line(text: str, start: int | None, attr: str) -> int | None:
    """The line of ``attr = ...`` (or ``attr {``) inside the block that starts at line ``start``."""
    if start is None:
        return None
    offset = sum(len(x) + 1 for x in text.split("\n")[:start])  # the block's first line is skipped
    nxt = re.compile(r'^[ \t]*(resource|module|data|variable|locals|output)\b', re.M).search(text, offset)
    m = re.compile(rf"^[ \t]*{re.escape(attr)}[ \t]*(=|\{{)", re.M).search(text, offset, nxt.start() if nxt else len(text))
    return text[:m.start()].count("\n") + 1 if m else None


def _blocks(body: dict, key: str, scope) -> list[tuple[dict, Any]]:
    """Nested blocks named ``key`` with the scope each is evaluated in: written out, or from ``dynamic "key"``
    (its ``for_each`` expanded, its iterator bound). An unknown ``for_each`` raises :class:`hcl.HclError`
    through an Unknown marker."""
    out = []
    written = body.get(key)
    if isinstance(written, list):
        out += [(b, scope) for b in written if isinstance(b, dict)]
    elif isinstance(written, dict):
        out.append((written, scope))
    for dyn in body.get("dynamic", []) or []:
        for label, spec in dyn.items():
            if _tf_text(label) != key or not isinstance(spec, dict):
                continue
            coll = hcl.value_of(spec.get("for_each"), scope)
            if isinstance(coll, hcl.Unknown):
                raise _Unresolved(coll.expr, coll.why)
            it = _tf_text(spec.get("iterator")) if spec.get("iterator") else key
            if isinstance(it, str) and it.startswith("${"):
                it = it[2:-1]
            items = [(k, coll[k]) for k in sorted(coll)] if isinstance(coll, dict) else list(enumerate(coll or []))
            content = spec.get("content") or [{}]
            content = content[0] if isinstance(content, list) else content
            for k, v in items:
                out.append((content, scope.child(**{it: {"key": k, "value": v}})))
    return out


def _terraform_alarm(f: Path, text: str, line, name: str, body: dict, scope, out: Imported,
                     rtype: str = "aws_cloudwatch_metric_alarm", address: str = "") -> str | None:
    """One alarm instance, evaluated; returns its name when it imported (what references to it resolve to)."""
    composite = rtype == "aws_cloudwatch_composite_alarm"
    fields = TF_COMPOSITE_FIELDS if composite else TF_FIELDS
    data, bad = {}, []

    def value(v, fld, arg):
        try:
            got = hcl.value_of(v, scope)
        except hcl.HclError as e:
            bad.append((fld, hcl.text_of(v), _attr_line(text, line, arg) or line, f"not valid Terraform: {e}"))
            return None
        u = hcl.first_unknown(got)
        if u is not None and fld not in ACTIONS:
            bad.append((fld, u.expr, _attr_line(text, line, arg) or line, u.why))
            return None
        return got

    for arg, raw in body.items():
        fld = fields.get(arg)
        if fld is None or arg in ("dimensions",):
            continue
        got = value(raw, fld, arg)
        if got is None:
            continue
        if fld in ACTIONS:
            if isinstance(got, hcl.Unknown):
                bad.append((fld, got.expr, _attr_line(text, line, arg) or line, got.why))
                continue
            acts = []
            # a list inside the list is flattened, as Terraform 0.11's ["${var.actions}"] was
            flat = hcl.FUNCTIONS["flatten"](got) if isinstance(got, list) else [got]
            for a in flat:
                if isinstance(a, hcl.Unknown):
                    bad.append((fld, a.expr, _attr_line(text, line, arg) or line, a.why))
                elif a is not None:
                    acts.append(hcl.to_string(a))
            data[fld] = acts
        else:
            data[fld] = got
    if not composite:
        dims = _dimensions(body, scope, text, line, bad, "Dimensions", "dimensions")
        if dims is not None:
            data["Dimensions"] = dims
        try:
            queries = _blocks(body, "metric_query", scope)
        except _Unresolved as e:
            bad.append(("Metrics", e.expression, _attr_line(text, line, "dynamic") or line, e.why))
            queries = []
        if queries:
            metrics = []
            for i, (q, qscope) in enumerate(queries):
                item = {}
                for arg, raw in q.items():
                    if arg in TF_QUERY_FIELDS:
                        try:
                            v = hcl.value_of(raw, qscope)
                        except hcl.HclError as e:
                            bad.append((f"Metrics.{i}.{arg}", hcl.text_of(raw), line, f"not valid Terraform: {e}"))
                            continue
                        if isinstance(v, hcl.Unknown):
                            bad.append((f"Metrics.{i}.{arg}", v.expr, line, v.why))
                        elif v is not None:
                            item[TF_QUERY_FIELDS[arg]] = v
                try:
                    mets = _blocks(q, "metric", qscope)
                except _Unresolved as e:
                    bad.append((f"Metrics.{i}.metric", e.expression, line, e.why))
                    mets = []
                for met, mscope in mets:
                    stat = {}
                    for arg, raw in met.items():
                        fld = TF_METRIC_FIELDS.get(arg)
                        if fld == "Dimensions":
                            d = _dimensions(met, mscope, text, line, bad, f"Metrics.{i}.metric.dimensions",
                                            "dimensions")
                            if d is not None:
                                stat[fld] = d
                        elif fld:
                            try:
                                v = hcl.value_of(raw, mscope)
                            except hcl.HclError as e:
                                bad.append((f"Metrics.{i}.metric.{arg}", hcl.text_of(raw), line,
                                            f"not valid Terraform: {e}"))
                                continue
                            if isinstance(v, hcl.Unknown):
                                bad.append((f"Metrics.{i}.metric.{arg}", v.expr, line, v.why))
                            elif v is not None:
                                stat[fld] = v
                    item["MetricStat"] = {"Metric": {k: stat[k] for k in ("Namespace", "MetricName", "Dimensions")
                                                     if k in stat},
                                          **{k: stat[k] for k in ("Period", "Stat", "Unit") if k in stat}}
                if isinstance(item.get("ReturnData"), str):
                    item["ReturnData"] = item["ReturnData"].lower() == "true"
                item.setdefault("ReturnData", False)  # Terraform's default (PutMetricAlarm's API default is true)
                metrics.append(item)
            data["Metrics"] = metrics
    for k in list(data):  # Terraform's null means "not set"
        if data[k] is None:
            del data[k]
    for k in ("AlarmName", "AlarmDescription", "Namespace", "MetricName", "Statistic", "ExtendedStatistic",
              "ComparisonOperator", "TreatMissingData", "EvaluateLowSampleCountPercentile", "Unit", "AlarmRule"):
        if k in data and not isinstance(data[k], str):
            try:
                data[k] = hcl.to_string(data[k])
            except hcl.HclError as e:
                bad.append((k, str(data.pop(k)), line, str(e)))
    if "AlarmName" not in data and not any(b[0] == "AlarmName" for b in bad):
        bad.append(("AlarmName", "alarm_name", line, "alarm_name is not set"))
    data.setdefault("AlarmName", address or name)
    n_alarms = len(out.alarms) + len(out.composites)
    if composite:
        _finish_composite(data, bad, str(f), line, out)
    else:
        _finish(data, bad, str(f), line, out)
    imported = len(out.alarms) + len(out.composites) > n_alarms
    if imported:
        out.address[data["AlarmName"]] = address
    return data["AlarmName"] if imported else None


def _dimensions(body: dict, scope, text, line, bad: list, fld: str, arg: str):
    """``dimensions = {...}`` / ``= var.x`` / ``= merge(...)``, or Terraform 0.11's ``dimensions { K = V }`` block."""
    if arg not in body:
        return None
    raw = body[arg]
    at = _attr_line(text, line, arg) or line
    parts = raw if isinstance(raw, list) and all(isinstance(b, dict) for b in raw) else [raw]
    merged: dict = {}
    for part in parts:
        try:
            got = hcl.value_of(part, scope)
        except hcl.HclError as e:
            bad.append((fld, hcl.text_of(part), at, f"not valid Terraform: {e}"))
            return None
        if isinstance(got, hcl.Unknown):
            bad.append((fld, got.expr, at, got.why))
            return None
        if got is None:
            continue
        if not isinstance(got, dict):
            bad.append((fld, hcl.text_of(part), at, f"dimensions is a map of strings, not a {hcl.type_name(got)}"))
            return None
        merged |= got
    dims = []
    for k, v in merged.items():
        if isinstance(v, hcl.Unknown):
            bad.append((fld, v.expr, at, v.why))
            return None
        if v is None:
            continue
        dims.append({"Name": str(k), "Value": hcl.to_string(v)})
    return dims


# ----------------------------------------------------------------------------------------------- both forms
def _record_unresolved(bad: list, file: str, name: str, out: Imported) -> list:
    """Each unresolved field listed (file, line, alarm, field, the expression, what would resolve it); the
    entries as (field, expression, line, why)."""
    rows = [tuple(b) + ("",) * (4 - len(b)) for b in bad]
    for fld, expr, ln, why in rows:
        out.unresolved.append({"file": file, "line": ln, "alarm": name, "field": fld, "expression": expr,
                               **({"resolve": why} if why else {})})
    return rows


def _finish(data: dict, bad: list, file: str, line, out: Imported) -> None:
    name = str(data.get("AlarmName"))
    rows = _record_unresolved(bad, file, name, out)
    needed = [b for b in rows if b[0] not in ACTIONS]
    if needed:
        out.skipped.append({"file": file, "line": line, "alarm": name, "reason": _unresolved_reason(needed)})
        return
    if data.get("ThresholdMetricId"):
        band = next((m.get("Expression") for m in data.get("Metrics") or [] if isinstance(m, dict)
                     and m.get("Id") == data["ThresholdMetricId"]), data["ThresholdMetricId"])
        out.skipped.append({"file": file, "line": line, "alarm": name, "reason": (
            f"an anomaly-detection alarm (ThresholdMetricId {data['ThresholdMetricId']}: {band}): its band is a model "
            "CloudWatch trains on the metric's own history, which cannot be recomputed here, so it is not replayed; "
            "alarm on a threshold or metric math instead, or keep it in CloudWatch")})
        return
    for a in ACTIONS:  # an unresolved action is listed and left out; the others stay
        if a in data and not isinstance(data[a], list):
            data[a] = [data[a]]
    try:
        for k in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
            if k in data and data[k] is not None:
                data[k] = _whole(data[k], k)
        for item in data.get("Metrics") or []:  # numbers and booleans as PutMetricAlarm takes them
            if isinstance(item, dict):
                if item.get("Period") is not None:
                    item["Period"] = _whole(item["Period"], "Metrics.Period")
                if isinstance(item.get("MetricStat"), dict) and item["MetricStat"].get("Period") is not None:
                    item["MetricStat"]["Period"] = _whole(item["MetricStat"]["Period"], "MetricStat.Period")
                if isinstance(item.get("ReturnData"), str):
                    item["ReturnData"] = item["ReturnData"].lower() == "true"
        if "Threshold" in data and data["Threshold"] is not None:
            data["Threshold"] = _number(data["Threshold"], "Threshold")
    except ValueError as e:
        out.skipped.append({"file": file, "line": line, "alarm": name, "reason": f"not a valid alarm: {e}"})
        return
    if isinstance(data.get("ActionsEnabled"), str):
        data["ActionsEnabled"] = data["ActionsEnabled"].lower() == "true"
    try:
        alarm = Alarm.model_validate(data)
    except Exception as e:
        out.skipped.append({"file": file, "line": line, "alarm": name, "reason": f"not a valid alarm: {_why(e, data)}"})
        return
    out.alarms.append(alarm)
    out.origin[alarm.AlarmName] = f"{file}:{line}"
    out.imported_blocks.add(f"{file}:{line}")


def _unresolved_reason(rows) -> str:
    """One line: each field with what it needs (a Terraform reason when there is one, else the generic fix)."""
    parts = [f"{f} ({e}{': ' + why if why else ''})" for f, e, _, why in rows]
    generic = "" if all(r[3] for r in rows) else (": give it in the environment's iac_values (environments.yaml), "
                                                  "with --var NAME=VALUE or a -var-file, or give the parameter/"
                                                  "variable a default")
    return "unresolved " + "; ".join(parts) + generic


def _number(v, what: str) -> float:
    if isinstance(v, bool):
        raise ValueError(f"{what}: {v!r} is not a number")
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{what}: {v!r} is not a number") from None
    if x != x or x in (float("inf"), float("-inf")):
        raise ValueError(f"{what}: {v!r} is not a finite number")
    return x


def _whole(v, what: str) -> int:
    x = _number(v, what)
    if x != int(x):
        raise ValueError(f"{what}: {v!r} is not a whole number")
    return int(x)


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
    rows = _record_unresolved(bad, file, name, out)
    if any(b[0] not in ACTIONS for b in rows):
        out.skipped.append({"file": file, "line": line, "alarm": name, "reason": "unresolved " + ", ".join(
            f"{f} ({e})" for f, e, _, _ in rows if f not in ACTIONS) + ": name the alarms the rule refers to"})
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
    out.imported_blocks.add(f"{file}:{line}")


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
