// Thin wrapper over the vendored uPlot: site time zone, width follows the card, bands and markers.
import { tickLabel, timezone } from "./dom.js";

export const COLORS = {
  pv: "#e8a317", load: "#3b6fd8", car: "#0f9d74", grid: "#7c5cc4", price: "#c2417a",
  soc: "#0b6e63", reserve: "#9aa5b1", event: "rgba(124, 92, 196, 0.14)", now: "#6b7785",
};

function cssWidth(el) { return Math.max(260, Math.floor(el.getBoundingClientRect().width)); }

// spec: { height, series: [{label, color, fill?, step?, dash?, scale?, width?}], data: [xs, ...ys],
//         axes: {y: "kW", y2?: "%"}, bands: [{from, to, label}], markers: [{at, label, color}], sync }
export function chart(el, spec) {
  const tz = timezone();
  const scales = { x: { time: true } };
  const series = [{}];
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
  const xValues = spec.daily
    ? (u, splits) => splits.map((t) => new Date(t * 1000).toLocaleDateString("en-GB", { day: "numeric", month: "short", timeZone: tz }))
    : (u, splits) => splits.map(tickLabel);
  const axes = [{ stroke: "#6b7785", grid: { stroke: "#eef1f4" }, ticks: { stroke: "#dde3e9" }, values: xValues },
    { scale: "y", label: spec.axes.y, stroke: "#6b7785", grid: { stroke: "#eef1f4" }, ticks: { show: false }, size: 48 }];
  if (spec.axes.y2) {
    axes.push({ scale: "y2", side: 1, label: spec.axes.y2, stroke: "#6b7785", grid: { show: false }, size: 44 });
    scales.y2 = spec.y2range ? { range: spec.y2range } : {};
  }
  if (spec.yrange) scales.y = { range: spec.yrange };
  const opts = {
    width: cssWidth(el), height: spec.height || 200, series, axes, scales,
    legend: { live: true },
    cursor: { sync: spec.sync ? { key: spec.sync } : undefined, drag: { x: false, y: false } },
    tzDate: tz ? (ts) => uPlot.tzDate(new Date(ts * 1e3), tz) : undefined,
    hooks: { drawClear: [(u) => drawBands(u, spec.bands || [])], draw: [(u) => drawMarkers(u, spec.markers || [])] },
  };
  const plot = new uPlot(opts, spec.data, el);
  const ro = new ResizeObserver(() => plot.setSize({ width: cssWidth(el), height: opts.height }));
  ro.observe(el);
  return { plot, destroy: () => { ro.disconnect(); plot.destroy(); } };
}

function drawBands(u, bands) {
  const { ctx, bbox } = u;
  ctx.save();
  ctx.textAlign = "left";
  ctx.textBaseline = "alphabetic";
  for (const b of bands) {
    const x0 = u.valToPos(b.from, "x", true), x1 = u.valToPos(b.to, "x", true);
    ctx.fillStyle = b.color || COLORS.event;
    ctx.fillRect(x0, bbox.top, Math.max(2, x1 - x0), bbox.height);
    if (b.label) {
      ctx.fillStyle = "#5b4a8a";
      ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
      ctx.fillText(b.label, x0 + 4 * devicePixelRatio, bbox.top + bbox.height - 6 * devicePixelRatio);
    }
  }
  ctx.restore();
}

function drawMarkers(u, markers) {
  const { ctx, bbox } = u;
  ctx.save();
  ctx.textAlign = "left";
  ctx.textBaseline = "alphabetic";
  for (const m of markers) {
    const x = u.valToPos(m.at, "x", true);
    if (x < bbox.left || x > bbox.left + bbox.width) continue;
    ctx.strokeStyle = m.color || COLORS.now;
    ctx.lineWidth = 1.5 * devicePixelRatio;
    ctx.setLineDash(m.dash || [4 * devicePixelRatio, 4 * devicePixelRatio]);
    ctx.beginPath(); ctx.moveTo(x, bbox.top); ctx.lineTo(x, bbox.top + bbox.height); ctx.stroke();
    if (m.label) {
      ctx.setLineDash([]);
      ctx.fillStyle = m.color || COLORS.now;
      ctx.font = `600 ${11 * devicePixelRatio}px system-ui, sans-serif`;
      const w = ctx.measureText(m.label).width;
      const tx = x + w + 6 * devicePixelRatio > bbox.left + bbox.width ? x - w - 4 * devicePixelRatio : x + 4 * devicePixelRatio;
      ctx.fillText(m.label, tx, bbox.top + 12 * devicePixelRatio);
    }
  }
  ctx.restore();
}
