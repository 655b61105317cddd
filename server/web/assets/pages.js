// The dashboard's pages. Each page renders into main#page, loads its data
// from /ui/api and subscribes to the live events it cares about; the shell
// (app.js) marks the page ready when the returned promise resolves.
import { h, api, on, navigate, showError, clearError, login as setSession } from "./app.js";
import { lineChart, fmtNum } from "./chart.js";

const int = (v) => (v === null || v === undefined ? "–" : Number(v).toLocaleString("en-US"));
const num = (v, d = 4) => (v === null || v === undefined || !isFinite(v) ? "–" : Number(v).toFixed(d));
const rate = (v) => (v ? `${fmtNum(v)} rows/s` : "0 rows/s");
const when = (s) => { if (!s) return "–"; const t = new Date(s); return isNaN(t) ? s : t.toLocaleString(); };

function header(title, sub, ...actions) {
  return h("header", { class: "page-head" },
    h("div", {}, h("h1", {}, title), sub ? h("p", { class: "muted" }, sub) : null),
    h("div", { class: "actions" }, actions));
}

function card(title, body, extra) {
  return h("section", { class: "card" }, title ? h("div", { class: "card-head" }, h("h2", {}, title), extra || null) : null, body);
}

function badge(text, kind) { return h("span", { class: `badge ${kind || text}` }, text); }

function table(attrs, cols, rows) {
  const body = rows instanceof HTMLElement && rows.tagName === "TBODY" ? rows : h("tbody", {}, rows);
  return h("table", attrs, h("thead", {}, h("tr", {}, cols.map((c) => h("th", {}, c)))), body);
}

// throttle runs fn at most every ms milliseconds, trailing call kept.
function throttle(fn, ms) {
  let timer = null, pending = false, last = 0;
  const run = async () => {
    timer = null; last = Date.now(); pending = false;
    try { await fn(); clearError(); } catch (err) { if (err.status !== 401) showError(err.message); }
  };
  return () => {
    if (timer) { pending = true; return; }
    const wait = Math.max(0, ms - (Date.now() - last));
    timer = setTimeout(run, wait);
  };
}

// confirmDialog asks in dialog#confirm and resolves true on OK.
function confirmDialog(title, text, okLabel) {
  let d = document.getElementById("confirm");
  if (d) d.remove();
  const ok = h("button", { id: "confirm-ok", type: "button", class: "btn primary" }, okLabel || "Confirm");
  const cancel = h("button", { id: "confirm-cancel", type: "button", class: "btn ghost" }, "Cancel");
  d = h("dialog", { id: "confirm", class: "dialog" }, h("h2", {}, title), h("p", {}, text), h("div", { class: "dialog-actions" }, cancel, ok));
  document.body.appendChild(d);
  return new Promise((resolve) => {
    const close = (v) => { d.close(); d.remove(); resolve(v); };
    ok.addEventListener("click", () => close(true));
    cancel.addEventListener("click", () => close(false));
    d.addEventListener("cancel", (ev) => { ev.preventDefault(); close(false); });
    d.showModal();
  });
}

// ---------------------------------------------------------------- login

function loginPage(root) {
  const err = h("p", { id: "login-error", class: "form-error", role: "alert", hidden: true });
  const input = h("input", { id: "api-key", name: "api_key", type: "password", autocomplete: "off", spellcheck: "false", placeholder: "spk_…", required: true });
  const submit = h("button", { id: "login-submit", type: "submit", class: "btn primary wide" }, "Sign in");
  const form = h("form", { id: "login-form", class: "login-card", novalidate: true },
    h("div", { class: "brand big" }, h("img", { src: "/ui/assets/favicon.svg", alt: "", width: 34, height: 34 }), h("span", {}, "Spate")),
    h("h1", {}, "Sign in to the dashboard"),
    h("p", { class: "muted" }, "Paste an API key. It is checked once and never stored by this page; the server answers with a session cookie."),
    h("label", { for: "api-key" }, "API key"), input, err, submit,
    h("p", { class: "muted small" }, "The development key is printed by `spate serve` on first start and written to .env as SPATE_API_KEY."));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.hidden = true;
    submit.disabled = true;
    try {
      const sess = await api("POST", "/ui/api/login", { api_key: input.value });
      input.value = "";
      setSession(sess);
      navigate("/ui/", true);
    } catch (e) {
      err.textContent = e.message || "sign-in failed";
      err.hidden = false;
      input.select();
    } finally {
      submit.disabled = false;
    }
  });
  root.replaceChildren(h("div", { class: "login-wrap" }, form));
  input.focus();
}

