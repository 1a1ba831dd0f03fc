/* What every dashboard script shares (loaded by base.html before the view's own).
   `ML.api(path)` reads the /v1 API with the session cookie (same origin: the
   browser sends it; the API applies its scope and records the read); a write
   also sends the page's CSRF token. `ML.h(tag, attrs, ...children)` builds an
   element without innerHTML, so no data is ever parsed as markup. */
"use strict";
window.ML = (function () {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

  class ApiError extends Error {
    constructor(status, detail) { super(detail); this.status = status; }
  }

  async function api(path, options = {}) {
    const init = { credentials: "same-origin", headers: { Accept: "application/json" }, ...options };
    if (init.method && !["GET", "HEAD"].includes(init.method)) init.headers["X-CSRF-Token"] = csrf;
    const res = await fetch(path, init);
    if (res.status === 401) { window.location.assign("/"); throw new ApiError(401, "signed out"); }
    const body = res.headers.get("content-type")?.includes("json") ? await res.json() : null;
    if (!res.ok) throw new ApiError(res.status, (body && body.detail) || res.statusText);
    return body;
  }

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "class") el.className = v;
      else if (k === "dataset") Object.assign(el.dataset, v);
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  /* Status names as people read them, with the symbol that goes with the colour. */
  const STATUS = {
    mastered: { symbol: "✓", label: "mastered" },
    in_progress: { symbol: "◐", label: "in progress" },
    not_started: { symbol: "○", label: "not started" },
  };

  function fail(where, err) {
    where.replaceChildren(h("p", { class: "error", role: "alert" }, `Could not load: ${err.message}`));
  }

  /* Every date and time on the pages, written as the API's own sentences
     write them (explain's "on 2026-08-27"): the ISO day, and "2026-08-27
     13:46" where the time matters, read off the RFC 3339 text itself, i.e. in
     the offset it was written with (an event's own, as the API's words use),
     so a page and a sentence never name different days. A time in UTC says
     so ("… 18:50 UTC"): recorded_at and detected_at are written in UTC. */
  function day(iso) { return iso ? String(iso).slice(0, 10) : ""; }

  function when(iso) {
    if (!iso) return "";
    const text = String(iso);
    if (text.length < 16 || text[10] !== "T") return day(text);
    const utc = /(Z|[+-]00:?00)$/.test(text) ? " UTC" : "";
    return `${text.slice(0, 10)} ${text.slice(11, 16)}${utc}`;
  }

  return { api, h, STATUS, fail, day, when, csrf, ApiError };
})();
