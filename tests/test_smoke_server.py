def test_home_page_is_served_with_the_brand_title(live_server):
    import httpx

    response = httpx.get(live_server.url)
    assert response.status_code == 200
    assert "<title>Password Pusher</title>" in response.text


def test_the_site_has_its_icon(live_server):
    import httpx

    # Browsers ask for /favicon.ico whatever the page says: it was a 404.
    icon = httpx.get(live_server.url + "/favicon.ico")
    assert icon.status_code == 200 and icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    logo = httpx.get(live_server.url + "/logo.svg")
    assert logo.status_code == 200 and logo.text.lstrip().startswith("<svg")
    import re

    home = httpx.get(live_server.url + "/").text
    links = re.findall(r"<link [^>]*>", home)
    assert any('href="/favicon.ico"' in link and 'rel="icon"' in link for link in links)
    assert any('href="/apple-touch-icon.png"' in link and 'rel="apple-touch-icon"' in link for link in links)