// ---------------------------------------------------------------- home

async function homePage(main) {
  const stat = (id, label, hint) => h("div", { class: "stat card" }, h("div", { class: "stat-label" }, label),
    h("div", { class: "stat-value", "data-testid": id }, "–"), hint ? h("div", { class: "muted small" }, hint) : null);
  const errs = h("ul", { id: "recent-errors", class: "events" });
  main.append(header("Overview", "Everything in this namespace, live."),
    h("div", { class: "stats" },
      stat("count-datasets", "Datasets"), stat("count-features", "Features"),
      stat("count-models-running", "Models running"), stat("count-models-stopped", "Models stopped"),
      stat("ingest-rate", "Ingest rate", "rows per second, all datasets"), stat("health", "Health")),
    card("Recent errors", errs));
  const fill = (o) => {
    const set = (id, v) => { main.querySelector(`[data-testid="${id}"]`).textContent = v; };
    set("count-datasets", int(o.counts.datasets));
    set("count-features", int(o.counts.features));
    set("count-models-running", int(o.counts.models_running));
    set("count-models-stopped", int(o.counts.models_stopped));
    set("ingest-rate", rate(o.ingest_rate));
    const hl = main.querySelector('[data-testid="health"]');
    hl.textContent = o.health;
    hl.className = `stat-value health-${o.health}`;
    errs.replaceChildren(...(o.recent_errors.length
      ? o.recent_errors.map((e) => h("li", { class: "event error" }, h("time", {}, when(e.time)), badge(e.model, "model"), h("span", {}, e.message)))
      : [h("li", { class: "empty-row muted" }, "No errors. All models are healthy.")]));
  };
  fill(await api("GET", "/ui/api/overview"));
  on("overview", fill);
}

// ---------------------------------------------------------------- datasets

async function datasetsPage(main) {
  const body = h("tbody");
  main.append(header("Datasets", "Keyed, append-only streams of rows.", h("a", { id: "new-dataset", href: "/ui/datasets/new", class: "btn primary" }, "New dataset")),
    card(null, table({ id: "datasets", class: "table" }, ["Dataset", "Key", "Rows", "Rate", "Features", "Schema"], body)));
  const { datasets } = await api("GET", "/ui/api/datasets");
  if (!datasets.length) body.append(h("tr", { class: "empty-row" }, h("td", { colspan: 6 }, "No datasets yet. Create one from a CSV or Parquet file, or with the SDK.")));
  for (const d of datasets) {
    body.append(h("tr", { "data-dataset": d.id },
      h("td", { class: "strong" }, d.id),
      h("td", { "data-col": "key" }, d.key),
      h("td", { "data-col": "rows", class: "num" }, int(d.rows)),
      h("td", { "data-col": "rate", class: "num" }, rate(d.rate)),
      h("td", { "data-col": "features", class: "num" }, int(d.features)),
      h("td", { "data-col": "schema" }, h("div", { class: "chips" }, d.fields.map((f) =>
        h("span", { class: "chip" + (f.name === d.key ? " key" : "") }, f.name, h("small", {}, f.type)))))));
  }
  on("dataset", (d) => {
    const tr = body.querySelector(`tr[data-dataset="${CSS.escape(d.id)}"]`);
    if (!tr) return;
    tr.querySelector('[data-col="rows"]').textContent = int(d.rows);
    tr.querySelector('[data-col="rate"]').textContent = rate(d.rate);
    tr.querySelector('[data-col="features"]').textContent = int(d.features);
  });
}

