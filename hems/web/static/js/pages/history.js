// History: per day, month or year: energy flows, money against charging on arrival, aggregator
// earnings, solar share and self-sufficiency, the charging sessions (with a CSV download).
import { get } from "../api.js";
import { COLORS, chart } from "../charts.js";
import { card, clear, dayTime, h, kwh, money, pct, setTimezone, stat, timeOf } from "../dom.js";
import { locale, num, t } from "../i18n.js";

const PERIODS = ["day", "month", "year"];

function shift(period, text, step) {
  if (period === "day") {
    const d = new Date(`${text}T12:00:00Z`);
    d.setUTCDate(d.getUTCDate() + step);
    return d.toISOString().slice(0, 10);
  }
  if (period === "year") return String(Number(text) + step);
  const [y, m] = text.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1 + step, 1)).toISOString().slice(0, 7);
}

function title(period, from) {
  const d = new Date(`${from}T12:00:00Z`);
  const opts = period === "day" ? { weekday: "long", day: "numeric", month: "long", year: "numeric" }
    : period === "month" ? { month: "long", year: "numeric" } : { year: "numeric" };
  return d.toLocaleDateString(locale(), { ...opts, timeZone: "UTC" });
}

const noonS = (day) => Date.parse(`${day}T12:00:00Z`) / 1000;

