"""Whether a port can be listened on, asked before a command does anything slow."""

from __future__ import annotations

import errno
import socket


def port_busy(host: str, port: int) -> str | None:
    """Why `host:port` cannot be listened on (one short phrase), or None.

    Bound with SO_REUSEADDR as uvicorn binds, so that a port only left in
    TIME_WAIT by a previous run does not count as busy, while one another
    process listens on does. The probe socket is closed at once; the server
    binds again a moment later (a race only with a process that starts
    listening in between, which then fails uvicorn's own bind).
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        return f"cannot resolve {host!r}: {e.strerror}"
    for family, kind, proto, _, address in infos[:1]:
        with socket.socket(family, kind, proto) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(address)
            except OSError as e:
                if e.errno == errno.EADDRINUSE:
                    return f"port {port} on {host} is already in use"
                return f"cannot listen on {host}:{port}: {e.strerror}"
    return None
