/* The leader's views (/ui/schools/{id}, /ui/district): objectives mastered
   per student per week by grade and by class (or school), week by week, and
   where benchmarks disagree. Every number is the API's (/v1/.../summary,
   /summary/weekly, /v1/contradictions): a group the API suppresses is not
   drawn and reads "suppressed" in the tables. */
"use strict";
(function () {
  const { api, h, fail, day, when } = window.ML;
  const { table, SERIES, chartDefaults, enc } = window.MLV;
  const root = document.getElementById("leader-view");
  const school = root.dataset.schoolId;
  const unit = root.dataset.unit; // "class" in a school, "school" in the district
  const base = school ? `/v1/schools/${enc(school)}/summary` : "/v1/district/summary";
  // The schools the caller may read: the district's links and contradictions are for these.
  const readable = school ? Promise.resolve(null) : api("/v1/schools?limit=1000");
  const POINTS = ["circle", "rectRot", "triangle", "rect", "star", "crossRot", "cross"];
  const HIDDEN = "suppressed";

  function style(i) {
    const s = SERIES[i % SERIES.length];
    return { borderColor: s.color, backgroundColor: s.color, borderDash: s.dash, pointStyle: POINTS[i % POINTS.length], pointRadius: 4 };
  }

  function lineChart(id, weeks, series) {
    if (!series.length) document.getElementById(id).closest(".chart-box").hidden = true; // all suppressed
    if (!window.Chart || !series.length) return;
    chartDefaults();
    new window.Chart(document.getElementById(id), {
      type: "line",
      data: { labels: weeks.map(day), datasets: series.map((s, i) => ({ label: s.label, data: s.data, ...style(i) })) },
      options: { maintainAspectRatio: false, plugins: { legend: { labels: { usePointStyle: true } } },
        scales: { y: { beginAtZero: true, title: { display: true, text: "mastered per student" } } } },
    });
  }

  function hiddenNote(id, names) {
    document.getElementById(id).textContent = names.length
      ? `Suppressed (fewer than 10 students), not drawn: ${names.join(", ")}.` : "";
  }

  /* Two decimals at most (the API's three read as false precision on a page). */
  function num(v) {
    if (v === null || v === undefined) return HIDDEN;
    return Number.isInteger(v) ? String(v) : String(Number(v.toFixed(2)));
  }

  function drawGrades(summary) {
    const key = (g) => `Grade ${g.grade} · ${g.subject}`;
    document.getElementById("grade-stats").replaceChildren(...summary.groups.map((g) => h("li", {},
      h("span", {}, key(g)),
      g.suppressed ? h("strong", { class: "suppressed" }, HIDDEN)
        : h("strong", {}, `${num(g.mastered_per_student_per_week)} a week`),
      h("span", { class: "detail" }, g.suppressed ? "fewer than 10 students"
        : `per student; ${g.students} students, ${g.mastered} mastered, ${g.in_progress} in progress`))));
    const shown = summary.groups.filter((g) => !g.suppressed);
    const cell = new Map(summary.cells.map((c) => [`${key(c)}|${c.week}`, c]));
    lineChart("grades-chart", summary.weeks, shown.map((g) => ({ label: key(g),
      data: summary.weeks.map((w) => cell.get(`${key(g)}|${w}`)?.mastered_per_student ?? null) })));
    hiddenNote("grades-hidden", summary.groups.filter((g) => g.suppressed).map(key));
    document.getElementById("grades-table").replaceChildren(table("grades-numbers", "Objectives mastered per student, by week",
      ["Week of", ...summary.groups.map(key)],
      summary.weeks.map((w) => [day(w), ...summary.groups.map((g) => num(cell.get(`${key(g)}|${w}`)?.mastered_per_student))])));
  }

  /* A class, or a school the caller may open (a leader reads the district's
     numbers but opens only its own schools: no link to a 404). */
  function unitLink(u, opens) {
    if (unit === "class") return h("a", { href: `/ui/classes/${enc(u.id)}` }, u.name);
    return !opens || opens.has(u.id) ? h("a", { href: `/ui/schools/${enc(u.id)}` }, u.name) : u.name;
  }

  function drawUnits(weekly, summary, opens) {
    const shown = weekly.units.filter((u) => !u.suppressed);
    lineChart("units-chart", weekly.weeks, shown.map((u) => ({ label: u.name,
      data: u.weeks.map((w) => w.mastered_per_student) })));
    hiddenNote("units-hidden", weekly.units.filter((u) => u.suppressed).map((u) => u.name));
    document.getElementById("units-table").replaceChildren(table("units-numbers", `Objectives mastered per student, by ${unit} and week`,
      ["Week of", ...weekly.units.map((u) => u.name)],
      weekly.weeks.map((w, i) => [day(w), ...weekly.units.map((u) => num(u.weeks[i].mastered_per_student))])));
    const rates = summary.breakdown;
    document.getElementById("rates-chart").closest(".chart-box").hidden = !rates.some((u) => !u.suppressed);
    if (window.Chart && rates.some((u) => !u.suppressed)) {
      const visible = rates.filter((u) => !u.suppressed);
      new window.Chart(document.getElementById("rates-chart"), {
        type: "bar",
        data: { labels: visible.map((u) => u.name), datasets: [{ label: "mastered per student per week",
          data: visible.map((u) => u.mastered_per_student_per_week), backgroundColor: SERIES[0].color }] },
        options: { indexAxis: "y", maintainAspectRatio: false, plugins: { legend: { display: false } },
          scales: { x: { beginAtZero: true, title: { display: true, text: "mastered per student per week" } } } },
      });
    }
    document.getElementById("rates-table").replaceChildren(table("rates-numbers", null,
      [unit === "class" ? "Class" : "School", "Students", "Mastered", "Per student", "Per student per week"],
      rates.map((u) => [unitLink(u, opens),
        num(u.students), num(u.mastered), num(u.mastered_per_student), num(u.mastered_per_student_per_week)]),
      (i) => (rates[i].suppressed ? { class: "suppressed" } : {})));
  }

  const KINDS = { benchmark_below_mastery: "Mastered, benchmark below", benchmark_above_status: "Not mastered, benchmark met" };

  function counts(found) {
    const out = { benchmark_below_mastery: 0, benchmark_above_status: 0 };
    for (const c of found) out[c.kind] = (out[c.kind] ?? 0) + 1;
    return out;
  }

  async function schoolContradictions() {
    const found = await api(`/v1/contradictions?school_id=${enc(school)}`);
    const where = document.getElementById("contradictions");
    if (!found.length) { where.replaceChildren(h("p", {}, "✓ None: benchmarks agree with recorded mastery.")); return; }
    const byObjective = new Map();
    for (const c of found) {
      if (!byObjective.has(c.objective_id)) byObjective.set(c.objective_id, []);
      byObjective.get(c.objective_id).push(c);
    }
    const n = counts(found);
    where.replaceChildren(
      h("p", { id: "contradiction-count" }, `${found.length} open: ${n.benchmark_below_mastery} mastered but below on a benchmark, ` +
        `${n.benchmark_above_status} not mastered but met on a benchmark.`),
      table("contradictions-by-objective", "By objective", ["Objective", KINDS.benchmark_below_mastery, KINDS.benchmark_above_status],
        [...byObjective].sort().map(([oid, cs]) => { const k = counts(cs); return [oid, String(k.benchmark_below_mastery), String(k.benchmark_above_status)]; })),
      h("details", {}, h("summary", {}, "Each student"), h("ul", {}, found.map((c) => h("li", {},
        h("a", { href: `/ui/students/${enc(c.student_id)}` }, c.student_id),
        `, ${c.objective_id}: ${KINDS[c.kind].toLowerCase()} (${c.benchmark_id}, ${c.benchmark_percent} %, ${when(c.detected_at)})`)))));
  }

  async function districtContradictions() {
    const { schools } = await readable;
    const rows = await Promise.all(schools.map(async (s) => [s, counts(await api(`/v1/contradictions?school_id=${enc(s.school_id)}`))]));
    document.getElementById("contradictions").replaceChildren(table("contradictions-by-school", "Open contradictions, by school",
      ["School", KINDS.benchmark_below_mastery, KINDS.benchmark_above_status],
      rows.map(([s, k]) => [h("a", { href: `/ui/schools/${enc(s.school_id)}` }, s.name), String(k.benchmark_below_mastery), String(k.benchmark_above_status)])));
  }

  async function load() {
    const [summary, weekly, mine] = await Promise.all([api(base), api(`${base}/weekly`), readable]);
    const opens = mine ? new Set(mine.schools.map((s) => s.school_id)) : null;
    const el = document.getElementById("leader-summary");
    el.className = "";
    const span = summary.weeks.length ? `${summary.weeks.length} weeks, from the week of ${day(summary.weeks[0])}` : "no week yet";
    el.textContent = `${summary.measure[0].toUpperCase()}${summary.measure.slice(1)}: ${span}. ` +
      `A group of fewer than ${summary.min_cell_size} students is suppressed.`;
    const last = summary.weeks[summary.weeks.length - 1];
    if (last && new Date(last).getTime() + 7 * 864e5 > Date.now()) {
      el.textContent += ` The week of ${day(last)} is under way: its numbers are partial.`;
    }
    drawGrades(summary);
    drawUnits(weekly, summary, opens);
  }

  Promise.all([
    load().catch((e) => fail(document.getElementById("leader-summary"), e)),
    (school ? schoolContradictions() : districtContradictions()).catch((e) => fail(document.getElementById("contradictions"), e)),
  ]).finally(() => root.setAttribute("data-loaded", "true"));
})();
