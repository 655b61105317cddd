"""The exceptions the SDK raises, and the translation of gRPC and Arrow Flight
errors into them."""

from __future__ import annotations

import grpc

__all__ = [
    "ApiException",
    "NotFoundException",
    "AuthenticationError",
    "BackendConnectionError",
    "NotInitializedError",
]


class ApiException(Exception):
    """The backend refused a request.

    Parameters
    ----------
    message
        The backend's explanation (the ``detail`` of a REST error, or the
        message of a gRPC status).
    status_code
        The HTTP status code (gRPC errors use the HTTP code of the same
        meaning: 400, 401, 404, 409, 500).

    Examples
    --------

    >>> err = ApiException("row 3, field \\"x\\": not a number", 400)
    >>> err.status_code
    400
    >>> str(err)
    'row 3, field "x": not a number'

    """

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code

    def __repr__(self) -> str:
        return f"{type(self).__name__}(message={self.message!r}, status_code={self.status_code})"


class NotFoundException(ApiException):
    """The named resource (dataset, model, route) does not exist (HTTP 404)."""

    def __init__(self, message: str, status_code: int = 404) -> None:
        super().__init__(message, status_code)


class AuthenticationError(ApiException):
    """The API key (or token) is missing, unknown or revoked (HTTP 401)."""

    def __init__(self, message: str, status_code: int = 401) -> None:
        super().__init__(message, status_code)


class BackendConnectionError(ConnectionError):
    """The backend could not be reached at all (refused, unresolvable,
    timed out). The message names the address that was tried."""


class NotInitializedError(RuntimeError):
    """A call needs the backend but :func:`spate.init` was never called and
    no ``SPATE_BACKEND_URL`` / ``SPATE_API_KEY`` are set."""


_GRPC_TO_HTTP = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}


def from_rpc_error(err: grpc.RpcError, address: str) -> Exception:
    """Translate a gRPC error into the SDK's exceptions.

    INVALID_ARGUMENT and its kin become :class:`ValueError` (bad input the
    caller can fix), UNAUTHENTICATED :class:`AuthenticationError`, NOT_FOUND
    :class:`NotFoundException`, UNAVAILABLE :class:`BackendConnectionError`
    naming ``address``, anything else :class:`ApiException`.
    """
    code = err.code() if callable(getattr(err, "code", None)) else grpc.StatusCode.UNKNOWN
    details = (err.details() if callable(getattr(err, "details", None)) else None) or str(err)
    if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.OUT_OF_RANGE, grpc.StatusCode.FAILED_PRECONDITION):
        return ValueError(details)
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return AuthenticationError(details)
    if code == grpc.StatusCode.NOT_FOUND:
        return NotFoundException(details)
    if code == grpc.StatusCode.UNAVAILABLE:
        return BackendConnectionError(f"cannot reach the Spate gRPC server at {address}: {details}")
    return ApiException(details, _GRPC_TO_HTTP.get(code, 500))
