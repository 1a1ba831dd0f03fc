"""The leader's school and district views in a real browser (issue 14 item
4): the numbers are the API's, a suppressed group shows no number, a school
outside the leader's scope is the API's 404."""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import Served, SignIn, expect_iso_dates_only, loaded

Shoot = Callable[[Page, str], Path]


def shown_number(v: float) -> str:
    """As the page shows a number: two decimals at most, half up on the float's
    exact value as JavaScript's toFixed rounds (static/leader.js `num`)."""
    shown = f"{Decimal(v).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):f}"
    return shown.rstrip("0").rstrip(".") if "." in shown else shown


def test_the_leader_reads_its_school_by_grade_and_by_class(
    sign_in: SignIn, served: Served, shoot: Shoot
) -> None:
    page = sign_in("leader")
    (school,) = [s.partition(":")[2] for s in served.scopes["leader"]]
    page.get_by_role("region", name="Schools").get_by_role("link").click()
    page.wait_for_url(f"{served.base_url}/ui/schools/{school}")
    loaded(page, "leader-view")
    summary = served.api("leader", f"/v1/schools/{school}/summary").json()
    weekly = served.api("leader", f"/v1/schools/{school}/summary/weekly").json()
    stats = page.locator("#grade-stats li")
    expect(stats).to_have_count(len(summary["groups"]))
    for i, g in enumerate(summary["groups"]):
        shown = (
            "suppressed" if g["suppressed"] else f"{shown_number(g['mastered_per_student_per_week'])} a week"
        )
        expect(stats.nth(i)).to_contain_text(shown)
    expect(page.locator("#grades-chart")).to_be_visible()
    expect(page.locator("#units-chart")).to_be_visible()
    # The by-class table: a column per class, a row per week, "suppressed" where the API says so.
    heads = page.locator("#units-numbers thead th")
    expect(heads).to_have_text(["Week of", *[u["name"] for u in weekly["units"]]])
    expect(page.locator("#units-numbers tbody tr")).to_have_count(len(weekly["weeks"]))
    expect(page.locator("#units-numbers tbody th")).to_have_text([w[:10] for w in weekly["weeks"]])
    expect_iso_dates_only(page)
    hidden = [u for u in weekly["units"] if u["suppressed"]]
    assert hidden, "the demo's small class should be suppressed"
    expect(page.locator("#units-hidden")).to_contain_text(hidden[0]["name"])
    column = [u["id"] for u in weekly["units"]].index(hidden[0]["id"]) + 1
    cells = page.locator(f"#units-numbers tbody tr td:nth-child({column + 1})")
    expect(cells).to_have_text(["suppressed"] * len(weekly["weeks"]))
    visible = next(u for u in weekly["units"] if not u["suppressed"])
    column = [u["id"] for u in weekly["units"]].index(visible["id"]) + 1
    cells = page.locator(f"#units-numbers tbody tr td:nth-child({column + 1})")
    expect(cells).to_have_text([shown_number(w["mastered_per_student"]) for w in visible["weeks"]])
    found = served.api("leader", f"/v1/contradictions?school_id={school}").json()
    if found:
        expect(page.locator("#contradiction-count")).to_contain_text(f"{len(found)} open")
    shoot(page, "school")

    # Another school of the district is not the leader's: the API's 404, in the same words.
    other = next(s for s in served.district.schools() if s != school)
    sign_in.allow(page, "404")
    answer = page.goto(f"{served.base_url}/ui/schools/{other}")
    assert answer is not None and answer.status == 404
    expect(page.get_by_role("alert")).to_have_text(f"no school '{other}'")


def test_the_district_by_school_and_a_small_school_suppressed(
    sign_in: SignIn, served: Served, shoot: Shoot
) -> None:
    page = sign_in("leader")
    page.get_by_role("region", name="District").get_by_role("link").click()
    page.wait_for_url(f"{served.base_url}/ui/district")
    loaded(page, "leader-view")
    weekly = served.api("leader", "/v1/district/summary/weekly").json()
    expect(page.locator("#units-numbers thead th")).to_have_text(
        ["Week of", *[u["name"] for u in weekly["units"]]]
    )
    # The leader sees the district's numbers, and contradictions only of its own school.
    mine = served.api("leader", "/v1/schools").json()["schools"]
    expect(page.locator("#contradictions-by-school tbody tr")).to_have_count(len(mine))
    shoot(page, "district")

    # The small school, as an admin sees it: every group suppressed, nothing drawn.
    admin = sign_in("admin")
    small = served.district.schools()[-1]
    admin.goto(f"{served.base_url}/ui/schools/{small}")
    loaded(admin, "leader-view")
    summary = served.api("admin", f"/v1/schools/{small}/summary").json()
    assert all(g["suppressed"] for g in summary["groups"])
    expect(admin.locator("#grade-stats li")).to_have_count(len(summary["groups"]))
    for item in admin.locator("#grade-stats li").all():
        expect(item).to_contain_text("suppressed")
    expect(admin.locator("#grades-chart")).to_be_hidden()
    expect(admin.locator("#units-chart")).to_be_hidden()
    numbers = admin.locator("#rates-numbers tbody td")
    for cell in numbers.all()[1:]:
        text = cell.inner_text()
        assert text == "suppressed" or not text[0].isdigit(), text
    shoot(admin, "school-suppressed")


def test_a_student_may_not_open_a_school_and_the_views_read_at_200_percent(
    sign_in: SignIn, served: Served
) -> None:
    page = sign_in("student")
    sign_in.allow(page, "403")
    answer = page.goto(f"{served.base_url}/ui/district")
    assert answer is not None and answer.status == 403
    leader = sign_in("leader")
    leader.set_viewport_size({"width": 640, "height": 450})
    for path in ("/ui/district", f"/ui/schools/{served.district.schools()[0]}"):
        leader.goto(served.base_url + path)
        loaded(leader, "leader-view")
        assert leader.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
