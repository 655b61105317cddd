"""Online models: the algorithm classes (TurboML's names, parameters and
defaults), local training and prediction, deployment, and the
:class:`DeployedModel` handle (outputs, metrics, versions, lifecycle).

Every computation runs in the server: ``learn`` and ``predict`` send the
rows over Arrow Flight and get back the learner's encoded state or the
predictions; ``deploy`` starts a model that predicts each new row of its
dataset and learns when the row's label arrives.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, ClassVar, Iterable, cast

import pandas as pd
import pyarrow as pa

from . import _arrow
from ._flight import do_exchange, do_get
from ._proto.spate.v1 import spate_pb2
from .common.api import api
from .common.exceptions import ApiException
from .inputs import LocalInputs, LocalLabels, OnlineInputs, OnlineLabels
from .retention import Retention

__all__ = [
    "Model",
    "HoeffdingTreeClassifier",
    "HoeffdingTreeRegressor",
    "HoeffdingAdaptiveTreeClassifier",
    "AMFClassifier",
    "AMFRegressor",
    "GaussianNB",
    "MultinomialNB",
    "LogisticRegression",
    "HST",
    "LeveragingBaggingClassifier",
    "AdaBoostClassifier",
    "MinMaxPreProcessor",
    "NormalPreProcessor",
    "OneHotPreProcessor",
    "DeployedModel",
    "ModelVersion",
    "Output",
    "Metric",
    "ProcessOutput",
    "ml_algorithms",
    "evaluation_metrics",
    "retrieve_model",
    "compare_model_metrics",
    "model_from_config",
]

_MODEL_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")

# Python types each annotation accepts (the annotations are strings here).
_CHECKS: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "str": (str,),
    "list[int]": (list,),
}


class Model:
    """Base of the algorithm classes. Parameters are keyword-only and typed;
    unknown parameters raise TypeError, ill-typed ones ValueError.

    Examples
    --------

    >>> import spate as tb
    >>> tb.HoeffdingTreeClassifier(n_classes=2).get_model_config()
    [{'algorithm': 'HoeffdingTreeClassifier', 'n_classes': 2, 'delta': 1e-07, 'tau': 0.05, 'grace_period': 200, 'leaf_pred_method': 'mc', 'split_method': 'gini'}]
    >>> tb.HoeffdingTreeClassifier(n_classes="two")
    Traceback (most recent call last):
    ...
    ValueError: HoeffdingTreeClassifier.n_classes must be int, got 'two'

    """

    #: The algorithm name the server knows.
    algorithm: ClassVar[str] = ""
    _state: bytes | None

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if f.name in ("base_model",):
                if not isinstance(value, Model):
                    raise ValueError(f"{type(self).__name__}.base_model must be a model, got {value!r}")
                continue
            kinds = _CHECKS.get(str(f.type))
            if kinds is None or value is None:
                continue
            if (bool not in kinds and isinstance(value, bool)) or not isinstance(value, kinds):
                raise ValueError(f"{type(self).__name__}.{f.name} must be {f.type}, got {value!r}")
            if f.type == "float":
                object.__setattr__(self, f.name, float(cast(float, value)))
        self._state = None

    # Configuration ---------------------------------------------------------

    def _params(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "base_model"}  # type: ignore[arg-type]

    def _own_config(self) -> dict[str, Any]:
        return {"algorithm": self.algorithm, **self._params()}

    def get_model_config(self) -> list[dict[str, Any]]:
        """TurboML's flat list of configs: this model, then its base model
        (depth first); each ``{"algorithm": name, **params}``."""
        cfg = self._own_config()
        base = getattr(self, "base_model", None)
        if base is None:
            return [cfg]
        cfg["num_children"] = 1
        return [cfg, *base.get_model_config()]

    # Local training and prediction ------------------------------------------

    def _copy_with_state(self, state: bytes) -> Model:
        out = dataclasses.replace(self)  # type: ignore[type-var]
        out._state = state
        return out

    @property
    def is_trained(self) -> bool:
        """Whether this object holds a learned state (from :meth:`learn`)."""
        return self._state is not None

    def learn(self, input: LocalInputs, labels: LocalLabels, epochs: int = 1) -> Model:  # noqa: A002 - TurboML's name
        """Train on local inputs and labels (joined by key) in the server,
        continuing from this object's state if it has one, and return a
        copy holding the new state. ``self`` is not changed."""
        if not isinstance(input, LocalInputs) or not isinstance(labels, LocalLabels):
            raise ValueError("learn needs LocalInputs and LocalLabels (from LocalDataset.get_model_inputs/labels)")
        if epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {epochs}")
        df = input.dataframe
        lab = labels.dataframe
        if len(df) == len(lab) and (df[input.key_field].to_numpy() == lab[labels.key_field].to_numpy()).all():
            y = lab[labels.label_field].to_numpy()
        else:
            merged = df[[input.key_field]].merge(
                lab.rename(columns={labels.key_field: input.key_field}), on=input.key_field, how="left"
            )
            y = merged[labels.label_field].to_numpy()
        table = input.to_arrow()
        label_name = labels.label_field
        if label_name in table.column_names:
            label_name = "__label__"
        table = table.append_column(label_name, pa.array(y, type=pa.float64()))
        state = self._state
        for _ in range(epochs):
            cmd: dict[str, Any] = {
                "kind": "learn_local", "model_configs": self.get_model_config(),
                "numerical_fields": input.numerical_fields, "categorical_fields": input.categorical_fields,
                "label_field": label_name,
            }
            if state is not None:
                cmd["state"] = base64.b64encode(state).decode()
            out = do_exchange(cmd, table, f"{self.algorithm} learn", answer_per_batch=False)
            if out.num_rows != 1 or "state" not in out.column_names:
                raise ApiException(f"the server answered learn_local with {out.num_rows} rows, not one state", 500)
            state = out.column("state")[0].as_py()
        assert state is not None  # epochs >= 1
        return self._copy_with_state(state)

    def predict(self, input: LocalInputs) -> pd.DataFrame:  # noqa: A002 - TurboML's name
        """Predict local inputs with the learned state: a DataFrame with
        score, predicted_class and class_probabilities, one row per input."""
        if self._state is None:
            raise ValueError(f"this {self.algorithm} has not learned anything: call learn() first (it returns the trained copy)")
        if not isinstance(input, LocalInputs):
            raise ValueError("predict needs LocalInputs (from LocalDataset.get_model_inputs)")
        cmd = {
            "kind": "predict_local", "state": base64.b64encode(self._state).decode(),
            "numerical_fields": input.numerical_fields, "categorical_fields": input.categorical_fields,
        }
        out = do_exchange(cmd, input.to_arrow(), f"{self.algorithm} predict", answer_per_batch=True)
        df = _arrow.to_pandas(out) if out.num_columns else pd.DataFrame(columns=["score", "predicted_class"])
        return df.drop(columns=["model_version"], errors="ignore")

    # Deployment ------------------------------------------------------------

    def deploy(
        self,
        name: str,
        input: OnlineInputs,  # noqa: A002 - TurboML's name
        labels: OnlineLabels | None = None,
        predict_only: bool = False,
        *,
        version_every_samples: int = 0,
        version_every_seconds: float = 0.0,
        keep_versions: int = 0,
        retention: Retention | dict[str, Any] | None = None,
    ) -> DeployedModel:
        """Deploy under ``name``: the model predicts every row of the input
        dataset (history first, then live) and learns from each label as it
        arrives (unless ``predict_only``). A model that learned locally
        starts from that state. An existing ``name`` raises ValueError.

        Automatic versions are taken every ``version_every_seconds``
        (default 600) and/or every ``version_every_samples`` learned
        samples, whichever comes first; the newest ``keep_versions``
        (default 20) keep their snapshot, older ones are thinned to a
        logarithmic spread (see :meth:`DeployedModel.save_version` for
        versions that never expire). ``retention`` bounds the outputs and
        evaluations logs (see :class:`spate.Retention`)."""
        if isinstance(input, LocalInputs) or isinstance(labels, LocalLabels):
            raise ValueError("deploy needs OnlineInputs/OnlineLabels (from OnlineDataset.get_model_inputs/labels)")
        if not isinstance(input, OnlineInputs):
            raise ValueError("input must be OnlineInputs (from OnlineDataset.get_model_inputs)")
        if labels is None and not predict_only:
            raise ValueError("labels are required unless predict_only=True")
        _check_model_name(name)
        req = spate_pb2.DeployRequest(
            name=name, dataset_id=input.dataset_id, model_configs_json=json.dumps(self.get_model_config()),
            numerical_fields=input.numerical_fields, categorical_fields=input.categorical_fields,
            time_field=input.time_field or "", predict_only=predict_only, initial_state=self._state or b"",
            version_every_samples=version_every_samples, version_every_seconds=version_every_seconds,
            keep_versions=keep_versions,
        )
        if retention is not None:
            req.retention.CopyFrom(Retention.of(retention).to_proto())
        if labels is not None:
            req.label.CopyFrom(spate_pb2.LabelSpec(dataset_id=labels.dataset_id, field=labels.label_field))
        conn = api.connection
        try:
            info = conn.call(conn.models.Deploy, req, timeout=120.0)
        except ApiException as err:
            if err.status_code == 409:
                raise ValueError(f"cannot deploy {name!r}: {err.message}") from None
            raise
        return DeployedModel(info, model_instance=self)

    def __repr__(self) -> str:
        params = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self))  # type: ignore[arg-type]
        return f"{type(self).__name__}({params})"


def _check_model_name(name: str) -> None:
    if not isinstance(name, str) or not name or not set(name) <= _MODEL_NAME_CHARS:
        raise ValueError(f"model name {name!r} must match ^[a-zA-Z0-9_-]+$")


_model = dataclass(kw_only=True, repr=False, eq=True)


# Classifiers -----------------------------------------------------------------


@_model
class HoeffdingTreeClassifier(Model):
    """Hoeffding tree (VFDT) classifier."""

    algorithm: ClassVar[str] = "HoeffdingTreeClassifier"
    n_classes: int
    delta: float = 1e-7
    tau: float = 0.05
    grace_period: int = 200
    leaf_pred_method: str = "mc"
    split_method: str = "gini"


@_model
class HoeffdingAdaptiveTreeClassifier(Model):
    """Hoeffding adaptive tree: subtrees replaced when ADWIN detects drift."""

    algorithm: ClassVar[str] = "HoeffdingAdaptiveTreeClassifier"
    n_classes: int
    delta: float = 1e-7
    tau: float = 0.05
    grace_period: int = 200
    leaf_pred_method: str = "mc"
    split_method: str = "gini"
    bootstrap_sampling: bool = True
    drift_window_threshold: int = 300
    switch_significance: float = 0.05
    seed: int = 0


@_model
class AMFClassifier(Model):
    """Aggregated Mondrian forest classifier."""

    algorithm: ClassVar[str] = "AMFClassifier"
    n_classes: int
    n_estimators: int = 10
    step: float = 1.0
    use_aggregation: bool = True
    dirichlet: float = 0.5
    split_pure: bool = False


@_model
class MultinomialNB(Model):
    """Multinomial naive Bayes."""

    algorithm: ClassVar[str] = "MultinomialNB"
    n_classes: int
    alpha: float = 1.0


@_model
class GaussianNB(Model):
    """Gaussian naive Bayes."""

    algorithm: ClassVar[str] = "GaussianNB"
    n_classes: int


@_model
class LogisticRegression(Model):
    """Binary logistic regression trained by SGD on standardized inputs."""

    algorithm: ClassVar[str] = "LogisticRegression"
    n_classes: int = 2
    lr: float = 0.01
    l2: float = 0.0
    intercept_lr: float = 0.01
    clip_gradient: float = 1e12


# Regressors --------------------------------------------------------------------


@_model
class HoeffdingTreeRegressor(Model):
    """Hoeffding tree regressor."""

    algorithm: ClassVar[str] = "HoeffdingTreeRegressor"
    delta: float = 1e-7
    tau: float = 0.05
    grace_period: int = 200
    leaf_pred_method: str = "mean"


@_model
class AMFRegressor(Model):
    """Aggregated Mondrian forest regressor."""

    algorithm: ClassVar[str] = "AMFRegressor"
    n_estimators: int = 10
    step: float = 1.0
    use_aggregation: bool = True
    dirichlet: float = 0.5


# Anomaly detection ---------------------------------------------------------------


@_model
class HST(Model):
    """Half-space trees (anomaly scores, no labels needed)."""

    algorithm: ClassVar[str] = "HST"
    n_trees: int = 20
    height: int = 12
    window_size: int = 50


# Ensembles ------------------------------------------------------------------------


@_model
class LeveragingBaggingClassifier(Model):
    """Leveraging bagging over copies of ``base_model``."""

    algorithm: ClassVar[str] = "LeveragingBaggingClassifier"
    n_classes: int
    n_models: int = 10
    w: float = 6.0
    bagging_method: str = "bag"
    seed: int = 0
    base_model: Model


@_model
class AdaBoostClassifier(Model):
    """Online AdaBoost over copies of ``base_model``."""

    algorithm: ClassVar[str] = "AdaBoostClassifier"
    n_classes: int
    n_models: int = 10
    seed: int = 0
    base_model: Model


# Preprocessors --------------------------------------------------------------------


class _PreProcessor(Model):
    preprocessor_name: ClassVar[str] = ""
    algorithm: ClassVar[str] = "PreProcessor"

    def _own_config(self) -> dict[str, Any]:
        return {
            "algorithm": "PreProcessor", "preprocessor_name": self.preprocessor_name, **self._params(),
            "image_sizes": [64, 64, 1], "channel_first": False, "gguf_model_id": None, "max_tokens_per_input": 512,
        }


@_model
class MinMaxPreProcessor(_PreProcessor):
    """Scales numerical inputs to [0, 1] by their running min and max."""

    preprocessor_name: ClassVar[str] = "MinMax"
    text_categories: list[int] = dataclasses.field(default_factory=list)
    base_model: Model


@_model
class NormalPreProcessor(_PreProcessor):
    """Standardizes numerical inputs by their running mean and variance."""

    preprocessor_name: ClassVar[str] = "Normal"
    text_categories: list[int] = dataclasses.field(default_factory=list)
    base_model: Model


@_model
class OneHotPreProcessor(_PreProcessor):
    """One-hot encodes categorical inputs (``text_categories[i]`` values for
    the i-th categorical field)."""

    preprocessor_name: ClassVar[str] = "OneHot"
    text_categories: list[int] = dataclasses.field(default_factory=list)
    base_model: Model


_CLASSES: dict[str, type[Model]] = {
    c.algorithm: c
    for c in (
        HoeffdingTreeClassifier, HoeffdingAdaptiveTreeClassifier, AMFClassifier, MultinomialNB, GaussianNB,
        LogisticRegression, HoeffdingTreeRegressor, AMFRegressor, HST, LeveragingBaggingClassifier,
        AdaBoostClassifier,
    )
}
_PREPROCESSORS: dict[str, type[Model]] = {
    c.preprocessor_name: c for c in (MinMaxPreProcessor, NormalPreProcessor, OneHotPreProcessor)  # type: ignore[attr-defined]
}


def model_from_config(configs: list[dict[str, Any]]) -> Model:
    """Rebuild a model object from TurboML's flat config list (the inverse
    of :meth:`Model.get_model_config`).

    Examples
    --------

    >>> import spate as tb
    >>> m = tb.LeveragingBaggingClassifier(n_classes=2, base_model=tb.GaussianNB(n_classes=2))
    >>> model_from_config(m.get_model_config()) == m
    True

    """

    def build(i: int) -> tuple[Model, int]:
        if i >= len(configs):
            raise ValueError("model config list ends before a base model")
        cfg = dict(configs[i])
        algo = cfg.pop("algorithm", None)
        if algo == "PreProcessor":
            cls = _PREPROCESSORS.get(cfg.pop("preprocessor_name", ""))
            for k in ("image_sizes", "channel_first", "gguf_model_id", "max_tokens_per_input"):
                cfg.pop(k, None)
        else:
            cls = _CLASSES.get(str(algo))
        if cls is None:
            raise ValueError(f"unknown algorithm in model config: {configs[i]!r}")
        children = cfg.pop("num_children", 0)
        known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        params = {k: v for k, v in cfg.items() if k in known}
        nxt = i + 1
        if children:
            params["base_model"], nxt = build(nxt)
        return cls(**params), nxt

    model, end = build(0)
    if end != len(configs):
        raise ValueError(f"model config list has {len(configs) - end} config(s) after the model")
    return model


# Discovery ----------------------------------------------------------------------------


def _algorithms() -> spate_pb2.AlgorithmsResponse:
    conn = api.connection
    return conn.call(conn.models.Algorithms, spate_pb2.AlgorithmsRequest())


def ml_algorithms(have_labels: bool = True) -> list[str]:
    """The algorithms the server implements: supervised ones (in TurboML's
    order) or, with ``have_labels=False``, the anomaly detectors."""
    a = _algorithms()
    return list(a.supervised if have_labels else a.unsupervised)


def evaluation_metrics() -> list[str]:
    """The metric names :meth:`DeployedModel.add_metric` accepts."""
    return list(_algorithms().metrics)


# Deployed models ----------------------------------------------------------------------


@dataclass(frozen=True)
class Output:
    """One prediction of a deployed model."""

    key: str
    score: float
    predicted_class: int
    class_probabilities: list[float]
    feature_score: list[float]
    model_version: int


@dataclass(frozen=True)
class Metric:
    """One point of a metric series: the sample index and the value."""

    index: int
    metric: float


@dataclass(frozen=True)
class ProcessOutput:
    """A model's log text."""

    stdout: str
    stderr: str


