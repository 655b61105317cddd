"""HTTP access to the Spate backend, with TurboML's conventions: ``api.get``,
``api.post``, ``api.put``, ``api.patch`` and ``api.delete`` call
``{backend}/api/{endpoint}`` with the credentials in ``headers`` and raise
:class:`ApiException` (``NotFoundException`` for 404, ``AuthenticationError``
for 401) on any non-2xx answer.

``api`` is the process-wide client that :func:`spate.init` configures; it
also owns the gRPC and Arrow Flight clients (:attr:`Api.connection`).
"""

from __future__ import annotations

import json as _json
import os
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any, Mapping

from .connection import Connection
from .env import CONFIG, Config
from .exceptions import (
    ApiException,
    AuthenticationError,
    BackendConnectionError,
    NotFoundException,
    NotInitializedError,
)

__all__ = [
    "Api",
    "Response",
    "api",
    "ApiException",
    "NotFoundException",
    "AuthenticationError",
    "BackendConnectionError",
]


class Response:
    """A completed HTTP exchange (the parts of ``requests.Response`` that
    scripts use).

    Examples
    --------

    >>> r = Response(200, b'{"rows": 2}', {"Content-Type": "application/json"})
    >>> r.ok, r.json()["rows"]
    (True, 2)

    """

    def __init__(self, status_code: int, content: bytes, headers: Mapping[str, str]) -> None:
        self.status_code = status_code
        self.content = content
        self.headers = dict(headers)

    @property
    def ok(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status_code < 300

    @property
    def text(self) -> str:
        """The body as text."""
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON."""
        return _json.loads(self.content)

    def __repr__(self) -> str:
        return f"<Response [{self.status_code}]>"


# REST retries: a request the server did not process (connection refused,
# 429 rate limit, 503 credentials store unavailable) is sent again up to
# _RETRIES times, waiting _BACKOFF·2^n seconds or the server's Retry-After
# (at most _MAX_WAIT); reads are also retried after 502/504 from a proxy.
_RETRIES = 3
_BACKOFF = 0.2
_MAX_WAIT = 5.0
_NOT_PROCESSED = {429, 503}
_READ_RETRY = {429, 502, 503, 504}


def _retry_wait(method: str, status: int, headers: Mapping[str, str] | None, attempt: int) -> float | None:
    """Seconds to wait before resending after an HTTP error, or None to
    give up."""
    retry = _READ_RETRY if method in ("GET", "HEAD", "OPTIONS") else _NOT_PROCESSED
    if status not in retry or attempt >= _RETRIES:
        return None
    wait = _BACKOFF * 2**attempt
    after = (headers or {}).get("Retry-After")
    if after:
        try:
            wait = max(wait, float(after))
        except ValueError:
            pass
    return min(wait, _MAX_WAIT)


def _safe_to_resend(method: str, reason: object) -> bool:
    """Whether a request that failed on the connection can be sent again
    without risking doing it twice: always for reads, and for writes only
    when the connection was refused (nothing was sent)."""
    if method in ("GET", "HEAD", "OPTIONS"):
        return True
    return isinstance(reason, ConnectionRefusedError)


def _detail(status: int, content: bytes) -> str:
    try:
        body = _json.loads(content)
    except ValueError:
        body = None
    if isinstance(body, dict) and "detail" in body:
        return str(body["detail"])
    text = content.decode("utf-8", errors="replace").strip()
    return text or f"HTTP {status}"


class Api:
    """Client of the backend's REST API, and holder of the credentials and
    of the gRPC/Flight :class:`~spate.common.connection.Connection`.

    Parameters
    ----------
    config
        Where the backend lives.
    api_key
        The API key; defaults to the ``SPATE_API_KEY`` environment variable.
    timeout
        Seconds to wait for each HTTP answer.

    """

    def __init__(self, config: Config = CONFIG, api_key: str | None = None, timeout: float = 60.0) -> None:
        self.config = config
        self.timeout = timeout
        self._api_key: str | None = api_key or os.environ.get("SPATE_API_KEY") or None
        self._connection: Connection | None = None

    # Credentials -----------------------------------------------------------

    def set_api_key(self, api_key: str) -> None:
        """Use ``api_key`` from now on (drops any open gRPC/Flight clients)."""
        if not api_key or not api_key.strip():
            raise ValueError("the API key is empty: pass api_key= or set SPATE_API_KEY")
        self._api_key = api_key.strip()
        self.close()

    @property
    def authorization(self) -> str:
        """The value of the ``authorization`` header."""
        if not self._api_key:
            raise NotInitializedError(
                "no API key: call spate.init(backend_url=..., api_key=...) or set SPATE_API_KEY"
            )
        return f"apiKey {self._api_key}"

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers that authenticate a request (a fresh dict)."""
        return {"Authorization": self.authorization}

    @property
    def arrow_headers(self) -> list[tuple[bytes, bytes]]:
        """The same credentials as Arrow Flight call headers."""
        return [(b"authorization", self.authorization.encode())]

    # REST ------------------------------------------------------------------

    def request(
        self,
        method: str,
        endpoint: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        data: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        exclude_auth: bool = False,
    ) -> Response:
        """Send ``method {backend}/api/{endpoint}``.

        Raises :class:`ApiException` (or a subclass) for a non-2xx answer and
        :class:`BackendConnectionError` when the backend cannot be reached.
        """
        url = f"{self.config.BACKEND_SERVER_ADDRESS}/api/{endpoint.lstrip('/')}"
        return self.request_url(method, url, json=json, params=params, data=data, headers=headers,
                                exclude_auth=exclude_auth)

    def request_url(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        data: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        exclude_auth: bool = False,
    ) -> Response:
        """Send ``method url`` (an absolute URL of the backend, e.g. a model
        endpoint outside ``/api``) with the credentials; errors as
        :meth:`request`."""
        if params:
            url += "?" + urllib.parse.urlencode(params)
        hdrs: dict[str, str] = {"Accept": "application/json", "Idempotency-Key": uuid.uuid4().hex}
        if not exclude_auth:
            hdrs.update(self.headers)
        body: bytes | None = None
        if json is not None:
            body = _json.dumps(json).encode()
            hdrs["Content-Type"] = "application/json"
        elif data is not None:
            body = data.encode() if isinstance(data, str) else data
        if headers:
            hdrs.update(headers)
        method = method.upper()
        deadline = time.monotonic() + self.max_backpressure_wait
        backoff = 0.05
        attempt = 0
        while True:
            req = urllib.request.Request(url, data=body, headers=hdrs, method=method)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout, context=self._ssl_context()) as resp:
                    return Response(resp.status, resp.read(), resp.headers)
            except urllib.error.HTTPError as err:
                content = err.read()
                if err.code == 429:
                    # Backpressure or a rate limit: the server refused the
                    # request before processing it. Wait as long as it asks
                    # (Retry-After), backing off, and send it again until
                    # max_backpressure_wait runs out.
                    wait = _retry_after(err.headers, backoff)
                    if time.monotonic() + wait > deadline:
                        raise ApiException(_detail(err.code, content), err.code) from None
                    time.sleep(wait)
                    backoff = min(backoff * 2, 5.0)
                    continue
                wait = _retry_wait(method, err.code, err.headers, attempt)
                if wait is not None:
                    attempt += 1
                    time.sleep(wait)
                    continue
                try:
                    self._raise_http(err.code, content)
                except ApiException as e:
                    raise e from None
            except (urllib.error.URLError, socket.timeout, ConnectionError) as err:
                reason = getattr(err, "reason", err)
                if attempt < _RETRIES and _safe_to_resend(method, reason):
                    time.sleep(_BACKOFF * 2**attempt)
                    attempt += 1
                    continue
                raise BackendConnectionError(
                    f"cannot reach the Spate backend at {self.config.BACKEND_SERVER_ADDRESS}: {reason}"
                ) from None

    #: Longest total time a request waits out HTTP 429 (backpressure or the
    #: per-key rate limit) before the error is raised.
    max_backpressure_wait: float = 300.0

    def _ssl_context(self) -> ssl.SSLContext | None:
        """The TLS settings for an https:// backend: the certificates of
        ``CONFIG.CA_FILE`` when set, else the system's."""
        if not self.config.TLS:
            return None
        return ssl.create_default_context(cafile=self.config.CA_FILE)

    @staticmethod
    def _raise_http(code: int, content: bytes) -> None:
        """Raise the exception of a non-2xx answer."""
        detail = _detail(code, content)
        if code == 404:
            raise NotFoundException(detail)
        if code == 401:
            raise AuthenticationError(detail)
        raise ApiException(detail, code)

    def predict(self, model_name: str, row: Mapping[str, Any]) -> dict[str, Any]:
        """Synchronous inference: ``POST {backend}/model/{model_name}/predict``
        with one raw row; returns the output (key, score, predicted_class,
        class_probabilities, model_version, ...). ``model_name`` may be an
        alias set by ``DeployedModel.promote``."""
        url = f"{self.config.BACKEND_SERVER_ADDRESS}/model/{urllib.parse.quote(model_name, safe='')}/predict"
        return self.request_url("POST", url, json=dict(row)).json()

    def get(self, endpoint: str, **kwargs: Any) -> Response:
        """``GET {backend}/api/{endpoint}``; see :meth:`request`."""
        return self.request("GET", endpoint, **kwargs)

    def post(self, endpoint: str, **kwargs: Any) -> Response:
        """``POST {backend}/api/{endpoint}``; see :meth:`request`."""
        return self.request("POST", endpoint, **kwargs)

    def put(self, endpoint: str, **kwargs: Any) -> Response:
        """``PUT {backend}/api/{endpoint}``; see :meth:`request`."""
        return self.request("PUT", endpoint, **kwargs)

    def patch(self, endpoint: str, **kwargs: Any) -> Response:
        """``PATCH {backend}/api/{endpoint}``; see :meth:`request`."""
        return self.request("PATCH", endpoint, **kwargs)

    def delete(self, endpoint: str, **kwargs: Any) -> Response:
        """``DELETE {backend}/api/{endpoint}``; see :meth:`request`."""
        return self.request("DELETE", endpoint, **kwargs)

    # gRPC + Flight ---------------------------------------------------------

    def discover(self) -> None:
        """Ask the backend where its gRPC and Flight servers are
        (``GET /api/service/endpoints``) and record them in the config."""
        eps = self.get("service/endpoints").json()
        arrow = eps.get("arrow_server")
        if not arrow:
            raise ApiException(f"the backend at {self.config.BACKEND_SERVER_ADDRESS} advertises no arrow_server", 500)
        self.config.set_arrow_server(arrow)
        self.config.set_feature_server(eps.get("feature_server") or arrow)
        if eps.get("grpc"):
            self.config.GRPC_SERVER_ADDRESS = eps["grpc"]

    @property
    def connection(self) -> Connection:
        """The gRPC and Flight clients, opened on first use (discovering the
        addresses when :func:`spate.init` has not done it)."""
        if self._connection is None:
            auth = self.authorization
            self.discover()
            arrow = self.config.ARROW_SERVER_ADDRESS
            if self.config.TLS and arrow.startswith("grpc+tcp://"):
                arrow = "grpc+tls://" + arrow[len("grpc+tcp://"):]
            root_certs = None
            if self.config.CA_FILE:
                with open(self.config.CA_FILE, "rb") as f:
                    root_certs = f.read()
            self._connection = Connection(self.config.GRPC_SERVER_ADDRESS, arrow, auth, root_certs=root_certs)
        return self._connection

    def close(self) -> None:
        """Close the gRPC and Flight clients, if open."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None


api = Api()
"""The process-wide client; :func:`spate.init` sets its key and addresses."""


def __getattr__(name: str) -> Any:
    # ``spate.common.api.headers`` reads the current credentials.
    if name == "headers":
        return api.headers
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _retry_after(headers: Any, fallback: float) -> float:
    """The delay a 429 answer asks for (Retry-After in seconds, or the
    retry_after_seconds of its JSON detail), at least ``fallback``."""
    try:
        ra = float(headers.get("Retry-After", "") or 0)
    except (TypeError, ValueError):
        ra = 0.0
    return max(ra, fallback)
