"""PWP__ALLOW_ANONYMOUS=false: the core refuses anonymous pushes whichever door they use."""

import pytest
from sqlmodel import select

from pwpush_app.core.accounts import issue_api_token
from pwpush_app.core.audit import Client
from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.db import transaction
from pwpush_app.core.errors import AccountRequired
from pwpush_app.core.file_uploads import check_may_send_files
from pwpush_app.core.models import Push


def _count(runtime):
    with transaction(runtime.engine, write=False) as db:
        return len(list(db.exec(select(Push.id))))


def test_anonymous_text_push_is_refused_and_nothing_is_stored(make_runtime):
    runtime = make_runtime(PWP__ALLOW_ANONYMOUS="false")
    with pytest.raises(AccountRequired, match="needs an account"):
        create_push(runtime, NewPush(payload="s"), Client(ip="192.0.2.5"))
    assert _count(runtime) == 0
    user, _token = issue_api_token(runtime, "sender@example.com")
    created = create_push(runtime, NewPush(payload="s"), Client(ip="192.0.2.5", user_id=user.id))
    assert created.push.owner_id == user.id


def test_anonymous_file_push_is_refused_even_when_files_need_no_login(make_runtime):
    runtime = make_runtime(PWP__ALLOW_ANONYMOUS="false", PWP__FILES__REQUIRE_LOGIN="false")
    with pytest.raises(AccountRequired):
        check_may_send_files(runtime, Client(ip="192.0.2.6"))
    check_may_send_files(runtime, Client(ip="192.0.2.6", user_id="someone"))  # passes the rule
