"""Create the fraud example's datasets and its streaming feature on the Spate
backend.

Uploads the bundled fraud data as two datasets keyed by `transactionID`:
`transactions` (the card transactions) and `labels` (`is_fraud`), registers
`timestamp` as event time (epoch seconds) and materializes `my_sum_feat`,
the sum of `transactionAmount` per `accountID` over the last 24 hours.
Running it again keeps the existing datasets and feature.

By default only the first 100 transactions are uploaded as history; the rest
is meant to arrive later as a live stream (generate_live_data.py). Pass
--rows 0 for all of them.

    python examples/fraud/setup_feature_pipeline.py [--rows N]
"""

from __future__ import annotations

import argparse

import spate as tb
from config import config


def create_datasets(rows: int) -> tuple[tb.OnlineDataset, tb.OnlineDataset]:
    """Upload the bundled data (the first `rows` rows; 0: all) unless the
    datasets exist."""
    transactions_df = tb.datasets.FraudDetectionDatasetFeatures().df
    labels_df = tb.datasets.FraudDetectionDatasetLabels().df
    if rows > 0:
        transactions_df = transactions_df.head(rows)
        labels_df = labels_df.head(rows)
    transactions = tb.OnlineDataset.from_pd(
        id=config.transactions_dataset_name,
        df=transactions_df,
        key_field="transactionID",
        load_if_exists=True,
    )
    labels = tb.OnlineDataset.from_pd(
        id=config.labels_dataset_name,
        df=labels_df,
        key_field="transactionID",
        load_if_exists=True,
    )
    return transactions, labels


def get_feature_names(transactions: tb.OnlineDataset) -> list[str]:
    """The columns of the dataset with its materialized features."""
    return transactions.feature_engineering.get_materialized_features().columns.tolist()


def define_feature_engineering(transactions: tb.OnlineDataset) -> None:
    """Register the event time and materialize my_sum_feat (once)."""
    fe = transactions.feature_engineering
    fe.register_timestamp(column_name="timestamp", format_type="epoch_seconds")
    if "my_sum_feat" in get_feature_names(transactions):
        print("my_sum_feat: already materialized")
        return
    fe.create_aggregate_features(
        column_to_operate="transactionAmount",
        column_to_group="accountID",
        operation="SUM",
        new_feature_name="my_sum_feat",
        timestamp_column="timestamp",
        window_duration=24,
        window_unit="hours",
    )
    fe.materialize_features(["my_sum_feat"])
    print("my_sum_feat: materialized")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100, help="transactions to upload as history (0 = all)")
    args = parser.parse_args()

    tb.init(backend_url=config.backend_url, api_key=config.api_key)
    transactions, labels = create_datasets(args.rows)
    for ds in (transactions, labels):
        print(f"{ds.dataset_id}: {len(ds.preview_df)} rows, {len(ds.schema.fields)} columns, key {ds.key_field}")
    define_feature_engineering(transactions)
    print(f"{transactions.dataset_id} columns with features: {len(get_feature_names(transactions))}")


if __name__ == "__main__":
    main()
