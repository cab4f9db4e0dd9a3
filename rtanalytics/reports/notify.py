"""Notifications: a failed run, or a KPI/SLO past its alert threshold, published to the matching SNS topic.

Levels follow the seed's routing (``parameters/routing.yaml``): a failed run or a KPI in ``alert`` / an SLO
``exhausted`` goes to Critical; a KPI ``warning`` / an SLO ``at risk`` or a ``partial`` run to Warning; nothing is
sent for healthy runs. Topics are ARNs per level in the environment's ``notifications`` settings (off by
default, and off on the demo). The message is short plain text with the figures and the report's location.
"""

from __future__ import annotations

import re
from typing import Any

from ..logs import redact
from ..sources.aws import AwsContext


def classify(summary: dict) -> tuple[str | None, list[str]]:
    """The level a run deserves (None: nothing to say) and the lines that explain why."""
    figs = summary.get("figures") or {}
    why = []
    level = None
    if summary.get("status") == "failed":
        return "Critical", [f"run failed: {summary.get('error')}"]
    for k, v in figs.items():
        if not k.endswith(".status"):
            continue
        name = k[:-7]
        if v in ("alert", "exhausted"):
            level = "Critical"
            why.append(f"{name}: {v} ({figs.get(name, figs.get(name + '.attainment'))})")
        elif v in ("warning", "at risk", "stale"):
            level = level or "Warning"
            why.append(f"{name}: {v}")
    if summary.get("status") in ("partial", "no-data"):
        level = level or "Warning"
        why.append(f"{summary['status']}: " + "; ".join(summary.get("notes") or [])[:300])
    return level, why


def _one_line(text: str) -> str:
    """No line breaks or control characters (SNS subjects must be printable ASCII-safe single lines)."""
    return re.sub(r"\s+", " ", re.sub(r"[\x00-\x1f\x7f]", " ", str(text))).strip()


def _safe_reason(text: str) -> str:
    """What may leave the system about a run: no ARNs, account ids, keys or personal data."""
    text = re.sub(r"arn:aws[\w-]*:[^\s\"',;)]*", "[arn]", str(text))
    text = re.sub(r"(?<!\d)\d{12}(?!\d)", "[account]", text)
    return redact(text)


def message(summary: dict, why: list[str], location: str) -> tuple[str, str]:
    """The SNS subject (one printable line under 100 characters) and body (status, window, what crossed which
    threshold, the link) — never a raw error text, which can hold role ARNs and account ids: a failed run says
    where its error is kept instead."""
    status = summary.get("status", "?")
    head = why[0] if why and status != "failed" else ("the run failed" if status == "failed" else "")
    subject = _one_line(f"[rtanalytics] {summary['report']} {status}: {_safe_reason(head)}")
    if len(subject) > 99:
        subject = subject[:98] + "…"
    lines = [f"Report: {summary.get('title', summary['report'])} ({summary['report']})",
             f"Run: {summary['run_id']} ({status})",
             f"Window: {summary.get('params', {}).get('start', '')} → {summary.get('params', {}).get('end', '')}", ""]
    if status == "failed":
        lines.append("The run failed; its error and executed notebook are kept in the run's folder.")
    else:
        lines += [_safe_reason(w) for w in why]
    lines += ["", f"Report: {location}"]
    return subject, "\n".join(lines)


def notify(summary: dict, location: str, topics: dict[str, str], aws: Any = None) -> dict | None:
    """Publish to the topic of the run's level; returns what was sent (None when nothing was due)."""
    level, why = classify(summary)
    if level is None or level not in topics:
        return None
    subject, body = message(summary, why, location)
    if aws is None:
        aws = AwsContext()
    resp = aws.call("sns", "publish", TopicArn=topics[level], Subject=subject, Message=body)
    return {"level": level, "topic": topics[level], "subject": subject, "message_id": resp.get("MessageId")}
