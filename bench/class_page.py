"""The teacher's class page, /ui/classes/{id}, on a class of 35 students × 60
objectives (issue 14 item 2): what each of its requests costs, beside a floor
measured in the same run, and the whole page in a real browser.

* **Floor:** a raw SELECT of the class's rows that every answer of the page
  is made from (its roster, its mastery cells: students × objectives, and
  the objectives), by SQLAlchemy Core on the service's read engine, without
  HTTP, scoping or JSON.
* **Requests:** each request the page makes, in process through the whole
  app (FastAPI, middleware, scope checks, access log) with the session
  cookie as the browser sends it: the shell, the mastery map, next
  objectives, groups, contradictions, and an explain per sampled cell.
  p50/p99 and the ratio of each p50 to the floor's.
* **Browser** (with /usr/bin/chromium): the service on a port (uvicorn), the
  page opened in Chromium until its script has drawn every section
  (`data-loaded`, which holds the page's own clock then), and a cell's
  explain from click to its evidence table.

`python -m bench.class_page [--backend sqlite|postgres] [--reads N]`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select

from bench.class_world import ClassWorld, build
from bench.stores import fresh_store
from bench.timing import percentiles, timed_gets
from infra.readmodels import classes, enrolments, mastery_current, objectives, students
from infra.settings import Settings
from services.app import create_app
from services.bootstrap import Ledger, build_ledger

TOKEN = "bench-bootstrap-token"
CHROMIUM = Path("/usr/bin/chromium")


def floor(ledger: Ledger, world: ClassWorld, reads: int) -> list[float]:
    """The rows behind the page, raw: roster with names, cells, objectives."""
    e, m, o = enrolments, mastery_current, objectives
    roster = (
        select(e.c.student_id, students.c.name)
        .join(students, students.c.student_id == e.c.student_id)
        .join(classes, classes.c.class_id == e.c.class_id)
        .where(e.c.class_id == world.class_id)
    )
    cells = select(m.c.student_id, m.c.objective_id, m.c.status, m.c.flags, m.c.score).where(
        m.c.student_id.in_(world.students)
    )
    objs = select(o.c.objective_id, o.c.statement, o.c.unit, o.c.prerequisites).where(
        o.c.objective_id.in_(world.objectives)
    )
    out = []
    with ledger.reader.connect() as conn:
        for _ in range(reads):
            t = time.perf_counter()
            for q in (roster, cells, objs):
                conn.execute(q).all()
            out.append(time.perf_counter() - t)
    return out


def signed_in(c: TestClient, token: str) -> None:
    """Through the form, as a browser does: its cookie then rides on every request."""
    form = c.get("/").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert csrf is not None
    r = c.post("/sign-in", data={"token": token, "csrf_token": csrf.group(1)}, follow_redirects=False)
    if r.status_code != 303:
        raise RuntimeError(f"sign-in: {r.status_code}")
    c.headers.pop("Authorization", None)


def requests(c: TestClient, world: ClassWorld, reads: int, seed: int) -> dict[str, list[float]]:
    cid = world.class_id
    paths = {
        "shell": f"/ui/classes/{cid}",
        "mastery_map": f"/v1/classes/{cid}/mastery-map",
        "next": f"/v1/classes/{cid}/next",
        "groups": f"/v1/classes/{cid}/groups",
        "contradictions": f"/v1/contradictions?class_id={cid}",
    }
    rng = random.Random(seed)
    explains = [
        f"/v1/students/{rng.choice(world.students)}/objectives/{rng.choice(world.objectives)}/explain"
        for _ in range(reads)
    ]
    for p in [*paths.values(), *explains[:5]]:
        timed_gets(c, [p])  # warm up
    out: dict[str, list[float]] = {name: [] for name in [*paths, "explain", "page_total"]}
    for i in range(reads):
        total = 0.0
        for name, p in paths.items():
            (took,) = timed_gets(c, [p])
            out[name].append(took)
            total += took
        out["page_total"].append(total)
        out["explain"].extend(timed_gets(c, [explains[i]]))
    return out


def browser(app: Any, world: ClassWorld, token: str, reads: int) -> dict[str, Any]:
    """The running app (its lifespan already started by the TestClient) served on a port as well."""
    from playwright.sync_api import sync_playwright

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    loads, in_page, explains = [], [], []
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=str(CHROMIUM))
            page = b.new_page(viewport={"width": 1280, "height": 900})
            page.goto(base + "/")
            page.get_by_label("Token").fill(token)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(base + "/ui")
            for i in range(reads):
                t = time.perf_counter()
                page.goto(f"{base}/ui/classes/{world.class_id}")
                drawn = page.wait_for_selector("[data-loaded]")
                loads.append(time.perf_counter() - t)
                assert drawn is not None
                in_page.append(float(drawn.get_attribute("data-loaded") or 0) / 1000)
                cell = page.locator("#mastery-map td button").nth(i * 37 % (len(world.students) * 10))
                t = time.perf_counter()
                cell.click()
                page.wait_for_selector("#explain-body .sentence")
                explains.append(time.perf_counter() - t)
            b.close()
    finally:
        server.should_exit = True
        thread.join(30)
    # page_load: from goto to the page drawn, as Playwright sees it; drawn_in_page: the
    # page's own clock from navigation start to its last section drawn.
    out = {"page_load": percentiles(loads), "drawn_in_page": percentiles(in_page)}
    return {**out, "explain_click": percentiles(explains)}


def measure(settings: Settings, students: int, objectives: int, reads: int, seed: int) -> dict[str, Any]:
    with closing(build_ledger(settings)) as ledger, TestClient(create_app(settings, "all", ledger)) as c:
        c.headers.update({"Authorization": f"Bearer {TOKEN}"})
        world = build(c, students, objectives, seed)
        c.get(f"/v1/classes/{world.class_id}/next", params={"min_position": world.position})
        ledger.runner.catch_up()
        teacher = ledger.tokens.create("teacher", [f"class:{world.class_id}"], "bench teacher")
        signed_in(c, teacher)
        floor_s = floor(ledger, world, reads)
        timed = requests(c, world, reads, seed)
        shown = browser(c.app, world, teacher, max(3, reads // 10)) if CHROMIUM.exists() else None
    base = percentiles(floor_s)
    figures = {name: percentiles(s) for name, s in timed.items()}
    for f in figures.values():
        f["ratio_p50"] = f["p50"] / base["p50"]
    return {
        "students": students,
        "objectives": objectives,
        "events": world.events,
        "cells": students * objectives,
        "floor": base,
        "requests": figures,
        "browser": shown,
        "load": os.getloadavg(),
    }


def report(r: dict[str, Any], backend: str) -> None:
    f = r["floor"]
    print(
        f"class page, {backend}, {r['students']} students × {r['objectives']} objectives "
        f"({r['events']:,} events), load {r['load'][0]:.2f}:"
    )
    print(f"  floor (raw SELECT of its rows)  p50 {f['p50']:7.2f} ms · p99 {f['p99']:7.2f} ms")
    for name, s in r["requests"].items():
        print(f"  {name:<31} p50 {s['p50']:7.2f} ms · p99 {s['p99']:7.2f} ms · {s['ratio_p50']:5.1f}× floor")
    if r["browser"] is None:
        print("  browser: no /usr/bin/chromium, not measured")
        return
    for name, s in r["browser"].items():
        print(f"  browser {name:<23} p50 {s['p50']:7.1f} ms · p99 {s['p99']:7.1f} ms ({s['n']} runs)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.class_page", description=__doc__)
    p.add_argument("--students", type=int, default=35)
    p.add_argument("--objectives", type=int, default=60)
    p.add_argument("--reads", type=int, default=100)
    p.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--out", type=Path, default=None, help="also write the figures as JSON here")
    args = p.parse_args(argv)
    with fresh_store(args.backend, bootstrap_token=TOKEN) as settings:
        result = measure(settings, args.students, args.objectives, args.reads, args.seed)
    report(result, args.backend)
    if args.out is not None:
        args.out.write_text(json.dumps({"backend": args.backend, **result}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
