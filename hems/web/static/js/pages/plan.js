// Plan: the next 24-48 h: prices, PV and load forecasts, planned car power, SoC, events, departure.
import { get } from "../api.js";
import { COLORS, chart } from "../charts.js";
import { card, clear, dayTime, h, money, pct, setNow, setTimezone, timeOf } from "../dom.js";

const SYNC = "plan";

function toTimes(start, intervalS, n) {
  const t0 = Date.parse(start) / 1000;
  return Array.from({ length: n }, (_, k) => t0 + k * intervalS);
}

const kwOf = (arr) => (arr || []).map((v) => (v === null ? null : v / 1000));

export function render(root, ctx) {
  const summary = h("div", { class: "stats" });
  const warn = h("div", { class: "banner warn", hidden: true });
  const status = h("div", { class: "banner info", "data-testid": "plan-status", hidden: true });
  const socTitle = h("p", { class: "hint", "data-testid": "car-note" });
  const powerEl = h("div", { class: "chart" });
  const socEl = h("div", { class: "chart" });
  const priceEl = h("div", { class: "chart" });
  const sourcesEl = h("div", { class: "hint" });
  const events = h("ul", { class: "list" });
  const steps = h("ol", { class: "timeline" });
  root.append(
    warn,
    status,
    card("Plan", summary),
    card("What hems will do", steps),
    card("Power", h("p", { class: "hint" }, "Forecast solar and house use, and what hems plans for the car (+ charging, − supplying the home or grid)."), powerEl),
    card("Car battery", socTitle, socEl),
    card("Electricity price", sourcesEl, priceEl),
    card("Aggregator events", events),
  );
  let charts = [];
  let alive = true;

  async function load() {
    let v;
    try { v = await get("/plan"); } catch (e) { ctx.toast(e.message, "error"); return; }
    if (!alive) return;
    setTimezone(v.timezone);
    setNow(v.now);
    for (const c of charts) c.destroy();
    charts = [];
    for (const el of [powerEl, socEl, priceEl, summary, events, steps]) clear(el);
    // the plan follows the mode: Off is paused, Fast and Solar only show what they will do; away: no target
    const kind = v.status ? v.status.kind : "smart";
    status.hidden = !v.status || kind === "smart";
    status.textContent = v.status ? capital(v.status.message) : "";
    const quiet = kind === "paused" || kind === "away";
    warn.hidden = !v.plan_error && (quiet || !(v.plan && v.plan.target_shortfall_pct > 0.5));
    warn.textContent = v.plan_error ||
      (v.plan ? `The car cannot reach the target in time: about ${pct(v.plan.target_shortfall_pct)} short.` : "");
    const trip = v.next_trip;
    summary.append(
      stat("Next trip", trip ? dayTime(trip.departure) : "none set"),
      stat("Target", trip ? pct(trip.target_soc_pct) : "–"),
      stat("Planned cost", v.plan ? money(v.plan.cost, v.currency) : "–"),
      stat("Plan starts", v.plan ? timeOf(v.plan.start) : "–"),
    );
    if (!v.plan) {
      powerEl.append(h("p", { class: "muted" }, "No plan yet: hems plans as soon as it has measurements and forecasts."));
      return;
    }
    const p = v.plan, s = p.series || {};
    const n = p.ev_w.length;
    const xs = toTimes(p.start, p.interval_s, n);
    for (const step of timeline(xs, p.ev_w, s.reasons || [], 8)) {
      steps.append(h("li", {}, h("span", { class: "when" }, dayTime(new Date(step.at * 1000).toISOString())),
        h("span", { class: `what ${step.power > 50 ? "charge" : step.power < -50 ? "discharge" : "idle"}` }, capital(step.reason))));
    }
    if (!steps.firstChild) steps.append(h("li", { class: "muted" }, "No steps in this plan."));
    const xsSoc = toTimes(p.start, p.interval_s, n + 1);
    const bands = v.commitments.map((c) => ({ from: Date.parse(c.start) / 1000, to: Date.parse(c.end) / 1000,
      label: "aggregator event" }));
    const markers = [{ at: Date.parse(v.now) / 1000, label: "now", color: COLORS.now }];
    if (trip) markers.push({ at: Date.parse(trip.departure) / 1000, label: `leave ${timeOf(trip.departure)} · ${pct(trip.target_soc_pct)}`, color: COLORS.soc, dash: [] });
    const kwVal = (x) => `${x.toFixed(2)} kW`;
    charts.push(chart(powerEl, {
      height: 220, sync: SYNC, axes: { y: "kW" }, bands, markers,
      series: [
        { label: "Solar forecast", color: COLORS.pv, fill: "rgba(232, 163, 23, 0.18)", value: kwVal },
        { label: "House forecast", color: COLORS.load, value: kwVal },
        { label: "Car plan", color: COLORS.car, step: true, width: 2.5, fill: "rgba(15, 157, 116, 0.12)", value: kwVal },
      ],
      data: [xs, kwOf(s.pv_w || []).slice(0, n), kwOf(s.load_w || []).slice(0, n), kwOf(p.ev_w)],
    }));
    socTitle.textContent = kind === "away" ? capital(v.status.message) : capital(p.car_note || "");
    for (const a of p.expected_away || []) {      // the car's habits: when it is usually away
      markers.push({ at: Date.parse(a.leave) / 1000, label: `usually leaves ${timeOf(a.leave)}`, color: COLORS.reserve });
      socEl.append(h("p", { class: "hint", "data-testid": "expected-away" },
        `Usually away ${dayTime(a.leave)} – ${timeOf(a.back)} (${Math.round(a.probability * 100)} % of recent weeks)` +
        (a.arrival_soc_pct !== null ? `, back with about ${pct(a.arrival_soc_pct)}` : "")));
    }
    if (kind === "away") {
      // no invented charge level while the car is away
    } else if (p.by_energy) {
      const capacityKwh = v.capacity_wh ? v.capacity_wh / 1000 : null;
      const added = capacityKwh ? p.soc_pct.map((x) => (x === null ? null : x / 100 * capacityKwh)) : p.soc_pct;
      charts.push(chart(socEl, {
        height: 170, sync: SYNC, axes: { y: capacityKwh ? "kWh" : "%" }, markers, bands,
        series: [{ label: "Energy added", color: COLORS.soc, width: 2.5, fill: "rgba(11, 110, 99, 0.10)",
          value: (x) => (capacityKwh ? `${x.toFixed(1)} kWh` : `${x.toFixed(0)} %`) }],
        data: [xsSoc, added],
      }));
    } else {
      const reserve = xsSoc.map(() => v.reserve_pct);
      charts.push(chart(socEl, {
        height: 170, sync: SYNC, axes: { y: "%" }, yrange: [0, 100], markers, bands,
        series: [
          { label: "State of charge", color: COLORS.soc, width: 2.5, fill: "rgba(11, 110, 99, 0.10)", value: (x) => `${x.toFixed(0)} %` },
          { label: "Reserve", color: COLORS.reserve, dash: [6, 4], width: 1.5, value: (x) => `${x.toFixed(0)} %` },
        ],
        data: [xsSoc, p.soc_pct, reserve],
      }));
    }
    const price = s.import_price_per_kwh || [];
    if (price.length) {
      charts.push(chart(priceEl, {
        height: 150, sync: SYNC, axes: { y: `${v.currency}/kWh` }, markers,
        series: [
          { label: "Buy", color: COLORS.price, step: true, value: (x) => `${x.toFixed(3)}` },
          { label: "Sell", color: COLORS.grid, step: true, dash: [4, 3], width: 1.5, value: (x) => `${x.toFixed(3)}` },
        ],
        data: [xs, price.slice(0, n), (s.export_price_per_kwh || []).slice(0, n)],
      }));
    } else {
      priceEl.append(h("p", { class: "muted" }, "No price forecast in this plan."));
    }
    if (!v.commitments.length) events.append(h("li", { class: "muted" }, "No accepted aggregator events in this horizon."));
    for (const c of v.commitments) {
      events.append(h("li", {}, h("strong", {}, `${dayTime(c.start)} – ${timeOf(c.end)}`),
        ` · car between ${(c.min_ev_w / 1000).toFixed(1)} and ${(c.max_ev_w / 1000).toFixed(1)} kW`));
    }
  }

  load();
  showSources(sourcesEl);
  const off = ctx.on("plan", () => { load(); showSources(sourcesEl); });
  return () => { alive = false; off(); for (const c of charts) c.destroy(); };
}

