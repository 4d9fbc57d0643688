"""PATCH /api/v2/pushes/TOKEN: the owner edits a live push (docs/api.md, "Editing a push")."""

from __future__ import annotations

from .conftest import PUSH_FIELDS, create


def _patch(api, token, headers, **fields):
    return api.patch(f"/api/v2/pushes/{token}", json={"push": fields}, headers=headers)


def test_the_owner_edits_and_sees_the_push_without_its_secret(api, alice):
    push = create(api, alice, name="old", note="old note", expire_after_views=3, passphrase="first")
    token = push["url_token"]
    response = _patch(api, token, alice, name="new", note="new note", expire_after_views=10, expire_after_days=14,
                      retrieval_step=False, payload="the new secret", passphrase="second")
    assert response.status_code == 200, response.text
    body = response.json()
    assert PUSH_FIELDS <= set(body)
    assert (body["name"], body["note"], body["expire_after_views"], body["views_remaining"]) == ("new", "new note", 10, 10)
    assert (body["expire_after_days"], body["retrieval_step"], body["passphrase"]) == (14, False, "********")
    assert "payload" not in body and "the new secret" not in response.text and "second" not in response.text
    # The recipient's link gives the new secret, behind the new passphrase.
    assert api.get(f"/api/v2/pushes/{token}", headers={"X-Passphrase": "first"}).status_code == 401
    shown = api.get(f"/api/v2/pushes/{token}", headers={"X-Passphrase": "second"}).json()
    assert shown["payload"] == "the new secret"
    kinds = [log["kind"] for log in api.get(f"/api/v2/pushes/{token}/audit", headers=alice).json()["logs"]]
    assert "edit" in kinds


def test_form_encoded_edits_and_removing_the_passphrase(api, alice):
    token = create(api, alice, passphrase="secret words")["url_token"]
    response = api.patch(f"/api/v2/pushes/{token}", data={"push[passphrase]": "", "push[expire_after_duration]": "13"},
                         headers=alice)
    assert response.status_code == 200, response.text
    assert (response.json()["passphrase"], response.json()["expire_after_days"]) == ("", 14)
    assert api.get(f"/api/v2/pushes/{token}").json()["payload"] == "s3cret-payload"


def test_only_the_owner_may_edit(api, alice, bob):
    token = create(api, alice)["url_token"]
    assert _patch(api, token, {}, name="x").status_code == 401
    assert _patch(api, token, bob, name="x").status_code == 403
    assert _patch(api, token, {"Authorization": "Bearer wrong"}, name="x").status_code == 401
    anonymous = create(api)["url_token"]
    assert _patch(api, anonymous, alice, name="x").status_code == 403
    assert _patch(api, "no-such-token-aaaaaaaa", alice, name="x").status_code == 404
    assert api.get(f"/api/v2/pushes/{token}/audit", headers=alice).json()["logs"][-1]["kind"] != "edit"


def test_bad_edits_name_each_field_and_change_nothing(api, alice):
    push = create(api, alice, expire_after_views=3)
    token = push["url_token"]
    api.get(f"/api/v2/pushes/{token}")  # one view used
    for fields, key in [({"expire_after_views": 1}, "expire_after_views"), ({"expire_after_views": "many"}, "expire_after_views"),
                        ({"expire_after_days": 0}, "expire_after_days"), ({"expire_after_minutes": 10**7}, "expire_after_minutes"),
                        ({"kind": "url"}, "kind"), ({"files": []}, "files"), ({"retrieval_step": "maybe"}, "retrieval_step"),
                        ({"payload": " "}, "payload"), ({"colour": "red"}, "push.colour"),
                        ({"name": "evil\nname"}, "name")]:
        response = _patch(api, token, alice, **fields)
        assert response.status_code == 422, (fields, response.text)
        assert key in response.json(), (fields, response.json())
    assert api.patch(f"/api/v2/pushes/{token}", content=b"{not json", headers={**alice, "Content-Type": "application/json"}
                     ).status_code == 400
    assert api.patch(f"/api/v2/pushes/{token}", files={"push[name]": (None, "x")}, headers=alice).status_code == 415
    after = api.get("/api/v2/pushes/active", headers=alice).json()[0]
    assert (after["expire_after_views"], after["views_remaining"]) == (3, 2)


def test_an_expired_push_is_422(api, alice):
    token = create(api, alice, expire_after_views=1)["url_token"]
    api.get(f"/api/v2/pushes/{token}")
    response = _patch(api, token, alice, expire_after_views=5)
    assert response.status_code == 422
    assert response.json()["error"] == "That push has already expired and cannot be edited."
    assert api.get(f"/api/v2/pushes/{token}").json()["expired"] is True
