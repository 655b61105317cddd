"""Retention of derived logs (feature values, model outputs, evaluations).

A derived log is bounded by age and by size, whichever is reached first;
the server removes its oldest whole segments in the background. The raw rows
of a dataset are never removed. ``0`` (or ``None``) takes the server's
default (7 days or 10 GiB), a negative value sets no bound::

    deployed = model.deploy("fraud_model", input=inputs, labels=labels,
                            retention=tb.Retention(max_age=timedelta(days=2), max_bytes=5 << 30))
    deployed.set_retention(max_age=-1)             # keep outputs forever
    transactions.set_retention(max_bytes=20 << 30)  # the feature log of a dataset
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from typing import Any

from ._proto.spate.v1 import spate_pb2

__all__ = ["Retention"]


@dataclasses.dataclass(frozen=True)
class Retention:
    """How much of a derived log to keep: ``max_age`` (seconds or a
    ``timedelta``) and ``max_bytes``; 0/None = the server's default,
    negative = no bound. As read back from the server, 0 means no bound."""

    max_age: float | _dt.timedelta | None = None
    max_bytes: int | None = None

    @property
    def max_age_seconds(self) -> int:
        a = self.max_age
        if a is None:
            return 0
        if isinstance(a, _dt.timedelta):
            a = a.total_seconds()
        if a < 0:
            return -1
        if 0 < a < 1:
            raise ValueError(f"max_age must be at least one second, got {a!r}")
        return int(a)

    def to_proto(self) -> spate_pb2.Retention:
        mb = self.max_bytes or 0
        if not isinstance(mb, int):
            raise ValueError(f"max_bytes must be an integer, got {mb!r}")
        return spate_pb2.Retention(max_age_seconds=self.max_age_seconds, max_bytes=-1 if mb < 0 else mb)

    @classmethod
    def from_proto(cls, p: spate_pb2.Retention) -> Retention:
        return cls(max_age=_dt.timedelta(seconds=p.max_age_seconds), max_bytes=int(p.max_bytes))

    @classmethod
    def of(cls, value: Any) -> Retention:
        """A Retention from a Retention, a dict of its fields, or None."""
        if value is None:
            return cls()
        if isinstance(value, Retention):
            return value
        if isinstance(value, dict):
            unknown = set(value) - {"max_age", "max_bytes"}
            if unknown:
                raise ValueError(f"unknown retention fields {sorted(unknown)} (want max_age, max_bytes)")
            return cls(**value)
        raise ValueError(f"retention must be a spate.Retention or a dict, got {type(value).__name__}")