// Consecutive intervals with the same reason become one step (at most `max` steps).
function timeline(xs, evW, reasons, max) {
  const out = [];
  for (let k = 0; k < xs.length && out.length < max; k++) {
    const reason = reasons[k] || (evW[k] > 50 ? "charging" : evW[k] < -50 ? "supplying the home" : "idle");
    const key = reason.replace(/\s*\(.*\)\s*$/, "");      // "cheap hour (0.23 EUR/kWh)" and "(0.22 …)" are one step
    if (!out.length || out[out.length - 1].key !== key) out.push({ at: xs[k], key, reason: key, power: evW[k] });
  }
  return out;
}

function capital(text) { return text ? text[0].toUpperCase() + text.slice(1) : ""; }

function stat(label, value) {
  return h("div", { class: "stat" }, h("span", { class: "stat-label" }, label), h("span", { class: "stat-value" }, value));
}

// Where prices and the solar forecast come from, until when they are known, the tariff formula.
async function showSources(el) {
  let v;
  try { v = await get("/sources"); } catch { return; }
  clear(el);
  for (const s of v.sources || []) {
    const what = s.kind === "pv" ? "Solar forecast" : "Prices";
    const until = s.known_until ? `known until ${dayTime(s.known_until)}` : "nothing known yet";
    el.append(h("p", { class: s.stale || s.last_error ? "warn" : "" },
      `${what}: ${s.source}, ${until}${s.stale ? " (stale: estimated beyond)" : ""}` +
      (s.last_error ? ` · last fetch failed: ${s.last_error}` : "")));
    if (s.formula) el.append(h("p", {}, s.formula));
  }
}
