"""The fraud workflow that the browser suite watches, driven through the
Python SDK against a running server (SPATE_BACKEND_URL, SPATE_API_KEY).

    workflow.py setup --history H --total N   datasets, feature, two models, versions
    workflow.py live --from H --to N          the rest of the rows and labels, in batches
    workflow.py rows --from A --to B --total N rows A..B of the sample as upload-ready JSON
    workflow.py info MODEL                    the model's state and versions as JSON

Every command prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import pandas as pd

import spate as tb
from spate.common.api import api

TRANSACTIONS, LABELS = "transactions", "labels"
MODEL, SECOND_MODEL = "fraud_model", "fraud_model_nb"
NUMERICAL = ["transactionAmount", "localHour", "my_sum_feat"]
CATEGORICAL = ["digitalItemCount", "physicalItemCount", "isProxyIP"]


def sample(total: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    tx = tb.datasets.FraudDetectionDatasetFeatures(rows=total).df
    lb = tb.datasets.FraudDetectionDatasetLabels(rows=total).df
    return tx, lb


def wait_learned(model: tb.DeployedModel, rows: int, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        stats = model.stats()
        if stats["learned"] >= rows and stats["predicted"] >= rows:
            return stats
        if time.monotonic() > deadline:
            raise SystemExit(f"{model.model_name}: learned {stats['learned']} / predicted {stats['predicted']} "
                             f"of {rows} rows after {timeout} s")
        time.sleep(0.2)


def setup(history: int, total: int) -> dict:
    tx, lb = sample(total)
    transactions = tb.OnlineDataset.from_pd(id=TRANSACTIONS, df=tx.head(history), key_field="transactionID")
    labels = tb.OnlineDataset.from_pd(id=LABELS, df=lb.head(history), key_field="transactionID")
    fe = transactions.feature_engineering
    fe.register_timestamp(column_name="timestamp", format_type="epoch_seconds")
    fe.create_aggregate_features(
        column_to_operate="transactionAmount", column_to_group="accountID", operation="SUM",
        new_feature_name="my_sum_feat", timestamp_column="timestamp", window_duration=24, window_unit="hours",
    )
    fe.materialize_features(["my_sum_feat"])

    inputs = transactions.get_model_inputs(numerical_fields=NUMERICAL, categorical_fields=CATEGORICAL)
    label = labels.get_model_labels(label_field="is_fraud")
    first = tb.HoeffdingTreeClassifier(n_classes=2).deploy(MODEL, input=inputs, labels=label)
    first.add_metric("WindowedAUC")
    second = tb.GaussianNB(n_classes=2).deploy(SECOND_MODEL, input=inputs, labels=label)
    second.add_metric("WindowedAUC")
    wait_learned(first, history, 120)
    wait_learned(second, history, 120)
    v1 = first.create_version()
    v2 = first.create_version()
    return {"transactions": history, "labels": history, "models": [MODEL, SECOND_MODEL], "versions": [v1, v2]}


def live_rows(start: int, end: int, total: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows start..end of the sample of `total` rows, timestamps moved to now
    (as examples/fraud/generate_live_data.py does)."""
    tx, lb = sample(total)
    tx = tb.datasets.PandasHelpers.normalize_df(tx).iloc[start:end].copy()
    lb = tb.datasets.PandasHelpers.normalize_df(lb).iloc[start:end].copy()
    tx["timestamp"] += int(time.time())
    return tx, lb


def rows(start: int, end: int, total: int) -> dict:
    tx, lb = live_rows(start, end, total)
    return {"transactions": json.loads(tx.to_json(orient="records")), "labels": json.loads(lb.to_json(orient="records"))}


def live(start: int, end: int, total: int, batch: int, delay: float) -> dict:
    tx, lb = live_rows(start, end, total)
    for i in range(0, len(tx), batch):
        for dataset, df in ((TRANSACTIONS, tx), (LABELS, lb)):
            rows = json.loads(df.iloc[i:i + batch].to_json(orient="records"))
            api.post(f"dataset/{dataset}/upload", json=rows)
        time.sleep(delay)
    stats = wait_learned(tb.retrieve_model(MODEL), end, 120)
    return {"sent": len(tx), "learned": stats["learned"]}


def info(name: str) -> dict:
    try:
        model = tb.retrieve_model(name)
    except tb.NotFoundException:
        return {"name": name, "exists": False}
    m = model._refresh()
    versions = model.versions()
    return {"name": name, "exists": True, "state": m.state, "stage": m.stage, "current_version": int(m.current_version),
            "versions": [int(v) for v in versions["id"].tolist()],
            "parents": {str(int(v)): int(p) for v, p in zip(versions["id"], versions["parent"])}}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup")
    s.add_argument("--history", type=int, required=True)
    s.add_argument("--total", type=int, required=True)
    lv = sub.add_parser("live")
    lv.add_argument("--from", dest="start", type=int, required=True)
    lv.add_argument("--to", dest="end", type=int, required=True)
    lv.add_argument("--total", type=int, required=True)
    lv.add_argument("--batch", type=int, default=100)
    lv.add_argument("--delay", type=float, default=0.2)
    r = sub.add_parser("rows")
    r.add_argument("--from", dest="start", type=int, required=True)
    r.add_argument("--to", dest="end", type=int, required=True)
    r.add_argument("--total", type=int, required=True)
    i = sub.add_parser("info")
    i.add_argument("model")
    a = p.parse_args()
    tb.init(backend_url=os.environ["SPATE_BACKEND_URL"], api_key=os.environ["SPATE_API_KEY"])
    if a.cmd == "setup":
        out = setup(a.history, a.total)
    elif a.cmd == "live":
        out = live(a.start, a.end, a.total, a.batch, a.delay)
    elif a.cmd == "rows":
        out = rows(a.start, a.end, a.total)
    else:
        out = info(a.model)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