_OUTPUT_COLUMNS = ["key", "score", "predicted_class", "class_probabilities", "model_version", "input_offset",
                   "event_time", "processing_time_us"]


class DeployedModel:
    """A model running on the server. Get one from :meth:`Model.deploy` or
    :func:`retrieve_model`.

    Reads are incremental: :meth:`get_outputs` and :meth:`get_evaluation`
    fetch only what was added since the previous call on this object.
    """

    def __init__(self, info: spate_pb2.ModelInfo, model_instance: Model | None = None) -> None:
        self._info = info
        self.model_name = info.name
        self.algorithm = info.algorithm
        self.model_configs = json.loads(info.model_configs_json or "[]")
        self.model_instance = model_instance
        self._out_batches: list[pa.RecordBatch] = []
        self._out_offset = 0
        self._out_records: list[dict[str, Any]] = []
        self._evals: dict[tuple[str, int], tuple[int, list[Metric]]] = {}

    # Description -------------------------------------------------------------

    def _call(self, method_name: str, req: Any, timeout: float = 30.0) -> Any:
        conn = api.connection
        return conn.call(getattr(conn.models, method_name), req, timeout=timeout)

    def _refresh(self) -> spate_pb2.ModelInfo:
        self._info = self._call("GetModel", spate_pb2.GetModelRequest(name=self.model_name))
        return self._info

    @property
    def info(self) -> spate_pb2.ModelInfo:
        """The server's description of the model (fetched now)."""
        return self._refresh()

    @property
    def state(self) -> str:
        """``running`` or ``paused`` (fetched now)."""
        return self._refresh().state

    @property
    def numerical_fields(self) -> list[str]:
        return list(self._info.numerical_fields)

    @property
    def categorical_fields(self) -> list[str]:
        return list(self._info.categorical_fields)

    def stats(self) -> dict[str, Any]:
        """The live figures (offsets, predicted/learned counts, rates,
        latency, current metric values, last error) as a dict."""
        st = self._refresh().stats
        out: dict[str, Any] = {f.name: getattr(st, f.name) for f in st.DESCRIPTOR.fields}
        out["metrics"] = dict(st.metrics)
        return out

    def get_endpoints(self) -> list[str]:
        """The URLs of synchronous prediction: ``POST`` one raw row as JSON
        (with ``headers=spate.common.api.headers``) to get its prediction."""
        base = api.config.BACKEND_SERVER_ADDRESS + "/"
        return [urllib.parse.urljoin(base, p.lstrip("/")) for p in self._refresh().endpoint_paths]

    def predict_one(self, row: dict[str, Any]) -> dict[str, Any]:
        """Predict one raw row synchronously through the model's REST
        endpoint (the server computes the materialized features)."""
        return api.request_url("POST", self.get_endpoints()[0], json=row).json()

    # Lifecycle ----------------------------------------------------------------

    def _set_state(self, state: str) -> None:
        self._info = self._call("SetModelState", spate_pb2.SetModelStateRequest(name=self.model_name, state=state))

    def pause(self) -> None:
        """Stop predicting and learning (the position is kept)."""
        self._set_state("paused")

    def resume(self) -> None:
        """Continue where :meth:`pause` stopped."""
        self._set_state("running")

    def delete(self, delete_output_topic: bool = True) -> None:
        """Delete the model with its versions, outputs and metrics."""
        self._call("DeleteModel", spate_pb2.GetModelRequest(name=self.model_name))

    def get_logs(self) -> ProcessOutput:
        """The model's recent log lines."""
        r = self._call("GetLogs", spate_pb2.GetModelRequest(name=self.model_name))
        return ProcessOutput(stdout=r.stdout, stderr=r.stderr)

    # Outputs --------------------------------------------------------------------

    def _sync_outputs(self) -> None:
        new = do_get(
            {"kind": "outputs", "model": self.model_name, "from": self._out_offset, "limit": -1},
            f"model {self.model_name!r}",
        )
        if not new.num_rows:
            return
        self._out_batches.extend(new.to_batches())
        cols = {n: new.column(n).to_pylist() for n in ("key", "score", "predicted_class", "class_probabilities",
                                                        "model_version")}
        # Retention may have removed outputs before the requested offset:
        # offsets come from the rows (output i is for input row i).
        offsets = new.column("input_offset").to_pylist()
        start = offsets[0]
        for i in range(new.num_rows):
            rec = Output(
                key=cols["key"][i], score=cols["score"][i], predicted_class=cols["predicted_class"][i],
                class_probabilities=cols["class_probabilities"][i] or [], feature_score=[],
                model_version=cols["model_version"][i],
            )
            self._out_records.append({"offset": start + i, "record": rec})
        self._out_offset = offsets[-1] + 1

    def get_outputs(self, limit: int = -1) -> list[dict[str, Any]]:
        """Every output so far, oldest first, as TurboML's list of
        ``{"offset": int, "record": Output}``. Only outputs added since the
        previous call are fetched; ``limit >= 0`` returns the last
        ``limit`` ones."""
        self._sync_outputs()
        if limit < 0:
            return list(self._out_records)
        return self._out_records[len(self._out_records) - limit:] if limit else []

    def get_outputs_df(self) -> pd.DataFrame:
        """Every output so far as a DataFrame (offset, key, score,
        predicted_class, class_probabilities, model_version, input_offset,
        event_time, processing_time_us); fetches only the new ones."""
        self._sync_outputs()
        if not self._out_batches:
            return pd.DataFrame(columns=["offset", *_OUTPUT_COLUMNS])
        df = pa.Table.from_batches(self._out_batches).to_pandas()
        df.insert(0, "offset", df["input_offset"].to_numpy())
        return df

    # Metrics ---------------------------------------------------------------------

    def add_metric(self, metric_name: str) -> None:
        """Compute ``metric_name`` (see :func:`evaluation_metrics`)
        continuously over the labeled predictions."""
        self._info = self._call("AddMetric", spate_pb2.AddMetricRequest(name=self.model_name, metric=metric_name))

    def get_evaluation(
        self, metric_name: str, filter_expression: str = "", window_size: int = 1000, limit: int = 100000,
        output_type: Any = None,
    ) -> list[Metric]:
        """The metric over a sliding window of ``window_size`` labeled
        samples, one point per sample (``.index``, ``.metric``), the last
        ``limit`` points. Only points added since the previous call with the
        same metric, window and filter are fetched.

        ``filter_expression`` is a SQL condition, as in TurboML, over
        ``input_data.<column>`` (the model's input row: raw columns and
        materialized features), ``output_data.score``,
        ``output_data.predicted_class`` and ``processing_time``; only the
        samples it selects enter the metric, e.g.
        ``"input_data.transactionCurrencyCode != 'USD' AND output_data.score > 0.6"``.
        """
        if window_size <= 0:
            raise ValueError(f"window_size must be positive, got {window_size}")
        cache_key = (metric_name, int(window_size), filter_expression)
        nxt, points = self._evals.get(cache_key, (0, []))
        req = spate_pb2.GetEvaluationRequest(name=self.model_name, metric=metric_name, window_size=window_size,
                                             from_index=nxt, filter_expression=filter_expression)
        r = self._call("GetEvaluation", req, timeout=120.0)
        points = points + [Metric(index=int(i), metric=float(v)) for i, v in zip(r.index, r.values)]
        self._evals[cache_key] = (int(r.next_index), points)
        return points[-limit:] if limit > 0 else list(points)

    # Versions --------------------------------------------------------------------

    def versions(self) -> pd.DataFrame:
        """The stored versions, oldest first: id, samples_seen, metrics,
        created_at, reason, parent, label, pinned (made on request, never
        thinned) and thinned (its snapshot was removed: it can no longer
        be rolled back to)."""
        r = self._call("ListVersions", spate_pb2.GetModelRequest(name=self.model_name))
        cols = ["id", "samples_seen", "metrics", "created_at", "reason", "parent", "label", "pinned", "thinned"]
        rows = [
            {"id": v.id, "samples_seen": v.samples_seen, "metrics": dict(v.metrics),
             "created_at": pd.Timestamp(v.created_at_unix, unit="s", tz="UTC"), "reason": v.reason,
             "parent": v.parent, "label": v.label, "pinned": v.pinned, "thinned": v.thinned}
            for v in r.versions
        ]
        return pd.DataFrame(rows, columns=cols)

    def save_version(self, name: str = "") -> int:
        """Snapshot the live model now as a version that never expires
        (automatic versions are thinned), labelled ``name``; returns its
        id."""
        if not isinstance(name, str):
            raise ValueError(f"name must be a string, got {type(name).__name__}")
        req = spate_pb2.CreateVersionRequest(name=self.model_name, label=name)
        return int(self._call("CreateVersion", req).id)

    def create_version(self) -> int:
        """Snapshot the live model now (same as :meth:`save_version`
        without a name); returns the new version's id."""
        return self.save_version()

    # Retention -------------------------------------------------------------------

    @property
    def retention(self) -> Retention:
        """The retention in force for the outputs and evaluations logs (0:
        no bound)."""
        return Retention.from_proto(self._refresh().retention)

    def set_retention(self, max_age: Any = None, max_bytes: int | None = None) -> Retention:
        """Bound the outputs and evaluations logs by age (seconds or a
        timedelta) and size in bytes, whichever first; ``None``/0 = the
        server's default, negative = no bound. Outputs before the start of
        the log are no longer readable (reads begin at the oldest kept)."""
        req = spate_pb2.SetModelRetentionRequest(
            name=self.model_name, retention=Retention(max_age=max_age, max_bytes=max_bytes).to_proto())
        self._info = self._call("SetModelRetention", req)
        return Retention.from_proto(self._info.retention)

    def rollback(self, version: int) -> int:
        """Continue the live model from ``version``; later outputs name the
        version the rollback creates, whose id is returned."""
        r = self._call("Rollback", spate_pb2.RollbackRequest(name=self.model_name, version=int(version)), timeout=120.0)
        return int(r.id)

    def get_version(self, version: int) -> ModelVersion:
        """A handle predicting with exactly ``version``."""
        return ModelVersion(self, int(version))

    def promote(self, alias: str = "prod") -> None:
        """Serve this model at ``/model/{alias}/predict``."""
        self._info = self._call("Promote", spate_pb2.PromoteRequest(name=self.model_name, alias=alias))

    def __getattr__(self, name: str) -> Any:
        # As in TurboML, the algorithm's parameters read through the handle
        # (deployed.n_classes).
        inst = self.__dict__.get("model_instance")
        if name.startswith("_") or inst is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return getattr(inst, name)

    def __repr__(self) -> str:
        return f"DeployedModel(model_name={self.model_name!r}, algorithm={self.algorithm!r})"


