"""Schemathesis against `mastery serve`, on both stores (issue 10): whatever a
client sends, allowed by the OpenAPI document or not, the service answers
without a server error, and with a status, content type, headers and body that
the document declares.

One real process per store (embedded SQLite in a tmp data dir; PostgreSQL in a
fresh database), seeded with a school, a class, students, objectives and a mix
of learning events, so that generated requests can name things that exist.
Schemathesis reads the schema the running service serves at /openapi.json and
sends every request with the bootstrap (admin) token.

It runs as `schemathesis run` does, all four phases: the schema's examples;
coverage (the edges and the invalid values of every parameter and body field,
unexpected methods); fuzzing (valid and invalid requests, a bounded number per
operation); and stateful sequences that follow the links Schemathesis infers
between operations (a PUT's id into the GETs that read it). It runs as the
CLI, in a process of its own: the pytest loader for a schema that exists only
once a fixture has started the service (`schemathesis.pytest.from_fixture`)
fails on pytest 9.2 ('Function' object has no attribute '_nodeid').

Runs are reproducible: generation is deterministic (Hypothesis derandomized,
no examples database, no cache), one worker, a fixed number of examples, the
seeded data the same every time; the coverage and fuzzing phases send the
same requests run after run. The stateful phase carries values from responses
into the requests that follow (that is its point), so where those differ from
run to run (a recorded_at taken as an `as_of`) its requests do too. A
valid `min_position` is held to one the read models reached (see
schemathesis_hooks.py). A failure prints Schemathesis' report: each failing
case with its check, the response and a curl line that reproduces it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.schemathesis_hooks import REACHED_ENV
from tests.e2e.serve_process import TOKEN, Server, ok, post, wait_projected
from tests.e2e.workload import OBJECTIVES, Workload, seed
from tests.services import fresh_postgres_database

SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
HOOKS_ENV, HOOKS = "SCHEMATHESIS_HOOKS", str(Path(__file__).with_name("schemathesis_hooks.py"))
STUDENTS = ["s00", "s01", "s02", "s03"]
SCHOOL, CLASS = "sch1", "c1"
EVENTS = 120
# A hang, not a bound (the bound is the number of examples; a run takes about a
# minute): below pytest's timeout, so that the schemathesis process is killed.
RUN_TIMEOUT = 200

# The run's configuration, as a schemathesis.toml would hold it; the test
# writes it, filled in, into its tmp dir. Ids that exist are given half the
# time (the other half: whatever the schema allows, mostly unknown ids).
CONFIG = """\
seed = 20261201
headers = {{ Authorization = "Bearer {token}" }}
workers = 1
request-timeout = 30

# Nothing carried over from one run to the next, nor taken from responses
# (timestamps, request ids) into the requests that follow: the same code sends
# the same requests.
[cache]
enabled = false

[phases.coverage.extra-data-sources]
responses = false

[phases.fuzzing.extra-data-sources]
responses = false

[generation]
deterministic = true
database = "none"
# Per operation and generation mode, in fuzzing. The coverage phase (its
# cases follow from the schema, about 1,500 here) comes on top.
max-examples = 25

# Sequences of up to 8 calls along the inferred links, 60 of them.
[phases.stateful]
max-steps = 8

[phases.stateful.generation]
max-examples = 60

# Every check Schemathesis has, but one: positive_data_acceptance expects a 2xx
# for every request the schema allows, and the contract refuses some of those
# with 422 on purpose (a batch naming an unknown student or objective, a
# retake of an attempt that does not exist: CONTRACT.md §2), which no JSON
# Schema can say. (max_response_time is off unless given a limit.)
[checks]
enabled = true
positive_data_acceptance = {{ enabled = false }}

[dictionaries]
students = {{ values = {students} }}
objectives = {{ values = {objectives} }}
schools = {{ values = {schools} }}
classes = {{ values = {classes} }}
events = {{ values = {events} }}

