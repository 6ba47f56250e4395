// Overview: live power flow (solar, house, grid, car), the car's charge, what hems does now and why.
import { get } from "../api.js";
import { card, clear, dayTime, h, kw, kwh, money, pct, setNow, stat } from "../dom.js";
import { reason, t } from "../i18n.js";

const HUB = [160, 125];
const NODES = {
  pv: { x: 160, y: 32, cls: "pv", side: true },
  grid: { x: 42, y: 125, cls: "grid" },
  house: { x: 278, y: 125, cls: "house" },
  car: { x: 160, y: 218, cls: "car", side: true },
};
const TODAY_EVERY_MS = 5 * 60 * 1000;

// The diagram is for the eyes; a screen reader gets the same numbers as a list.
function flowDiagram() {
  const svg = h("svg", { viewBox: "0 0 320 252", class: "flow", "aria-hidden": "true", focusable: "false" });
  const list = h("ul", { class: "sr-only", "data-testid": "flow-text" });
  const parts = {};
  for (const [key, n] of Object.entries(NODES)) {
    const line = h("path", { class: `wire ${n.cls}`, d: `M${n.x} ${n.y} L${HUB[0]} ${HUB[1]}` });
    svg.append(line);
    parts[key] = { line };
  }
  svg.append(h("circle", { cx: HUB[0], cy: HUB[1], r: 7, class: "hub" }));
  for (const [key, n] of Object.entries(NODES)) {
    const value = h("text", { x: n.x, y: n.y + 5, class: "node-value" }, "–");
    // labels beside the vertical wires' nodes, under the horizontal ones: never across a wire
    const sub = n.side ? h("text", { x: n.x + 37, y: n.y + 4, class: "node-label side" }, "")
      : h("text", { x: n.x, y: n.y + 46, class: "node-label" }, "");
    svg.append(h("g", { class: `node ${n.cls}` }, h("circle", { cx: n.x, cy: n.y, r: 29 }), value), sub);
    const item = h("li", {});
    list.append(item);
    Object.assign(parts[key], { value, sub, item });
  }
  return { svg, list, parts };
}

function setFlow(part, node, watts, towardHub, caption) {
  const active = watts !== null && Math.abs(watts) >= 50;
  const [a, b] = towardHub ? [[node.x, node.y], HUB] : [HUB, [node.x, node.y]];
  part.line.setAttribute("d", `M${a[0]} ${a[1]} L${b[0]} ${b[1]}`);
  part.line.classList.toggle("active", active);
  part.line.style.strokeWidth = String(active ? 3 + Math.min(7, Math.abs(watts) / 1500) : 2);
  const value = watts === null ? "–" : kw(Math.abs(watts));
  part.value.textContent = value;
  part.sub.textContent = caption;
  part.item.textContent = `${caption}: ${watts === null ? t("overview.no_value") : value}`;
}

