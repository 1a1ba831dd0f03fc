"""`mastery demo` as a person runs it (issue 14 item 8): the process started
as `make demo` starts it, the tokens taken from what it PRINTS, each role
signed in through the form and each of its views opened in Chromium. Each
view must show data (no empty section, no console error), and the README's
screenshots (docs/screenshots/demo-*.png, `make screenshots`) come from here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from bench.ports import free_port
from services.demo.prepare import demo_district
from tests.browser.conftest import ARTIFACTS, START_TIMEOUT, Served, SignIn

MASTERY = str(Path(sys.executable).with_name("mastery"))
TOKEN = re.compile(r"^\s+(\w+)\s+(demo-\w+-[0-9a-f]{32})(?: \((.*)\))?$")
Shoot = Callable[[Page, str], Path]

pytestmark = pytest.mark.browser


def parse(printed: str) -> tuple[str, dict[str, str], dict[str, tuple[str, ...]]]:
    """(the dashboard address, role -> token, role -> scopes) as `mastery demo` printed them."""
    address = re.search(r"Dashboards: (http://\S+)/ ", printed)
    assert address is not None, printed
    tokens, scopes = {}, {}
    for line in printed.splitlines():
        if m := TOKEN.match(line):
            tokens[m[1]] = m[2]
            scopes[m[1]] = tuple(s.strip() for s in (m[3] or "").split(",") if s.strip())
    return address[1], tokens, scopes


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    port = free_port()
    data_dir = tmp_path_factory.mktemp("walk") / "demo"
    command = [MASTERY, "demo", "--data-dir", str(data_dir), "--port", str(port)]
    env = {**os.environ, "COLUMNS": "80"}  # as a terminal of 80 columns shows it
    log = (data_dir.parent / "demo.log").open("w")  # the server's log: a pipe nobody reads would fill
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True, env=env)
    try:
        printed, deadline = "", time.monotonic() + 4 * START_TIMEOUT
        assert process.stdout is not None
        while "Try: " not in printed:  # its last line before serving
            line = process.stdout.readline()
            assert line or process.poll() is None, "mastery demo stopped:\n" + printed
            assert time.monotonic() < deadline, "mastery demo did not start serving:\n" + printed
            printed += line
        base, tokens, scopes = parse(printed)
        assert base == f"http://127.0.0.1:{port}"
        assert set(tokens) >= {"admin", "teacher", "student", "guardian", "leader", "auditor"}
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/ready", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        yield Served(base, tokens, scopes, demo_district(300, 7, datetime.now(UTC))[0])
    finally:
        process.terminate()
        process.wait(30)
        log.close()


@pytest.fixture
def walk(browser: Browser, demo: Served) -> Iterator[SignIn]:
    signer = SignIn(browser, demo)
    yield signer
    problems = signer.close()
    assert not problems, "the pages logged errors:\n" + "\n".join(problems)


def drawn(page: Page, view: str) -> float:
    """Waits for the view's data-loaded; the ms from navigation to it (the page's clock)."""
    expect(page.locator(f"#{view}[data-loaded]")).to_be_attached(timeout=30_000)
    return float(page.evaluate("performance.now()"))


def scoped(demo: Served, role: str) -> list[str]:
    return [s.partition(":")[2] for s in demo.scopes[role]]


def test_sign_in_page_and_the_teacher(walk: SignIn, demo: Served, shoot: Shoot, browser: Browser) -> None:
    blank = browser.new_page(viewport={"width": 1280, "height": 700})
    blank.goto(demo.base_url + "/")
    expect(blank.get_by_label("Token")).to_be_visible()
    shoot(blank, "demo-sign-in")
    blank.close()
    page = walk("teacher")
    shoot(page, "demo-home-teacher")
    # The class of the teacher's with the most contradictions: the tracker has them all.
    counts = {
        c: len(demo.api("teacher", f"/v1/contradictions?class_id={c}").json())
        for c in scoped(demo, "teacher")
    }
    class_id = max(counts, key=lambda c: counts[c])
    assert counts[class_id] > 0
    assert demo.api("teacher", f"/v1/classes/{class_id}/groups").json()["groups"]
    page.goto(f"/ui/classes/{class_id}")
    drawn(page, "class-view")
    expect(page.locator("#contradictions li")).to_have_count(counts[class_id])
    expect(page.locator("#groups > ul > li").first).to_be_visible()
    expect(page.locator("#next-table tbody tr").first).to_be_visible()
    shoot(page, "demo-class-teacher")
    page.locator("#contradictions li button, #contradictions li a").first.click()
    expect(page.locator("#explain-body")).not_to_be_empty()
    page.wait_for_timeout(300)  # the dialog's fade
    # The viewport, not the full page: a modal dialog's backdrop covers the viewport only.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo-class-explain.png"))


def test_the_student_sees_a_retake_waiting_and_an_override(walk: SignIn, demo: Served, shoot: Shoot) -> None:
    page = walk("student")
    (sid,) = scoped(demo, "student")
    page.locator(f'main a[href="/ui/students/{sid}"]').click()
    drawn(page, "student-view")
    expect(page.locator("#retakes form").first).to_be_visible()  # a reflection to write
    expect(page.locator("#growth-table table")).to_be_attached()
    shoot(page, "demo-student")
    history = demo.api("student", f"/v1/students/{sid}/history").json()
    assert any(e["type"] == "override" for e in history["events"])


def test_the_guardian_switches_between_three(walk: SignIn, demo: Served, shoot: Shoot) -> None:
    page = walk("guardian")
    mine = scoped(demo, "guardian")
    assert len(mine) >= 3
    page.goto(f"/ui/students/{mine[1]}")
    drawn(page, "student-view")
    expect(page.locator("#switcher a")).to_have_count(len(mine))
    expect(page.locator("#retakes form")).to_have_count(0)  # a guardian writes nothing
    shoot(page, "demo-student-guardian")


def test_the_leader_school_shows_a_suppressed_class(walk: SignIn, demo: Served, shoot: Shoot) -> None:
    page = walk("leader")
    (school,) = scoped(demo, "leader")
    page.goto(f"/ui/schools/{school}")
    drawn(page, "leader-view")
    expect(page.locator("#units-hidden")).to_contain_text("Suppressed (fewer than 10 students)")
    expect(page.locator("#contradictions tbody tr").first).to_be_visible()
    shoot(page, "demo-school")
    page.goto("/ui/district")
    drawn(page, "leader-view")
    # Every school's numbers; a link only to the leader's own (the others would be a 404).
    expect(page.locator("#rates-numbers tbody th")).to_have_count(len(demo.district.schools()))
    expect(page.locator("#rates-numbers tbody th a")).to_have_attribute("href", f"/ui/schools/{school}")
    shoot(page, "demo-district")


def test_the_auditor_moves_as_of_and_known_at(walk: SignIn, demo: Served, shoot: Shoot) -> None:
    page = walk("auditor")
    (sid,) = scoped(demo, "student")
    page.goto(f"/ui/students/{sid}/audit")
    drawn(page, "audit-view")
    expect(page.locator("#timeline").get_by_text("OVERRIDE").first).to_be_visible()
    start = demo_district(300, 7, datetime.now(UTC))[0].first_year
    page.locator("#as-of-date").fill(f"{start}-10-01")
    page.locator("#as-of-date").dispatch_event("change")
    expect(page.locator("#statuses")).to_contain_text("≠ now")
    shoot(page, "demo-audit")
    page.goto("/docs")
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()
    # Its top only: the full page is 7,000 px of schemas.
    page.screenshot(path=str(ARTIFACTS / "demo-api-docs.png"))
