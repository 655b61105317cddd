"""Models through the SDK against the real server: algorithm configs,
local learn/predict, deployment on a slice of the fraud data, incremental
outputs and evaluations, versions and rollback, lifecycle, comparison and
synchronous prediction."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

import spate as tb
import spate.ml_algs as ml_mod
from spate.common.api import api

ROWS = 20_000
HISTORY = 10_000
LIVE_END = 19_000  # the last rows arrive after the rollback
NUMERICAL = ["transactionAmount", "localHour", "my_sum_feat"]
CATEGORICAL = ["digitalItemCount", "physicalItemCount", "isProxyIP"]


def wait_for(pred, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve from ranks (ties averaged)."""
    ranks = pd.Series(scores).rank().to_numpy()
    pos = labels == 1
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


@pytest.fixture(scope="module")
def fraud(spate_server):
    """Transactions and labels of the first ROWS rows of the bundled data."""
    # Module fixtures run before the per-test init: connect here too.
    tb.init(backend_url=spate_server.url, api_key=spate_server.api_key)
    return (tb.datasets.FraudDetectionDatasetFeatures(rows=ROWS).df,
            tb.datasets.FraudDetectionDatasetLabels(rows=ROWS).df)


@pytest.fixture(scope="module")
def deployed(fraud):
    """A Hoeffding tree deployed on the history with my_sum_feat, then fed
    the live rows up to LIVE_END."""
    tx, lb = fraud
    transactions = tb.OnlineDataset.from_pd(tx.iloc[:HISTORY], id="m_transactions", key_field="transactionID")
    labels = tb.OnlineDataset.from_pd(lb.iloc[:HISTORY], id="m_labels", key_field="transactionID")
    fe = transactions.feature_engineering
    fe.register_timestamp(column_name="timestamp", format_type="epoch_seconds")
    fe.create_aggregate_features(
        column_to_operate="transactionAmount", column_to_group="accountID", operation="SUM",
        new_feature_name="my_sum_feat", timestamp_column="timestamp", window_duration=24, window_unit="hours",
    )
    fe.materialize_features(["my_sum_feat"])
    inputs = transactions.get_model_inputs(numerical_fields=NUMERICAL, categorical_fields=CATEGORICAL)
    label = labels.get_model_labels(label_field="is_fraud")
    model = tb.HoeffdingTreeClassifier(n_classes=2)
    dm = model.deploy("m_htc", input=inputs, labels=label, version_every_samples=4000)
    dm.add_metric("WindowedAUC")
    for start in range(HISTORY, LIVE_END, 1000):
        transactions.add_pd(tx.iloc[start:start + 1000])
        labels.add_pd(lb.iloc[start:start + 1000])
    wait_for(lambda: dm.stats()["learned"] >= LIVE_END, 60, "the model to learn the live rows")
    return dm, transactions, labels, inputs, label, model


def test_algorithm_lists():
    assert tb.ml_algorithms(have_labels=True)[:2] == ["HoeffdingTreeClassifier", "HoeffdingTreeRegressor"]
    assert "HST" in tb.ml_algorithms(have_labels=False)
    assert {"WindowedAUC", "WindowedAccuracy", "WindowedMAE"} <= set(tb.evaluation_metrics())


