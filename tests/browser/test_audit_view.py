"""The auditor's view of a student in a real browser (issue 14 item 5): the
timeline as the API's history gives it, voids and overrides marked in
words, and the as-of and known-at controls changing the statuses shown."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from playwright.sync_api import Page, expect

from domain.records import Score
from tests.browser.conftest import Served, SignIn, api_when, expect_iso_dates_only, loaded

Shoot = Callable[[Page, str], Path]


def corrected(served: Served) -> tuple[str, list[dict[str, Any]]]:
    """The first student the home page lists (the most corrected), with its history."""
    for section in served.district.roster.sections:
        for sid in section.members:
            events = served.api("auditor", f"/v1/students/{sid}/history").json()["events"]
            if any(e["type"] == "void" for e in events):
                return sid, events
    raise AssertionError("the demo district has no void")


HEIGHTS = (
    "() => Object.fromEntries([...document.querySelectorAll('#timeline-table tbody tr')]"
    ".map((r) => [r.dataset.event, r.getBoundingClientRect().height]))"
)


def end_of_day(page: Page, day: str) -> str:
    """The moment the page asks for: the end of that day in the browser's offset."""
    moment: str = page.evaluate("day => MLV.endOfDay(day)", day)
    return quote(moment)


def test_the_auditor_reads_the_timeline_and_moves_the_as_of_control(
    sign_in: SignIn, served: Served, shoot: Shoot
) -> None:
    page = sign_in("auditor")
    listed = page.get_by_role("region", name="Audit trails").get_by_role("link")
    expect(listed.first).to_be_visible()
    sid, events = corrected(served)
    page.goto(f"{served.base_url}/ui/students/{sid}/audit")
    loaded(page, "audit-view")
    name = served.api("auditor", f"/v1/students/{sid}").json()["name"]
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)

    rows = page.locator("#timeline-table tbody tr")
    expect(rows).to_have_count(len(events))
    for e in events:  # who recorded it, beside when it happened and when it was recorded
        row = page.locator(f"#timeline-table tr[data-event='{e['event_id']}']")
        expect(row.locator("td").nth(3)).to_contain_text(e["recorded_by"])
        if e["voided"]:
            expect(row).to_have_class("voided")
            expect(row).to_contain_text("VOIDED")
        if e["type"] == "void":
            expect(row).to_contain_text("VOID")
            expect(row).to_contain_text(e["payload"]["reason"])
        if e["type"] == "override":
            expect(row).to_contain_text("OVERRIDE")
        # Dates as the API's sentences write them; a score as explain reads it.
        expect(row.locator("th")).to_have_text(api_when(e["occurred_at"]))
        expect(row.locator("td").first).to_contain_text(api_when(e["recorded_at"]))
        if e["type"] in ("attempt", "retake"):
            score = Score.from_dict(e["payload"]["score"]).describe()
            expect(row.locator("td").nth(4)).to_contain_text(f"form {e['payload']['form']}, {score}")
    assert any("rubric_level" in e["payload"].get("score", {}) for e in events), "no rubric score to read"
    expect_iso_dates_only(page)
    tall = page.evaluate(HEIGHTS)
    page.get_by_label("Show").select_option("corrections")
    corrections = [e for e in events if e["voided"] or e["type"] in ("void", "override")]
    expect(rows).to_have_count(len(corrections))
    page.get_by_label("Show").select_option("")

    # As of the first day: nothing had happened yet, so what is mastered now was not.
    now = served.api("auditor", f"/v1/students/{sid}/mastery").json()["objectives"]
    mastered_now = [o["objective_id"] for o in now if o["status"] == "mastered"]
    assert mastered_now
    slider = page.get_by_label("Move through the year").first
    slider.focus()
    page.keyboard.press("Home")
    first_day = page.locator("#as-of-date").input_value()
    expect(page.locator(f"#audit-view[data-moment='{first_day}|']")).to_be_attached()
    then = served.api("auditor", f"/v1/students/{sid}/mastery?as_of={end_of_day(page, first_day)}").json()
    statuses = {o["objective_id"]: o["status"] for o in then["objectives"]}
    changed = [o for o in mastered_now if statuses.get(o, "not_started") != "mastered"]
    assert changed, "the first day should differ from now"
    for oid in changed:
        row = page.locator(f"#status-table tr[data-objective='{oid}']")
        expect(row).to_have_class("changed")
        expect(row.locator("td").nth(1)).to_contain_text("≠ now")
    expect(page.locator("#moment-summary")).to_contain_text("differ from now as of")
    # Events after the as-of day are marked as such.
    later = [e for e in events if e["occurred_at"][:10] > first_day]
    expect(page.locator("#timeline-table tbody tr.not-yet")).to_have_count(len(later))
    # ... by a one-word badge that keeps each row as tall as it was.
    expect(page.locator("#timeline-table tbody tr.not-yet .mark-later").first).to_contain_text("AFTER")
    grown = {k: (tall[k], h) for k, h in page.evaluate(HEIGHTS).items() if h > tall[k] + 1}
    assert not grown, f"rows taller with the as-of badge (before, after): {grown}"
    expect_iso_dates_only(page)

    # Known at, separately: what had been recorded by a day.
    void = next(e for e in events if e["type"] == "void")
    before = void["recorded_at"][:10]
    page.locator("#as-of-clear").click()
    page.locator("#known-at-date").fill(before)
    page.locator("#known-at-date").dispatch_event("change")
    expect(page.locator(f"#audit-view[data-moment='|{before}']")).to_be_attached()
    known = served.api("auditor", f"/v1/students/{sid}/mastery?known_at={end_of_day(page, before)}").json()
    for o in known["objectives"]:
        row = page.locator(f"#status-table tr[data-objective='{o['objective_id']}']")
        expect(row.locator("td").nth(2)).to_contain_text(o["status"].replace("_", " "))
    shoot(page, "audit")


def test_another_student_by_id_from_the_audit_page(sign_in: SignIn, served: Served) -> None:
    page = sign_in("auditor")
    sid, _ = corrected(served)
    page.goto(f"{served.base_url}/ui/students/{sid}/audit")
    loaded(page, "audit-view")
    other = served.district.roster.sections[-1].members[-1]
    page.get_by_label("Another student's id").fill(other)
    page.get_by_label("Another student's id").press("Enter")
    page.wait_for_url(f"{served.base_url}/ui/students/{other}/audit")
    loaded(page, "audit-view")
    sign_in.allow(page, "404")
    answer = page.goto(f"{served.base_url}/ui/students/nobody-at-all/audit")
    assert answer is not None and answer.status == 404


def test_the_audit_view_reads_at_200_percent_zoom_and_signs_out(sign_in: SignIn, served: Served) -> None:
    page = sign_in("auditor")
    sid, _ = corrected(served)
    page.set_viewport_size({"width": 640, "height": 450})
    page.goto(f"{served.base_url}/ui/students/{sid}/audit")
    loaded(page, "audit-view")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(served.base_url + "/")
    page.goto(f"{served.base_url}/ui/students/{sid}/audit")
    assert page.url == served.base_url + "/"  # no session: back to the sign-in form
