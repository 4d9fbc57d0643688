"""Link-preview bots fetch every link pasted into a chat: they must consume nothing.

GET and HEAD of the secret link page and of the API previews, with the user agents of
Slack, Teams/Skype, iMessage (facebookexternalhit, Twitterbot), WhatsApp, Discord,
Telegram and LinkedIn, against the production server; for pushes with and without the
retrieval step and with a passphrase.  None of them uses a view, logs a view, or gets
the secret in what it fetched.
"""

from __future__ import annotations

import secrets

import httpx
import pytest

from pwpush_app.core.records import find_push
from tests.core.common import audit_kinds

from .support import create_via_api, server_runtime

BOTS = {
    "Slack": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Slack images": "Slack-ImgProxy (+https://api.slack.com/robots)",
    "Teams/Skype": "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 skype-url-preview@microsoft.com",
    "iMessage/Facebook": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "iMessage/Twitter": "Twitterbot/1.0",
    "WhatsApp": "WhatsApp/2.23.20.0 A",
    "Discord": "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "Telegram": "TelegramBot (like TwitterBot)",
    "LinkedIn": "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
}
PUSHES = {
    "with the retrieval step": {"retrieval_step": True},
    "without the retrieval step": {"retrieval_step": False},
    "with a passphrase": {"passphrase": "bot-proof passphrase"},
}


@pytest.fixture(scope="module")
def core(live_server):
    runtime = server_runtime(live_server)
    yield runtime
    runtime.engine.dispose()


@pytest.mark.parametrize("push_kind", list(PUSHES))
def test_preview_bots_consume_nothing_and_see_no_secret(live_server, core, push_kind):
    secret = f"bot-canary-{secrets.token_hex(12)}"
    token = create_via_api(live_server.url, secret, expire_after_views=1, **PUSHES[push_kind])["url_token"]
    links = [f"/p/{token}", f"/p/{token}/", f"/api/v2/pushes/{token}/preview", f"/p/{token}/preview.json"]
    # A HEAD of the API's retrieve URLs (a GET there is a reveal, not a preview) must not reveal either.
    head_only = [f"/api/v2/pushes/{token}", f"/p/{token}.json"]
    fetched = 0
    with httpx.Client(base_url=live_server.url, timeout=30, follow_redirects=True) as client:
        for bot, agent in BOTS.items():
            for link, method in [(link, m) for link in links for m in ("GET", "HEAD")] + [(l, "HEAD") for l in head_only]:
                response = client.request(method, link, headers={"User-Agent": agent, "Accept": "text/html,*/*"})
                fetched += 1
                if method == "HEAD" and ("/api/" in link or link.endswith(".json")):
                    # The JSON API answers HEAD with 405 and the methods it allows: nothing to consume.
                    assert response.status_code == 405 and "GET" in response.headers["allow"], (bot, link)
                else:
                    assert response.status_code == 200, (bot, method, link, response.status_code)
                assert secret not in response.text, (bot, method, link)
                if method == "GET" and link.startswith("/p/") and not link.endswith(".json"):
                    assert "<html" in response.text.lower()  # the page itself, served to the bot
    stored = find_push(core, token)
    assert stored.views_remaining == 1 and not stored.expired
    assert audit_kinds(core, stored.id) == ["creation"]  # no view, no failed view
    assert fetched == len(BOTS) * (len(links) * 2 + len(head_only))
    # And the one view is still there for the person the link was meant for.
    passphrase = PUSHES[push_kind].get("passphrase")
    shown = httpx.get(f"{live_server.url}/api/v2/pushes/{token}", params={"passphrase": passphrase} if passphrase else {})
    assert shown.json()["payload"] == secret
