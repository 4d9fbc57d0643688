"""The pushes this browser created, kept in its localStorage by the page's own script
(browser_pushes.js) and never in a state var: page state is stored by the state manager
(in Redis with several workers), and a manage token lets its holder read the audit log and
expire the push.

- `remembered_pushes`: the list as a value of the page (newest first), for `rx.foreach`;
- `remember_push()` + `remember_push_event(...)`: the create event hands a new entry to the
  browser as an event result, like the share links;
- `forget_push(token)`, `forget_all_pushes()`: click handlers that run in the browser;
- `manage_tokens_of_this_browser`: read at the click, sent as an event argument;
- `push_statuses()` + `statuses_event(...)`: each push's live status for My pushes, an event
  result kept in the page's memory beside the list.
"""

from __future__ import annotations

import json

import reflex as rx
from reflex.vars import VarData
from reflex_base.utils.imports import ImportVar

LIBRARY = rx.asset("components/browser_pushes.js").importable_path
REMEMBER_ID = "remember-push"


def _from_library(*names: str, hooks: dict | None = None) -> VarData:
    return VarData(imports={LIBRARY: [ImportVar(tag=name) for name in names]}, hooks=hooks)


remembered_pushes = rx.Var(
    "browserPushes",
    _var_data=_from_library("useBrowserPushes", hooks={"const browserPushes = useBrowserPushes();": None}),
).to(list[dict[str, str]])

manage_tokens_of_this_browser = rx.Var(
    "manageTokensOfThisBrowser()", _var_data=_from_library("manageTokensOfThisBrowser")
).to(list[str])


def forget_push(manage_token: rx.Var):
    call = rx.Var(f"(() => forgetPush({manage_token}))",
                  _var_data=VarData.merge(_from_library("forgetPush"), manage_token._get_all_var_data()))
    return rx.call_function(call)


def forget_all_pushes():
    return rx.call_function(rx.Var("(() => forgetAllPushes())", _var_data=_from_library("forgetAllPushes")))


class RememberPush(rx.Component):
    library = LIBRARY
    tag = "RememberPush"


def remember_push() -> rx.Component:
    """Always on the create page, so the create event can hand it the new push."""
    return RememberPush.create(id=REMEMBER_ID)


def remember_push_event(manage_token: str, name: str, created: str, expires: str, kind: str = ""):
    entry = {"manage_token": manage_token, "name": name, "created": created, "expires": expires, "kind": kind}
    return rx.set_value(REMEMBER_ID, json.dumps(entry))


class PushStatuses(rx.Component):
    library = LIBRARY
    tag = "PushStatuses"


STATUSES_ID = "push-statuses"


def push_statuses() -> rx.Component:
    """On My pushes: receives the pushes' live status (`statuses_event`), kept in the page's
    memory beside the list, never in state."""
    return PushStatuses.create(id=STATUSES_ID)


def statuses_event(statuses: dict[str, dict[str, str]]):
    """{manage token: {"status": ..., "detail": ..., "live": "yes"|""}} for the page's list."""
    return rx.set_value(STATUSES_ID, json.dumps(statuses))