async function newDatasetPage(main) {
  const result = h("div", { id: "create-dataset-result", role: "status", "aria-live": "polite" });
  const cols = h("datalist", { id: "dataset-columns" });
  const file = h("input", { id: "dataset-file", name: "file", type: "file", accept: ".csv,.parquet,text/csv", required: true });
  const form = h("form", { id: "create-dataset-form", class: "form" },
    h("label", { for: "dataset-id" }, "Dataset id"),
    h("input", { id: "dataset-id", name: "id", required: true, pattern: "[a-zA-Z][a-zA-Z0-9_]*", placeholder: "transactions" }),
    h("p", { class: "hint" }, "Letters, digits and _, starting with a letter."),
    h("label", { for: "dataset-file" }, "File"), file,
    h("p", { class: "hint" }, "CSV with a header row, or Parquet. Column types are inferred as pandas reads the file: integers → int64, numbers → double, True/False → bool, text → string."),
    h("label", { for: "dataset-key" }, "Key field"),
    h("input", { id: "dataset-key", name: "key_field", required: true, list: "dataset-columns", placeholder: "transactionID" }), cols,
    h("p", { class: "hint" }, "The column that identifies a row; labels join rows by it."),
    h("div", { class: "form-actions" },
      h("a", { href: "/ui/datasets", class: "btn ghost" }, "Cancel"),
      h("button", { id: "create-dataset-submit", type: "submit", class: "btn primary" }, "Create dataset")),
    result);
  file.addEventListener("change", async () => {
    const f = file.files[0];
    cols.replaceChildren();
    if (!f || !f.name.toLowerCase().endsWith(".csv")) return;
    const first = (await f.slice(0, 65536).text()).split(/\r?\n/)[0] || "";
    for (const c of first.split(",")) cols.append(h("option", { value: c.replace(/^"|"$/g, "").trim() }));
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    result.className = "result";
    result.textContent = "Uploading…";
    const submit = form.querySelector("#create-dataset-submit");
    submit.disabled = true;
    try {
      const r = await api("POST", "/ui/api/datasets", new FormData(form));
      result.className = "result ok";
      result.replaceChildren(h("span", {}, `Created dataset ${r.id} with ${int(r.rows)} rows (${r.fields.length} columns, key ${r.key}). `),
        h("a", { href: "/ui/datasets" }, "Back to datasets"));
    } catch (e) {
      result.className = "result error";
      result.textContent = e.message;
    } finally {
      submit.disabled = false;
    }
  });
  main.append(header("New dataset", "Create a dataset from a file in your browser."), card(null, form));
}

// ---------------------------------------------------------------- features

async function featuresPage(main) {
  main.append(header("Features", "SQL and window-aggregate features, computed for every row once materialized."));
  const { groups } = await api("GET", "/ui/api/features");
  if (!groups.length) main.append(card(null, h("p", { class: "muted" }, "No datasets yet.")));
  const previews = {};
  for (const g of groups) {
    const preview = h("table", { class: "table compact", "data-preview": g.dataset });
    const rows = g.features.map((f) => h("tr", { "data-feature": f.name },
      h("td", { class: "strong" }, f.name),
      h("td", { "data-col": "kind" }, f.kind),
      h("td", { "data-col": "definition" }, h("code", {}, f.definition)),
      h("td", { "data-col": "status" }, badge(f.status))));
    const ftable = g.features.length
      ? table({ class: "table" }, ["Feature", "Kind", "Definition", "Status"], rows)
      : h("p", { class: "muted" }, "No features on this dataset.");
    main.append(h("section", { class: "card", "data-dataset": g.dataset },
      h("div", { class: "card-head" }, h("h2", {}, g.dataset),
        h("span", { class: "muted small" }, g.features.length ? `${int(g.processed)} of ${int(g.rows)} rows computed` : `${int(g.rows)} rows`)),
      ftable,
      h("h3", {}, "Latest values"), h("div", { class: "scroll" }, preview)));
    previews[g.dataset] = preview;
  }
  const load = async (id) => {
    const p = await api("GET", `/ui/api/features/${encodeURIComponent(id)}/preview?limit=8`);
    const t = previews[id];
    t.replaceChildren(h("thead", {}, h("tr", {}, p.columns.map((c) => h("th", {}, c)))),
      h("tbody", {}, p.rows.length ? p.rows.map((r) => h("tr", {}, r.map((v) => h("td", {}, typeof v === "number" && !Number.isInteger(v) ? num(v, 3) : String(v ?? "–")))))
        : [h("tr", { class: "empty-row" }, h("td", { colspan: Math.max(1, p.columns.length) }, "No rows yet."))]));
  };
  await Promise.all(groups.map((g) => load(g.dataset)));
  const refresh = {};
  on("dataset", (d) => {
    if (!previews[d.id]) return;
    (refresh[d.id] = refresh[d.id] || throttle(() => load(d.id), 500))();
  });
}

