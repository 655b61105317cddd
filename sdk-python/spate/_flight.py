"""Arrow Flight calls shared by the SDK: JSON tickets and descriptors,
DoGet reads and DoExchange round trips, and the translation of Flight
errors into the SDK's exceptions."""

from __future__ import annotations

import json
import re
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

__all__ = ["flight_error", "do_get", "do_exchange"]

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
