"""CloudWatch metric math, as alarms use it, and composite alarm rules — evaluated over whole series.

**Metric math** (CloudWatch User Guide, "Using metric math"; the functions an alarm may use): an expression over
the ids of other queries, each fetched at its own period and statistic. Arithmetic ``+ - * / ^`` and unary minus;
comparisons ``== != < <= > >=`` and ``AND``/``&&``, ``OR``/``||``, ``NOT`` giving 1 or 0; numbers; arrays
``[m1, m2]`` and ``METRICS()`` / ``METRICS("text")`` (the metric queries, or those whose id contains ``text``);
functions ``ABS CEIL FLOOR SQRT LOG LOG10 EXP`` (each datapoint), ``IF(condition, a[, b])``,
``FILL(m, value | REPEAT | LINEAR)``, ``DIFF RATE RUNNING_SUM`` (between consecutive datapoints),
``SUM AVG MIN MAX STDDEV`` (over an array: per timestamp; over one series: one number for the whole window, as
CloudWatch returns), ``PERIOD(m)`` and ``DATAPOINT_COUNT(m)``. Series combine on matching timestamps; a datapoint
missing from an input is missing from the result (never zero), and so is a division by zero. Anything else —
``SEARCH`` (its metrics are only known when CloudWatch runs it), ``ANOMALY_DETECTION_BAND`` (an anomaly alarm,
not math), an unknown name — is a :class:`MathError`
naming it and what is supported.

**Composite rules** (PutCompositeAlarm's ``AlarmRule``): ``ALARM(name)``, ``OK(name)``,
``INSUFFICIENT_DATA(name)``, ``TRUE``, ``FALSE``, ``AND``, ``OR``, ``NOT`` and parentheses; names quoted or not
(an ARN's last part is the name). :func:`rule_states` gives the composite's state at each instant: ALARM where
the rule holds, else OK.

One small Pratt parser serves both (precedence, lowest first: OR, AND, NOT, comparisons, ``+ -``, ``* /``,
unary minus, ``^``).
"""

from __future__ import annotations

import re
from typing import Mapping

import numpy as np
import pandas as pd

from .errors import RtAnalyticsError


class MathError(RtAnalyticsError, ValueError):
    """An expression or rule that cannot be evaluated: what, where, and what is supported."""


_TOKEN = re.compile(r"""\s*(?:
    (?P<num>\d+\.\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|\d+(?:[eE][-+]?\d+)?)
   |(?P<str>"(?:[^"\\]|\\.)*")
   |(?P<op>&&|\|\||==|!=|<=|>=|[-+*/^(),<>\[\]])
   |(?P<name>[A-Za-z_][A-Za-z0-9_:./-]*)
)""", re.X)

ELEMENTWISE = {"ABS": np.abs, "CEIL": np.ceil, "FLOOR": np.floor, "SQRT": np.sqrt, "LOG": np.log,
               "LOG10": np.log10, "EXP": np.exp}
REDUCERS = {"SUM": np.nansum, "AVG": np.nanmean, "MIN": np.nanmin, "MAX": np.nanmax, "STDDEV": np.nanstd}
OTHER = ("IF", "FILL", "DIFF", "RATE", "RUNNING_SUM", "PERIOD", "DATAPOINT_COUNT", "METRICS")
SUPPORTED = sorted([*ELEMENTWISE, *REDUCERS, *OTHER])
NOT_FOR_ALARMS = {"SEARCH": "SEARCH is not modelled: the metrics it finds are only known when CloudWatch runs it "
                            "(name the metrics as MetricStat inputs instead)",
                  "ANOMALY_DETECTION_BAND": "an anomaly-detection alarm compares against its band "
                                            "(ThresholdMetricId), not metric math",
                  "INSIGHT_RULE_METRIC": "Contributor Insights rules are not modelled",
                  "LAMBDA": "metric math through a Lambda data source is not modelled"}


