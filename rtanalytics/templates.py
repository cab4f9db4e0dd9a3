"""Log templates from raw lines as CloudWatch Logs stores them: header split, variable tokens masked, drain3.

A log shipper stores a whole line — a header (timestamp, host, level, pid, component) and the message. Mining
templates over the whole line makes every timestamp a variable and every component a different template, so
first the header is split off, then variable tokens in the message are masked, then drain3 (a maintained
implementation of Drain, He et al., ICWS 2017) groups what is left.

* :func:`split_header` learns each file's header from the file itself — how many header-closing tokens (``-``,
  ``|``, a bracketed group, ``component:``) its lines agree on, then the field-like columns after them — with
  no format written for any known system (generic: the hand-written header shapes this replaced scored 0.55 on
  the loghub systems each was not written for, the learned split 0.93 on all eight; bench/README.md).
* :func:`mask` replaces variable tokens with drain's wildcard ``<*>``: any token with a digit in it (numbers,
  ids, times, addresses, hex), and what carries no digit but varies all the same — URLs, paths, dates written
  out, IPv6, host names, ``key=value`` values, comparisons (``<1 sec``). Ten patterns, each a kind of value
  every log has, none a system's: the twenty of the last round were pruned to the ten without which some
  system loses accuracy, at the same accuracy (bench/README.md).
* :func:`mine` runs drain3 on the masked messages (similarity 0.4: drain's wildcards do not count as equal
  tokens, so a message whose values were masked needs a lower share of equal words to join its template),
  after :func:`learn_slots` has learned from the file which other words are values (many spellings between the
  same neighbours: the request paths of an API log, names without a digit), then joins templates that only
  *restate* a value (:func:`join_restated`: "1190 bytes (1.16 KB) sent"
  beside "0 bytes sent"), learned from the file's own templates.

Evaluated on loghub's eight labelled systems by ``bench/eval_templates.py`` (grouping accuracy on the raw
lines, the loghub benchmark's metric).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

import numpy as np
import pandas as pd

_TOKEN = re.compile(r"\[(?:[^\[\]]|\[[^\]]*\])*\]|[^\s|]+\|?|\|")  # a bracketed group is one token; "|" ends one
_KEY = re.compile(r"[A-Za-z]+:")


def _ends_header(tok: str) -> bool:
    """A token that can close a header: ``-``, ``|``, a bracketed group, or a component with a colon
    (``dfs.FSNamesystem:``, ``sshd[19939]:``) — but not a plain word with a colon (``status:`` is a key)."""
    if tok in ("-", "--", "|") or tok.endswith(("]", "|")):
        return True
    return tok.endswith(":") and len(tok) > 1 and not _KEY.fullmatch(tok)


def _field_like(tok: str) -> bool:
    """A header field's look: it holds a digit (times, ids, nodes) or is an upper-case word (levels, types)."""
    return any(ch.isdigit() for ch in tok) or (len(tok) >= 2 and tok.isupper())


@dataclass(frozen=True)
class HeaderSettings:
    lookahead: int = 14  # how many leading tokens a header may span
    consistent: float = 0.8  # share of lines that must agree on the header's structure
    field_share: float = 0.95  # share of lines whose next token must look like a field to extend the header


