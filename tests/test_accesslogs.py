"""Access-log parsers on formats nobody on the team wrote: lines as AWS and the CLF specification give them."""

import pandas as pd

from rtanalytics.accesslogs import parse_alb, parse_clf

# The HTTP entry example of the ALB access-log documentation
# (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html)
ALB_DOC = ('http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 '
           '0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - '
           'arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 '
           '"Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-" '
           '"10.0.0.1:80" "200" "-" "-"')
# ... and a request that never reached a target (-1 processing times, target fields "-")
ALB_502 = ('https 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 - -1 -1 -1 '
           '502 - 34 366 "POST https://www.example.com:443/api/requests?id=7 HTTP/1.1" "Mozilla/5.0 (X11; '
           'Linux x86_64)" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 '
           'arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 '
           '"Root=1-58337364-23a8c76965a2ef7629b185e3" "www.example.com" "arn:aws:acm:us-east-2:123456789012:'
           'certificate/12345678-1234-1234-1234-123456789012" 1 2018-07-02T22:22:48.364000Z "forward" "-" '
           '"-" "-" "-" "-" "-" TID_1234')


def test_alb_documented_lines():
    df = parse_alb([ALB_DOC, ALB_502, "garbage line", ""])
    assert df.attrs["malformed"] == 2 and len(df) == 2
    a, b = df.iloc[0], df.iloc[1]
    assert a["timestamp"] == pd.Timestamp("2018-07-02T22:23:00.186641Z")
    assert (a["client"], a["method"], a["path"], a["status"], a["bytes"]) == ("192.168.131.39", "GET", "/", 200, 366)
    assert a["duration_s"] == 0.001 and a["user_agent"] == "curl/7.46.0" and a["target_status"] == 200
    assert b["path"] == "/api/requests" and b["status"] == 502 and pd.isna(b["duration_s"])  # -1: missing
    assert pd.isna(b["target_status"]) and b["user_agent"] == "Mozilla/5.0 (X11; Linux x86_64)"


def test_clf_and_combined_with_placeholders():
    lines = [
        '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326',  # the CLF example
        '203.0.113.9 - - [11/Nov/2026:18:07:12 +0000] "POST /api/requests HTTP/1.1" 500 - "-" "Mozilla/5.0"',
        '198.51.100.4 - - [11/Nov/2026:18:07:13 +0000] "GET /search?q=\\"x\\" HTTP/1.1" 404 12 "-" "-"',
        'not a log line',
        '203.0.113.9 - - [31/Foo/2026:18:07:12 +0000] "GET / HTTP/1.1" 200 1',
    ]
    df = parse_clf(lines)
    assert len(df) == 3 and df.attrs["malformed"] == 2
    first = df.iloc[0]
    assert first["timestamp"] == pd.Timestamp("2000-10-10T20:55:36Z")  # -0700 converted to UTC
    assert (first["method"], first["path"], first["status"], first["bytes"]) == ("GET", "/apache_pb.gif", 200, 2326)
    assert df.iloc[1]["bytes"] == 0 and df.iloc[1]["user_agent"] == "Mozilla/5.0"
    assert df.iloc[2]["path"] == "/search" and pd.isna(df.iloc[2]["user_agent"])


# A Lambda target that answered badly: the documented error_reason on a 502, and the fields after it
ALB_LAMBDA = ('https 2026-11-11T18:07:00.186641Z app/RealTechee-ALB/50dc6c495c0c9188 203.0.113.9:2817 - 0.000 '
              '0.051 -1 502 - 120 272 "POST https://realtechee.example:443/api/requests HTTP/1.1" "Mozilla/5.0" '
              'ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-west-1:123456789012:targetgroup/'
              'lambda-tg/73e2d6bc24d8a067 "Root=1-58337364-23a8c76965a2ef7629b185e3" "realtechee.example" "-" 0 '
              '2026-11-11T18:06:59.364000Z "forward" "-" "LambdaInvalidResponse" "-" "-" "Ambiguous" '
              '"UndefinedContentLengthSemantics" TID_1a2b3c "a-field-aws-adds-later"')


def test_alb_keeps_every_documented_field_and_names_malformed_lines():
    df = parse_alb(["", ALB_LAMBDA, "garbage line", "https not-a-time x"])
    r = df.iloc[0]
    assert r["status"] == 502 and r["error_reason"] == "LambdaInvalidResponse" and r["type"] == "https"
    assert r["classification"] == "Ambiguous" and r["classification_reason"] == "UndefinedContentLengthSemantics"
    assert r["conn_trace_id"] == "TID_1a2b3c" and r["field_31"] == "a-field-aws-adds-later"
    assert r["domain_name"] == "realtechee.example" and r["actions_executed"] == "forward"
    bad = df.attrs["malformed_lines"]
    assert [b["line"] for b in bad] == [1, 3, 4]
    assert "not a request type" in bad[1]["reason"] and bad[1]["text"] == "garbage line"
