"""Where the backend lives: :data:`CONFIG` holds the addresses of the REST
backend, the Arrow Flight server and the gRPC control plane.

The backend address starts from the ``SPATE_BACKEND_URL`` environment
variable (default ``http://localhost:8500``); :func:`spate.init` sets it and
discovers the others from ``GET /api/service/endpoints``.
"""

from __future__ import annotations

import os

__all__ = ["Config", "CONFIG"]


class Config:
    """Addresses of the Spate services.

    Examples
    --------

    >>> cfg = Config(backend_url="http://localhost:8500/")
    >>> cfg.BACKEND_SERVER_ADDRESS
    'http://localhost:8500'
    >>> cfg.set_arrow_server("grpc+tcp://localhost:8502")
    >>> cfg.ARROW_SERVER_ADDRESS, cfg.GRPC_SERVER_ADDRESS
    ('grpc+tcp://localhost:8502', 'localhost:8502')

    """

    def __init__(self, backend_url: str | None = None) -> None:
        self.BACKEND_SERVER_ADDRESS = ""
        self.set_backend_server(backend_url or os.environ.get("SPATE_BACKEND_URL") or "http://localhost:8500")
        self.ARROW_SERVER_ADDRESS = "grpc+tcp://localhost:8502"
        self.FEATURE_SERVER_ADDRESS = "grpc+tcp://localhost:8502"
        self.GRPC_SERVER_ADDRESS = "localhost:8502"
        self.CA_FILE: str | None = os.environ.get("SPATE_CA_FILE") or None

    @property
    def TLS(self) -> bool:  # noqa: N802 - matches the other settings
        """Whether the backend is reached over TLS (an ``https://`` backend
        URL): REST over HTTPS, gRPC and Arrow Flight over TLS."""
        return self.BACKEND_SERVER_ADDRESS.startswith("https://")

    def set_tls(self, tls: bool, ca_file: str | None = None) -> None:
        """Use TLS (``tls=True`` turns an ``http://`` backend URL into
        ``https://``) and trust the PEM certificates in ``ca_file`` instead
        of the system's (for a self-signed or private CA)."""
        if tls and self.BACKEND_SERVER_ADDRESS.startswith("http://"):
            self.BACKEND_SERVER_ADDRESS = "https://" + self.BACKEND_SERVER_ADDRESS[len("http://"):]
        if ca_file is not None:
            if not os.path.isfile(ca_file):
                raise ValueError(f"ca_file {ca_file!r} is not a readable file of PEM certificates")
            self.CA_FILE = ca_file

    def set_backend_server(self, url: str) -> None:
        """Set the REST backend's base URL (``http://host:port``)."""
        url = url.strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"backend URL {url!r} must start with http:// or https://")
        self.BACKEND_SERVER_ADDRESS = url

    def set_arrow_server(self, address: str) -> None:
        """Set the Arrow Flight address (``grpc+tcp://host:port``); the gRPC
        control plane shares its port."""
        self.ARROW_SERVER_ADDRESS = address
        self.GRPC_SERVER_ADDRESS = address.split("://", 1)[-1]

    def set_feature_server(self, address: str) -> None:
        """Set the feature server's Arrow Flight address."""
        self.FEATURE_SERVER_ADDRESS = address

    # The names TurboML scripts use.
    @property
    def TURBOML_BACKEND_SERVER_ADDRESS(self) -> str:  # noqa: N802 - compatible name
        return self.BACKEND_SERVER_ADDRESS

    def __repr__(self) -> str:
        return (
            f"Config(backend={self.BACKEND_SERVER_ADDRESS!r}, arrow={self.ARROW_SERVER_ADDRESS!r}, "
            f"grpc={self.GRPC_SERVER_ADDRESS!r})"
        )


CONFIG = Config()
"""The addresses the SDK uses; :func:`spate.init` fills them in."""
