// History: per day or month, energy flows, cost against charging on arrival, aggregator earnings.
import { get } from "../api.js";
import { COLORS, chart } from "../charts.js";
import { card, clear, h, money, setTimezone } from "../dom.js";

function shift(period, text, step) {
  if (period === "day") {
    const d = new Date(`${text}T12:00:00Z`);
    d.setUTCDate(d.getUTCDate() + step);
    return d.toISOString().slice(0, 10);
  }
  const [y, m] = text.split("-").map(Number);
  const d = new Date(Date.UTC(y, m - 1 + step, 1));
  return d.toISOString().slice(0, 7);
}

const kwh = (v) => (v === null || v === undefined ? "–" : `${v.toFixed(1)} kWh`);

export function render(root, ctx) {
  let period = "day", date = null, charts = [], alive = true;
  const title = h("h2", { class: "period-title" });
  const tabs = h("div", { class: "segmented" });
  const nav = h("div", { class: "period-nav" });
  const body = h("div");
  root.append(h("section", { class: "card" }, h("div", { class: "history-head" }, tabs, nav), title), body);

  async function load() {
    let v;
    const q = `period=${period}${date ? `&date=${date}` : ""}`;
    try { v = await get(`/history?${q}`); } catch (e) { ctx.toast(e.message, "error"); return; }
    if (!alive) return;
    setTimezone(v.timezone);
    date = period === "day" ? v.from : v.from.slice(0, 7);
    draw(v);
  }

  function draw(v) {
    for (const c of charts) c.destroy();
    charts = [];
    clear(tabs); clear(nav); clear(body);
    for (const p of ["day", "month"]) {
      tabs.append(h("button", { class: p === period ? "selected" : "", onclick: () => { period = p; date = null; load(); } },
        p === "day" ? "Day" : "Month"));
    }
    nav.append(h("button", { class: "icon", "aria-label": "earlier", onclick: () => { date = shift(period, date, -1); load(); } }, "‹"),
      h("button", { class: "icon", "aria-label": "later", onclick: () => { date = shift(period, date, 1); load(); } }, "›"));
    const d = new Date(`${v.from}T12:00:00Z`);
    title.textContent = period === "day"
      ? d.toLocaleDateString([], { weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC" })
      : d.toLocaleDateString([], { month: "long", year: "numeric", timeZone: "UTC" });
    const t = v.totals;
    if (!t) { body.append(card(null, h("p", { class: "muted" }, v.notes.join(" · ")))); return; }
    const savings = t.savings;
    body.append(card("Money",
      h("div", { class: "stats" },
        stat("Electricity cost", money(t.cost, v.currency)),
        stat("If charged on arrival", money(t.baseline_cost, v.currency)),
        stat(savings !== null && savings < 0 ? "Extra cost" : "Saved by hems", money(savings === null ? null : Math.abs(savings), v.currency),
          savings !== null && savings >= 0 ? "good" : ""),
        stat("Aggregator earnings", !v.earnings ? "–" : v.earnings.total !== null ? money(v.earnings.total, v.currency)
          : `${v.earnings.delivered_kwh.toFixed(1)} kWh`)),
      v.notes.length ? h("p", { class: "hint" }, v.notes.join(" · ")) : null));
    body.append(card("Energy",
      h("div", { class: "stats" },
        stat("Solar", kwh(t.pv_kwh), "pv"), stat("House", kwh(t.load_kwh), "house"),
        stat("Car charged", kwh(t.ev_charge_kwh), "car"), stat("Car supplied", kwh(t.ev_discharge_kwh), "car"),
        stat("Bought", kwh(t.import_kwh), "grid"), stat("Sold", kwh(t.export_kwh), "grid"))));
    const el = h("div", { class: "chart" });
    body.append(card(period === "day" ? "Power over the day" : "Energy per day", el));
    if (period === "day" && v.curves) {
      const c = v.curves, xs = c.time.map((s) => Date.parse(s) / 1000);
      const k = (a) => a.map((x) => (x === null ? null : x / 1000));
      const kv = (x) => `${x.toFixed(2)} kW`;
      charts.push(chart(el, { height: 240, axes: { y: "kW", y2: "%" }, y2range: [0, 100], data: [xs, k(c.pv_w), k(c.load_w), k(c.ev_w), k(c.grid_w), c.soc_pct],
        series: [{ label: "Solar", color: COLORS.pv, fill: "rgba(232, 163, 23, 0.18)", value: kv },
          { label: "House", color: COLORS.load, value: kv }, { label: "Car", color: COLORS.car, value: kv },
          { label: "Grid", color: COLORS.grid, width: 1.5, value: kv },
          { label: "SoC", color: COLORS.soc, scale: "y2", dash: [5, 3], width: 1.5, value: (x) => `${x.toFixed(0)} %` }] }));
    } else if (v.buckets.length) {
      const xs = v.buckets.map((b) => Date.parse(`${b.day}T12:00:00Z`) / 1000);
      const kv = (x) => `${x.toFixed(1)} kWh`;
      charts.push(chart(el, { height: 240, daily: true, axes: { y: "kWh" }, data: [xs, v.buckets.map((b) => b.pv_kwh), v.buckets.map((b) => b.load_kwh),
        v.buckets.map((b) => b.ev_charge_kwh), v.buckets.map((b) => b.import_kwh)],
        series: [{ label: "Solar", color: COLORS.pv, fill: "rgba(232, 163, 23, 0.5)", bars: true, value: kv },
          { label: "House", color: COLORS.load, value: kv }, { label: "Car", color: COLORS.car, value: kv },
          { label: "Bought", color: COLORS.grid, dash: [4, 3], value: kv }] }));
    } else {
      el.append(h("p", { class: "muted" }, "Nothing recorded in this period yet."));
    }
  }

  load();
  return () => { alive = false; for (const c of charts) c.destroy(); };
}

function stat(label, value, tone = "") {
  return h("div", { class: `stat ${tone}` }, h("span", { class: "stat-label" }, label), h("span", { class: "stat-value" }, value));
}
