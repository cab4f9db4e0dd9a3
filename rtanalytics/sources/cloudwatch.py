"""The ``cloudwatch`` source: CloudWatch metrics, alarms and logs through boto3.

Limits it plans around (GetMetricData, https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html):
at most 500 ``MetricDataQuery`` per request and at most 100,800 datapoints per response. For each group of
queries with the same period the plan picks the number of time slices ``k`` and queries per request ``b``
that minimise requests (``k * ceil(n / b)`` with ``b * ceil(points / k) <= 100,800``), which meets the lower
bound ``max(ceil(total points / 100,800), ceil(queries / 500))`` whenever the points divide evenly. Responses
are paged with ``NextToken``. Missing periods stay absent (NaN in the frame), never zero.

Retention (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Metric):
1-minute data for 15 days, 5-minute for 63 days, 1-hour for 455 days; :func:`finest_period` picks the finest
period still retained for a window's start.

A request that still fails after botocore's bounded retries does not end the fetch: its queries are listed in
:attr:`CloudWatchSource.problems` with the cause, their values stay missing, and reports say ``partial``.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from typing import Sequence

import numpy as np
import pandas as pd

from ..catalog import catalog
from ..catalog.models import Environment
from ..errors import AuthError, ParameterError, SourceError
from ..frames import ALARM_HISTORY_COLUMNS, EVENT_COLUMNS, empty_alarm_history, empty_events, empty_logs
from ..logs import parse_winston
from ..parallel import Progress, overlap  # noqa: F401  (Progress: re-exported)
from ..queries import MetricQuery, referenced_ids
from ..retention import finest_period as _fp
from ..timewindow import TimeWindow, to_utc, utcnow
from .aws import DAMAGED_RETRIES, AwsContext
from .base import MetricId, assemble, cloudwatch_window, grid_bounds, mark_incomplete, match_metric, problem, servable

# CloudTrail events that belong on a postmortem timeline (LookupEvents takes one EventName per call)
CHANGE_EVENTS = ["UpdateFunctionCode20150331v2", "UpdateFunctionConfiguration20150331v2", "UpdateTable",
                 "PutMetricAlarm", "DeleteAlarms", "PutRolePolicy", "AttachRolePolicy", "DetachRolePolicy",
                 "CreatePolicyVersion"]
MAX_QUERIES = 500
MAX_DATAPOINTS = 100_800
INSIGHTS_MAX_ROWS = 10_000


ENV_CONCURRENCY = "RTANALYTICS_AWS_CONCURRENCY"
DEFAULT_CONCURRENCY = 16


def finest_period(window: TimeWindow, now=None) -> int:
    """The finest period CloudWatch still serves for data starting at ``window.start`` (see
    :mod:`rtanalytics.retention`)."""
    return _fp(window.start, to_utc(now) if now is not None else utcnow())


def plan_requests(queries: Sequence[MetricQuery], window: TimeWindow) -> list[tuple[list[MetricQuery], TimeWindow]]:
    """Split queries and time into GetMetricData requests within the API's limits (see module docstring)."""
    plan = []
    by_period: dict[int, list[MetricQuery]] = {}
    for q in queries:
        by_period.setdefault(q.period, []).append(q)
    for period, qs in sorted(by_period.items()):
        s0, npoints = grid_bounds(window, period)
        has_expr = any(q.expression is not None for q in qs)
        n = len(qs)
        if has_expr:
            if n > MAX_QUERIES:
                raise SourceError(f"{n} queries with period {period} include metric math; one request holds at "
                                  f"most {MAX_QUERIES} (math must sit with the metrics it references)")
            k = max(1, math.ceil(npoints * n / MAX_DATAPOINTS))
            b = n
        else:
            best = None
            kmin = max(1, math.ceil(npoints / MAX_DATAPOINTS))
            for k_ in range(kmin, kmin + 256):
                per = math.ceil(npoints / k_)
                b_ = min(MAX_QUERIES, MAX_DATAPOINTS // per)
                if b_ < 1:
                    continue
                calls = k_ * math.ceil(n / b_)
                if best is None or calls < best[0]:
                    best = (calls, k_, b_)
                if k_ >= npoints:
                    break
            _, k, b = best
        per = math.ceil(npoints / k)
        for i in range(k):
            a = s0 + i * per * period
            e = min(s0 + min((i + 1) * per, npoints) * period, s0 + npoints * period)
            if a >= e:
                continue
            tw = TimeWindow(pd.Timestamp(a, unit="s", tz="UTC"), pd.Timestamp(e, unit="s", tz="UTC"))
            for j in range(0, n, b):
                plan.append((qs[j:j + b], tw))
    return plan


class CloudWatchSource:
    """CloudWatch and CloudWatch Logs for one environment (region, optional profile and endpoint)."""

    name = "cloudwatch"

    def __init__(self, environment="production", context: AwsContext | None = None, now=None,
                 concurrency: int | None = None, insights_concurrency: int = 8, **_):
        env = environment if isinstance(environment, Environment) else catalog().environment(environment)
        self.environment = env
        self.aws = context or AwsContext.for_environment(env)
        self.now = to_utc(now) if now is not None else None
        self.problems: list[dict] = []
        self.insights_stats: list[dict] = []  # bytesScanned / recordsMatched per Logs Insights query (cost)
        # requests in flight at once, each still waiting for its API's quota: 16 unless RTANALYTICS_AWS_CONCURRENCY
        # says otherwise (1: one request after another, as before 0.2; a report's fetches then wait one by one too)
        self.concurrency = concurrency if concurrency is not None else _env_concurrency()
        self.insights_concurrency = insights_concurrency  # Logs Insights queries running at once
        self._insights_slots = threading.BoundedSemaphore(max(1, insights_concurrency))
        self._account: str | None = None

    def account_id(self) -> str:
        """The AWS account the credentials belong to (STS GetCallerIdentity, asked once; needs no permission)."""
        if self._account is None:
            self._account = str(self.aws.call("sts", "get_caller_identity").get("Account", ""))
        return self._account

    # ------------------------------------------------------------------------------------------------ metrics
    def metrics(self, queries: Sequence[MetricQuery], window: TimeWindow) -> pd.DataFrame:
        """GetMetricData for ``queries`` over ``window`` (start rounded as CloudWatch rounds it for its age).

        A query is complete only when every request that carried it answered ``Complete``: a request that
        failed after retries, a ``StatusCode`` of ``PartialData`` (without a further ``NextToken``),
        ``InternalError`` or ``Forbidden``, or response-level ``Messages`` (for example "Maximum number of
        allowed metrics exceeded") make it *incomplete*: listed in :attr:`problems` and in
        ``df.attrs["incomplete"]``, so the cache never stores it and the report says ``partial``. A query whose
        period the retention tier of the window's start cannot serve is not sent (see
        :func:`~rtanalytics.sources.base.servable`). The first authentication or authorisation error
        (AccessDenied, ExpiredToken, ...) stops the fetch with :class:`AuthError` and the fix.
        """
        now = self.now or utcnow()
        window = cloudwatch_window(window, now)
        ids = {}
        for q in queries:
            if q.id in ids and ids[q.id] != q:
                raise SourceError(f"two different queries share the id {q.id!r}")
            ids[q.id] = q
        sendable, probs = servable(queries, window, now)
        kept = _with_inputs(sendable, queries)
        probs += [problem(q, window, "metric math whose inputs cannot be fetched for this window (retention tier)",
                          "retention") for q in sendable if q not in kept]
        sendable = kept
        parts: dict[str, list] = {q.id: [] for q in queries}
        plan = plan_requests(sendable, window)

        def fetch(item):
            batch, tw = item
            try:
                for _ in range(DAMAGED_RETRIES + 1):  # an answer without a result for a query sent was damaged
                    answer = self._get_metric_data(batch, tw)
                    if {q.id for q in batch if q.return_data} <= {r["Id"] for r in answer[0]}:
                        break
                return answer
            except AuthError:
                raise
            except SourceError as e:
                return e

        # the requests overlap (pages of one request stay in order); answers are taken in the plan's order, so
        # the frame, its problems and what the cache stores are those of one request after another
        answers = overlap(fetch, plan, self.concurrency, "GetMetricData requests")
        for (batch, tw), answer in zip(plan, answers):
            if isinstance(answer, SourceError):
                probs += [problem(q, tw, str(answer), "fetch") for q in batch]
                continue
            results, messages = answer
            answered = {r["Id"] for r in results}
            for q in batch:  # GetMetricData answers every query it was sent: one it did not answer is missing data
                if q.return_data and q.id not in answered:
                    probs.append(problem(q, tw, "GetMetricData's answer has no result for this query (a damaged "
                                         "answer): missing, not empty", "fetch"))
            if messages:
                text = "; ".join(f"{m.get('Code', '')}: {m.get('Value', '')}".strip(": ") for m in messages)
                probs += [problem(q, tw, f"GetMetricData message: {text}", "partial") for q in batch]
            for res in results:
                parts.setdefault(res["Id"], []).extend(zip(res["Timestamps"], res["Values"]))
                code = res["StatusCode"]
                if code != "Complete":
                    why = "; ".join(m.get("Value", "") for m in res.get("Messages", []) if m.get("Value"))
                    probs.append(problem(ids.get(res["Id"]), tw, f"{code}" + (f": {why}" if why else "")
                                         + (" (CloudWatch returned only part of the data)" if code == "PartialData"
                                            else ""), "partial" if code == "PartialData" else "fetch"))
        cols = {q.label: _series(parts.get(q.id, [])) for q in queries}
        self.problems += probs
        return mark_incomplete(assemble(cols, queries, window), probs)

    def _problem(self, q, tw, reason, kind="fetch"):
        self.problems.append(problem(q, tw, reason, kind))

    def _get_metric_data(self, batch: list[MetricQuery], tw: TimeWindow):
        """All pages of one request: ``(results by Id with every page's datapoints, response Messages)``.
        A result's status is ``Complete`` only when its last page says so."""
        token = None
        merged: dict[str, dict] = {}
        messages: list[dict] = []
        while True:
            mdq = [q.to_cloudwatch() for q in batch]
            if self._source_account:  # a monitoring account reads the source account's metrics
                mdq = [q | {"AccountId": self._source_account} for q in mdq]
            kw = dict(MetricDataQueries=mdq, StartTime=tw.start.to_pydatetime(),
                      EndTime=tw.end.to_pydatetime(), ScanBy="TimestampAscending")
            if token:
                kw["NextToken"] = token
            resp = self.aws.call("cloudwatch", "get_metric_data", **kw)
            messages += list(resp.get("Messages", []) or [])
            for r in resp.get("MetricDataResults", []):
                m = merged.setdefault(r["Id"], {"Id": r["Id"], "Label": r.get("Label"), "Timestamps": [],
                                                "Values": [], "StatusCode": "Complete", "Messages": []})
                m["Timestamps"].append(r.get("Timestamps", []))  # pages kept as they came: joined as arrays
                m["Values"].append(r.get("Values", []))
                code = r.get("StatusCode") or "InternalError"  # never a guess of Complete (aws.damage refuses it)
                if m["StatusCode"] in ("Complete", "PartialData"):  # a later page's word on paging wins
                    m["StatusCode"] = code
                m["Messages"] += list(r.get("Messages", []))
            token = resp.get("NextToken")
            if not token:
                break
        for m in merged.values():
            m["Timestamps"] = [t for page in m["Timestamps"] for t in ([page] if len(page) else [])]
            m["Values"] = [v for page in m["Values"] for v in ([page] if len(page) else [])]
        return list(merged.values()), messages

    def list_metrics(self, namespace=None, metric=None, dimensions=None) -> list[MetricId]:
        """ListMetrics, paginated; dimension values with globs are matched here after an unfiltered call."""
        kw = {}
        if namespace:
            kw["Namespace"] = namespace
        if metric and not any(c in metric for c in "*?["):
            kw["MetricName"] = metric
        if dimensions:
            kw["Dimensions"] = [{"Name": k, **({} if any(c in str(v) for c in "*?[") else {"Value": str(v)})}
                                for k, v in dimensions.items()]
        if self._source_account:
            kw |= {"IncludeLinkedAccounts": True, "OwningAccount": self._source_account}
        out, token = [], None
        while True:
            resp = self.aws.call("cloudwatch", "list_metrics", **kw, **({"NextToken": token} if token else {}))
            for m in resp.get("Metrics", []):
                mid = MetricId(m["Namespace"], m["MetricName"],
                               tuple(sorted((d["Name"], d["Value"]) for d in m.get("Dimensions", []))))
                if match_metric(mid, namespace, metric, dimensions):
                    out.append(mid)
            token = resp.get("NextToken")
            if not token:
                break
        return sorted(set(out), key=lambda m: (m.namespace, m.metric, m.dimensions))

    # ------------------------------------------------------------------------------------------------- alarms
    def describe_alarms(self, names: Sequence[str] | None = None, prefix: str | None = None,
                        state: str | None = None) -> dict:
        """DescribeAlarms, paginated: ``{"metric": [...], "composite": [...]}`` as AWS returns them."""
        kw = {"AlarmTypes": ["MetricAlarm", "CompositeAlarm"]}
        if names:
            kw["AlarmNames"] = list(names)
        if prefix:
            kw["AlarmNamePrefix"] = prefix
        if state:
            kw["StateValue"] = state
        out = {"metric": [], "composite": []}
        token = None
        while True:
            resp = self.aws.call("cloudwatch", "describe_alarms", **kw, **({"NextToken": token} if token else {}))
            out["metric"] += resp.get("MetricAlarms", [])
            out["composite"] += resp.get("CompositeAlarms", [])
            token = resp.get("NextToken")
            if not token:
                break
        return out

    def alarm_history(self, window: TimeWindow, alarm_names: Sequence[str] | None = None) -> pd.DataFrame:
        """DescribeAlarmHistory state updates (paginated) as the alarm-history frame."""
        names = list(alarm_names) if alarm_names else [None]

        def one(name) -> list[dict]:  # one alarm's pages, in order
            rows, token = [], None
            while True:
                # without AlarmTypes DescribeAlarmHistory returns metric alarms only: ask for composites too
                kw = dict(HistoryItemType="StateUpdate", StartDate=window.start.to_pydatetime(),
                          EndDate=window.end.to_pydatetime(), ScanBy="TimestampAscending", MaxRecords=100,
                          AlarmTypes=["MetricAlarm", "CompositeAlarm"])
                if name:
                    kw["AlarmName"] = name
                if token:
                    kw["NextToken"] = token
                resp = self.aws.call("cloudwatch", "describe_alarm_history", **kw)
                rows += [history_row(i) for i in resp.get("AlarmHistoryItems", [])]
                token = resp.get("NextToken")
                if not token:
                    return rows

        # alarms overlap (DescribeAlarmHistory's quota still holds); rows in the serial order
        return history_frame([r for part in overlap(one, names, self.concurrency, "alarm histories") for r in part])

    # --------------------------------------------------------------------------------------------------- logs
    def logs(self, log_group: str, window: TimeWindow, filter_pattern: str | None = None) -> pd.DataFrame:
        """FilterLogEvents, paginated, into the logs frame (winston JSON parsed into columns)."""
        events, token = [], None
        while True:
            kw = dict(self._log_group_arg(log_group), startTime=_ms(window.start), endTime=_ms(window.end) - 1)
            if filter_pattern:
                kw["filterPattern"] = filter_pattern
            if token:
                kw["nextToken"] = token
            resp = self.aws.call("logs", "filter_log_events", **kw)
            events += resp.get("events", [])
            token = resp.get("nextToken")
            if not token:
                break
        return events_frame(events, log_group)

    @property
    def _source_account(self) -> str | None:
        """The linked source account when reading through a monitoring account (contexts made elsewhere, such as
        tests' fakes, have none)."""
        return getattr(self.aws, "source_account", None)

    def _log_group_arg(self, log_group: str) -> dict:
        """``logGroupName``, or through a monitoring account the source account's log group ARN."""
        if not self._source_account:
            return {"logGroupName": log_group}
        arn = f"arn:aws:logs:{self.environment.region}:{self._source_account}:log-group:{log_group}"
        return {"logGroupIdentifier": arn}

    def insights_many(self, specs: Sequence[dict], deadline_s: float = 120, poll_s: float = 1.0) -> list[pd.DataFrame]:
        """Several Logs Insights queries (each a dict of :meth:`insights`' ``log_groups``, ``query`` and
        ``window``) started together and polled together, at most :attr:`insights_concurrency` running at once
        (AWS allows 30 concurrent queries per account: the default leaves most of them to other users). The first
        failure, deadline or Ctrl-C stops every query still running (StopQuery). Frames in the specs' order."""
        cancel = threading.Event()
        return overlap(lambda sp: self.insights(sp["log_groups"], sp["query"], sp["window"], deadline_s, poll_s,
                                                _cancel=cancel), specs, self.insights_concurrency,
                       "Logs Insights queries", probe_first=False, cancel=cancel)

    def insights(self, log_groups: str | Sequence[str], query: str, window: TimeWindow, deadline_s: float = 120,
                 poll_s: float = 1.0, limit: int = INSIGHTS_MAX_ROWS, _depth: int = 0,
                 _cancel=None) -> pd.DataFrame:
        """A Logs Insights query, complete even past the 10,000-row cap.

        Polls GetQueryResults until done or ``deadline_s`` (then :class:`SourceError`); a query still running
        when anything goes wrong (deadline, a failed call, an interrupt, another query of the same
        :meth:`insights_many` failing) is stopped with StopQuery, so it does not hold one of the account's
        concurrent Insights slots. ``bytesScanned`` and ``recordsMatched`` of every query are kept in
        :attr:`insights_stats` for the run's provenance. When a result reaches the cap, the window is halved and
        both halves are queried concurrently, again until every slice is under it, so rows are never silently
        lost; ``df.attrs["slices"]`` and ``df.attrs["complete"]`` say so. Splitting is exact for queries that
        return rows or ``stats ... by bin()`` with bins that divide the slices; a whole-window aggregate that hits
        the cap raises instead.
        """
        cancel = _cancel if _cancel is not None else threading.Event()
        groups = [log_groups] if isinstance(log_groups, str) else list(log_groups)
        with self._insights_slots:  # one of the queries this source runs at once, held while this one runs
            r = self._run_insights(groups, query, window, deadline_s, poll_s, limit, cancel)
        st = r.get("statistics", {}) or {}
        self.insights_stats.append({"query": query, "log_groups": groups, "start": window.start.isoformat(),
                                    "end": window.end.isoformat(),
                                    "bytes_scanned": float(st.get("bytesScanned", 0) or 0),
                                    "records_matched": float(st.get("recordsMatched", 0) or 0),
                                    "records_scanned": float(st.get("recordsScanned", 0) or 0)})
        df = insights_frame(r.get("results", []))
        if len(df) >= limit:
            if "stats" in query and "bin(" not in query:
                raise SourceError(f"Logs Insights aggregate hit the {limit}-row cap and cannot be split exactly; "
                                  "add 'by bin(...)' or narrow the query")
            if window.duration <= pd.Timedelta(seconds=2) or _depth > 20:
                raise SourceError("Logs Insights result still at the row cap in a 2-second slice")
            mid = (window.start + (window.end - window.start) / 2).floor("s")
            halves = [TimeWindow(window.start, mid), TimeWindow(mid, window.end)]
            parts = overlap(lambda tw: self.insights(groups, query, tw, deadline_s, poll_s, limit, _depth + 1,
                                                     _cancel=cancel), halves, 2, "Logs Insights slices",
                            probe_first=False, cancel=cancel)
            df = pd.concat(parts, ignore_index=True)
            df.attrs["slices"] = sum(p.attrs.get("slices", 1) for p in parts)
        else:
            df.attrs["slices"] = 1
        df.attrs["complete"] = True
        return df

    def _run_insights(self, groups, query, window, deadline_s, poll_s, limit, cancel) -> dict:
        """Start one query and poll it to its end, the deadline or ``cancel``; a query still running when
        anything goes wrong is stopped (StopQuery)."""
        if cancel.is_set():
            raise SourceError("Logs Insights query not started: another query of the same run failed")
        target = ({"logGroupIdentifiers": [self._log_group_arg(g)["logGroupIdentifier"] for g in groups]}
                  if self._source_account else {"logGroupNames": groups})
        resp = self.aws.call("logs", "start_query", **target, queryString=query,
                             startTime=int(window.start.timestamp()), endTime=int(window.end.timestamp()) - 1,
                             limit=limit)
        qid = resp["queryId"]
        t0 = time.monotonic()
        done = False
        progress = Progress(1, f"Logs Insights {qid[:8]}", min_total=1) if deadline_s > 5 else None
        try:
            while True:
                r = self.aws.call("logs", "get_query_results", queryId=qid)
                status = r.get("status")
                if status == "Complete":
                    done = True
                    return r
                if status in ("Failed", "Cancelled", "Timeout", "Unknown"):
                    done = True  # nothing left running on AWS's side
                    raise SourceError(f"Logs Insights query {status.lower()}: {query!r} on {groups}")
                if time.monotonic() - t0 > deadline_s:
                    raise SourceError(f"Logs Insights query did not finish within {deadline_s:g} s (stopped): "
                                      f"{query!r}")
                if progress is not None:
                    scanned = (r.get("statistics") or {}).get("recordsScanned")
                    progress.update(0, f" running {time.monotonic() - t0:.0f} s"
                                    + (f", {float(scanned):,.0f} records scanned" if scanned else ""))
                if cancel.wait(poll_s):
                    raise SourceError(f"Logs Insights query stopped: another query of the same run failed ({query!r})")
        finally:
            if progress is not None:
                progress.close()
            if not done:  # any error, timeout or interrupt: free the slot (concurrent queries per account)
                try:
                    self.aws.call("logs", "stop_query", queryId=qid)
                except Exception:
                    pass

    def log_counts(self, log_group: str, window: TimeWindow, level: str | None = "error",
                   bin_s: int = 300) -> pd.Series:
        """Count of log events per bin, aggregated on AWS's side by Logs Insights (no raw download)."""
        flt = f'| filter level = "{level}" ' if level else ""
        q = f"fields @timestamp {flt}| stats count(*) as n by bin({int(bin_s)}s) as t"
        df = self.insights(log_group, q, window)
        if df.empty:
            return pd.Series(dtype="float64", name="n")
        s = pd.Series(pd.to_numeric(df["n"]).to_numpy(dtype="float64"), index=pd.to_datetime(df["t"], utc=True),
                      name="n")
        return s.groupby(level=0).sum().sort_index()

    def describe_log_groups(self, prefix: str | None = None) -> list[dict]:
        out, token = [], None
        while True:
            kw = {}
            if prefix:
                kw["logGroupNamePrefix"] = prefix
            if token:
                kw["nextToken"] = token
            resp = self.aws.call("logs", "describe_log_groups", **kw)
            out += resp.get("logGroups", [])
            token = resp.get("nextToken")
            if not token:
                break
        return out

    def events(self, window: TimeWindow) -> pd.DataFrame:
        """The changes a postmortem needs on its timeline, from AWS's own records (alarm state changes come
        from :meth:`alarm_history`):

        * Amplify Gen2 deploys: ListJobs for the environment's ``amplify_app_id`` and ``amplify_branch``
          (paginated; each job's start, end, status and commit message) — kind ``deploy``;
        * CloudTrail LookupEvents (paginated, one call per event name, the only filter the API takes) for the
          changes that matter: Lambda code and configuration, DynamoDB tables, alarms, IAM policies — kind
          ``change``.

        ``df.attrs["searched"]`` says what was searched, so a report can say "no change found in ..." rather
        than show an empty timeline as if nothing changed."""
        rows, searched = [], []
        r = self.environment.resources
        if r.amplify_app_id and r.amplify_branch:
            searched.append(f"Amplify jobs of {r.amplify_app_id}/{r.amplify_branch}")
            token = None
            while True:
                resp = self.aws.call("amplify", "list_jobs", appId=r.amplify_app_id, branchName=r.amplify_branch,
                                     maxResults=50, **({"nextToken": token} if token else {}))
                for j in resp.get("jobSummaries", []):
                    st = pd.Timestamp(j.get("startTime"))
                    st = st.tz_localize("UTC") if st.tzinfo is None else st.tz_convert("UTC")
                    if st >= window.end:
                        continue
                    en = pd.Timestamp(j["endTime"]) if j.get("endTime") else pd.NaT
                    if pd.notna(en):
                        en = en.tz_localize("UTC") if en.tzinfo is None else en.tz_convert("UTC")
                    if pd.notna(en) and en < window.start:
                        continue
                    rows.append({"start": st, "end": en, "kind": "deploy", "source": "amplify",
                                 "severity": "warning" if j.get("status") in ("FAILED", "CANCELLED") else "info",
                                 "summary": f"Amplify {j.get('jobType', 'RELEASE').lower()} job {j.get('jobId')} "
                                            f"{j.get('status', '').lower()}: commit {str(j.get('commitId', ''))[:8]} "
                                            f"{str(j.get('commitMessage', ''))[:120]}"})
                token = resp.get("nextToken")
                if not token:
                    break
        searched.append("CloudTrail " + ", ".join(CHANGE_EVENTS))

        def lookup(name: str) -> list[dict]:  # one event name's pages, in order
            out, token = [], None
            while True:
                resp = self.aws.call("cloudtrail", "lookup_events", LookupAttributes=[
                    {"AttributeKey": "EventName", "AttributeValue": name}], StartTime=window.start.to_pydatetime(),
                    EndTime=window.end.to_pydatetime(), MaxResults=50, **({"NextToken": token} if token else {}))
                for e in resp.get("Events", []):
                    t = pd.Timestamp(e["EventTime"])
                    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
                    res = ", ".join(x.get("ResourceName", "") for x in e.get("Resources", [])[:3]) or "?"
                    out.append({"start": t, "end": pd.NaT, "kind": "change", "source": "cloudtrail",
                                "severity": "info", "summary": f"{name} on {res} by {e.get('Username', '?')}"})
                token = resp.get("NextToken")
                if not token:
                    return out

        # the event names overlap (LookupEvents' own quota, 2 per second, still holds); rows in the serial order
        for part in overlap(lookup, CHANGE_EVENTS, self.concurrency, "CloudTrail lookups"):
            rows += part
        df = pd.DataFrame(rows, columns=EVENT_COLUMNS) if rows else empty_events()
        if rows:
            df["start"] = pd.to_datetime(df["start"], utc=True)
            df["end"] = pd.to_datetime(df["end"], utc=True)
            df = df.sort_values("start", kind="stable").reset_index(drop=True)
        df.attrs["searched"] = searched
        return df


def _with_inputs(sendable: list[MetricQuery], queries: Sequence[MetricQuery]) -> list[MetricQuery]:
    """An expression travels with the queries it references: drop an expression whose inputs cannot be sent."""
    ok = {q.id for q in sendable}
    out = []
    for q in sendable:
        if q.expression is not None:
            refs = referenced_ids(q.expression, {x.id for x in queries})
            if not refs <= ok:
                continue
        out.append(q)
    return out




def _epoch_ns(ts) -> np.ndarray:
    """One page's timestamps as int64 nanoseconds since the epoch, converted as a whole array: epoch seconds (the
    JSON protocol, with the raw-timestamp client), ISO 8601 strings (the query protocol, exports) or datetimes
    (botocore's default parser; test doubles)."""
    numeric = ts.dtype.kind in "fiu" if isinstance(ts, np.ndarray) else isinstance(
        ts[0], (int, float, np.integer, np.floating))
    first = ts[0]
    if numeric:
        sec = np.asarray(ts, dtype="float64")
        return np.rint(sec * 1e3).astype("int64") * 1_000_000  # CloudWatch timestamps are whole milliseconds
    if isinstance(first, str):
        return pd.DatetimeIndex(pd.to_datetime(np.asarray(ts, dtype=object), utc=True, format="ISO8601")) \
            .as_unit("ns").asi8
    return pd.DatetimeIndex(pd.to_datetime(list(ts), utc=True)).as_unit("ns").asi8


def _series(parts: list) -> pd.Series:
    """Datapoints of every page and slice of one query as a UTC-indexed float series, built from whole arrays:
    no Python work per datapoint. Duplicated timestamps (overlapping slices) keep the last value."""
    parts = [(t, v) for t, v in parts if len(t)]
    if not parts:
        return pd.Series(dtype="float64")
    ns = np.concatenate([_epoch_ns(t) for t, _ in parts])
    vals = np.concatenate([np.asarray(v, dtype="float64") for _, v in parts])
    if len(ns) > 1 and not (np.diff(ns) > 0).all():  # out of order or duplicated: sort, keep the last of each
        order = np.argsort(ns, kind="stable")
        ns, vals = ns[order], vals[order]
        last = np.r_[ns[1:] != ns[:-1], True]
        ns, vals = ns[last], vals[last]
    return pd.Series(vals, index=pd.DatetimeIndex(ns.view("M8[ns]")).tz_localize("UTC"))


def _ms(ts: pd.Timestamp) -> int:
    return int(ts.value // 1_000_000)


def history_row(item: dict) -> dict:
    """One DescribeAlarmHistory StateUpdate item as an alarm-history row."""
    data = item.get("HistoryData")
    try:
        hd = json.loads(data) if isinstance(data, str) else (data or {})
    except ValueError:
        hd = {}
    old = (hd.get("oldState") or {}).get("stateValue")
    new = (hd.get("newState") or {}).get("stateValue")
    reason = (hd.get("newState") or {}).get("stateReason") or item.get("HistorySummary", "")
    if new is None:  # fall back on the summary: "Alarm updated from OK to ALARM"
        summ = item.get("HistorySummary", "")
        parts = summ.replace("Alarm updated from ", "").split(" to ")
        if len(parts) == 2:
            old, new = parts[0].strip(), parts[1].strip()
    return {"timestamp": pd.Timestamp(item["Timestamp"]).tz_convert("UTC") if pd.Timestamp(
        item["Timestamp"]).tzinfo else pd.Timestamp(item["Timestamp"], tz="UTC"), "alarm": item.get("AlarmName"),
            "from_state": old, "to_state": new, "reason": reason}


def history_frame(rows: list[dict]) -> pd.DataFrame:
    if not rows:
        return empty_alarm_history()
    df = pd.DataFrame(rows, columns=ALARM_HISTORY_COLUMNS)
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    return df.sort_values("timestamp", kind="stable").reset_index(drop=True)


def events_frame(events: list[dict], log_group: str) -> pd.DataFrame:
    """FilterLogEvents ``events`` → the logs frame (level from the winston JSON when present)."""
    if not events:
        return empty_logs()
    df = pd.DataFrame({
        "timestamp": pd.to_datetime([e["timestamp"] for e in events], unit="ms", utc=True),
        "log_group": log_group,
        "stream": [e.get("logStreamName", "") for e in events],
        "message": [str(e.get("message", "")).rstrip("\n") for e in events],
    })
    # an event's identity: FilterLogEvents' eventId, else (stream, timestamp, ingestion time, message) — two
    # events with the same time and message are two events (GetLogEvents' own example has such a pair)
    if any("eventId" in e for e in events):
        df["event_id"] = pd.array([e.get("eventId") for e in events], dtype="string")
    if any("ingestionTime" in e for e in events):
        df["ingestion_time"] = pd.to_datetime([e.get("ingestionTime") for e in events], unit="ms", utc=True)
    parsed = parse_winston(df["message"])
    level = parsed["json_level"].where(parsed["json_level"].notna(),
                                       df["message"].str.extract(r"\b(ERROR|WARN|INFO|DEBUG)\b", expand=False)
                                       .str.lower())
    df.insert(3, "level", level)
    df = pd.concat([df, parsed.drop(columns=["json_level"])], axis=1)
    return df.sort_values("timestamp", kind="stable").reset_index(drop=True)


def insights_frame(results: list[list[dict]]) -> pd.DataFrame:
    """GetQueryResults rows → a typed frame (numbers as numbers, ``@timestamp``/bins as UTC times)."""
    rows = [{f["field"]: f.get("value") for f in row if f.get("field") != "@ptr"} for row in results]
    df = pd.DataFrame(rows)
    for c in df.columns:
        if c in ("@timestamp", "@ingestionTime") or c.startswith("bin("):
            df[c] = pd.to_datetime(df[c], utc=True, errors="coerce", format="ISO8601")
            continue
        num = pd.to_numeric(df[c], errors="coerce")
        if num.notna().sum() == df[c].notna().sum() and df[c].notna().any():
            df[c] = num
    if "@message" in df and len(df):  # the seed's winston JSON lines, parsed as FilterLogEvents' are

        parsed = parse_winston(df["@message"].astype(str))
        df = pd.concat([df, parsed.drop(columns=["parse_error"]).rename(columns={"json_level": "level"})], axis=1)
    return df


def _env_concurrency() -> int:
    raw = os.environ.get(ENV_CONCURRENCY, "").strip()
    if not raw:
        return DEFAULT_CONCURRENCY
    if not raw.isdigit() or int(raw) < 1:
        raise ParameterError(ENV_CONCURRENCY, f"{raw!r} is not a whole number of requests",
                             f"{ENV_CONCURRENCY}=16 (the default), or 1 for one request at a time")
    return int(raw)


def _make_cloudwatch(environment="production", **kw) -> CloudWatchSource:
    return CloudWatchSource(environment=environment, **kw)
