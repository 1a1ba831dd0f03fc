/* The class tracker (/ui/classes/{id}): mastery map, filters, next objectives,
   small groups, contradictions; a cell opens the student's explain.
   Everything comes from the /v1 API with the session cookie (ui.js `ML.api`). */
"use strict";
(function () {
  const { api, h, STATUS, fail, when } = window.ML;
  const root = document.getElementById("class-view");
  const classId = root.dataset.classId;
  const enc = encodeURIComponent;
  const state = { map: null, unit: "", status: "" };
  const names = new Map(); // student id -> name, from the map
  const statements = new Map(); // objective id -> statement

  function unitKey(o) { return `${o.course} · ${o.unit}`; }

  function units(objectives) {
    const out = new Map();
    for (const o of objectives) {
      const key = unitKey(o);
      if (!out.has(key)) out.set(key, []);
      out.get(key).push(o);
    }
    return out;
  }

  function matches(cell) {
    if (!state.status) return true;
    if (state.status === "flagged") return cell.flags.length > 0;
    return cell.status === state.status;
  }

  function cellFor(student, o) {
    const cell = student.statuses[o.objective_id] || { status: "not_started", flags: [] };
    const st = STATUS[cell.status];
    const flagged = cell.flags.length > 0;
    const label = `${student.name}, ${o.objective_id}: ${st.label}` +
      (flagged ? `, flagged ${cell.flags.join(", ").replaceAll("_", " ")}` : "");
    const button = h("button", {
      type: "button", class: `st-${cell.status}`, "aria-label": label, title: label, tabindex: "-1",
      dataset: { student: student.student_id, objective: o.objective_id },
    }, st.symbol, flagged ? h("span", { class: "flag", "aria-hidden": "true" }, "!") : null);
    return h("td", { class: matches(cell) ? null : "off" }, button);
  }

  function drawMap() {
    const where = document.getElementById("map");
    const { objectives, students } = state.map;
    const shown = objectives.filter((o) => !state.unit || unitKey(o) === state.unit);
    const groups = units(shown);
    const unitRow = h("tr", {}, h("td", { colspan: 2 }),
      [...groups].map(([key, objs]) => h("th", { scope: "colgroup", colspan: objs.length }, key)));
    const objRow = h("tr", {}, h("th", { scope: "col" }, "Student"), h("th", { scope: "col" }, "Mastered"),
      shown.map((o) => h("th", { scope: "col", class: "obj", title: o.statement }, o.objective_id)));
    const rows = students
      .filter((s) => !state.status || shown.some((o) => matches(s.statuses[o.objective_id] ||
        { status: "not_started", flags: [] })))
      .map((s) => h("tr", {}, h("th", { scope: "row" }, s.name),
        h("td", {}, `${shown.filter((o) => s.statuses[o.objective_id]?.status === "mastered").length}`),
        shown.map((o) => cellFor(s, o))));
    const table = h("table", { class: "map", id: "mastery-map" },
      h("caption", { class: "hint" }, `${rows.length} of ${students.length} students, ${shown.length} objectives`),
      h("colgroup", {}, h("col", { class: "name" }), h("col", { class: "count" }), shown.map(() => h("col"))),
      h("thead", {}, unitRow, objRow), h("tbody", {}, rows));
    table.style.setProperty("--columns", String(shown.length));
    where.replaceChildren(rows.length ? table : h("p", {}, "No student matches these filters."));
    const first = table.querySelector("td:not(.off) button");
    if (first) first.tabIndex = 0;
  }

  /* The map is one stop in the tab order; arrow keys move between cells
     (a grid of 2,000 buttons would otherwise take 2,000 presses of Tab). */
  function moveInMap(event) {
    const moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
    const cell = event.target.closest("#mastery-map td");
    if (!cell || !(event.key in moves || event.key === "Home" || event.key === "End")) return;
    const row = cell.parentElement;
    const rows = [...row.parentElement.children];
    let r = rows.indexOf(row);
    let c = cell.cellIndex;
    if (event.key === "Home") c = 2;
    else if (event.key === "End") c = row.cells.length - 1;
    else { r += moves[event.key][0]; c += moves[event.key][1]; }
    const target = rows[r]?.cells[Math.max(2, c)]?.querySelector("button");
    if (!target) return;
    event.preventDefault();
    event.target.tabIndex = -1;
    target.tabIndex = 0;
    target.focus();
  }

  /* Share of the class's cells mastered, per unit: a bar each, its figures in
     the canvas's label for a screen reader. */
  function drawUnitChart() {
    const canvas = document.getElementById("unit-chart");
    const per = [...units(state.map.objectives)].map(([key, objs]) => {
      const cells = state.map.students.length * objs.length;
      const got = state.map.students.reduce((n, s) =>
        n + objs.filter((o) => s.statuses[o.objective_id]?.status === "mastered").length, 0);
      return [key, cells ? Math.round((100 * got) / cells) : 0];
    });
    canvas.setAttribute("aria-label", "Mastered, by unit: " + per.map(([k, v]) => `${k} ${v} %`).join("; "));
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: per.map(([k]) => k), datasets: [{ label: "% of cells mastered", data: per.map(([, v]) => v),
        backgroundColor: "#1a7f37" }] },
      options: { indexAxis: "y", responsive: true, maintainAspectRatio: false, animation: false,
        scales: { x: { min: 0, max: 100, title: { display: true, text: "% of the class's cells mastered" } } },
        plugins: { legend: { display: false } } },
    });
  }

  function fillUnits() {
    const select = document.getElementById("filter-unit");
    for (const key of units(state.map.objectives).keys()) select.append(h("option", { value: key }, key));
  }

  async function loadMap() {
    const map = await fetched.map;
    state.map = map;
    for (const s of map.students) names.set(s.student_id, s.name);
    for (const o of map.objectives) statements.set(o.objective_id, o.statement);
    const mastered = map.students.reduce((n, s) => n + s.mastered, 0);
    const summary = document.getElementById("class-summary");
    summary.className = "";
    summary.textContent = `${map.students.length} students, ${map.objectives.length} objectives, ` +
      `${mastered} masteries recorded.`;
    fillUnits();
    drawMap();
    drawUnitChart();
  }

  function objectiveLabel(oid) {
    const s = statements.get(oid);
    return s ? `${oid}: ${s}` : oid;
  }

  async function loadNext() {
    const where = document.getElementById("next");
    const next = await fetched.next;
    const rows = next.students.map((s) => h("tr", {}, h("th", { scope: "row" }, s.name),
      h("td", {}, s.objectives.length ? s.objectives.slice(0, 3).map((oid, i) =>
        [i ? ", " : "", h("abbr", { title: statements.get(oid) ?? oid }, oid)]) : "nothing ready yet",
      s.objectives.length > 3 ? ` (+${s.objectives.length - 3})` : "")));
    where.replaceChildren(h("table", { id: "next-table" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Student"), h("th", { scope: "col" }, "Ready to learn"))),
      h("tbody", {}, rows)), rows.length > NEXT_SHOWN ? showAll(rows) : null);
  }

  /* A class of 30 would push the groups and contradictions a screen down:
     the first NEXT_SHOWN students, and a button (a real one: Tab, Enter,
     Space) that shows the rest and says whether they are shown. */
  const NEXT_SHOWN = 8;
  function showAll(rows) {
    const rest = rows.slice(NEXT_SHOWN);
    const button = h("button", { type: "button", id: "next-toggle", "aria-controls": "next-table", "aria-expanded": "false" });
    const set = (open) => {
      for (const r of rest) r.hidden = !open;
      button.setAttribute("aria-expanded", String(open));
      button.textContent = open ? `Show the first ${NEXT_SHOWN} only` : `Show all ${rows.length} students`;
    };
    button.addEventListener("click", () => set(button.getAttribute("aria-expanded") !== "true"));
    set(false);
    return h("p", {}, button);
  }

  function member(m) { return `${m.name} (${m.score_display ?? STATUS[m.status].label})`; }

  async function loadGroups() {
    const where = document.getElementById("groups");
    const { groups } = await fetched.groups;
    if (!groups.length) { where.replaceChildren(h("p", {}, "No one needs re-teaching right now.")); return; }
    where.replaceChildren(h("ul", {}, groups.map((g) => h("li", {},
      h("strong", {}, objectiveLabel(g.objective_id)),
      h("br"), `Re-teach: ${g.reteach.map(member).join(", ")}`,
      h("br"), g.peer_tutors.length ? `Peer tutors: ${g.peer_tutors.map((m) => m.name).join(", ")}`
        : "No peer tutor in this class yet."))));
  }

  const KINDS = {
    benchmark_below_mastery: "mastered, but the benchmark fell below the threshold",
    benchmark_above_status: "not mastered, but the benchmark met the threshold",
  };

  async function loadContradictions() {
    const where = document.getElementById("contradictions");
    const found = await fetched.contradictions;
    if (!found.length) { where.replaceChildren(h("p", {}, "None: benchmarks agree with recorded mastery.")); return; }
    where.replaceChildren(h("ul", {}, found.map((c) => h("li", {},
      h("button", { type: "button", class: "linkish", dataset: { student: c.student_id, objective: c.objective_id } },
        `${names.get(c.student_id) ?? c.student_id}, ${c.objective_id}`),
      `: ${KINDS[c.kind] ?? c.kind} (${c.benchmark_id}, ${c.benchmark_percent} %, ${when(c.detected_at)})`))));
  }

  function ruleText(rule) {
    if (!rule) return "No rule in force.";
    const t = rule.rule.threshold;
    const need = t.kind === "correct_of" ? `${t.min_correct} of ${t.of} correct`
      : t.kind === "percent" ? `at least ${t.min} %` : `rubric level ${t.min_level} or above`;
    const calc = rule.rule.calculation.method.replaceAll("_", " ");
    const limit = rule.rule.time_limit_seconds ? `, within ${rule.rule.time_limit_seconds} s` : "";
    return `Rule version ${rule.version}: ${need}${limit}; decided by ${calc}.`;
  }

  async function explain(studentId, objectiveId) {
    const dialog = document.getElementById("explain");
    const body = document.getElementById("explain-body");
    document.getElementById("explain-title").textContent =
      `${names.get(studentId) ?? studentId}: ${objectiveLabel(objectiveId)}`;
    body.replaceChildren(h("p", { class: "status-loading" }, "Loading…"));
    dialog.showModal();
    try {
      const ex = await api(`/v1/students/${enc(studentId)}/objectives/${enc(objectiveId)}/explain`);
      const st = STATUS[ex.status];
      body.replaceChildren(...[
        h("p", { class: "sentence" }, h("span", { class: `st st-${ex.status}`, title: st.label }, st.symbol), " ",
          ex.sentence),
        h("p", {}, ruleText(ex.rule)),
        ex.flags.length ? h("p", { class: "error" }, `Flags: ${ex.flags.join(", ").replaceAll("_", " ")}`) : null,
        ex.evidence.length ? h("table", { id: "evidence" },
          h("thead", {}, h("tr", {}, ["When", "Evidence", "Form", "Score", "Threshold", "Why"].map(
            (c) => h("th", { scope: "col" }, c)))),
          h("tbody", {}, ex.evidence.map((e) => h("tr", {},
            h("td", {}, when(e.occurred_at)), h("td", {}, `${e.type} · ${e.evidence.replaceAll("_", " ")}`),
            h("td", {}, e.form), h("td", {}, e.score),
            h("td", {}, e.meets_threshold ? h("span", { class: "met" }, "✓ met")
              : h("span", { class: "missed" }, "✗ missed"), e.counted ? "" : " (not counted)"),
            h("td", {}, e.reason))))) : h("p", {}, "No evidence yet."),
        ex.overrides.length ? h("p", {}, `Overrides: ${ex.overrides.map((o) => `${o.status}: ${o.reason}`).join("; ")}`)
          : null,
        ex.benchmark ? h("p", {}, `Benchmark: ${ex.benchmark.sentence}`) : null].filter(Boolean));
    } catch (err) { fail(body, err); }
  }

  document.getElementById("map").addEventListener("keydown", moveInMap);
  root.addEventListener("click", (event) => {
    const target = event.target.closest("button[data-student]");
    if (target) explain(target.dataset.student, target.dataset.objective);
  });
  document.getElementById("filter-unit").addEventListener("change", (e) => { state.unit = e.target.value; drawMap(); });
  document.getElementById("filter-status").addEventListener("change", (e) => { state.status = e.target.value; drawMap(); });

  /* All four reads start at once; the sections after the map are drawn once
     it is (they name its students and objectives). */
  const fetched = {
    map: api(`/v1/classes/${enc(classId)}/mastery-map`),
    next: api(`/v1/classes/${enc(classId)}/next`),
    groups: api(`/v1/classes/${enc(classId)}/groups`),
    contradictions: api(`/v1/contradictions?class_id=${enc(classId)}`),
  };
  for (const p of Object.values(fetched)) p.catch(() => {}); // each failure is shown where it belongs
  loadMap().then(() => Promise.all([
    loadNext().catch((e) => fail(document.getElementById("next"), e)),
    loadGroups().catch((e) => fail(document.getElementById("groups"), e)),
    loadContradictions().catch((e) => fail(document.getElementById("contradictions"), e)),
  ])).catch((e) => fail(document.getElementById("map"), e))
    .finally(() => root.setAttribute("data-loaded", String(Math.round(performance.now())))); // ms since navigation: bench
})();
