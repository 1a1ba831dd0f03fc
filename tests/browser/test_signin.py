"""Signing in and out in a real browser, the home page of each role, and the
API docs page without internet (issue 14 items 1, 6 and 7)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.browser.conftest import Served, SignIn, sign_in_with

pytestmark = pytest.mark.browser


def test_a_wrong_token_is_refused_and_nothing_signs_in(browser: Browser, served: Served) -> None:
    page = browser.new_context().new_page()
    page.goto(served.base_url + "/")
    expect(page.get_by_label("Token")).to_be_visible()
    page.get_by_label("Token").fill("not-a-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("That token is unknown, revoked or expired.")
    assert not [c for c in page.context.cookies() if c["name"] == "ml_session"]
    page.goto(served.base_url + "/ui")  # no session: back to the form
    assert page.url == served.base_url + "/"
    page.context.close()


def test_the_session_cookie_is_httponly_and_samesite_strict(sign_in: SignIn) -> None:
    page = sign_in("teacher")
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["ml_session"]
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    assert cookies["ml_csrf"]["httpOnly"] and cookies["ml_csrf"]["sameSite"] == "Strict"
    assert "demo-teacher" not in session["value"]  # the token is sealed, not carried in clear
    assert page.evaluate("document.cookie") == ""  # no script reads them


def test_the_home_page_lists_what_the_teacher_may_open_and_only_that(
    sign_in: SignIn, served: Served, shoot: Callable[[Page, str], Path]
) -> None:
    page = sign_in("teacher")
    taught = [s.partition(":")[2] for s in served.scopes["teacher"]]
    links = page.get_by_role("region", name="Class trackers").get_by_role("link")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert hrefs == [f"/ui/classes/{c}" for c in taught]
    expect(page.get_by_text("Signed in as")).to_contain_text("(teacher)")
    shoot(page, "home-teacher")


def test_the_leader_and_the_admin_see_the_classes_of_their_scope(sign_in: SignIn, served: Served) -> None:
    for role in ("leader", "admin"):
        page = sign_in(role)
        classes = served.api(role, "/v1/classes?limit=1000").json()["classes"]
        links = page.get_by_role("region", name="Class trackers").get_by_role("link")
        expect(links).to_have_count(len(classes))


def test_a_role_that_opens_no_dashboard_is_told_so(sign_in: SignIn) -> None:
    page = sign_in("analyst")
    expect(page.get_by_role("main")).to_contain_text("opens no dashboard")


def test_sign_out_ends_the_session(sign_in: SignIn, served: Served) -> None:
    page = sign_in("teacher")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(served.base_url + "/")
    expect(page.get_by_label("Token")).to_be_visible()
    assert not [c for c in page.context.cookies() if c["name"] == "ml_session"]
    page.goto(served.base_url + "/ui")
    assert page.url == served.base_url + "/"
    sign_in.allow(page, "status of 401")
    status = page.evaluate("fetch('/v1/classes').then(r => r.status)")
    assert status == 401


def test_a_browser_already_signed_in_goes_home_from_the_sign_in_page(sign_in: SignIn, served: Served) -> None:
    page = sign_in("admin")
    page.goto(served.base_url + "/")
    assert page.url == served.base_url + "/ui"


def test_the_keyboard_reaches_the_sign_in_form_and_signs_in(
    browser: Browser, served: Served, shoot: Callable[[Page, str], Path]
) -> None:
    page = browser.new_context(viewport={"width": 1280, "height": 600}).new_page()
    page.goto(served.base_url + "/")
    shoot(page, "sign-in")
    expect(page.get_by_label("Token")).to_be_focused()  # autofocus: type at once
    page.keyboard.type(served.tokens["teacher"])
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign in")).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(served.base_url + "/ui")
    page.context.close()


def test_the_api_docs_work_offline_with_an_authorize_button(
    browser: Browser, served: Served, shoot: Callable[[Page, str], Path]
) -> None:
    context = browser.new_context()
    outside: list[str] = []

    def refuse(route: Route) -> None:  # as without internet: anything not ours fails
        outside.append(route.request.url)
        route.abort()

    context.route(lambda url: not url.startswith(served.base_url), refuse)
    page = context.new_page()
    page.goto(served.base_url + "/docs")
    page.get_by_role("button", name="Authorize").click()
    dialog = page.locator(".modal-ux")  # Swagger UI's dialog has no dialog role
    expect(dialog).to_contain_text("bearer")
    dialog.get_by_role("textbox").fill(served.tokens["admin"])
    dialog.locator("button.authorize").click()
    dialog.locator("button.btn-done").click()
    # Try GET /v1/schools with the token: the answer shows in the page.
    page.locator("#operations-roster-list_schools_v1_schools_get").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    expect(page.locator(".live-responses-table tbody .response-col_status").first).to_have_text("200")
    expect(page.locator(".live-responses-table tbody")).to_contain_text("schools")
    shoot(page, "api-docs")
    assert outside == []
    context.close()


def test_the_pages_load_nothing_from_outside(browser: Browser, served: Served) -> None:
    """Every request a signed-in page makes goes to the service itself."""
    context = browser.new_context()
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    page = context.new_page()
    sign_in_with(page, served.base_url, served.tokens["teacher"])
    page.get_by_role("region", name="Class trackers").get_by_role("link").first.click()
    page.wait_for_load_state("networkidle")
    assert requested and all(url.startswith(served.base_url) for url in requested)
    context.close()
