def test_home_page_is_served_with_the_brand_title(live_server):
    import httpx

    response = httpx.get(live_server.url)
    assert response.status_code == 200
    assert "<title>Password Pusher</title>" in response.text
