"""spate.init, credentials, and the REST client."""

from __future__ import annotations

import pytest

import spate
from spate.common import api as api_module
from spate.common.api import api
from spate.common.env import CONFIG
from conftest import free_port


def test_init_with_good_key(spate_server):
    spate.init(backend_url=spate_server.url + "/", api_key=spate_server.api_key)
    assert CONFIG.BACKEND_SERVER_ADDRESS == spate_server.url
    assert CONFIG.ARROW_SERVER_ADDRESS == f"grpc+tcp://{spate_server.grpc_address}"
    assert CONFIG.GRPC_SERVER_ADDRESS == spate_server.grpc_address
    assert CONFIG.TURBOML_BACKEND_SERVER_ADDRESS == spate_server.url
    user = spate.get_user_info()
    assert user.namespace == "default"
    assert api_module.headers == {"Authorization": f"apiKey {spate_server.api_key}"}
    assert spate.common.api.headers == api.headers


def test_init_from_environment(spate_server, monkeypatch):
    monkeypatch.setenv("SPATE_BACKEND_URL", spate_server.url)
    monkeypatch.setenv("SPATE_API_KEY", spate_server.api_key)
    spate.init()
    assert spate.get_user_info().namespace == "default"


@pytest.mark.parametrize(
    "key",
    ["spk_not_a_real_key_000000000000000000000000", "garbage"],
)
def test_init_with_bad_key(spate_server, key):
    with pytest.raises(spate.AuthenticationError) as info:
        spate.init(backend_url=spate_server.url, api_key=key)
    err = info.value
    assert isinstance(err, spate.ApiException)
    assert err.status_code == 401
    assert "invalid API key" in str(err) and spate_server.url in str(err)


def test_init_unreachable(spate_server):
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(spate.BackendConnectionError) as info:
        spate.init(backend_url=url, api_key=spate_server.api_key)
    assert isinstance(info.value, ConnectionError)
    assert url in str(info.value)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"backend_url": "localhost:8500", "api_key": "k"}, "must start with http"),
        ({"backend_url": "http://localhost:1", "api_key": "  "}, "API key"),
    ],
)
def test_init_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        spate.init(**kwargs)


def test_rest_conventions(spate_server):
    assert api.get("user").json()["namespace"] == "default"
    tok = api.post("login").json()
    assert tok["token_type"] == "bearer" and tok["access_token"]
    with pytest.raises(spate.NotFoundException) as info:
        api.get("no/such/route")
    assert info.value.status_code == 404
    with pytest.raises(spate.NotFoundException, match="does not exist"):
        api.post("dataset/nosuchdataset/upload", json=[{"a": 1}])


def test_login_switches_keys(spate_server):
    other = spate_server.create_key("login_ns")
    try:
        spate.login(api_key=other)
        assert spate.get_user_info().namespace == "login_ns"
        with pytest.raises(spate.AuthenticationError, match="invalid API key"):
            spate.login(api_key="spk_unknown_000000000000000000000000")
        with pytest.raises(ValueError, match="API keys, not passwords"):
            spate.login(username="me", password="secret")
    finally:
        spate.init(backend_url=spate_server.url, api_key=spate_server.api_key)
