"""A local Parquet cache between a source and the analytics.

Keyed by the source's identity (name, region, endpoint, environment), the query's identity (what data it asks
for, not its id or label) and a time chunk aligned to the epoch (7 days of 1-minute data, 35 days of 5-minute,
...). Settled data — older than ``settle`` (default 15 minutes, CloudWatch's usual ingestion delay) — is never
fetched twice; anything newer is always refetched and never stored. Each file is written to a temporary name
and renamed into place, so two report runs sharing the cache never see half a file; a file that cannot be read
is treated as a miss and replaced. Hits, misses and the inner source's API calls are counted.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..frames import empty_events
from ..queries import MetricQuery, referenced_ids
from ..settings import current as current_project
from ..timewindow import TimeWindow, parse_duration, to_utc, utcnow
from .base import assemble, cloudwatch_window, grid_bounds

POINTS_PER_CHUNK = 10_080
COMPACT_AT = 4  # chunk files (weeks of 1-minute data) of one query before they join its compacted file
# CloudWatch makes a datapoint readable within minutes of PutMetricData; one sent 3-24 h after its timestamp can
# take up to 2 h, one sent later up to 48 h (PutMetricData API reference). Data younger than the settle horizon is
# always fetched again; 26 h (24 h of lateness + 2 h to appear) by default, RTANALYTICS_SETTLE to change it.
DEFAULT_SETTLE = "26h"


def default_cache_dir() -> Path:
    """``$RTANALYTICS_CACHE``, else the project's ``.cache/`` (:mod:`rtanalytics.settings`; resolved per call)."""
    return current_project().cache


def default_settle() -> str:
    return os.environ.get("RTANALYTICS_SETTLE") or DEFAULT_SETTLE



def chunk_seconds(period: int) -> int:
    return period * POINTS_PER_CHUNK


