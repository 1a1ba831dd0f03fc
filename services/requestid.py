"""The id of the request being served: in its X-Request-ID header, in every
problem+json body, in the log line of an unexpected error, and in the
metadata of the events it stores."""

from __future__ import annotations

import os
import re
from contextvars import ContextVar, Token

HEADER = "X-Request-ID"
# What a client may choose: enough for a UUID, a trace id or "job-42/7", and
# nothing that could forge a log line or a header (no spaces, no controls).
_SANE = re.compile(r"[A-Za-z0-9._:/+=@-]{1,128}")

_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def choose(client_supplied: bytes | None) -> str:
    """The client's id if it is sane, else a new one."""
    if client_supplied is not None:
        text = client_supplied.decode("latin-1")
        if _SANE.fullmatch(text):
            return text
    return os.urandom(16).hex()  # a UUID4's randomness, at a third of uuid4's cost


def current() -> str | None:
    """The id of the request this code serves (None outside a request)."""
    return _current.get()


def bind(request_id: str) -> Token[str | None]:
    """Make `request_id` current; hand the result to `unbind` when the request ends."""
    return _current.set(request_id)


def unbind(token: Token[str | None]) -> None:
    _current.reset(token)
