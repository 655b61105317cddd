"""Schema mapping, LocalDataset and normalize_df (no server calls)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import spate as tb
from spate.datasets import Datatype, PandasHelpers


@pytest.mark.parametrize(
    "series, want",
    [
        (pd.Series([1, 2], dtype="int32"), Datatype.INT32),
        (pd.Series([1, None], dtype="Int32"), Datatype.INT32),
        (pd.Series([1, 2], dtype="int64"), Datatype.INT64),
        (pd.Series([1, None], dtype="Int64"), Datatype.INT64),
        (pd.Series([1.5], dtype="float32"), Datatype.FLOAT),
        (pd.Series([1.5, None], dtype="Float32"), Datatype.FLOAT),
        (pd.Series([1.5, np.nan]), Datatype.DOUBLE),
        (pd.Series([True, False]), Datatype.BOOL),
        (pd.Series([True, None], dtype="boolean"), Datatype.BOOL),
        (pd.Series(["a", None]), Datatype.STRING),
        (pd.Series(["a", None], dtype="string"), Datatype.STRING),
        (pd.Series(["a", None], dtype=object), Datatype.STRING),
        (pd.Series([b"a", None], dtype=object), Datatype.BYTES),
        (pd.Series([], dtype=object), Datatype.STRING),
    ],
)
def test_schema_from_pd_types(series, want):
    assert tb.DatasetSchema.from_pd(pd.DataFrame({"c": series})).fields == {"c": want}


@pytest.mark.parametrize(
    "series, message",
    [
        (pd.Series(pd.to_datetime(["2026-01-01"])), "dtype datetime64"),
        (pd.Series([1], dtype="int8"), "dtype int8"),
        (pd.Series([1], dtype="uint64"), "dtype uint64"),
        (pd.Series(["a"], dtype="category"), "dtype category"),
        (pd.Series(["a", 1], dtype=object), "holding int, str"),
    ],
)
def test_schema_from_pd_rejects(series, message):
    with pytest.raises(ValueError, match=message) as info:
        tb.DatasetSchema.from_pd(pd.DataFrame({"col": series}))
    assert "'col'" in str(info.value)


@pytest.mark.parametrize("name", ["1abc", "a-b", "a.b", "with space", ""])
def test_schema_rejects_bad_column_names(name):
    with pytest.raises(ValueError, match="must match"):
        tb.DatasetSchema.from_pd(pd.DataFrame({name: [1]}))


def test_schema_differences():
    a = tb.DatasetSchema({"k": "STRING", "x": "DOUBLE", "y": "INT64"})
    b = tb.DatasetSchema({"k": "STRING", "x": "FLOAT", "z": "BOOL"})
    assert a.differences(b) == ["missing columns: y", "unknown columns: z", "column 'x' is FLOAT, the dataset has DOUBLE"]
    assert a.differences(a) == [] and a == tb.DatasetSchema(dict(a.fields))


def test_local_dataset():
    df = pd.DataFrame({"id": ["a", "b", "c", "d"], "v": np.arange(4, dtype="int64")})
    ds = tb.LocalDataset.from_pd(df, key_field="id")
    assert len(ds) == 4 and ds.key_field == "id" and ds.df is df
    part = ds[1:3]
    assert isinstance(part, tb.LocalDataset) and len(part) == 2
    pd.testing.assert_frame_equal(part.df, df.iloc[1:3].reset_index(drop=True))
    with pytest.raises(TypeError, match="sliced"):
        ds[0]
    ds.add_pd(pd.DataFrame({"id": ["e"], "v": np.array([9], dtype="int64")}))
    assert len(ds) == 5
    with pytest.raises(ValueError, match="schema mismatch: column 'v' is DOUBLE"):
        ds.add_pd(pd.DataFrame({"id": ["f"], "v": [1.5]}))
    with pytest.raises(ValueError, match="key field 'nope' is not a column"):
        tb.LocalDataset.from_pd(df, key_field="nope")


def test_normalize_df():
    df = pd.DataFrame(
        {
            "f": [1.5, np.nan],
            "i": pd.array([1, None], dtype="Int64"),
            "s": ["a", None],
            "b": pd.array([True, None], dtype="boolean"),
            "o": pd.Series([b"x", None], dtype=object),
            "t": pd.to_datetime(["2026-01-01", None]),
        }
    )
    out = PandasHelpers.normalize_df(df)
    assert df["f"].isna().sum() == 1, "the input is not modified"
    assert not out.isna().any().any()
    assert out["f"].tolist() == [1.5, 0.0] and out["i"].tolist() == [1, 0]
    assert out["s"].tolist() == ["a", ""] and out["b"].tolist() == [True, False]
    assert out["o"].tolist() == [b"x", b""] and out["t"].iloc[1] == pd.Timestamp(0)
    assert out.dtypes["i"] == df.dtypes["i"] and out.dtypes["f"] == df.dtypes["f"]
