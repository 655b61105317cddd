"""The bundled fraud data: served by the backend, cached on disk, and the
fraud example's setup script that uploads it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import spate as tb
from spate import datasets
from spate.datasets import SAMPLE_VERSION_KEY, fetch_sample

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "fraud"

TRANSACTION_COLUMNS = [
    "transactionID", "accountID", "timestamp", "transactionTime", "localHour", "transactionAmount",
    "transactionCurrencyCode", "transactionAmountUSD", "digitalItemCount", "physicalItemCount",
    "paymentInstrumentType", "cardType", "cvvVerifyResult", "paymentBillingPostalCode", "paymentBillingState",
    "paymentBillingCountryCode", "shippingCountry", "ipCountryCode", "ipState", "ipPostcode", "isProxyIP",
    "browserLanguage",
]


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SPATE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_default_fraud_data(cache_dir):
    features = tb.datasets.FraudDetectionDatasetFeatures()
    labels = tb.datasets.FraudDetectionDatasetLabels()
    tx, lb = features.df, labels.df
    assert len(tx) == len(lb) == 200_000
    assert list(tx.columns) == TRANSACTION_COLUMNS
    assert list(lb.columns) == ["transactionID", "is_fraud"]
    assert features.key_field == labels.key_field == "transactionID"
    assert tx["transactionID"].is_unique and (tx["transactionID"] == lb["transactionID"]).all()
    assert set(lb["is_fraud"].unique()) == {0, 1}
    assert 0.01 < lb["is_fraud"].mean() < 0.2
    assert tx["timestamp"].is_monotonic_increasing
    assert tx.dtypes["timestamp"] == np.dtype("int64") and tx.dtypes["transactionAmount"] == np.dtype("float64")
    assert features.schema.fields["isProxyIP"] == tb.Datatype.INT64
    assert features.schema.fields["ipCountryCode"] == tb.Datatype.STRING
    assert not tx.isna().any().any(), "the bundled data has no nulls"


def test_fraud_data_is_cached(cache_dir):
    first, from_cache = fetch_sample("fraud_transactions", rows=3000, seed=7)
    assert not from_cache and first.num_rows == 3000
    files = list((cache_dir / "samples").glob("fraud_transactions-*-seed7-rows3000.arrow"))
    assert len(files) == 1
    again, from_cache = fetch_sample("fraud_transactions", rows=3000, seed=7)
    assert from_cache and again.equals(first)
    other, from_cache = fetch_sample("fraud_transactions", rows=3000, seed=8)
    assert not from_cache and not other.equals(first), "seed is part of the key"
    pd.testing.assert_frame_equal(tb.datasets.FraudDetectionDatasetFeatures(rows=3000, seed=7).df, first.to_pandas())


def test_stale_or_broken_cache_is_replaced(cache_dir):
    good, _ = fetch_sample("fraud_labels", rows=2000, seed=3)
    (path,) = (cache_dir / "samples").glob("fraud_labels-*-seed3-rows2000.arrow")
    path.write_bytes(b"not an arrow file")
    table, from_cache = fetch_sample("fraud_labels", rows=2000, seed=3)
    assert not from_cache and table.equals(good)
    assert datasets._read_cached(path).equals(good), "the broken file was rewritten"
    if SAMPLE_VERSION_KEY not in (table.schema.metadata or {}):
        # Without a version from the server, different first rows mean the
        # generator changed: the copy is fetched again.
        flipped = good.set_column(1, "is_fraud", pa.array(1 - good.column("is_fraud").to_numpy()))
        datasets._write_cached(path, flipped)
        table, from_cache = fetch_sample("fraud_labels", rows=2000, seed=3)
        assert not from_cache and table.equals(good)


def test_unknown_sample():
    with pytest.raises(ValueError, match="unknown sample"):
        fetch_sample("no_such_sample", rows=10)


def test_fraud_data_needs_init(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPATE_")}
    code = "import spate as tb; tb.datasets.FraudDetectionDatasetFeatures()"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert res.returncode != 0
    assert "NotInitializedError: no API key: call spate.init(" in res.stderr


def run_setup(spate_server, cache: Path, *args: str) -> str:
    env = {**os.environ, "SPATE_BACKEND_URL": spate_server.url, "SPATE_API_KEY": spate_server.api_key,
           "SPATE_CACHE_DIR": str(cache)}
    res = subprocess.run(
        [sys.executable, str(EXAMPLES / "setup_feature_pipeline.py"), *args],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_setup_feature_pipeline_script(spate_server, cache_dir):
    out = run_setup(spate_server, cache_dir)
    assert "transactions: 100 rows, 22 columns, key transactionID" in out
    assert "labels: 100 rows, 2 columns, key transactionID" in out
    assert "my_sum_feat: materialized" in out
    # Running it again keeps the datasets and the feature as they are.
    assert run_setup(spate_server, cache_dir) == out.replace("my_sum_feat: materialized", "my_sum_feat: already materialized")
    transactions = tb.OnlineDataset.load("transactions")
    expected = tb.datasets.FraudDetectionDatasetFeatures().df.head(100)
    pd.testing.assert_frame_equal(transactions.preview_df, expected)