export function render(root, ctx) {
  let period = "day", date = null, charts = [], alive = true;
  const heading = h("h2", { class: "period-title", "aria-live": "polite" });
  const tabs = h("div", { class: "segmented", role: "group", "aria-label": t("history.period") });
  const nav = h("div", { class: "period-nav" });
  const body = h("div", { class: "history-body" });
  root.append(h("section", { class: "card" }, h("div", { class: "history-head" }, tabs, nav), heading), body);
  const destroyCharts = () => { for (const c of charts) c.then((x) => x.destroy()); charts = []; };

  async function load() {
    const q = `period=${period}${date ? `&date=${date}` : ""}`;
    let v, s;
    try {
      [v, s] = await Promise.all([period === "year" ? null : get(`/history?${q}`), get(`/savings?${q}`)]);
    } catch (e) { ctx.toast(e.message, "error"); return; }
    if (!alive) return;
    setTimezone(s.timezone);
    date = period === "day" ? s.from : period === "month" ? s.from.slice(0, 7) : s.from.slice(0, 4);
    draw(v, s);
  }

  function go(p, d) { period = p; date = d; load(); }

  function draw(v, s) {
    destroyCharts();
    clear(tabs); clear(nav); clear(body);
    for (const p of PERIODS) {
      tabs.append(h("button", { class: p === period ? "selected" : "", "aria-pressed": String(p === period), type: "button",
        onclick: () => go(p, null) }, t(`history.${p}`)));
    }
    nav.append(h("button", { class: "icon", type: "button", "aria-label": t("history.earlier"), onclick: () => go(period, shift(period, date, -1)) }, "‹"),
      h("button", { class: "icon", type: "button", "aria-label": t("history.later"), onclick: () => go(period, shift(period, date, 1)) }, "›"));
    heading.textContent = title(period, s.from);
    if (!s.days_with_data) {
      body.append(card(null, h("p", { class: "no-data", "data-testid": "no-data" },
        t(period === "day" ? "history.no_data_day" : "history.no_data_period"))));
      return;
    }
    body.append(savingsCard(s));
    if (v && v.totals) body.append(energyCard(v.totals));
    const el = h("div", { class: "chart" });
    if (period === "day" && v && v.curves) {
      body.append(card(t("history.power_over_day"), el));
      const c = v.curves, xs = c.time.map((x) => Date.parse(x) / 1000);
      const k = (a) => a.map((x) => (x === null ? null : x / 1000));
      const kv = (x) => `${num(x, 2)} kW`;
      charts.push(chart(el, { height: 240, axes: { y: "kW", y2: "%" }, y2range: [0, 100], data: [xs, k(c.pv_w), k(c.load_w), k(c.ev_w), k(c.grid_w), c.soc_pct],
        series: [{ label: t("energy.solar"), color: COLORS.pv, fill: "rgba(232, 163, 23, 0.18)", value: kv },
          { label: t("energy.house"), color: COLORS.load, value: kv }, { label: t("energy.car"), color: COLORS.car, value: kv },
          { label: t("energy.grid"), color: COLORS.grid, width: 1.5, value: kv },
          { label: t("energy.charge_level"), color: COLORS.soc, scale: "y2", dash: [5, 3], width: 1.5, value: (x) => pct(x) }] }));
    } else if (period === "month" && v) {
      body.append(card(t("history.energy_per_day"), el));
      monthChart(el, v);
    } else if (period === "year") {
      body.append(card(t("history.money_per_month"), el));
      yearChart(el, s);
    }
    body.append(sessionsCard(s));
  }

  // Every day of the month on the axis; a day without data has no bar (not a zero).
  function monthChart(el, v) {
    const byDay = new Map(v.buckets.map((b) => [b.day, b]));
    const days = [];
    for (let d = v.from; d < v.to; d = shift("day", d, 1)) days.push(d);
    const xs = days.map(noonS);
    const col = (key) => days.map((d) => (byDay.has(d) ? byDay.get(d)[key] : null));
    const kv = (x) => `${num(x, 1)} kWh`;
    charts.push(chart(el, { height: 240, daily: true, axes: { y: "kWh" }, xrange: [xs[0] - 43200, xs[xs.length - 1] + 43200],
      data: [xs, col("pv_kwh"), col("load_kwh"), col("ev_charge_kwh"), col("import_kwh")],
      series: [{ label: t("energy.solar"), color: COLORS.pv, fill: "rgba(232, 163, 23, 0.5)", bars: true, value: kv },
        { label: t("energy.house"), color: COLORS.load, value: kv, bars: true, fill: "rgba(59, 111, 216, 0.35)" },
        { label: t("energy.car_charged"), color: COLORS.car, value: kv, bars: true, fill: "rgba(15, 157, 116, 0.35)" },
        { label: t("energy.bought"), color: COLORS.grid, dash: [4, 3], value: kv }] }));
  }

  function yearChart(el, s) {
    const xs = s.months.map((m) => noonS(`${m.month}-15`));
    const cur = (x) => money(x, s.currency);
    charts.push(chart(el, { height: 220, daily: true, axes: { y: s.currency },
      xrange: [noonS(`${s.from.slice(0, 4)}-01-01`), noonS(`${s.from.slice(0, 4)}-12-31`)],
      data: [xs, s.months.map((m) => m.saved), s.months.map((m) => m.earned)],
      series: [{ label: t("savings.saved"), color: COLORS.car, bars: true, fill: "rgba(15, 157, 116, 0.5)", value: cur },
        { label: t("savings.earned"), color: COLORS.grid, bars: true, fill: "rgba(124, 92, 196, 0.45)", value: cur }] }));
  }

  function savingsCard(s) {
    const saved = s.saved;
    return card(t("savings.title"),
      h("div", { class: "stats" },
        stat(t("savings.solar_share"), pct(s.solar_share_pct), "pv", t("savings.solar_share_hint")),
        stat(t("savings.self_sufficiency"), pct(s.self_sufficiency_pct), "house", t("savings.self_sufficiency_hint")),
        stat(saved !== null && saved < 0 ? t("savings.extra_cost") : t("savings.saved"),
          money(saved === null ? null : Math.abs(saved), s.currency), saved !== null && saved >= 0 ? "good" : "", t("savings.saved_hint")),
        stat(t("savings.earned"), s.earned !== null ? money(s.earned, s.currency)
          : s.delivered_kwh ? kwh(s.delivered_kwh) : "–", "grid", t("savings.earned_hint")),
        stat(t("savings.cost"), money(s.cost, s.currency)),
        stat(t("savings.baseline_cost"), money(s.baseline_cost, s.currency))),
      s.notes.length ? h("p", { class: "hint" }, s.notes.map((n) => t(`savings.note_${n}`)).join(" · ")) : null);
  }

  function energyCard(x) {
    return card(t("history.energy"), h("div", { class: "stats" },
      stat(t("energy.solar"), kwh(x.pv_kwh), "pv"), stat(t("energy.house"), kwh(x.load_kwh), "house"),
      stat(t("energy.car_charged"), kwh(x.ev_charge_kwh), "car"), stat(t("energy.car_supplied"), kwh(x.ev_discharge_kwh), "car"),
      stat(t("energy.bought"), kwh(x.import_kwh), "grid"), stat(t("energy.sold"), kwh(x.export_kwh), "grid")));
  }

  function sessionsCard(s) {
    const list = h("ul", { class: "list sessions" });
    for (const x of s.sessions) {
      list.append(h("li", {}, h("strong", {}, `${dayTime(x.start)} – ${timeOf(x.end)}`), " · ",
        t("sessions.line", { energy: kwh(x.charged_kwh), solar: pct(x.solar_pct), from: pct(x.soc_start_pct), to: pct(x.soc_end_pct) })));
    }
    if (!s.sessions.length) list.append(h("li", { class: "muted" }, t("sessions.none")));
    const csv = `/api/v1/sessions.csv?from=${s.from}&to=${s.to}`;
    return card(t("sessions.title"), list, h("a", { class: "button secondary", href: csv, download: `hems-sessions-${s.from}.csv` }, t("sessions.csv")));
  }

  load();
  return () => { alive = false; destroyCharts(); };
}

