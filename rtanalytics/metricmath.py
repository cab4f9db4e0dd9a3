"""CloudWatch metric math, as the CloudWatch User Guide ("Using metric math") defines it, and composite alarm
rules — evaluated over whole series.

Every statement of that page is a test case (``tests/test_metricmath_userguide.py`` quotes each sentence):

* **Values** are a scalar (S), a time series (TS) or an array of time series (TS[]). ``METRICS()`` /
  ``METRICS("text")`` are the metric queries (not the expressions), or those whose Id contains ``text``;
  ``[a, b]`` builds an array (arrays inside flatten).
* **Arithmetic** ``+ - * / ^`` on S S, TS TS, TS S, TS[] TS and TS[] S, unary minus on S, TS and TS[]. "Missing values
  in a time series are treated as 0": where one series of a pair has a datapoint and the other has none, the
  other counts as 0; a timestamp neither has stays missing. "If the value of a data point causes a function to
  attempt to divide by zero, the data point is dropped."
* **Comparisons** ``== != < <= > >=`` and logical ``AND``/``&&``, ``OR``/``||`` give 0 or 1 per datapoint (a scalar
  for two scalars); "only one of the time series has a value ... the missing value ... as 0".
* **Functions** (written in upper case; a lower-case or mixed-case name is refused, as CloudWatch refuses it):
  ``ABS CEIL FLOOR LOG LOG10`` per datapoint; ``AVG MAX MIN STDDEV SUM`` of one TS give a scalar, of a TS[] a TS
  per timestamp (AVG and SUM count a missing value as 0, as the page says for AVG; MIN, MAX and STDDEV — where
  the page is silent — skip it); ``DATAPOINT_COUNT`` (S of a TS, per-timestamp count of a TS[]); ``DIFF``,
  ``DIFF_TIME``, ``RATE``, ``RUNNING_SUM`` between consecutive datapoints; ``FILL(x, S | TS | REPEAT | LINEAR)``;
  ``FIRST``/``LAST``, ``SORT(x, AVG|MIN|MAX|SUM, ASC|DESC[, limit])``, ``SLICE(x, start[, end])``,
  ``REMOVE_EMPTY``, ``METRIC_COUNT`` over arrays; ``IF`` with the page's rules for a missing condition, a missing
  true value (0) and a missing or omitted false value (dropped); ``MINUTE HOUR DAY DATE MONTH YEAR EPOCH`` and
  ``TIME_SERIES`` as non-sparse series on the query's grid; ``PERIOD`` of a metric (not of an expression).
* **Refused by name, with the reason**: ``SEARCH`` (an alarm cannot watch a search), ``ANOMALY_DETECTION_BAND`` (an
  anomaly-detection alarm, not math), ``INSIGHT_RULE_METRIC``, ``SERVICE_QUOTA``, ``LAMBDA``,
  ``DB_PERF_INSIGHTS`` (data this evaluator has not got); a final result that is a single number ("The final
  result of any math expression must be a single time series or an array of time series"); an Id that does not
  start with a lower-case letter.

**Composite rules** (PutCompositeAlarm's ``AlarmRule``): ``ALARM(name)``, ``OK(name)``,
``INSUFFICIENT_DATA(name)``, ``TRUE``, ``FALSE``, ``AND``, ``OR``, ``NOT`` and parentheses; names quoted or not
(an ARN's last part is the name). :func:`rule_states` gives the composite's state at each instant: ALARM where
the rule holds, else OK.

One small Pratt parser serves both (precedence, lowest first: OR, AND, NOT, comparisons, ``+ -``, ``* /``,
unary minus, ``^``); in metric math a name is letters, digits and ``_`` (so ``m1-AVG(m1)`` is a subtraction), in a
rule it may hold the characters of alarm names and ARNs.
"""

from __future__ import annotations

import re
from typing import Mapping

import numpy as np
import pandas as pd

from .errors import RtAnalyticsError


class MathError(RtAnalyticsError, ValueError):
    """An expression or rule that cannot be evaluated: what, where, and what is supported."""