def tokenize(text: str, what: str = "expression") -> list[tuple[str, str, int]]:
    out, i = [], 0
    while i < len(text):
        if text[i:].strip() == "":
            break
        m = _TOKEN.match(text, i)
        if not m or m.end() == i:
            raise MathError(f"{what} {text!r}: cannot read {text[i:].strip()[:20]!r} at character {i + 1}")
        kind = m.lastgroup
        val = m.group(kind)
        if kind == "name" and val.upper() in ("AND", "OR", "NOT"):
            kind, val = "op", val.upper()
        out.append((kind, val, m.start(kind)))
        i = m.end()
    out.append(("end", "", len(text)))
    return out


_BINARY = {"OR": 1, "||": 1, "AND": 2, "&&": 2, "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4,
           "+": 5, "-": 5, "*": 6, "/": 6, "^": 8}


class _Parser:
    """Expressions into tuples: ``("num", x)``, ``("str", s)``, ``("id", name)``, ``("call", NAME, args)``,
    ``("array", items)``, ``("neg", e)``, ``("not", e)``, ``("bin", op, a, b)``."""

    def __init__(self, text: str, what: str):
        self.text, self.what = text, what
        self.toks = tokenize(text, what)
        self.i = 0

    def fail(self, msg: str):
        kind, val, pos = self.toks[self.i]
        raise MathError(f"{self.what} {self.text!r}: {msg} at character {pos + 1}"
                        + (f" ({val!r})" if val else " (the end)"))

    def peek(self):
        return self.toks[self.i]

    def take(self, val=None):
        tok = self.toks[self.i]
        if val is not None and tok[1] != val:
            self.fail(f"expected {val!r}")
        self.i += 1
        return tok

    def parse(self):
        e = self.expr(0)
        if self.peek()[0] != "end":
            self.fail("unexpected text")
        return e

    def expr(self, floor: int):
        left = self.prefix()
        while True:
            kind, val, _ = self.peek()
            prec = _BINARY.get(val) if kind == "op" else None
            if prec is None or prec <= floor:
                return left
            self.take()
            # ^ is right-associative; the rest left-associative
            right = self.expr(prec - 1 if val == "^" else prec)
            left = ("bin", {"&&": "AND", "||": "OR"}.get(val, val), left, right)

    def prefix(self):
        kind, val, _ = self.take()
        if kind == "num":
            return ("num", float(val))
        if kind == "str":
            return ("str", val[1:-1].replace('\\"', '"'))
        if kind == "op" and val == "-":
            return ("neg", self.expr(7))
        if kind == "op" and val == "+":
            return self.expr(7)
        if kind == "op" and val == "NOT":
            return ("not", self.expr(3))
        if kind == "op" and val == "(":
            e = self.expr(0)
            self.take(")")
            return e
        if kind == "op" and val == "[":
            items = []
            if self.peek()[1] != "]":
                items.append(self.expr(0))
                while self.peek()[1] == ",":
                    self.take()
                    items.append(self.expr(0))
            self.take("]")
            return ("array", items)
        if kind == "name":
            if self.peek()[1] == "(":
                self.take("(")
                args = []
                if self.peek()[1] != ")":
                    args.append(self.expr(0))
                    while self.peek()[1] == ",":
                        self.take()
                        args.append(self.expr(0))
                self.take(")")
                return ("call", val.upper(), args)
            return ("id", val)
        self.i -= 1
        self.fail("expected a number, an id, a function or '('")


def parse(text: str, what: str = "expression"):
    if not str(text or "").strip():
        raise MathError(f"{what} is empty")
    return _Parser(str(text), what).parse()


def nodes(tree):
    """Every node of a parsed expression, depth first."""
    yield tree
    kids = {"call": lambda n: n[2], "array": lambda n: n[1], "neg": lambda n: [n[1]], "not": lambda n: [n[1]],
            "bin": lambda n: [n[2], n[3]]}.get(tree[0])
    for k in (kids(tree) if kids else []):
        yield from nodes(k)


def referenced(text: str) -> set[str]:
    """The ids an expression names (not function names)."""
    return {n[1] for n in nodes(parse(text)) if n[0] == "id"}


