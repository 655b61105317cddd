"""tb.dashboard_url() points at the running server's dashboard."""

from __future__ import annotations

import urllib.request

import spate as tb
from spate.common.env import CONFIG


def test_dashboard_url_follows_the_backend(spate_server, capsys):
    tb.init(backend_url=spate_server.url + "/", api_key=spate_server.api_key)
    url = tb.dashboard_url()
    assert url == spate_server.url + "/ui/"
    assert url in capsys.readouterr().out
    # The server answers there with the dashboard page, and / redirects to it.
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.status == 200
        assert "/ui/assets/app.js" in resp.read().decode()
    with urllib.request.urlopen(spate_server.url + "/", timeout=10) as resp:
        assert resp.geturl() == url


def test_dashboard_url_quiet(capsys):
    old = CONFIG.BACKEND_SERVER_ADDRESS
    try:
        CONFIG.set_backend_server("https://spate.example.com:8500/")
        assert tb.dashboard_url(quiet=True) == "https://spate.example.com:8500/ui/"
        assert capsys.readouterr().out == ""
    finally:
        CONFIG.set_backend_server(old)
