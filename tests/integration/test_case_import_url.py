"""`mastery import case URL` (issue 13, item 2: FILE_OR_URL) against a real
HTTP server on a local port (http.server in a thread): the package fetched
imports as the file does; a 404, a closed port, an HTML page, a body over
the size cap and a server that does not answer in time are each one line,
exit 2, nothing stored."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services import case_source
from tests.integration.case_support import (
    DEFAULT_RULE,
    PACKAGE,
    RULES,
    catalog_at,
    head_of,
    import_case,
)


class _Handler(SimpleHTTPRequestHandler):
    def do_GET(self) -> None:
        # The slow page's reader has given up by the time it is sent: keep the test output clean.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            if self.path == "/slow.json":
                time.sleep(3)  # longer than the timeout the test sets
            super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep the test output clean


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    """A web site serving the package, an HTML page and a slow copy, on a free port."""
    (tmp_path / "lincoln-math.json").write_bytes(PACKAGE.read_bytes())
    (tmp_path / "slow.json").write_bytes(PACKAGE.read_bytes())
    (tmp_path / "viewer.html").write_text("<html><body>Sign in to see the framework</body></html>")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_package_at_a_url_imports_as_the_file_does(case_store: TestClient, site: str) -> None:
    done = import_case(f"{site}/lincoln-math.json", "--rules", RULES, "--rule", DEFAULT_RULE)
    assert done.exit_code == 0, done.output
    assert "9 objectives from 'Lincoln Unified Mathematics Competencies': 9 created" in done.stdout
    head = head_of(case_store)
    assert len(catalog_at(case_store, head)) == 9
    from_file = import_case(PACKAGE, "--rules", RULES, "--rule", DEFAULT_RULE)
    assert "0 created, 0 changed, 9 unchanged" in from_file.stdout  # the same objectives
    assert head_of(case_store) == head


def _refused(case_store: TestClient, source: str) -> str:
    head = head_of(case_store)
    done = import_case(source, "--rule", DEFAULT_RULE)
    assert (done.exit_code, done.stdout) == (2, ""), done.output
    assert head_of(case_store) == head  # nothing stored
    # The CLI's own lines only: in this process, a thread of an earlier test
    # (a Kafka client of the distributed backend winding down) may log a
    # warning while the runner holds stderr, as it did once in a whole-suite run.
    (line,) = [said for said in done.stderr.splitlines() if said.startswith("mastery: ")]
    return line


def test_a_url_with_nothing_there_is_one_line(case_store: TestClient, site: str) -> None:
    assert _refused(case_store, f"{site}/gone.json") == (
        f"mastery: {site}/gone.json answered 404 File not found: no package there"
    )


def test_a_closed_port_is_one_line(case_store: TestClient) -> None:
    with socket.socket() as s:  # a port nobody listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    line = _refused(case_store, f"http://127.0.0.1:{port}/lincoln-math.json")
    assert line.startswith(f"mastery: cannot reach http://127.0.0.1:{port}/lincoln-math.json: ")


def test_a_page_that_is_not_json_is_one_line(case_store: TestClient, site: str) -> None:
    line = _refused(case_store, f"{site}/viewer.html")
    assert line.startswith(f"mastery: {site}/viewer.html answered text/html, not JSON (")
    assert line.endswith("): no CASE package there")


def test_a_body_over_the_cap_is_refused(
    case_store: TestClient, site: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(case_source, "MAX_BYTES", 1024 * 1024 // 2)  # the fixture is smaller
    assert import_case(f"{site}/lincoln-math.json", "--rule", DEFAULT_RULE, "--check").exit_code == 0
    monkeypatch.setattr(case_source, "MAX_BYTES", 1000)
    line = _refused(case_store, f"{site}/lincoln-math.json")
    assert line.startswith(f"mastery: {site}/lincoln-math.json answered more than ")


def test_a_server_that_does_not_answer_in_time_is_one_line(
    case_store: TestClient, site: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(case_source, "TIMEOUT_SECONDS", 0.5)
    assert (
        _refused(case_store, f"{site}/slow.json") == f"mastery: {site}/slow.json did not answer within 0.5 s"
    )
