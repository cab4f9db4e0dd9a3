"""Logs: the seed's winston JSON parsed into fields, CloudWatch filter patterns, and the demo's log lines.

The seed's ``productionLogger`` writes one JSON object per line::

    {"level": "error", "message": "Application Error", "service": "realtechee", "environment": "production",
     "version": "2.4.7", "timestamp": "...", "category": "error",
     "error": {"name": "TypeError", "message": "...", "stack": "..."}, "context": {...}}

:func:`parse_winston` flattens such lines into columns (``error.name``, ``error.message``, ...); a line that is
not JSON is kept with ``parse_error`` set, never dropped silently and never fatal.
"""

from __future__ import annotations

import json
import re
import zlib

import numpy as np
import pandas as pd

from .errors import ParameterError, SourceError
from .frames import LOG_COLUMNS, empty_logs
from .timewindow import TimeWindow

WINSTON_FIELDS = ["service", "environment", "version", "category", "event", "error.name", "error.message"]
LOG_SUFFIXES = {"": "application (all JSON events)", "/application": "application events",
                "/errors": "error-level events", "/business": "business events", "/audit": "security events",
                "/access": "access log (Combined Log Format)"}


def parse_winston(messages: pd.Series) -> pd.DataFrame:
    """Flatten winston JSON lines into the logs frame's structured columns.

    Returns a frame aligned with ``messages`` holding ``level`` (from the JSON when present), the
    :data:`WINSTON_FIELDS` and ``parse_error`` (True where the line was not a JSON object).
    """
    recs, bad = [], []
    for m in messages.astype(str):
        try:
            obj = json.loads(m)
            ok = isinstance(obj, dict)
        except ValueError:
            obj, ok = None, False
        recs.append(obj if ok else {})
        bad.append(not ok)
    flat = pd.json_normalize(recs) if recs else pd.DataFrame()
    flat.index = messages.index
    out = pd.DataFrame(index=messages.index)
    out["json_level"] = flat["level"] if "level" in flat else None
    for f in WINSTON_FIELDS:
        out[f] = flat[f] if f in flat else None
    out["parse_error"] = bad
    return out


# ------------------------------------------------------------------------------------------- filter patterns
_JSON_RE = re.compile(r'^\{\s*(.+?)\s*\}$')
_COND_RE = re.compile(r'^\$\.([\w.\[\]]+)\s*(=|!=|>=|<=|>|<)\s*(".*?"|[^\s&|]+)$')


def filter_mask(messages: pd.Series, pattern: str | None) -> np.ndarray:
    """Rows of ``messages`` matching a CloudWatch Logs filter pattern.

    Supported: empty (everything); terms (all must appear, case-sensitive), ``"quoted phrases"``,
    ``?term ?term`` (any), ``-term`` (exclude); JSON patterns ``{ $.field = "value" }`` with ``=, !=, <, <=,
    >, >=``, ``*`` wildcards in string values, and ``&&`` / ``||`` (no parentheses). Anything else raises
    :class:`~rtanalytics.errors.ParameterError` rather than matching everything.
    See https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
    """
    if pattern is None or not pattern.strip():
        return np.ones(len(messages), dtype=bool)
    p = pattern.strip()
    m = _JSON_RE.fullmatch(p)
    if m:
        return _json_mask(messages, m.group(1), pattern)
    tokens = re.findall(r'-?\?"[^"]*"|-?"[^"]*"|\S+', p)
    s = messages.astype(str)
    any_terms = [t[1:].strip('"') for t in tokens if t.startswith("?")]
    all_terms = [t.strip('"') for t in tokens if not t.startswith(("?", "-"))]
    not_terms = [t[1:].strip('"') for t in tokens if t.startswith("-")]
    mask = np.ones(len(s), dtype=bool)
    for t in all_terms:
        mask &= s.str.contains(t, regex=False).to_numpy()
    if any_terms:
        anym = np.zeros(len(s), dtype=bool)
        for t in any_terms:
            anym |= s.str.contains(t, regex=False).to_numpy()
        mask &= anym
    for t in not_terms:
        mask &= ~s.str.contains(t, regex=False).to_numpy()
    return mask


