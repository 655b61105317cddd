"""Create the fraud example's datasets on the Spate backend.

Uploads the bundled fraud data as two datasets keyed by `transactionID`:
`transactions` (the card transactions) and `labels` (`is_fraud`). Running it
again keeps the existing datasets (load_if_exists=True).

By default only the first 100 transactions are uploaded as history; the rest
is meant to arrive later as a live stream. Pass --rows 0 for all of them.

    python examples/fraud/setup_feature_pipeline.py [--rows N]
"""

from __future__ import annotations

import argparse

import spate as tb
from config import config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100, help="transactions to upload as history (0 = all)")
    args = parser.parse_args()

    tb.init(backend_url=config.backend_url, api_key=config.api_key)

    transactions_df = tb.datasets.FraudDetectionDatasetFeatures().df
    labels_df = tb.datasets.FraudDetectionDatasetLabels().df
    if args.rows > 0:
        transactions_df = transactions_df.head(args.rows)
        labels_df = labels_df.head(args.rows)

    transactions = tb.OnlineDataset.from_pd(
        id="transactions",
        df=transactions_df,
        key_field="transactionID",
        load_if_exists=True,
    )
    labels = tb.OnlineDataset.from_pd(
        id="labels",
        df=labels_df,
        key_field="transactionID",
        load_if_exists=True,
    )
    for ds in (transactions, labels):
        print(f"{ds.dataset_id}: {len(ds.preview_df)} rows, {len(ds.schema.fields)} columns, key {ds.key_field}")


if __name__ == "__main__":
    main()