// ---------------------------------------------------------------- models

function statusBadge(s) { return badge(s, `status-${s}`); }

async function modelsPage(main) {
  const body = h("tbody");
  main.append(header("Models", "Deployed models learn continuously from labeled rows."),
    card(null, table({ id: "models", class: "table" }, ["Model", "Algorithm", "Status", "Version", "Predicted", "Learned", "Lag", "Metrics"], body)));
  const rowOf = (m) => h("tr", { "data-model": m.name },
    h("td", { class: "strong" }, h("a", { href: `/ui/models/${encodeURIComponent(m.name)}` }, m.name), m.stage === "prod" ? badge("prod", "prod") : null),
    h("td", { "data-col": "algorithm" }, m.algorithm),
    h("td", { "data-col": "status" }, statusBadge(m.status)),
    h("td", { "data-col": "version", class: "num" }, String(m.version)),
    h("td", { "data-col": "predicted", class: "num" }, int(m.predicted)),
    h("td", { "data-col": "learned", class: "num" }, int(m.learned)),
    h("td", { "data-col": "lag", class: "num" }, int(m.lag)),
    h("td", { "data-col": "metrics", class: "small" }, Object.entries(m.metrics).map(([k, v]) => h("span", { class: "metric-pill" }, `${k} ${num(v, 3)}`))));
  const { models } = await api("GET", "/ui/api/models");
  const empty = h("tr", { class: "empty-row" }, h("td", { colspan: 8 }, "No models deployed yet. Deploy one with the SDK: model.deploy(...)."));
  if (!models.length) body.append(empty);
  for (const m of models) body.append(rowOf(m));
  on("model", (m) => {
    const tr = body.querySelector(`tr[data-model="${CSS.escape(m.name)}"]`);
    if (m.deleted) { if (tr) tr.remove(); return; }
    if (tr) tr.replaceWith(rowOf(m)); else { empty.remove(); body.append(rowOf(m)); }
  });
}

const TABS = [["overview", "Overview"], ["metrics", "Metrics"], ["outputs", "Outputs"], ["logs", "Logs"], ["schema", "Schema"], ["versions", "Versions"]];

