"""Arrow Flight calls shared by the SDK: JSON tickets and descriptors,
DoGet reads, DoExchange round trips, long-lived DoPut upload streams, and
the translation of Flight errors into the SDK's exceptions."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import pyarrow as pa
import pyarrow.flight as flight

from .common.api import api
from .common.exceptions import (
    ApiException,
    AuthenticationError,
    BackendConnectionError,
    NotFoundException,
)

__all__ = ["flight_error", "do_get", "do_exchange", "PutStream"]

_FLIGHT_MESSAGE_RE = re.compile(r"with message: (.*?)\.? gRPC client debug context", re.S)


def flight_error(err: Exception, subject: str) -> Exception:
    """Translate an Arrow Flight failure into the SDK's exceptions, keeping
    the server's message; ``subject`` (a dataset or model) prefixes
    ValueErrors."""
    msg = str(err)
    m = _FLIGHT_MESSAGE_RE.search(msg)
    detail = m.group(1).strip() if m else msg.strip()
    if isinstance(err, flight.FlightUnauthenticatedError):
        return AuthenticationError(detail)
    if isinstance(err, flight.FlightUnavailableError):
        return BackendConnectionError(
            f"cannot reach the Arrow Flight server at {api.config.ARROW_SERVER_ADDRESS}: {detail}"
        )
    if isinstance(err, pa.ArrowKeyError):
        return NotFoundException(detail)
    if isinstance(err, (pa.ArrowInvalid, pa.ArrowIndexError)):
        return ValueError(f"{subject}: {detail}")
    return ApiException(detail, 500)


def do_get(command: dict[str, Any], subject: str) -> pa.Table:
    """Read the whole stream of a DoGet ticket holding ``command`` as JSON."""
    conn = api.connection
    ticket = flight.Ticket(json.dumps(command).encode())
    try:
        return conn.flight.do_get(ticket, options=conn.flight_options).read_all()
    except (flight.FlightError, pa.ArrowException) as err:
        raise flight_error(err, subject) from None


def do_exchange(
    command: dict[str, Any], table: pa.Table, subject: str, *, answer_per_batch: bool, max_rows: int = 65536
) -> pa.Table:
    """Send ``table`` through a DoExchange whose descriptor is ``command``
    and return every batch the server answers, concatenated.

    With ``answer_per_batch`` (prediction exchanges answer each input batch
    with one batch) the answer to each batch is read before the next is
    written, so neither side waits on a full buffer; otherwise (training)
    the answer is read once everything is sent."""
    conn = api.connection
    descriptor = flight.FlightDescriptor.for_command(json.dumps(command).encode())
    got: list[pa.RecordBatch] = []
    try:
        writer, reader = conn.flight.do_exchange(descriptor, options=conn.flight_options)
        with writer:
            writer.begin(table.schema)
            for batch in table.to_batches(max_chunksize=max_rows):
                if batch.num_rows == 0:
                    continue
                writer.write_batch(batch)
                if answer_per_batch:
                    got.append(reader.read_chunk().data)
            writer.done_writing()
            for chunk in reader:
                if chunk.data is not None:
                    got.append(chunk.data)
    except (flight.FlightError, pa.ArrowException) as err:
        raise flight_error(err, subject) from None
    if not got:
        return pa.table({})
    return pa.Table.from_batches(got, schema=got[0].schema)


class PutStream:
    """One long-lived Flight DoPut upload to a dataset, for streaming.

    Each :meth:`write` sends a batch at once; the server acknowledges every
    batch once it is durably stored, and the acknowledgements are read on a
    background thread. At most ``max_in_flight`` batches wait for theirs:
    beyond that :meth:`write` blocks, so a producer faster than the server
    is slowed down rather than buffering without bound. :meth:`close`
    returns once every batch is acknowledged and raises the upload's error,
    if any. Use it as a context manager::

        with PutStream("transactions", table.schema) as s:
            for batch in batches:
                s.write(batch)
    """

    def __init__(self, dataset_id: str, schema: pa.Schema, *, max_in_flight: int = 8) -> None:
        if max_in_flight <= 0:
            raise ValueError("max_in_flight must be positive")
        self.dataset_id = dataset_id
        self.rows_acknowledged = 0
        self._slots = threading.Semaphore(max_in_flight)
        self._error: Exception | None = None
        conn = api.connection
        descriptor = flight.FlightDescriptor.for_command(json.dumps({"dataset_id": dataset_id}).encode())
        try:
            self._writer, self._acks = conn.flight.do_put(descriptor, schema, options=conn.flight_options)
        except (flight.FlightError, pa.ArrowException) as err:
            raise flight_error(err, f"dataset {dataset_id!r}") from None
        self._reader = threading.Thread(target=self._read_acks, name=f"spate-put-{dataset_id}", daemon=True)
        self._reader.start()

    def _read_acks(self) -> None:
        try:
            while True:
                buf = self._acks.read()
                if buf is None:
                    return
                self.rows_acknowledged += int(json.loads(buf.to_pybytes())["rows"])
                self._slots.release()
        except (flight.FlightError, pa.ArrowException) as err:
            self._error = flight_error(err, f"dataset {self.dataset_id!r}")
        except Exception as err:  # a malformed acknowledgement
            self._error = err
        finally:
            # Unblock a writer waiting for a slot: the upload is over.
            for _ in range(1 << 16):
                self._slots.release()

    def write(self, data: pa.RecordBatch | pa.Table) -> None:
        """Send a batch (a table is sent as its batches)."""
        batches = data.to_batches() if isinstance(data, pa.Table) else [data]
        for batch in batches:
            if batch.num_rows == 0:
                continue
            self._slots.acquire()
            if self._error is not None:
                raise self._error
            try:
                self._writer.write_batch(batch)
            except (flight.FlightError, pa.ArrowException) as err:
                raise self._error or flight_error(err, f"dataset {self.dataset_id!r}") from None

    def close(self) -> int:
        """Finish the upload; returns the rows the server acknowledged."""
        try:
            self._writer.done_writing()
        except (flight.FlightError, pa.ArrowException) as err:
            if self._error is None:
                self._error = flight_error(err, f"dataset {self.dataset_id!r}")
        self._reader.join()
        try:
            self._writer.close()
        except (flight.FlightError, pa.ArrowException) as err:
            if self._error is None:
                self._error = flight_error(err, f"dataset {self.dataset_id!r}")
        if self._error is not None:
            raise self._error
        return self.rows_acknowledged

    def __enter__(self) -> PutStream:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            try:
                self.close()
            except Exception:
                pass  # the first error wins
