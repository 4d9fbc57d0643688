"""End-to-end pushes through the API (issue 20): the reference client encrypts, the server keeps
only the envelope (sealed at rest like any payload), the client decrypts; bad envelopes,
other kinds and a site with the setting off are refused with 422 and store nothing."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from pwpush_app import e2e_client
from pwpush_app.core import crypto, e2e
from pwpush_app.core.models import AuditEvent, Push

SECRET = "vpn: hunter2 \N{SNOWMAN}"


def _pushes(runtime) -> list[Push]:
    with Session(runtime.engine) as db:
        return list(db.exec(select(Push)))


@pytest.mark.parametrize("passphrase", ["", "correct horse"])
def test_reference_client_round_trip(api, runtime, passphrase):
    link = e2e_client.push(api, "http://testserver", SECRET, passphrase, expire_after_views=2)
    assert "#" in link
    token, key = link.split("/p/")[1].split("#")
    [push] = _pushes(runtime)
    assert push.end_to_end is True
    # At rest: the envelope, sealed under the push's data key; neither the text nor the key.
    for column in (push.payload_sealed, push.note_sealed or b"", push.link_sealed):
        assert SECRET.encode() not in column and key.encode() not in column
    assert e2e_client.get(api, link, passphrase) == SECRET
    # The API says it is end-to-end, and serves the envelope, never the text.
    body = api.get(f"/api/v2/pushes/{token}").json()
    assert body["end_to_end"] is True and body["views_remaining"] == 0
    assert json.loads(body["payload"])["alg"] == "A256GCM"
    assert ("kdf" in json.loads(body["payload"])) is bool(passphrase)
    with Session(runtime.engine) as db:
        kinds = [event.kind for event in db.exec(select(AuditEvent))]
    assert kinds.count("view") == 2  # views and audit as for any push


def test_wrong_passphrase_or_key_does_not_decrypt():
    envelope, key = e2e.encrypt(SECRET, "right one")
    assert e2e.decrypt(envelope, key, "right one") == SECRET
    with pytest.raises(crypto.DecryptionError):
        e2e.decrypt(envelope, key, "wrong one")
    with pytest.raises(crypto.DecryptionError):
        e2e.decrypt(envelope, e2e.encrypt("x")[1], "right one")
    with pytest.raises(ValueError):
        e2e_client.split_link("http://testserver/p/abc")


GOOD, _ = e2e.encrypt("x")
BAD_ENVELOPES = {
    "plain text": "hunter2",
    "a JSON list": "[1, 2]",
    "another version": GOOD.replace('"v":1', '"v":2'),
    "another algorithm": GOOD.replace("A256GCM", "A128GCM"),
    "an extra field": GOOD[:-1] + ',"key":"abc"}',
    "a short iv": json.dumps({**json.loads(GOOD), "iv": "AAAA"}),
    "no ciphertext": json.dumps({**json.loads(GOOD), "ct": ""}),
    "not base64url": json.dumps({**json.loads(GOOD), "ct": "a+b/c=="}),
    "a kdf without salt": json.dumps({**json.loads(GOOD), "kdf": "PBKDF2-SHA256"}),
    "too few iterations": json.dumps({**json.loads(e2e.encrypt("x", "p")[0]), "iter": 1000}),
    "iterations as text": json.dumps({**json.loads(e2e.encrypt("x", "p")[0]), "iter": "600000"}),
}


@pytest.mark.parametrize("case", BAD_ENVELOPES)
def test_malformed_envelope_is_refused(api, runtime, case):
    answer = api.post("/api/v2/pushes", json={"push": {"payload": BAD_ENVELOPES[case], "end_to_end": True}})
    assert answer.status_code == 422, answer.text
    assert "envelope" in answer.text and "docs/api.md" in answer.text
    assert _pushes(runtime) == []


def test_a_malformed_envelope_is_explained_in_the_asker_s_language(api, runtime):
    """The sentence is translated; the detail keeps the protocol's field names."""
    answer = api.post("/api/v2/pushes", json={"push": {"payload": BAD_ENVELOPES["a short iv"], "end_to_end": True}},
                      headers={"Accept-Language": "de"})
    assert answer.status_code == 422
    assert answer.json()["payload"] == [
        "Der Inhalt eines Ende-zu-Ende-verschlüsselten Pushs muss der Umschlag sein, den der Browser oder Client "
        "verschlüsselt hat (docs/api.md, \"End-to-end pushes\"): iv is 12 bytes and ct holds at least the 16-byte "
        "tag and one byte."]
    assert _pushes(runtime) == []


@pytest.mark.parametrize("fields, field", [
    ({"kind": "url"}, "end_to_end"),
    ({"kind": "qr"}, "end_to_end"),
    ({"end_to_end": "maybe"}, "end_to_end"),
])
def test_end_to_end_is_for_text_and_file_pushes_only(api, runtime, fields, field):
    answer = api.post("/api/v2/pushes", json={"push": {"payload": GOOD, "end_to_end": True, **fields}})
    assert answer.status_code == 422, answer.text
    assert field in answer.text
    assert _pushes(runtime) == []


def test_setting_off_refuses_end_to_end(make_api):
    api, runtime = make_api(PWPUSH_END_TO_END="false")
    answer = api.post("/api/v2/pushes", json={"push": {"payload": GOOD, "end_to_end": True}})
    assert answer.status_code == 422
    assert "End-to-end encryption is turned off on this server" in answer.text
    assert _pushes(runtime) == []
    # Plain pushes still work there.
    assert api.post("/api/v2/pushes", json={"push": {"payload": "plain"}}).status_code == 201


def test_required_passphrase_is_met_by_the_envelopes(make_api):
    api, runtime = make_api(PWPUSH_REQUIRE_PASSPHRASE="true")
    assert api.post("/api/v2/pushes", json={"push": {"payload": GOOD, "end_to_end": True}}).status_code == 422
    with_passphrase, _ = e2e.encrypt("x", "p")
    assert api.post("/api/v2/pushes", json={"push": {"payload": with_passphrase, "end_to_end": True}}).status_code == 201


def test_plain_pushes_do_not_say_end_to_end(api):
    created = api.post("/api/v2/pushes", json={"push": {"payload": GOOD}}).json()
    assert "end_to_end" not in created
    assert "end_to_end" not in api.get(f"/api/v2/pushes/{created['url_token']}").json()


def test_an_owner_edit_replaces_an_envelope_only_with_an_envelope(api, alice):
    envelope, key = e2e.encrypt("first")
    created = api.post("/api/v2/pushes", json={"push": {"payload": envelope, "end_to_end": True}}, headers=alice).json()
    token = created["url_token"]
    refused = api.patch(f"/api/v2/pushes/{token}", json={"push": {"payload": "now in plain text"}}, headers=alice)
    assert refused.status_code == 422 and "envelope" in refused.text
    newer, new_key = e2e.encrypt("second")
    assert api.patch(f"/api/v2/pushes/{token}", json={"push": {"payload": newer}}, headers=alice).status_code == 200
    link = f"{created['html_url']}#{new_key}"
    assert e2e_client.get(api, link) == "second"