def _json_mask(messages: pd.Series, body: str, pattern: str) -> np.ndarray:
    if "(" in body:
        raise ParameterError("filter_pattern", f"parentheses are not supported in {pattern!r}",
                             "conditions joined by && or ||")
    parsed = parse_winston(messages) if len(messages) else pd.DataFrame()
    objs = [json.loads(m) if not bad else {} for m, bad in zip(messages, parsed.get("parse_error", []))]
    flat = pd.json_normalize(objs) if objs else pd.DataFrame()

    def cond(text: str) -> np.ndarray:
        m = _COND_RE.fullmatch(text.strip())
        if not m:
            raise ParameterError("filter_pattern", f"cannot read condition {text.strip()!r} in {pattern!r}",
                                 '$.field = "value", $.field > 5')
        field, op, val = m.groups()
        col = flat[field] if field in flat else pd.Series([None] * len(messages))
        if val.startswith('"'):
            val = val[1:-1]
            sv = col.astype("string")
            if op not in ("=", "!="):
                raise ParameterError("filter_pattern", f"{op} needs a number in {text.strip()!r}", "= or !=")
            rx = "^" + re.escape(val).replace(r"\*", ".*") + "$"
            hit = sv.str.match(rx).fillna(False).to_numpy(dtype=bool)
            return hit if op == "=" else ~hit & col.notna().to_numpy()
        num = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
        v = float(val)
        with np.errstate(invalid="ignore"):
            res = {"=": num == v, "!=": num != v, ">": num > v, "<": num < v, ">=": num >= v, "<=": num <= v}[op]
        return res & ~np.isnan(num)

    out = np.zeros(len(messages), dtype=bool)
    for disj in body.split("||"):
        part = np.ones(len(messages), dtype=bool)
        for conj in disj.split("&&"):
            part &= cond(conj)
        out |= part
    return out


# ------------------------------------------------------------------------------------------------ redaction
_SECRET_KEYS = r"(?:password|passwd|pwd|token|access_token|refresh_token|id_token|secret|client_secret|" \
               r"authorization|cookie|set-cookie|api[_-]?key|x-api-key|aws_secret_access_key|secret_access_key)"