async function modelPage(main, params) {
  const name = params.name;
  const base = `/ui/api/models/${encodeURIComponent(name)}`;
  let tab = params.query.get("tab") || "overview";
  if (!TABS.some(([t]) => t === tab)) tab = "overview";
  const m = await api("GET", base);
  const statusEl = h("span", {}, statusBadge(m.status));
  const pause = h("button", { type: "button", class: "btn ghost", "data-action": "state" }, m.status === "paused" ? "Resume" : "Pause");
  const del = h("button", { type: "button", class: "btn danger", "data-action": "delete" }, "Delete");
  pause.addEventListener("click", async () => {
    const paused = pause.textContent === "Resume";
    const ok = await confirmDialog(paused ? `Resume ${name}?` : `Pause ${name}?`,
      paused ? "The model continues from where it stopped." : "A paused model neither predicts nor learns; its inputs wait in the logs.", paused ? "Resume" : "Pause");
    if (!ok) return;
    try {
      await api("POST", `${base}/state`, { state: paused ? "running" : "paused" });
      pause.textContent = paused ? "Pause" : "Resume";
    } catch (e) { showError(e.message); }
  });
  del.addEventListener("click", async () => {
    if (!(await confirmDialog(`Delete ${name}?`, "This stops the model and deletes its versions, outputs and evaluations. It cannot be undone.", "Delete"))) return;
    try { await api("DELETE", base); navigate("/ui/models"); } catch (e) { showError(e.message); }
  });
  const tabs = h("div", { class: "tabs", role: "tablist" }, TABS.map(([t, label]) =>
    h("a", { href: `/ui/models/${encodeURIComponent(name)}?tab=${t}`, "data-tab": t, role: "tab", class: t === tab ? "active" : null, "aria-selected": String(t === tab) }, label)));
  main.append(header(name, null, statusEl, pause, del),
    h("p", { class: "muted sub" }, `${m.algorithm} on ${m.dataset}`, m.stage === "prod" ? badge("prod", "prod") : null), tabs);
  const panel = h("section", { id: `tab-${tab}`, class: "tab-panel", role: "tabpanel" });
  main.append(panel);
  on("model", (row) => { if (row.name === name && !row.deleted) statusEl.replaceChildren(statusBadge(row.status)); });
  await TAB_RENDER[tab](panel, m, base, name);
}

