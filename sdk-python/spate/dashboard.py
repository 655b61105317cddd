"""Where the web dashboard is: :func:`dashboard_url`.

The dashboard is served by the same server as the REST API, under ``/ui/``.
Sign in there with your API key (it is pasted once into the page, never put
in the URL).
"""

from __future__ import annotations

from .common.env import CONFIG

__all__ = ["dashboard_url"]


def dashboard_url(quiet: bool = False) -> str:
    """Return the web dashboard's URL for the configured backend and print it.

    Parameters
    ----------
    quiet
        Do not print; only return the URL.

    Examples
    --------

    >>> import spate as tb
    >>> from spate.common.env import CONFIG
    >>> CONFIG.set_backend_server("http://localhost:8500/")
    >>> tb.dashboard_url()
    Spate dashboard: http://localhost:8500/ui/ (sign in with your API key)
    'http://localhost:8500/ui/'

    """
    url = CONFIG.BACKEND_SERVER_ADDRESS.rstrip("/") + "/ui/"
    if not quiet:
        print(f"Spate dashboard: {url} (sign in with your API key)")
    return url