[parameters]
"path.student_id" = {{ dictionary = "students", probability = 0.5 }}
"path.objective_id" = {{ dictionary = "objectives", probability = 0.5 }}
"path.school_id" = {{ dictionary = "schools", probability = 0.5 }}
"path.class_id" = {{ dictionary = "classes", probability = 0.5 }}
"query.class_id" = {{ dictionary = "classes", probability = 0.5 }}
"query.school_id" = {{ dictionary = "schools", probability = 0.5 }}
"body.school_id" = {{ dictionary = "schools", probability = 0.5 }}
"body.student_ids[*]" = {{ dictionary = "students", probability = 0.5 }}
"body.prerequisites[*]" = {{ dictionary = "objectives", probability = 0.5 }}
"body.events[*].student_id" = {{ dictionary = "students", probability = 0.5 }}
"body.events[*].objective_id" = {{ dictionary = "objectives", probability = 0.5 }}
"body.events[*].results[*].objective_id" = {{ dictionary = "objectives", probability = 0.5 }}
"body.events[*].on_event" = {{ dictionary = "events", probability = 0.5 }}
"body.events[*].retake_of" = {{ dictionary = "events", probability = 0.5 }}
"body.events[*].target_event_id" = {{ dictionary = "events", probability = 0.5 }}
"""


@dataclass(frozen=True)
class Seeded:
    base: str
    position: int  # of the log after seeding, which the read models have reached
    event_ids: list[str]


def _fixed_ids(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The batch with ids numbered instead of random (uuid4), references
    renamed alike: every run generates the same requests."""
    renamed = {e["event_id"]: str(uuid.UUID(int=i + 1)) for i, e in enumerate(batch)}
    refs = ("event_id", "retake_of", "on_event", "target_event_id")
    return [
        {
            **e,
            **{k: renamed[e[k]] for k in refs if k in e},
            **({"benchmark_id": f"b{i}"} if "benchmark_id" in e else {}),
        }
        for i, e in enumerate(batch)
    ]


def _seed(server: Server) -> Seeded:
    with server.start() as http:
        seed(http, STUDENTS)
        batch = _fixed_ids(Workload(STUDENTS, seed=20261201).batch(EVENTS))
        position = int(post(http, batch)["position"])
        wait_projected(http, position)
    return Seeded(server.base, position, [e["event_id"] for e in batch])


@pytest.fixture(params=["sqlite", "postgres"])
def seeded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Seeded]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTERY_")}
    env["MASTERY_BOOTSTRAP_TOKEN"] = TOKEN
    if request.param == "sqlite":
        server = Server(env, tmp_path / "data")
        try:
            yield _seed(server)
        finally:
            server.stop()
    else:
        with fresh_postgres_database() as url:
            server = Server({**env, "MASTERY_DATABASE_URL": url}, tmp_path / "data")
            try:
                yield _seed(server)
            finally:
                server.stop()  # before the database is dropped


def test_schemathesis_finds_nothing(seeded: Seeded, tmp_path: Path) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        CONFIG.format(
            token=TOKEN,
            students=json.dumps(STUDENTS),
            objectives=json.dumps(list(OBJECTIVES)),
            schools=json.dumps([SCHOOL]),
            classes=json.dumps([CLASS]),
            events=json.dumps(seeded.event_ids),
        )
    )
    env = {**os.environ, HOOKS_ENV: HOOKS, REACHED_ENV: str(seeded.position)}
    done = subprocess.run(
        [
            SCHEMATHESIS,
            "--config-file",
            str(config),
            "--no-color",
            "run",
            f"{seeded.base}/openapi.json",
        ],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
        env=env,
        cwd=tmp_path,  # where it may write its reports, if any
    )
    found = [f"{done.stdout}\n{done.stderr}"] if done.returncode != 0 else []
    found += _projections_stuck(seeded)
    if found:
        pytest.fail("\n".join(found), pytrace=False)
    print(done.stdout)  # what ran, for `pytest -rP`


def _projections_stuck(seeded: Seeded) -> list[str]:
    """Whatever Schemathesis got stored must not stop the read models: a write
    after the run is projected (reads never wait beyond the seeded position
    during the run, so a stuck projection would go unseen there)."""
    with httpx.Client(base_url=seeded.base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as http:
        after = ok(http.put("/v1/schools/after-schemathesis", json={"name": "After"}), 200, 201)
        try:
            wait_projected(http, int(after["position"]), timeout=30)
        except AssertionError as e:
            return [f"after the run, the read models do not advance: {e}"]
    return []
