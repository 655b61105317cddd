"""Spate: real-time machine learning. This package is the thin Python side:
it declares datasets (and, as the platform grows, features and models) and
moves rows over Arrow Flight; every computation happens in the Go server.

Scripts written for TurboML's SDK run with ``import spate as tb``.

Examples
--------

>>> import pandas as pd
>>> import spate as tb
>>> df = pd.DataFrame({"transactionID": ["t1", "t2"], "amount": [9.5, 120.0]})
>>> tb.LocalDataset.from_pd(df, key_field="transactionID")
LocalDataset(key_field='transactionID', rows=2, schema=DatasetSchema(transactionID: STRING, amount: DOUBLE))

"""

from . import common, datasets
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
from .datasets import DatasetSchema, Datatype, LocalDataset, OnlineDataset

__version__ = "0.1.0"

__all__ = [
    "init",
    "login",
    "get_user_info",
    "common",
    "datasets",
    "OnlineDataset",
    "LocalDataset",
    "DatasetSchema",
    "Datatype",
    "ApiException",
    "AuthenticationError",
    "BackendConnectionError",
    "NotFoundException",
    "NotInitializedError",
]
