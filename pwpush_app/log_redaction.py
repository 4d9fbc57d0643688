"""Request paths as they may be written to a log: tokens masked, no query string.

A path can carry live credentials: a secret link's token (`/p/<token>`, `/p/<token>.json`,
`/api/v2/pushes/<token>/...`), a manage token (`/manage/<token>`), a download grant
(`/d/<grant>/<n>`), and the query string a passphrase (`?passphrase=`, which Password
Pusher's CLI sends).  Whoever reads a log must not be able to open a push with it, so the
app writes no path to a log except through `loggable_path`, and deploy/nginx.conf's map
`$pwpush_loggable_uri` applies the same rules, in the same order, to nginx's access log
(tests/scale/test_logs.py sends paths through nginx and compares the two).

The rules, first match wins:
1. the lists `/p/active.json`, `/p/expired.json`, `/api/v<n>/pushes/active|expired` stay;
2. after `/p/`, `/manage/`, `/d/` or `/api/v<n>/pushes/`, the next segment is `<token>`; a
   tail of ours (`.json`, `/preview`, `/audit`, `/preview.json`, `/audit.json`, `/<file
   number>`) stays, any other tail becomes `/...`;
3. elsewhere, the first segment holding something token-like (16 or more of A-Z a-z 0-9 _ -
   in a row; our tokens are 22) is `<token>`, and anything after it `/...` (a few bundle
   names under /assets/ are masked too: a small price for a rule with no exceptions);
4. anything else stays as it is.
"""

from __future__ import annotations

import re

TOKEN_MARK = "<token>"
REST_MARK = "/..."

_TOKEN_ROUTE = r"(/p|/manage|/d|/api/v[0-9]+/pushes)"
_OUR_TAIL = r"(\.json|/preview|/audit|/preview\.json|/audit\.json|/[0-9]{1,4})?"
_TOKEN_LIKE = r"/[^/]*[A-Za-z0-9_-]{16}[^/]*"

# (pattern, what the path becomes) in the order of deploy/nginx.conf's map, where \1, \2 are $1, $2.
_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"/p/(active|expired)\.json|/api/v[0-9]+/pushes/(active|expired)", re.S), r"\g<0>"),
    (re.compile(rf"{_TOKEN_ROUTE}/[^/]+?{_OUR_TAIL}", re.S), rf"\1/{TOKEN_MARK}\2"),
    (re.compile(rf"{_TOKEN_ROUTE}/.+", re.S), rf"\1/{TOKEN_MARK}{REST_MARK}"),
    (re.compile(rf"(.*?){_TOKEN_LIKE}/.*", re.S), rf"\1/{TOKEN_MARK}{REST_MARK}"),
    (re.compile(rf"(.*?){_TOKEN_LIKE}", re.S), rf"\1/{TOKEN_MARK}"),
]


def loggable_path(path: str) -> str:
    """A URL path (a query string or fragment after it is dropped) as it may be logged."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    for pattern, becomes in _RULES:
        match = pattern.fullmatch(path)
        if match:
            return match.expand(becomes)
    return path
