"""What a pseudonymised export hides: real student ids, names and free text.

For the analyst role always, for others on request (CONTRACT.md §3: analysts
read nothing that names a student).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Payload fields an analyst sees. An allow-list, so a free-text field added to
# an event type later is withheld until someone decides it is safe.
ANALYST_PAYLOAD = frozenset(
    {
        "objective_id",
        "form",
        "evidence",
        "score",
        "duration_seconds",
        "accommodations",
        "items",
        "retake_of",
        "on_event",
        "status",
        "benchmark_id",
        "name",  # a benchmark's name (e.g. "Interim 2"), never a person's
        "results",
        "target_mastered",
        "due",
        "target_event_id",
    }
)


@dataclass(frozen=True)
class Redaction:
    """`pseudonym` maps a student id to its stable pseudonym (services/export/pseudonyms.py)."""

    pseudonym: Callable[[str], str]

    def payload(self, body: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in body.items() if k in ANALYST_PAYLOAD}
        if "items" in out and isinstance(out["items"], list):
            # Per-item results keep their item key and numbers; any other text goes.
            out["items"] = [
                {
                    k: v
                    for k, v in item.items()
                    if k == "item" or (isinstance(v, (int, float, bool)) or v is None)
                }
                for item in out["items"]
                if isinstance(item, dict)
            ]
        return out

    @staticmethod
    def recorded_by(who: str) -> str:
        # "teacher:Ms Rivera" names a person: the analyst sees the role only.
        return who.partition(":")[0]
