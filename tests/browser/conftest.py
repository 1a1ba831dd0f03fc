"""Browser tests: Playwright for Python driving Debian's Chromium
(/usr/bin/chromium) against the real service (CONTRACT.md §6).

* `chromium`: the browser's path; installed with apt when absent and this
  runs as root, else the session fails saying how to install it (never a skip:
  under CI=true nothing is skipped, and a missing browser is no pass either).
* `served`: the service, role `all`, on a free port in a thread of this
  process (uvicorn), over a real embedded store holding the demo district
  (services/demo: the same generator `make demo` loads) and its tokens.
* `sign_in(role)`: a new browser context signed in through the form at `/`
  with that role's demo token; the test fails at teardown if the page logged
  a console error or an uncaught exception.
* `shoot(page, name)`: a full-page screenshot in test-artifacts/screenshots/
  (ignored by git; docs/screenshots/ keeps the current ones for the README).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, Playwright, expect, sync_playwright
from rich.console import Console

from bench.ports import free_port
from infra.settings import load_settings
from services.app import create_app
from services.bootstrap import build_ledger
from services.demo.district import District
from services.demo.prepare import demo_tokens, prepare
from tests.chromium import ensure_chromium

# A date as a browser's locale writes one ("Aug 27, 2026", "27 Aug 2026", "8/27/2026"):
# the pages write the API's ISO dates instead (static/ui.js `day`, `when`).
LOCALE_DATE = re.compile(
    r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* \d{1,2}, \d{4}"
    r"|\b\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* \d{4}|\b\d{1,2}/\d{1,2}/\d{4}"
)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DEMO_STUDENTS = 60
START_TIMEOUT = 60.0


@pytest.fixture(scope="session")
def chromium() -> Path:
    return ensure_chromium()


@dataclass
class Served:
    base_url: str
    tokens: dict[str, str]  # role -> the demo's token
    scopes: dict[str, tuple[str, ...]]  # role -> its scopes
    district: District

    def api(self, role: str, path: str) -> httpx.Response:
        """The API as `role` sees it, with its bearer token (what the page should show)."""
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        return httpx.get(self.base_url + path, headers=headers, timeout=30)


def api_when(moment: str) -> str:
    """A time as the pages and the API's sentences write it: its own offset's
    day and minute, "UTC" after one written in UTC."""
    utc = " UTC" if moment.endswith(("Z", "+00:00")) else ""
    return f"{moment[:10]} {moment[11:16]}{utc}"


def loaded(page: Page, view: str) -> None:
    """The view's script has drawn everything it asked the API for."""
    expect(page.locator(f"#{view}[data-loaded=true]")).to_be_attached(timeout=30_000)


def expect_iso_dates_only(page: Page) -> None:
    """No date on the page in the browser's locale format (what the API never writes)."""
    text = page.locator("body").inner_text()
    found = [m.group(0) for m in LOCALE_DATE.finditer(text)]
    assert not found, f"dates not in the API's ISO form: {found[:5]}"


# Package scope, not session: the service, Playwright and the browser stop
# once the browser tests are done. Playwright's sync API keeps an asyncio
# loop running in the main thread while it is open, and every later test
# that calls asyncio.run() (tests/e2e, test_http_edge, test_waiting) failed
# with "cannot be called from a running event loop" in a whole-suite run.
@pytest.fixture(scope="package")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data_dir = tmp_path_factory.mktemp("browser") / "demo"
    settings = load_settings(data_dir=data_dir)
    ledger = build_ledger(settings)
    _, district, holders = prepare(ledger, data_dir, DEMO_STUDENTS, 7, Console(quiet=True))
    minted = demo_tokens(ledger, district, holders)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, "all", ledger), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="browser-tests-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the service did not start for the browser tests", pytrace=False)
        time.sleep(0.05)
    try:
        yield Served(
            f"http://127.0.0.1:{port}",
            {t.role: t.token for t in minted},
            {t.role: t.scopes for t in minted},
            district,
        )
    finally:
        server.should_exit = True
        thread.join(30)


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright: Playwright, chromium: Path) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=str(chromium))
    try:
        yield launched
    finally:
        launched.close()


def sign_in_with(page: Page, base_url: str, token: str) -> None:
    """Through the form, as a person would: the field labelled Token, the Sign in button."""
    page.goto(base_url + "/")
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base_url + "/ui")


class SignIn:
    """`sign_in(role)`: a page in a fresh context (its own cookies), signed in
    as that role. Console errors and uncaught exceptions fail the test at
    teardown, except those it declares with `allow(page, text)`: Chromium
    logs every 4xx answer as an error, and a test may ask for one on purpose."""

    def __init__(self, browser: Browser, served: Served) -> None:
        self.browser, self.served = browser, served
        self.opened: list[tuple[Page, list[str], list[str]]] = []  # page, errors, allowed

    def __call__(self, role: str) -> Page:
        context = self.browser.new_context(
            viewport={"width": 1280, "height": 900}, base_url=self.served.base_url
        )
        page = context.new_page()
        errors: list[str] = []

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                errors.append(f"console: {message.text}")

        def on_error(error: Error) -> None:
            errors.append(f"uncaught: {error.message}")

        page.on("console", on_console)
        page.on("pageerror", on_error)
        self.opened.append((page, errors, []))
        sign_in_with(page, self.served.base_url, self.served.tokens[role])
        return page

    def allow(self, page: Page, text: str) -> None:
        """One console error containing `text` on this page is expected."""
        for opened, _, allowed in self.opened:
            if opened is page:
                allowed.append(text)

    def close(self) -> list[str]:
        problems = []
        for page, errors, allowed in self.opened:
            for error in errors:
                match = next((a for a in allowed if a in error), None)
                if match is None:
                    problems.append(error)
                else:
                    allowed.remove(match)
            page.context.close()
        return problems


@pytest.fixture
def sign_in(browser: Browser, served: Served) -> Iterator[SignIn]:
    signer = SignIn(browser, served)
    yield signer
    problems = signer.close()
    assert not problems, "the pages logged errors:\n" + "\n".join(problems)


@pytest.fixture
def shoot() -> Callable[[Page, str], Path]:
    def take(page: Page, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
