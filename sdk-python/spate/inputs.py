"""What a model reads: input fields and a label field, of an online dataset
(:class:`OnlineInputs`, :class:`OnlineLabels`, for deployment) or of a
DataFrame (:class:`LocalInputs`, :class:`LocalLabels`, for local training
and prediction). Build them with ``dataset.get_model_inputs(...)`` and
``dataset.get_model_labels(...)``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = ["OnlineInputs", "OnlineLabels", "LocalInputs", "LocalLabels", "check_fields"]


def _names(value: Iterable[str] | None, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        raise TypeError(f"{what} must be a list of column names, not the string {value!r}")
    return [str(v) for v in value]


def check_fields(
    available: Iterable[str],
    where: str,
    numerical_fields: list[str] | None,
    categorical_fields: list[str] | None,
    textual_fields: list[str] | None,
    imaginal_fields: list[str] | None,
    time_field: str | None,
) -> tuple[list[str], list[str]]:
    """Validate the field lists of ``get_model_inputs`` against the columns
    ``available`` in ``where``; return the numerical and categorical
    lists."""
    num = _names(numerical_fields, "numerical_fields")
    cat = _names(categorical_fields, "categorical_fields")
    text = _names(textual_fields, "textual_fields")
    img = _names(imaginal_fields, "imaginal_fields")
    if text or img:
        kinds = " and ".join(k for k, v in (("textual_fields", text), ("imaginal_fields", img)) if v)
        raise NotImplementedError(
            f"{kinds}: Spate's learners read numerical and categorical inputs only; "
            "encode text or images as numbers first"
        )
    cols = set(available)
    every = num + cat + ([time_field] if time_field else [])
    seen: set[str] = set()
    dup = sorted({n for n in every if n in seen or seen.add(n)})  # type: ignore[func-returns-value]
    if dup:
        raise ValueError(f"fields named more than once: {', '.join(dup)}")
    missing = [n for n in every if n not in cols]
    if missing:
        raise ValueError(
            f"{where} has no column or materialized feature named {', '.join(map(repr, missing))} "
            f"(available: {', '.join(sorted(cols))})"
        )
    if not num and not cat:
        raise ValueError("a model needs at least one numerical or categorical field")
    return num, cat


@dataclass(frozen=True)
class OnlineInputs:
    """The input fields a deployed model reads from an online dataset (raw
    columns or materialized features)."""

    dataset_id: str
    key_field: str
    numerical_fields: list[str] = field(default_factory=list)
    categorical_fields: list[str] = field(default_factory=list)
    textual_fields: list[str] = field(default_factory=list)
    imaginal_fields: list[str] = field(default_factory=list)
    time_field: str | None = None


@dataclass(frozen=True)
class OnlineLabels:
    """The label field of an online dataset, joined to inputs by key."""

    dataset_id: str
    key_field: str
    label_field: str


def _numeric(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="raise").astype("float64")


def _categorical(name: str, s: pd.Series) -> pd.Series:
    v = pd.to_numeric(s, errors="raise").astype("float64").fillna(0)
    if not np.all(np.isfinite(v.to_numpy())) or not np.all(v.to_numpy() == np.floor(v.to_numpy())):
        raise ValueError(f"categorical field {name!r} must hold integer codes")
    return v.astype("int64")


class LocalInputs:
    """Model inputs held in memory: the key, the numerical fields as
    float64 (NaN stays NaN: a missing value) and the categorical fields as
    int64 (missing values become 0).

    Examples
    --------

    >>> import pandas as pd
    >>> import spate as tb
    >>> df = pd.DataFrame({"id": ["a", "b"], "amount": [1, 2.5], "proxy": [0.0, None]})
    >>> inputs = tb.LocalDataset.from_pd(df, key_field="id").get_model_inputs(
    ...     numerical_fields=["amount"], categorical_fields=["proxy"])
    >>> inputs.dataframe.dtypes.astype(str).tolist()
    ['str', 'float64', 'int64']

    """

    def __init__(
        self, df: pd.DataFrame, key_field: str, numerical_fields: list[str], categorical_fields: list[str],
        time_field: str | None = None,
    ) -> None:
        self.key_field = key_field
        self.numerical_fields = list(numerical_fields)
        self.categorical_fields = list(categorical_fields)
        self.textual_fields: list[str] = []
        self.imaginal_fields: list[str] = []
        self.time_field = time_field
        data = {key_field: df[key_field].astype("str")}
        for n in self.numerical_fields:
            data[n] = _numeric(df[n])
        for n in self.categorical_fields:
            data[n] = _categorical(n, df[n])
        if time_field:
            data[time_field] = df[time_field]
        self.dataframe = pd.DataFrame(data).reset_index(drop=True)

    def __len__(self) -> int:
        return len(self.dataframe)

    def to_arrow(self) -> pa.Table:
        """The input columns as Arrow (float64 and int64)."""
        cols = self.numerical_fields + self.categorical_fields
        return pa.Table.from_pandas(self.dataframe[cols], preserve_index=False)

    def __repr__(self) -> str:
        return (
            f"LocalInputs(rows={len(self)}, numerical_fields={self.numerical_fields}, "
            f"categorical_fields={self.categorical_fields})"
        )


class LocalLabels:
    """A label column held in memory, with the key (labels as float64)."""

    def __init__(self, df: pd.DataFrame, key_field: str, label_field: str) -> None:
        self.key_field = key_field
        self.label_field = label_field
        self.dataframe = pd.DataFrame(
            {key_field: df[key_field].astype("str"), label_field: pd.to_numeric(df[label_field]).astype("float64")}
        ).reset_index(drop=True)

    def __len__(self) -> int:
        return len(self.dataframe)

    def __repr__(self) -> str:
        return f"LocalLabels(rows={len(self)}, label_field={self.label_field!r})"
