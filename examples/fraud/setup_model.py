"""Deploy the fraud example's model on the Spate backend.

A Hoeffding tree classifier (two classes) reads `transactionAmount`,
`localHour` and the streaming feature `my_sum_feat` as numbers and
`digitalItemCount`, `physicalItemCount`, `isProxyIP` as categories from the
`transactions` dataset, and learns `is_fraud` from the `labels` dataset as
labels arrive. It first learns from the history, then from the live stream.
WindowedAUC is computed continuously. Running it again keeps the deployed
model (a second deploy under the same name is refused).

    python examples/fraud/setup_model.py
"""

from __future__ import annotations

import spate as tb
from config import config

NUMERICAL_FIELDS = ["transactionAmount", "localHour", "my_sum_feat"]
CATEGORICAL_FIELDS = ["digitalItemCount", "physicalItemCount", "isProxyIP"]


def setup_model(model_name: str, transactions_dataset_name: str, labels_dataset_name: str) -> list[str]:
    """Deploy the model unless it exists; return its prediction endpoints."""
    transactions = tb.OnlineDataset.load(dataset_id=transactions_dataset_name)
    labels = tb.OnlineDataset.load(dataset_id=labels_dataset_name)
    if transactions is None or labels is None:
        raise SystemExit("the datasets do not exist yet: run setup_feature_pipeline.py (make feature-pipeline) first")

    model = tb.HoeffdingTreeClassifier(n_classes=2)
    features = transactions.get_model_inputs(numerical_fields=NUMERICAL_FIELDS, categorical_fields=CATEGORICAL_FIELDS)
    label = labels.get_model_labels(label_field="is_fraud")
    try:
        deployed = model.deploy(model_name, input=features, labels=label)
        deployed.add_metric("WindowedAUC")
        print(f"{model_name}: deployed")
    except ValueError as err:
        print(f"{model_name}: not deployed again: {err}")
        deployed = tb.retrieve_model(model_name)
    endpoints = deployed.get_endpoints()
    print(f"{model_name} endpoints: {endpoints}")
    return endpoints


if __name__ == "__main__":
    tb.init(backend_url=config.backend_url, api_key=config.api_key)
    setup_model(
        model_name=config.model_name,
        transactions_dataset_name=config.transactions_dataset_name,
        labels_dataset_name=config.labels_dataset_name,
    )