_NUM = r"\d+\.\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|\d+(?:[eE][-+]?\d+)?"
_STR = r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'"""
_OPS = r"&&|\|\||==|!=|<=|>=|[-+*/^(),<>\[\]]"
#: metric math: an Id or a function name is letters, digits and underscores ("m1-AVG(m1)" is a subtraction);
#: a composite rule's alarm name may hold the characters of alarm names and ARNs
_TOKEN = {mode: re.compile(rf"""\s*(?:(?P<num>{_NUM})|(?P<str>{_STR})|(?P<op>{_OPS})|(?P<name>{name}))""")
          for mode, name in (("math", r"[A-Za-z_][A-Za-z0-9_]*"), ("rule", r"[A-Za-z_][A-Za-z0-9_:./-]*"))}
_ID = re.compile(r"^[a-z][A-Za-z0-9_]*$")

ELEMENTWISE = {"ABS": np.abs, "CEIL": np.ceil, "FLOOR": np.floor, "LOG": np.log, "LOG10": np.log10}
REDUCERS = ("AVG", "MAX", "MIN", "STDDEV", "SUM")
CONSECUTIVE = ("DIFF", "DIFF_TIME", "RATE", "RUNNING_SUM")
CALENDAR = {"MINUTE": lambda i: i.minute, "HOUR": lambda i: i.hour, "DAY": lambda i: i.day_of_week + 1,
            "DATE": lambda i: i.day, "MONTH": lambda i: i.month, "YEAR": lambda i: i.year,
            "EPOCH": lambda i: (i - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)}
ARRAYS = ("FIRST", "LAST", "SORT", "SLICE", "REMOVE_EMPTY", "METRIC_COUNT", "METRICS")
OTHER = ("IF", "FILL", "PERIOD", "DATAPOINT_COUNT", "TIME_SERIES")
SUPPORTED = sorted([*ELEMENTWISE, *REDUCERS, *CONSECUTIVE, *CALENDAR, *ARRAYS, *OTHER])
#: functions the User Guide lists that this evaluator refuses by name, with the reason
REFUSED = {
    "SEARCH": "an alarm cannot watch a SEARCH expression (the User Guide: \"You can't create an alarm based on a "
              "SEARCH expression\"); name the metrics as MetricStat inputs instead",
    "ANOMALY_DETECTION_BAND": "an anomaly-detection alarm compares against its band (ThresholdMetricId); the band "
                              "is a model CloudWatch trains on its own history, not math over the inputs",
    "INSIGHT_RULE_METRIC": "Contributor Insights rules are not read by this tool",
    "SERVICE_QUOTA": "service quotas are not read by metric math here (the capacity report reads them)",
    "LAMBDA": "metric math through a Lambda data source runs code this tool cannot run",
    "DB_PERF_INSIGHTS": "Performance Insights counters are not read by this tool",
}
NOT_FOR_ALARMS = REFUSED  # the former name
KEYWORDS = {"REPEAT", "LINEAR", "ASC", "DESC", *REDUCERS}


def tokenize(text: str, what: str = "expression", mode: str = "math") -> list[tuple[str, str, int]]:
    out, i, rx = [], 0, _TOKEN[mode]
    while i < len(text):
        if text[i:].strip() == "":
            break
        m = rx.match(text, i)
        if not m or m.end() == i:
            raise MathError(f"{what} {text!r}: cannot read {text[i:].strip()[:20]!r} at character {i + 1}")
        kind = m.lastgroup
        val, start = m.group(kind), m.start(kind)
        if kind == "name" and (val in ("AND", "OR", "NOT") if mode == "math" else val.upper() in ("AND", "OR", "NOT")):
            kind, val = "op", val.upper()
        out.append((kind, val, start))
        i = m.end()
    out.append(("end", "", len(text)))
    return out


_BINARY = {"OR": 1, "||": 1, "AND": 2, "&&": 2, "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4,
           "+": 5, "-": 5, "*": 6, "/": 6, "^": 8}


