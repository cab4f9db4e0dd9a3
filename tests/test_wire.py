"""GetMetricData's fast parse (rtanalytics/sources/wire.py, botocore's before-parse hook) against botocore's own
JSON parse, on every shape the API reference documents: Timestamps, Values, StatusCode (Complete, PartialData,
InternalError, Forbidden), per-result Messages, Label, the response's Messages and NextToken, empty results."""

from __future__ import annotations

import json

import botocore.session
import numpy as np
import pytest
from botocore.parsers import ResponseParserFactory

from rtanalytics.sources.wire import before_parse

MODEL = botocore.session.get_session().get_service_model("cloudwatch")
OP = MODEL.operation_model("GetMetricData")


def _response(body: dict) -> dict:
    return {"status_code": 200, "headers": {"content-type": "application/x-amz-json-1.0",
                                            "x-amzn-requestid": "r-1"}, "body": json.dumps(body).encode()}


def botocore_parse(body: dict) -> dict:
    return ResponseParserFactory().create_parser("json").parse(_response(body), OP.output_shape)


def fast_parse(body: dict) -> dict:
    rd, custom = _response(body), {}
    before_parse(operation_model=OP, response_dict=rd, customized_response_dict=custom)
    out = ResponseParserFactory().create_parser("json").parse(rd, OP.output_shape)  # what botocore does next
    out.update(custom)
    return out


def _plain(resp: dict) -> dict:
    """Datetimes and arrays as epoch seconds and lists, for comparison."""
    out = json.loads(json.dumps({k: v for k, v in resp.items() if k != "ResponseMetadata"}, default=str))
    for r, orig in zip(out.get("MetricDataResults", []), resp.get("MetricDataResults", [])):
        ts = orig.get("Timestamps", [])
        r["Timestamps"] = [t.timestamp() if hasattr(t, "timestamp") else float(t) for t in ts]
        r["Values"] = [float(v) for v in orig.get("Values", [])]
    return out


SHAPES = {
    "complete": {"MetricDataResults": [{"Id": "m1", "Label": "Requests", "Timestamps": [1763640000, 1763640060.5],
                                        "Values": [1.0, 2.5], "StatusCode": "Complete"}]},
    "paged": {"MetricDataResults": [{"Id": "m1", "Timestamps": [1763640000], "Values": [3.0],
                                     "StatusCode": "PartialData"}], "NextToken": "tok-2"},
    "messages": {"MetricDataResults": [{"Id": "e1", "Label": "expr", "Timestamps": [], "Values": [],
                                        "StatusCode": "InternalError",
                                        "Messages": [{"Code": "ArithmeticError", "Value": "division by zero"}]},
                                       {"Id": "f1", "Timestamps": [], "Values": [], "StatusCode": "Forbidden"}],
                 "Messages": [{"Code": "MaxMetricsExceeded", "Value": "Maximum number of allowed metrics exceeded"}]},
    "empty": {"MetricDataResults": []},
    "many": {"MetricDataResults": [{"Id": f"q{i}", "Label": f"q{i}", "Timestamps": list(range(1763640000,
                                    1763640000 + 60 * 500, 60)), "Values": [float(j) * 0.1 for j in range(500)],
                                    "StatusCode": "Complete"} for i in range(3)]},
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_fast_parse_equals_botocore(name):
    body = SHAPES[name]
    fast, slow = fast_parse(body), botocore_parse(body)
    assert _plain(fast) == _plain(slow)
    assert set(fast) == set(slow)  # ResponseMetadata included
    for r in fast["MetricDataResults"]:
        assert isinstance(r["Timestamps"], np.ndarray) and r["Timestamps"].dtype == np.float64
        assert isinstance(r["Values"], np.ndarray) and r["Values"].dtype == np.float64


def test_iso_timestamps_and_other_responses_are_left_to_botocore():
    iso = {"MetricDataResults": [{"Id": "m", "Timestamps": ["2025-11-20T12:00:00Z"], "Values": [1.0],
                                  "StatusCode": "Complete"}]}
    assert _plain(fast_parse(iso)) == _plain(botocore_parse(iso))
    rd, custom = _response({"__type": "InvalidParameterValueException", "message": "bad"}), {}
    rd["status_code"] = 400
    before_parse(operation_model=OP, response_dict=rd, customized_response_dict=custom)
    assert custom == {} and b"InvalidParameterValue" in rd["body"]  # an error: botocore's to parse
