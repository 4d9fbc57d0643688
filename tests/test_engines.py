"""The same core on each engine: a push is created, revealed once and expired."""

from pwpush_app.core.audit import Client
from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.errors import PushUnavailable
from pwpush_app.core.reveal import reveal_push


def test_a_one_view_push_serves_once_on_each_engine(runtime):
    created = create_push(runtime, NewPush(payload="s3cret", expire_after_views=1), Client(ip="10.0.0.1"))
    revealed = reveal_push(runtime, created.url_token, Client(ip="10.0.0.2"))
    assert revealed.payload == "s3cret"
    assert revealed.push.expired
    try:
        reveal_push(runtime, created.url_token, Client(ip="10.0.0.3"))
    except PushUnavailable as refusal:
        assert "expired or never existed" in str(refusal)
    else:
        raise AssertionError("an expired push served its secret again")