def check(text: str, what: str = "expression") -> None:
    """Parse ``text`` and refuse what an alarm's metric math cannot use (SEARCH, anomaly bands, unknown
    functions), before anything is fetched."""
    for n in nodes(parse(text, what)):
        if n[0] == "call" and n[1] in NOT_FOR_ALARMS:
            raise MathError(f"{what} {text!r}: {n[1]}: {NOT_FOR_ALARMS[n[1]]}")
        if n[0] == "call" and n[1] not in SUPPORTED:
            raise MathError(f"{what} {text!r}: {n[1]} is not a metric math function this evaluator models "
                            f"(supported: {', '.join(SUPPORTED)})")


# ------------------------------------------------------------------------------------------------- evaluation
class _Array(list):
    """Several series (``[m1, m2]``, ``METRICS()``)."""


def _align(a, b):
    if isinstance(a, pd.Series) and isinstance(b, pd.Series):
        return a.align(b, join="outer")
    return a, b


def _truth(x):
    """Nonzero as 1.0, zero as 0.0, missing stays missing."""
    if isinstance(x, pd.Series):
        return x.where(x.isna(), (x != 0).astype(float))
    return float(x != 0) if np.isfinite(x) else np.nan


def _binary(op: str, a, b):
    a, b = _align(a, b)
    with np.errstate(all="ignore"):
        if op in ("AND", "OR"):
            ta, tb = _truth(a), _truth(b)
            return ta * tb if op == "AND" else np.maximum(ta, tb)  # missing stays missing
        if op in ("==", "!=", "<", "<=", ">", ">="):
            f = {"==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal, ">": np.greater,
                 ">=": np.greater_equal}[op]
            res = f(a, b).astype(float)
            missing = pd.isna(a) | pd.isna(b)
            return res.where(~missing) if isinstance(res, pd.Series) else (np.nan if missing else float(res))
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            res = a / b
            if isinstance(res, pd.Series):
                return res.where(np.isfinite(res))  # a division by zero is missing, not infinite
            return res if np.isfinite(res) else np.nan
        if op == "^":
            return a ** b
    raise MathError(f"operator {op!r} is not supported")


