/* The auditor's view (/ui/students/{id}/audit): the timeline with who recorded
   each event and when, voids and overrides marked, and the statuses as of a
   moment and, separately, as known at a moment (GET /mastery?as_of= and
   ?known_at=), beside the status now. All from /v1 with the session cookie. */
"use strict";
(function () {
  const { api, h, STATUS, fail, day, when } = window.ML;
  const { scoreText, table, endOfDay, isoDay, enc } = window.MLV;
  const root = document.getElementById("audit-view");
  const sid = root.dataset.studentId;
  const base = `/v1/students/${enc(sid)}`;
  const DAY = 864e5;
  const state = { events: [], now: new Map(), days: [], asOf: null, knownAt: null, filter: "", seq: 0 };
  const moments = { asOf: new Map(), knownAt: new Map() }; // objective -> status at the chosen moment

  function lag(e) {
    const ms = new Date(e.recorded_at) - new Date(e.occurred_at);
    if (ms < 60e3) return "at once";
    const d = Math.floor(ms / DAY), hrs = Math.floor((ms % DAY) / 36e5), min = Math.floor((ms % 36e5) / 6e4);
    return `${d ? `${d} d ` : ""}${d || hrs ? `${hrs} h` : `${min} min`} later`;
  }

  function details(e, byId) {
    const p = e.payload;
    switch (e.type) {
      case "attempt": case "retake":
        return `${p.evidence.replaceAll("_", " ")}, form ${p.form}, ${scoreText(p.score)}` +
          (p.retake_of ? ` (retake of ${when(byId.get(p.retake_of)?.occurred_at) || p.retake_of})` : "");
      case "reflection": return `on the ${byId.get(p.on_event)?.type ?? "event"} of ${when(byId.get(p.on_event)?.occurred_at)}: “${p.text}”`;
      case "override": return `status set to ${p.status.replaceAll("_", " ")}: ${p.reason}`;
      case "void": {
        const t = byId.get(p.target_event_id);
        return `voids the ${t ? `${t.type} of ${when(t.occurred_at)}${t.objective_id ? ` on ${t.objective_id}` : ""}` : p.target_event_id}: ${p.reason}`;
      }
      case "goal": return `${p.target_mastered} objectives by ${day(p.due)}`;
      case "benchmark": return `${p.name}: ${p.results.map((r) => `${r.objective_id} ${r.correct}/${r.total}`).join(", ")}`;
      default: return "";
    }
  }

  /* A one-word badge (its row greyed too) that keeps a row one line tall; the
     whole phrase is its tooltip, what a screen reader says, and in the legend. */
  function badge(word, phrase) {
    return h("span", { class: "mark mark-later", title: phrase },
      h("span", { "aria-hidden": "true" }, word), h("span", { class: "sr-only" }, phrase));
  }

  function late(e) { return new Date(e.recorded_at) - new Date(e.occurred_at) >= DAY; }

  function shown(e) {
    switch (state.filter) {
      case "evidence": return e.type === "attempt" || e.type === "retake";
      case "corrections": return e.voided || e.type === "void" || e.type === "override";
      case "late": return late(e);
      default: return true;
    }
  }

  function drawTimeline() {
    const byId = new Map(state.events.map((e) => [e.event_id, e]));
    const voidOf = new Map(state.events.filter((e) => e.type === "void").map((e) => [e.payload.target_event_id, e]));
    const asOf = state.asOf ? new Date(endOfDay(state.asOf)) : null;
    const knownAt = state.knownAt ? new Date(endOfDay(state.knownAt)) : null;
    const rows = state.events.filter(shown);
    const cells = rows.map((e) => {
      const marks = [];
      if (e.voided) marks.push(h("span", { class: "mark mark-void" }, "VOIDED"));
      if (e.type === "void") marks.push(h("span", { class: "mark mark-void" }, "VOID"));
      if (e.type === "override") marks.push(h("span", { class: "mark mark-override" }, "OVERRIDE"));
      if (late(e)) marks.push(h("span", { class: "mark mark-later" }, "LATE"));
      if (asOf && new Date(e.occurred_at) > asOf) marks.push(badge("AFTER", "after the as-of date"));
      if (knownAt && new Date(e.recorded_at) > knownAt) marks.push(badge("UNKNOWN", "not yet recorded at the known-at date"));
      const voider = voidOf.get(e.event_id);
      const st = e.status_after ? STATUS[e.status_after] : null;
      return [when(e.occurred_at), h("span", {}, when(e.recorded_at), h("br"), h("span", { class: "detail" }, lag(e))),
        h("span", {}, ...marks, e.type), e.objective_id ?? "",
        h("span", {}, e.recorded_by, e.migrated_by ? h("span", { class: "detail" }, h("br"), `brought in by ${e.migrated_by}`) : null),
        h("span", {}, details(e, byId), voider ? h("span", { class: "voided-note" }, h("br"), `voided ${when(voider.recorded_at)} by ${voider.recorded_by}`) : null),
        st ? h("span", {}, h("span", { class: `st st-${e.status_after}` }, st.symbol), ` ${st.label}`) : ""];
    });
    document.getElementById("timeline").replaceChildren(rows.length
      ? table("timeline-table", `${rows.length} of ${state.events.length} events, in the order they happened`,
        ["Happened", "Recorded", "Event", "Objective", "Recorded by", "What", "Status after"], cells, (i) => {
          const e = rows[i];
          const out = [e.voided ? "voided" : "", (asOf && new Date(e.occurred_at) > asOf) ||
            (knownAt && new Date(e.recorded_at) > knownAt) ? "not-yet" : ""].filter(Boolean).join(" ");
          return { class: out || null, dataset: { event: e.event_id, type: e.type } };
        })
      : h("p", {}, "No event matches."));
  }

  function chip(status) {
    if (!status) return h("span", { class: "detail" }, "—");
    const st = STATUS[status];
    return h("span", {}, h("span", { class: `st st-${status}` }, st.symbol), ` ${st.label}`);
  }

  function drawStatuses() {
    const ids = [...new Set([...state.now.keys(), ...moments.asOf.keys(), ...moments.knownAt.keys()])].sort();
    const at = (m, oid, on) => (on ? (m.get(oid) ?? "not_started") : null);
    let differ = 0;
    const rows = ids.map((oid) => {
      const now = state.now.get(oid) ?? "not_started";
      const a = at(moments.asOf, oid, state.asOf), k = at(moments.knownAt, oid, state.knownAt);
      const changed = (a && a !== now) || (k && k !== now);
      if (changed) differ++;
      return { oid, cells: [oid, chip(now), a ? h("span", {}, chip(a), a !== now ? h("strong", {}, " (≠ now)") : "") : chip(null),
        k ? h("span", {}, chip(k), k !== now ? h("strong", {}, " (≠ now)") : "") : chip(null)], changed };
    });
    document.getElementById("statuses").replaceChildren(table("status-table", null,
      ["Objective", "Now", `As of ${state.asOf ? day(state.asOf) : "(choose a date)"}`,
        `Known at ${state.knownAt ? day(state.knownAt) : "(choose a date)"}`],
      rows.map((r) => r.cells), (i) => ({ class: rows[i].changed ? "changed" : null, dataset: { objective: rows[i].oid } })));
    const chosen = [state.asOf && `as of ${day(state.asOf)}`, state.knownAt && `as known at ${day(state.knownAt)}`].filter(Boolean);
    document.getElementById("moment-summary").textContent = chosen.length
      ? `${differ} of ${ids.length} objectives differ from now ${chosen.join(" or ")}.` : "Choose a date to compare with now.";
  }

  async function moment(which, dayValue) {
    const key = which === "asOf" ? "as_of" : "known_at";
    state[which] = dayValue || null;
    const seq = ++state.seq;
    if (dayValue) {
      const m = await api(`${base}/mastery?${key}=${enc(endOfDay(dayValue))}`);
      if (seq !== state.seq && state[which] !== dayValue) return; // a later choice answers instead
      moments[which] = new Map(m.objectives.map((o) => [o.objective_id, o.status]));
    } else moments[which] = new Map();
    drawStatuses();
    drawTimeline();
    root.dataset.moment = `${state.asOf ?? ""}|${state.knownAt ?? ""}`; // for tests: the answer is drawn
  }

  function wire(which, prefix) {
    const date = document.getElementById(`${prefix}-date`);
    const range = document.getElementById(`${prefix}-range`);
    range.max = String(state.days.length - 1);
    range.value = range.max;
    date.min = state.days[0];
    date.max = state.days[state.days.length - 1];
    const set = (d) => moment(which, d).catch((e) => fail(document.getElementById("statuses"), e));
    let timer = null;
    range.addEventListener("input", () => {
      const d = state.days[Number(range.value)];
      date.value = d;
      range.setAttribute("aria-valuetext", day(d));
      clearTimeout(timer);
      timer = setTimeout(() => set(d), 200);
    });
    date.addEventListener("change", () => {
      const i = state.days.indexOf(date.value);
      if (i >= 0) range.value = String(i);
      set(date.value || null);
    });
    document.getElementById(`${prefix}-clear`).addEventListener("click", () => {
      date.value = ""; range.value = range.max; range.removeAttribute("aria-valuetext"); set(null);
    });
  }

  async function load() {
    const [profile, history, now] = await Promise.all([api(base), api(`${base}/history`), api(`${base}/mastery`)]);
    document.getElementById("student-name").textContent = profile.name;
    document.title = `Audit: ${profile.name} · Mastery Ledger`;
    state.events = history.events;
    state.now = new Map(now.objectives.map((o) => [o.objective_id, o.status]));
    const first = state.events.length ? new Date(state.events[0].occurred_at) : new Date();
    for (let d = new Date(first.getFullYear(), first.getMonth(), first.getDate()); d <= new Date(); d = new Date(d.getTime() + DAY)) {
      state.days.push(isoDay(d));
    }
    if (!state.days.length) state.days.push(isoDay(new Date()));
    const n = (t) => state.events.filter((e) => e.type === t).length;
    const summary = document.getElementById("audit-summary");
    summary.className = "";
    summary.textContent = `${state.events.length} events: ${n("attempt")} attempts, ${n("retake")} retakes, ` +
      `${n("reflection")} reflections, ${n("override")} overrides, ${n("void")} voids ` +
      `(${state.events.filter((e) => e.voided).length} events voided); recorded by ` +
      `${new Set(state.events.map((e) => e.recorded_by)).size} different recorders.`;
    wire("asOf", "as-of");
    wire("knownAt", "known-at");
    document.getElementById("timeline-filter").addEventListener("change", (e) => { state.filter = e.target.value; drawTimeline(); });
    drawStatuses();
    drawTimeline();
  }

  load().catch((e) => fail(document.getElementById("audit-summary"), e))
    .finally(() => root.setAttribute("data-loaded", "true"));
})();