# The exact configs TurboML's SDK emits for these models.
TURBOML_DUMPS = [
    (tb.LeveragingBaggingClassifier(n_classes=2, base_model=tb.HoeffdingTreeClassifier(n_classes=2)),
     [{"n_models": 10, "n_classes": 2, "w": 6.0, "bagging_method": "bag", "seed": 0, "num_children": 1,
       "algorithm": "LeveragingBaggingClassifier"},
      {"n_classes": 2, "delta": 1e-07, "tau": 0.05, "grace_period": 200, "leaf_pred_method": "mc",
       "split_method": "gini", "algorithm": "HoeffdingTreeClassifier"}]),
    (tb.MinMaxPreProcessor(base_model=tb.HST()),
     [{"num_children": 1, "text_categories": [], "image_sizes": [64, 64, 1], "channel_first": False,
       "gguf_model_id": None, "max_tokens_per_input": 512, "algorithm": "PreProcessor",
       "preprocessor_name": "MinMax"},
      {"n_trees": 20, "height": 12, "window_size": 50, "algorithm": "HST"}]),
    (tb.AMFClassifier(n_classes=2),
     [{"n_classes": 2, "n_estimators": 10, "step": 1.0, "use_aggregation": True, "dirichlet": 0.5,
       "split_pure": False, "algorithm": "AMFClassifier"}]),
    (tb.AMFRegressor(), [{"n_estimators": 10, "step": 1.0, "use_aggregation": True, "dirichlet": 0.5,
                          "algorithm": "AMFRegressor"}]),
    (tb.MultinomialNB(n_classes=2), [{"n_classes": 2, "alpha": 1.0, "algorithm": "MultinomialNB"}]),
    (tb.AdaBoostClassifier(n_classes=2, base_model=tb.GaussianNB(n_classes=2)),
     [{"n_models": 10, "n_classes": 2, "seed": 0, "num_children": 1, "algorithm": "AdaBoostClassifier"},
      {"n_classes": 2, "algorithm": "GaussianNB"}]),
]


@pytest.mark.parametrize("model, want", TURBOML_DUMPS, ids=lambda m: type(m).__name__ if isinstance(m, tb.Model) else "")
def test_configs_match_turboml(model, want):
    assert model.get_model_config() == want
    assert ml_mod.model_from_config(want) == model


def test_parameter_validation():
    with pytest.raises(TypeError):
        tb.HoeffdingTreeClassifier()  # n_classes is required
    with pytest.raises(TypeError):
        tb.GaussianNB(n_classes=2, alpha=1.0)  # GaussianNB has no alpha
    with pytest.raises(ValueError, match="grace_period must be int"):
        tb.HoeffdingTreeClassifier(n_classes=2, grace_period=1.5)
    with pytest.raises(ValueError, match="base_model must be a model"):
        tb.AdaBoostClassifier(n_classes=2, base_model="tree")
    assert tb.HoeffdingTreeClassifier(n_classes=2, delta=1).delta == 1.0


ALL_MODELS = [
    tb.HoeffdingTreeClassifier(n_classes=2, grace_period=50),
    tb.HoeffdingAdaptiveTreeClassifier(n_classes=2, grace_period=50),
    tb.HoeffdingTreeRegressor(grace_period=50),
    tb.AMFClassifier(n_classes=2, n_estimators=3),
    tb.AMFRegressor(n_estimators=3),
    tb.GaussianNB(n_classes=2),
    tb.MultinomialNB(n_classes=2),
    tb.LogisticRegression(),
    tb.HST(n_trees=5, height=6),
    tb.LeveragingBaggingClassifier(n_classes=2, n_models=3, base_model=tb.HoeffdingTreeClassifier(n_classes=2)),
    tb.AdaBoostClassifier(n_classes=2, n_models=3, base_model=tb.GaussianNB(n_classes=2)),
    tb.MinMaxPreProcessor(base_model=tb.HST(n_trees=5)),
    tb.NormalPreProcessor(base_model=tb.LogisticRegression()),
    tb.OneHotPreProcessor(text_categories=[2], base_model=tb.GaussianNB(n_classes=2)),
]


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: type(m).__name__)
def test_every_algorithm_learns_and_predicts_locally(model, fraud):
    tx, lb = fraud
    local_tx = tb.LocalDataset.from_pd(tx.iloc[:1500], key_field="transactionID")
    local_lb = tb.LocalDataset.from_pd(lb.iloc[:1500], key_field="transactionID")
    inputs = local_tx.get_model_inputs(numerical_fields=["transactionAmount", "localHour"],
                                       categorical_fields=["isProxyIP"])
    trained = model.learn(inputs, local_lb.get_model_labels("is_fraud"))
    assert trained.is_trained and not model.is_trained
    out = trained.predict(inputs)
    assert len(out) == 1500 and {"score", "predicted_class", "class_probabilities"} <= set(out.columns)
    assert np.isfinite(out["score"]).all()