class Evaluator:
    """Evaluates expressions over ``series`` (id → a float series on a UTC time index) whose periods are
    ``periods`` (id → seconds); ``metric_ids`` are the ids ``METRICS()`` returns, in order."""

    def __init__(self, series: Mapping[str, pd.Series], periods: Mapping[str, int] | None = None,
                 metric_ids: list[str] | None = None, what: str = "expression"):
        self.series = dict(series)
        self.periods = dict(periods or {})
        self.metric_ids = list(metric_ids if metric_ids is not None else self.series)
        self.what = what

    def __call__(self, text: str) -> pd.Series | float:
        self.text = text
        return self.eval(parse(text, self.what))

    def fail(self, msg: str):
        raise MathError(f"{self.what} {self.text!r}: {msg}")

    def eval(self, n):
        kind = n[0]
        if kind == "num":
            return n[1]
        if kind == "str":
            self.fail(f"a string ({n[1]!r}) is only an argument of METRICS()")
        if kind == "id":
            if n[1] not in self.series:
                up = n[1].upper()
                if up in ("REPEAT", "LINEAR"):
                    self.fail(f"{up} is only FILL's second argument")
                self.fail(f"no query with the id {n[1]!r} (ids: {', '.join(self.series) or 'none'})")
            return self.series[n[1]].astype(float)
        if kind == "array":
            out = _Array()
            for item in n[1]:
                v = self.eval(item)
                out.extend(v if isinstance(v, _Array) else [v])
            return out
        if kind == "neg":
            v = self.eval(n[1])
            return -v
        if kind == "not":
            v = _truth(self.scalar_or_series(n[1]))
            return 1.0 - v
        if kind == "bin":
            a, b = self.scalar_or_series(n[2]), self.scalar_or_series(n[3])
            return _binary(n[1], a, b)
        if kind == "call":
            return self.call(n[1], n[2])
        self.fail(f"cannot evaluate {kind}")

    def scalar_or_series(self, n):
        v = self.eval(n)
        if isinstance(v, _Array):
            if len(v) != 1:
                self.fail("an array of several series cannot be combined with an operator: use SUM, AVG, MIN or "
                          "MAX over it")
            return v[0]
        return v

    def call(self, name: str, args: list):
        if name in NOT_FOR_ALARMS:
            self.fail(f"{name}: {NOT_FOR_ALARMS[name]}")
        if name == "METRICS":
            if len(args) > 1 or (args and args[0][0] != "str"):
                self.fail('METRICS takes nothing or one string: METRICS() or METRICS("errors")')
            sub = args[0][1] if args else ""
            return _Array(self.series[i].astype(float) for i in self.metric_ids if sub in i)
        if name in ELEMENTWISE:
            self.arity(name, args, 1)
            v = self.scalar_or_series(args[0])
            with np.errstate(all="ignore"):
                r = ELEMENTWISE[name](v)
            return r.where(np.isfinite(r)) if isinstance(r, pd.Series) else (r if np.isfinite(r) else np.nan)
        if name in REDUCERS:
            self.arity(name, args, 1)
            v = self.eval(args[0])
            if isinstance(v, _Array):
                if not v:
                    self.fail(f"{name} of an empty array")
                frame = pd.concat(list(v), axis=1)
                r = frame.agg({"SUM": "sum", "AVG": "mean", "MIN": "min", "MAX": "max", "STDDEV": "std"}[name],
                              axis=1, **({"ddof": 0} if name == "STDDEV" else {}))
                return r.where(frame.notna().any(axis=1))  # a timestamp no series has stays missing
            if isinstance(v, pd.Series):
                vals = v.to_numpy(dtype=float)
                if not np.isfinite(vals).any():
                    return np.nan
                return float(REDUCERS[name](vals))
            return float(v)
        if name == "IF":
            if len(args) not in (2, 3):
                self.fail("IF takes a condition, a value when true and optionally a value when false")
            cond = self.scalar_or_series(args[0])
            yes = self.scalar_or_series(args[1])
            no = self.scalar_or_series(args[2]) if len(args) == 3 else np.nan
            if not isinstance(cond, pd.Series):
                return (yes if cond else no) if np.isfinite(cond) else np.nan
            idx = cond.index
            y = yes.reindex(idx) if isinstance(yes, pd.Series) else pd.Series(yes, index=idx)
            f = no.reindex(idx) if isinstance(no, pd.Series) else pd.Series(no, index=idx)
            out = y.where(cond != 0, f)
            return out.where(cond.notna())
        if name == "FILL":
            self.arity(name, args, 2)
            v = self.scalar_or_series(args[0])
            if not isinstance(v, pd.Series):
                self.fail("FILL's first argument is a series")
            how = args[1]
            if how[0] == "id" and how[1].upper() == "REPEAT":
                return v.ffill()
            if how[0] == "id" and how[1].upper() == "LINEAR":
                return v.interpolate(method="time", limit_area="inside")
            fill = self.scalar_or_series(how)
            return v.fillna(fill.reindex(v.index) if isinstance(fill, pd.Series) else fill)
        if name in ("DIFF", "RATE", "RUNNING_SUM"):
            self.arity(name, args, 1)
            v = self.scalar_or_series(args[0])
            if not isinstance(v, pd.Series):
                self.fail(f"{name} takes a series")
            real = v.dropna()
            if name == "RUNNING_SUM":
                return real.cumsum().reindex(v.index)
            d = real.diff()
            if name == "RATE":  # change per second between consecutive datapoints
                d = d / (real.index.to_series().diff().dt.total_seconds())
            return d.reindex(v.index)
        if name == "PERIOD":
            self.arity(name, args, 1)
            if args[0][0] != "id" or args[0][1] not in self.periods:
                self.fail("PERIOD takes the id of a metric query")
            return float(self.periods[args[0][1]])
        if name == "DATAPOINT_COUNT":
            self.arity(name, args, 1)
            v = self.scalar_or_series(args[0])
            return float(v.notna().sum()) if isinstance(v, pd.Series) else 1.0
        self.fail(f"{name} is not a metric math function this evaluator models (supported: "
                  f"{', '.join(SUPPORTED)})")

    def arity(self, name, args, n):
        if len(args) != n:
            self.fail(f"{name} takes {n} argument{'s' if n > 1 else ''}, not {len(args)}")


