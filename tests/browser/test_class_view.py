"""The teacher's class tracker in a real browser (issue 14 item 2): the class's
data and only that, an explain opened from the map, the filters, the keyboard,
200 % zoom, sign-out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Served, SignIn, api_when, expect_iso_dates_only

Shoot = Callable[[Page, str], Path]
SYMBOLS = {"mastered": "✓", "in_progress": "◐", "not_started": "○"}
NEXT_SHOWN = 8  # the students "Next objectives" shows before its "Show all" button

pytestmark = pytest.mark.browser


def _taught(served: Served) -> str:
    return served.scopes["teacher"][0].partition(":")[2]


def _open_class(page: Page, class_id: str) -> None:
    page.goto(f"/ui/classes/{class_id}")
    expect(page.locator("#class-view[data-loaded]")).to_be_attached()


def _map(served: Served, class_id: str) -> dict[str, Any]:
    body: dict[str, Any] = served.api("teacher", f"/v1/classes/{class_id}/mastery-map").json()
    return body


def _map_as(served: Served, role: str, class_id: str) -> dict[str, Any]:
    body: dict[str, Any] = served.api(role, f"/v1/classes/{class_id}/mastery-map").json()
    return body


def _goto(page: Page, served: Served, path: str) -> None:
    page.goto(served.base_url + path)


def test_the_teacher_sees_the_class_and_only_that(sign_in: SignIn, served: Served, shoot: Shoot) -> None:
    page = sign_in("teacher")
    class_id = _taught(served)
    page.locator(f'main a[href="/ui/classes/{class_id}"]').click()  # from the home page
    expect(page.locator("#class-view[data-loaded]")).to_be_attached()
    expected = _map(served, class_id)
    rows = page.locator("#mastery-map tbody th[scope=row]")
    assert rows.all_inner_texts() == [s["name"] for s in expected["students"]]
    headers = page.locator("#mastery-map thead th.obj").all_inner_texts()
    assert headers == [o["objective_id"] for o in expected["objectives"]]
    first = expected["students"][0]
    cells = page.locator("#mastery-map tbody tr").first.locator("td button")
    symbols = [t.strip().rstrip("!") for t in cells.all_inner_texts()]
    assert symbols == [
        SYMBOLS[first["statuses"][o["objective_id"]]["status"]] for o in expected["objectives"]
    ]
    # Every cell says its status in words too, not by colour alone.
    label = cells.first.get_attribute("aria-label") or ""
    assert label.startswith(f"{first['name']}, {expected['objectives'][0]['objective_id']}: ")
    expect(page.locator("#next-table tbody tr")).to_have_count(len(expected["students"]))
    if len(expected["students"]) <= NEXT_SHOWN:
        expect(page.locator("#next-toggle")).to_have_count(0)  # nothing to fold
    groups = served.api("teacher", f"/v1/classes/{class_id}/groups").json()["groups"]
    expect(page.locator("#groups > ul > li")).to_have_count(len(groups))
    found = served.api("teacher", f"/v1/contradictions?class_id={class_id}").json()
    expect(page.locator("#contradictions li")).to_have_count(len(found))
    expect_iso_dates_only(page)
    shoot(page, "class-teacher")

    # Another class: the API's 404, the same page as for a class that does not exist.
    other = next(
        c["class_id"]
        for c in served.api("admin", "/v1/classes").json()["classes"]
        if c["class_id"] != class_id
    )
    sign_in.allow(page, "404")
    answer = page.goto(f"{served.base_url}/ui/classes/{other}")
    assert answer is not None and answer.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not Found")
    sign_in.allow(page, "404")
    status = page.evaluate(f"fetch('/v1/classes/{other}/mastery-map').then(r => r.status)")
    assert status == 404


def test_a_cell_opens_the_students_explain(sign_in: SignIn, served: Served, shoot: Shoot) -> None:
    page = sign_in("teacher")
    # A cell with evidence (in progress or mastered), in the first of the teacher's classes.
    class_id, student, objective = next(
        (class_id, s, o["objective_id"])
        for class_id in (c.partition(":")[2] for c in served.scopes["teacher"])
        for expected in [_map(served, class_id)]
        for s in expected["students"]
        for o in expected["objectives"]
        if s["statuses"][o["objective_id"]]["status"] != "not_started"
    )
    _goto(page, served, f"/ui/classes/{class_id}")
    expect(page.locator("#class-view[data-loaded]")).to_be_attached()
    explain = served.api(
        "teacher", f"/v1/students/{student['student_id']}/objectives/{objective}/explain"
    ).json()
    page.locator(
        f'#mastery-map button[data-student="{student["student_id"]}"][data-objective="{objective}"]'
    ).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_contain_text(f"{student['name']}: {objective}")
    expect(dialog.locator(".sentence")).to_contain_text(explain["sentence"])
    expect(dialog).to_contain_text(f"Rule version {explain['rule']['version']}")
    rows = dialog.locator("#evidence tbody tr")
    expect(rows).to_have_count(len(explain["evidence"]))
    for row, line in zip(rows.all(), explain["evidence"], strict=True):
        expect(row).to_contain_text("✓ met" if line["meets_threshold"] else "✗ missed")
        expect(row).to_contain_text(line["reason"])
        expect(row.locator("td").first).to_have_text(api_when(line["occurred_at"]))
    expect_iso_dates_only(page)
    shoot(page, "class-explain")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def test_next_objectives_fold_behind_a_keyboard_button(sign_in: SignIn, served: Served) -> None:
    """A long class shows the first students' next objectives and a button
    (Enter, Space) for the rest; every row stays in the table."""
    page = sign_in("admin")
    classes = [c["class_id"] for c in served.api("admin", "/v1/classes").json()["classes"]]
    sizes = {c: len(_map_as(served, "admin", c)["students"]) for c in classes}
    class_id = max(classes, key=sizes.__getitem__)
    n = sizes[class_id]
    assert n > NEXT_SHOWN, "the demo has a class larger than the folded list"
    _open_class(page, class_id)
    expect(page.locator("#next-table tbody tr")).to_have_count(n)
    shown = page.locator("#next-table tbody tr:visible")
    expect(shown).to_have_count(NEXT_SHOWN)
    toggle = page.locator("#next-toggle")
    expect(toggle).to_have_text(f"Show all {n} students")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.focus()
    page.keyboard.press("Enter")
    expect(shown).to_have_count(n)
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(toggle).to_have_text(f"Show the first {NEXT_SHOWN} only")
    page.keyboard.press("Space")
    expect(shown).to_have_count(NEXT_SHOWN)


def test_the_filters_by_unit_and_by_status(sign_in: SignIn, served: Served) -> None:
    page = sign_in("teacher")
    class_id = _taught(served)
    _open_class(page, class_id)
    expected = _map(served, class_id)
    unit = f"{expected['objectives'][0]['course']} · {expected['objectives'][0]['unit']}"
    in_unit = [o["objective_id"] for o in expected["objectives"] if f"{o['course']} · {o['unit']}" == unit]
    page.get_by_label("Unit", exact=True).select_option(unit)
    assert page.locator("#mastery-map thead th.obj").all_inner_texts() == in_unit
    page.get_by_label("Status", exact=True).select_option("mastered")
    visible = page.locator("#mastery-map td:not(.off) button")
    assert visible.count() > 0
    assert {t.strip().rstrip("!") for t in visible.all_inner_texts()} == {"✓"}
    with_mastery = [
        s["name"]
        for s in expected["students"]
        if any(s["statuses"][o]["status"] == "mastered" for o in in_unit)
    ]
    assert page.locator("#mastery-map tbody th[scope=row]").all_inner_texts() == with_mastery
    page.get_by_label("Status", exact=True).select_option("flagged")
    flagged = sum(1 for s in expected["students"] for o in in_unit if s["statuses"][o]["flags"])
    expect(page.locator("#mastery-map td:not(.off) button")).to_have_count(flagged)
    page.get_by_label("Unit", exact=True).select_option("")
    page.get_by_label("Status", exact=True).select_option("")
    expect(page.locator("#mastery-map tbody tr")).to_have_count(len(expected["students"]))


def test_the_map_is_one_tab_stop_with_arrow_keys(sign_in: SignIn, served: Served) -> None:
    page = sign_in("teacher")
    _open_class(page, _taught(served))
    first = page.locator("#mastery-map tbody tr").first.locator("td button").first
    first.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    focused = page.evaluate(
        "[document.activeElement.dataset.student, document.activeElement.dataset.objective]"
    )
    expected = _map(served, _taught(served))
    assert focused == [expected["students"][1]["student_id"], expected["objectives"][1]["objective_id"]]
    assert page.locator('#mastery-map button[tabindex="0"]').count() == 1
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_be_visible()
    page.keyboard.press("Escape")


def test_readable_at_200_percent_zoom(sign_in: SignIn, served: Served, shoot: Shoot) -> None:
    """200 % zoom of a 1280-pixel window: the page lays out in 640 CSS pixels.
    Nothing but the map's own region scrolls sideways."""
    page = sign_in("teacher")
    page.set_viewport_size({"width": 640, "height": 450})
    _open_class(page, _taught(served))
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    shoot(page, "class-teacher-200-percent")


def test_sign_out_from_the_class_page(sign_in: SignIn, served: Served) -> None:
    page = sign_in("teacher")
    class_id = _taught(served)
    _open_class(page, class_id)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(served.base_url + "/")
    page.goto(f"{served.base_url}/ui/classes/{class_id}")
    assert page.url == served.base_url + "/"