_REDACTIONS = [
    # JSON fields whose name says secret, whatever the value ("password": "hunter2", "token": 12345)
    ("secret", re.compile(rf'(?i)("{_SECRET_KEYS}"\s*:\s*)("(?:[^"\\]|\\.)*"|[^,}}\s]+)'), r'\1"[secret]"'),
    # HTTP Authorization headers of any scheme, and cookies
    ("token", re.compile(r"(?i)\b(authorization|proxy-authorization)(\s*[:=]\s*)(?:basic|bearer|digest|aws4-hmac-sha256"
                         r"|negotiate|token)?\s*[^\s,;\"']+"), r"\1\2[token]"),
    ("token", re.compile(r"(?i)\b((?:set-)?cookie\s*[:=]\s*)[^\n\"]+"), r"\1[token]"),
    ("email", re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "[email]"),
    # AWS access key ids (long-term AKIA, temporary ASIA) and secret-key assignments
    ("token", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b"), "[token]"),
    ("token", re.compile(r"(?i)\b(aws_secret_access_key|secret_access_key|secretaccesskey)(\s*[=:]\s*)\S+"),
     r"\1\2[token]"),
    ("token", re.compile(r"(?i)\b(?:bearer\s+[A-Za-z0-9._~+/=-]{8,}|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.?"
                         r"[A-Za-z0-9_-]*|(?:api[_-]?key|token|secret|password)\s*[=:]\s*\S+)"), "[token]"),
    ("ip", re.compile(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b"), "[ip]"),
    # IPv6: full, compressed (::) and bracketed forms; at least two groups and a colon pair or 7 colons
    ("ip", re.compile(r"(?i)(?<![\w:])(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}(?![\w:])|(?<![\w:])(?:[0-9a-f]{1,4}:){1,6}"
                      r"(?::[0-9a-f]{1,4}){1,6}(?![\w:])|(?<![\w:])(?:[0-9a-f]{1,4}:){1,7}:(?![\w:])|"
                      r"(?<![\w:])::(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{1,4}(?![\w:])"), "[ip]"),
    # phone numbers: international (+1 555 123 4567, +44 20 7946 0958), North American (555-123-4567,
    # (555) 123-4567, 555.123.4567) and UK national (020 7946 0958, 07700 900123)
    ("phone", re.compile(r"(?<![\w.])\+\d{1,3}[\s.-]?\(?\d{1,4}\)?(?:[\s.-]?\d{2,4}){2,4}(?![\w.])"), "[phone]"),
    ("phone", re.compile(r"(?<![\w.])\(?\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}(?![\w.])"), "[phone]"),
    ("phone", re.compile(r"(?<![\w.])0\d{2,4}\s?\d{3,4}\s?\d{3,4}(?![\w.])"), "[phone]"),
]


def redact(text: pd.Series | str):
    """Replace personal data and secrets with ``[email]``, ``[token]``, ``[secret]``, ``[ip]``, ``[phone]``:
    JSON fields named password/token/secret/authorization/cookie/api_key whatever their value, Authorization and
    Cookie headers of any scheme (Basic, Bearer ...), JWTs, AWS access key ids (AKIA/ASIA ...) and secret-key
    assignments, key=value secrets, emails, IPv4 and IPv6 addresses, international, North-American and UK phone
    numbers. Vectorised over a Series."""
    s = pd.Series([text]) if isinstance(text, str) else text.astype("string")
    for _name, rx, repl in _REDACTIONS:
        s = s.str.replace(rx, repl, regex=True)
    return s.iloc[0] if isinstance(text, str) else s


# ------------------------------------------------------------------------------------------------ demo logs
_BACKGROUND_ERRORS = [
    ("ValidationException", "One or more parameter values were invalid: Missing the key id in the item"),
    ("FetchError", "request to https://maps.googleapis.com/maps/api/geocode/json failed, reason: socket hang up"),
    ("TypeError", "Cannot read properties of null (reading 'propertyId') at ProjectCard (components/ProjectCard.tsx:41)"),
    ("GraphQLError", "Not Authorized to access listRequests on type Query"),
]


def demo_logs(src, log_group: str, window: TimeWindow, filter_pattern: str | None = None) -> pd.DataFrame:
    """The demo's log lines for ``log_group`` over ``window`` (see :class:`~rtanalytics.sources.demo.DemoSource`).

    Lines derive from the simulated counts: one error line per ALB 5XX, Lambda error and DynamoDB
    throttle/system error; one business line per request submitted and quote generated; security lines for
    logins; and each active incident's own messages (its ``logs`` in the scenario).
    """
    base = src.environment.resources.log_group
    groups = {base + suf: suf for suf in LOG_SUFFIXES}
    if log_group not in groups:
        raise SourceError(f"demo has no log group {log_group!r} (has: {', '.join(sorted(groups))})")
    suffix = groups[log_group]
    if suffix == "/access":
        return _demo_access(src, log_group, window, filter_pattern)
    m0 = int(window.start.floor("min").value // 60_000_000_000)
    m1 = int(window.end.ceil("min").value // 60_000_000_000)
    frames = [_demo_day_lines(src, d, base) for d in range(m0 // 1440, (m1 - 1) // 1440 + 1)]
    df = pd.concat(frames, ignore_index=True) if frames else empty_logs()
    if df.empty:
        return empty_logs()
    df = df[(df["timestamp"] >= window.start) & (df["timestamp"] < window.end)]
    if suffix == "/errors":
        df = df[df["level"] == "error"]
    elif suffix == "/business":
        df = df[df["category"] == "business"]
    elif suffix == "/audit":
        df = df[df["category"] == "security"]
    df = df.assign(log_group=log_group)
    if filter_pattern:
        df = df[filter_mask(df["message"], filter_pattern)]
    return df.sort_values("timestamp", kind="stable").reset_index(drop=True)


def _demo_day_lines(src, day: int, base: str) -> pd.DataFrame:
    key = ("__logs__", day)
    hit = src._cache.get(key)
    if hit is not None:
        return hit
    minutes = np.arange(day * 1440, (day + 1) * 1440, dtype=np.int64)
    now_min = int(src.now.value // 60_000_000_000)
    rng = np.random.default_rng([src.scenario.seed, zlib.crc32(b"logs"), day + 100_000])
    occ = src.occurrences(TimeWindow(pd.Timestamp(day * 86400, unit="s", tz="UTC"),
                                     pd.Timestamp((day + 1) * 86400, unit="s", tz="UTC")))
    parts = []

    def incident_at(mins):
        """index into occ of the active incident with logs for each minute (-1 if none)."""
        idx = np.full(mins.size, -1)
        for i, o in enumerate(occ):
            if o.incident.logs is None:
                continue
            s, e = o.start.value // 60_000_000_000, o.end.value // 60_000_000_000
            idx[(mins >= s) & (mins < e)] = i
        return idx

    def emit(k, kind, **fields):
        k = np.where(minutes < now_min, k, 0)
        if k.sum() == 0:
            return
        mins = np.repeat(minutes, k)
        secs = rng.uniform(0, 60, mins.size)
        ts = pd.to_datetime(mins * 60_000_000_000 + (secs * 1e9).astype(np.int64), utc=True)
        parts.append(pd.DataFrame({"timestamp": ts, "kind": kind, "minute": mins, **fields}))

    r = src.environment.resources
    # ALB 5XX -> application errors
    if "alb.5xx" in src.by_key:
        emit(src.raw("alb.5xx", day)["k"], "alb5xx")
    for fn in r.lambda_functions:
        emit(src.raw(f"lambda.{fn}.errors", day)["k"], "lambda", function=fn)
    for s in src.specs:
        if s.metric in ("ThrottledRequests", "SystemErrors") and s.kind == "event":
            emit(src.raw(s.key, day)["k"], "ddb_" + s.metric, table=dict(s.dims)["TableName"],
                 operation=dict(s.dims)["Operation"])
        elif s.metric == "RequestsSubmitted":
            emit(src.raw(s.key, day)["k"], "request_submitted", leadSource=dict(s.dims)["LeadSource"])
        elif s.metric == "QuotesGenerated":
            emit(src.raw(s.key, day)["k"], "quote_generated", quoteValue=dict(s.dims)["QuoteValue"])
    emit(rng.binomial(src.raw("biz.logins", day)["k"], 0.25), "login_success")
    emit(rng.poisson(0.01, minutes.size), "login_failed")
    for i, o in enumerate(occ):
        lg = o.incident.logs
        if lg is not None and lg.per == "minute":
            s, e = o.start.value // 60_000_000_000, o.end.value // 60_000_000_000
            emit(((minutes >= s) & (minutes < e)).astype(int), "incident", occ=i)
    if not parts:
        out = empty_logs()
        src._cache[key] = out
        return out
    df = pd.concat(parts, ignore_index=True)
    if "occ" not in df:
        df["occ"] = np.nan
    inc = incident_at(df["minute"].to_numpy())
    occ_idx = np.where(df["kind"].eq("incident"), df["occ"].fillna(-1).to_numpy(), inc).astype(int)
    n = len(df)
    bg = rng.integers(0, len(_BACKGROUND_ERRORS), n)
    versions = {}
    msgs, levels, cats = [], [], []
    for i, row in enumerate(df.itertuples(index=False)):
        minute = row.minute
        vkey = minute // 60
        if vkey not in versions:
            versions[vkey] = src.version_at(pd.Timestamp(minute * 60, unit="s", tz="UTC"))
        rec = {"level": "info", "service": "realtechee", "environment": "production", "version": versions[vkey],
               "timestamp": row.timestamp.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"}
        kind = row.kind
        o = occ[occ_idx[i]] if occ_idx[i] >= 0 else None
        ol = o.incident.logs if o is not None else None
        if kind in ("alb5xx", "lambda", "ddb_ThrottledRequests", "ddb_SystemErrors") or kind == "incident":
            if kind == "incident" or (ol is not None and ol.per == "error" and _caused(o, kind, row)):
                name, text = ol.name, ol.message
                rec.update(level=ol.level, category=ol.category)
            elif kind == "lambda":
                name, text = "Error", f"Unhandled error in {row.function}: Request failed with status code 502"
                rec.update(level="error", category="error")
            elif kind.startswith("ddb_"):
                name = "ProvisionedThroughputExceededException" if "Throttled" in kind else "InternalServerError"
                text = f"{name} on {row.table} ({row.operation})"
                rec.update(level="error", category="error")
            else:
                name, text = _BACKGROUND_ERRORS[bg[i]]
                rec.update(level="error", category="error")
            if rec["category"] == "error":
                rec.update(message="Application Error",
                           error={"name": name, "message": text, "stack": f"{name}: {text}\n    at handler"},
                           context={"requestId": f"{zlib.crc32(f'{minute}{i}'.encode()):08x}"})
            else:
                rec.update(message="Performance Event", event=name, metrics={"detail": text})
        elif kind == "request_submitted":
            rec.update(message="Business Event", category="business", event="request_submitted",
                       data={"leadSource": row.leadSource})
        elif kind == "quote_generated":
            rec.update(message="Business Event", category="business", event="quote_generated",
                       data={"quoteValue": row.quoteValue})
        elif kind == "login_success":
            rec.update(level="warn", message="Security Event", category="security", event="login_success",
                       data={"email": f"user{bg[i] * 7919 % 997}@example.com", "ip": f"203.0.113.{bg[i] * 37 % 254}"})
        else:  # login_failed
            rec.update(level="warn", message="Security Event", category="security", event="login_failed",
                       data={"email": f"user{bg[i] * 7919 % 997}@example.com", "ip": f"198.51.100.{bg[i] * 53 % 254}"})
        msgs.append(json.dumps(rec, separators=(",", ":")))
        levels.append(rec["level"])
        cats.append(rec.get("category"))
    out = pd.DataFrame({"timestamp": df["timestamp"], "log_group": base,
                        "stream": "application-" + df["timestamp"].dt.strftime("%Y-%m-%d"),
                        "level": levels, "message": msgs})
    parsed = parse_winston(out["message"])
    out = pd.concat([out, parsed.drop(columns=["json_level", "parse_error"])], axis=1)
    out = out.sort_values("timestamp", kind="stable").reset_index(drop=True)
    src._cache[key] = out
    return out


def _caused(o, kind, row) -> bool:
    """Does an error line of ``kind`` belong to incident occurrence ``o``?"""
    cause = o.incident.cause
    if kind == "alb5xx":
        return any(e.metric == "HTTPCode_Target_5XX_Count" for e in o.incident.effects)
    if kind == "lambda":
        return cause.namespace == "AWS/Lambda" and cause.dimensions.get("FunctionName") == row.function
    if kind == "ddb_ThrottledRequests":
        return cause.metric == "ThrottledRequests"
    return False


def log_columns() -> list[str]:
    return LOG_COLUMNS + WINSTON_FIELDS


_PATHS = np.array(["/", "/products", "/projects", "/contact", "/about", "/admin", "/api/requests", "/api/quotes",
                   "/graphql", "/api/auth/session"])
_PATH_W = np.array([0.2, 0.12, 0.12, 0.06, 0.05, 0.03, 0.08, 0.06, 0.22, 0.06])
_UAS = np.array(["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
                 "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
                 "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15"])


def _demo_access(src, log_group: str, window: TimeWindow, filter_pattern: str | None) -> pd.DataFrame:
    """Combined Log Format lines: every 5XX and 4XX response and 2% of the rest. 5XX during an incident hit the
    endpoint the incident breaks (POST /api/requests for a bad deploy, /graphql for DynamoDB throttling)."""
    m0 = int(window.start.floor("min").value // 60_000_000_000)
    m1 = int(window.end.ceil("min").value // 60_000_000_000)
    parts = []
    now_min = int(src.now.value // 60_000_000_000)
    for day in range(m0 // 1440, (m1 - 1) // 1440 + 1):
        key = ("__access__", day)
        df = src._cache.get(key)
        if df is None:
            rng = np.random.default_rng([src.scenario.seed, zlib.crc32(b"access"), day + 100_000])
            minutes = np.arange(day * 1440, (day + 1) * 1440)
            k5 = src.raw("alb.5xx", day)["k"]
            k4 = src.raw("alb.4xx", day)["k"]
            k2 = rng.binomial(src.raw("alb.2xx", day)["k"], 0.02)
            status = np.r_[np.full(k5.sum(), 500), np.full(k4.sum(), 404), np.full(k2.sum(), 200)]
            mins = np.r_[np.repeat(minutes, k5), np.repeat(minutes, k4), np.repeat(minutes, k2)]
            keep = mins < now_min
            status, mins = status[keep], mins[keep]
            n = mins.size
            paths = _PATHS[rng.choice(_PATHS.size, n, p=_PATH_W / _PATH_W.sum())]
            methods = np.where(np.isin(paths, ["/api/requests", "/graphql"]), "POST", "GET")
            occ = src.occurrences(TimeWindow(pd.Timestamp(day * 86400, unit="s", tz="UTC"),
                                             pd.Timestamp((day + 1) * 86400, unit="s", tz="UTC")))
            for o in occ:
                s_, e_ = o.start.value // 60_000_000_000, o.end.value // 60_000_000_000
                hit = (status == 500) & (mins >= s_) & (mins < e_)
                if o.incident.kind == "deploy-regression":
                    paths[hit], methods[hit] = "/api/requests", "POST"
                elif o.incident.kind == "dynamodb-throttling":
                    paths[hit], methods[hit] = "/graphql", "POST"
            ts = pd.to_datetime(mins * 60_000_000_000 + (rng.uniform(0, 60, n) * 1e9).astype(np.int64), utc=True)
            ips = pd.Series(rng.integers(1, 254, n)).astype(str)
            ip = np.where(rng.random(n) < 0.5, "203.0.113." + ips, "198.51.100." + ips)
            size = np.where(status == 200, rng.integers(800, 40000, n), rng.integers(50, 400, n))
            ua = _UAS[rng.integers(0, _UAS.size, n)]
            stamp = pd.Series(ts).dt.strftime("%d/%b/%Y:%H:%M:%S +0000")
            line = (pd.Series(ip) + " - - [" + stamp + '] "' + pd.Series(methods) + " " + pd.Series(paths) +
                    ' HTTP/1.1" ' + pd.Series(status).astype(str) + " " + pd.Series(size).astype(str) + ' "-" "' +
                    pd.Series(ua) + '"')
            df = pd.DataFrame({"timestamp": ts, "log_group": log_group, "stream": "access",
                               "level": np.where(status >= 500, "error", "info"), "message": line.to_numpy()})
            df = df.sort_values("timestamp", kind="stable").reset_index(drop=True)
            src._cache[key] = df
        parts.append(df)
    df = pd.concat(parts, ignore_index=True)
    df = df[(df["timestamp"] >= window.start) & (df["timestamp"] < window.end)].assign(log_group=log_group)
    if filter_pattern:
        df = df[filter_mask(df["message"], filter_pattern)]
    return df.reset_index(drop=True)


def count_errors(source, log_group: str, window: TimeWindow, bin_s: int = 300) -> pd.Series:
    """Error-level log events per ``bin_s`` bin. On CloudWatch the counting is pushed down to Logs Insights
    (``stats count(*) by bin``) instead of downloading every line; other sources count what they return."""
    inner = source
    while hasattr(inner, "inner"):
        inner = inner.inner
    if hasattr(inner, "log_counts"):  # through the recording layer, so the counts are in the evidence
        return source.log_counts(log_group, window, "error", bin_s)
    df = source.logs(log_group, window, '{ $.level = "error" }')
    if df.empty:
        return pd.Series(dtype="float64", name="n")
    return df.set_index("timestamp").resample(f"{bin_s}s").size().astype("float64").rename("n")
