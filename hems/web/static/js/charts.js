// Thin wrapper over the vendored uPlot (loaded when a page first draws a chart): site time zone,
// 24 h legend in the owner's language, width follows the card, tap shows values, bands and markers
// whose labels never overlap.
import { dateOf, dateTime, h, tickLabel, timezone } from "./dom.js";
import { t } from "./i18n.js";

export const COLORS = {
  pv: "#e8a317", load: "#3b6fd8", car: "#0f9d74", grid: "#7c5cc4", price: "#c2417a",
  soc: "#0b8a7c", reserve: "#9aa5b1", event: "rgba(124, 92, 196, 0.16)", now: "#6b7785",
};

let uplotReady = null;
export function loadUplot() {
  if (!uplotReady) {
    uplotReady = new Promise((resolve, reject) => {
      document.head.append(h("link", { rel: "stylesheet", href: "/static/vendor/uplot/uPlot.min.css" }));
      const s = h("script", { src: "/static/vendor/uplot/uPlot.iife.min.js" });
      s.addEventListener("load", () => resolve(window.uPlot));
      s.addEventListener("error", () => { uplotReady = null; reject(new Error("chart library failed to load")); });
      document.head.append(s);
    });
  }
  return uplotReady;
}

function cssWidth(el) { return Math.max(260, Math.floor(el.getBoundingClientRect().width)); }
function themeColor(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }

// spec: { height, series: [{label, color, fill?, step?, dash?, scale?, width?, bars?, value?}],
//         data: [xs, ...ys], axes: {y: "kW", y2?: "%"}, bands: [{from, to, label}],
//         markers: [{at, label, color}], sync, daily?, xrange?: [from, to] }
export async function chart(el, spec) {
  const uPlot = await loadUplot();
  if (!el.isConnected) return { destroy() {} };
  const tz = timezone();
  const scales = { x: { time: true } };
  if (spec.xrange) scales.x.range = () => spec.xrange;
  const dayLabel = (ts) => dateOf(ts, { weekday: "short", day: "numeric", month: "short" });
  const series = [{ label: t("chart.time"), value: (u, ts) => (ts === null || ts === undefined ? "–" : spec.daily ? dayLabel(ts) : dateTime(ts)) }];
  for (const s of spec.series) {
    const entry = { label: s.label, stroke: s.color, width: s.width || 2, scale: s.scale || "y",
                    points: { show: false }, spanGaps: false };
    if (s.fill) entry.fill = s.fill;
    if (s.dash) entry.dash = s.dash;
    if (s.step) entry.paths = uPlot.paths.stepped({ align: 1 });
    if (s.bars) entry.paths = uPlot.paths.bars({ size: [0.7, 40] });
    if (s.value) entry.value = (u, v) => (v === null || v === undefined ? "–" : s.value(v));
    series.push(entry);
  }
  const xValues = spec.daily ? (u, splits) => splits.map((ts) => dateOf(ts, { day: "numeric", month: "short" }))
    : (u, splits) => splits.map(tickLabel);
  const ink = themeColor("--muted") || "#5d6b79", grid = themeColor("--grid-line") || "#eef1f4";
  const axes = [{ stroke: ink, grid: { stroke: grid }, ticks: { stroke: grid }, values: xValues },
    { scale: "y", label: spec.axes.y, stroke: ink, grid: { stroke: grid }, ticks: { show: false }, size: 52 }];
  if (spec.axes.y2) {
    axes.push({ scale: "y2", side: 1, label: spec.axes.y2, stroke: ink, grid: { show: false }, size: 44 });
    scales.y2 = spec.y2range ? { range: spec.y2range } : {};
  }
  if (spec.yrange) scales.y = { range: spec.yrange };
  const labels = h("div", { class: "chart-labels" });
  const opts = {
    width: cssWidth(el), height: spec.height || 200, series, axes, scales,
    legend: { live: true },
    cursor: { sync: spec.sync ? { key: spec.sync } : undefined, drag: { x: false, y: false } },
    tzDate: tz ? (ts) => uPlot.tzDate(new Date(ts * 1e3), tz) : undefined,
    hooks: { drawClear: [(u) => drawBands(u, spec.bands || [])], draw: [(u) => placeLabels(u, labels, spec)] },
  };
  const plot = new uPlot(opts, spec.data, el);
  plot.over.append(labels);
  el.uplot = plot;                       // for the page's own checks (and the tests): scales, cursor
  // a tap (or a finger moving along the chart) puts the cursor there: the legend shows the values
  const touch = (e) => {
    const t = e.touches[0];
    if (!t) return;
    const r = plot.over.getBoundingClientRect();
    plot.setCursor({ left: Math.max(0, Math.min(r.width, t.clientX - r.left)), top: Math.max(0, Math.min(r.height, t.clientY - r.top)) });
  };
  plot.over.addEventListener("touchstart", touch, { passive: true });
  plot.over.addEventListener("touchmove", touch, { passive: true });
  const ro = new ResizeObserver(() => plot.setSize({ width: cssWidth(el), height: opts.height }));
  ro.observe(el);
  return { plot, destroy: () => { ro.disconnect(); plot.destroy(); } };
}

function drawBands(u, bands) {
  const { ctx, bbox } = u;
  ctx.save();
  for (const b of bands) {
    const x0 = u.valToPos(b.from, "x", true), x1 = u.valToPos(b.to, "x", true);
    ctx.fillStyle = b.color || COLORS.event;
    ctx.fillRect(x0, bbox.top, Math.max(2, x1 - x0), bbox.height);
  }
  ctx.restore();
}

// Marker lines on the canvas; their labels (and the bands') as text in the page, each on the first
// row where it overlaps no other label.
function placeLabels(u, box, spec) {
  const { ctx, bbox } = u;
  const dpr = devicePixelRatio;
  ctx.save();
  for (const m of spec.markers || []) {
    const x = u.valToPos(m.at, "x", true);
    if (x < bbox.left || x > bbox.left + bbox.width) continue;
    ctx.strokeStyle = m.color || COLORS.now;
    ctx.lineWidth = 1.5 * dpr;
    ctx.setLineDash(m.dash || [4 * dpr, 4 * dpr]);
    ctx.beginPath(); ctx.moveTo(x, bbox.top); ctx.lineTo(x, bbox.top + bbox.height); ctx.stroke();
  }
  ctx.restore();
  while (box.firstChild) box.firstChild.remove();
  const width = u.over.clientWidth;
  const items = [];
  for (const m of spec.markers || []) items.push({ at: m.at, text: m.label, cls: "marker" });
  for (const b of spec.bands || []) if (b.label) items.push({ at: b.from, text: b.label, cls: "band" });
  const rows = [];
  for (const it of items) {
    const x = u.valToPos(it.at, "x");
    if (!it.text || x < 0 || x > width) continue;
    const el = h("span", { class: `chart-label ${it.cls}` }, it.text);
    box.append(el);
    const w = el.offsetWidth;
    const left = x + 4 + w > width ? Math.max(0, x - w - 4) : x + 4;
    let row = 0;
    while ((rows[row] || []).some(([a, b]) => left < b + 4 && a < left + w + 4)) row++;
    (rows[row] = rows[row] || []).push([left, left + w]);
    el.style.left = `${left}px`;
    el.style.top = `${2 + row * 18}px`;
  }
}
