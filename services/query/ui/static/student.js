/* The student's tracker (/ui/students/{id}): objectives unit by unit, growth
   week by week with the goal, recent evidence, retakes waiting for a
   reflection; a guardian switches between their students. Everything comes
   from /v1 with the session cookie (ui.js `ML.api`). */
"use strict";
(function () {
  const { api, h, STATUS, fail, day, when } = window.ML;
  const { catalog, flagText, scoreText, table, now, SERIES, chartDefaults, enc } = window.MLV;
  const root = document.getElementById("student-view");
  const sid = root.dataset.studentId;
  const base = `/v1/students/${enc(sid)}`;
  const RECENT = 12;
  const canReflect = root.dataset.canReflect === "true";
  let growth = null; // the chart, replaced when the page reloads its data

  async function loadSwitcher() {
    const links = [...document.querySelectorAll("#switcher a[data-student]")];
    await Promise.all(links.map(async (a) => {
      const p = await api(`/v1/students/${enc(a.dataset.student)}`);
      a.textContent = p.name;
    }));
  }

  function unitKey(o) { return `${o.course} · ${o.unit}`; }

  function drawUnits(objectives, mastery) {
    const status = new Map(mastery.objectives.map((s) => [s.objective_id, s]));
    const courses = new Set([...status.keys()].map((oid) => objectives.get(oid)?.course).filter(Boolean));
    const mine = [...objectives.values()].filter((o) => courses.has(o.course));
    const units = new Map();
    for (const o of mine) {
      if (!units.has(unitKey(o))) units.set(unitKey(o), []);
      units.get(unitKey(o)).push(o);
    }
    const where = document.getElementById("units");
    if (!units.size) { where.replaceChildren(h("p", {}, "No objective started yet.")); return mine.length; }
    where.replaceChildren(...[...units].map(([key, objs]) => {
      const done = objs.filter((o) => status.get(o.objective_id)?.status === "mastered").length;
      return h("section", { class: "unit", "aria-label": key },
        h("h3", {}, key, " ", h("span", { class: "detail" }, `${done} of ${objs.length} mastered`)),
        h("progress", { max: objs.length, value: done, "aria-label": `${key}: ${done} of ${objs.length} mastered` }),
        h("ol", { class: "path" }, objs.map((o) => {
          const s = status.get(o.objective_id) || { status: "not_started", flags: [] };
          const st = STATUS[s.status];
          return h("li", { class: `stone st-${s.status}`, dataset: { objective: o.objective_id, status: s.status } },
            h("span", { class: "sym", "aria-hidden": "true" }, st.symbol),
            h("span", { class: "oid" }, o.objective_id),
            h("span", { class: "visually-hidden" }, `: ${st.label}`),
            h("span", { class: "statement" }, o.statement),
            s.flags.length ? h("span", { class: "flag-note" }, h("span", { class: "flag", "aria-hidden": "true" }, "! "),
              flagText(s.flags)) : null);
        })));
    }));
    return mine.length;
  }

  function weeksBetween(a, b) { return Math.round((new Date(b) - new Date(a)) / (7 * 864e5)); }

  function drawGrowth(t) {
    const points = t.points;
    document.getElementById("growth-table").replaceChildren(points.length
      ? table("growth-numbers", null, ["Week of", "Objectives mastered"],
        points.map((p) => [day(p.period_start), String(p.mastered_total)]))
      : h("p", {}, "No week yet."));
    if (!points.length || !window.Chart) return;
    const labels = points.map((p) => p.period_start);
    const last = points[points.length - 1];
    const series = [{ label: "Mastered", data: points.map((p) => p.mastered_total), s: SERIES[0] }];
    if (t.goal) {
      const ahead = Math.max(0, weeksBetween(last.period_start, t.goal.due));
      for (let i = 1; i <= ahead; i++) {
        const d = new Date(last.period_start);
        d.setDate(d.getDate() + 7 * i);
        labels.push(d.toISOString().slice(0, 10));
      }
      const from = points.length - 1;
      series.push({ label: "At this pace", s: SERIES[2],
        data: labels.map((_, i) => (i < from ? null : +(last.mastered_total + t.rate_per_week * (i - from)).toFixed(1))) });
      series.push({ label: `Goal: ${t.goal.target_mastered}`, s: SERIES[1], data: labels.map(() => t.goal.target_mastered) });
    }
    chartDefaults();
    growth?.destroy();
    growth = new window.Chart(document.getElementById("growth-chart"), {
      type: "line",
      data: {
        labels: labels.map(day),
        datasets: series.map(({ label, data, s }) => ({ label, data, borderColor: s.color, backgroundColor: s.color,
          borderDash: s.dash, pointStyle: s.point, pointRadius: label === "Mastered" ? 4 : 0, spanGaps: false })),
      },
      options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true, title: { display: true, text: "objectives mastered" } } },
        plugins: { legend: { labels: { usePointStyle: true } } } },
    });
  }

  function drawGoal(t, mastered) {
    const where = document.getElementById("goal");
    if (!t.goal) { where.replaceChildren(h("p", {}, "No goal set yet."), h("p", { class: "hint" },
      `Mastering about ${t.rate_per_week.toFixed(1)} objectives a week lately.`)); return; }
    const g = t.goal;
    const left = Math.max(0, weeksBetween(new Date(), g.due));
    const need = Math.max(0, g.target_mastered - mastered);
    where.replaceChildren(
      h("p", { class: "sentence" }, `Master ${g.target_mastered} objectives by ${day(g.due)}.`),
      h("p", { id: "on-track", class: g.on_track ? "on-track" : "off-track" },
        g.on_track ? "✓ On track" : "✗ Not on track", ": ",
        `about ${Math.round(g.projected_at_due)} by then at this pace (${t.rate_per_week.toFixed(1)} a week).`),
      h("p", { class: "hint" }, need ? `${mastered} mastered so far; ${need} to go` +
        (left ? `, about ${(need / left).toFixed(1)} a week over the ${left} weeks left.` : ".")
        : `${mastered} mastered: reached.`));
  }

  function drawEvidence(events, objectives) {
    const where = document.getElementById("evidence");
    const shown = events.filter((e) => e.type === "attempt" || e.type === "retake")
      .sort((a, b) => new Date(b.occurred_at) - new Date(a.occurred_at)).slice(0, RECENT);
    if (!shown.length) { where.replaceChildren(h("p", {}, "No evidence yet.")); return; }
    where.replaceChildren(table("recent-evidence", `The latest ${shown.length} pieces of evidence`,
      ["When", "Objective", "Evidence", "Score", "Status after"],
      shown.map((e) => {
        const st = e.status_after ? STATUS[e.status_after] : null;
        return [when(e.occurred_at), `${e.objective_id}: ${objectives.get(e.objective_id)?.statement ?? ""}`,
          `${e.type === "retake" ? "retake, " : ""}${e.payload.evidence.replaceAll("_", " ")} (form ${e.payload.form})`,
          scoreText(e.payload.score),
          e.voided ? h("span", { class: "voided-note" }, "✗ voided, not counted")
            : st ? h("span", {}, h("span", { class: `st st-${e.status_after}` }, st.symbol), ` ${st.label}`) : ""];
      }), (i) => (shown[i].voided ? { class: "voided" } : {})));
  }

  /* A reflection on the evidence a retake retakes: what clears the flag. */
  async function reflect(event, retake) {
    event.preventDefault();
    const form = event.target;
    const text = form.elements.text.value.trim();
    const said = form.querySelector("[role=status]");
    if (!text) { said.textContent = "Write a few words first."; return; }
    form.querySelector("button").disabled = true;
    try {
      const body = { events: [{ event_id: crypto.randomUUID(), type: "reflection", student_id: sid,
        occurred_at: now(), on_event: retake.payload.retake_of, text }] };
      const done = await api("/v1/events", { method: "POST", body: JSON.stringify(body),
        headers: { Accept: "application/json", "Content-Type": "application/json" } });
      said.textContent = "Saved.";
      await load(done.position);
    } catch (err) {
      said.textContent = `Not saved: ${err.message}`;
      form.querySelector("button").disabled = false;
    }
  }

  function reflectionForm(e, i) {
    const id = `reflection-${i}`;
    return h("form", { class: "reflect", onsubmit: (ev) => reflect(ev, e) },
      h("label", { for: id }, "What went wrong the first time, and what did you change?"),
      h("textarea", { id, name: "text", rows: 2, maxlength: 2000, required: true }),
      h("button", { type: "submit" }, "Save reflection"),
      h("span", { role: "status" }));
  }

  function drawRetakes(events, objectives) {
    const live = events.filter((e) => !e.voided);
    const reflected = new Set(live.filter((e) => e.type === "reflection").map((e) => e.payload.on_event));
    const waiting = live.filter((e) => e.type === "retake" && !reflected.has(e.payload.retake_of));
    const where = document.getElementById("retakes");
    if (!waiting.length) { where.replaceChildren(h("p", {}, "✓ None: every retake has its reflection.")); return; }
    where.replaceChildren(h("p", { class: "hint" }, "What went wrong the first time? A reflection on it counts."),
      h("ul", { id: "retakes-waiting" }, waiting.map((e, i) => h("li", { dataset: { event: e.event_id } },
        h("span", { class: "flag", "aria-hidden": "true" }, "! "),
        `${e.objective_id}: ${objectives.get(e.objective_id)?.statement ?? ""} (retake of ${when(e.occurred_at)})`,
        canReflect ? reflectionForm(e, i) : null))));
  }

  /* Everything from the API; after a write, as of its position (`min_position`). */
  async function load(position) {
    const at = position ? `?min_position=${position}` : "";
    const [profile, mastery, objectives, trajectory, history] = await Promise.all([
      api(base), api(`${base}/mastery${at}`), catalog(), api(`${base}/trajectory${at}`), api(`${base}/history${at}`),
    ]);
    document.getElementById("student-name").textContent = profile.name;
    document.title = `${profile.name} · Mastery Ledger`;
    const total = drawUnits(objectives, mastery);
    const sum = mastery.summary;
    const summary = document.getElementById("student-summary");
    summary.className = "";
    summary.textContent = `Grade ${profile.grade}` +
      `${profile.classes.length ? ` · ${profile.classes.map((c) => c.name).join(", ")}` : ""}: ` +
      `${sum.mastered} of ${total} objectives mastered, ${sum.in_progress} in progress.`;
    drawGoal(trajectory, sum.mastered);
    drawGrowth(trajectory);
    drawEvidence(history.events, objectives);
    drawRetakes(history.events, objectives);
  }

  Promise.all([
    load().catch((e) => fail(document.getElementById("student-summary"), e)),
    loadSwitcher().catch((e) => fail(document.getElementById("switcher") ?? root, e)),
  ]).finally(() => root.setAttribute("data-loaded", "true"));
})();
