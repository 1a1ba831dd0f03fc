"""How a serving process logs: plain lines, or one JSON object a line when
MASTERY_LOG_FORMAT=json (CONTRACT.md §1), for a log collector to index.

A JSON line holds `time` (RFC 3339, UTC), `level`, `logger`, `message`, the
process's `role` and `pid`, and `exception` (the formatted traceback) when
there is one. Records go to standard error, from INFO up for our own
loggers (`services.*`, `infra.*`) and WARNING up for libraries.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import UTC, datetime

import orjson

OUR_LOGGERS = ("services", "infra", "bench")


class JsonLines(logging.Formatter):
    def __init__(self, role: str) -> None:
        super().__init__()
        self.role = role

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "role": self.role,
            "pid": os.getpid(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure_logging(log_format: str, role: str) -> None:
    """Replace the root logger's handlers with one to standard error."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonLines(role))
    else:
        handler.setFormatter(logging.Formatter(f"%(asctime)s %(levelname)s {role} %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    for name in OUR_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    # uvicorn's own loggers carry handlers of their own: route them through ours.
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