def test_local_learning(fraud):
    tx, lb = fraud
    local_tx = tb.LocalDataset.from_pd(tx.iloc[:8000], key_field="transactionID")
    local_lb = tb.LocalDataset.from_pd(lb.iloc[:8000], key_field="transactionID")
    inputs = local_tx.get_model_inputs(numerical_fields=["transactionAmount", "localHour"],
                                       categorical_fields=["digitalItemCount", "physicalItemCount", "isProxyIP"])
    assert inputs.dataframe["transactionAmount"].dtype == np.float64
    assert inputs.dataframe["isProxyIP"].dtype == np.int64
    labels = local_lb.get_model_labels("is_fraud")
    model = tb.HoeffdingTreeClassifier(n_classes=2)
    with pytest.raises(ValueError, match="learn"):
        model.predict(inputs)
    once = model.learn(inputs, labels)
    first_half = local_tx[:4000].get_model_inputs(numerical_fields=inputs.numerical_fields,
                                                 categorical_fields=inputs.categorical_fields)
    half = model.learn(first_half, labels)  # joined by key: only the first 4000 labels used
    twice = half.learn(local_tx[4000:].get_model_inputs(numerical_fields=inputs.numerical_fields,
                                                       categorical_fields=inputs.categorical_fields), labels)
    # Learning in two steps continues from the state: same model as one pass.
    pd.testing.assert_frame_equal(twice.predict(inputs), once.predict(inputs))
    assert not half.predict(inputs).equals(once.predict(inputs))
    scores = once.predict(inputs)["score"].to_numpy()
    assert auc(scores, lb["is_fraud"].iloc[:8000].to_numpy()) > 0.6


def test_local_state_must_fit_the_inputs(fraud):
    tx, lb = fraud
    local_tx = tb.LocalDataset.from_pd(tx.iloc[:1000], key_field="transactionID")
    local_lb = tb.LocalDataset.from_pd(lb.iloc[:1000], key_field="transactionID")
    three = local_tx.get_model_inputs(numerical_fields=["transactionAmount", "localHour", "digitalItemCount"])
    trained = tb.HoeffdingTreeClassifier(n_classes=2).learn(three, local_lb.get_model_labels("is_fraud"))
    two = local_tx.get_model_inputs(numerical_fields=["transactionAmount", "localHour"])
    # A state learned on three numeric inputs cannot read rows of two: a
    # clear refusal, not a crash, and the server keeps answering.
    with pytest.raises(ValueError, match="reads 3 numeric and 0 categorical inputs; the model gives it 2 and 0"):
        trained.predict(two)
    assert len(trained.predict(three)) == 1000


def test_model_inputs_validation(deployed):
    _, transactions, labels, *_ = deployed
    with pytest.raises(ValueError, match="'nope'"):
        transactions.get_model_inputs(numerical_fields=["nope"])
    with pytest.raises(ValueError, match="more than once: localHour"):
        transactions.get_model_inputs(numerical_fields=["localHour"], categorical_fields=["localHour"])
    with pytest.raises(NotImplementedError, match="textual_fields"):
        transactions.get_model_inputs(numerical_fields=["localHour"], textual_fields=["ipCountryCode"])
    with pytest.raises(ValueError, match="must be numeric"):
        labels.get_model_labels("transactionID")
    with pytest.raises(ValueError, match="no column"):
        labels.get_model_labels("fraud")


def test_outputs_are_incremental(deployed):
    dm = tb.retrieve_model("m_htc")
    calls = []
    real = ml_mod.do_get
    ml_mod.do_get = lambda cmd, subject: calls.append(cmd) or real(cmd, subject)
    try:
        first = dm.get_outputs()
        again = dm.get_outputs()
    finally:
        ml_mod.do_get = real
    assert len(first) >= LIVE_END and len(again) == len(first)
    assert [c["from"] for c in calls] == [0, len(first)]
    assert [o["offset"] for o in first[:3]] == [0, 1, 2]
    rec = first[-1]["record"]
    assert rec.key.startswith("T") and 0 <= rec.score <= 1 and rec.predicted_class in (0, 1)
    assert len(rec.class_probabilities) == 2 and rec.model_version >= 1
    df = dm.get_outputs_df()
    assert len(df) == len(first) and df["key"].iloc[-1] == rec.key
    assert len(dm.get_outputs(limit=5)) == 5


