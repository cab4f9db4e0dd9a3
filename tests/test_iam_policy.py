"""The IAM policy lists exactly the AWS actions the code calls (read-only), so least privilege stays true."""

import json
import re

from rtanalytics.sources.aws import READ_ONLY_ACTIONS

from .conftest import ROOT


def _camel(api: str) -> str:
    return "".join(w.capitalize() for w in api.split("_"))


def test_policy_matches_the_calls_in_the_code():
    policy = json.loads((ROOT / "docs" / "iam-policy.json").read_text())
    allowed = {a for st in policy["Statement"] for a in st["Action"]}
    declared = {f"{svc}:{a}" for svc, acts in READ_ONLY_ACTIONS.items() for a in acts}
    assert allowed == declared
    code = "\n".join(p.read_text() for p in (ROOT / "rtanalytics").rglob("*.py"))
    called = {("logs" if s == "logs" else s) + ":" + _camel(a)
              for s, a in re.findall(r'call\("([a-z-]+)", "([a-z_]+)"', code)}
    called |= {"dynamodb:DescribeTable", "cognito-idp:DescribeUserPool", "lambda:GetFunctionConfiguration"}  # client calls
    called |= {"s3:ListBucket"}  # list_objects_v2 is authorised by s3:ListBucket
    called |= {"sns:ListTopics", "sns:ListSubscriptionsByTopic"}  # the alert-routing audit (client calls)
    called -= {"sts:GetCallerIdentity"}  # the cache key's account id: STS needs no permission for it
    called -= {"sns:Publish"}  # only with notifications on: docs/iam-policy-notifications.json
    assert called == allowed, (called ^ allowed)
    assert not any(a.split(":")[1].startswith(("Put", "Delete", "Create", "Update", "Set")) for a in allowed)
