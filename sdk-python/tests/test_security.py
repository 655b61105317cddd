"""TLS (``spate.init(..., tls=True, ca_file=...)``) against a server started
with ``--tls-cert/--tls-key``, and the REST client's retry after 429."""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

import spate as tb
from spate.common.api import api
from spate.common.env import CONFIG
from conftest import _binary, _child_env, free_port


def _start(root: Path, *extra: str) -> tuple[subprocess.Popen, str, str, str]:
    """Start `spate serve` with extra flags; return the process, the URL,
    the development key and the CA file (empty without TLS)."""
    data_dir, env_file, log = root / "data", root / "spate.env", root / "server.log"
    http_port, grpc_port = free_port(), free_port()
    with open(log, "wb") as logf:
        proc = subprocess.Popen(
            [str(_binary()), "serve", "--data-dir", str(data_dir), "--grpc-addr", f"127.0.0.1:{grpc_port}",
             "--http-addr", f"127.0.0.1:{http_port}", "--env-file", str(env_file), "--log-level", "warn", *extra],
            stdout=logf, stderr=subprocess.STDOUT, cwd=root, env=_child_env(),
        )
    tls = "--tls-cert" in extra
    ca = extra[extra.index("--tls-cert") + 1] if tls else ""
    url = f"{'https' if tls else 'http'}://127.0.0.1:{http_port}"
    ctx = ssl.create_default_context(cafile=ca) if tls else None
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            pytest.fail(f"spate serve exited with {proc.returncode}:\n{log.read_text()}", pytrace=False)
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1, context=ctx):
                break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"spate serve did not answer on {url}:\n{log.read_text()}", pytrace=False)
            time.sleep(0.1)
    env = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    return proc, url, env["SPATE_API_KEY"], ca


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture()
def restore_config():
    ca = CONFIG.CA_FILE
    yield
    CONFIG.CA_FILE = ca
    api.close()


@pytest.fixture()
def tls_server(tmp_path: Path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make the test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True, timeout=30,
    )
    proc, url, api_key, ca = _start(tmp_path, "--tls-cert", str(cert), "--tls-key", str(key))
    yield url, api_key, ca
    _stop(proc)


def test_tls_every_client(tls_server, restore_config):
    url, key, ca = tls_server
    plain = url.replace("https://", "http://")
    tb.init(backend_url=plain, api_key=key, tls=True, ca_file=ca)
    assert CONFIG.BACKEND_SERVER_ADDRESS == url
    assert CONFIG.ARROW_SERVER_ADDRESS.startswith("grpc+tls://127.0.0.1:")
    assert tb.get_user_info().namespace == "default"  # REST over HTTPS
    df = pd.DataFrame({"key": ["a", "b", "c"], "x": [1.0, 2.0, 3.0]})
    ds = tb.OnlineDataset.from_pd(df=df, id="over_tls", key_field="key")  # gRPC + Flight DoPut over TLS
    pd.testing.assert_frame_equal(ds.preview_df, df)  # Flight DoGet over TLS


def test_tls_refuses_untrusted_and_plain(tls_server, restore_config):
    url, key, _ = tls_server
    CONFIG.CA_FILE = None
    with pytest.raises(tb.BackendConnectionError, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        tb.init(backend_url=url, api_key=key)  # the system does not trust a self-signed certificate
    with pytest.raises(tb.ApiException):
        tb.init(backend_url=url.replace("https://", "http://"), api_key=key)  # plain HTTP to the TLS port


def test_ca_file_must_exist(tmp_path, restore_config):
    with pytest.raises(ValueError, match="ca_file"):
        tb.init(backend_url="https://127.0.0.1:1", api_key="k", tls=True, ca_file=str(tmp_path / "missing.pem"))


def test_rest_retries_after_rate_limit(tmp_path, restore_config):
    proc, url, key, _ = _start(tmp_path, "--rate-limit", "1", "--rate-burst", "3")
    try:
        tb.init(backend_url=url, api_key=key)  # spends the burst (REST user, endpoints, gRPC WhoAmI)
        start = time.monotonic()
        for _ in range(3):  # each beyond the rate gets 429 + Retry-After, then succeeds when resent
            assert tb.get_user_info().namespace == "default"
        assert time.monotonic() - start >= 1.5, "the calls past the rate were not held back"
    finally:
        _stop(proc)