class _Parser:
    """Expressions into tuples: ``("num", x)``, ``("str", s)``, ``("id", name)``, ``("kw", NAME)`` (a bare upper-case
    word: REPEAT, LINEAR, ASC, DESC, AVG as SORT's argument), ``("call", NAME, args)``, ``("array", items)``,
    ``("neg", e)``, ``("not", e)``, ``("bin", op, a, b)``."""

    def __init__(self, text: str, what: str, mode: str = "math"):
        self.text, self.what, self.mode = text, what, mode
        self.toks = tokenize(text, what, mode)
        self.i = 0

    def fail(self, msg: str, at: int | None = None):
        kind, val, pos = self.toks[self.i if at is None else at]
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

    def items(self, close: str) -> list:
        out = []
        if self.peek()[1] != close:
            out.append(self.expr(0))
            while self.peek()[1] == ",":
                self.take()
                out.append(self.expr(0))
        self.take(close)
        return out

    def prefix(self):
        at = self.i
        kind, val, _ = self.take()
        if kind == "num":
            return ("num", float(val))
        if kind == "str":
            q = val[0]
            return ("str", val[1:-1].replace("\\" + q, q))
        if kind == "op" and val == "-":
            return ("neg", self.expr(7))
        if kind == "op" and val == "+":
            return self.expr(7)
        if kind == "op" and val == "NOT":
            if self.mode == "math":
                self.fail("NOT is not a metric math operator (the User Guide lists AND, &&, OR, ||): write the "
                          "condition as a comparison, e.g. m1 == 0", at)
            return ("not", self.expr(3))
        if kind == "op" and val == "(":
            e = self.expr(0)
            self.take(")")
            return e
        if kind == "op" and val == "[":
            return ("array", self.items("]"))
        if kind == "name":
            if self.peek()[1] == "(":
                if self.mode == "math" and val != val.upper():
                    self.fail(f"functions are written in upper case ({val.upper()}): \"All functions must be "
                              "written in uppercase letters\"", at)
                self.take("(")
                return ("call", val.upper(), self.items(")"))
            if self.mode == "math":
                if val in KEYWORDS:
                    return ("kw", val)
                if val.lower() in ("and", "or", "not"):
                    self.fail(f"write {val.upper()} in upper case", at)
                if not _ID.match(val):
                    self.fail("an Id starts with a lower-case letter and holds letters, digits and underscores "
                              "(\"must start with a lowercase letter\")", at)
            return ("id", val)
        self.i -= 1
        self.fail("expected a number, an id, a function or '('")


def parse(text: str, what: str = "expression", mode: str = "math"):
    if not str(text or "").strip():
        raise MathError(f"{what} is empty")
    return _Parser(str(text), what, mode).parse()


def nodes(tree):
    """Every node of a parsed expression, depth first."""
    yield tree
    kids = {"call": lambda n: n[2], "array": lambda n: n[1], "neg": lambda n: [n[1]], "not": lambda n: [n[1]],
            "bin": lambda n: [n[2], n[3]]}.get(tree[0])
    for k in (kids(tree) if kids else []):
        yield from nodes(k)


def referenced(text: str) -> set[str]:
    """The ids an expression names (not function names, nor keywords such as REPEAT)."""
    return {n[1] for n in nodes(parse(text)) if n[0] == "id"}


def check(text: str, what: str = "expression") -> None:
    """Parse ``text`` and refuse what CloudWatch's metric math refuses or this evaluator cannot compute (named
    functions with their reason, unknown functions), before anything is fetched."""
    for n in nodes(parse(text, what)):
        if n[0] == "call" and n[1] in REFUSED:
            raise MathError(f"{what} {text!r}: {n[1]} is not supported: {REFUSED[n[1]]}")
        if n[0] == "call" and n[1] not in SUPPORTED:
            raise MathError(f"{what} {text!r}: {n[1]} is not a CloudWatch metric math function (the User Guide "
                            f"lists: {', '.join(SUPPORTED + sorted(REFUSED))})")


# ------------------------------------------------------------------------------------------------- evaluation
class _Array(list):
    """Several series (``[m1, m2]``, ``METRICS()``)."""


