"""Access-log parsers: Common/Combined Log Format and Application Load Balancer access logs.

Both return the access-log frame ``timestamp, client, method, path, status, bytes, duration_s, user_agent``
(plus ``target_status`` and ``error_reason`` for ALB). Malformed lines are counted and skipped, never fatal:
the frame's ``attrs["malformed"]`` holds the count and ``attrs["malformed_examples"]`` a few of them.

* CLF: ``host ident authuser [date] "request" status bytes`` (Combined adds ``"referer" "user-agent"``);
  ``-`` is missing (bytes ``-`` is 0 bytes per the format, status ``-`` is missing).
* ALB: space-separated fields with quoted strings, in the order documented at
  https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html
  (``type time elb client:port target:port request_processing_time target_processing_time
  response_processing_time elb_status_code target_status_code received_bytes sent_bytes "request"
  "user_agent" ssl_cipher ssl_protocol target_group_arn "trace_id" "domain_name" "chosen_cert_arn"
  matched_rule_priority request_creation_time "actions_executed" "redirect_url" "error_reason"
  "target:port_list" "target_status_code_list" "classification" "classification_reason" conn_trace_id``);
  ``-1`` processing times mean the request never reached a target (missing, not negative); every field is
  kept, and fields AWS adds later too.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

ACCESS_COLUMNS = ["timestamp", "client", "method", "path", "status", "bytes", "duration_s", "user_agent"]

_CLF = re.compile(
    r'^(?P<client>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<time>[^\]]+)\] '
    r'"(?P<request>(?:[^"\\]|\\.)*)" (?P<status>\d{3}|-) (?P<bytes>\d+|-)'
    r'(?: "(?P<referer>(?:[^"\\]|\\.)*)" "(?P<ua>(?:[^"\\]|\\.)*)")?\s*$')
_ALB_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')


def _split_request(req: pd.Series) -> tuple[pd.Series, pd.Series]:
    parts = req.str.extract(r"^(?P<method>[A-Z]+) (?P<url>\S+)(?: \S+)?$")
    path = parts["url"].str.replace(r"^[a-z]+://[^/]+(?::\d+)?", "", regex=True)
    path = path.str.split("?", n=1).str[0]
    return parts["method"], path


def _text(line) -> str:
    """A log line as text: bytes are decoded as UTF-8 with undecodable bytes replaced (U+FFFD), never repr'd."""
    if isinstance(line, (bytes, bytearray)):
        return bytes(line).decode("utf-8", errors="replace")
    return str(line)


def parse_clf(lines) -> pd.DataFrame:
    """Common or Combined Log Format lines → the access-log frame."""
    s = pd.Series([_text(x) for x in lines], dtype="string").str.rstrip("\n")
    m = s.str.extract(_CLF)
    ok = m["client"].notna()
    bad = s[~ok]
    m = m[ok]
    ts = pd.to_datetime(m["time"], format="%d/%b/%Y:%H:%M:%S %z", errors="coerce", utc=True)
    ok2 = ts.notna()
    method, path = _split_request(m["request"].fillna(""))
    out = pd.DataFrame({
        "timestamp": ts, "client": m["client"], "method": method, "path": path,
        "status": pd.to_numeric(m["status"].replace("-", pd.NA), errors="coerce").astype("Int64"),
        "bytes": pd.to_numeric(m["bytes"].replace("-", "0"), errors="coerce").astype("Int64"),
        "duration_s": np.nan, "user_agent": m["ua"].replace("-", pd.NA)})
    out = out[ok2]
    bad = pd.concat([bad, s[ok][~ok2.to_numpy()]])
    out = out.sort_values("timestamp", kind="stable").reset_index(drop=True)
    out.attrs["malformed"] = int(len(bad))
    out.attrs["malformed_lines"] = [{"line": int(k) + 1, "reason": "not Common/Combined Log Format"
                                     if k in (~ok)[~ok].index else "date not readable", "text": str(v)}
                                    for k, v in bad.items()]
    out.attrs["malformed_examples"] = [str(x)[:200] for x in bad.head(3)]
    return out