def split_header(lines: pd.Series | list[str], settings: HeaderSettings | None = None) -> pd.DataFrame:
    """Each raw line's header and message, the header's structure learned from the file itself.

    No header format is written down for any system: per file, the number ``j`` of header-closing tokens
    (:func:`_ends_header`) that at least ``consistent`` of the lines carry within their first ``lookahead``
    tokens is learned, and each line's header ends at its own ``j``-th such token (so a component of one or two
    words, or a context of any length, still ends where it ends on that line). The header then extends over the
    next tokens as long as ``field_share`` of the lines have a field-like token there (the RAS logs' node, time,
    type and level columns). Lines without ``j`` closers keep their whole text as the message, and are counted.

    Returns ``header, message``; ``attrs``: ``format`` (what was learned), ``matched`` (the share of lines
    split) and ``unmatched`` (line numbers kept whole). Measured on loghub's eight systems by
    ``bench/eval_templates.py``; its thresholds are not sensitive (0.7-0.9 and 0.9-0.95 give the same
    grouping accuracy there).
    """
    cfg = settings or HeaderSettings()
    s = pd.Series(lines, dtype="object").astype(str).str.rstrip("\r\n")
    texts = s.tolist()
    toks = [[m for _, m in zip(range(cfg.lookahead), _TOKEN.finditer(t))] for t in texts]
    closers = [[i for i, m in enumerate(t) if _ends_header(m.group())] for t in toks]
    n = len(texts)
    # a plain "word:" closes a header where the file's headers close (syslog's "kernel:" where others have
    # "sshd[42]:"), and is a key anywhere else ("status: 200")
    at = np.bincount([i for c in closers for i in c], minlength=cfg.lookahead) if n else np.zeros(0)
    usual = {int(i) for i in np.flatnonzero(at >= 0.2 * n)}
    if usual:
        closers = [sorted(set(c) | {i for i, m in enumerate(t) if i in usual and _KEY.fullmatch(m.group())})
                   for c, t in zip(closers, toks)]
    j = 0
    while n and sum(len(c) > j for c in closers) >= cfg.consistent * n:
        j += 1
    cut = [c[j - 1] + 1 if j and len(c) >= j else 0 for c in closers]
    extra = 0
    while n and extra < cfg.lookahead and sum(
            len(t) > k + extra and _field_like(t[k + extra].group()) for t, k in zip(toks, cut)) >= cfg.field_share * n:
        extra += 1
    headers, messages, unmatched = [], [], []
    for i, (text, t, k) in enumerate(zip(texts, toks, cut)):
        if j and k == 0:
            unmatched.append(i)
            headers.append("")
            messages.append(text)
            continue
        k += extra
        if len(t) > k:
            headers.append(text[:t[k].start()].rstrip())
            messages.append(text[t[k].start():])
        elif k:
            headers.append(text)
            messages.append("")
        else:
            headers.append("")
            messages.append(text)
    df = pd.DataFrame({"header": headers, "message": messages}, index=s.index)
    df.attrs.update(format=f"learned: {j} closing token(s) + {extra} field(s)",
                    matched=float(1 - len(unmatched) / n) if n else 0.0, unmatched=unmatched)
    return df


_TLD = r"(?:com|net|org|edu|gov|io|cn|hk|uk|de|jp|fr|ru|info|biz|local|internal)"
_MASKS: list[tuple[re.Pattern, str]] = [(re.compile(p), r) for p, r in [
    (r"\b[a-z][a-z0-9+.-]*://\S+", "<*>"),  # URLs
    (r"(?<![\w/])(?:/[\w.@%+\-?&=:;~,]+){2,}/?", "<*>"),  # file and URL paths, query strings included
    (r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} "
     r"\d{2}:\d{2}:\d{2}(?: \d{4})?", "<*>"),  # dates written out (their words carry no digit)
    (r"(?<![\w:])(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?![\w:])", "<*>"),  # IPv6 ("fe80::1", "::")
    (rf"\b(?:[a-zA-Z0-9-]+\.)+{_TLD}(?::\d+)?\b", "<*>"),  # host names (with a known suffix)
    (r"\b(?:[a-zA-Z0-9-]+\.)*[a-zA-Z][a-zA-Z0-9-]*:\d{2,5}\b", "<*>"),  # any host:port
    (r"\b(?=[\w.-]*[\d-])[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+){2,}\b", "<*>"),  # dotted names with digits/hyphens
    (r"[<>]=?\d+(?:\.\d+)?\s*(?:sec|secs|seconds|ms|min|s)\b", "<*>"),  # "<1 sec", ">= 250 ms"
    (r"(?<==)[^\s,;)]+", "<*>"),  # key=value: the value varies
    (r"(?<![\w<*>])[\w.-]*\d[\w.-]*(?![\w>])", "<*>"),  # any token with a digit in it: numbers, ids, times,
]]                                                       # addresses, hex, counters


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


def learn_slots(masked: pd.Series, min_values: int = 10) -> pd.Series:
    """Values learned from the file itself: a word that, between the same two neighbours on lines of the same
    length, takes at least ``min_values`` different spellings is a value (``<*>``) — the request paths after
    ``"GET`` of an API log, user or host names without a digit — whatever the system. Words at the start of a
    line are the message's verb and stay. Vectorised over all tokens of the file at once."""
    toks = masked.str.split()
    n = toks.str.len().to_numpy()
    if len(toks) == 0 or n.sum() == 0:
        return masked
    line = np.repeat(np.arange(len(toks)), n)
    rows = pd.DataFrame({"line": line, "tok": np.concatenate(toks.to_numpy())})
    by_line = rows.groupby("line", sort=False)["tok"]
    rows["pos"] = rows.groupby("line", sort=False).cumcount()
    rows["n"] = n[line]
    rows["prev"] = by_line.shift(1)
    rows["next"] = by_line.shift(-1).fillna("$")
    spellings = rows.groupby(["n", "pos", "prev", "next"], sort=False, dropna=True)["tok"].transform("nunique")
    value = (spellings >= min_values) & (rows["tok"] != "<*>") & rows["prev"].notna()
    if not value.any():
        return masked
    rows.loc[value, "tok"] = "<*>"
    out = rows.groupby("line", sort=False)["tok"].agg(" ".join)
    return pd.Series(out.reindex(range(len(toks)), fill_value="").to_numpy(), index=masked.index)


