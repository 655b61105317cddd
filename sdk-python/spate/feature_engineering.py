"""Streaming features of an online dataset.

``dataset.feature_engineering`` (a :class:`FeatureEngineering`) registers
timestamp columns, defines SQL and windowed aggregate features, previews
them and materializes them. Every definition is checked and every value is
computed by the server: a new feature stays *pending* (only this object
knows it; :meth:`FeatureEngineering.get_local_features` previews it) until
:meth:`FeatureEngineering.materialize_features` makes the server compute it
for every past and future row.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

import pandas as pd
import pyarrow as pa

from . import _arrow
from ._flight import do_get
from ._proto.spate.v1 import spate_pb2
from .common.api import api
from .common.exceptions import ApiException
from .schema import DatasetSchema


class FeatureSource(Protocol):
    """What feature engineering needs of a dataset: its id and schema
    (an :class:`~spate.OnlineDataset` is one)."""

    @property
    def dataset_id(self) -> str: ...

    @property
    def schema(self) -> DatasetSchema: ...

__all__ = ["FeatureEngineering", "get_timestamp_formats", "get_features", "AGGREGATE_OPERATIONS", "WINDOW_UNITS"]

#: The operations of :meth:`FeatureEngineering.create_aggregate_features`.
AGGREGATE_OPERATIONS = ("SUM", "COUNT", "AVG", "MAX", "MIN")
#: The window units (singular forms are accepted too).
WINDOW_UNITS = ("seconds", "minutes", "hours", "days", "weeks", "months", "years")

#: How long :meth:`FeatureEngineering.get_materialized_features` waits for
#: the server to compute the features of rows already stored.
MATERIALIZED_WAIT_SECONDS = 10.0


def get_timestamp_formats() -> list[str]:
    """The formats :meth:`FeatureEngineering.register_timestamp` accepts.

    Examples
    --------

    >>> import spate as tb
    >>> "epoch_seconds" in tb.get_timestamp_formats()
    True

    """
    conn = api.connection
    return list(conn.call(conn.features.TimestampFormats, spate_pb2.TimestampFormatsRequest()).formats)


def get_features(dataset_id: str, limit: int = -1, from_offset: int = 0) -> pd.DataFrame:
    """The rows of ``dataset_id`` from ``from_offset`` with their
    materialized features (raw columns first), up to ``limit`` rows (-1: all
    rows whose features are computed)."""
    table = do_get(
        {"kind": "features", "dataset_id": dataset_id, "from": int(from_offset), "limit": int(limit)},
        f"dataset {dataset_id!r}",
    )
    return _arrow.to_pandas(table)


def _window(duration: float, unit: str) -> str:
    if isinstance(duration, bool) or not isinstance(duration, (int, float)) or duration <= 0:
        raise ValueError(f"window_duration must be a positive number, got {duration!r}")
    u = str(unit).strip().lower()
    if u not in WINDOW_UNITS and u + "s" not in WINDOW_UNITS:
        raise ValueError(f"window_unit {unit!r} is not one of {', '.join(WINDOW_UNITS)}")
    amount = int(duration) if float(duration).is_integer() else float(duration)
    return f"{amount} {u}"


def _def_to_proto(d: dict[str, str]) -> spate_pb2.FeatureDef:
    return spate_pb2.FeatureDef(
        name=d["name"], kind=d["kind"], sql=d.get("sql", ""), column=d.get("column", ""),
        operation=d.get("op", ""), group_by=d.get("group_by", ""), timestamp_column=d.get("timestamp", ""),
        window=d.get("window", ""),
    )


def _def_from_proto(d: spate_pb2.FeatureDef) -> dict[str, str]:
    out = {"name": d.name, "kind": d.kind}
    for key, value in (
        ("sql", d.sql), ("column", d.column), ("op", d.operation), ("group_by", d.group_by),
        ("timestamp", d.timestamp_column), ("window", d.window),
    ):
        if value:
            out[key] = value
    return out


class FeatureEngineering:
    """The features of one :class:`~spate.OnlineDataset` (reach it as
    ``dataset.feature_engineering``).

    Examples
    --------

    >>> import pandas as pd
    >>> import spate as tb
    >>> df = pd.DataFrame({"id": ["a", "b", "c"], "acct": ["x", "x", "y"],
    ...                    "ts": [0, 60, 120], "amount": [1.0, 2.0, 4.0]})
    >>> ds = tb.OnlineDataset.from_pd(df, id="doc_features", key_field="id")
    >>> fe = ds.feature_engineering
    >>> fe.register_timestamp(column_name="ts", format_type="epoch_seconds")
    >>> fe.create_aggregate_features(column_to_operate="amount", column_to_group="acct", operation="SUM",
    ...     new_feature_name="sum_1h", timestamp_column="ts", window_duration=1, window_unit="hours")
    >>> fe.create_sql_features(sql_definition='"amount" * 2', new_feature_name="double_amount")
    >>> fe.get_local_features()[["id", "sum_1h", "double_amount"]]
      id  sum_1h  double_amount
    0  a     1.0            2.0
    1  b     3.0            4.0
    2  c     4.0            8.0
    >>> fe.materialize_features(["sum_1h"])
    >>> fe.get_materialized_features()["sum_1h"].tolist()
    [1.0, 3.0, 4.0]

    """

    def __init__(self, dataset: FeatureSource) -> None:
        self._dataset = dataset
        self._pending: dict[str, dict[str, str]] = {}
        self._timestamps: dict[str, str] = {}
        # Materialized rows read so far (get_materialized_features reads
        # only the rows after them).
        self._mat_batches: list[pa.RecordBatch] = []
        self._mat_schema: pa.Schema | None = None
        self._mat_version: int | None = None
        self._mat_offset = 0
        self._mat_df: pd.DataFrame | None = None

    @property
    def dataset_id(self) -> str:
        """The dataset's id."""
        return self._dataset.dataset_id

    @property
    def pending_features(self) -> dict[str, dict[str, str]]:
        """The definitions not materialized yet, by name."""
        return {k: dict(v) for k, v in self._pending.items()}

    @property
    def timestamp_fields(self) -> dict[str, str]:
        """The registered timestamp columns and their formats."""
        return dict(self._timestamps)

    def _subject(self) -> str:
        return f"dataset {self.dataset_id!r}"

    # Timestamps ---------------------------------------------------------

    def register_timestamp(self, column_name: str, format_type: str) -> None:
        """Declare ``column_name`` as event time in ``format_type`` (see
        :func:`get_timestamp_formats`). Registering the same column again
        with the same format does nothing; another format raises
        ValueError."""
        formats = get_timestamp_formats()
        if format_type not in formats:
            raise ValueError(f"timestamp format {format_type!r} is not one of: {', '.join(formats)}")
        conn = api.connection
        req = spate_pb2.RegisterTimestampRequest(dataset_id=self.dataset_id, column_name=column_name, format=format_type)
        try:
            d = conn.call(conn.features.RegisterTimestamp, req)
        except ValueError as err:
            raise ValueError(f"{self._subject()}: cannot register timestamp column {column_name!r}: {err}") from None
        self._timestamps = dict(d.timestamp_fields)

    def _registered_timestamps(self) -> dict[str, str]:
        conn = api.connection
        d = conn.call(conn.datasets.GetDataset, spate_pb2.GetDatasetRequest(dataset_id=self.dataset_id))
        self._timestamps = dict(d.timestamp_fields)
        return self._timestamps

    # Definitions --------------------------------------------------------

    def _materialized(self) -> spate_pb2.ListFeaturesResponse:
        conn = api.connection
        return conn.call(conn.features.ListFeatures, spate_pb2.ListFeaturesRequest(dataset_id=self.dataset_id))

    def _add_pending(self, d: dict[str, str]) -> None:
        name = d["name"]
        if name in self._pending:
            raise ValueError(f"{self._subject()}: feature {name!r} is already defined (pending)")
        if name in self._dataset.schema.fields:
            raise ValueError(f"{self._subject()}: {name!r} is already a column of the dataset")
        defs = [*self._pending.values(), d]
        conn = api.connection
        req = spate_pb2.MaterializeFeaturesRequest(dataset_id=self.dataset_id, features=[_def_to_proto(x) for x in defs])
        try:
            conn.call(conn.features.ValidateFeatures, req)
        except ValueError as err:
            raise ValueError(f"{self._subject()}: feature {name!r} is invalid: {err}") from None
        except ApiException as err:
            if err.status_code == 409:
                raise ValueError(f"{self._subject()}: feature {name!r} already exists: {err.message}") from None
            raise
        self._pending[name] = d

    def create_sql_features(self, sql_definition: str, new_feature_name: str) -> None:
        """Define a feature as an SQL expression over the row's columns
        (double-quoted, e.g. ``'"transactionAmount" + "localHour"'``). It
        stays pending until :meth:`materialize_features`. Raises ValueError
        (naming the column or function) when the server cannot compile it."""
        self._add_pending({"name": new_feature_name, "kind": "sql", "sql": sql_definition})

    def create_aggregate_features(
        self,
        column_to_operate: str,
        column_to_group: str,
        operation: str,
        new_feature_name: str,
        timestamp_column: str,
        window_duration: float,
        window_unit: str,
    ) -> None:
        """Define a sliding event-time window aggregate: for each row,
        ``operation`` (SUM, COUNT, AVG, MAX, MIN) of ``column_to_operate``
        over the rows of the same ``column_to_group`` whose
        ``timestamp_column`` lies within ``window_duration window_unit``
        before it. The timestamp must be registered first. It stays pending
        until :meth:`materialize_features`."""
        op = str(operation).strip().upper()
        if op not in AGGREGATE_OPERATIONS:
            raise ValueError(f"operation {operation!r} is not one of {', '.join(AGGREGATE_OPERATIONS)}")
        window = _window(window_duration, window_unit)
        if timestamp_column not in self._timestamps and timestamp_column not in self._registered_timestamps():
            raise ValueError(
                f"{self._subject()}: timestamp column {timestamp_column!r} is not registered: call "
                f"register_timestamp(column_name={timestamp_column!r}, format_type=...) first"
            )
        self._add_pending({
            "name": new_feature_name, "kind": "aggregate", "column": column_to_operate, "op": op,
            "group_by": column_to_group, "timestamp": timestamp_column, "window": window,
        })

    # Values -------------------------------------------------------------

    def get_local_features(self) -> pd.DataFrame:
        """Every row of the dataset with its raw columns, the materialized
        features and the pending ones, all computed by the server now
        (nothing is stored)."""
        table = do_get(
            {"kind": "feature_preview", "dataset_id": self.dataset_id, "features": list(self._pending.values()),
             "limit": -1},
            self._subject(),
        )
        return _arrow.to_pandas(table)

    def _wait_computed(self, timeout: float) -> spate_pb2.ListFeaturesResponse:
        conn = api.connection
        deadline = time.monotonic() + timeout
        while True:
            listed = self._materialized()
            d = conn.call(conn.datasets.GetDataset, spate_pb2.GetDatasetRequest(dataset_id=self.dataset_id))
            if listed.computed_rows >= d.row_count or time.monotonic() >= deadline:
                return listed
            time.sleep(0.02)

    def get_materialized_features(self, wait: float = MATERIALIZED_WAIT_SECONDS) -> pd.DataFrame:
        """Every row with its raw columns and materialized features. Only
        the rows added since the previous call are fetched. Waits up to
        ``wait`` seconds for the server to compute the features of the rows
        stored so far (it usually takes milliseconds); rows still being
        computed after that are left for the next call."""
        listed = self._wait_computed(wait)
        if self._mat_version != listed.feature_version:
            # The feature set changed: the columns did too; read again.
            self._mat_batches, self._mat_schema, self._mat_offset = [], None, 0
            self._mat_version, self._mat_df = listed.feature_version, None
        new = do_get(
            {"kind": "features", "dataset_id": self.dataset_id, "from": self._mat_offset, "limit": -1}, self._subject()
        )
        if self._mat_schema is not None and not new.schema.equals(self._mat_schema):
            self._mat_batches, self._mat_offset = [], 0
            new = do_get({"kind": "features", "dataset_id": self.dataset_id, "from": 0, "limit": -1}, self._subject())
        if self._mat_schema is None or new.num_rows:
            self._mat_schema = new.schema
            self._mat_batches.extend(new.to_batches())
            self._mat_offset += new.num_rows
            self._mat_df = None
        if self._mat_df is None:
            table = pa.Table.from_batches(self._mat_batches, schema=self._mat_schema)
            self._mat_df = _arrow.to_pandas(table)
        return self._mat_df.copy()

    # Materialization ------------------------------------------------------

    def materialize_features(self, feature_names: list[str]) -> None:
        """Make the server compute the named features for every row, past
        and future. Names already materialized are accepted and left as
        they are; a name neither pending nor materialized raises
        ValueError."""
        if isinstance(feature_names, str):
            feature_names = [feature_names]
        materialized = {getattr(f, "def").name for f in self._materialized().features if f.materialized}
        todo = []
        for name in feature_names:
            if name in self._pending:
                todo.append(self._pending[name])
            elif name not in materialized:
                known = sorted(set(self._pending) | materialized)
                raise ValueError(
                    f"{self._subject()}: no feature named {name!r} to materialize "
                    f"(pending or materialized: {', '.join(known) or 'none'})"
                )
        if todo:
            conn = api.connection
            req = spate_pb2.MaterializeFeaturesRequest(
                dataset_id=self.dataset_id, features=[_def_to_proto(d) for d in todo]
            )
            try:
                conn.call(conn.features.MaterializeFeatures, req, timeout=120.0)
            except ValueError as err:
                raise ValueError(f"{self._subject()}: cannot materialize {[d['name'] for d in todo]}: {err}") from None
        for d in todo:
            self._pending.pop(d["name"], None)

    def list_features(self) -> pd.DataFrame:
        """Every feature (materialized, then pending) with its definition:
        columns name, kind, materialized, type, sql, column, operation,
        group_by, timestamp_column, window."""
        rows: list[dict[str, Any]] = []
        for f in self._materialized().features:
            d = _def_from_proto(getattr(f, "def"))
            rows.append(self._row(d, f.materialized, f.type))
        for d in self._pending.values():
            rows.append(self._row(d, False, ""))
        cols = ["name", "kind", "materialized", "type", "sql", "column", "operation", "group_by",
                "timestamp_column", "window"]
        return pd.DataFrame(rows, columns=cols)

    @staticmethod
    def _row(d: dict[str, str], materialized: bool, typ: str) -> dict[str, Any]:
        return {
            "name": d["name"], "kind": d["kind"], "materialized": materialized, "type": typ,
            "sql": d.get("sql", ""), "column": d.get("column", ""), "operation": d.get("op", ""),
            "group_by": d.get("group_by", ""), "timestamp_column": d.get("timestamp", ""),
            "window": d.get("window", ""),
        }

    def drop_feature(self, name: str) -> None:
        """Forget a pending feature, or stop computing a materialized one.
        The server refuses (ValueError) while a deployed model reads it."""
        if name in self._pending:
            del self._pending[name]
            return
        conn = api.connection
        req = spate_pb2.DropFeatureRequest(dataset_id=self.dataset_id, name=name)
        try:
            conn.call(conn.features.DropFeature, req)
        except ValueError as err:
            raise ValueError(f"{self._subject()}: cannot drop feature {name!r}: {err}") from None

    def __repr__(self) -> str:
        return f"FeatureEngineering(dataset_id={self.dataset_id!r}, pending={list(self._pending)})"
