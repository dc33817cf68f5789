"""Outgoing webhooks to channel systems."""

from __future__ import annotations

import urllib.error
import urllib.request

TIMEOUT_SECONDS = 10


def post(url: str, body: bytes, headers: dict[str, str]) -> str | None:
    """POST the body; None on a 2xx answer, else what went wrong."""
    if not url.startswith(("https://", "http://")):
        return f"reply endpoint is not an http(s) URL: {url[:60]}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - scheme checked
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - scheme checked
            response.read(1024)
            return None
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code} from the channel"
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        return f"could not reach the channel: {error}"
