"""Dataset schemas: the seven column types (:class:`Datatype`) and the
mapping of pandas and Arrow columns onto them (:class:`DatasetSchema`).

It stands alone (pandas, pyarrow and numpy only), so that the Arrow
conversions, datasets and feature engineering can all use it without
importing each other.
"""

from __future__ import annotations

import enum
import re
from typing import Any, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

from ._proto.spate.v1 import spate_pb2

__all__ = ["Datatype", "DatasetSchema"]

_FIELD_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class Datatype(str, enum.Enum):
    """The type of a dataset column.

    Examples
    --------

    >>> Datatype.FLOAT.arrow_type
    DataType(float)
    >>> Datatype("INT64")
    <Datatype.INT64: 'INT64'>

    """

    INT32 = "INT32"
    INT64 = "INT64"
    FLOAT = "FLOAT"
    DOUBLE = "DOUBLE"
    STRING = "STRING"
    BOOL = "BOOL"
    BYTES = "BYTES"

    @property
    def arrow_type(self) -> pa.DataType:
        """The Arrow type that stores the column."""
        return _ARROW_TYPES[self]

    def to_proto(self) -> spate_pb2.FieldType:
        """The ``spate.v1.FieldType`` value."""
        return spate_pb2.FieldType.Value(f"FIELD_TYPE_{self.value}")

    @classmethod
    def from_proto(cls, value: spate_pb2.FieldType) -> Datatype:
        """Read a ``spate.v1.FieldType`` value."""
        return cls(spate_pb2.FieldType.Name(value).removeprefix("FIELD_TYPE_"))


_ARROW_TYPES = {
    Datatype.INT32: pa.int32(),
    Datatype.INT64: pa.int64(),
    Datatype.FLOAT: pa.float32(),
    Datatype.DOUBLE: pa.float64(),
    Datatype.STRING: pa.string(),
    Datatype.BOOL: pa.bool_(),
    Datatype.BYTES: pa.binary(),
}

_SUPPORTED = "int32, int64, float32, float64, bool, str/string, bytes"


def _datatype_of(name: str, s: pd.Series) -> Datatype:
    dt = s.dtype
    if isinstance(dt, pd.StringDtype):
        return Datatype.STRING
    if isinstance(dt, pd.ArrowDtype):
        at = dt.pyarrow_dtype
        for d, t in _ARROW_TYPES.items():
            if at == t:
                return d
        if pa.types.is_large_string(at) or pa.types.is_string_view(at):
            return Datatype.STRING
        if pa.types.is_large_binary(at) or pa.types.is_binary_view(at):
            return Datatype.BYTES
    elif dt == np.dtype("int32") or isinstance(dt, pd.Int32Dtype):
        return Datatype.INT32
    elif dt == np.dtype("int64") or isinstance(dt, pd.Int64Dtype):
        return Datatype.INT64
    elif dt == np.dtype("float32") or isinstance(dt, pd.Float32Dtype):
        return Datatype.FLOAT
    elif dt == np.dtype("float64") or isinstance(dt, pd.Float64Dtype):
        return Datatype.DOUBLE
    elif dt == np.dtype("bool") or isinstance(dt, pd.BooleanDtype):
        return Datatype.BOOL
    elif dt == np.dtype("object"):
        values = s.dropna()
        if values.map(lambda v: isinstance(v, str)).all():
            return Datatype.STRING
        if values.map(lambda v: isinstance(v, (bytes, bytearray))).all():
            return Datatype.BYTES
        kinds = sorted({type(v).__name__ for v in values})
        raise ValueError(
            f"column {name!r} is an object column holding {', '.join(kinds)}: "
            f"a dataset column must hold only str or only bytes"
        )
    raise ValueError(f"column {name!r} has dtype {dt}, which no dataset type stores (supported: {_SUPPORTED})")


