"""Conversions between pandas DataFrames and Arrow tables with the exact
column types of a dataset schema."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from .schema import DatasetSchema


def to_table(df: pd.DataFrame, schema: DatasetSchema, key_field: str) -> pa.Table:
    """Build an Arrow table holding the columns of ``schema``, in its order,
    typed exactly (int32, int64, float32, float64, utf8, bool, binary); NaN
    and None become null. Raises ValueError naming the column whose values
    do not fit its type."""
    arrays = []
    for name, dtype in schema.fields.items():
        typ = dtype.arrow_type
        try:
            arr = pa.array(df[name], type=typ, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError) as err:
            raise ValueError(f"column {name!r} cannot be stored as {dtype.value}: {err}") from None
        if name == key_field and arr.null_count:
            raise ValueError(f"key field {key_field!r} has {arr.null_count} null value(s); every row needs a key")
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, schema=schema.to_arrow(key_field))


def _column_to_pandas(col: pa.ChunkedArray) -> pd.Series:
    t = col.type
    nulls = col.null_count > 0
    if pa.types.is_int32(t) and nulls:
        return col.to_pandas(types_mapper={pa.int32(): pd.Int32Dtype()}.get)
    if pa.types.is_int64(t) and nulls:
        return col.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    if pa.types.is_boolean(t) and nulls:
        return col.to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get)
    return col.to_pandas()


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """Convert a dataset's rows to pandas with the dtypes pandas itself would
    pick for such data: int32/int64/bool columns without nulls keep their
    numpy dtypes, with nulls they become Int32/Int64/boolean; floats keep NaN
    for null; strings use pandas' default string dtype; bytes are objects
    holding ``bytes`` (or None)."""
    data = {name: _column_to_pandas(table.column(i)) for i, name in enumerate(table.column_names)}
    return pd.DataFrame(data, index=pd.RangeIndex(table.num_rows))