function kv(pairs) {
  return h("dl", { class: "kv" }, pairs.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

async function overviewTab(panel, m, base, name) {
  const live = h("div", { class: "stats" });
  const fillLive = (r) => {
    live.replaceChildren(
      ...[["Status", statusBadge(r.status)], ["Version", String(r.version)], ["Predicted", int(r.predicted)], ["Learned", int(r.learned)],
        ["Input lag", int(r.lag)], ["Label lag", int(r.label_lag)], ["Rows/s", fmtNum(r.rows_per_sec)]]
        .map(([k, v]) => h("div", { class: "stat card" }, h("div", { class: "stat-label" }, k), h("div", { class: "stat-value" }, v))));
  };
  fillLive(m);
  on("model", (r) => { if (r.name === name && !r.deleted) fillLive(r); });
  const c = m.config;
  const chips = (xs) => (xs.length ? h("div", { class: "chips" }, xs.map((x) => h("span", { class: "chip" }, x))) : h("span", { class: "muted" }, "none"));
  const box = (title, items, cls) => h("div", { class: `lineage-node ${cls}` }, h("div", { class: "lineage-title" }, title), items);
  const arrow = () => h("div", { class: "lineage-arrow", "aria-hidden": "true" }, "→");
  const lineage = h("div", { class: "lineage" },
    box("Dataset", h("div", { class: "strong" }, m.lineage.dataset), "ds"), arrow(),
    box("Features", chips(m.lineage.features), "feat"), arrow(),
    box("Model", h("div", { class: "strong" }, m.lineage.model), "model"),
    m.lineage.labels ? h("div", { class: "lineage-arrow back", "aria-hidden": "true" }, "←") : null,
    m.lineage.labels ? box("Labels", h("div", {}, h("span", { class: "strong" }, m.lineage.labels), ` · ${c.label.field}`), "labels") : null);
  panel.append(live,
    h("div", { class: "grid2" },
      card("Configuration", kv([
        ["Algorithm", m.algorithm], ["Input dataset", m.dataset], ["Stage", m.stage || "dev"],
        ["Deployed", when(m.created_at)], ["Numerical inputs", chips(c.numerical_fields)], ["Categorical inputs", chips(c.categorical_fields)],
        ["Labels", c.label ? `${c.label.dataset_id}.${c.label.field}` : "none (predict only)"],
        ["Metrics", chips(m.registered_metrics)],
        ["Versions", `every ${int(c.version_every_samples)} samples or ${c.version_every_seconds} s`],
        ["Latency p50 / p99", `${num(m.stats.latency_p50_s * 1000, 1)} / ${num(m.stats.latency_p99_s * 1000, 1)} ms`],
        ["Label join rate", num(m.stats.label_join_rate, 3)],
      ])),
      card("Algorithm config", h("pre", { class: "code" }, JSON.stringify(c.model_configs, null, 2)))),
    card("Lineage", lineage));
}

function chartCard(title, seriesName, csvHref, subtitle) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("data-chart", seriesName);
  svg.setAttribute("data-points", "0");
  const link = h("a", { href: csvHref, "data-csv": seriesName, download: `${seriesName}.csv`, class: "btn ghost small" }, "CSV");
  return { svg, el: h("section", { class: "card chart-card" }, h("div", { class: "card-head" }, h("h2", {}, title), h("div", { class: "card-tools" }, h("span", { class: "muted small" }, subtitle || ""), link)), svg) };
}

async function metricsTab(panel, m, base, name) {
  const metrics = m.registered_metrics;
  if (!metrics.length) {
    panel.append(card(null, h("p", { class: "muted" }, "No metrics registered. Add one with model.add_metric(\"WindowedAUC\").")));
    return;
  }
  const charts = metrics.map((metric) => {
    const c = chartCard(metric, metric, `${base}/metrics/${encodeURIComponent(metric)}?format=csv`, "");
    panel.append(c.el);
    return { metric, ...c };
  });
  const load = async () => {
    await Promise.all(charts.map(async (c) => {
      const s = await api("GET", `${base}/metrics/${encodeURIComponent(c.metric)}?max_points=600`);
      lineChart(c.svg, [{ name: c.metric, points: s.points }], { xLabel: "labeled sample", yLabel: c.metric, empty: "Waiting for labeled samples…" });
      c.el.querySelector(".card-tools .muted").textContent = `${int(s.total)} samples`;
    }));
  };
  await load();
  const again = throttle(load, 300);
  on("metric", (e) => { if (e.model === name) again(); });
}

async function outputsTab(panel, m, base, name) {
  const c = chartCard("Score over time", "score", `${base}/outputs?format=csv`, "");
  const body = h("tbody");
  const info = h("span", { class: "muted small" });
  const older = h("button", { type: "button", class: "btn ghost small" }, "Older");
  const newer = h("button", { type: "button", class: "btn ghost small" }, "Newest");
  panel.append(c.el, card("Latest predictions",
    h("div", {}, h("div", { class: "scroll" }, table({ id: "outputs", class: "table compact" }, ["Offset", "Key", "Score", "Class", "Probabilities", "Version", "Event time"], body))),
    h("div", { class: "card-tools" }, info, older, newer)));
  let before = null;
  const load = async () => {
    const q = before === null ? "" : `&before=${before}`;
    const o = await api("GET", `${base}/outputs?limit=25&max_points=800${q}`);
    lineChart(c.svg, [{ name: "score", points: o.score.points }], { xLabel: "input row", yLabel: "score", empty: "No predictions yet" });
    c.el.querySelector(".card-tools .muted").textContent = `${int(o.total)} outputs`;
    body.replaceChildren(...(o.rows.length ? o.rows.map((r) => h("tr", {},
      h("td", { class: "num" }, int(r.offset)), h("td", {}, r.key), h("td", { class: "num" }, num(r.score, 4)),
      h("td", { class: "num" }, String(r.predicted_class)), h("td", { class: "small" }, r.class_probabilities.map((p) => num(p, 3)).join(" · ")),
      h("td", { class: "num" }, String(r.model_version)), h("td", {}, r.event_time ? new Date(r.event_time * 1000).toLocaleString() : "–")))
      : [h("tr", { class: "empty-row" }, h("td", { colspan: 7 }, "No predictions yet."))]));
    const first = o.rows.length ? o.rows[o.rows.length - 1].offset : 0;
    info.textContent = o.rows.length ? `rows ${int(first)}–${int(o.rows[0].offset)} of ${int(o.end)}` : "";
    older.disabled = first <= 0;
    older.onclick = () => { before = first; load().catch((e) => showError(e.message)); };
    newer.disabled = before === null;
    newer.onclick = () => { before = null; load().catch((e) => showError(e.message)); };
  };
  await load();
  const again = throttle(load, 300);
  on("output", (e) => { if (e.model === name) again(); });
}

async function logsTab(panel, m, base, name) {
  const list = h("ul", { id: "model-logs", class: "events" });
  const item = (e) => h("li", { class: `event ${e.kind}` }, h("time", {}, when(e.time)), badge(e.kind), h("span", {}, e.message));
  const { events } = await api("GET", `${base}/logs`);
  list.append(...events.slice().reverse().map(item));
  if (!events.length) list.append(h("li", { class: "empty-row muted" }, "No events yet."));
  panel.append(card("Events", list, h("span", { class: "muted small" }, "deploys, restarts, pauses, version cuts, rollbacks and errors; newest first")));
  on("log", (e) => {
    if (e.model !== name) return;
    const empty = list.querySelector(".empty-row");
    if (empty) empty.remove();
    for (const ev of e.events) list.prepend(item(ev));
  });
}

async function schemaTab(panel, m) {
  panel.append(card("Inputs", table({ id: "model-schema", class: "table" }, ["Field", "Type", "Role", "Source"],
    m.schema.map((f) => h("tr", { "data-field": f.name }, h("td", { class: "strong" }, f.name), h("td", {}, f.type), h("td", {}, f.role), h("td", {}, f.source))))));
}

async function versionsTab(panel, m, base, name) {
  const body = h("tbody");
  const result = h("div", { id: "action-result", role: "status", "aria-live": "polite", class: "result" });
  const promote = h("button", { type: "button", class: "btn primary", "data-action": "promote" }, "Promote to prod");
  promote.addEventListener("click", async () => {
    if (!(await confirmDialog(`Promote ${name}?`, `The alias "prod" will serve ${name}; the model it served before goes back to dev.`, "Promote"))) return;
    try { const r = await api("POST", `${base}/promote`, { alias: "prod" }); result.className = "result ok"; result.textContent = r.message; }
    catch (e) { result.className = "result error"; result.textContent = e.message; }
  });
  const load = async () => {
    const v = await api("GET", `${base}/versions`);
    body.replaceChildren(...v.versions.map((x) => {
      const rb = x.current ? h("span", { class: "muted small" }, "current")
        : h("button", { type: "button", class: "btn ghost small", "data-action": "rollback", "data-version": x.id }, "Roll back");
      if (!x.current) rb.addEventListener("click", async () => {
        if (!(await confirmDialog(`Roll back ${name} to version ${x.id}?`, "The live model continues from this version's learner; what it saw since is not re-learned. A new version records the switch.", "Roll back"))) return;
        try {
          const r = await api("POST", `${base}/rollback`, { version: x.id });
          result.className = "result ok"; result.textContent = r.message;
          await load();
        } catch (e) { result.className = "result error"; result.textContent = e.message; }
      });
      return h("tr", { "data-version": x.id, "data-current": x.current ? "1" : null, class: x.current ? "current" : null },
        h("td", { class: "strong num" }, String(x.id)), h("td", {}, when(x.created_at)), h("td", {}, badge(x.reason || "–", "reason")),
        h("td", { class: "num" }, x.parent ? String(x.parent) : "–"), h("td", { class: "num" }, int(x.learned)), h("td", { class: "num" }, int(x.predicted)),
        h("td", { class: "small" }, Object.entries(x.metrics).map(([k, val]) => h("span", { class: "metric-pill" }, `${k} ${num(val, 3)}`))), h("td", {}, rb));
    }));
    if (!v.versions.length) body.append(h("tr", { class: "empty-row" }, h("td", { colspan: 8 }, "No versions yet: the first is cut once the history is learned.")));
  };
  panel.append(card("Versions", h("div", {}, table({ id: "versions", class: "table" }, ["Version", "Created", "Reason", "Parent", "Learned", "Predicted", "Metrics", ""], body), result), promote));
  await load();
  const again = throttle(load, 500);
  on("version", (e) => { if (e.model === name) again(); });
}

const TAB_RENDER = { overview: overviewTab, metrics: metricsTab, outputs: outputsTab, logs: logsTab, schema: schemaTab, versions: versionsTab };

// ---------------------------------------------------------------- compare

async function comparePage(main, params) {
  const { models } = await api("GET", "/ui/api/models");
  const metricSet = new Set(["WindowedAUC"]);
  for (const m of models) for (const k of Object.keys(m.metrics)) metricSet.add(k);
  const select = h("select", { id: "compare-metric" }, [...metricSet].map((k) => h("option", { value: k }, k)));
  const wanted = (params.query.get("models") || "").split(",").filter(Boolean);
  const boxes = models.map((m, i) => h("label", { class: "check" },
    h("input", { type: "checkbox", "data-compare": m.name, value: m.name, checked: wanted.length ? wanted.includes(m.name) : i < 2 }), m.name));
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("data-chart", "compare");
  svg.setAttribute("data-points", "0");
  const csv = h("a", { "data-csv": "compare", class: "btn ghost small", download: "compare.csv", href: "#" }, "CSV");
  main.append(header("Compare models", "Two or more models' metric curves on one chart."),
    card(null, h("div", { class: "compare-controls" }, h("div", { class: "checks" }, boxes.length ? boxes : h("span", { class: "muted" }, "No models deployed yet.")),
      h("label", { class: "inline" }, "Metric ", select))),
    h("section", { class: "card chart-card" }, h("div", { class: "card-head" }, h("h2", {}, "Metric by labeled sample"), csv), svg));
  const chosen = () => boxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
  const load = async () => {
    const names = chosen();
    const q = `models=${names.map(encodeURIComponent).join(",")}&metric=${encodeURIComponent(select.value)}`;
    csv.setAttribute("href", `/ui/api/compare?${q}&format=csv`);
    if (!names.length) { lineChart(svg, [], { empty: "Choose models to compare" }); return; }
    const r = await api("GET", `/ui/api/compare?${q}&max_points=600`);
    lineChart(svg, r.series.map((s) => ({ name: s.model, points: s.points })), { xLabel: "labeled sample", yLabel: r.metric });
  };
  const reload = () => load().then(clearError, (e) => showError(e.message));
  select.addEventListener("change", reload);
  for (const b of boxes) b.querySelector("input").addEventListener("change", reload);
  await load();
  const again = throttle(load, 500);
  on("metric", (e) => { if (chosen().includes(e.model)) again(); });
}

// ---------------------------------------------------------------- connectors, drift

async function connectorsPage(main) {
  const r = await api("GET", "/ui/api/connectors");
  main.append(header("Connectors", "Sources that feed datasets and sinks that receive outputs."),
    h("section", { id: "connectors", class: "card" }, r.connectors.length
      ? table({ class: "table" }, ["Name", "Kind", "Dataset", "Status"], r.connectors.map((c) => h("tr", {}, h("td", {}, c.name), h("td", {}, c.kind), h("td", {}, c.dataset), h("td", {}, c.status))))
      : h("div", { class: "empty-state" }, h("h2", {}, "No connectors configured"), h("p", { class: "muted" }, r.note))));
}

async function driftPage(main) {
  const r = await api("GET", "/ui/api/drift");
  main.append(header("Drift", "Detectors watching input and score distributions."),
    h("section", { id: "drift", class: "card" }, r.detectors.length
      ? table({ class: "table" }, ["Name", "Model", "Field", "Status"], r.detectors.map((d) => h("tr", {}, h("td", {}, d.name), h("td", {}, d.model), h("td", {}, d.field), h("td", {}, d.status))))
      : h("div", { class: "empty-state" }, h("h2", {}, "No drift detectors registered"), h("p", { class: "muted" }, r.note))));
}

async function notFoundPage(main) {
  main.append(header("Not found", `No page at ${location.pathname}.`), card(null, h("a", { href: "/ui/" }, "Go to the overview")));
}

export const pages = {
  login: loginPage, home: homePage, datasets: datasetsPage, newDataset: newDatasetPage, features: featuresPage,
  models: modelsPage, model: modelPage, compare: comparePage, connectors: connectorsPage, drift: driftPage, notFound: notFoundPage,
};