export function render(root, ctx) {
  const { svg, list, parts } = flowDiagram();
  const headline = h("p", { class: "headline", "data-testid": "headline" }, t("overview.waiting"));
  const detail = h("p", { class: "muted" });
  const modeChip = h("a", { class: "chip", href: "#/car" });
  const warn = h("div", { class: "banner warn", role: "alert", hidden: true });
  const socFill = h("div", { class: "soc-fill" });
  const socReserve = h("div", { class: "soc-mark reserve" });
  const socTarget = h("div", { class: "soc-mark target" });
  const reserveLabel = h("span", { class: "soc-label reserve", "data-testid": "reserve-label" });
  const targetLabel = h("span", { class: "soc-label target", "data-testid": "target-label" });
  const socText = h("span", { class: "soc-text" }, "–");
  const socBar = h("div", { class: "soc-bar", role: "meter", "aria-valuemin": "0", "aria-valuemax": "100", "aria-label": t("overview.charge_level") },
    socFill, socReserve, socTarget);
  const carLine = h("p", { class: "muted", "data-testid": "car-line" });
  const tripLine = h("p", {});
  const today = h("div", { class: "stats" });

  root.append(
    warn,
    card(null, h("div", { class: "now-head" }, h("h2", { class: "eyebrow" }, t("overview.now")), modeChip), headline, detail),
    h("section", { class: "card flow-card", "aria-label": t("overview.flow") }, h("h2", { class: "sr-only" }, t("overview.flow")), svg, list),
    card(t("overview.car"), h("div", { class: "soc-row" }, h("div", { class: "soc-wrap" }, socBar,
      h("div", { class: "soc-labels" }, reserveLabel, targetLabel)), socText), carLine, tripLine,
    h("a", { class: "button", href: "#/car" }, t("overview.departure_and_mode"))),
    card(t("overview.today"), today, h("a", { class: "more", href: "#/history" }, t("overview.more_history"))),
  );

  // Four totals for today: a small request every few minutes, not a day of curves every minute.
  async function loadToday() {
    let v;
    try { v = await get("/history/today"); } catch { return; }
    if (!alive || !v.totals) return;
    const x = v.totals;
    clear(today).append(
      stat(t("energy.solar"), kwh(x.pv_kwh), "pv"), stat(t("energy.house"), kwh(x.load_kwh), "house"),
      stat(t("energy.car_charged"), kwh(x.ev_charge_kwh), "car"), stat(t("overview.cost_so_far"), money(x.cost, v.currency), "grid"));
  }

  function update(s) {
    setNow(s.at);
    const load = s.house_load_w, grid = s.grid_power_w, ev = s.ev_power_w, pv = s.pv_power_w;
    setFlow(parts.pv, NODES.pv, pv, true, pv !== null && pv >= 50 ? t("flow.solar_producing") : t("flow.solar"));
    setFlow(parts.grid, NODES.grid, grid, grid !== null && grid > 0,
      grid === null ? t("flow.grid") : grid >= 50 ? t("flow.grid_buying") : grid <= -50 ? t("flow.grid_selling") : t("flow.grid"));
    setFlow(parts.house, NODES.house, load, false, t("flow.house"));
    setFlow(parts.car, NODES.car, s.plugged ? ev : null, ev !== null && ev < 0,
      !s.plugged ? t("flow.car_away") : ev >= 50 ? t("flow.car_charging") : ev <= -50 ? t("flow.car_supplying") : t("flow.car_idle"));
    const sp = s.setpoint;
    headline.textContent = sp ? reason(sp.reason) : (s.at ? t("overview.deciding") : t("overview.waiting"));
    detail.textContent = !sp ? "" : sp.ev_power_w >= 50 ? t("overview.car_charging_at", { power: kw(sp.ev_power_w) })
      : sp.ev_power_w <= -50 ? t("overview.car_supplying_at", { power: kw(-sp.ev_power_w) }) : t("overview.car_idle");
    modeChip.textContent = t("overview.mode", { mode: t(`mode.${s.mode}`) });
    modeChip.className = `chip mode-${s.mode}`;
    warn.hidden = !(s.stale && s.stale.length) && !s.fault;
    warn.textContent = s.fault ? t("overview.fault", { fault: s.fault })
      : t("overview.stale", { devices: (s.stale || []).map((r) => t(`role.${r}`)).join(", ") });
    const soc = s.soc_pct;
    socFill.style.width = `${Math.max(0, Math.min(100, soc ?? 0))}%`;
    socFill.classList.toggle("charging", (ev ?? 0) >= 50);
    if (soc !== null && soc !== undefined) socBar.setAttribute("aria-valuenow", String(Math.round(soc)));
    socBar.setAttribute("aria-valuetext", soc === null || soc === undefined ? t("overview.soc_unknown") : pct(soc));
    placeMarks(s.reserve_pct ?? 0, s.next_trip ? s.next_trip.target_soc_pct : null);
    socText.textContent = pct(soc);
    carLine.textContent = s.plugged ? t("overview.plugged", { reserve: pct(s.reserve_pct) }) : t("overview.not_plugged");
    clear(tripLine);
    if (s.next_trip) {
      tripLine.append(t("overview.next_trip"), " ", h("strong", {}, dayTime(s.next_trip.departure)),
        " · ", t("overview.ready_with"), " ", h("strong", {}, pct(s.next_trip.target_soc_pct)));
    }
  }

  // Reserve and target ticks carry their own labels; labels of close ticks go on two rows.
  function placeMarks(reserve, target) {
    const anchor = (el, at) => { el.style.left = `${at}%`; el.dataset.anchor = at < 15 ? "start" : at > 85 ? "end" : "middle"; };
    socReserve.style.left = `${reserve}%`;
    anchor(reserveLabel, reserve);
    reserveLabel.textContent = t("overview.reserve_mark", { pct: pct(reserve) });
    socTarget.hidden = targetLabel.hidden = target === null;
    if (target === null) return;
    socTarget.style.left = `${target}%`;
    anchor(targetLabel, target);
    targetLabel.textContent = t("overview.target_mark", { pct: pct(target) });
    targetLabel.parentElement.classList.toggle("two-rows", Math.abs(target - reserve) < 35);
  }

  let alive = true;
  loadToday();
  const todayTimer = setInterval(loadToday, TODAY_EVERY_MS);
  get("/state").then((s) => alive && update(s)).catch((e) => ctx.toast(e.message, "error"));
  const off = ctx.on("state", update);
  const offCar = ctx.on("preferences", () => get("/state").then((s) => alive && update(s)).catch(() => {}));
  return () => { alive = false; off(); offCar(); clearInterval(todayTimer); };
}
