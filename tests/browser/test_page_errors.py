"""A page asked for with a bad parameter answers a page saying what was
wrong (services/query/ui/invalid.py); the API keeps its JSON 422."""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import Served, SignIn


def test_a_bad_id_in_the_audit_form_answers_a_page(sign_in: SignIn, served: Served) -> None:
    page = sign_in("auditor")
    sign_in.allow(page, "422")
    first = served.district.roster.sections[0].members[0]
    page.goto(f"{served.base_url}/ui/students/{first}/audit")
    field = page.get_by_label("Another student's id")
    field.fill(" stu-000001")  # a pasted id with a space in front: not an id
    with page.expect_navigation() as nav:
        field.press("Enter")
    answer = nav.value
    assert answer is not None and answer.status == 422
    assert "text/html" in answer.headers["content-type"]
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("student id")
    expect(alert).to_contain_text("stu-000001")
    page.get_by_role("link", name="Back home").click()
    page.wait_for_url(served.base_url + "/ui")


def test_an_unknown_parameter_on_a_page_answers_a_page(sign_in: SignIn, served: Served) -> None:
    page = sign_in("teacher")
    sign_in.allow(page, "422")
    answer = page.goto(f"{served.base_url}/ui?clas=1")
    assert answer is not None and answer.status == 422
    assert "text/html" in answer.headers["content-type"]
    expect(page.get_by_role("alert")).to_contain_text("“clas” is not one this page takes")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()  # still signed in, and says so


def test_signed_out_the_same_page_offers_sign_in_and_the_api_keeps_json(served: Served) -> None:
    answer = httpx.get(served.base_url + "/?x=1", timeout=30)
    assert answer.status_code == 422 and "text/html" in answer.headers["content-type"]
    assert "“x” is not one this page takes" in answer.text and 'href="/"' in answer.text
    api = httpx.get(
        served.base_url + "/v1/classes?x=1",
        headers={"Authorization": f"Bearer {served.tokens['admin']}"},
        timeout=30,
    )
    assert api.status_code == 422 and api.headers["content-type"].startswith("application/problem+json")
