"""Test fixtures: one real `spate` server per session, on free loopback ports
with a temporary data directory, and the SDK initialised against it before
every test and doctest."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@dataclass
class SpateServer:
    """A running server."""

    url: str
    api_key: str
    grpc_address: str
    data_dir: Path
    binary: Path
    log: Path

    def create_key(self, namespace: str) -> str:
        """Make a key for another namespace with `spate keys create`."""
        out = subprocess.run(
            [str(self.binary), "keys", "create", "--data-dir", str(self.data_dir), "--namespace", namespace],
            capture_output=True, text=True, timeout=30, check=True, cwd=self.data_dir.parent, env=_child_env(),
        )
        return out.stdout.strip().splitlines()[-1]


def _child_env() -> dict[str, str]:
    # The server reads SPATE_* from the environment; the tests choose every
    # setting explicitly.
    return {k: v for k, v in os.environ.items() if not k.startswith("SPATE_")}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _binary() -> Path:
    path = Path(os.environ.get("SPATE_BIN") or REPO / "bin" / "spate")
    if path.exists():
        return path
    go = shutil.which("go")
    if go is None:
        pytest.fail(f"the spate server binary is missing at {path} and `go` is not on PATH to build it", pytrace=False)
    res = subprocess.run(
        [go, "build", "-o", str(path), "./server/cmd/spate"], cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    if res.returncode != 0:
        pytest.fail(f"go build of the spate server failed:\n{res.stderr}", pytrace=False)
    return path


@pytest.fixture(scope="session")
def spate_server(tmp_path_factory: pytest.TempPathFactory):
    binary = _binary()
    root = tmp_path_factory.mktemp("spate")
    data_dir, env_file, log = root / "data", root / "spate.env", root / "server.log"
    http_port, grpc_port = free_port(), free_port()
    with open(log, "wb") as logf:
        proc = subprocess.Popen(
            [
                str(binary), "serve", "--data-dir", str(data_dir), "--grpc-addr", f"127.0.0.1:{grpc_port}",
                "--http-addr", f"127.0.0.1:{http_port}", "--env-file", str(env_file), "--log-level", "warn",
            ],
            stdout=logf, stderr=subprocess.STDOUT, cwd=root, env=_child_env(),
        )
    url = f"http://127.0.0.1:{http_port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"spate serve exited with {proc.returncode}:\n{log.read_text()}", pytrace=False)
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"spate serve did not answer on {url} within 30 s:\n{log.read_text()}", pytrace=False)
                time.sleep(0.1)
        env = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
        server = SpateServer(
            url=url, api_key=env["SPATE_API_KEY"], grpc_address=f"127.0.0.1:{grpc_port}",
            data_dir=data_dir, binary=binary, log=log,
        )
        assert env["SPATE_BACKEND_URL"] == url
        old = {k: os.environ.get(k) for k in ("SPATE_BACKEND_URL", "SPATE_API_KEY", "SPATE_CACHE_DIR")}
        os.environ.update(SPATE_BACKEND_URL=url, SPATE_API_KEY=server.api_key, SPATE_CACHE_DIR=str(root / "cache"))
        yield server
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(autouse=True)
def _spate_initialised(spate_server: SpateServer):
    """Every test and doctest starts connected with the development key."""
    import spate

    spate.init(backend_url=spate_server.url, api_key=spate_server.api_key)
    yield
