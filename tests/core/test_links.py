"""Where links start (issue 24, item 3): the configured base URL, or the address the sender
used when its host is allowed, never a Host nobody should trust."""

from __future__ import annotations

import dataclasses

import pytest

from pwpush_app.core import links
from pwpush_app.settings import load_settings
from tests.servers import make_env


@pytest.fixture
def unconfigured(tmp_path):
    return load_settings(make_env(tmp_path))


@pytest.fixture
def configured(tmp_path):
    return load_settings(make_env(tmp_path, PWP__OVERRIDE_BASE_URL="https://secrets.example.com"))


def test_a_configured_base_url_always_wins(configured):
    assert configured.base_url_configured
    for origin in ("http://192.168.1.10:3000", "https://evil.example", None, ""):
        assert links.base_url_for(configured, origin) == "https://secrets.example.com"


def test_without_one_links_use_the_address_the_sender_opened(unconfigured):
    assert not unconfigured.base_url_configured
    assert links.base_url_for(unconfigured, "http://192.168.1.10:3000") == "http://192.168.1.10:3000"
    assert links.base_url_for(unconfigured, "http://NAS.local:3000") == "http://nas.local:3000"
    assert links.base_url_for(unconfigured, "https://[2001:db8::1]:8443") == "https://[2001:db8::1]:8443"
    assert links.base_url_for(unconfigured, None) == "http://localhost:3000"


@pytest.mark.parametrize("origin", [
    "javascript://x", "ftp://host", "http://evil.example/path", "http://user@evil.example", "http://evil.example?x=1",
    "http://evil .example", "http://evil.example:port", "http://ünïcode.example", "http://" + "a" * 300, "http://a:1:2",
    "http://evil.example\r\nX: y", "//evil.example", "evil.example",
])
def test_malformed_origins_fall_back_to_the_default(unconfigured, origin):
    assert links.base_url_for(unconfigured, origin) == "http://localhost:3000"


def test_allowed_hosts_decide_which_addresses_links_may_name(unconfigured):
    settings = dataclasses.replace(unconfigured, allowed_hosts=("secrets.example.com", ".corp.example", "10.0.0.5:8080"))
    assert links.base_url_for(settings, "https://secrets.example.com") == "https://secrets.example.com"
    assert links.base_url_for(settings, "https://secrets.example.com:8443") == "https://secrets.example.com:8443"
    assert links.base_url_for(settings, "http://corp.example") == "http://corp.example"
    assert links.base_url_for(settings, "http://vault.corp.example") == "http://vault.corp.example"
    assert links.base_url_for(settings, "http://10.0.0.5:8080") == "http://10.0.0.5:8080"
    # Not on the list: the default, never the unchecked host.
    for origin in ("http://10.0.0.5:9090", "https://evil.example", "https://secrets.example.com.evil.example",
                   "https://notcorp.example", "http://192.168.1.10:3000"):
        assert links.base_url_for(settings, origin) == "http://localhost:3000", origin
    # The default's own host stays allowed.
    assert links.base_url_for(settings, "http://localhost:3000") == "http://localhost:3000"


def test_same_site_origin_for_websockets_and_forms(unconfigured, configured):
    assert links.same_site_origin(unconfigured, "http://localhost:3000", "anything")
    assert links.same_site_origin(unconfigured, "http://192.168.1.10:3000", "192.168.1.10:3000")
    # A TLS proxy in front: the browser's https origin, the host the app saw.
    assert links.same_site_origin(unconfigured, "https://vault.example", "vault.example")
    assert not links.same_site_origin(unconfigured, "https://evil.example", "192.168.1.10:3000")
    assert not links.same_site_origin(unconfigured, "http://192.168.1.10:3000", None)
    assert not links.same_site_origin(unconfigured, None, "192.168.1.10:3000")
    # Configured: only its own origins.
    assert links.same_site_origin(configured, "https://secrets.example.com", "secrets.example.com")
    assert not links.same_site_origin(configured, "http://192.168.1.10:3000", "192.168.1.10:3000")
    restricted = dataclasses.replace(unconfigured, allowed_hosts=("vault.example",))
    assert not links.same_site_origin(restricted, "http://rebound.example", "rebound.example")


def test_links_refuse_the_settings_where_a_base_url_belongs(unconfigured):
    assert links.secret_link("https://s.example", "tok") == "https://s.example/p/tok"
    with pytest.raises(TypeError):
        links.secret_link(unconfigured, "tok")


def test_the_settings_that_configure_links(tmp_path):
    # PWP__HOST_DOMAIN configures the base URL as PWP__OVERRIDE_BASE_URL does: links keep to it.
    by_domain = load_settings(make_env(tmp_path, PWP__HOST_DOMAIN="secrets.example.com"))
    assert by_domain.base_url_configured
    assert links.base_url_for(by_domain, "http://192.168.1.10:3000") == "https://secrets.example.com"
    # PWP__ALLOWED_HOSTS (read for the host check, issue 16) also bounds the hosts links name.
    listed = load_settings(make_env(tmp_path, PWP__ALLOWED_HOSTS="NAS .corp.example  10.0.0.5"))
    assert listed.allowed_hosts == ("nas", ".corp.example", "10.0.0.5")
    assert links.base_url_for(listed, "http://nas:3000") == "http://nas:3000"
    assert links.base_url_for(listed, "http://wiki.corp.example") == "http://wiki.corp.example"
    assert links.base_url_for(listed, "http://evil.example") == "http://localhost:3000"
