"""Spate: real-time machine learning. This package is the thin Python side:
it declares datasets, features and models and moves rows over Arrow Flight;
every computation happens in the Go server.

Scripts written for TurboML's SDK run with ``import spate as tb``.

Examples
--------

>>> import pandas as pd
>>> import spate as tb
>>> df = pd.DataFrame({"transactionID": ["t1", "t2"], "amount": [9.5, 120.0]})
>>> tb.LocalDataset.from_pd(df, key_field="transactionID")
LocalDataset(key_field='transactionID', rows=2, schema=DatasetSchema(transactionID: STRING, amount: DOUBLE))

"""

from . import common, dashboard, datasets, feature_engineering, inputs, ml_algs
from .common import (
    ApiException,
    AuthenticationError,
    BackendConnectionError,
    NotFoundException,
    NotInitializedError,
    get_user_info,
    init,
    login,
)
from .dashboard import dashboard_url
from .datasets import DatasetSchema, Datatype, LocalDataset, OnlineDataset
from .feature_engineering import FeatureEngineering, get_features, get_timestamp_formats
from .inputs import LocalInputs, LocalLabels, OnlineInputs, OnlineLabels
from .retention import Retention
from .ml_algs import (
    HST,
    AdaBoostClassifier,
    AMFClassifier,
    AMFRegressor,
    DeployedModel,
    GaussianNB,
    HoeffdingAdaptiveTreeClassifier,
    HoeffdingTreeClassifier,
    HoeffdingTreeRegressor,
    LeveragingBaggingClassifier,
    LogisticRegression,
    MinMaxPreProcessor,
    Model,
    ModelVersion,
    MultinomialNB,
    NormalPreProcessor,
    OneHotPreProcessor,
    compare_model_metrics,
    evaluation_metrics,
    ml_algorithms,
    retrieve_model,
)

__version__ = "0.1.0"

__all__ = [
    "init",
    "login",
    "get_user_info",
    "dashboard_url",
    "common",
    "datasets",
    "OnlineDataset",
    "LocalDataset",
    "DatasetSchema",
    "Datatype",
    "feature_engineering",
    "inputs",
    "ml_algs",
    "FeatureEngineering",
    "get_features",
    "get_timestamp_formats",
    "OnlineInputs",
    "OnlineLabels",
    "Retention",
    "LocalInputs",
    "LocalLabels",
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
    "ml_algorithms",
    "evaluation_metrics",
    "retrieve_model",
    "compare_model_metrics",
    "ApiException",
    "AuthenticationError",
    "BackendConnectionError",
    "NotFoundException",
    "NotInitializedError",
]
