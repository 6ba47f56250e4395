// Plan: the next 24-48 h: prices, solar and house forecasts, planned car power, charge level,
// aggregator events, departure.
import { get } from "../api.js";
import { COLORS, chart } from "../charts.js";
import { card, clear, dayTime, h, money, pct, setNow, setTimezone, stat, timeOf } from "../dom.js";
import { num, reason, t } from "../i18n.js";

const SYNC = "plan";

function toTimes(start, intervalS, n) {
  const t0 = Date.parse(start) / 1000;
  return Array.from({ length: n }, (_, k) => t0 + k * intervalS);
}

const kwOf = (arr) => (arr || []).map((v) => (v === null ? null : v / 1000));

export function render(root, ctx) {
  const summary = h("div", { class: "stats" });
  const warn = h("div", { class: "banner warn", role: "alert", hidden: true });
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
    card(t("plan.title"), summary),
    card(t("plan.steps"), steps),
    card(t("plan.power"), h("p", { class: "hint" }, t("plan.power_hint")), powerEl),
    card(t("plan.battery"), socTitle, socEl),
    card(t("plan.price"), sourcesEl, priceEl),
    card(t("plan.events"), events),
  );
  let charts = [];
  let alive = true;
  const destroyCharts = () => { for (const c of charts) c.then((x) => x.destroy()); charts = []; };

  async function load() {
    let v;
    try { v = await get("/plan"); } catch (e) { ctx.toast(e.message, "error"); return; }
    if (!alive) return;
    setTimezone(v.timezone);
    setNow(v.now);
    destroyCharts();
    for (const el of [powerEl, socEl, priceEl, summary, events, steps]) clear(el);
    // the plan follows the mode: Off is paused, Fast and Solar only show what they will do; away: no target
    const kind = v.status ? v.status.kind : "smart";
    status.hidden = !v.status || kind === "smart";
    status.textContent = v.status ? statusWords(kind, v.status.message) : "";
    const quiet = kind === "paused" || kind === "away";
    warn.hidden = !v.plan_error && (quiet || !(v.plan && v.plan.target_shortfall_pct > 0.5));
    warn.textContent = v.plan_error ? t("plan.error", { message: v.plan_error })
      : (v.plan ? t("plan.shortfall", { pct: pct(v.plan.target_shortfall_pct) }) : "");
    const trip = v.next_trip;
    summary.append(
      stat(t("plan.next_trip"), trip ? dayTime(trip.departure) : t("plan.none_set")),
      stat(t("plan.target"), trip ? pct(trip.target_soc_pct) : "–"),
      stat(t("plan.expected_cost"), v.plan ? money(v.plan.cost, v.currency) : "–", "", t("plan.expected_cost_hint")),
      stat(t("plan.made"), v.plan ? timeOf(v.plan.start) : "–", "", t("plan.made_hint")),
    );
    if (!v.plan) {
      powerEl.append(h("p", { class: "muted" }, t("plan.none")));
      return;
    }
    const p = v.plan, s = p.series || {};
    const n = p.ev_w.length;
    const xs = toTimes(p.start, p.interval_s, n);
    for (const step of timeline(xs, p.ev_w, s.reasons || [], 8)) {
      steps.append(h("li", {}, h("span", { class: "when" }, dayTime(new Date(step.at * 1000).toISOString())),
        h("span", { class: `what ${step.power > 50 ? "charge" : step.power < -50 ? "discharge" : "idle"}` }, reason(step.reason))));
    }
    if (!steps.firstChild) steps.append(h("li", { class: "muted" }, t("plan.no_steps")));
    const xsSoc = toTimes(p.start, p.interval_s, n + 1);
    const bands = v.commitments.map((c) => ({ from: Date.parse(c.start) / 1000, to: Date.parse(c.end) / 1000,
      label: t("plan.event_band") }));
    const markers = [{ at: Date.parse(v.now) / 1000, label: t("plan.now"), color: COLORS.now }];
    if (trip) {
      markers.push({ at: Date.parse(trip.departure) / 1000, color: COLORS.soc, dash: [],
        label: t("plan.leave_marker", { time: timeOf(trip.departure), pct: pct(trip.target_soc_pct) }) });
    }
    const kwVal = (x) => `${num(x, 2)} kW`;
    charts.push(chart(powerEl, {
      height: 220, sync: SYNC, axes: { y: "kW" }, bands, markers,
      series: [
        { label: t("plan.solar_forecast"), color: COLORS.pv, fill: "rgba(232, 163, 23, 0.18)", value: kwVal },
        { label: t("plan.house_forecast"), color: COLORS.load, value: kwVal },
        { label: t("plan.car_plan"), color: COLORS.car, step: true, width: 2.5, fill: "rgba(15, 157, 116, 0.12)", value: kwVal },
      ],
      data: [xs, kwOf(s.pv_w || []).slice(0, n), kwOf(s.load_w || []).slice(0, n), kwOf(p.ev_w)],
    }));
    socTitle.textContent = kind === "away" ? statusWords(kind, v.status.message) : carNote(p.car_note || "");
    for (const a of p.expected_away || []) {      // the car's habits: when it is usually away
      markers.push({ at: Date.parse(a.leave) / 1000, label: t("plan.usually_leaves", { time: timeOf(a.leave) }), color: COLORS.reserve });
      socEl.append(h("p", { class: "hint", "data-testid": "expected-away" },
        t("plan.usually_away", { from: dayTime(a.leave), to: timeOf(a.back), share: pct(a.probability * 100) }) +
        (a.arrival_soc_pct !== null ? t("plan.back_with", { pct: pct(a.arrival_soc_pct) }) : "")));
    }
    if (kind === "away") {
      // no invented charge level while the car is away
    } else if (p.by_energy) {
      const capacityKwh = v.capacity_wh ? v.capacity_wh / 1000 : null;
      const added = capacityKwh ? p.soc_pct.map((x) => (x === null ? null : x / 100 * capacityKwh)) : p.soc_pct;
      charts.push(chart(socEl, {
        height: 170, sync: SYNC, axes: { y: capacityKwh ? "kWh" : "%" }, markers,
        series: [{ label: t("plan.energy_added"), color: COLORS.soc, width: 2.5, fill: "rgba(11, 110, 99, 0.10)",
          value: (x) => (capacityKwh ? `${num(x, 1)} kWh` : pct(x)) }],
        data: [xsSoc, added],
      }));
    } else {
      const reserve = xsSoc.map(() => v.reserve_pct);
      charts.push(chart(socEl, {
        height: 170, sync: SYNC, axes: { y: "%" }, yrange: [0, 100], markers,
        series: [
          { label: t("plan.charge_level"), color: COLORS.soc, width: 2.5, fill: "rgba(11, 110, 99, 0.10)", value: (x) => pct(x) },
          { label: t("plan.reserve"), color: COLORS.reserve, dash: [6, 4], width: 1.5, value: (x) => pct(x) },
        ],
        data: [xsSoc, p.soc_pct, reserve],
      }));
    }
    const price = s.import_price_per_kwh || [];
    if (price.length) {
      charts.push(chart(priceEl, {
        height: 150, sync: SYNC, axes: { y: `${v.currency}/kWh` }, markers: markers.slice(0, 1),
        series: [
          { label: t("plan.buy"), color: COLORS.price, step: true, value: (x) => num(x, 3) },
          { label: t("plan.sell"), color: COLORS.grid, step: true, dash: [4, 3], width: 1.5, value: (x) => num(x, 3) },
        ],
        data: [xs, price.slice(0, n), (s.export_price_per_kwh || []).slice(0, n)],
      }));
    } else {
      priceEl.append(h("p", { class: "muted" }, t("plan.no_prices")));
    }
    if (!v.commitments.length) events.append(h("li", { class: "muted" }, t("plan.no_events")));
    for (const c of v.commitments) {
      events.append(h("li", {}, h("strong", {}, `${dayTime(c.start)} – ${timeOf(c.end)}`), " · ",
        t("plan.event_range", { min: num(c.min_ev_w / 1000, 1), max: num(c.max_ev_w / 1000, 1) })));
    }
  }

  load();
  showSources(sourcesEl);
  const off = ctx.on("plan", () => { load(); showSources(sourcesEl); });
  return () => { alive = false; off(); destroyCharts(); };
}

