"""Plumbing shared by the whole SDK: the backend's addresses
(:mod:`spate.common.env`), the REST client and credentials
(:mod:`spate.common.api`), the gRPC/Flight clients
(:mod:`spate.common.connection`), the exceptions and :func:`init`."""

from . import api, env
from .exceptions import (
    ApiException,
    AuthenticationError,
    BackendConnectionError,
    NotFoundException,
    NotInitializedError,
)
from .session import User, get_user_info, init, login

__all__ = [
    "api",
    "env",
    "init",
    "login",
    "get_user_info",
    "User",
    "ApiException",
    "AuthenticationError",
    "BackendConnectionError",
    "NotFoundException",
    "NotInitializedError",
]
