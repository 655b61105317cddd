"""Datasets: keyed, append-only tables.

* :class:`OnlineDataset` lives on the backend. Rows are uploaded over Arrow
  Flight (``add_pd``) or the REST route ``POST /api/dataset/{id}/upload``, and
  read back incrementally (``preview_df``).
* :class:`LocalDataset` is an in-memory DataFrame with a key and a schema, for
  experiments; ``to_online`` uploads it.
* :class:`DatasetSchema` maps pandas dtypes to the seven column types
  (:class:`Datatype`).
* :class:`FraudDetectionDatasetFeatures` and
  :class:`FraudDetectionDatasetLabels` are the bundled fraud-detection data,
  served by the backend and cached on disk.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.flight as flight
from tqdm.auto import tqdm

from . import _arrow
from .schema import DatasetSchema, Datatype
from ._flight import flight_error
from .retention import Retention
from ._proto.spate.v1 import spate_pb2
from .feature_engineering import FeatureEngineering
from .inputs import LocalInputs, LocalLabels, OnlineInputs, OnlineLabels, check_fields
from .common.api import api
from .common.exceptions import (
    ApiException,
    NotFoundException,
)

__all__ = [
    "Datatype",
    "DatasetSchema",
    "OnlineDataset",
    "LocalDataset",
    "PandasHelpers",
    "FraudDetectionDatasetFeatures",
    "FraudDetectionDatasetLabels",
]

_DATASET_ID_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]*$")

#: Rows above which uploads show a progress bar by default.
PROGRESS_THRESHOLD = 10_000
# Target size of one uploaded record batch.
_BATCH_BYTES = 8 << 20


def _check_dataset_id(dataset_id: str) -> None:
    if not isinstance(dataset_id, str) or not _DATASET_ID_RE.match(dataset_id):
        raise ValueError(f"dataset id {dataset_id!r} must match ^[a-zA-Z][a-zA-Z0-9_]*$ (letters, digits, '_')")


def _check_key(schema: DatasetSchema, key_field: str) -> None:
    if key_field not in schema.fields:
        raise ValueError(f"key field {key_field!r} is not a column (columns: {', '.join(schema.fields)})")


class PandasHelpers:
    """DataFrame utilities."""

    @staticmethod
    def normalize_df(df: pd.DataFrame) -> pd.DataFrame:
        """Return a copy of ``df`` with missing values replaced by the zero
        of each column's type: 0 for numbers, ``""`` for strings, ``False``
        for booleans, the epoch for datetimes, ``b""`` for bytes. Useful
        before a JSON upload, which has no NaN.

        Examples
        --------

        >>> import pandas as pd
        >>> df = pd.DataFrame({"x": [1.5, None], "s": ["a", None], "b": pd.array([True, None])})
        >>> PandasHelpers.normalize_df(df)
             x  s      b
        0  1.5  a   True
        1  0.0     False

        """
        out = df.copy()
        for name in out.columns:
            s = out[name]
            if not s.isna().any():
                continue
            dt = s.dtype
            if pd.api.types.is_bool_dtype(dt):
                out[name] = s.fillna(False)
            elif pd.api.types.is_numeric_dtype(dt):
                out[name] = s.fillna(0)
            elif pd.api.types.is_datetime64_any_dtype(dt):
                out[name] = s.fillna(pd.Timestamp(0, tz=getattr(dt, "tz", None)))
            elif pd.api.types.is_string_dtype(dt) and not (dt == np.dtype("object")):
                out[name] = s.fillna("")
            else:
                values = s.dropna()
                if len(values) and values.map(lambda v: isinstance(v, (bytes, bytearray))).all():
                    fill: Any = b""
                elif len(values) and values.map(lambda v: isinstance(v, bool)).all():
                    fill = False
                elif len(values) and values.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)).all():
                    fill = 0
                else:
                    fill = ""
                out[name] = s.astype(object).where(s.notna(), fill)
        return out


def _flight_error(err: Exception, dataset_id: str) -> Exception:
    return flight_error(err, f"dataset {dataset_id!r}")


class LocalDataset:
    """An in-memory dataset: a DataFrame with a key field and a schema.

    Build it with :meth:`from_pd`.

    Examples
    --------

    >>> import pandas as pd
    >>> df = pd.DataFrame({"transactionID": ["t1", "t2", "t3"], "amount": [9.5, 120.0, 33.25]})
    >>> ds = LocalDataset.from_pd(df, key_field="transactionID")
    >>> len(ds), len(ds[1:])
    (3, 2)
    >>> ds[1:].df
      transactionID  amount
    0            t2  120.00
    1            t3   33.25
    >>> ds.schema
    DatasetSchema(transactionID: STRING, amount: DOUBLE)

    """

    def __init__(self, df: pd.DataFrame, key_field: str, schema: DatasetSchema | None = None) -> None:
        self.schema = schema if schema is not None else DatasetSchema.from_pd(df)
        _check_key(self.schema, key_field)
        self.key_field = key_field
        self.df = df

    @classmethod
    def from_pd(cls, df: pd.DataFrame, key_field: str) -> LocalDataset:
        """Wrap a DataFrame; its dtypes give the schema (see
        :meth:`DatasetSchema.from_pd`)."""
        return LocalDataset(df, key_field)

    def __len__(self) -> int:
        return len(self.df)

    def __getitem__(self, item: slice) -> LocalDataset:
        if not isinstance(item, slice):
            raise TypeError(f"a LocalDataset can only be sliced (ds[a:b]), not indexed by {type(item).__name__}")
        return LocalDataset(self.df.iloc[item].reset_index(drop=True), self.key_field, self.schema)

    def add_pd(self, df: pd.DataFrame) -> None:
        """Append rows with the same schema."""
        diff = self.schema.differences(DatasetSchema.from_pd(df))
        if diff:
            raise ValueError("schema mismatch: " + "; ".join(diff))
        self.df = pd.concat([self.df, df], ignore_index=True)

    def get_model_inputs(
        self,
        numerical_fields: list[str] | None = None,
        categorical_fields: list[str] | None = None,
        textual_fields: list[str] | None = None,
        imaginal_fields: list[str] | None = None,
        time_field: str | None = None,
    ) -> LocalInputs:
        """The named columns as model inputs for local training and
        prediction (see :class:`~spate.inputs.LocalInputs`). Unknown or
        repeated names raise ValueError; text and image fields raise
        NotImplementedError."""
        num, cat = check_fields(
            self.df.columns, "the local dataset", numerical_fields, categorical_fields, textual_fields,
            imaginal_fields, time_field,
        )
        return LocalInputs(self.df, self.key_field, num, cat, time_field)

    def get_model_labels(self, label_field: str) -> LocalLabels:
        """The column ``label_field`` as labels (float64), with the key."""
        if label_field not in self.df.columns:
            raise ValueError(f"the local dataset has no column {label_field!r}")
        if not pd.api.types.is_numeric_dtype(self.df[label_field]):
            raise ValueError(f"label field {label_field!r} must be numeric, it is {self.df[label_field].dtype}")
        return LocalLabels(self.df, self.key_field, label_field)

    def to_online(self, id: str, load_if_exists: bool = False) -> OnlineDataset:  # noqa: A002 - TurboML's name
        """Upload to the backend as dataset ``id`` (see
        :meth:`OnlineDataset.from_pd`)."""
        return OnlineDataset.from_pd(self.df, id, self.key_field, load_if_exists=load_if_exists)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key_field={self.key_field!r}, rows={len(self)}, schema={self.schema!r})"


class OnlineDataset:
    """A dataset on the backend: keyed, append-only, validated against its
    schema.

    Get one with :meth:`from_pd` (create and fill) or :meth:`load`.

    Examples
    --------

    >>> import pandas as pd
    >>> df = pd.DataFrame({"transactionID": ["t1", "t2"], "amount": [9.5, 120.0]})
    >>> ds = OnlineDataset.from_pd(df, id="doc_payments", key_field="transactionID")
    >>> ds.add_pd(pd.DataFrame({"transactionID": ["t3"], "amount": [33.25]}))
    >>> ds.preview_df
      transactionID  amount
    0            t1    9.50
    1            t2  120.00
    2            t3   33.25
    >>> OnlineDataset.load("doc_payments").schema
    DatasetSchema(transactionID: STRING, amount: DOUBLE)
    >>> ds.add_pd(pd.DataFrame({"transactionID": ["t4"], "amount": [1]}))
    Traceback (most recent call last):
    ...
    ValueError: schema mismatch for dataset 'doc_payments': column 'amount' is INT64, the dataset has DOUBLE

    """

    def __init__(self, dataset_id: str, key_field: str, schema: DatasetSchema) -> None:
        self._dataset_id = dataset_id
        self._key_field = key_field
        self._schema = schema
        self._batches: list[pa.RecordBatch] = []
        self._next_offset = 0
        self._preview: pd.DataFrame | None = None
        self._fe: FeatureEngineering | None = None

    @property
    def dataset_id(self) -> str:
        """The dataset's id (unique in the namespace)."""
        return self._dataset_id

    @property
    def key_field(self) -> str:
        """The name of the key column."""
        return self._key_field

    @property
    def schema(self) -> DatasetSchema:
        """The dataset's columns and types."""
        return self._schema

    def set_retention(self, max_age: Any = None, max_bytes: int | None = None) -> Retention:
        """Bound the dataset's derived log (its materialized feature
        values) by age (seconds or a timedelta) and size in bytes,
        whichever first; ``None``/0 = the server's default, negative = no
        bound. The dataset's own rows are never removed, and the feature
        values a deployed model would restart from are kept."""
        conn = api.connection
        req = spate_pb2.SetDatasetRetentionRequest(
            dataset_id=self._dataset_id, retention=Retention(max_age=max_age, max_bytes=max_bytes).to_proto())
        d = conn.call(conn.datasets.SetDatasetRetention, req)
        return Retention.from_proto(d.retention)

    @property
    def retention(self) -> Retention:
        """The retention in force for the dataset's feature log (0: no
        bound)."""
        conn = api.connection
        d = conn.call(conn.datasets.GetDataset, spate_pb2.GetDatasetRequest(dataset_id=self._dataset_id))
        return Retention.from_proto(d.retention)

    @property
    def row_count(self) -> int:
        """The number of rows stored now (asked of the server)."""
        conn = api.connection
        d = conn.call(conn.datasets.GetDataset, spate_pb2.GetDatasetRequest(dataset_id=self._dataset_id))
        return int(d.row_count)

    @property
    def feature_engineering(self) -> FeatureEngineering:
        """The dataset's features: timestamps, definitions, previews,
        materialization (one object per dataset object, holding the
        pending definitions)."""
        if self._fe is None:
            self._fe = FeatureEngineering(self)
        return self._fe

    def sync_features(self) -> None:
        """Fetch the rows and materialized features added since the last
        read (see :meth:`FeatureEngineering.get_materialized_features`)."""
        self.feature_engineering.get_materialized_features()

    def _feature_names(self) -> list[str]:
        conn = api.connection
        listed = conn.call(conn.features.ListFeatures, spate_pb2.ListFeaturesRequest(dataset_id=self._dataset_id))
        return [getattr(f, "def").name for f in listed.features if f.materialized]

    def get_model_inputs(
        self,
        numerical_fields: list[str] | None = None,
        categorical_fields: list[str] | None = None,
        textual_fields: list[str] | None = None,
        imaginal_fields: list[str] | None = None,
        time_field: str | None = None,
    ) -> OnlineInputs:
        """The fields a deployed model reads: raw columns or materialized
        features of this dataset. Unknown or repeated names raise
        ValueError; text and image fields raise NotImplementedError."""
        available = [*self._schema.fields, *self._feature_names()]
        num, cat = check_fields(
            available, f"dataset {self._dataset_id!r}", numerical_fields, categorical_fields, textual_fields,
            imaginal_fields, time_field,
        )
        return OnlineInputs(self._dataset_id, self._key_field, num, cat, [], [], time_field)

    def get_model_labels(self, label_field: str) -> OnlineLabels:
        """The label column a deployed model learns from, joined to its
        inputs by key."""
        dtype = self._schema.fields.get(label_field)
        if dtype is None:
            raise ValueError(
                f"dataset {self._dataset_id!r} has no column {label_field!r} (columns: {', '.join(self._schema.fields)})"
            )
        if dtype in (Datatype.STRING, Datatype.BYTES):
            raise ValueError(f"label field {label_field!r} must be numeric, it is {dtype.value}")
        return OnlineLabels(self._dataset_id, self._key_field, label_field)

    @staticmethod
    def from_pd(
        df: pd.DataFrame,
        id: str,  # noqa: A002 - TurboML's name
        key_field: str,
        load_if_exists: bool = False,
    ) -> OnlineDataset:
        """Create dataset ``id`` with the schema of ``df`` and upload its rows.

        With ``load_if_exists=True`` an existing dataset of that id is
        returned as it is (nothing is uploaded and the schemas are not
        compared); otherwise an existing id raises ValueError.
        """
        _check_dataset_id(id)
        if load_if_exists:
            existing = OnlineDataset.load(id)
            if existing is not None:
                return existing
        schema = DatasetSchema.from_pd(df)
        _check_key(schema, key_field)
        table = _arrow.to_table(df, schema, key_field)  # validate values before creating anything
        conn = api.connection
        req = spate_pb2.CreateDatasetRequest(dataset_id=id, fields=schema.to_proto(), key_field=key_field)
        try:
            conn.call(conn.datasets.CreateDataset, req)
        except ApiException as err:
            if err.status_code == 409:
                raise ValueError(
                    f"Dataset with ID {id!r} already exists. Use OnlineDataset.load({id!r}) "
                    "or pass load_if_exists=True."
                ) from None
            raise
        ds = OnlineDataset(id, key_field, schema)
        ds._upload(table)
        return ds

    @staticmethod
    def from_local_dataset(dataset: LocalDataset, dataset_id: str, load_if_exists: bool = False) -> OnlineDataset:
        """Upload a :class:`LocalDataset`. An existing dataset is returned
        with ``load_if_exists=True`` only when its schema is the same."""
        if load_if_exists:
            existing = OnlineDataset.load(dataset_id)
            if existing is not None:
                diff = existing.schema.differences(dataset.schema)
                if diff:
                    raise ValueError(f"dataset {dataset_id!r} exists with another schema: " + "; ".join(diff))
                return existing
        return OnlineDataset.from_pd(dataset.df, dataset_id, dataset.key_field)

    @staticmethod
    def load(dataset_id: str) -> OnlineDataset | None:
        """The dataset ``dataset_id``, or None when it does not exist."""
        _check_dataset_id(dataset_id)
        conn = api.connection
        try:
            d = conn.call(conn.datasets.GetDataset, spate_pb2.GetDatasetRequest(dataset_id=dataset_id))
        except NotFoundException:
            return None
        return OnlineDataset(d.dataset_id, d.key_field, DatasetSchema.from_proto(d.fields))

    def add_pd(self, df: pd.DataFrame, *, progress: bool | None = None) -> None:
        """Append the rows of ``df``, whose columns and dtypes must match
        the schema. Large frames stream in batches; a progress bar shows for
        more than ``PROGRESS_THRESHOLD`` rows unless ``progress`` says
        otherwise. Returns once every row is durably stored."""
        diff = self._schema.differences(DatasetSchema.from_pd(df))
        if diff:
            raise ValueError(f"schema mismatch for dataset {self._dataset_id!r}: " + "; ".join(diff))
        self._upload(_arrow.to_table(df, self._schema, self._key_field), progress=progress)

    def _upload(self, table: pa.Table, progress: bool | None = None) -> None:
        n = table.num_rows
        if n == 0:
            return
        if progress is None:
            progress = n > PROGRESS_THRESHOLD
        rows_per_batch = max(1024, min(n, _BATCH_BYTES * n // max(table.nbytes, 1)))
        conn = api.connection
        descriptor = flight.FlightDescriptor.for_command(json.dumps({"dataset_id": self._dataset_id}).encode())
        try:
            writer, acks = conn.flight.do_put(descriptor, table.schema, options=conn.flight_options)
            with writer, tqdm(
                total=n, unit="rows", unit_scale=True, desc=f"Uploading {self._dataset_id}", disable=not progress
            ) as bar:
                for batch in table.to_batches(max_chunksize=rows_per_batch):
                    writer.write_batch(batch)
                    buf = acks.read()
                    if buf is None:
                        raise ApiException(f"the server closed the upload to {self._dataset_id!r} early", 500)
                    bar.update(int(json.loads(buf.to_pybytes())["rows"]))
                writer.done_writing()
        except (flight.FlightError, pa.ArrowException) as err:
            raise _flight_error(err, self._dataset_id) from None

    def _read_from(self, offset: int) -> pa.Table:
        conn = api.connection
        ticket = flight.Ticket(json.dumps({"dataset_id": self._dataset_id, "from": offset, "limit": -1}).encode())
        try:
            return conn.flight.do_get(ticket, options=conn.flight_options).read_all()
        except (flight.FlightError, pa.ArrowException) as err:
            raise _flight_error(err, self._dataset_id) from None

    @property
    def preview_df(self) -> pd.DataFrame:
        """All rows so far, as a DataFrame. Each access fetches only the rows
        appended since the previous one."""
        new = self._read_from(self._next_offset)
        if new.num_rows and not new.schema.equals(self._schema.to_arrow(self._key_field)):
            raise ValueError(
                f"dataset {self._dataset_id!r} now has the schema {DatasetSchema.from_arrow(new.schema)!r}, "
                f"not {self._schema!r}: it was deleted and created again; load it again with OnlineDataset.load"
            )
        if new.num_rows:
            self._batches.extend(new.to_batches())
            self._next_offset += new.num_rows
            self._preview = None
        if self._preview is None:
            arrow_schema = self._schema.to_arrow(self._key_field)
            table = pa.Table.from_batches(self._batches, schema=arrow_schema) if self._batches else arrow_schema.empty_table()
            self._preview = _arrow.to_pandas(table)
        return self._preview.copy()

    def __repr__(self) -> str:
        return f"OnlineDataset(id={self._dataset_id!r}, key_field={self._key_field!r}, schema={self._schema!r})"


# Bundled data ----------------------------------------------------------------


def _cache_dir() -> Path:
    base = os.environ.get("SPATE_CACHE_DIR")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "spate"


#: Schema metadata key under which the server names the version of the
#: generator that produced a bundled data set.
SAMPLE_VERSION_KEY = b"spate.sample.generator_version"
#: The bundled data set the classes below ask for by default.
DEFAULT_SAMPLE_ROWS = 200_000
DEFAULT_SAMPLE_SEED = 1


def _read_cached(path: Path) -> pa.Table | None:
    try:
        with pa.memory_map(str(path)) as source:
            return pa.ipc.open_file(source).read_all()
    except (OSError, pa.ArrowException):
        return None  # missing or unreadable: fetch again


def _write_cached(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)  # a read-only cache only costs a download next time


def fetch_sample(name: str, rows: int = DEFAULT_SAMPLE_ROWS, seed: int = DEFAULT_SAMPLE_SEED) -> tuple[pa.Table, bool]:
    """Fetch a bundled data set from the backend (requires :func:`spate.init`).

    The table is cached under ``~/.cache/spate/samples`` (``SPATE_CACHE_DIR``
    or ``XDG_CACHE_HOME`` move it) keyed by the generator version the server
    announces, the seed and the row count. When the server announces no
    version, a cached copy is used only if its first batch equals the one the
    server sends. Returns the table and whether it came from the cache.
    """
    conn = api.connection
    ticket = flight.Ticket(json.dumps({"kind": "sample", "name": name, "rows": rows, "seed": seed}).encode())
    try:
        reader = conn.flight.do_get(ticket, options=conn.flight_options)
        version = (reader.schema.metadata or {}).get(SAMPLE_VERSION_KEY, b"").decode() or None
        path = _cache_dir() / "samples" / f"{name}-{version or 'unversioned'}-seed{seed}-rows{rows}.arrow"
        cached = _read_cached(path)
        batches: list[pa.RecordBatch] = []
        if cached is not None and version is not None:
            reader.cancel()
            return cached, True
        if cached is not None:
            first = reader.read_chunk().data
            if cached.num_rows >= first.num_rows and cached.slice(0, first.num_rows).equals(
                pa.Table.from_batches([first])
            ):
                reader.cancel()
                return cached, True
            batches.append(first)
        table = pa.Table.from_batches(batches + reader.read_all().to_batches(), schema=reader.schema)
    except (flight.FlightError, pa.ArrowException) as err:
        raise _flight_error(err, name) from None
    _write_cached(path, table)
    return table, False


class _SampleDataset(LocalDataset):
    _sample: ClassVar[str]
    _key: ClassVar[str] = "transactionID"

    def __init__(self, rows: int = DEFAULT_SAMPLE_ROWS, seed: int = DEFAULT_SAMPLE_SEED) -> None:
        table, _ = fetch_sample(self._sample, rows=rows, seed=seed)
        super().__init__(_arrow.to_pandas(table), self._key)


class FraudDetectionDatasetFeatures(_SampleDataset):
    """The bundled card transactions: 22 columns keyed by ``transactionID``,
    generated deterministically by the backend (200,000 rows by default;
    ``rows`` and ``seed`` pick another draw). Requires :func:`spate.init`.

    Examples
    --------

    >>> features = FraudDetectionDatasetFeatures(rows=1000)
    >>> features.df.shape
    (1000, 22)
    >>> features.key_field, features.schema.fields["transactionAmount"]
    ('transactionID', <Datatype.DOUBLE: 'DOUBLE'>)

    """

    _sample = "fraud_transactions"


class FraudDetectionDatasetLabels(_SampleDataset):
    """Fraud labels of :class:`FraudDetectionDatasetFeatures`, row for row:
    ``transactionID`` and ``is_fraud`` (0 or 1).

    Examples
    --------

    >>> labels = FraudDetectionDatasetLabels(rows=1000)
    >>> list(labels.df.columns), sorted(labels.df["is_fraud"].unique().tolist())
    (['transactionID', 'is_fraud'], [0, 1])

    """

    _sample = "fraud_labels"
