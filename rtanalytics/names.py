"""Resource names as people say them: an Amplify Gen 2 table ``Requests-aqnq…-NONE`` is ``Requests``. Used by the
analytics (signal labels, dashboards' corrections) and the formatting layer alike, so it sits at the bottom."""

from __future__ import annotations

import re

_AMPLIFY_ID = re.compile(r"^(?P<name>[A-Za-z][\w.]*?)-(?P<id>[a-z0-9]{20,32})-(?P<env>[A-Za-z]+)$")
_LONG_HASH = re.compile(r"-[a-z0-9]{20,32}(?=-|$)")


def short_name(value: str) -> str:
    """A resource name as people say it: an Amplify Gen 2 table ``Requests-aqnqdrctpzfwfjwyxxsmu6peoq-NONE`` is
    ``Requests``; other long generated ids are dropped (``amplify-app-x1y2…-fn`` → ``amplify-app-fn``)."""
    m = _AMPLIFY_ID.match(value)
    if m:
        return m.group("name")
    return _LONG_HASH.sub("", value) or value


def short_labels(labels: dict[str, str]) -> dict[str, str]:
    """``{key: long label}`` → ``{key: short label}``, keeping the long one wherever shortening would make two
    labels the same."""
    short = {k: re.sub(r"[\w.:/-]+", lambda m: short_name(m.group(0)), v) for k, v in labels.items()}
    seen: dict[str, int] = {}
    for v in short.values():
        seen[v] = seen.get(v, 0) + 1
    return {k: (short[k] if seen[short[k]] == 1 else labels[k]) for k in labels}
