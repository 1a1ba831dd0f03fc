"""The hostile-input corpus (issue 10): nothing a client sends can stop the store.

One table of requests: every input the issue found accepted though the
contract refuses it, every poison write, and both sides of every stated limit
of docs/input-rules.md (at the limit accepted, one past refused). A refusal
must be its 4xx, as problem+json naming the field, and store nothing (the
log's head and the event index unchanged). After the whole corpus the read
models must still advance. Then every accepted edge input goes through the
live projections and through `mastery rebuild`, which must agree row for row.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import (
    RULE_9_OF_10,
    attempt,
    ledger_of,
    post,
    seed_roster,
)
from tests.integration import hostile_corpus_contract, hostile_corpus_limits, hostile_corpus_shapes
from tests.integration.hostile_cases import (
    EARLIER,
    MASTERY,
    PERCENT,
    PREREQUISITES,
    RUBRIC,
    Case,
    Raw,
    objective,
)

CASES = {**hostile_corpus_contract.CASES, **hostile_corpus_limits.CASES, **hostile_corpus_shapes.CASES}
# No name may be in two parts: a later one would hide an earlier one.
assert len(CASES) == sum(
    len(m.CASES) for m in (hostile_corpus_contract, hostile_corpus_limits, hostile_corpus_shapes)
)


def _stored(c: TestClient) -> tuple[int, int]:
    store = ledger_of(c).store
    return store.head_position(), store.indexed.count_index()


def _send(c: TestClient, case: Case) -> Any:
    kwargs: dict[str, Any] = {"params": case.params}
    if isinstance(case.body, Raw):
        kwargs["content"] = case.body.text.encode()
        kwargs["headers"] = {"content-type": "application/json"}
    elif case.body is not None:
        kwargs["json"] = case.body
    return c.request(case.method, case.url, **kwargs)


def _check(c: TestClient, name: str, case: Case) -> str | None:
    """What is wrong with the answer to one case, if anything."""
    before = _stored(c)
    r = _send(c, case)
    if r.status_code != case.status:
        return f"{name}: {r.status_code} (wanted {case.status}): {r.text[:300]}"
    if case.status < 400:
        return None
    if not r.headers["content-type"].startswith("application/problem+json"):
        return f"{name}: {r.headers['content-type']}"
    problem = r.json()
    if problem.get("status") != case.status or not problem.get("title") or not problem.get("detail"):
        return f"{name}: not a whole problem document: {problem}"
    errors = problem.get("errors", [])
    if case.loc is not None and case.loc not in [e["loc"] for e in errors]:
        return f"{name}: no error names {case.loc}: {errors}"
    if case.msg is not None and case.msg not in [e["msg"] for e in errors]:
        return f"{name}: no error says {case.msg!r}: {errors}"
    if _stored(c) != before:
        return f"{name}: refused, but something was stored ({before} -> {_stored(c)})"
    return None


def _seed(c: TestClient) -> None:
    seed_roster(c, objectives={"o1": RULE_9_OF_10, "r1": RUBRIC, "pc": PERCENT})
    for p in PREREQUISITES:
        r = c.put(f"/v1/objectives/{p}", json=objective())
        assert r.status_code == 201, r.text
    post(c, {**attempt(), "event_id": EARLIER})


def test_the_hostile_input_corpus(client: TestClient, backend: str) -> None:
    _seed(client)
    started = time.perf_counter()
    failures = [problem for name, case in CASES.items() if (problem := _check(client, name, case))]
    elapsed = time.perf_counter() - started
    assert not failures, "\n".join(failures)
    refused = sum(1 for case in CASES.values() if case.status >= 400)
    print(f"\n{backend}: {len(CASES)} cases ({refused} refused) in {elapsed:.1f} s")

    # The read models still advance: nothing above stuck a projection.
    out = post(client, attempt(correct=10, at="2026-10-01T09:00:00Z"))
    r = client.get(MASTERY, params={"min_position": out["position"]})
    assert r.status_code == 200, r.text
    row = next(o for o in r.json()["objectives"] if o["objective_id"] == "o1")
    assert row["status"] == "mastered" and row["deciding_event_id"] == out["results"][0]["event_id"]


def test_every_endpoint_refuses_an_unknown_query_parameter(client: TestClient) -> None:
    """Each operation the app serves, found in its OpenAPI document so that a
    new endpoint is held to it too, given one parameter it does not have."""
    _seed(client)
    values = {"student_id": "s1", "class_id": "c1", "school_id": "sch1", "objective_id": "o1"}
    operations = [
        (method.upper(), path.format(**values))
        for path, ops in client.get("/openapi.json").json()["paths"].items()
        for method in ops
    ]
    assert len(operations) >= 19, operations
    failures = []
    for method, url in operations:
        case = Case(method, url, params={"zzz": "1"}, loc=["query", "zzz"])
        if problem := _check(client, f"{method} {url}", case):
            failures.append(problem)
    assert not failures, "\n".join(failures)


def test_the_corpus_covers_every_refusal_kind() -> None:
    """Each stated limit is held from both sides: the table keeps an accepted
    case at the limit next to the refused one past it."""
    accepted = [n for n, c in CASES.items() if c.status < 400]
    refused = [n for n, c in CASES.items() if c.status >= 400]
    assert len(accepted) >= 30 and len(refused) >= 100, (len(accepted), len(refused))
    assert all(c.loc is not None for c in CASES.values() if c.status == 422)
