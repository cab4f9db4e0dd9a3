"""Log templates from raw lines as CloudWatch Logs stores them: header split, variable tokens masked, drain3.

A log shipper stores a whole line — a header (timestamp, host, level, pid, component) and the message. Mining
templates over the whole line makes every timestamp a variable and every component a different template, so
first the header is recognised and split off, then variable tokens in the message are masked, then drain3 (a
maintained implementation of Drain, He et al., ICWS 2017) groups what is left.

* :func:`split_header` tries the common header shapes (syslog, ISO 8601 with comma or dot milliseconds,
  Apache/bracketed dates, compact ``yymmdd hhmmss``, ``yy/mm/dd``, epoch seconds, pipe-separated records) and
  keeps the one that matches most lines; each is a regular expression with a named ``message`` group and
  whatever of ``time, host, level, pid, component`` it carries. Lines it does not match keep their whole text
  as the message, and are counted.
* :func:`mask` replaces variable tokens with drain's wildcard ``<*>``: IPv4/IPv6 addresses with ports, host
  names, URLs, UUIDs, hex ids, block ids (``blk_-123``), paths, dates and clock times, key=value values, and
  numbers. One wildcard for all kinds, so that drain's parse tree routes them alike.
* :func:`mine` runs drain3 on the masked messages (one miner per component when the header names one) and
  returns each line's template id and template.

Evaluated on loghub's eight labelled systems by ``bench/eval_templates.py`` (grouping accuracy on the raw
lines, the loghub benchmark's metric).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

_TIME = (r"(?:\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"  # ISO 8601
         r"|\d{4}-\d{2}-\d{2}-\d{2}\.\d{2}\.\d{2}\.\d+)")  # BGL-style 2005-06-03-15.42.50.675872
_LEVEL = r"(?:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|CRITICAL|FATAL|SEVERE|FAILURE)"

HEADERS: list[tuple[str, str]] = [
    # syslog: "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: message"
    ("syslog", r"^(?P<time>[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}) (?P<host>\S+) "
               r"(?P<component>[^\s:\[]+(?:\([^)]*\))?(?: [\d.]+)?)(?:\[(?P<pid>\d+)\])?: ?(?P<message>.*)$"),
    # ISO time, level, [thread or component] - message (log4j/Zookeeper)
    ("iso-bracket", rf"^(?P<time>{_TIME}) +- +(?P<level>{_LEVEL}) +\[(?P<component>.*?)\] +- +(?P<message>.*)$"),
    # optional file name, ISO time, pid, level, component, optional [request ids], message (OpenStack/Python)
    ("iso-pid-level", rf"^(?:(?P<file>\S+\.log\S*) )?(?P<time>{_TIME}) (?P<pid>\d+) (?P<level>{_LEVEL}) "
                      r"(?P<component>\S+)(?: \[(?P<context>[^\]]*)\])? (?P<message>.*)$"),
    # ISO time, level, component: message
    ("iso-level", rf"^(?P<time>{_TIME}) +\[?(?P<level>{_LEVEL})\]? +(?P<component>[^\s:]+): +(?P<message>.*)$"),
    # compact yymmdd hhmmss pid LEVEL component: message (HDFS)
    ("compact", rf"^(?P<time>\d{{6}} \d{{6}}) (?P<pid>\d+) (?P<level>{_LEVEL}) (?P<component>[^\s:]+): "
                r"(?P<message>.*)$"),
    # yy/mm/dd hh:mm:ss LEVEL component: message (Spark)
    ("slash", rf"^(?P<time>\d{{2}}/\d{{2}}/\d{{2}} \d{{2}}:\d{{2}}:\d{{2}}) (?P<level>{_LEVEL}) "
              r"(?P<component>[^\s:]+): (?P<message>.*)$"),
    # - epoch date node time node type component level message (BGL, RAS logs)
    ("ras", rf"^(?P<label>\S+) (?P<epoch>\d{{9,10}}) \d{{4}}\.\d{{2}}\.\d{{2}} (?P<host>\S+) (?P<time>{_TIME}) "
            rf"\S+ (?P<type>[A-Z]+) (?P<component>[A-Z_]+) (?P<level>{_LEVEL}) (?P<message>.*)$"),
    # [date time] program - message (Proxifier, Apache error log style)
    ("bracket-date", r"^\[(?P<time>[^\]]{5,40})\] (?P<component>\S+?(?: \*\d+)?)(?: -|:) (?P<message>.*)$"),
    # time|component|pid|message (pipe-separated records, HealthApp)
    ("pipe", r"^(?P<time>\d{8}-\d{1,2}:\d{1,2}:\d{1,2}:\d{1,3})\|(?P<component>[^|]+)\|(?P<pid>\d+)\|"
             r"(?P<message>.*)$"),
    # ISO time and level only
    ("iso", rf"^(?P<time>{_TIME})\s+(?:(?P<level>{_LEVEL})\s+)?(?P<message>.*)$"),
]
_COMPILED = [(n, re.compile(p)) for n, p in HEADERS]


def split_header(lines: pd.Series | list[str]) -> pd.DataFrame:
    """Header fields and message of each raw line (see module docstring). ``df.attrs``: ``format`` (the
    header shape that matched most lines), ``matched`` (its share) and ``unmatched`` (line numbers)."""
    s = pd.Series(lines, dtype="object").astype(str).str.rstrip("\r\n")
    best, best_n, best_df = "none", -1, None
    sample = s.head(2000)
    for name, rx in _COMPILED:
        n = int(sample.str.match(rx).sum())
        if n > best_n:
            best, best_n = name, n
    if best_n <= 0:
        df = pd.DataFrame({"message": s})
        df.attrs.update(format="none", matched=0.0, unmatched=list(range(len(s))))
        return df
    rx = dict(_COMPILED)[best]
    best_df = s.str.extract(rx)
    miss = best_df["message"].isna().to_numpy()
    best_df.loc[miss, "message"] = s[miss]
    best_df.attrs.update(format=best, matched=float(1 - miss.mean()), unmatched=list(np.flatnonzero(miss)))
    return best_df


_TLD = r"(?:com|net|org|edu|gov|io|cn|hk|uk|de|jp|fr|ru|info|biz|local|internal)"
_MASKS: list[tuple[re.Pattern, str]] = [(re.compile(p), r) for p, r in [
    (r"\b[a-z][a-z0-9+.-]*://\S+", "<*>"),
    (r"(?<=GET )/\S*|(?<=PUT )/\S*|(?<=HEAD )/\S*|(?<=POST )/\S*|(?<=DELETE )/\S*|(?<=PATCH )/\S*", "<*>"),
    (r"(?<![\w/])(?:/[\w.@%+-]+){2,}/?", "<*>"),  # file and URL paths
    (r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} "
     r"\d{2}:\d{2}:\d{2}(?: \d{4})?", "<*>"),
    (r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b", "<*>"),
    (r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b", "<*>"),
    (r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?(?![\w.])", "<*>"),
    (r"(?<![\w:])(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?![\w:])", "<*>"),
    (r"\bblk_-?\d+\b", "<*>"),
    (rf"\b(?:[a-zA-Z0-9-]+\.)+{_TLD}(?::\d+)?\b", "<*>"),  # host names (with a known suffix)
    (r"\b(?:[a-zA-Z0-9-]+\.)*[a-zA-Z][a-zA-Z0-9-]*:\d{2,5}\b", "<*>"),  # any host:port
    (r"\b(?=[\w.-]*[\d-])[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+){2,}\b", "<*>"),  # dotted names with digits/hyphens
    (r"[<>]=?\d+(?:\.\d+)?\s*(?:sec|secs|seconds|ms|min|s)\b", "<*>"),  # "<1 sec", "250 ms"
    (r"\b\d+(?:\.\d+)?\s*(?:sec|secs|seconds|ms)\b", "<*>"),
    (r"\(\d[\d.,]*\s*[KMGT]?B\)", ""),  # "(1.20 KB)" beside a byte count
    (r"\b\d{1,3}(?:,\d{3})+\b", "<*>"),  # 1,234,567
    (r"\b0x[0-9a-fA-F]+\b", "<*>"),
    (r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{12,}\b", "<*>"),  # long hex ids (digits+letters)
    (r"(?<==)[^\s,;)]+", "<*>"),  # key=value: the value varies
    (r"(?<![\w<*>])[\w.-]*\d[\w.-]*(?![\w>])", "<*>"),  # any other token with a digit in it (ids, counters)
    (r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?:[a-zA-Z%]{0,3})?(?![\w.])", "<*>"),
]]


def mask(messages: pd.Series) -> pd.Series:
    """Variable tokens replaced by placeholders (see module docstring), vectorised per pattern."""
    out = pd.Series(messages, dtype="object").astype(str)
    for rx, repl in _MASKS:
        out = out.str.replace(rx, repl, regex=True)
    return out


_PLACEHOLDER_RUN = re.compile(r"<\*>(?:[\s:/,()\[\]-]*<\*>)+")


def collapse(masked: pd.Series) -> pd.Series:
    """Runs of adjacent placeholders become one ``<*>`` (a value written as "2 KB" in one line and "2048" in
    the next is one variable either way), and white space is folded."""
    out = masked.str.replace(r"[(\[]<\*>[)\]]", "<*>", regex=True)  # "(<*>)" is just a variable
    return (out.str.replace(_PLACEHOLDER_RUN, "<*>", regex=True).str.replace(r"\s+", " ", regex=True)
            .str.strip())


@dataclass(frozen=True)
class MiningSettings:
    sim_th: float = 0.5  # drain3 similarity threshold
    depth: int = 6  # drain3 parse-tree depth
    max_children: int = 100
    by_component: bool = False  # one template space per header component
    extra_delimiters: tuple[str, ...] = ("=", ",", ":", "(", ")", "[", "]")


def mine(lines: pd.Series | list[str], settings: MiningSettings | None = None, raw: bool = True) -> pd.DataFrame:
    """Template of every line: ``message, component, template_id, template`` (``attrs["format"]`` says which
    header shape was split off when ``raw``). Templates use ``<*>`` for variable tokens."""
    from drain3 import TemplateMiner
    from drain3.template_miner_config import TemplateMinerConfig

    cfg = settings or MiningSettings()
    if raw:
        parts = split_header(lines)
    else:
        parts = pd.DataFrame({"message": pd.Series(lines, dtype="object").astype(str)})
        parts.attrs.update(format="message only", matched=1.0, unmatched=[])
    msg = parts["message"].fillna("").astype(str)
    comp = parts["component"].fillna("").astype(str) if (cfg.by_component and "component" in parts) else \
        pd.Series("", index=parts.index)
    comp = comp.str.replace(r"\d+", "<NUM>", regex=True)  # a component with a number is one component
    masked = collapse(mask(msg))
    miners: dict[str, TemplateMiner] = {}
    ids = np.empty(len(masked), dtype=object)
    for i, (c, text) in enumerate(zip(comp.to_numpy(), masked.to_numpy())):
        tm = miners.get(c)
        if tm is None:
            tc = TemplateMinerConfig()
            tc.profiling_enabled = False
            tc.drain_sim_th = cfg.sim_th
            tc.drain_depth = cfg.depth
            tc.drain_max_children = cfg.max_children
            tc.drain_extra_delimiters = list(cfg.extra_delimiters)
            tc.parametrize_numeric_tokens = True
            tm = miners[c] = TemplateMiner(config=tc)
        ids[i] = (c, tm.add_log_message(text or "<empty>")["cluster_id"])
    templates = {(c, cl.cluster_id): cl.get_template() for c, tm in miners.items() for cl in tm.drain.clusters}
    keys = pd.Series(list(ids), dtype="object")
    codes, uniq = pd.factorize(keys.map(lambda k: f"{k[0]}#{k[1]}"))
    out = pd.DataFrame({"message": msg.to_numpy(), "component": comp.to_numpy(), "template_id": codes,
                        "template": [templates[k] for k in ids]})
    out.attrs.update({k: v for k, v in parts.attrs.items()})
    return out


def grouping_accuracy(predicted, truth) -> float:
    """The loghub benchmark's grouping accuracy: a line is correct when the set of lines in its predicted group
    is exactly the set of lines of its true group; the share of correct lines."""
    p = pd.Series(np.asarray(predicted)).astype(str)
    t = pd.Series(np.asarray(truth)).astype(str)
    df = pd.DataFrame({"p": p, "t": t})
    p_size = df.groupby("p")["t"].transform("size")
    t_size = df.groupby("t")["p"].transform("size")
    pure = df.groupby("p")["t"].transform("nunique") == 1
    correct = pure & (p_size == t_size)
    return float(correct.mean()) if len(df) else float("nan")