def chunk_starts(lo: int, hi: int, period: int, phase: int):
    """Chunk boundaries covering ``[lo, hi)`` on the grid whose periods start at ``phase`` (mod ``period``) past
    the epoch — chunks always begin on a period boundary of that grid."""
    c = chunk_seconds(period)
    first = ((lo - phase) // c) * c + phase
    return range(first, hi, c)


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    refetched_recent: int = 0
    corrupt: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


class CachedSource:
    """Wraps a source; ``metrics`` goes through the cache, everything else is passed through.

    Only *complete* answers are stored: a column the inner source marks incomplete (``df.attrs["incomplete"]``:
    throttled past retries, 5xx, PartialData, response messages, retention tier) is passed on as it came and
    fetched again next time. A metric-math expression and the queries it references are always fetched
    together over the same slice of time."""

    def __init__(self, inner, cache_dir: Path | str | None = None, settle: str | pd.Timedelta | None = None,
                 now=None, key: str | None = None):
        self.inner = inner
        self.name = inner.name
        self.dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.settle = parse_duration(settle if settle is not None else default_settle())
        self.now = to_utc(now) if now is not None else None
        self.key = key or source_key(inner)
        self.stats = CacheStats()

    def __getattr__(self, item):
        return getattr(self.inner, item)

    def _path(self, q: MetricQuery, chunk_start: int) -> Path:
        """One file per query and chunk; the chunk start also fixes the grid's phase, so windows whose periods
        start at different minutes never mix their datapoints."""
        h = hashlib.sha256(q.identity().encode()).hexdigest()[:24]
        return self.dir / self.key / h[:2] / h / f"{chunk_start}.parquet"

    def _now(self):
        return self.now or getattr(self.inner, "now", None) or utcnow()

    def metrics(self, queries: Sequence[MetricQuery], window: TimeWindow) -> pd.DataFrame:
        now = self._now()
        window = cloudwatch_window(window, now)
        settled_s = int((now - self.settle).timestamp())
        cols: dict[str, pd.Series] = {}
        need: dict[tuple[int, int, int], list[MetricQuery]] = {}  # (period, start, end) -> queries
        pieces: dict[str, list[pd.Series]] = {q.label: [] for q in queries}
        together = _math_groups(queries)  # expressions and their inputs: never split by the cache
        for q in queries:
            if q.id in together:
                need.setdefault((q.period, *self._bounds(window, q.period)), []).append(q)
                continue
            s0, n = grid_bounds(window, q.period)
            s1 = s0 + n * q.period
            settled = s0 + max(0, (settled_s - s0) // q.period) * q.period  # whole periods before settle
            c = chunk_seconds(q.period)
            phase = s0 % q.period  # a window starting at 10:12 has 5-minute periods at :12, :17, ...
            missing = []
            spans = []
            for cs in chunk_starts(s0, s1, q.period, phase):
                lo, hi = max(cs, s0), min(cs + c, s1)
                shi = min(hi, settled)
                if shi > lo:
                    spans.append((cs, lo, shi))
                if hi > max(lo, shi):
                    self.stats.refetched_recent += 1
                    missing.append((max(lo, shi), hi))
            # every cached chunk of the query read at once (threads: pyarrow reads without the GIL), joined as
            # arrays into one series: no Series per chunk
            got = self._read_many(q, spans)
            ts_parts, v_parts = [], []
            for (cs, lo, shi), r in zip(spans, got):
                if r is None:
                    self.stats.misses += 1
                    missing.append((lo, shi))
                else:
                    self.stats.hits += 1
                    ts_parts.append(r[0])
                    v_parts.append(r[1])
                    if r[2] < shi:  # cached up to where it had settled last time: only the rest is fetched
                        missing.append((r[2], shi))
            if ts_parts:
                ts = np.concatenate(ts_parts)
                pieces[q.label].append(pd.Series(np.concatenate(v_parts), index=pd.DatetimeIndex(
                    (ts * 1_000_000_000).view("M8[ns]")).tz_localize("UTC"), dtype="float64"))
            missing.sort()
            for lo, hi in _merge(missing):
                need.setdefault((q.period, lo, hi), []).append(q)
        incomplete: dict[str, str] = {}
        for (period, lo, hi), qs in need.items():
            tw = TimeWindow(pd.Timestamp(lo, unit="s", tz="UTC"), pd.Timestamp(hi, unit="s", tz="UTC"))
            df = self.inner.metrics(qs, tw)
            bad = dict(df.attrs.get("incomplete", {}))
            incomplete |= {k: v for k, v in bad.items() if k in pieces}
            for q in qs:
                if q.label not in df:
                    continue
                s = df[q.label]
                pieces[q.label].append(s)
                if q.expression is None and q.label not in bad:
                    settled = s0_settled(lo, settled_s, q.period)
                    if settled > lo:
                        self._store(q, s, lo, min(hi, settled))
        for q in queries:
            ps = [p for p in pieces[q.label] if len(p)]
            if len(ps) == 1 and _strictly_increasing(ps[0].index):  # all from the cache, or all fetched
                cols[q.label] = ps[0]
                continue
            s = pd.concat(ps).sort_index() if ps else pd.Series(dtype="float64")
            cols[q.label] = s[~s.index.duplicated(keep="last")]
        out = assemble(cols, queries, window)
        out.attrs["incomplete"] = incomplete
        return out

    def events(self, window: TimeWindow) -> pd.DataFrame:
        """Change events (deploys, CloudTrail changes), cached per whole UTC day once the day is older than the
        settle horizon: a re-run over the past makes no ListJobs/LookupEvents calls. A fetch that failed raised
        before anything was stored, so nothing incomplete is cached."""
        now = self._now()
        settled = now - self.settle
        days = pd.date_range(window.start.floor("D"), window.end.ceil("D"), freq="D", inclusive="left")
        folder = self.dir / self.key / "events"
        cached, missing = [], False
        for d in days:
            if d + pd.Timedelta(days=1) > settled:
                missing = True
                break
            f = folder / f"{d:%Y-%m-%d}.parquet"
            try:
                cached.append(pd.read_parquet(f))
                self.stats.hits += 1
            except Exception:  # absent or unreadable: a miss
                missing = True
                break
        if not missing:
            df = pd.concat(cached, ignore_index=True) if cached else empty_events()
            searched = sorted({x for c in cached for x in c.attrs.get("searched", [])})
        else:
            self.stats.misses += 1
            whole = TimeWindow(days[0], days[-1] + pd.Timedelta(days=1))
            df = self.inner.events(whole)
            searched = list(df.attrs.get("searched", []))
            folder.mkdir(parents=True, exist_ok=True)
            for d in days:
                if d + pd.Timedelta(days=1) > settled:
                    continue
                part = df[(df["start"] >= d) & (df["start"] < d + pd.Timedelta(days=1))].reset_index(drop=True)
                part.attrs["searched"] = searched
                fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".parquet", dir=folder)
                os.close(fd)
                try:
                    part.to_parquet(tmp, index=False)
                    os.replace(tmp, folder / f"{d:%Y-%m-%d}.parquet")
                except BaseException:
                    if os.path.exists(tmp):
                        os.unlink(tmp)
                    raise
        out = df[(df["start"] < window.end) & (df["end"].fillna(df["start"]) >= window.start)].reset_index(drop=True) \
            if len(df) else df
        out.attrs["searched"] = searched
        return out

    def drop(self, queries: Sequence[MetricQuery] | None = None, start=None, end=None) -> int:
        """Forget cached data overlapping ``[start, end)`` (all of it by default), for ``queries`` or every
        query of this source; returns the number of chunk files removed. Use it when data was backfilled
        after the settle horizon (PutMetricData with old timestamps): the next run fetches the range again."""
        return drop_range(self.dir / self.key, queries, start, end)

    @staticmethod
    def _bounds(window, period):
        s0, n = grid_bounds(window, period)
        return s0, s0 + n * period

    def _read_many(self, q: MetricQuery, spans: list) -> list:
        """``(epoch seconds, values)`` for each ``(chunk_start, lo, hi)`` of ``q``: from the query's compacted file
        when it covers the span (one read for all of them), else from the chunk file, concurrently."""
        out: list = [None] * len(spans)
        rest = []
        comp: dict[int, tuple | None] = {}
        bounds: dict[int, tuple[int, int]] = {}
        for cs, lo, hi in spans:  # what each phase's compacted file must give: only those weeks are read
            a, b = bounds.get(cs % q.period, (lo, hi))
            bounds[cs % q.period] = (min(a, lo), max(b, hi))
        for i, (cs, lo, hi) in enumerate(spans):
            phase = cs % q.period
            if phase not in comp:
                comp[phase] = self._read_compact(q, phase, *bounds[phase])
            c = comp[phase]
            if c is not None and _covered(c[2], lo, hi):
                a, b = np.searchsorted(c[0], [lo, hi])
                out[i] = (c[0][a:b], c[1][a:b], hi)
            else:
                rest.append(i)
        if len(rest) < 4:
            for i in rest:
                out[i] = self._read_raw(q, *spans[i], partial=True)
            return out

        with ThreadPoolExecutor(max_workers=4) as ex:
            for i, r in zip(rest, ex.map(lambda i: self._read_raw(q, *spans[i], partial=True), rest)):
                out[i] = r
        return out

    # ------------------------------------------------------------------------------------------- compaction
    def _compact_path(self, q: MetricQuery, phase: int) -> Path:
        return self._path(q, 0).parent / f"compact-p{phase}.parquet"

    def _read_compact(self, q: MetricQuery, phase: int, lo: int | None = None, hi: int | None = None):
        """The query's compacted file for ``phase``: ``(epoch seconds, values, covered ranges)`` or None; with
        ``lo``/``hi`` only the row groups (a week each) that can hold ``[lo, hi)``: a day's report never reads
        the whole history."""
        got = self._read_file(q, self._compact_path(q, phase),
                              lambda meta: [tuple(r) for r in json.loads(meta[b"ranges"])],
                              None if lo is None else (lo, hi))
        return None if got is None else (got[0].column("t").to_numpy(), got[0].column("v").to_numpy(), got[1])

    def _read_file(self, q: MetricQuery, path: Path, coverage, within: tuple[int, int] | None = None):
        """``(table, coverage(metadata))`` of a cache file written for ``q``, or None when it is not there or
        cannot be read (counted as corrupt: the caller refetches). ``within=(lo, hi)``: only the row groups whose
        time statistics overlap ``[lo, hi)`` (read directly, no dataset scan)."""
        if not path.exists():
            return None
        try:
            pf = pq.ParquetFile(path)
            if within is None:
                t = pf.read()
            else:
                md, (lo, hi) = pf.metadata, within
                groups = [i for i in range(md.num_row_groups)
                          if (st := md.row_group(i).column(0).statistics) is None or not st.has_min_max
                          or (st.max >= lo and st.min < hi)]
                t = pf.read_row_groups(groups) if groups else pf.schema_arrow.empty_table()
            meta = pf.schema_arrow.metadata or {}
            if meta.get(b"identity", b"").decode() != q.identity():
                raise ValueError("identity mismatch")
            return t, coverage(meta)
        except Exception:
            self.stats.corrupt += 1
            return None

    def compact(self, q: MetricQuery, phase: int | None = None) -> int:
        """Merge ``q``'s chunk files (of ``phase``, or every phase) into its one compacted file per phase, then
        remove them; returns the chunk files merged. Newer chunk data wins where both cover a time. Written
        atomically; a reader meanwhile sees either the chunks or the compacted file (a chunk removed under it is
        a miss, fetched again)."""
        folder = self._path(q, 0).parent
        if not folder.is_dir():
            return 0
        chunks: dict[int, list[Path]] = {}
        for f in folder.glob("*.parquet"):
            if f.name.startswith(("compact-", ".")):
                continue
            try:
                cs = int(f.stem)
            except ValueError:
                continue
            chunks.setdefault(cs % q.period, []).append(f)
        merged = 0
        for ph, files in chunks.items():
            if phase is not None and ph != phase:
                continue
            old = self._read_compact(q, ph)
            ts_parts, v_parts, ranges = [], [], []
            if old is not None:
                ts_parts, v_parts, ranges = [old[0]], [old[1]], list(old[2])
            used = []
            for f in sorted(files):
                try:
                    t = pq.read_table(f)
                    meta = t.schema.metadata or {}
                    if meta.get(b"identity", b"").decode() != q.identity():
                        continue
                    a, b = int(meta[b"cov_lo"]), int(meta[b"cov_hi"])
                except Exception:
                    continue
                used.append((f, a, b, t.column("t").to_numpy(), t.column("v").to_numpy()))
            if not used:
                continue
            ts_all = np.concatenate(ts_parts) if ts_parts else np.zeros(0, np.int64)
            v_all = np.concatenate(v_parts) if v_parts else np.zeros(0)
            for f, a, b, ct, cv in used:  # a chunk's data replaces what was compacted over its coverage
                keep = (ts_all < a) | (ts_all >= b)
                ts_all = np.r_[ts_all[keep], ct]
                v_all = np.r_[v_all[keep], cv]
                ranges.append((a, b))
            order = np.argsort(ts_all, kind="stable")
            self._write_compact(q, ph, ts_all[order], v_all[order], _merge(ranges))
            for f, *_ in used:
                f.unlink(missing_ok=True)
            merged += len(used)
        return merged

    def _from_compact(self, q: MetricQuery, cs: int, c: int, a: int, b: int):
        """What the compacted file holds within chunk ``[cs, cs + c)`` contiguous with ``[a, b)``, as a chunk's
        ``(cov_lo, cov_hi, times, values)``, or None."""
        comp = self._read_compact(q, cs % q.period, cs, cs + c)
        if comp is None:
            return None
        for ra, rb in comp[2]:
            lo_, hi_ = max(ra, cs), min(rb, cs + c)
            if lo_ < hi_ and lo_ <= b and hi_ >= a:
                i, j = np.searchsorted(comp[0], [lo_, hi_])
                return lo_, hi_, comp[0][i:j], comp[1][i:j]
        return None

    def _write_compact(self, q: MetricQuery, phase: int, ts, vs, ranges) -> None:
        path = self._compact_path(q, phase)
        table = pa.table({"t": pa.array(ts, pa.int64()), "v": pa.array(vs, pa.float64())})
        table = table.replace_schema_metadata({"ranges": json.dumps([list(r) for r in ranges]),
                                               "identity": q.identity()})
        _atomic_table(table, path, POINTS_PER_CHUNK)

    def _read(self, q: MetricQuery, cs: int, lo: int, hi: int) -> pd.Series | None:
        r = self._read_raw(q, cs, lo, hi)
        if r is None:
            return None
        return pd.Series(r[1], index=pd.to_datetime(r[0], unit="s", utc=True), dtype="float64")

    def _read_raw(self, q: MetricQuery, cs: int, lo: int, hi: int, partial: bool = False):
        """A cached chunk's ``(epoch seconds, values, covered up to)`` within ``[lo, hi)``, or None when it is not
        there, does not cover the range, or cannot be read (counted as corrupt, refetched). ``partial``: a chunk
        that covers the range's start but ends before ``hi`` (stored when only part of it had settled) gives
        what it has, ``covered up to`` saying where the rest begins."""
        got = self._read_file(q, self._path(q, cs), lambda meta: (int(meta[b"cov_lo"]), int(meta[b"cov_hi"])))
        if got is None:
            return None
        t, (cov_lo, cov_hi) = got
        if cov_lo > lo or cov_hi < hi and not (partial and cov_hi > lo):
            return None
        upto = min(hi, cov_hi)
        ts = t.column("t").to_numpy()
        v = t.column("v").to_numpy()
        if len(ts) and (ts[0] < lo or ts[-1] >= upto):
            m = (ts >= lo) & (ts < upto)
            ts, v = ts[m], v[m]
        return ts, v, upto

    def _store(self, q: MetricQuery, s: pd.Series, lo: int, hi: int) -> None:
        """Store the settled values of ``s`` in ``[lo, hi)``, merging with contiguous cached coverage."""
        c = chunk_seconds(q.period)
        secs = s.index.as_unit("s").asi8 if len(s) else np.zeros(0, dtype=np.int64)
        vals = s.to_numpy(dtype="float64")
        for cs in chunk_starts(lo, hi, q.period, lo % q.period):
            a, b = max(cs, lo), min(cs + c, hi)
            path = self._path(q, cs)
            old = None
            if path.exists():
                try:
                    t = pq.read_table(path)
                    meta = t.schema.metadata or {}
                    old = (int(meta[b"cov_lo"]), int(meta[b"cov_hi"]), t.column("t").to_numpy(),
                           t.column("v").to_numpy())
                except Exception:
                    old = None
            else:  # compacted before: its coverage touching this chunk's range joins the new chunk file
                old = self._from_compact(q, cs, c, a, b)
            m = (secs >= a) & (secs < b) & ~np.isnan(vals)
            ts, vs = secs[m], vals[m]
            if old is not None and old[0] <= b and old[1] >= a:  # contiguous: merge coverage
                keep = (old[2] < a) | (old[2] >= b)
                ts = np.r_[old[2][keep], ts]
                vs = np.r_[old[3][keep], vs]
                a, b = min(a, old[0]), max(b, old[1])
                order = np.argsort(ts, kind="stable")
                ts, vs = ts[order], vs[order]
            table = pa.table({"t": pa.array(ts, pa.int64()), "v": pa.array(vs, pa.float64())})
            table = table.replace_schema_metadata({"cov_lo": str(a), "cov_hi": str(b), "identity": q.identity()})
            _atomic_table(table, path)
        folder = self._path(q, 0).parent
        if sum(1 for f in folder.glob("*.parquet") if not f.name.startswith("compact-")) >= COMPACT_AT:
            self.compact(q)  # a long history reads as one file per query, not one per week


def _atomic_table(table, path: Path, row_group_size: int | None = None) -> None:
    """Write ``table`` to ``path`` through a temporary file renamed into place (``row_group_size`` rows per
    row group: a compacted history is read by the weeks asked for)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".parquet", dir=path.parent)
    os.close(fd)
    try:
        pq.write_table(table, tmp, row_group_size=row_group_size)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _strictly_increasing(index) -> bool:
    """Sorted without duplicates (one pass over the int64 stamps): then no sort and no de-duplication."""
    a = index.asi8
    return a.size < 2 or bool((a[1:] > a[:-1]).all())


def _covered(ranges, lo: int, hi: int) -> bool:
    """Whether ``[lo, hi)`` lies within one of the (merged) ``ranges``."""
    return any(a <= lo and hi <= b for a, b in ranges)


def _math_groups(queries: Sequence[MetricQuery]) -> set[str]:
    """Ids of the expressions in ``queries`` and of every query they reference (transitively)."""
    by_id = {q.id: q for q in queries}
    out: set[str] = set()
    todo = [q for q in queries if q.expression is not None]
    while todo:
        q = todo.pop()
        if q.id in out:
            continue
        out.add(q.id)
        if q.expression is not None:
            todo += [by_id[i] for i in referenced_ids(q.expression, by_id)]
    return out


def drop_range(folder: Path, queries: Sequence[MetricQuery] | None = None, start=None, end=None) -> int:
    """Remove the chunk files under ``folder`` (one source's cache) whose coverage overlaps ``[start, end)``."""
    lo = int(to_utc(start).timestamp()) if start is not None else None
    hi = int(to_utc(end).timestamp()) if end is not None else None
    if queries is not None:
        dirs = []
        for q in queries:
            h = hashlib.sha256(q.identity().encode()).hexdigest()[:24]
            dirs.append(folder / h[:2] / h)
    else:
        dirs = [d for d in folder.glob("*/*") if d.is_dir()]
    n = 0
    for d in dirs:
        for f in d.glob("compact-*.parquet"):
            n += _drop_from_compact(f, lo, hi)
        for f in d.glob("*.parquet"):
            if f.name.startswith("compact-"):
                continue
            try:
                meta = pq.read_schema(f).metadata or {}
                a, b = int(meta[b"cov_lo"]), int(meta[b"cov_hi"])
            except Exception:
                a, b = None, None  # unreadable: remove it too
            if a is None or ((hi is None or a < hi) and (lo is None or b > lo)):
                f.unlink(missing_ok=True)
                n += 1
    return n


def _drop_from_compact(f: Path, lo: int | None, hi: int | None) -> int:
    """Remove ``[lo, hi)`` from a compacted file (its values and its coverage); 1 when it changed. The rest of
    the history stays: CloudWatch may no longer have it to fetch again."""
    try:
        t = pq.read_table(f)
        meta = t.schema.metadata or {}
        ranges = [tuple(r) for r in json.loads(meta[b"ranges"])]
        ident = meta[b"identity"].decode()
    except Exception:
        f.unlink(missing_ok=True)  # unreadable: remove it
        return 1
    lo_ = lo if lo is not None else -(2 ** 62)
    hi_ = hi if hi is not None else 2 ** 62
    if not any(a < hi_ and b > lo_ for a, b in ranges):
        return 0
    keep_r = []
    for a, b in ranges:
        if a < lo_:
            keep_r.append((a, min(b, lo_)))
        if b > hi_:
            keep_r.append((max(a, hi_), b))
    if not keep_r:
        f.unlink(missing_ok=True)
        return 1
    ts, vs = t.column("t").to_numpy(), t.column("v").to_numpy()
    m = (ts < lo_) | (ts >= hi_)
    table = pa.table({"t": pa.array(ts[m], pa.int64()), "v": pa.array(vs[m], pa.float64())})
    table = table.replace_schema_metadata({"ranges": json.dumps([list(r) for r in keep_r]), "identity": ident})
    _atomic_table(table, f, POINTS_PER_CHUNK)
    return 1


def s0_settled(lo: int, settled_s: int, period: int) -> int:
    """The end of the last whole period (on the grid through ``lo``) that is settled."""
    return lo + max(0, (settled_s - lo) // period) * period


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1]:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return [tuple(x) for x in out]


def source_key(src) -> str:
    """Cache namespace of a source. CloudWatch: the AWS account (STS GetCallerIdentity, once per source) and
    region, plus the endpoint — so another profile or role never reads the first account's data. Demo: the
    environment and scenario seed. Files: the folder."""
    aws = getattr(src, "aws", None)
    if aws is not None:
        parts = [src.name, src.account_id() if hasattr(src, "account_id") else "", aws.region,
                 aws.endpoint_url or ""]
        if getattr(aws, "source_account", None):  # read through a monitoring account: the source account's data
            parts.append(aws.source_account)
    else:
        env = getattr(src, "environment", None)
        parts = [src.name, getattr(env, "name", ""), str(getattr(src, "path", ""))]
        if src.name == "demo":
            parts.append(str(getattr(getattr(src, "scenario", None), "seed", "")))
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:16]
