"""OnlineDataset against a real server: round trips, appends, REST upload,
validation, namespaces and large uploads."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import spate as tb
from spate._proto.spate.v1 import spate_pb2
from spate.common.api import api
from spate.common.connection import Connection
from spate.datasets import PandasHelpers


def all_types(n: int, start: int = 0, nulls: bool = True) -> pd.DataFrame:
    """A frame with one column of each of the seven types; with nulls, every
    third row is null in every column but the key."""
    idx = np.arange(start, start + n)
    df = pd.DataFrame(
        {
            "key": [f"k{i}" for i in idx],
            "i32": pd.array(idx, dtype="Int32" if nulls else "int32"),
            "i64": pd.array(idx * 10_000_000_000, dtype="Int64" if nulls else "int64"),
            "f32": (idx / 4).astype("float32"),
            "f64": idx / 3,
            "s": pd.Series([f"s{i}é" for i in idx], dtype="str"),
            "b": pd.array(idx % 2 == 0, dtype="boolean" if nulls else "bool"),
            "y": pd.Series([bytes([i % 256, 0, 255]) for i in idx], dtype=object),
        }
    )
    if nulls:
        holes = idx % 3 == 1
        for col in df.columns[1:]:
            df.loc[holes, col] = None
        df["y"] = df["y"].astype(object)
    return df


@pytest.mark.parametrize("nulls", [True, False])
def test_round_trip_all_types(nulls):
    df = all_types(7, nulls=nulls)
    name = f"all_types_{'nulls' if nulls else 'dense'}"
    ds = tb.OnlineDataset.from_pd(df=df, id=name, key_field="key")
    assert ds.dataset_id == name and ds.key_field == "key"
    assert ds.schema.fields == {
        "key": tb.Datatype.STRING, "i32": tb.Datatype.INT32, "i64": tb.Datatype.INT64, "f32": tb.Datatype.FLOAT,
        "f64": tb.Datatype.DOUBLE, "s": tb.Datatype.STRING, "b": tb.Datatype.BOOL, "y": tb.Datatype.BYTES,
    }
    pd.testing.assert_frame_equal(ds.preview_df, df)
    loaded = tb.OnlineDataset.load(name)
    assert loaded is not None and loaded.schema == ds.schema and loaded.key_field == "key"
    pd.testing.assert_frame_equal(loaded.preview_df, df)


def test_add_pd_reads_incrementally():
    ds = tb.OnlineDataset.from_pd(df=all_types(5), id="incremental", key_field="key")
    reads = []
    original = ds._read_from

    def spy(offset):
        table = original(offset)
        reads.append((offset, table.num_rows))
        return table

    ds._read_from = spy
    assert len(ds.preview_df) == 5
    ds.add_pd(all_types(4, start=5))
    assert len(ds.preview_df) == 9
    ds.add_pd(all_types(3, start=9))
    pd.testing.assert_frame_equal(ds.preview_df, all_types(12))
    assert len(ds.preview_df) == 12
    assert reads == [(0, 5), (5, 4), (9, 3), (12, 0)]


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda df: df.astype({"f64": "float32"}), "column 'f64' is FLOAT, the dataset has DOUBLE"),
        (lambda df: df.drop(columns=["s"]), "missing columns: s"),
        (lambda df: df.assign(extra=1), "unknown columns: extra"),
        (lambda df: df.assign(i32=df["i32"].astype("Int64")), "column 'i32' is INT64, the dataset has INT32"),
    ],
)
def test_add_pd_schema_mismatch(change, message):
    ds = tb.OnlineDataset.load("all_types_nulls") or tb.OnlineDataset.from_pd(all_types(7), "all_types_nulls", "key")
    before = len(ds.preview_df)
    with pytest.raises(ValueError, match="schema mismatch for dataset 'all_types_nulls'") as info:
        ds.add_pd(change(all_types(2, start=100)))
    assert message in str(info.value)
    assert len(ds.preview_df) == before


def test_rest_upload_then_readable():
    df = pd.DataFrame(
        {"transactionID": ["t1", "t2"], "amount": [12.5, np.nan], "country": ["US", None], "items": [1, 2]}
    )
    ds = tb.OnlineDataset.from_pd(df=df.iloc[:0], id="rest_rows", key_field="transactionID")
    assert len(ds.preview_df) == 0
    rows = json.loads(PandasHelpers.normalize_df(df).to_json(orient="records"))
    resp = api.post(f"dataset/{ds.dataset_id}/upload", json=rows)
    assert resp.json() == {"first_offset": 0, "rows": 2}
    got = tb.OnlineDataset.load("rest_rows").preview_df
    pd.testing.assert_frame_equal(got, PandasHelpers.normalize_df(df))


@pytest.mark.parametrize(
    "rows, detail",
    [
        ([{"transactionID": "a", "amount": 1.0}, {"transactionID": "b", "amount": "x"}], 'row 1, field "amount"'),
        ([{"transactionID": "a", "nope": 1}], '"nope"'),
        ([{"amount": 1.0}], '"transactionID"'),
        ({"transactionID": "a"}, "list"),
    ],
)
def test_rest_upload_rejects_bad_rows(rows, detail):
    ds = tb.OnlineDataset.load("rest_bad") or tb.OnlineDataset.from_pd(
        pd.DataFrame({"transactionID": ["t0"], "amount": [1.0]}), "rest_bad", "transactionID"
    )
    before = len(ds.preview_df)
    with pytest.raises(tb.ApiException) as info:
        api.post("dataset/rest_bad/upload", json=rows)
    assert info.value.status_code == 400
    assert detail in info.value.message
    assert len(ds.preview_df) == before, "a rejected body writes nothing"


def test_unknown_dataset():
    assert tb.OnlineDataset.load("never_created") is None
    with pytest.raises(tb.NotFoundException) as info:
        api.post("dataset/never_created/upload", json=[{"a": 1}])
    assert info.value.status_code == 404


@pytest.mark.parametrize("bad", ["bad-name", "1starts_with_digit", "has.dot", "", "x" * 200])
def test_invalid_dataset_names(bad):
    df = pd.DataFrame({"k": ["a"]})
    with pytest.raises(ValueError, match="dataset id"):
        tb.OnlineDataset.from_pd(df, bad, "k")
    with pytest.raises(ValueError, match="dataset id"):
        tb.OnlineDataset.load(bad)


def test_server_rejects_invalid_names_too():
    conn = api.connection
    for req in [
        spate_pb2.CreateDatasetRequest(dataset_id="bad-name", fields=[spate_pb2.Field(name="k", type=5)], key_field="k"),
        spate_pb2.CreateDatasetRequest(dataset_id="ok", fields=[spate_pb2.Field(name="bad-col", type=5)], key_field="bad-col"),
    ]:
        with pytest.raises(ValueError, match="must match"):
            conn.call(conn.datasets.CreateDataset, req)


def test_key_must_be_present_and_non_null():
    with pytest.raises(ValueError, match="key field 'id' is not a column"):
        tb.OnlineDataset.from_pd(pd.DataFrame({"k": ["a"]}), "no_key_col", "id")
    with pytest.raises(ValueError, match="key field 'k' has 1 null"):
        tb.OnlineDataset.from_pd(pd.DataFrame({"k": ["a", None]}), "null_key", "k")
    assert tb.OnlineDataset.load("null_key") is None, "nothing is created when the rows are invalid"


def test_load_if_exists():
    df = pd.DataFrame({"k": ["a", "b"], "v": [1, 2]})
    first = tb.OnlineDataset.from_pd(df, "exists_once", "k")
    with pytest.raises(ValueError, match="already exists"):
        tb.OnlineDataset.from_pd(df, "exists_once", "k")
    again = tb.OnlineDataset.from_pd(df, "exists_once", "k", load_if_exists=True)
    assert again.schema == first.schema
    assert len(again.preview_df) == 2, "load_if_exists uploads nothing"
    local = tb.LocalDataset.from_pd(df, key_field="k")
    assert len(local.to_online("exists_once", load_if_exists=True).preview_df) == 2
    with pytest.raises(ValueError, match="exists with another schema"):
        tb.OnlineDataset.from_local_dataset(
            tb.LocalDataset.from_pd(df.assign(v=[1.0, 2.0]), "k"), "exists_once", load_if_exists=True
        )


def test_namespaces_are_isolated(spate_server):
    tb.OnlineDataset.from_pd(pd.DataFrame({"k": ["a"], "v": [1]}), "ns_private", "k")
    other = spate_server.create_key("other")
    try:
        tb.init(backend_url=spate_server.url, api_key=other)
        assert tb.get_user_info().namespace == "other"
        assert tb.OnlineDataset.load("ns_private") is None
        with pytest.raises(tb.NotFoundException):
            api.post("dataset/ns_private/upload", json=[{"k": "b", "v": 2}])
        # The same id is free in the other namespace and holds its own rows.
        mine = tb.OnlineDataset.from_pd(pd.DataFrame({"k": ["x", "y"], "v": [7, 8]}), "ns_private", "k")
        assert mine.preview_df["k"].tolist() == ["x", "y"]
    finally:
        tb.init(backend_url=spate_server.url, api_key=spate_server.api_key)
    assert tb.OnlineDataset.load("ns_private").preview_df["k"].tolist() == ["a"]


def test_large_upload_with_progress(capfd):
    n = 300_000
    rng = np.random.default_rng(7)
    df = pd.DataFrame(
        {
            "transactionID": [f"tx{i:07d}" for i in range(n)],
            "accountID": rng.integers(0, 5_000, n).astype("int64"),
            "transactionAmount": rng.gamma(2.0, 40.0, n),
            "localHour": rng.integers(0, 24, n).astype("int32"),
            "isProxyIP": rng.random(n) < 0.1,
        }
    )
    ds = tb.OnlineDataset.from_pd(df, "big_upload", "transactionID")
    err = capfd.readouterr().err
    assert "Uploading big_upload" in err and "300k/300k" in err
    pd.testing.assert_frame_equal(ds.preview_df, df)
    small = pd.DataFrame({"transactionID": ["late"], "accountID": [1], "transactionAmount": [1.0],
                          "localHour": np.array([3], dtype="int32"), "isProxyIP": [False]})
    ds.add_pd(small)
    assert "Uploading" not in capfd.readouterr().err, "small appends show no progress bar"
    assert len(ds.preview_df) == n + 1


def test_flight_errors_are_clear(spate_server):
    ds = tb.OnlineDataset.from_pd(pd.DataFrame({"k": ["a"], "v": [1]}), "short_lived", "k")
    conn = api.connection
    conn.call(conn.datasets.DeleteDataset, spate_pb2.DeleteDatasetRequest(dataset_id="short_lived"))
    with pytest.raises(tb.NotFoundException, match='dataset "short_lived" does not exist'):
        ds.add_pd(pd.DataFrame({"k": ["b"], "v": [2]}))
    with pytest.raises(tb.NotFoundException, match='dataset "short_lived" does not exist'):
        ds.preview_df
    tb.OnlineDataset.from_pd(pd.DataFrame({"k": ["a"], "v": [1.5]}), "short_lived", "k")
    with pytest.raises(ValueError, match="field \"v\": has type int64, want double"):
        ds.add_pd(pd.DataFrame({"k": ["b"], "v": [2]}))
    with pytest.raises(ValueError, match="deleted and created again"):
        ds.preview_df
    # A Flight call with a key the server does not know.
    api._connection = Connection(conn.grpc_address, conn.arrow_address, "apiKey spk_unknown_000000000000000000000")
    try:
        with pytest.raises(tb.AuthenticationError, match="unknown or revoked"):
            ds.preview_df
    finally:
        api.close()
