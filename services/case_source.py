"""Where `mastery import case` reads a package from: a local file, or an
http(s) URL (a CASE provider's CFPackages endpoint, a package published on a
web site) fetched with httpx.

A URL that cannot be read is one clear line (`SourceUnreadable`): no answer,
an answer other than 200, a body over the size cap or not JSON. Nothing is
stored then: the package is only read, and the import checks it whole before
it writes anything.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

# A whole state's standards are a few MB; the cap only keeps a wrong URL (a
# video, an endless stream) from filling memory.
MAX_BYTES = 64 * 1024 * 1024
# Connecting and each read wait at most this long, and so does the whole
# download: a server that trickles bytes cannot hold the import forever.
TIMEOUT_SECONDS = 30.0


class SourceUnreadable(Exception):
    """The package could not be read; the message is one line naming why."""


def is_url(source: str) -> bool:
    return urlsplit(source).scheme.lower() in ("http", "https")


def read_source(source: str) -> bytes:
    """The bytes of the package at `source`: a URL if it starts http:// or https://, else a path."""
    if is_url(source):
        return fetch(source)
    try:
        return Path(source).read_bytes()
    except OSError as e:
        raise SourceUnreadable(f"cannot read the package {source}: {e.strerror or e}") from None


def fetch(url: str) -> bytes:
    deadline = time.monotonic() + TIMEOUT_SECONDS
    headers = {"Accept": "application/json"}
    try:
        with httpx.stream(
            "GET", url, headers=headers, timeout=TIMEOUT_SECONDS, follow_redirects=True
        ) as answer:
            if answer.status_code != 200:
                raise SourceUnreadable(
                    f"{url} answered {answer.status_code} {answer.reason_phrase}: no package there"
                )
            declared = answer.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_BYTES:
                raise SourceUnreadable(_too_large(url))
            body = bytearray()
            for chunk in answer.iter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise SourceUnreadable(_too_large(url))
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("the whole download took too long")
            kind = answer.headers.get("content-type", "no content type")
    except httpx.TimeoutException:
        raise SourceUnreadable(f"{url} did not answer within {TIMEOUT_SECONDS:g} s") from None
    except httpx.InvalidURL as e:
        raise SourceUnreadable(f"{url} is not a URL that can be fetched: {e}") from None
    except httpx.HTTPError as e:
        raise SourceUnreadable(f"cannot reach {url}: {e or type(e).__name__}") from None
    try:
        json.loads(body)
    except ValueError as e:
        # Often a sign-in or viewer page: say what came back, not only that it failed.
        raise SourceUnreadable(f"{url} answered {kind}, not JSON ({e}): no CASE package there") from None
    return bytes(body)


def _too_large(url: str) -> str:
    return f"{url} answered more than {MAX_BYTES:,} bytes: stopped reading, nothing was imported"
