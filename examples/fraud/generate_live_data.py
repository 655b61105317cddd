"""Replay the bundled fraud data as a live stream into the Spate backend.

Transactions and their labels stream over Arrow Flight (two long-lived
DoPut uploads, one per dataset, each batch acknowledged once it is durably
stored) in batches (100 rows by default): each batch of transactions, then
the labels of the same rows. With --rest they go through the REST upload
route instead, one request per batch. Timestamps are shifted so that the stream starts now. The
replay starts after the rows the `transactions` dataset already holds (the
history setup_feature_pipeline.py uploaded), so no key is sent twice. At the
end it prints the upload throughput and, if the fraud model is deployed, its
live figures and WindowedAUC.

    python examples/fraud/generate_live_data.py [--max-rows N] [--delay S] [--rows-per-batch N] [--rest]

SPATE_EXAMPLE_MAX_ROWS sets the default of --max-rows.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Iterator

import pandas as pd
from tqdm import tqdm

import spate as tb
from config import config
from spate._arrow import to_table
from spate._flight import PutStream
from spate.common.api import api


def simulate_live_stream(
    df: pd.DataFrame, batch_size: int, sleep_sec: float, from_timestamp_sec: int
) -> Iterator[pd.DataFrame]:
    """Yield `df` in batches of `batch_size` rows, `sleep_sec` apart, with
    `timestamp` (if present) shifted by `from_timestamp_sec`."""
    for start in range(0, len(df), batch_size):
        batch = df.iloc[start:start + batch_size].copy()
        if "timestamp" in batch.columns:
            batch["timestamp"] += from_timestamp_sec
        yield batch
        if sleep_sec > 0:
            time.sleep(sleep_sec)


def upload_df_to_online_dataset(dataset_id: str, df: pd.DataFrame) -> None:
    """Push rows through `POST /api/dataset/{id}/upload`; returns once they
    are stored."""
    rows = json.loads(df.to_json(orient="records"))
    api.post(f"dataset/{dataset_id}/upload", json=rows)


class FlightUploader:
    """Streams both datasets over Arrow Flight: one DoPut upload each,
    batches sent as they come (at most a few waiting for their
    acknowledgement)."""

    def __init__(self, transactions: tb.OnlineDataset, labels: tb.OnlineDataset) -> None:
        self._datasets = {d.dataset_id: d for d in (transactions, labels)}
        self._streams: dict[str, PutStream] = {}

    def upload(self, dataset_id: str, df: pd.DataFrame) -> None:
        ds = self._datasets[dataset_id]
        table = to_table(df, ds.schema, ds.key_field)
        stream = self._streams.get(dataset_id)
        if stream is None:
            stream = self._streams[dataset_id] = PutStream(dataset_id, table.schema)
        stream.write(table)

    def close(self) -> None:
        """Waits until every row is acknowledged (durably stored)."""
        for stream in self._streams.values():
            stream.close()


def report_model(model_name: str, rows: int, wait: float = 60.0) -> None:
    """Wait (bounded) for the model to catch up with the stream, then print
    its figures."""
    try:
        model = tb.retrieve_model(model_name)
    except tb.NotFoundException:
        print(f"{model_name} is not deployed: run setup_model.py (make model) to score the stream")
        return
    deadline = time.monotonic() + wait
    while True:
        stats = model.stats()
        if stats["learned"] >= rows and stats["predicted"] >= rows or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    auc = stats["metrics"].get("WindowedAUC")
    print(
        f"{model_name}: predicted {stats['predicted']}, learned {stats['learned']}, "
        f"{stats['rows_per_second']:.0f} rows/s, ingest-to-output p50 {stats['latency_p50_seconds'] * 1000:.1f} ms"
        + (f", WindowedAUC {auc:.4f}" if auc is not None else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    env_max = os.environ.get("SPATE_EXAMPLE_MAX_ROWS")
    parser.add_argument("--max-rows", type=int, default=int(env_max) if env_max else 0,
                        help="rows to replay (default: all)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds between batches (default 0: no pause)")
    parser.add_argument("--rows-per-batch", type=int, default=100, help="rows per batch (default 100)")
    parser.add_argument("--rest", action="store_true",
                        help="upload through the REST route (one JSON request per batch) instead of Arrow Flight")
    args = parser.parse_args()
    if args.rows_per_batch <= 0:
        parser.error("--rows-per-batch must be positive")

    tb.init(backend_url=config.backend_url, api_key=config.api_key)
    transactions = tb.OnlineDataset.load(config.transactions_dataset_name)
    labels = tb.OnlineDataset.load(config.labels_dataset_name)
    if transactions is None or labels is None:
        raise SystemExit("the datasets do not exist yet: run setup_feature_pipeline.py (make feature-pipeline) first")
    already = transactions.row_count

    transactions_df = tb.datasets.PandasHelpers.normalize_df(tb.datasets.FraudDetectionDatasetFeatures().df)
    labels_df = tb.datasets.PandasHelpers.normalize_df(tb.datasets.FraudDetectionDatasetLabels().df)
    transactions_df, labels_df = transactions_df.iloc[already:], labels_df.iloc[already:]
    if args.max_rows > 0:
        transactions_df, labels_df = transactions_df.head(args.max_rows), labels_df.head(args.max_rows)
    if transactions_df.empty:
        print(f"nothing to replay: {config.transactions_dataset_name} already holds all {already} rows")
        return

    from_timestamp_sec = int(time.time())
    tx_stream = simulate_live_stream(transactions_df, args.rows_per_batch, args.delay, from_timestamp_sec)
    lb_stream = simulate_live_stream(labels_df, args.rows_per_batch, 0, from_timestamp_sec)
    flight_up = None if args.rest else FlightUploader(transactions, labels)
    upload = upload_df_to_online_dataset if flight_up is None else flight_up.upload
    start = time.monotonic()
    with tqdm(total=len(transactions_df), desc="Pushing transactions and labels", unit="transactions",
              unit_scale=True) as bar:
        for tx_batch, lb_batch in zip(tx_stream, lb_stream, strict=True):
            upload(config.transactions_dataset_name, tx_batch)
            upload(config.labels_dataset_name, lb_batch)
            bar.update(len(tx_batch))
        if flight_up is not None:
            flight_up.close()
    elapsed = time.monotonic() - start
    sent = len(transactions_df)
    via = "REST" if args.rest else "Arrow Flight"
    print(f"replayed {sent} transactions and labels over {via} in {elapsed:.1f} s ({sent / elapsed:.0f} rows/s each)")
    report_model(config.model_name, already + sent)


if __name__ == "__main__":
    main()