// What the mode will do, in the owner's language (hems says it in English: the kind is enough).
function statusWords(kind, message) {
  const key = { paused: "plan.status_paused", away: "plan.status_away", fast: "plan.status_fast",
    solar_only: "plan.status_solar_only", smart: "plan.status_smart" }[kind];
  return key ? t(key) : message;
}

// The plan's note on the car's level ("charge level unknown: planning to add 12.0 kWh").
function carNote(text) {
  let m = text.match(/^charge level unknown: planning to add ([-\d.]+) kWh$/);
  if (m) return t("plan.note_add", { kwh: num(Number(m[1]), 1) });
  if (/^charge level unknown: no trip to plan for$/.test(text)) return t("plan.note_no_trip");
  m = text.match(/^planning from ([-\d.]+) %$/);
  if (m) return t("plan.note_from", { pct: pct(Number(m[1])) });
  if (text === "plan paused: mode Off") return t("plan.status_paused");
  if (text === "car away, plan resumes when it is back") return t("plan.status_away");
  return text ? text[0].toUpperCase() + text.slice(1) : "";
}

// Consecutive intervals with the same reason become one step (at most `max` steps).
function timeline(xs, evW, reasons, max) {
  const out = [];
  for (let k = 0; k < xs.length && out.length < max; k++) {
    const why = reasons[k] || (evW[k] > 50 ? "charging" : evW[k] < -50 ? "supplying the home" : "idle");
    const key = why.replace(/:.*$/, "");   // "charging: cheap hour (0.23 EUR/kWh)" and "(0.22 …)" are one step
    if (!out.length || out[out.length - 1].key !== key) out.push({ at: xs[k], key, reason: why, power: evW[k] });
  }
  return out;
}

// Where prices and the solar forecast come from, until when they are known, the tariff formula.
async function showSources(el) {
  let v;
  try { v = await get("/sources"); } catch { return; }
  clear(el);
  for (const s of v.sources || []) {
    const what = s.kind === "pv" ? t("plan.source_pv") : t("plan.source_prices");
    const until = s.known_until ? t("plan.known_until", { when: dayTime(s.known_until) }) : t("plan.nothing_known");
    el.append(h("p", { class: s.stale || s.last_error ? "warn" : "" },
      `${what}: ${s.source}, ${until}${s.stale ? ` ${t("plan.source_stale")}` : ""}` +
      (s.last_error ? ` · ${t("plan.source_failed", { error: s.last_error })}` : "")));
    if (s.formula) el.append(h("p", {}, s.formula));
  }
}
