/* What the student, audit, school and district views share (loaded after
   ui.js): the catalog read in pages, flags and scores as people read them,
   a table builder, a moment with the browser's own offset for as_of and
   known_at, and Chart.js defaults that stay readable at 200 % zoom. */
"use strict";
window.MLV = (function () {
  const { api, h } = window.ML;
  const enc = encodeURIComponent;

  /* Every objective of the catalog (GET /v1/objectives, pages of 1,000), by id. */
  async function catalog() {
    const out = new Map();
    let after = null;
    do {
      const page = await api(`/v1/objectives?limit=1000${after ? `&after=${enc(after)}` : ""}`);
      for (const o of page.objectives) out.set(o.objective_id, o);
      after = page.next;
    } while (after);
    return out;
  }

  const FLAGS = {
    reflection_missing: "retake waiting for a reflection",
    same_form_retake: "retake on the same form",
    override_contradicted: "evidence disagrees with the override",
    benchmark_disagrees: "a benchmark disagrees",
  };
  function flagText(flags) { return flags.map((f) => FLAGS[f] ?? f.replaceAll("_", " ")).join(", "); }

  function scoreText(score) {
    if (!score) return "";
    if ("correct" in score) return `${score.correct}/${score.total}`;
    if ("percent" in score) return `${Math.round(score.percent * 10) / 10} %`; // to one decimal, as the API's words
    if ("rubric_level" in score) return score.rubric_level; // a level by its name, as explain writes it
    return "";
  }

  /* A table: `columns` are headings, `rows` arrays of cells (text or nodes);
     `rowAttrs(i)` may give a row its class. */
  function table(id, caption, columns, rows, rowAttrs) {
    return h("table", { id, class: "data" },
      caption ? h("caption", { class: "hint" }, caption) : null,
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows.map((cells, i) => h("tr", rowAttrs ? rowAttrs(i) : {},
        cells.map((c, j) => (j === 0 ? h("th", { scope: "row" }, c) : h("td", {}, c)))))));
  }

  /* The end of a local day (YYYY-MM-DD) in the browser's offset, as RFC 3339. */
  function endOfDay(day) {
    const d = new Date(`${day}T23:59:59`);
    const minutes = -d.getTimezoneOffset();
    const sign = minutes < 0 ? "-" : "+";
    const abs = Math.abs(minutes);
    const pad = (n) => String(n).padStart(2, "0");
    return `${day}T23:59:59${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  }

  /* Now, as RFC 3339 with the browser's offset (an event's occurred_at). */
  function now() {
    const d = new Date();
    const minutes = -d.getTimezoneOffset();
    const pad = (n) => String(Math.floor(Math.abs(n))).padStart(2, "0");
    return `${isoDay(d)}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` +
      `${minutes < 0 ? "-" : "+"}${pad(Math.abs(minutes) / 60)}:${pad(Math.abs(minutes) % 60)}`;
  }

  /* A local YYYY-MM-DD of a time (for date inputs). */
  function isoDay(d) {
    const pad = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  }

  /* Colours that are told apart without colour too: each series also has its
     own point style and dash, and a legend and table name it. */
  const SERIES = [
    { color: "#0b5cad", point: "circle", dash: [] },
    { color: "#b3261e", point: "rectRot", dash: [6, 3] },
    { color: "#1a7f37", point: "triangle", dash: [2, 2] },
    { color: "#8a5a00", point: "rect", dash: [10, 4] },
    { color: "#6639ba", point: "star", dash: [4, 4, 1, 4] },
    { color: "#57606a", point: "crossRot", dash: [1, 3] },
  ];

  function chartDefaults() {
    if (!window.Chart) return;
    window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    window.Chart.defaults.font.size = 14;
    window.Chart.defaults.color = "#1b1f24";
    window.Chart.defaults.animation = false; // calm, and screenshots are of the final chart
  }

  return { catalog, flagText, scoreText, table, endOfDay, now, isoDay, SERIES, chartDefaults, enc };
})();
