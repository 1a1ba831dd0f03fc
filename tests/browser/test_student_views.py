"""The student's tracker and the guardian's, in a real browser (issue 14
item 3): each sees their own records, as the API gives them, and nothing
else; a guardian switches between their students; out of scope is the
API's 404 page."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from domain.records import Score
from tests.browser.conftest import Served, SignIn, api_when, expect_iso_dates_only, loaded

Shoot = Callable[[Page, str], Path]


def own(served: Served, role: str) -> list[str]:
    return [s.partition(":")[2] for s in served.scopes[role]]


def someone_else(served: Served, role: str) -> str:
    """A student of the district outside this role's scope."""
    mine = set(own(served, role))
    return next(s for sec in served.district.roster.sections for s in sec.members if s not in mine)


def expect_tracker_of(page: Page, served: Served, role: str, student_id: str) -> None:
    """The page shows this student's records as the API gives them to `role`."""
    profile = served.api(role, f"/v1/students/{student_id}").json()
    mastery = served.api(role, f"/v1/students/{student_id}/mastery").json()
    trajectory = served.api(role, f"/v1/students/{student_id}/trajectory").json()
    expect(page.get_by_role("heading", level=1)).to_contain_text(profile["name"])
    mastered = mastery["summary"]["mastered"]
    expect(page.locator("#student-summary")).to_contain_text(f"{mastered} of ")
    # Each objective with a status is a stone with its status in words, not colour alone.
    stones = page.locator("ol.path li.stone")
    expect(page.locator("ol.path li.stone[data-status=mastered]")).to_have_count(mastered)
    for item in mastery["objectives"]:
        stone = stones.and_(page.locator(f"[data-objective='{item['objective_id']}']"))
        expect(stone).to_contain_text(item["status"].replace("_", " "))
    goal = trajectory["goal"]
    if goal is None:
        expect(page.locator("#goal")).to_contain_text("No goal set yet")
    else:
        expect(page.locator("#goal")).to_contain_text(f"Master {goal['target_mastered']} objectives")
        expect(page.locator("#on-track")).to_contain_text(
            "✓ On track" if goal["on_track"] else "✗ Not on track"
        )
    expect(page.locator("#growth-chart")).to_be_visible()
    weeks = page.locator("#growth-numbers tbody tr")
    expect(weeks).to_have_count(len(trajectory["points"]))
    history = served.api(role, f"/v1/students/{student_id}/history").json()["events"]
    evidence = [e for e in history if e["type"] in ("attempt", "retake")]
    expect(page.locator("#recent-evidence tbody tr")).to_have_count(min(12, len(evidence)))
    # Each date as the API writes it, each score as explain reads it (a rubric level by its name).
    recent = sorted(evidence, key=lambda e: datetime.fromisoformat(e["occurred_at"]), reverse=True)[:12]
    for row, e in zip(page.locator("#recent-evidence tbody tr").all(), recent, strict=True):
        expect(row.locator("th")).to_have_text(api_when(e["occurred_at"]))
        expect(row.locator("td").nth(2)).to_have_text(Score.from_dict(e["payload"]["score"]).describe())
    week_starts = [p["period_start"][:10] for p in trajectory["points"]]
    expect(page.locator("#growth-numbers tbody th")).to_have_text(week_starts)
    if goal is not None:
        expect(page.locator("#goal")).to_contain_text(f"by {goal['due'][:10]}.")
    expect_iso_dates_only(page)
    flagged = any("reflection_missing" in o["flags"] for o in mastery["objectives"])
    if flagged:
        expect(page.locator("#retakes-waiting li")).not_to_have_count(0)
    else:
        expect(page.locator("#retakes")).to_contain_text("None")


def expect_not_found(page: Page, served: Served, sign_in: SignIn, path: str) -> None:
    sign_in.allow(page, "404")  # Chromium logs the page's own 404 answer
    answer = page.goto(served.base_url + path)
    assert answer is not None and answer.status == 404
    expect(page.get_by_role("alert")).to_have_text(f"no student '{path.split('/')[3]}'")


def test_a_student_sees_their_tracker_and_no_one_else(sign_in: SignIn, served: Served, shoot: Shoot) -> None:
    page = sign_in("student")
    (me,) = own(served, "student")
    page.get_by_role("link", name="My tracker").click()
    page.wait_for_url(f"{served.base_url}/ui/students/{me}")
    loaded(page, "student-view")
    expect_tracker_of(page, served, "student", me)
    expect(page.get_by_role("navigation", name="Your students")).to_have_count(0)  # one student: no switcher
    shoot(page, "student")
    expect_not_found(page, served, sign_in, f"/ui/students/{someone_else(served, 'student')}")
    expect_not_found(page, served, sign_in, "/ui/students/no-such-student")
    # The others' pages are not for a student either (the API's scope, not the page's).
    other = someone_else(served, "student")
    expect_not_found(page, served, sign_in, f"/ui/students/{other}/audit")