class DatasetSchema:
    """The ordered, typed columns of a dataset.

    Parameters
    ----------
    fields
        Column name → :class:`Datatype` (or its name), in column order.

    Examples
    --------

    >>> import pandas as pd
    >>> df = pd.DataFrame({
    ...     "transactionID": ["a1", "a2"],
    ...     "amount": [10.5, 3.0],
    ...     "items": pd.array([1, 2], dtype="int32"),
    ...     "isProxyIP": [True, False],
    ... })
    >>> schema = DatasetSchema.from_pd(df)
    >>> schema
    DatasetSchema(transactionID: STRING, amount: DOUBLE, items: INT32, isProxyIP: BOOL)
    >>> DatasetSchema.from_pd(df.assign(when=pd.Timestamp("2026-01-01")))
    Traceback (most recent call last):
    ...
    ValueError: column 'when' has dtype datetime64[...], which no dataset type stores (supported: ...)

    """

    def __init__(self, fields: Mapping[str, Datatype | str]) -> None:
        self.fields: dict[str, Datatype] = {}
        for name, dtype in fields.items():
            if not isinstance(name, str) or not _FIELD_RE.match(name):
                raise ValueError(f"column name {name!r} must match ^[a-zA-Z_][a-zA-Z0-9_]*$")
            self.fields[name] = Datatype(dtype)
        if not self.fields:
            raise ValueError("a dataset schema needs at least one column")

    @classmethod
    def from_pd(cls, df: pd.DataFrame) -> DatasetSchema:
        """Map each column's dtype: int32→INT32, int64→INT64,
        float32→FLOAT, float64→DOUBLE, bool→BOOL, bytes→BYTES,
        str/string→STRING (pandas' nullable Int32, Int64, Float32, Float64
        and boolean map like their numpy kin). Other dtypes raise
        ValueError."""
        return cls({str(name): _datatype_of(str(name), df[name]) for name in df.columns})

    @classmethod
    def from_arrow(cls, schema: pa.Schema) -> DatasetSchema:
        """Read an Arrow schema whose columns have dataset types."""
        by_type = {t: d for d, t in _ARROW_TYPES.items()}
        fields = {}
        for f in schema:
            if f.type not in by_type:
                raise ValueError(f"column {f.name!r} has Arrow type {f.type}, which no dataset type stores")
            fields[f.name] = by_type[f.type]
        return cls(fields)

    @classmethod
    def from_proto(cls, fields: Any) -> DatasetSchema:
        """Read the ``fields`` of a ``spate.v1.Dataset``."""
        return cls({f.name: Datatype.from_proto(f.type) for f in fields})

    def to_proto(self) -> list[spate_pb2.Field]:
        """The fields as ``spate.v1.Field`` messages."""
        return [spate_pb2.Field(name=n, type=d.to_proto()) for n, d in self.fields.items()]

    def to_arrow(self, key_field: str) -> pa.Schema:
        """The Arrow schema of the dataset's rows (every column nullable but
        the key)."""
        return pa.schema([pa.field(n, d.arrow_type, nullable=n != key_field) for n, d in self.fields.items()])

    def differences(self, other: DatasetSchema) -> list[str]:
        """Describe how ``other`` differs from this schema (empty when they
        hold the same columns with the same types)."""
        out = []
        missing = [n for n in self.fields if n not in other.fields]
        extra = [n for n in other.fields if n not in self.fields]
        if missing:
            out.append(f"missing columns: {', '.join(missing)}")
        if extra:
            out.append(f"unknown columns: {', '.join(extra)}")
        for n, d in other.fields.items():
            if n in self.fields and self.fields[n] != d:
                out.append(f"column {n!r} is {d.value}, the dataset has {self.fields[n].value}")
        return out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DatasetSchema) and self.fields == other.fields

    def __hash__(self) -> int:
        return hash(tuple(self.fields.items()))

    def __repr__(self) -> str:
        cols = ", ".join(f"{n}: {d.value}" for n, d in self.fields.items())
        return f"DatasetSchema({cols})"