ALB_FIELDS = ["type", "time", "elb", "client_port", "target_port", "request_processing_time",
              "target_processing_time", "response_processing_time", "elb_status_code", "target_status_code",
              "received_bytes", "sent_bytes", "request", "user_agent", "ssl_cipher", "ssl_protocol",
              "target_group_arn", "trace_id", "domain_name", "chosen_cert_arn", "matched_rule_priority",
              "request_creation_time", "actions_executed", "redirect_url", "error_reason", "target_port_list",
              "target_status_code_list", "classification", "classification_reason", "conn_trace_id"]
ALB_TYPES = ("http", "https", "h2", "grpcs", "ws", "wss")


def parse_alb(lines) -> pd.DataFrame:
    """ALB access-log lines → the access-log frame (``duration_s`` = the three processing times summed) plus
    every documented field (:data:`ALB_FIELDS`: ``error_reason`` such as ``LambdaInvalidResponse`` on a 502,
    ``classification``, ``conn_trace_id`` ...); fields AWS adds later are kept as ``field_31``, ``field_32``.
    Malformed lines are listed in ``attrs["malformed_lines"]``: line number (1-based), reason, the whole line."""
    rows, bad = [], []
    width = len(ALB_FIELDS)
    texts = {}
    for n, line in enumerate(lines, start=1):
        text = _text(line).rstrip("\n")
        toks = [q if q or not u else u for q, u in _ALB_TOKEN.findall(text)]
        if not toks:
            bad.append({"line": n, "reason": "empty line", "text": text})
            continue
        if toks[0] not in ALB_TYPES:
            bad.append({"line": n, "reason": f"first field {toks[0][:20]!r} is not a request type "
                                             f"({', '.join(ALB_TYPES)})", "text": text})
            continue
        if len(toks) < 14:
            bad.append({"line": n, "reason": f"{len(toks)} fields; an ALB entry has at least 14", "text": text})
            continue
        rows.append(toks + [""] * max(0, width - len(toks)))
        rows[-1].append(n)
        texts[n] = text
    extra = max((len(r) - 1 for r in rows), default=width) - width
    cols = ALB_FIELDS + [f"field_{width + k + 1}" for k in range(max(extra, 0))] + ["_line"]
    rows = [r[:-1] + [""] * (len(cols) - len(r)) + [r[-1]] for r in rows]
    df = pd.DataFrame(rows, columns=cols)
    ts = pd.to_datetime(df["time"], utc=True, errors="coerce", format="ISO8601")
    ok = ts.notna()
    for n, t in zip(df.loc[~ok, "_line"], df.loc[~ok, "time"]):  # (itertuples would rename "_line")
        bad.append({"line": int(n), "reason": f"time {t!r} is not an ISO 8601 instant", "text": texts[int(n)]})
    bad.sort(key=lambda b: b["line"])
    df, ts = df[ok], ts[ok]

    def num(c):
        v = pd.to_numeric(df[c].replace("-", pd.NA), errors="coerce")
        return v.where(v >= 0)  # -1: the request never reached a target / no response

    method, path = _split_request(df["request"].astype("string"))
    times = pd.concat([num("request_processing_time"), num("target_processing_time"),
                       num("response_processing_time")], axis=1)
    out = pd.DataFrame({
        "timestamp": ts, "client": df["client_port"].str.rsplit(":", n=1).str[0], "method": method, "path": path,
        "status": pd.to_numeric(df["elb_status_code"].replace("-", pd.NA), errors="coerce").astype("Int64"),
        "bytes": pd.to_numeric(df["sent_bytes"].replace("-", pd.NA), errors="coerce").astype("Int64"),
        "duration_s": times.sum(axis=1, min_count=3),
        "user_agent": df["user_agent"].replace("-", pd.NA),
        "target_status": pd.to_numeric(df["target_status_code"].replace("-", pd.NA), errors="coerce").astype("Int64"),
        "error_reason": df["error_reason"].replace({"-": pd.NA, "": pd.NA})})
    fields = df.drop(columns=["_line"]).replace({"-": pd.NA, "": pd.NA})
    out = pd.concat([out, fields.drop(columns=["user_agent", "error_reason"])], axis=1)
    out = out.sort_values("timestamp", kind="stable").reset_index(drop=True)
    out.attrs["malformed"] = len(bad)
    out.attrs["malformed_lines"] = bad
    out.attrs["malformed_examples"] = [b["text"][:200] for b in bad[:3]]
    return out