class ModelVersion:
    """One stored version of a deployed model."""

    def __init__(self, model: DeployedModel, version: int) -> None:
        self.model = model
        self.version = version

    def predict(self, df: pd.DataFrame | LocalInputs) -> pd.DataFrame:
        """Predict rows holding the model's input columns (raw columns and
        features by name) with this version: score, predicted_class,
        class_probabilities, model_version."""
        if isinstance(df, LocalInputs):
            df = df.dataframe
        m = self.model
        num, cat = m.numerical_fields, m.categorical_fields
        missing = [c for c in num + cat if c not in df.columns]
        if missing:
            raise ValueError(f"model {m.model_name!r} reads columns missing from the frame: {', '.join(missing)}")
        local = LocalInputs(df.assign(__key__=""), "__key__", num, cat)
        out = do_exchange(
            {"kind": "predict", "model": m.model_name, "version": self.version}, local.to_arrow(),
            f"model {m.model_name!r} version {self.version}", answer_per_batch=True,
        )
        if not out.num_columns:
            return pd.DataFrame(columns=["score", "predicted_class", "class_probabilities", "model_version"])
        return _arrow.to_pandas(out)

    def __repr__(self) -> str:
        return f"ModelVersion(model={self.model.model_name!r}, version={self.version})"


def retrieve_model(model_name: str) -> DeployedModel:
    """The deployed model ``model_name`` (NotFoundException if none)."""
    conn = api.connection
    info = conn.call(conn.models.GetModel, spate_pb2.GetModelRequest(name=model_name))
    try:
        instance: Model | None = model_from_config(json.loads(info.model_configs_json or "[]"))
    except (ValueError, TypeError):
        instance = None
    return DeployedModel(info, model_instance=instance)


