"""The long-lived clients of one backend: a gRPC channel to the ``spate.v1``
control plane and an Arrow Flight client for row data, both sending the same
``authorization`` header."""

from __future__ import annotations

from typing import Any, Callable, TypeVar

import grpc
from pyarrow import flight

from spate._proto.spate.v1 import spate_pb2_grpc

from .exceptions import from_rpc_error

__all__ = ["Connection"]

T = TypeVar("T")

_MAX_MESSAGE = 256 << 20


class Connection:
    """Clients for the gRPC control plane and Arrow Flight at one address.

    Parameters
    ----------
    grpc_address
        ``host:port`` of the gRPC server.
    arrow_address
        ``grpc+tcp://host:port`` of the Flight server (the same port in
        Spate); ``grpc+tls://`` makes both clients use TLS.
    authorization
        The value of the ``authorization`` header (``apiKey spk_...``).
    root_certs
        PEM certificates to trust for TLS instead of the system's (a private
        CA or a self-signed server certificate).
    """

    def __init__(
        self, grpc_address: str, arrow_address: str, authorization: str, root_certs: bytes | None = None
    ) -> None:
        self.grpc_address = grpc_address
        self.arrow_address = arrow_address
        self._metadata = (("authorization", authorization),)
        options = [
            ("grpc.max_receive_message_length", _MAX_MESSAGE),
            ("grpc.max_send_message_length", _MAX_MESSAGE),
        ]
        if arrow_address.startswith("grpc+tls://"):
            creds = grpc.ssl_channel_credentials(root_certificates=root_certs)
            self.channel = grpc.secure_channel(grpc_address, creds, options=options)
        else:
            self.channel = grpc.insecure_channel(grpc_address, options=options)
        self.auth = spate_pb2_grpc.AuthServiceStub(self.channel)
        self.datasets = spate_pb2_grpc.DatasetServiceStub(self.channel)
        self.features = spate_pb2_grpc.FeatureServiceStub(self.channel)
        self.models = spate_pb2_grpc.ModelServiceStub(self.channel)
        if arrow_address.startswith("grpc+tls://") and root_certs:
            self.flight = flight.FlightClient(arrow_address, tls_root_certs=root_certs)
        else:
            self.flight = flight.FlightClient(arrow_address)
        self.flight_options = flight.FlightCallOptions(headers=[(b"authorization", authorization.encode())])

    def call(self, method: Callable[..., T], request: Any, timeout: float | None = 30.0) -> T:
        """Call a unary RPC with the credentials, translating errors (see
        :func:`spate.common.exceptions.from_rpc_error`)."""
        try:
            return method(request, metadata=self._metadata, timeout=timeout)
        except grpc.RpcError as err:
            raise from_rpc_error(err, self.grpc_address) from None

    def close(self) -> None:
        """Close both clients."""
        self.channel.close()
        self.flight.close()
