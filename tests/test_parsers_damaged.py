"""Every log parser fed damaged lines — truncated, impossible times, wrong field counts, binary, non-UTF-8 —
between good ones: the good lines still parse, each bad one is listed with its line number and a reason, and
nothing raises. Seeded random damage: a failing seed is printed in the assertion."""

from __future__ import annotations

import json
import random

import pandas as pd
import pytest

from rtanalytics.accesslogs import parse_alb, parse_clf
from rtanalytics.logs import parse_winston

ALB = ('{type} {time} app/my-loadbalancer/50dc6c495c0c9188 {ip}:2817 10.0.0.1:80 0.086 {tpt} 0.037 {status} 200 0 '
       '{sent} "GET https://www.example.com:443/{path} HTTP/1.1" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 '
       'arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 '
       '"Root=1-58337281-1d84f3d73c47ec4e58577259" "www.example.com" "-" 1 2018-07-02T22:22:48.364000Z '
       '"forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1')
CLF = '{ip} - - [{day:02d}/Nov/2026:{h:02d}:{m:02d}:07 +0000] "GET /{path} HTTP/1.1" {status} {sent} "-" "Mozilla/5.0"'


def good_alb(r: random.Random) -> str:
    return ALB.format(type=r.choice(["http", "https", "h2"]), time=f"2026-11-{r.randint(1, 28):02d}T"
                      f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}.{r.randint(0, 999999):06d}Z",
                      ip=f"192.0.2.{r.randint(1, 254)}", tpt=f"{r.random():.3f}", status=r.choice([200, 404, 502]),
                      sent=r.randint(0, 9999), path=r.choice(["", "api", "img/a.png"]))


def good_clf(r: random.Random) -> str:
    return CLF.format(ip=f"198.51.100.{r.randint(1, 254)}", day=r.randint(1, 28), h=r.randint(0, 23),
                      m=r.randint(0, 59), path=r.choice(["", "api", "x?y=1"]), status=r.choice([200, 301, 500]),
                      sent=r.choice([r.randint(0, 9999), "-"]))


def damage_alb(line: str, r: random.Random):
    kind = r.choice(["truncate", "time", "fields", "binary", "latin1", "empty"])
    if kind == "truncate":  # cut inside the first 13 fields: not an entry any more
        return kind, line[:r.randint(1, line.index('"GET') - 1)]
    if kind == "time":
        return kind, line.replace(line.split()[1], r.choice(["2018-13-45T99:99:99Z", "yesterday", "2026-02-30T10:00:00Z",
                                                             "99999-01-01T00:00:00Z"]), 1)
    if kind == "fields":
        return kind, " ".join(line.split()[:r.randint(2, 12)])
    if kind == "binary":
        return kind, bytes(r.randrange(256) for _ in range(40))
    if kind == "latin1":
        return kind, ("ÿþ " + line).encode("latin-1", errors="replace")
    return kind, ""


def damage_clf(line: str, r: random.Random):
    kind = r.choice(["truncate", "time", "fields", "binary", "latin1", "empty"])
    if kind == "truncate":  # cut before the status code
        return kind, line[:r.randint(1, line.index('" ') )]
    if kind == "time":
        return kind, line.replace(line[line.index("[") + 1:line.index("]")], r.choice(
            ["32/Nov/2026:10:00:00 +0000", "12/Foo/2026:10:00:00 +0000", "01/Nov/2026:25:61:00 +0000"]), 1)
    if kind == "fields":
        return kind, line.replace('"GET ', "GET ", 1).replace(' HTTP/1.1"', " HTTP/1.1", 1)
    if kind == "binary":
        return kind, bytes(r.randrange(256) for _ in range(40))
    if kind == "latin1":  # a client field in Latin-1 bytes: still an entry, its bytes shown as U+FFFD
        return kind, ("\xe9t\xe9 " + line.split(" ", 1)[1]).encode("latin-1")
    return kind, ""


