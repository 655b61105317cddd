// The dashboard's shell: DOM helper, API client (session cookie + CSRF
// header), router, the Server-Sent Events connection and the layout.
import { pages } from "./pages.js";

// h builds an element: h("a", {href: "/ui/", "data-nav": "home"}, "Home").
// Text is always set as text, never parsed as HTML.
export function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on") && typeof v === "function") e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

const state = { session: null, es: null, page: null, handlers: {} };

export function session() { return state.session; }

export class APIError extends Error {
  constructor(status, detail) { super(detail); this.status = status; }
}

// api calls the dashboard API; state-changing calls carry the CSRF token.
export async function api(method, url, body) {
  const opts = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (method !== "GET") {
    if (state.session && state.session.csrf_token) opts.headers["X-CSRF-Token"] = state.session.csrf_token;
    if (body instanceof FormData) opts.body = body;
    else if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  }
  const res = await fetch(url, opts);
  let data = null;
  const ct = res.headers.get("Content-Type") || "";
  if (ct.includes("application/json")) data = await res.json();
  if (res.status === 401 && !url.endsWith("/login")) {
    state.session = null;
    navigate("/ui/login", true);
    throw new APIError(401, (data && data.detail) || "not signed in");
  }
  if (!res.ok) throw new APIError(res.status, (data && data.detail) || `${res.status} ${res.statusText}`);
  return data;
}

export function showError(msg) {
  let b = document.getElementById("error-banner");
  if (!b) {
    b = h("div", { id: "error-banner", role: "alert", class: "banner error" });
    const main = document.getElementById("page");
    (main || document.body).prepend(b);
  }
  b.textContent = msg;
}

export function clearError() {
  const b = document.getElementById("error-banner");
  if (b) b.remove();
}

// navigate changes the page without a reload.
export function navigate(path, replace) {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  render();
}

document.addEventListener("click", (ev) => {
  const a = ev.target.closest && ev.target.closest("a[href]");
  if (!a || a.target || a.hasAttribute("download") || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith("/ui/") || url.pathname.startsWith("/ui/api/")) return;
  ev.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener("popstate", () => render());
// Leaving the page closes the live stream at once, so that streams of pages
// gone do not hold the browser's connections to the server.
window.addEventListener("pagehide", () => disconnectEvents());
window.addEventListener("pageshow", (ev) => { if (ev.persisted && state.session) connectEvents(); });

// on registers a handler for a live event while the current page is shown.
export function on(name, fn) {
  (state.handlers[name] = state.handlers[name] || []).push(fn);
}

const EVENTS = ["overview", "model", "metric", "output", "version", "log", "dataset"];

function connectEvents() {
  if (state.es) return;
  const es = new EventSource("/ui/api/events");
  state.es = es;
  for (const name of EVENTS) {
    es.addEventListener(name, (ev) => {
      let data;
      try { data = JSON.parse(ev.data); } catch { return; }
      for (const fn of state.handlers[name] || []) {
        try { fn(data); } catch (err) { showError(String(err.message || err)); }
      }
    });
  }
  es.addEventListener("session", () => { disconnectEvents(); state.session = null; navigate("/ui/login", true); });
  es.addEventListener("open", () => document.body.classList.remove("offline"));
  es.addEventListener("error", () => document.body.classList.add("offline"));
}

function disconnectEvents() {
  if (state.es) { state.es.close(); state.es = null; }
}

const NAV = [
  ["home", "/ui/", "Home"], ["datasets", "/ui/datasets", "Datasets"], ["features", "/ui/features", "Features"],
  ["models", "/ui/models", "Models"], ["compare", "/ui/compare", "Compare"],
  ["connectors", "/ui/connectors", "Connectors"], ["drift", "/ui/drift", "Drift"],
];

function layout() {
  let main = document.getElementById("page");
  if (main && document.getElementById("nav")) return main;
  const app = document.getElementById("app");
  app.replaceChildren();
  const logout = h("button", { id: "logout", type: "button", class: "btn ghost small" }, "Sign out");
  logout.addEventListener("click", async () => {
    try { await api("POST", "/ui/api/logout"); } catch (err) { /* the session may be gone already */ }
    disconnectEvents();
    state.session = null;
    navigate("/ui/login", true);
  });
  const nav = h("nav", { id: "nav", "aria-label": "Main" },
    NAV.map(([key, href, label]) => h("a", { href, "data-nav": key }, h("span", { class: `icon icon-${key}`, "aria-hidden": "true" }), label)));
  app.append(
    h("aside", { class: "sidebar" }, h("div", { class: "side-inner" },
      h("a", { href: "/ui/", class: "brand" }, h("img", { src: "/ui/assets/favicon.svg", alt: "", width: 26, height: 26 }), h("span", {}, "Spate")),
      nav,
      h("div", { class: "who" }, h("div", { class: "muted small" }, "Namespace"), h("div", { id: "whoami" }, state.session.namespace), logout))),
    (main = h("main", { id: "page" })),
  );
  return main;
}

const ROUTES = {
  "/ui": "home", "/ui/datasets": "datasets", "/ui/datasets/new": "newDataset", "/ui/features": "features",
  "/ui/models": "models", "/ui/compare": "compare", "/ui/connectors": "connectors", "/ui/drift": "drift",
};

// PAGE_NAMES are the data-page values of main#page.
const PAGE_NAMES = { newDataset: "datasets/new" };

function routeOf(path) {
  const p = path.replace(/\/+$/, "") || "/ui";
  const m = p.match(/^\/ui\/models\/([^/]+)$/);
  if (m) return ["model", { name: decodeURIComponent(m[1]) }];
  return [ROUTES[p] || "notFound", {}];
}

let renderSeq = 0;

async function render() {
  const seq = ++renderSeq;
  state.handlers = {};
  if (state.page && state.page.dispose) state.page.dispose();
  state.page = null;
  if (location.pathname.replace(/\/+$/, "") === "/ui/login") {
    disconnectEvents();
    document.title = "Sign in · Spate";
    pages.login(document.getElementById("app"));
    return;
  }
  if (!state.session) {
    try {
      state.session = await api("GET", "/ui/api/session");
    } catch (err) {
      if (err.status !== 401) { document.getElementById("app").replaceChildren(h("p", { class: "boot" }, err.message)); }
      return;
    }
    if (seq !== renderSeq) return;
  }
  connectEvents();
  const main = layout();
  const [name, params] = routeOf(location.pathname);
  const navKey = { newDataset: "datasets", model: "models" }[name] || name;
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.nav === navKey);
  main.replaceChildren();
  main.removeAttribute("data-ready");
  main.dataset.page = PAGE_NAMES[name] || name;
  params.query = new URLSearchParams(location.search);
  try {
    state.page = (await pages[name](main, params)) || null;
    if (seq === renderSeq) main.dataset.ready = "1";
  } catch (err) {
    if (seq === renderSeq && err.status !== 401) showError(err.message || String(err));
  }
}

export function login(sess) {
  state.session = sess;
}

render();