def compare_model_metrics(models: Iterable[DeployedModel], metric: str, x_axis_title: str = "Samples") -> pd.DataFrame:
    """Fetch ``metric`` for each model and line them up: a DataFrame
    indexed by sample, one column per model. Draws the curves with plotly
    when it is installed, else matplotlib, else only returns the frame."""
    models = list(models)
    known = evaluation_metrics()
    if metric not in known:
        raise ValueError(f"unknown metric {metric!r} (known: {', '.join(known)})")
    series = {}
    for m in models:
        pts = m.get_evaluation(metric)
        series[m.model_name] = pd.Series([p.metric for p in pts], index=[p.index for p in pts], dtype="float64")
    df = pd.DataFrame(series)
    df.index.name = x_axis_title
    _plot(df, metric, x_axis_title)
    return df


def _plot(df: pd.DataFrame, metric: str, x_axis_title: str) -> None:
    try:
        import plotly.graph_objects as go  # type: ignore[import-not-found]
    except ImportError:
        go = None
    if go is not None:
        fig = go.Figure()
        for name in df.columns:
            s = df[name].dropna()
            fig.add_trace(go.Scatter(x=s.index, y=s.values, mode="lines", name=name))
        fig.update_layout(title=metric, xaxis_title=x_axis_title, yaxis_title=metric)
        fig.show()
        return
    try:
        import matplotlib.pyplot as plt  # type: ignore[import-not-found]
    except ImportError:
        return
    ax = df.plot(title=metric)
    ax.set_xlabel(x_axis_title)
    ax.set_ylabel(metric)
    plt.show()


def _wait_until(pred: Any, timeout: float, what: str) -> None:
    """Poll ``pred`` until it holds (used by tests and scripts)."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)
