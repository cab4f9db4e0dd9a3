"""GetMetricData responses parsed from the wire as whole arrays, through botocore's public ``before-parse`` event.

botocore's JSON parser builds a Python ``datetime`` and a float object for every datapoint (up to 100,800 per
page): about 2 µs of every datapoint's cost from bytes to frame (bench/latency.py). For GetMetricData answered
in the JSON protocol this handler parses the body itself (orjson), giving each result's ``Timestamps`` (epoch
seconds) and ``Values`` as float64 numpy arrays, and hands botocore an empty body to parse: botocore merges the
handler's ``customized_response_dict`` into its own result (its documented hook for this), so the response has
every field botocore's parse would have — ``Id``, ``Label``, ``StatusCode``, ``Messages`` per result, the
response's ``Messages`` and ``NextToken``, ``ResponseMetadata`` — with the datapoints as arrays.

Anything else is left to botocore: an error response, another protocol (CBOR or the query protocol, should
botocore choose one), timestamps that are not numbers. Tested equal to botocore's own parse on every shape the
API reference documents (tests/test_wire.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

try:  # a maintained fast JSON parser; the standard library's when it is not installed
    from orjson import loads
except ImportError:  # pragma: no cover
    from json import loads

EVENT = "before-parse.cloudwatch.GetMetricData"
_FIELDS = ("Id", "Label", "StatusCode", "Messages")


def register(client) -> None:
    """Parse ``client``'s GetMetricData responses as arrays (a CloudWatch client made by boto3)."""
    client.meta.events.register(EVENT, before_parse, unique_id="rtanalytics-gmd-arrays")


def before_parse(operation_model=None, response_dict=None, customized_response_dict=None, **_) -> None:
    if response_dict is None or customized_response_dict is None or response_dict.get("status_code") != 200:
        return
    protocol = getattr(getattr(operation_model, "service_model", None), "resolved_protocol", None)
    if protocol != "json":  # the protocol botocore parses this response with (not the content type it claims)
        return
    body = response_dict.get("body") or b"{}"
    try:
        data = loads(body)
        parsed = parse(data)
    except (ValueError, TypeError, KeyError):
        return  # not what the API reference describes: botocore's own parser says what it is
    customized_response_dict.update(parsed)
    response_dict["body"] = b"{}"


def parse(data: dict) -> dict:
    """The GetMetricData output (as decoded JSON) with every result's datapoints as float64 arrays."""
    results = []
    for r in data.get("MetricDataResults", []) or []:
        item = {k: r[k] for k in _FIELDS if k in r}
        ts = r.get("Timestamps", []) or []
        if ts and isinstance(ts[0], str):  # ISO 8601 (what some emulators send): converted as one array
            ns = pd.DatetimeIndex(pd.to_datetime(np.asarray(ts, dtype=object), utc=True, format="ISO8601"))
            item["Timestamps"] = ns.as_unit("ns").asi8 / 1e9
        elif ts and not isinstance(ts[0], (int, float)):
            raise TypeError("timestamps that are neither epoch seconds nor ISO 8601")
        else:
            item["Timestamps"] = np.asarray(ts, dtype="float64")
        item["Values"] = np.asarray(r.get("Values", []) or [], dtype="float64")
        results.append(item)
    out = {"MetricDataResults": results}
    if "NextToken" in data:
        out["NextToken"] = data["NextToken"]
    if "Messages" in data:
        out["Messages"] = data["Messages"]
    return out