@dataclass(frozen=True)
class MiningSettings:
    sim_th: float = 0.4  # drain3 similarity threshold (its wildcards do not count as equal tokens)
    depth: int = 6  # drain3 parse-tree depth
    max_children: int = 100
    extra_delimiters: tuple[str, ...] = ("=", ",", ":", "(", ")", "[", "]")
    restated: int = 2  # templates that differ only by inserted chunks this short, each opening with a value, join
    slot_values: int = 10  # a word with this many different values between the same two neighbours is a value


def mine(lines: pd.Series | list[str], settings: MiningSettings | None = None, raw: bool = True) -> pd.DataFrame:
    """Template of every line: ``message, header, template_id, template`` (``attrs["format"]`` says what header
    was learned when ``raw``). Templates use ``<*>`` for variable tokens."""
    from drain3 import TemplateMiner  # lazy: drain3 loads only when log lines are mined
    from drain3.template_miner_config import TemplateMinerConfig

    cfg = settings or MiningSettings()
    if raw:
        parts = split_header(lines)
    else:
        parts = pd.DataFrame({"message": pd.Series(lines, dtype="object").astype(str)})
        parts.attrs.update(format="message only", matched=1.0, unmatched=[])
    msg = parts["message"].fillna("").astype(str)
    masked = collapse(mask(msg))
    if cfg.slot_values:
        masked = collapse(learn_slots(masked, cfg.slot_values))
    tc = TemplateMinerConfig()
    tc.profiling_enabled = False
    tc.drain_sim_th = cfg.sim_th
    tc.drain_depth = cfg.depth
    tc.drain_max_children = cfg.max_children
    tc.drain_extra_delimiters = list(cfg.extra_delimiters)
    tc.parametrize_numeric_tokens = True
    tm = TemplateMiner(config=tc)
    ids = [tm.add_log_message(text or "<empty>")["cluster_id"] for text in masked.to_numpy()]
    templates = {cl.cluster_id: cl.get_template() for cl in tm.drain.clusters}
    if cfg.restated:
        into = join_restated(templates, cfg.restated)
        ids = [into.get(k, k) for k in ids]
    codes, _ = pd.factorize(pd.Series(ids))
    out = pd.DataFrame({"message": msg.to_numpy(), "header": parts["header"].to_numpy() if "header" in parts else "",
                        "template_id": codes, "template": [templates[k] for k in ids]})
    out.attrs.update({k: v for k, v in parts.attrs.items()})
    return out


def _restates(short: list[str], long: list[str], most: int) -> bool:
    """``long`` is ``short`` with chunks inserted inside it, each at most ``most`` tokens and each opening with a
    value (``<*>``): the same message with a value restated ("1190 bytes (1.16 KB) sent" beside "0 bytes
    sent"). A longer tail is not a restatement but more fields (``rhost <*> user <*>``): another template."""
    if len(long) <= len(short) or long[:len(short)] == short:
        return False
    ops = SequenceMatcher(a=short, b=long, autojunk=False).get_opcodes()
    return all(op == "equal" or (op == "insert" and j2 - j1 <= most and long[j1] == "<*>")
               for op, _, _, j1, j2 in ops)


def join_restated(templates: dict, most: int = 2) -> dict:
    """Cluster id -> the id of the shorter template it restates (see :func:`_restates`); learned from the
    file's own templates, so no pattern is written for any system's units or wording."""
    toks = {k: t.split() for k, t in templates.items()}
    order = sorted(toks, key=lambda k: (len(toks[k]), k))
    root = {k: k for k in toks}

    def find(k):
        while root[k] != k:
            k = root[k]
        return k

    by_first: dict[str, list] = {}
    for k in order:  # a restatement keeps the first token (the message's verb): compare within those
        by_first.setdefault(toks[k][0] if toks[k] else "", []).append(k)
    for group in by_first.values():
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                if find(a) != find(b) and _restates(toks[a], toks[b], most):
                    root[find(b)] = find(a)
    return {k: find(k) for k in toks if find(k) != k}


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
