"""A real local AWS endpoint for the boto3 paths: moto server on 127.0.0.1, and a fault-injecting proxy."""

from __future__ import annotations

import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CREDS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-west-1"}


from rtanalytics.localaws import MotoServer, free_port  # noqa: E402,F401  (one implementation)


def session():
    import boto3

    return boto3.Session(**CREDS)


class FaultProxy:
    """Forwards to ``target`` on loopback; answers some requests with a fault instead.

    ``plan(n, body, headers) -> None | 'http500' | 'http503' | 'throttle' | 'slow'`` decides for the n-th
    request (0-based).
    """

    def __init__(self, target_port: int, plan, slow_s: float = 3.0):
        self.count = 0
        self.faults = 0
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
                conn = http.client.HTTPConnection("127.0.0.1", target_port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                conn.request("POST", self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