def test_evaluation(deployed):
    dm = deployed[0]
    calls = []
    real = dm._call
    dm._call = lambda name, req, timeout=30.0: calls.append(req) or real(name, req, timeout)
    try:
        ev = dm.get_evaluation("WindowedAUC")
        again = dm.get_evaluation("WindowedAUC")
    finally:
        del dm._call
    assert len(ev) >= LIVE_END and [p.index for p in ev[:2]] == [0, 1]
    assert ev[-1].metric > 0.5, "the tree learned nothing"
    assert calls[1].from_index == ev[-1].index + 1 and len(again) == len(ev)
    assert len(dm.get_evaluation("WindowedAUC", limit=10)) == 10
    # filter_expression: only the selected samples enter the metric.
    proxy = dm.get_evaluation("WindowedAUC", filter_expression="input_data.isProxyIP = 1 AND output_data.score >= 0")
    assert 0 < len(proxy) < len(ev)
    assert set(p.index for p in proxy) <= set(p.index for p in ev)
    with pytest.raises(ValueError, match="filter_expression"):
        dm.get_evaluation("WindowedAUC", filter_expression="input_data.no_such_column = 1")
    assert dm.stats()["metrics"]["WindowedAUC"] > 0.5


def test_redeploy_is_refused(deployed):
    _, _, _, inputs, label, model = deployed
    with pytest.raises(ValueError, match="m_htc.*already exists"):
        model.deploy("m_htc", input=inputs, labels=label)
    local = tb.LocalDataset.from_pd(pd.DataFrame({"k": ["a"], "x": [1.0], "y": [0]}), key_field="k")
    with pytest.raises(ValueError, match="OnlineInputs"):
        model.deploy("m_local", input=local.get_model_inputs(numerical_fields=["x"]), labels=label)
    with pytest.raises(ValueError, match="must match"):
        model.deploy("bad name!", input=inputs, labels=label)


def test_retrieve_model(deployed):
    dm = tb.retrieve_model("m_htc")
    assert dm.algorithm == "HoeffdingTreeClassifier"
    assert dm.model_instance == tb.HoeffdingTreeClassifier(n_classes=2)
    assert dm.n_classes == 2 and dm.grace_period == 200  # parameters read through the handle
    with pytest.raises(AttributeError):
        dm.no_such_parameter
    assert dm.get_endpoints() == [f"{api.config.BACKEND_SERVER_ADDRESS}/model/m_htc/predict"]
    assert "learning from history" in dm.get_logs().stdout
    with pytest.raises(tb.NotFoundException):
        tb.retrieve_model("no_such_model")


def test_versions_rollback_and_get_version(deployed, fraud):
    dm, transactions, labels, *_ = deployed
    tx, lb = fraud
    before = dm.versions()
    assert list(before.columns) == ["id", "samples_seen", "metrics", "created_at", "reason", "parent", "label",
                                    "pinned", "thinned"]
    assert "history" in set(before["reason"]) and len(before) >= 3
    new = dm.create_version()
    after = dm.versions()
    assert len(after) == len(before) + 1 and after["id"].iloc[-1] == new

    first = int(before["id"].iloc[0])
    features = transactions.feature_engineering.get_materialized_features().iloc[:200]
    pred = dm.get_version(first).predict(features)
    assert len(pred) == 200 and (pred["model_version"] == first).all()
    assert set(pred["predicted_class"]) <= {0, 1}

    rolled = dm.rollback(first)
    assert rolled > new and dm.versions()["parent"].iloc[-1] == first
    seen = len(dm.get_outputs())
    transactions.add_pd(tx.iloc[LIVE_END:])
    labels.add_pd(lb.iloc[LIVE_END:])
    wait_for(lambda: len(dm.get_outputs()) >= seen + ROWS - LIVE_END, 60, "outputs of the last rows")
    newest = dm.get_outputs()[seen:]
    assert {o["record"].model_version for o in newest} == {rolled}