def _mix(seed, good, damage, n=60):
    r = random.Random(seed)
    lines, bad_no = [], []
    for i in range(1, n + 1):
        line = good(r)
        if r.random() < 0.3:
            kind, line = damage(line, r)
            if not (kind == "latin1" and damage is damage_clf):
                bad_no.append(i)
        lines.append(line)
    return lines, bad_no


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("parser,good,damage", [(parse_alb, good_alb, damage_alb), (parse_clf, good_clf, damage_clf)],
                         ids=["alb", "clf"])
def test_good_lines_parse_bad_ones_are_listed(seed, parser, good, damage):
    lines, bad_no = _mix(seed, good, damage)
    df = parser(lines)
    listed = df.attrs["malformed_lines"]
    assert sorted(b["line"] for b in listed) == bad_no, f"seed {seed}"
    assert all(b["reason"] for b in listed)
    assert df.attrs["malformed"] == len(bad_no)
    assert len(df) == len(lines) - len(bad_no), f"seed {seed}"
    assert df["timestamp"].notna().all() and str(df["timestamp"].dt.tz) == "UTC"
    if parser is parse_clf:  # undecodable bytes are replaced, never dropped or shown as b'...'
        latin = [i for i, x in enumerate(lines, 1) if isinstance(x, bytes) and i not in bad_no]
        assert (df["client"].str.startswith("\ufffdt\ufffd")).sum() == len(latin)
    clean = parser([x for i, x in enumerate(lines, 1) if i not in bad_no])  # the good lines parse the same
    pd.testing.assert_frame_equal(df[["timestamp", "status", "path"]], clean[["timestamp", "status", "path"]])


def test_alb_impossible_time_is_named():
    r = random.Random(1)
    line = good_alb(r)
    bad = line.replace(line.split()[1], "2018-13-45T99:99:99Z", 1)
    df = parse_alb([line, bad])
    assert len(df) == 1
    (b,) = df.attrs["malformed_lines"]
    assert b["line"] == 2 and "2018-13-45T99:99:99Z" in b["reason"] and b["text"] == bad


@pytest.mark.parametrize("seed", range(6))
def test_winston_damaged_lines_are_flagged_and_good_ones_keep_their_fields(seed):
    r = random.Random(seed)
    lines, bad_no = [], []
    for i in range(40):
        obj = {"level": r.choice(["info", "error"]), "service": "web", "event": f"e{i}",
               "error": {"name": "TypeError", "message": "x"}}
        text = json.dumps(obj)
        if r.random() < 0.3:
            bad_no.append(i)
            text = r.choice([text[:r.randint(1, len(text) - 2)], "[1, 2]", "\x00\x01binary", "",
                             text.encode().decode("latin-1")[:-1]])
        lines.append(text)
    out = parse_winston(pd.Series(lines))
    assert list(out.index[out["parse_error"]]) == bad_no
    ok = out[~out["parse_error"]]
    assert (ok["service"] == "web").all() and ok["error.name"].eq("TypeError").all()
    assert out.loc[out["parse_error"], "service"].isna().all()