def test_a_guardian_switches_between_their_students(sign_in: SignIn, served: Served, shoot: Shoot) -> None:
    page = sign_in("guardian")
    mine = own(served, "guardian")
    first, second = mine[:2]
    links = page.get_by_role("region", name="Trackers").get_by_role("link")
    expect(links).to_have_count(len(mine))
    links.first.click()
    loaded(page, "student-view")
    expect_tracker_of(page, served, "guardian", first)
    switcher = page.get_by_role("navigation", name="Your students")
    names = [served.api("guardian", f"/v1/students/{s}").json()["name"] for s in mine]
    expect(switcher.get_by_role("link")).to_have_text(names)
    expect(switcher.get_by_role("link", name=names[0])).to_have_attribute("aria-current", "page")
    shoot(page, "student-guardian")
    # With the keyboard: to the second student's link, then Enter.
    switcher.get_by_role("link", name=names[1]).focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{served.base_url}/ui/students/{second}")
    loaded(page, "student-view")
    expect_tracker_of(page, served, "guardian", second)
    expect(switcher.get_by_role("link", name=names[1])).to_have_attribute("aria-current", "page")
    expect_not_found(page, served, sign_in, f"/ui/students/{someone_else(served, 'guardian')}")


def test_the_tracker_reads_at_200_percent_zoom(sign_in: SignIn, served: Served) -> None:
    """Half the width at twice the size is what a 200 % zoom gives: nothing
    runs off the side of the page (wide tables scroll in their own box)."""
    page = sign_in("student")
    (me,) = own(served, "student")
    page.set_viewport_size({"width": 640, "height": 450})
    page.goto(f"{served.base_url}/ui/students/{me}")
    loaded(page, "student-view")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_student_writes_the_reflection_a_retake_waits_for(sign_in: SignIn, served: Served) -> None:
    """The tracker's one write: with the session cookie and the page's CSRF
    token, as the API allows a student (a reflection on their own evidence)."""
    (me,) = own(served, "student")
    history = served.api("student", f"/v1/students/{me}/history").json()["events"]
    # An attempt without a reflection yet: a retake of it then waits for one.
    reflected = {e["payload"]["on_event"] for e in history if e["type"] == "reflection" and not e["voided"]}
    first = next(
        e
        for e in reversed(history)
        if e["type"] == "attempt"
        and not e["voided"]
        and "correct" in e["payload"]["score"]
        and e["event_id"] not in reflected
    )
    total = first["payload"]["score"]["total"]
    retake = {
        "event_id": str(uuid.uuid4()),
        "type": "retake",
        "student_id": me,
        "occurred_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "objective_id": first["objective_id"],
        "form": "B",
        "evidence": "quiz",
        "score": {"correct": total, "total": total},
        "retake_of": first["event_id"],
    }
    admin = {"Authorization": f"Bearer {served.tokens['admin']}"}
    posted = httpx.post(f"{served.base_url}/v1/events", json={"events": [retake]}, headers=admin, timeout=30)
    assert posted.status_code == 200, posted.text

    position = posted.json()["position"]
    assert served.api("student", f"/v1/students/{me}/mastery?min_position={position}").status_code == 200
    page = sign_in("student")
    page.goto(f"{served.base_url}/ui/students/{me}")
    loaded(page, "student-view")
    waiting = page.locator(f"#retakes-waiting li[data-event='{retake['event_id']}']")
    expect(waiting).to_contain_text(first["objective_id"])
    waiting.get_by_label("What went wrong the first time").fill("I rushed the last two items.")
    waiting.get_by_role("button", name="Save reflection").click()
    expect(page.locator(f"#retakes-waiting li[data-event='{retake['event_id']}']")).to_have_count(0)
    history = served.api("student", f"/v1/students/{me}/history").json()["events"]
    mine = [e for e in history if e["type"] == "reflection" and e["payload"]["on_event"] == first["event_id"]]
    assert mine and mine[-1]["recorded_by"] == f"student:{me}"

    # A guardian sees what waits, and no form: a guardian writes nothing.
    guardian = sign_in("guardian")
    guardian.goto(f"{served.base_url}/ui/students/{own(served, 'guardian')[0]}")
    loaded(guardian, "student-view")
    expect(guardian.locator("form.reflect")).to_have_count(0)