def test_compare_model_metrics(deployed):
    _, transactions, labels, inputs, label, _ = deployed
    other = tb.GaussianNB(n_classes=2).deploy("m_gnb", input=inputs, labels=label)
    other.add_metric("WindowedAUC")
    wait_for(lambda: other.stats()["learned"] >= transactions.row_count, 60, "the second model")
    df = tb.compare_model_metrics([deployed[0], other], "WindowedAUC")
    assert list(df.columns) == ["m_htc", "m_gnb"] and df.index.name == "Samples"
    assert df.iloc[-1].notna().all() and len(df) >= LIVE_END
    with pytest.raises(ValueError, match="unknown metric"):
        tb.compare_model_metrics([other], "AUC")
    other.delete()
    with pytest.raises(tb.NotFoundException):
        tb.retrieve_model("m_gnb")


def test_pause_resume(fraud):
    tx, lb = fraud
    t = tb.OnlineDataset.from_pd(tx.iloc[:500], id="p_transactions", key_field="transactionID")
    lab = tb.OnlineDataset.from_pd(lb.iloc[:500], id="p_labels", key_field="transactionID")
    dm = tb.GaussianNB(n_classes=2).deploy(
        "p_model", input=t.get_model_inputs(numerical_fields=["transactionAmount"]),
        labels=lab.get_model_labels("is_fraud"),
    )
    wait_for(lambda: dm.stats()["predicted"] == 500, 30, "the history")
    dm.pause()
    assert dm.state == "paused"
    t.add_pd(tx.iloc[500:800])
    time.sleep(0.5)
    assert dm.stats()["predicted"] == 500, "a paused model predicts nothing"
    dm.resume()
    assert dm.state == "running"
    wait_for(lambda: dm.stats()["predicted"] == 800, 30, "the resumed model")
    dm.delete()


def test_deploy_a_locally_learned_model(fraud):
    tx, lb = fraud
    local = tb.LocalDataset.from_pd(tx.iloc[:3000], key_field="transactionID")
    fields = dict(numerical_fields=["transactionAmount", "localHour"], categorical_fields=["isProxyIP"])
    trained = tb.HoeffdingTreeClassifier(n_classes=2).learn(
        local.get_model_inputs(**fields), tb.LocalDataset.from_pd(lb.iloc[:3000], key_field="transactionID")
        .get_model_labels("is_fraud"),
    )
    t = tb.OnlineDataset.from_pd(tx.iloc[3000:3300], id="l_transactions", key_field="transactionID")
    lab = tb.OnlineDataset.from_pd(lb.iloc[:1], id="l_labels", key_field="transactionID")
    dm = trained.deploy("l_model", input=t.get_model_inputs(**fields), labels=lab.get_model_labels("is_fraud"),
                        predict_only=True)
    wait_for(lambda: len(dm.get_outputs_df()) == 300, 30, "predictions")
    outs = dm.get_outputs_df()
    local_pred = trained.predict(tb.LocalDataset.from_pd(tx.iloc[3000:3300], key_field="transactionID")
                                 .get_model_inputs(**fields))
    np.testing.assert_allclose(outs["score"].to_numpy(), local_pred["score"].to_numpy())
    dm.delete()


def test_rest_predict(deployed, fraud):
    """One raw row (no features: the server computes my_sum_feat) in, the
    prediction out."""
    tx, _ = fraud
    dm = deployed[0]
    row = {k: (v.item() if hasattr(v, "item") else v) for k, v in tx.iloc[5].to_dict().items()}
    row["transactionID"] = "rest_row_1"
    out = api.predict("m_htc", row)
    assert out["key"] == "rest_row_1" and out["predicted_class"] in (0, 1) and 0 <= out["score"] <= 1
    assert out["model_version"] >= 1 and len(out["class_probabilities"]) == 2
    assert dm.predict_one(row) == out
    # The raw route, as a script without the SDK would call it.
    import json
    import urllib.request

    req = urllib.request.Request(dm.get_endpoints()[0], data=json.dumps(row).encode(), method="POST",
                                 headers={**tb.common.api.headers, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert json.loads(resp.read())["predicted_class"] == out["predicted_class"]
    dm.promote()
    assert api.predict("prod", row)["predicted_class"] == out["predicted_class"]
    with pytest.raises(tb.ApiException, match="transactionAmount"):
        api.predict("m_htc", {"transactionAmount": "lots"})