# ---------------------------------------------------------------- the files source: CSV exports and CLI JSON
def _csv_rows(seed: int, n: int = 50):
    """A ``timestamp,value`` CSV with damaged lines among good ones: ``(bytes, {line: kind}, good values)``."""
    r = random.Random(seed)
    out, bad, good = [b"timestamp,value"], {}, {}
    t0 = pd.Timestamp("2026-11-01T00:00Z")
    for i in range(n):
        line_no = len(out) + 1
        ts = (t0 + pd.Timedelta(minutes=5 * i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        v = round(r.uniform(0, 100), 3)
        if r.random() < 0.25:
            kind = r.choice(["time", "fields", "binary", "latin1", "value", "truncate"])
            line = {"time": f"2026-13-45T99:99:99Z,{v}", "fields": f"{ts},{v},extra", "binary":
                    bytes(r.randrange(128, 256) for _ in range(12)), "latin1": f"{ts},{v}".encode() + b"\xff\xfe",
                    "value": f"{ts},abc", "truncate": ts[:r.randint(1, 9)]}[kind]
            out.append(line if isinstance(line, bytes) else line.encode())
            bad[line_no] = kind
            continue
        out.append(f"{ts},{v}".encode())
        good[pd.Timestamp(ts)] = v
    return b"\n".join(out) + b"\n", bad, good


@pytest.mark.parametrize("seed", range(10))
def test_a_damaged_csv_export_reads_its_good_lines_and_lists_the_bad_ones(tmp_path, seed):
    from rtanalytics.sources.files import FilesSource

    data, bad, good = _csv_rows(seed)
    (tmp_path / "requests.csv").write_bytes(data)
    src = FilesSource(tmp_path)
    s = src.by_name["requests"]
    listed = {m["line"]: m["reason"] for m in src.malformed}
    assert set(listed) == set(bad), f"seed {seed}: {listed} vs {bad}"
    for line, kind in bad.items():
        reason = listed[line]
        expect = {"time": "is not a time", "truncate": "1 fields where the header has 2", "fields": "3 fields where the header has 2",
                  "binary": "not UTF-8", "latin1": "not UTF-8", "value": "is not a number"}[kind]
        assert expect in reason, (seed, line, kind, reason)
    # every good line is there with its value; a value that is not a number is missing, never zero
    got = s.dropna()
    assert {t: round(float(v), 3) for t, v in got.items()} == good, f"seed {seed}"
    values_missing = [ln for ln, k in bad.items() if k == "value"]
    assert int(s.isna().sum()) == len(values_missing)
    assert all(f"line {ln}:" in " ".join(src.notes) for ln in list(bad)[:20])


@pytest.mark.parametrize("seed", range(8))
def test_a_damaged_get_metric_data_export_keeps_its_good_datapoints(tmp_path, seed):
    """``aws cloudwatch get-metric-data`` output whose datapoints are partly damaged: impossible timestamps,
    values that are not numbers, a result whose Timestamps and Values differ in length."""
    from rtanalytics.sources.files import FilesSource

    r = random.Random(seed)
    ts, vs, bad_t, bad_v = [], [], set(), set()
    for i in range(40):
        t = (pd.Timestamp("2026-11-01T00:00Z") + pd.Timedelta(minutes=i)).isoformat()
        v = float(i)
        roll = r.random()
        if roll < 0.1:
            t = r.choice(["2026-02-30T10:00:00Z", "yesterday", "", None])
            bad_t.add(i)
        elif roll < 0.2:
            v = r.choice(["NaN?", "12,5", {"x": 1}])
            bad_v.add(i)
        ts.append(t)
        vs.append(v)
    doc = {"MetricDataResults": [{"Id": "m1", "Label": "errors", "Timestamps": ts, "Values": vs,
                                  "StatusCode": "Complete"},
                                 {"Id": "m2", "Label": "broken", "Timestamps": ts[:3], "Values": vs[:2]}]}
    (tmp_path / "export.json").write_text(json.dumps(doc))
    src = FilesSource(tmp_path)
    s = src.by_name["errors"]
    where = {m["line"] for m in src.malformed}
    assert {f"result m1 datapoint {i}" for i in bad_t} <= where, seed
    assert {f"result m1 datapoint {i}" for i in bad_v - bad_t} <= where, seed
    assert "result m2" in where and "broken" not in src.by_name
    assert len(s) == 40 - len(bad_t) and int(s.isna().sum()) == len(bad_v - bad_t)
    good = [i for i in range(40) if i not in bad_t and i not in bad_v]
    assert [float(s[pd.Timestamp(ts[i])]) for i in good] == [float(i) for i in good]
