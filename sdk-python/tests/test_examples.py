"""The fraud example's scripts (examples/fraud)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "fraud"


def load_config_module(monkeypatch):
    monkeypatch.delenv("SPATE_BACKEND_URL", raising=False)
    spec = importlib.util.spec_from_file_location("fraud_example_config", EXAMPLES / "config.py")
    mod = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, mod)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    # Loading runs load() on the repo's .env; give it a key so that succeeds.
    monkeypatch.setenv("SPATE_API_KEY", "spk_from_environment")
    spec.loader.exec_module(mod)
    monkeypatch.delenv("SPATE_API_KEY")
    return mod


def test_env_file_parsing(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# written by spate serve\n\nSPATE_BACKEND_URL=http://127.0.0.1:9\n"
        "export SPATE_API_KEY = 'spk_quoted'\nOTHER=\"a=b\"\nnot a pair\n"
    )
    mod = load_config_module(monkeypatch)
    assert mod.read_env_file(env_file) == {
        "SPATE_BACKEND_URL": "http://127.0.0.1:9", "SPATE_API_KEY": "spk_quoted", "OTHER": "a=b",
    }
    assert mod.load(env_file) == mod.Config(backend_url="http://127.0.0.1:9", api_key="spk_quoted")
    monkeypatch.setenv("SPATE_API_KEY", "spk_env_wins")
    assert mod.load(env_file).api_key == "spk_env_wins"
    monkeypatch.delenv("SPATE_API_KEY")
    missing = tmp_path / "missing.env"
    assert mod.read_env_file(missing) == {}
    with pytest.raises(SystemExit, match="SPATE_API_KEY is not set"):
        mod.load(missing)