def evaluate(expression: str, series: Mapping[str, pd.Series], periods: Mapping[str, int] | None = None,
             metric_ids: list[str] | None = None, index: pd.DatetimeIndex | None = None,
             what: str = "expression") -> pd.Series:
    """``expression`` over ``series``, as a series (a number is repeated over ``index``, or the inputs' union)."""
    v = Evaluator(series, periods, metric_ids, what)(expression)
    if isinstance(v, _Array):
        if len(v) != 1:
            raise MathError(f"{what} {expression!r} gives {len(v)} series: an alarm needs one (SUM, AVG, MIN or "
                            "MAX over the array)")
        v = v[0]
    if not isinstance(v, pd.Series):
        if index is None:
            index = pd.DatetimeIndex([], tz="UTC")
            for s in series.values():
                index = index.union(s.index)
        return pd.Series(float(v), index=index, dtype="float64")
    return v.astype("float64") if index is None else v.reindex(index).astype("float64")


# ------------------------------------------------------------------------------------------- composite rules
_STATE_FN = {"ALARM": 2, "OK": 0, "INSUFFICIENT_DATA": 1}


def rule_children(rule: str) -> list[str]:
    """The alarm names a composite rule refers to, in order of first mention."""
    out: list[str] = []

    def walk(n):
        if n[0] == "call":
            name = _rule_name(n, rule)
            if name not in out:
                out.append(name)
        elif n[0] == "not":
            walk(n[1])
        elif n[0] == "bin":
            walk(n[2])
            walk(n[3])
    walk(_parse_rule(rule))
    return out


def _parse_rule(rule: str):
    tree = parse(rule, "AlarmRule")

    def check(n):
        if n[0] == "call":
            if n[1] not in _STATE_FN or len(n[2]) != 1 or n[2][0][0] not in ("id", "str"):
                raise MathError(f"AlarmRule {rule!r}: {n[1]}(...) is not a rule function (ALARM(name), OK(name), "
                                "INSUFFICIENT_DATA(name))")
        elif n[0] == "id":
            if n[1].upper() not in ("TRUE", "FALSE"):
                raise MathError(f"AlarmRule {rule!r}: {n[1]!r} is neither TRUE, FALSE nor a state function "
                                f"(ALARM({n[1]}) ?)")
        elif n[0] == "not":
            check(n[1])
        elif n[0] == "bin":
            if n[1] not in ("AND", "OR"):
                raise MathError(f"AlarmRule {rule!r}: {n[1]!r} is not AND, OR or NOT")
            check(n[2])
            check(n[3])
        else:
            raise MathError(f"AlarmRule {rule!r}: a rule combines ALARM(), OK(), INSUFFICIENT_DATA(), TRUE and "
                            "FALSE with AND, OR and NOT")
    check(tree)
    return tree


def _rule_name(n, rule) -> str:
    name = n[2][0][1]
    return name.rsplit(":alarm:", 1)[-1]  # an ARN's last part is the alarm's name


def rule_states(rule: str, states: Mapping[str, np.ndarray]) -> np.ndarray:
    """The composite alarm's state code at each instant (2 ALARM where the rule holds, else 0 OK) from its
    children's state codes on a common clock (0 OK, 1 INSUFFICIENT_DATA, 2 ALARM). A child with no states is
    a :class:`MathError` naming it."""
    tree = _parse_rule(rule)
    size = len(next(iter(states.values()))) if states else 0

    def ev(n) -> np.ndarray:
        if n[0] == "call":
            name = _rule_name(n, rule)
            if name not in states:
                raise MathError(f"AlarmRule {rule!r}: no alarm named {name!r} among those replayed "
                                f"({', '.join(states) or 'none'})")
            return np.asarray(states[name]) == _STATE_FN[n[1]]
        if n[0] == "id":
            return np.full(size, n[1].upper() == "TRUE")
        if n[0] == "not":
            return ~ev(n[1])
        a, b = ev(n[2]), ev(n[3])
        return (a & b) if n[1] == "AND" else (a | b)
    return np.where(ev(tree), np.int8(2), np.int8(0))
