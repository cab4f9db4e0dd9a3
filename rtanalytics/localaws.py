"""Local endpoints for the demo and the tests: moto server on 127.0.0.1 seeded with the stack's resources, and a
small HTTP application with a GraphQL endpoint — so the same probe code runs against them as against production.
Nothing here ever talks to anything but loopback."""

from __future__ import annotations

import io
import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import zipfile
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .sources.aws import AwsContext

DUMMY = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
_RUNNING = re.compile(r"Running on http://127\.0\.0\.1:(\d+)")


class _Backlogged(ThreadingHTTPServer):
    """A threading server whose listen backlog holds a burst of overlapping requests (socketserver's default of
    5 drops the rest, and each dropped client waits a second to connect again)."""

    request_queue_size = 128
    daemon_threads = True



def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoServer:
    """``moto_server`` on 127.0.0.1, started and stopped by us. It binds a port the OS picks (``-p 0``) and we read
    which from its log: choosing a free port first and passing it leaves a window in which two servers started at
    once (two reports' health checks) can be handed the same one."""

    def __init__(self):
        exe = Path(sys.executable).parent / "moto_server"
        env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
        self.proc = subprocess.Popen([str(exe), "-H", "127.0.0.1", "-p", "0"], env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, errors="replace")
        found: queue.Queue = queue.Queue()

        def drain():  # the port, then every request's log line, read and dropped so the pipe never fills
            for line in self.proc.stderr:
                m = _RUNNING.search(line)
                if m:
                    found.put(int(m.group(1)))
            found.put(None)

        threading.Thread(target=drain, name="moto-log", daemon=True).start()
        try:
            port = found.get(timeout=30)
        except queue.Empty:
            port = None
        if port is None:
            self.stop()
            raise RuntimeError("moto_server did not start on 127.0.0.1 within 30 s (is moto[server] installed?)")
        self.port = port
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.url + "/moto-api/", timeout=1)
                return
            except Exception:
                if self.proc.poll() is not None:
                    raise RuntimeError("moto_server exited at start (is moto[server] installed?)")
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("moto_server did not answer within 30 s")

    def reset(self):
        urllib.request.urlopen(urllib.request.Request(self.url + "/moto-api/reset", method="POST"), timeout=10)

    def stop(self):
        # everything it holds is in memory and thrown away: SIGKILL (SIGTERM took werkzeug 0.37 s to honour)
        self.proc.kill()
        self.proc.wait(10)


class DemoApp:
    """The application and its GraphQL endpoint, on loopback. ``mode``: ok, slow, error500, bad-graphql."""

    def __init__(self, mode: str = "ok", delay_s: float = 3.0):
        self.mode = mode
        app = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _send(self, code, body, ctype="application/json"):
                data = body.encode()
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if app.mode == "slow":
                    time.sleep(delay_s)
                if app.mode == "error500":
                    return self._send(500, "<h1>Internal Server Error</h1>", "text/html")
                self._send(200, "<!doctype html><title>RealTechee</title><h1>RealTechee</h1>", "text/html")

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if app.mode == "slow":
                    time.sleep(delay_s)
                if app.mode == "bad-graphql":
                    return self._send(200, json.dumps({"errors": [{"message": "Not Authorized to access "
                                                                              "listContacts on type Query"}]}))
                self._send(200, json.dumps({"data": {"listContacts": {"items": [{"id": "c-0001"}]}}}))

        self.server = _Backlogged(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        # poll_interval: how long shutdown() can wait for the loop to notice (0.5 s by default)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def seed(aws, env, retention: dict[str, int | None] | None = None) -> dict:
    """Create the environment's tables, user pool, bucket, functions and log groups in moto; returns the names
    moto generated (the user pool id)."""
    r = env.resources
    ddb = aws.client("dynamodb")
    for t in r.table_names():
        ddb.create_table(TableName=t, BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    pool = aws.client("cognito-idp").create_user_pool(PoolName="RealTechee-Users")["UserPool"]["Id"]
    if r.s3_bucket:
        aws.client("s3").create_bucket(Bucket=r.s3_bucket, CreateBucketConfiguration={
            "LocationConstraint": aws.region})
    role = aws.client("iam").create_role(RoleName="rt-lambda", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.js", "exports.handler = async () => ({statusCode: 200});")
    for f in r.lambda_functions:
        aws.client("lambda").create_function(FunctionName=f, Runtime="nodejs20.x", Role=role, Handler="index.handler",
                                             Code={"ZipFile": buf.getvalue()})
    sns = aws.client("sns")  # the seed's topics; the SMS number is the seed's placeholder, so never subscribed
    for topic in ("RealTechee-Critical-Alerts", "RealTechee-Warning-Alerts", "RealTechee-Info-Alerts",
                  "RealTechee-Production-Alerts"):
        arn = sns.create_topic(Name=topic)["TopicArn"]
        if topic in ("RealTechee-Critical-Alerts", "RealTechee-Production-Alerts"):
            sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="ops-team@realtechee.com")
        if topic == "RealTechee-Production-Alerts":
            sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="info@realtechee.com")
    logs = aws.client("logs")
    for suffix, days in (retention or {}).items():
        name = r.log_group + suffix
        logs.create_log_group(logGroupName=name)
        if days:
            logs.put_retention_policy(logGroupName=name, retentionInDays=days)
    return {"user_pool_id": pool}


# the demo's log groups: some match the seed's policy, some do not (what the retention audit is for)
DEMO_RETENTION = {"": 30, "/application": 30, "/errors": 90, "/access": None, "/audit": 30}


@contextmanager
def demo_stack(env, app_mode: str = "ok"):
    """Start moto and the demo application, seed them, and yield ``(environment, aws)`` pointing at them."""
    moto = MotoServer()
    app = DemoApp(app_mode)
    try:
        import boto3  # lazy: boto3 loads only on the AWS paths (the demo and files sources never pay for it)

        aws = AwsContext(region=env.region, endpoint_url=moto.url, session=boto3.Session(**DUMMY,
                         region_name=env.region), max_attempts=2, connect_timeout=2, read_timeout=5)
        made = seed(aws, env, DEMO_RETENTION)
        res = env.resources.model_copy(update={"app_url": app.url, "graphql_url": app.url + "graphql",
                                              "user_pool_id": made["user_pool_id"]})
        yield env.model_copy(update={"resources": res, "endpoint_url": moto.url}), aws
    finally:
        app.stop()
        moto.stop()
