"""Features through the SDK against the real server: window aggregates and
SQL features on randomized data compared with DuckDB running the same SQL
over the same DataFrame, previews, incremental materialized reads, and the
errors a user can hit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import spate as tb
import spate.feature_engineering as fe_mod

try:
    import duckdb
except ImportError as err:  # the comparison is the point of this file
    raise RuntimeError("these tests need duckdb (pip install duckdb==2.0.1)") from err

OPS = ("SUM", "COUNT", "AVG", "MIN", "MAX")
SQL_FEATURES = {
    "amount_plus_hour": '"amount" * 2 + "hour"',
    "is_big": 'CASE WHEN "amount" > 50 THEN 1 ELSE 0 END',
    "curved": 'ABS("amount" - 50) + LN("hour" + 1)',
    "acct_upper": 'UPPER("acct")',
}


def random_rows(rng: np.random.Generator, n: int, start: int, t0: int) -> pd.DataFrame:
    """Rows in time order with distinct timestamps: random gaps of 1..900 s,
    40 accounts, amounts with cents."""
    ts = t0 + np.cumsum(rng.integers(1, 900, n))
    return pd.DataFrame({
        "id": [f"r{i}" for i in range(start, start + n)],
        "acct": [f"a{k}" for k in rng.integers(0, 40, n)],
        "ts": ts.astype("int64"),
        "hour": rng.integers(0, 24, n).astype("int64"),
        "amount": np.round(rng.uniform(0, 100, n), 2),
    })


def duckdb_features(df: pd.DataFrame) -> pd.DataFrame:
    """The same features computed by DuckDB: event-time RANGE windows of 1
    hour per account, and the SQL expressions."""
    aggs = ", ".join(f'{op}("amount") OVER w AS "{op.lower()}_1h"' for op in OPS)
    sqls = ", ".join(f'{expr} AS "{name}"' for name, expr in SQL_FEATURES.items())
    con = duckdb.connect()
    con.register("frame", df.assign(_row=np.arange(len(df))))
    out = con.execute(
        f'SELECT {aggs}, {sqls} FROM frame WINDOW w AS (PARTITION BY "acct" ORDER BY to_timestamp("ts") '
        'RANGE BETWEEN INTERVAL 1 HOUR PRECEDING AND CURRENT ROW) ORDER BY _row'
    ).df()
    con.close()
    return out


def feature_names() -> list[str]:
    return [f"{op.lower()}_1h" for op in OPS] + list(SQL_FEATURES)


def define(fe: tb.FeatureEngineering) -> None:
    fe.register_timestamp(column_name="ts", format_type="epoch_seconds")
    for op in OPS:
        fe.create_aggregate_features(
            column_to_operate="amount", column_to_group="acct", operation=op, new_feature_name=f"{op.lower()}_1h",
            timestamp_column="ts", window_duration=1, window_unit="hours",
        )
    for name, expr in SQL_FEATURES.items():
        fe.create_sql_features(sql_definition=expr, new_feature_name=name)


def assert_features_equal(got: pd.DataFrame, want: pd.DataFrame) -> None:
    for name in feature_names():
        if not pd.api.types.is_numeric_dtype(want[name]):
            assert got[name].tolist() == want[name].tolist(), f"feature {name} differs from DuckDB"
            continue
        np.testing.assert_allclose(
            got[name].astype("float64").to_numpy(), want[name].astype("float64").to_numpy(), rtol=1e-9, atol=1e-9,
            err_msg=f"feature {name} differs from DuckDB",
        )


def test_aggregates_and_sql_match_duckdb():
    rng = np.random.default_rng(20261125)
    first = random_rows(rng, 1500, 0, 1_700_000_000)
    ds = tb.OnlineDataset.from_pd(first, id="feat_random", key_field="id")
    fe = ds.feature_engineering
    define(fe)
    assert set(fe.pending_features) == set(feature_names())

    preview = fe.get_local_features()
    assert list(preview.columns) == list(first.columns) + feature_names()
    pd.testing.assert_frame_equal(preview[list(first.columns)], first)
    assert_features_equal(preview, duckdb_features(first))

    fe.materialize_features(feature_names())
    assert fe.pending_features == {}
    listed = fe.list_features()
    assert listed["materialized"].all() and sorted(listed["name"]) == sorted(feature_names())

    mat = fe.get_materialized_features()
    assert len(mat) == len(first)
    pd.testing.assert_frame_equal(mat, preview, check_dtype=False)

    # New rows: the next read fetches only them, and the values still match.
    second = random_rows(rng, 700, len(first), int(first["ts"].iloc[-1]))
    ds.add_pd(second)
    calls = []
    real = fe_mod.do_get
    fe_mod.do_get = lambda cmd, subject: calls.append(cmd) or real(cmd, subject)
    try:
        mat = fe.get_materialized_features()
    finally:
        fe_mod.do_get = real
    assert [c["from"] for c in calls if c["kind"] == "features"] == [len(first)]
    both = pd.concat([first, second], ignore_index=True)
    assert len(mat) == len(both)
    pd.testing.assert_frame_equal(mat[list(both.columns)], both)
    assert_features_equal(mat, duckdb_features(both))
    # The materialized values equal a fresh preview of the same rows.
    pd.testing.assert_frame_equal(fe.get_local_features(), mat, check_dtype=False)
    # And module-level reads from an offset.
    tail = tb.get_features("feat_random", limit=10, from_offset=100)
    pd.testing.assert_frame_equal(tail, mat.iloc[100:110].reset_index(drop=True), check_dtype=False)


def small_dataset(name: str) -> tb.OnlineDataset:
    rng = np.random.default_rng(7)
    return tb.OnlineDataset.from_pd(random_rows(rng, 50, 0, 1_000), id=name, key_field="id")


def test_materialize_is_idempotent():
    ds = small_dataset("feat_idem")
    fe = ds.feature_engineering
    fe.create_sql_features('"amount" + 1', "plus_one")
    fe.materialize_features(["plus_one"])
    fe.materialize_features(["plus_one"])  # already materialized: nothing to do
    # A fresh object (another session) sees it materialized and accepts it too.
    again = tb.OnlineDataset.load("feat_idem").feature_engineering
    again.materialize_features(["plus_one"])
    assert again.get_materialized_features()["plus_one"].tolist() == (ds.preview_df["amount"] + 1).tolist()
    with pytest.raises(ValueError, match="no feature named 'nope'"):
        fe.materialize_features(["nope"])
    with pytest.raises(ValueError, match="already exists"):
        again.create_sql_features('"amount" + 2', "plus_one")


def test_timestamp_registration():
    fe = small_dataset("feat_ts").feature_engineering
    assert "epoch_milliseconds" in tb.get_timestamp_formats()
    fe.register_timestamp(column_name="ts", format_type="epoch_seconds")
    fe.register_timestamp(column_name="ts", format_type="epoch_seconds")  # same format: fine
    with pytest.raises(ValueError, match=r"'ts'.*already registered as epoch_seconds"):
        fe.register_timestamp(column_name="ts", format_type="epoch_milliseconds")
    with pytest.raises(ValueError, match="is not one of"):
        fe.register_timestamp(column_name="ts", format_type="unix")
    assert fe.timestamp_fields == {"ts": "epoch_seconds"}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"column_to_operate": "nope"}, "nope"),
        ({"operation": "MEDIAN"}, "MEDIAN"),
        ({"window_unit": "fortnights"}, "fortnights"),
        ({"timestamp_column": "hour"}, "not registered"),
        ({"column_to_group": "missing_col"}, "missing_col"),
    ],
)
def test_invalid_aggregates(kwargs, message):
    fe = tb.OnlineDataset.load("feat_ts").feature_engineering
    args = dict(column_to_operate="amount", column_to_group="acct", operation="SUM", new_feature_name="bad",
                timestamp_column="ts", window_duration=2, window_unit="days")
    with pytest.raises(ValueError, match=message):
        fe.create_aggregate_features(**{**args, **kwargs})
    assert "bad" not in fe.pending_features


def test_invalid_sql_names_the_column():
    fe = tb.OnlineDataset.load("feat_ts").feature_engineering
    with pytest.raises(ValueError, match="unknown column \"nope\""):
        fe.create_sql_features('"nope" + 1', "bad")
    with pytest.raises(ValueError, match="NO_SUCH_FUNCTION"):
        fe.create_sql_features('no_such_function("amount")', "bad")
    with pytest.raises(ValueError, match="syntax error"):
        fe.create_sql_features('"amount" +', "bad")
    assert "bad" not in fe.pending_features


def test_drop_is_refused_while_a_model_uses_the_feature():
    ds = small_dataset("feat_drop")
    labels = tb.OnlineDataset.from_pd(
        pd.DataFrame({"id": [f"r{i}" for i in range(50)], "y": np.arange(50) % 2}), id="feat_drop_labels",
        key_field="id",
    )
    fe = ds.feature_engineering
    fe.create_sql_features('"amount" * 3', "triple")
    fe.create_sql_features('"amount" * 4', "quad")
    fe.drop_feature("quad")  # pending: only forgotten
    assert "quad" not in fe.pending_features
    fe.materialize_features(["triple"])
    model = tb.GaussianNB(n_classes=2).deploy(
        "feat_drop_model", input=ds.get_model_inputs(numerical_fields=["triple"]),
        labels=labels.get_model_labels("y"),
    )
    with pytest.raises(ValueError, match=r"cannot drop feature 'triple'.*feat_drop_model"):
        fe.drop_feature("triple")
    model.delete()
    fe.drop_feature("triple")
    assert fe.list_features().empty
    assert "triple" not in fe.get_materialized_features().columns