def _finite(x):
    """Non-finite results (a division by zero, LOG of 0) are dropped: missing, never infinite."""
    if isinstance(x, pd.Series):
        return x.where(np.isfinite(x))
    return float(x) if np.isfinite(x) else np.nan


def _truth(x):
    """Nonzero as 1.0, zero as 0.0, missing stays missing."""
    if isinstance(x, pd.Series):
        return x.where(x.isna(), (x != 0).astype(float))
    return float(x != 0) if np.isfinite(x) else np.nan


_CMP = {"==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal, ">": np.greater,
        ">=": np.greater_equal}


def _apply(op: str, a, b):
    """``a op b`` for two numbers, or two aligned series with no missing value, or a series and a number."""
    with np.errstate(all="ignore"):
        if op in ("AND", "OR"):
            ta, tb = _truth(a), _truth(b)
            return ta * tb if op == "AND" else np.maximum(ta, tb)
        if op in _CMP:
            res = _CMP[op](a, b)
            if isinstance(res, pd.Series):
                return res.astype(float).where(~(pd.isna(a) | pd.isna(b)))
            return np.nan if (pd.isna(a) or pd.isna(b)) else float(res)
        if op == "/":
            # "If the value of a data point causes a function to attempt to divide by zero, the data point is dropped"
            return _finite(a / b)
        if op in ("+", "-", "*", "^"):
            return _finite({"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "^": lambda: a ** b}[op]())
    raise MathError(f"operator {op!r} is not supported")


def _pair(op: str, a, b):
    """Two time series: "Missing values in a time series are treated as 0" where the other has a datapoint; a
    timestamp neither has stays missing."""
    if isinstance(a, pd.Series) and isinstance(b, pd.Series):
        a, b = a.align(b, join="outer")
        neither = a.isna() & b.isna()
        return _apply(op, a.fillna(0.0), b.fillna(0.0)).where(~neither)
    return _apply(op, a, b)


class Evaluator:
    """Evaluates expressions over ``series`` (id → a float series on a UTC time index) whose periods are
    ``periods`` (id → seconds); ``metric_ids`` are the metric queries (what ``METRICS()`` returns, in order, and
    what ``PERIOD`` accepts); ``index`` is the query's grid (non-sparse results: ``TIME_SERIES``, ``HOUR`` …,
    ``FILL``), the inputs' union when not given."""

    def __init__(self, series: Mapping[str, pd.Series], periods: Mapping[str, int] | None = None,
                 metric_ids: list[str] | None = None, what: str = "expression",
                 index: pd.DatetimeIndex | None = None):
        self.series = dict(series)
        self.periods = dict(periods or {})
        self.metric_ids = list(metric_ids if metric_ids is not None else self.series)
        self.what = what
        if index is None:
            index = pd.DatetimeIndex([], tz="UTC")
            for s in self.series.values():
                index = index.union(s.index)
        self.index = index

    def __call__(self, text: str) -> pd.Series | float | list:
        self.text = text
        return self.eval(parse(text, self.what))

    def fail(self, msg: str):
        raise MathError(f"{self.what} {self.text!r}: {msg}")

    # ---- values
    def eval(self, n):
        kind = n[0]
        if kind == "num":
            return n[1]
        if kind == "str":
            self.fail(f"a string ({n[1]!r}) is only an argument of METRICS()")
        if kind == "kw":
            self.fail(f"{n[1]} is only an argument of FILL (REPEAT, LINEAR) or SORT (AVG, MIN, MAX, SUM, ASC, DESC)")
        if kind == "id":
            if n[1] not in self.series:
                self.fail(f"no query with the id {n[1]!r} (ids: {', '.join(self.series) or 'none'})")
            return self.series[n[1]].astype(float)
        if kind == "array":
            out = _Array()
            for item in n[1]:
                v = self.eval(item)
                if not isinstance(v, (pd.Series, _Array)):
                    self.fail("an array holds time series, not numbers")
                out.extend(v if isinstance(v, _Array) else [v])
            return out
        if kind == "neg":
            return self.map(self.eval(n[1]), lambda v: -v)
        if kind == "bin":
            return self.binary(n[1], self.eval(n[2]), self.eval(n[3]))
        if kind == "call":
            return self.call(n[1], n[2])
        self.fail(f"cannot evaluate {kind}")

    @staticmethod
    def map(v, fn):
        """``fn`` over a number, a series, or each series of an array."""
        return _Array(fn(s) for s in v) if isinstance(v, _Array) else fn(v)

    def one(self, v, what: str):
        """An array of one series is that series; of several, an error."""
        if isinstance(v, _Array):
            if len(v) != 1:
                self.fail(f"{what} takes one time series, not an array of {len(v)}")
            return v[0]
        return v

    def binary(self, op: str, a, b):
        if isinstance(a, _Array) and isinstance(b, _Array):
            if len(a) == 1 or len(b) == 1:
                return self.binary(op, self.one(a, op) if len(a) == 1 else a, self.one(b, op) if len(b) == 1 else b)
            self.fail(f"{op} between two arrays of time series ({len(a)} and {len(b)}): CloudWatch combines an "
                      "array with a single time series or a number (SUM, AVG, MIN or MAX make one of an array)")
        if isinstance(a, _Array):
            return _Array(_pair(op, s, b) for s in a)
        if isinstance(b, _Array):
            return _Array(_pair(op, a, s) for s in b)
        return _pair(op, a, b)

    def grid(self, s: pd.Series) -> pd.Series:
        return s.reindex(self.index.union(s.index)) if len(self.index) else s

    # ---- functions
    def call(self, name: str, args: list):
        if name in REFUSED:
            self.fail(f"{name} is not supported: {REFUSED[name]}")
        fn = getattr(self, f"f_{name}", None)
        if name in ELEMENTWISE:
            self.arity(name, args, 1)
            def elementwise(v):
                with np.errstate(all="ignore"):
                    return _finite(ELEMENTWISE[name](v))
            return self.map(self.eval(args[0]), elementwise)
        if name in REDUCERS:
            self.arity(name, args, 1)
            return self.reduce(name, self.eval(args[0]))
        if name in CONSECUTIVE:
            self.arity(name, args, 1)
            return self.map(self.series_arg(args[0], name), lambda s: self.consecutive(name, s))
        if name in CALENDAR:
            self.arity(name, args, 1)
            v = self.one(self.series_arg(args[0], name), name)
            idx = self.grid(v).index
            return pd.Series(np.asarray(CALENDAR[name](idx), dtype="float64"), index=idx)
        if fn is None:
            self.fail(f"{name} is not a CloudWatch metric math function (the User Guide lists: "
                      f"{', '.join(SUPPORTED + sorted(REFUSED))})")
        return fn(args)

    def arity(self, name, args, n, most: int | None = None):
        most = n if most is None else most
        if not n <= len(args) <= most:
            want = f"{n}" if n == most else f"{n} to {most}"
            self.fail(f"{name} takes {want} argument{'s' if most > 1 else ''}, not {len(args)}")

    def series_arg(self, n, name):
        v = self.eval(n)
        if not isinstance(v, (pd.Series, _Array)):
            self.fail(f"{name} takes a time series or an array of them, not a number")
        return v

    def array_arg(self, n, name) -> _Array:
        v = self.eval(n)
        if isinstance(v, pd.Series):
            return _Array([v])
        if not isinstance(v, _Array):
            self.fail(f"{name} takes an array of time series")
        return v

    @staticmethod
    def scalar_of(name: str, s: pd.Series) -> float:
        vals = s.to_numpy(dtype=float)
        vals = vals[np.isfinite(vals)]
        if not vals.size:
            return np.nan
        return float({"SUM": np.sum, "AVG": np.mean, "MIN": np.min, "MAX": np.max,
                      "STDDEV": np.std}[name](vals))

    def reduce(self, name: str, v):
        if isinstance(v, _Array):
            if not v:
                self.fail(f"{name} of an empty array")
            frame = pd.concat(list(v), axis=1)
            anyv = frame.notna().any(axis=1)
            if name in ("SUM", "AVG"):  # "Missing values are treated as 0"
                r = frame.fillna(0.0).agg("sum" if name == "SUM" else "mean", axis=1)
            else:
                r = frame.agg({"MIN": "min", "MAX": "max", "STDDEV": "std"}[name], axis=1,
                              **({"ddof": 0} if name == "STDDEV" else {}))
            return r.where(anyv)  # a timestamp no series has stays missing
        if isinstance(v, pd.Series):
            return self.scalar_of(name, v)
        return float(v)

    @staticmethod
    def consecutive(name: str, s: pd.Series) -> pd.Series:
        real = s.dropna()
        if name == "RUNNING_SUM":
            return real.cumsum().reindex(s.index)
        dt = real.index.to_series().diff().dt.total_seconds()
        if name == "DIFF_TIME":
            return dt.reindex(s.index)
        d = real.diff()
        if name == "RATE":  # change per second between consecutive datapoints
            d = d / dt
        return d.reindex(s.index)

    def f_METRICS(self, args):
        if len(args) > 1 or (args and args[0][0] != "str"):
            self.fail('METRICS takes nothing or one string: METRICS() or METRICS("errors")')
        sub = args[0][1] if args else ""
        return _Array(self.series[i].astype(float) for i in self.metric_ids if sub in i and i in self.series)

    def f_IF(self, args):
        self.arity("IF", args, 2, 3)
        cond = self.one(self.eval(args[0]), "IF's condition")
        yes = self.one(self.eval(args[1]), "IF's true value")
        no = self.one(self.eval(args[2]), "IF's false value") if len(args) == 3 else None
        if not isinstance(cond, pd.Series):
            if isinstance(yes, pd.Series) or isinstance(no, pd.Series):
                # IF(scalar1, metric2, metric3): metric2 when true, metric3 when false, empty when it is omitted
                pick = yes if (np.isfinite(cond) and cond != 0) else no
                if pick is None:
                    return pd.Series(dtype="float64", index=pd.DatetimeIndex([], tz="UTC"))
                return pick if isinstance(pick, pd.Series) else pd.Series(float(pick), index=self.index)
            if not np.isfinite(cond):
                return np.nan
            return float(yes) if cond != 0 else (np.nan if no is None else float(no))
        idx = cond.index
        # true: the true value, "the value of 0" where that series has no datapoint
        y = yes.reindex(idx).fillna(0.0) if isinstance(yes, pd.Series) else pd.Series(float(yes), index=idx)
        # false: the false value; dropped where it has no datapoint or is omitted
        f = (no.reindex(idx) if isinstance(no, pd.Series) else pd.Series(np.nan if no is None else float(no),
                                                                         index=idx))
        return y.where(cond != 0, f).where(cond.notna())  # a missing condition drops the datapoint

    def f_FILL(self, args):
        self.arity("FILL", args, 2)
        v = self.series_arg(args[0], "FILL")
        how = args[1]

        def fill(s):
            s = self.grid(s)
            if how[0] == "kw" and how[1] == "REPEAT":
                return s.ffill()
            if how[0] == "kw" and how[1] == "LINEAR":
                return s.interpolate(method="time", limit_area="inside")
            filler = self.one(self.eval(how), "FILL's value")
            return s.fillna(self.grid(filler).reindex(s.index) if isinstance(filler, pd.Series) else filler)
        if how[0] == "kw" and how[1] not in ("REPEAT", "LINEAR"):
            self.fail(f"FILL fills with a number, a time series, REPEAT or LINEAR, not {how[1]}")
        return self.map(v, fill)

    def f_PERIOD(self, args):
        self.arity("PERIOD", args, 1)
        if args[0][0] != "id" or args[0][1] not in self.metric_ids or args[0][1] not in self.periods:
            self.fail("PERIOD takes the Id of a metric (\"Valid input is metrics, not the results of other "
                      "expressions\")")
        return float(self.periods[args[0][1]])

    def f_DATAPOINT_COUNT(self, args):
        self.arity("DATAPOINT_COUNT", args, 1)
        v = self.series_arg(args[0], "DATAPOINT_COUNT")
        if isinstance(v, _Array):  # TS[] -> TS: how many of the series have a datapoint at each timestamp
            frame = pd.concat(list(v), axis=1)
            return frame.notna().sum(axis=1).astype(float).where(frame.notna().any(axis=1))
        return float(v.notna().sum())

    def f_TIME_SERIES(self, args):
        self.arity("TIME_SERIES", args, 1)
        v = self.eval(args[0])
        if not isinstance(v, float):
            self.fail("TIME_SERIES takes a number (TIME_SERIES(MAX(m1)), TIME_SERIES(10))")
        return pd.Series(v, index=self.index, dtype="float64")

    def f_METRIC_COUNT(self, args):
        self.arity("METRIC_COUNT", args, 1)
        return float(len(self.array_arg(args[0], "METRIC_COUNT")))

    def f_FIRST(self, args, last: bool = False):
        self.arity("LAST" if last else "FIRST", args, 1)
        arr = self.array_arg(args[0], "LAST" if last else "FIRST")
        if not arr:
            self.fail(f"{'LAST' if last else 'FIRST'} of an empty array")
        return arr[-1] if last else arr[0]

    def f_LAST(self, args):
        return self.f_FIRST(args, last=True)

    def f_REMOVE_EMPTY(self, args):
        self.arity("REMOVE_EMPTY", args, 1)
        return _Array(s for s in self.array_arg(args[0], "REMOVE_EMPTY") if s.notna().any())

    def f_SORT(self, args):
        self.arity("SORT", args, 3, 4)
        arr = self.array_arg(args[0], "SORT")
        fn, order = args[1], args[2]
        if fn[0] != "kw" or fn[1] not in ("AVG", "MIN", "MAX", "SUM"):
            self.fail("SORT's second argument is AVG, MIN, MAX or SUM")
        if order[0] != "kw" or order[1] not in ("ASC", "DESC"):
            self.fail("SORT's third argument is ASC or DESC")
        keys = [self.scalar_of(fn[1], s) for s in arr]
        ranked = sorted(range(len(arr)), key=lambda i: (np.isnan(keys[i]),
                                                        keys[i] if order[1] == "ASC" else -keys[i]))
        out = _Array(arr[i] for i in ranked)
        if len(args) == 4:
            limit = self.eval(args[3])
            if not isinstance(limit, float) or limit < 0 or limit != int(limit):
                self.fail("SORT's limit is a whole number")
            out = _Array(out[:int(limit)])
        return out

    def f_SLICE(self, args):
        self.arity("SLICE", args, 2, 3)
        arr = self.array_arg(args[0], "SLICE")
        bounds = [self.eval(a) for a in args[1:]]
        if any(not isinstance(b, float) or b != int(b) for b in bounds):
            self.fail("SLICE's start and end are whole numbers")
        start = int(bounds[0])
        end = int(bounds[1]) if len(bounds) == 2 else None
        return _Array(arr[start:end])


def evaluate(expression: str, series: Mapping[str, pd.Series], periods: Mapping[str, int] | None = None,
             metric_ids: list[str] | None = None, index: pd.DatetimeIndex | None = None,
             what: str = "expression") -> pd.Series:
    """``expression`` over ``series``, as one time series on ``index`` (the inputs' union when not given).

    "The final result of any math expression must be a single time series or an array of time series": a
    single number is refused (``TIME_SERIES(...)`` makes a series of one), and so is an array of several, since
    an alarm watches one."""
    v = Evaluator(series, periods, metric_ids, what, index)(expression)
    if isinstance(v, _Array):
        if len(v) != 1:
            raise MathError(f"{what} {expression!r} gives {len(v)} time series: an alarm watches one (SUM, AVG, "
                            "MIN or MAX over the array, or FIRST/LAST)")
        v = v[0]
    if not isinstance(v, pd.Series):
        raise MathError(f"{what} {expression!r} gives a single number, not a time series (\"The final result of "
                        "any math expression must be a single time series or an array of time series\"): use it "
                        "inside an expression over a metric, or TIME_SERIES(...)")
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
    tree = parse(rule, "AlarmRule", mode="rule")

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
