"""Data that stays private and text that stays inert: redaction (a PII and secrets set), Markdown escaping of
every string from data (a payload set rendered by a real Markdown renderer), what leaves through SNS, what the
health history keeps, and the evidence bundle's logs."""

import json

import pandas as pd
import pytest

from rtanalytics.forensics import PostmortemTimes, markdown, md_escape
from rtanalytics.logs import redact
from rtanalytics.reports.notify import message

PII = {
    '{"user":"bob","password":"hunter2"}': "hunter2",
    '{"token": 1234567}': "1234567",
    '{"authorization":"Basic dXNlcjpwYXNz"}': "dXNlcjpwYXNz",
    '{"cookie":"session=abc"}': "session=abc",
    '{"api_key":"k-123"}': "k-123",
    "Authorization: Basic dXNlcjpwYXNz": "dXNlcjpwYXNz",
    "Authorization: Bearer abc.def.ghijk12": "abc.def",
    "keys AKIAIOSFODNN7EXAMPLE and ASIAIOSFODNN7EXAMPLE": "IOSFODNN7",
    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY": "wJalrXUtnFEMI",
    "from 2001:db8::8a2e:370:7334": "2001:db8",
    "from fe80::1ff:fe23:4567:890a": "fe80",
    "call 555-123-4567": "555-123-4567",
    "call (555) 123-4567": "123-4567",
    "call +44 20 7946 0958": "7946",
    "call 020 7946 0958": "7946",
    "mail eve@example.com": "eve@example.com",
    "from 203.0.113.7": "203.0.113.7",
}


@pytest.mark.parametrize("text,secret", list(PII.items()))
def test_redaction_removes_personal_data_and_secrets(text, secret):
    assert secret not in redact(text)


def test_redaction_leaves_ordinary_numbers_and_times():
    t = "order 12345 took 250 ms at 2026-11-27 10:15:30, total 1234.56"
    assert redact(t) == t


PAYLOADS = ["<script>document.title='pwned'</script>", '"><img src=x onerror="alert(1)">',
            "[click](javascript:alert(1))", "![x](http://attacker.example/x.png)", "<a href=javascript:alert(1)>a</a>",
            "**bold** | table | break", "line\nbreak # heading"]


def render(md: str) -> str:
    import mistune

    return mistune.html(md)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markdown_from_data_stays_inert_when_rendered(payload):
    times = PostmortemTimes(pd.Timestamp("2026-11-11T18:00Z"), None, None, None,
                            {"start": f"{payload} left its baseline", "detected": payload})
    tl = pd.DataFrame({"start": [pd.Timestamp("2026-11-11T18:00Z")], "kind": ["alarm"],
                       "summary": [f"alarm {payload} went to ALARM"], "evidence": [payload]})
    leads = pd.DataFrame({"rank": [1], "signal": [payload], "onset": [pd.Timestamp("2026-11-11T18:00Z")],
                          "lag_minutes": [0.0], "change": [payload]})
    sigs = pd.DataFrame({"during": [3], "before": [0], "template": [payload]})
    md = markdown(f"Incident {payload}", times, {payload: payload}, tl, leads, sigs)
    html = render(md)
    for bad in ("<script", "<img", "<a ", "javascript:alert(1)\"", "onerror=\"", "<strong>bold"):
        assert bad not in html, (bad, html[:500])
    assert "| table |" not in md.split("## Timeline")[1].split("\n", 4)[4]  # no extra table cells


def test_md_escape_is_readable():
    assert md_escape("a_b *c*") == "a\\_b \\*c\\*"
    assert len(md_escape("x" * 500)) == 200


def test_sns_subject_is_one_short_line_and_no_raw_error_leaves():
    s = {"report": "kpis", "run_id": "r1", "status": "failed", "title": "KPI status",
         "error": "AccessDenied: User: arn:aws:sts::123456789012:assumed-role/ops/x is not authorized",
         "params": {"start": "a", "end": "b"}}
    subj, body = message(s, ["run failed: " + s["error"]], "https://reports.example/kpis/r1")
    assert "\n" not in subj and len(subj) < 100 and "123456789012" not in subj + body and "arn:aws" not in body
    assert "https://reports.example/kpis/r1" in body and "failed" in body
    s2 = dict(s, status="ok")
    subj2, _ = message(s2, ["availability: alert\r\nInjected: header (99.1) " + "x" * 200], "link")
    assert "\r" not in subj2 and "\n" not in subj2 and len(subj2) <= 99


def test_health_keeps_the_error_class_and_a_short_reason():
    from botocore.exceptions import ClientError

    from rtanalytics.health import _aws_err, _cause

    e = ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "Function not found: arn:aws:lambda:"
                               "us-west-1:123456789012:function:user-admin\nmore detail " + "y" * 300}},
                    "GetFunctionConfiguration")
    out = _aws_err(e)
    assert out.startswith("ResourceNotFoundException: ") and "123456789012" not in out and len(out) < 120
    assert "\n" not in _cause(RuntimeError("line one\nline two " + "z" * 300))


def test_evidence_logs_are_redacted_unless_asked(tmp_path):
    from rtanalytics.sources.evidence import RecordingSource, provenance
    from rtanalytics.sources.files import FilesSource
    from rtanalytics.timewindow import TimeWindow

    folder = tmp_path / "export"
    folder.mkdir()
    t0 = int(pd.Timestamp("2026-11-11T18:00Z").timestamp() * 1000)
    (folder / "__app.json").write_text(json.dumps({"logGroupName": "/app", "events": [
        {"timestamp": t0, "logStreamName": "s", "message": "login eve@example.com from 203.0.113.7"}]}))
    w = TimeWindow.parse("2026-11-11T17:00Z", "2026-11-11T19:00Z")
    rec = RecordingSource(FilesSource(folder))
    rec.logs("/app", w)
    rec.save_bundle(tmp_path / "b1")
    stored = pd.read_parquet(tmp_path / "b1" / "logs.parquet")["message"].iloc[0]
    assert "eve@" not in stored and "[email]" in stored
    assert json.loads((tmp_path / "b1" / "manifest.json").read_text())["logs_redacted"] is True
    rec.save_bundle(tmp_path / "b2", raw_logs=True)
    assert "eve@" in pd.read_parquet(tmp_path / "b2" / "logs.parquet")["message"].iloc[0]
    assert "NOT redacted" in provenance(rec)["evidence_logs"]
