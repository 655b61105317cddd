"""The fraud example's scripts (examples/fraud)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import time
import sys
from pathlib import Path

import pytest

import spate as tb

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


def run_script(spate_server, api_key: str, name: str, *args: str, extra_env: dict[str, str] | None = None) -> str:
    env = {**os.environ, "SPATE_BACKEND_URL": spate_server.url, "SPATE_API_KEY": api_key, **(extra_env or {})}
    res = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True, timeout=240, env=env,
    )
    assert res.returncode == 0, f"{name} failed:\n{res.stdout}\n{res.stderr}"
    return res.stdout


def test_fraud_scripts_end_to_end(spate_server):
    """The three scripts in order, in a namespace of their own, on a slice
    of the live stream: datasets and feature, the model, the replay."""
    key = spate_server.create_key("fraud_example")
    out = run_script(spate_server, key, "setup_feature_pipeline.py")
    assert "transactions: 100 rows, 22 columns, key transactionID" in out
    assert "my_sum_feat: materialized" in out and "transactions columns with features: 23" in out

    out = run_script(spate_server, key, "setup_model.py")
    assert "fraud_model: deployed" in out
    assert f"fraud_model endpoints: ['{spate_server.url}/model/fraud_model/predict']" in out
    out = run_script(spate_server, key, "setup_model.py")
    assert "fraud_model: not deployed again" in out and "already exists" in out

    out = run_script(spate_server, key, "generate_live_data.py", extra_env={"SPATE_EXAMPLE_MAX_ROWS": "10000"})
    assert "replayed 10000 transactions and labels" in out
    assert "fraud_model: predicted 10100, learned 10100" in out and "WindowedAUC" in out

    tb.login(api_key=key)
    transactions = tb.OnlineDataset.load("transactions")
    assert transactions.row_count == 10100
    feats = transactions.feature_engineering.get_materialized_features()
    assert len(feats) == 10100 and feats["my_sum_feat"].notna().all()
    # The replay continues where the data set ends, with timestamps shifted to now.
    assert feats["timestamp"].iloc[100] > time.time() - 600 > feats["timestamp"].iloc[99]
    model = tb.retrieve_model("fraud_model")
    assert len(model.get_outputs()) == 10100
    auc = model.get_evaluation("WindowedAUC")[-1].metric
    assert auc > 0.5
