"""An invalid parameter is refused at once, before a read waits on
`min_position`: 422 naming it, not a 503 after the wait (found by Schemathesis)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.helpers import seed_roster

FAR = 10**12  # a position the read models will not reach: a read waits for it, then 503


@pytest.mark.parametrize(
    ("path", "params", "loc"),
    [
        ("/v1/students/s1/mastery", {"known_at": "yesterday"}, ["query", "known_at"]),
        ("/v1/students/s1/history", {"as_of": "soon"}, ["query", "as_of"]),
        ("/v1/students/s1/trajectory", {"interval": "month"}, ["query", "interval"]),
        ("/v1/contradictions", {"include_resolved": "perhaps"}, ["query", "include_resolved"]),
        (f"/v1/students/{'s' * 300}/mastery", {}, ["path", "student_id"]),
    ],
    ids=["known_at", "as_of", "interval", "include_resolved", "long id"],
)
def test_an_invalid_parameter_is_refused_before_the_wait(
    client: TestClient, path: str, params: dict[str, str], loc: list[str]
) -> None:
    seed_roster(client)
    r = client.get(path, params={**params, "min_position": FAR})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["loc"] for e in r.json()["errors"]] == [loc]


def test_each_error_is_named_once(client: TestClient) -> None:
    # min_position is a parameter of the read session every read depends on,
    # twice in the mastery route's tree (through the student's visibility too).
    r = client.get("/v1/students/s1/mastery", params={"min_position": -1, "as_of": "x"})
    assert r.status_code == 422, r.text
    assert sorted(e["loc"][1] for e in r.json()["errors"]) == ["as_of", "min_position"]
