// Line charts drawn as SVG with DOM calls: axes with rounded ticks, several
// series, a legend and a hover readout. No dependency and nothing inline,
// so it runs under the dashboard's strict Content-Security-Policy.

const NS = "http://www.w3.org/2000/svg";
const W = 800, H = 280, M = { top: 16, right: 20, bottom: 40, left: 64 };

function el(tag, attrs, parent) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (parent) parent.appendChild(e);
  return e;
}

// niceTicks returns about n round tick values covering [lo, hi].
export function niceTicks(lo, hi, n = 5) {
  if (!isFinite(lo) || !isFinite(hi)) return [];
  if (lo === hi) { const d = Math.abs(lo) || 1; lo -= d / 2; hi += d / 2; }
  const raw = (hi - lo) / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => raw <= s) || 10 * mag;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

export function fmtNum(v) {
  if (v === null || v === undefined || !isFinite(v)) return "–";
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(a >= 1e10 ? 0 : 1) + "G";
  if (a >= 1e6) return (v / 1e6).toFixed(a >= 1e7 ? 0 : 1) + "M";
  if (a >= 1e4) return (v / 1e3).toFixed(a >= 1e5 ? 0 : 1) + "k";
  if (Number.isInteger(v)) return String(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

// lineChart draws series = [{name, points: [[x, y], ...]}] into svg and
// sets data-points to the number of points drawn.
export function lineChart(svg, series, opts = {}) {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
  svg.setAttribute("role", "img");
  svg.classList.add("chart");
  let total = 0, xlo = Infinity, xhi = -Infinity, ylo = Infinity, yhi = -Infinity;
  for (const s of series) {
    for (const [x, y] of s.points) {
      total++;
      if (x < xlo) xlo = x; if (x > xhi) xhi = x;
      if (y < ylo) ylo = y; if (y > yhi) yhi = y;
    }
  }
  svg.setAttribute("data-points", String(total));
  if (opts.yMin !== undefined && ylo > opts.yMin && ylo - opts.yMin < (yhi - ylo) * 0.6) ylo = opts.yMin;
  const pw = W - M.left - M.right, ph = H - M.top - M.bottom;
  if (total === 0) {
    el("rect", { x: M.left, y: M.top, width: pw, height: ph, class: "plot-bg" }, svg);
    el("text", { x: W / 2, y: H / 2, class: "empty", "text-anchor": "middle" }, svg).textContent = opts.empty || "No data yet";
    return;
  }
  if (xlo === xhi) { xlo -= 1; xhi += 1; }
  if (ylo === yhi) { const d = Math.abs(ylo) * 0.05 || 0.5; ylo -= d; yhi += d; }
  const yt = niceTicks(ylo, yhi, 5);
  ylo = Math.min(ylo, yt[0]); yhi = Math.max(yhi, yt[yt.length - 1]);
  const sx = (x) => M.left + ((x - xlo) / (xhi - xlo)) * pw;
  const sy = (y) => M.top + ph - ((y - ylo) / (yhi - ylo)) * ph;
  el("rect", { x: M.left, y: M.top, width: pw, height: ph, class: "plot-bg" }, svg);
  const grid = el("g", { class: "grid" }, svg);
  for (const v of yt) {
    el("line", { x1: M.left, x2: M.left + pw, y1: sy(v), y2: sy(v) }, grid);
    el("text", { x: M.left - 8, y: sy(v) + 4, "text-anchor": "end", class: "tick" }, grid).textContent = fmtNum(v);
  }
  for (const v of niceTicks(xlo, xhi, 6)) {
    if (v < xlo || v > xhi) continue;
    el("line", { x1: sx(v), x2: sx(v), y1: M.top + ph, y2: M.top + ph + 5, class: "xtick" }, grid);
    el("text", { x: sx(v), y: M.top + ph + 18, "text-anchor": "middle", class: "tick" }, grid).textContent = fmtNum(v);
  }
  el("line", { x1: M.left, x2: M.left + pw, y1: M.top + ph, y2: M.top + ph, class: "axis" }, svg);
  el("line", { x1: M.left, x2: M.left, y1: M.top, y2: M.top + ph, class: "axis" }, svg);
  if (opts.xLabel) el("text", { x: M.left + pw / 2, y: H - 6, "text-anchor": "middle", class: "label" }, svg).textContent = opts.xLabel;
  if (opts.yLabel) el("text", { x: 14, y: M.top + ph / 2, "text-anchor": "middle", class: "label", transform: `rotate(-90 14 ${M.top + ph / 2})` }, svg).textContent = opts.yLabel;
  series.forEach((s, i) => {
    if (!s.points.length) return;
    const d = s.points.map(([x, y], j) => (j ? "L" : "M") + sx(x).toFixed(1) + " " + sy(y).toFixed(1)).join("");
    const p = el("path", { d, class: `line series-${i % 8}`, "data-series": s.name }, svg);
    el("title", {}, p).textContent = s.name;
    if (s.points.length === 1) el("circle", { cx: sx(s.points[0][0]), cy: sy(s.points[0][1]), r: 3, class: `dot series-${i % 8}` }, svg);
  });
  if (series.length > 1) {
    const lg = el("g", { class: "legend" }, svg);
    let x = M.left + 8;
    series.forEach((s, i) => {
      el("rect", { x, y: M.top + 6, width: 12, height: 4, class: `swatch series-${i % 8}` }, lg);
      const t = el("text", { x: x + 16, y: M.top + 12, class: "legend-text" }, lg);
      t.textContent = s.name;
      x += 28 + s.name.length * 7;
    });
  }
  // Hover readout: a guide line and the nearest point of each series.
  const guide = el("line", { y1: M.top, y2: M.top + ph, class: "guide", visibility: "hidden" }, svg);
  const box = el("g", { class: "readout", visibility: "hidden" }, svg);
  const boxBg = el("rect", { rx: 4, class: "readout-bg" }, box);
  const boxText = el("text", { class: "readout-text" }, box);
  const overlay = el("rect", { x: M.left, y: M.top, width: pw, height: ph, class: "overlay" }, svg);
  overlay.addEventListener("mouseleave", () => { guide.setAttribute("visibility", "hidden"); box.setAttribute("visibility", "hidden"); });
  overlay.addEventListener("mousemove", (ev) => {
    const pt = svg.createSVGPoint(); pt.x = ev.clientX; pt.y = ev.clientY;
    const loc = pt.matrixTransform(svg.getScreenCTM().inverse());
    const xv = xlo + ((loc.x - M.left) / pw) * (xhi - xlo);
    const lines = [`${opts.xLabel || "x"}: ${fmtNum(Math.round(xv))}`];
    for (const s of series) {
      let best = null;
      for (const p of s.points) if (!best || Math.abs(p[0] - xv) < Math.abs(best[0] - xv)) best = p;
      if (best) lines.push(`${s.name}: ${fmtNum(best[1])}`);
    }
    while (boxText.firstChild) boxText.removeChild(boxText.firstChild);
    lines.forEach((l, i) => { const ts = el("tspan", { x: 8, dy: i ? 15 : 16 }, boxText); ts.textContent = l; });
    const bw = 16 + Math.max(...lines.map((l) => l.length)) * 6.6, bh = 10 + lines.length * 15;
    boxBg.setAttribute("width", bw); boxBg.setAttribute("height", bh);
    const bx = loc.x + bw + 12 > W ? loc.x - bw - 8 : loc.x + 8;
    box.setAttribute("transform", `translate(${bx.toFixed(0)} ${M.top + 4})`);
    guide.setAttribute("x1", loc.x); guide.setAttribute("x2", loc.x);
    guide.setAttribute("visibility", "visible"); box.setAttribute("visibility", "visible");
  });
}
