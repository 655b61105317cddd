"""Connecting the SDK to a backend: :func:`init` and :func:`get_user_info`."""

from __future__ import annotations

import os
from dataclasses import dataclass

from spate._proto.spate.v1 import spate_pb2

from .api import api
from .env import CONFIG
from .exceptions import AuthenticationError, NotInitializedError

__all__ = ["init", "login", "get_user_info", "User"]


@dataclass(frozen=True)
class User:
    """Who the API key belongs to."""

    id: str
    username: str
    namespace: str
    email: str | None = None


def init(
    backend_url: str | None = None, api_key: str | None = None, tls: bool = False, ca_file: str | None = None
) -> None:
    """Connect the SDK to a Spate backend.

    Checks the key with ``GET /api/user``, discovers the gRPC / Arrow Flight
    address with ``GET /api/service/endpoints`` and opens both clients. Every
    later call (datasets, features, models) goes to this backend.

    Parameters
    ----------
    backend_url
        The REST address, e.g. ``http://localhost:8500``. Defaults to the
        ``SPATE_BACKEND_URL`` environment variable.
    api_key
        An API key (``spk_...``). Defaults to ``SPATE_API_KEY``.
    tls
        Reach a server started with ``--tls-cert/--tls-key``: REST over
        HTTPS, gRPC and Arrow Flight over TLS. An ``https://`` backend URL
        implies it.
    ca_file
        PEM file of the certificate authority (or the self-signed
        certificate) to trust instead of the system's. Defaults to
        ``SPATE_CA_FILE``.

    Raises
    ------
    AuthenticationError
        The key is unknown or revoked.
    BackendConnectionError
        Nothing answers at ``backend_url`` (or at the gRPC address it
        advertises).

    Examples
    --------

    >>> import os, spate
    >>> spate.init(backend_url=os.environ["SPATE_BACKEND_URL"], api_key=os.environ["SPATE_API_KEY"])
    >>> spate.get_user_info().namespace
    'default'

    """
    backend_url = backend_url or os.environ.get("SPATE_BACKEND_URL")
    api_key = api_key or os.environ.get("SPATE_API_KEY")
    if not backend_url:
        raise NotInitializedError("no backend URL: pass backend_url= or set SPATE_BACKEND_URL")
    if not api_key:
        raise NotInitializedError("no API key: pass api_key= or set SPATE_API_KEY")
    CONFIG.set_backend_server(backend_url)
    CONFIG.set_tls(tls, ca_file)
    api.close()
    login(api_key=api_key)
    conn = api.connection
    # The control plane must answer too (it lives on another port).
    conn.call(conn.auth.WhoAmI, spate_pb2.WhoAmIRequest(), timeout=10.0)


def login(api_key: str | None = None, username: str | None = None, password: str | None = None) -> None:
    """Switch to another API key on the current backend, checking it with
    ``GET /api/user``. Spate has no user accounts: ``username`` and
    ``password`` are refused (create keys with ``spate keys create``)."""
    if username is not None or password is not None:
        raise ValueError("Spate authenticates with API keys, not passwords: create one with `spate keys create`")
    api_key = api_key or os.environ.get("SPATE_API_KEY")
    if not api_key:
        raise NotInitializedError("no API key: pass api_key= or set SPATE_API_KEY")
    api.set_api_key(api_key)
    try:
        api.get("user")
    except AuthenticationError as err:
        raise AuthenticationError(
            f"invalid API key for the Spate backend at {CONFIG.BACKEND_SERVER_ADDRESS}: {err.message}"
        ) from None


def get_user_info() -> User:
    """Describe the caller (``GET /api/user``)."""
    body = api.get("user").json()
    return User(
        id=str(body.get("id", "")),
        username=str(body.get("username", "")),
        namespace=str(body.get("namespace", "")),
        email=body.get("email"),
    )
