"""A real local AWS endpoint for the boto3 paths: moto server on 127.0.0.1, and a fault-injecting proxy."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time

import numpy as np
import pandas as pd
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from rtanalytics.timewindow import TimeWindow

CREDS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-west-1"}


from rtanalytics.localaws import MotoServer, free_port  # noqa: E402,F401  (one implementation)


class _Backlogged(ThreadingHTTPServer):
    """A threading server whose listen backlog holds a burst of overlapping requests (socketserver's default of
    5 drops the rest, and each dropped client waits a second to connect again)."""

    request_queue_size = 128
    daemon_threads = True



def session():
    import boto3

    return boto3.Session(**CREDS)


LG = "/aws/amplify/RealTechee-Gen2"
# the demo's deploy-5xx incident, moved by whole weeks into the last seven days (moto, like CloudWatch Logs,
# refuses log events older than 14 days), so its daily and weekly patterns stay
_AT = pd.Timestamp("2026-11-11T20:00:00Z")
SHIFT = pd.Timedelta(weeks=max(0, (pd.Timestamp.now(tz="UTC") - _AT) // pd.Timedelta(weeks=1)))
START, END, NOW_AT = (pd.Timestamp("2026-11-11T18:07:00Z") + SHIFT, pd.Timestamp("2026-11-11T18:40:00Z") + SHIFT,
                      _AT + SHIFT)


def seed_incident(aws, demo):
    """The demo's ALB counts around the incident and the same hours a week before; its log lines in the window."""
    cw = aws.client("cloudwatch")
    items = []
    for day in ("2026-11-11", "2026-11-04"):
        m0 = int(pd.Timestamp(f"{day}T14:00Z").timestamp()) // 60
        for key, metric in (("alb.requests", "RequestCount"), ("alb.5xx", "HTTPCode_Target_5XX_Count")):
            k = demo.raw_range(key, m0, m0 + 360)["k"]
            for i in np.flatnonzero(k):
                items.append({"MetricName": metric, "Dimensions": [{"Name": "LoadBalancer",
                                                                     "Value": "RealTechee-ALB"}],
                              "Timestamp": (pd.Timestamp((m0 + int(i)) * 60, unit="s", tz="UTC")
                                            + SHIFT).to_pydatetime(),
                              "Value": float(k[i]), "Unit": "Count"})
    for j in range(0, len(items), 1000):
        cw.put_metric_data(Namespace="AWS/ApplicationELB", MetricData=items[j:j + 1000])
    logs = aws.client("logs")
    logs.create_log_group(logGroupName=LG)
    logs.create_log_stream(logGroupName=LG, logStreamName="application")
    lines = demo.logs(LG, TimeWindow(pd.Timestamp("2026-11-11T15:00Z"), pd.Timestamp("2026-11-11T19:40Z")))
    events = [{"timestamp": int((t + SHIFT).value // 1_000_000), "message": m}
              for t, m in zip(lines["timestamp"], lines["message"])]
    for j in range(0, len(events), 5000):
        logs.put_log_events(logGroupName=LG, logStreamName="application", logEvents=events[j:j + 5000])



DAMAGES = ("truncate", "cut", "empty", "html", "drop_result", "drop_status")


def damaged(fault: str, data: bytes, ctype: str):
    """``(body, content type, promised length or None)`` for a damage of a real answer ``data``."""
    if fault == "truncate":
        return data[:len(data) // 2], ctype, None
    if fault == "cut":
        return data[:len(data) // 2], ctype, len(data)
    if fault == "empty":
        return b"", ctype, None
    if fault == "html":
        return b"<html><body>502 Bad Gateway (corporate proxy)</body></html>", "text/html", None
    doc = json.loads(data)
    if fault == "drop_result":
        doc["MetricDataResults"] = doc.get("MetricDataResults", [])[:-1]
    else:
        for r in doc.get("MetricDataResults", []):
            r.pop("StatusCode", None)
    return json.dumps(doc).encode(), ctype, None


class FaultProxy:
    """Forwards to ``target`` on loopback; answers some requests with a fault instead.

    ``plan(n, body, headers) -> None | 'http500' | 'http503' | 'throttle' | 'slow' | DAMAGE`` decides for the n-th
    request (0-based). The damages answer 200 with a body that is not what the API sends: ``truncate`` (half the
    body, Content-Length to match), ``cut`` (the full Content-Length promised, half sent, the connection closed),
    ``close`` (the connection closed with no answer), ``empty`` (no body), ``html`` (a proxy's HTML page),
    ``drop_result`` (the last MetricDataResults entry removed), ``drop_status`` (every result's StatusCode removed).
    """

    def __init__(self, target_port: int, plan, slow_s: float = 3.0, delay_s: float = 0.0):
        self.count = 0
        self.faults = 0
        self.inflight = 0
        self.max_inflight = 0  # the most requests this proxy held at once: > 1 only if the client overlapped them
        self.delay_s = delay_s  # every request answered after this long (AWS's latency, not a fault)
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                with lock:
                    n = outer.count
                    outer.count += 1
                    outer.inflight += 1
                    outer.max_inflight = max(outer.max_inflight, outer.inflight)
                try:
                    self._answer(n, body)
                finally:
                    with lock:
                        outer.inflight -= 1

            def _answer(self, n, body):
                if outer.delay_s:
                    time.sleep(outer.delay_s)
                fault = plan(n, body, dict(self.headers))
                if fault == "throttle":  # what the JSON-protocol services (CloudWatch Logs) answer when throttled
                    outer.faults += 1
                    body = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'
                    self.send_response(400)
                    self.send_header("Content-Type", "application/x-amz-json-1.1")
                    self.send_header("x-amzn-ErrorType", "ThrottlingException")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if fault in ("http500", "http503"):
                    outer.faults += 1
                    self.send_response(500 if fault == "http500" else 503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if fault == "slow":
                    outer.faults += 1
                    time.sleep(slow_s)
                if fault == "close":
                    outer.faults += 1
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                conn = http.client.HTTPConnection("127.0.0.1", target_port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                conn.request("POST", self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                ctype = resp.getheader("Content-Type", "")
                promised = None
                if fault in DAMAGES:
                    outer.faults += 1
                    data, ctype, promised = damaged(fault, data, ctype)
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length", "content-type"):
                        self.send_header(k, v)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(promised or len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()
                if promised:
                    self.close_connection = True
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)

        self.server = _Backlogged(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
