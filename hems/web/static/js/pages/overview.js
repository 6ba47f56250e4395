// Overview: live power flow (PV, house, grid, car), the car's SoC, what hems does now and why.
import { get } from "../api.js";
import { card, clear, dayTime, h, kw, money, pct, setNow, timeOf } from "../dom.js";

const HUB = [160, 125];
const NODES = {
  pv: { x: 160, y: 32, label: "Solar", cls: "pv", side: true },
  grid: { x: 42, y: 125, label: "Grid", cls: "grid" },
  house: { x: 278, y: 125, label: "House", cls: "house" },
  car: { x: 160, y: 218, label: "Car", cls: "car", side: true },
};
const MODE_NAMES = { smart: "Smart", solar_only: "Solar only", fast: "Fast now", off: "Off" };

function flowDiagram() {
  const svg = h("svg", { viewBox: "0 0 320 252", class: "flow", role: "img", "aria-label": "Power flow" });
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
    const sub = n.side ? h("text", { x: n.x + 37, y: n.y + 4, class: "node-label side" }, n.label)
      : h("text", { x: n.x, y: n.y + 46, class: "node-label" }, n.label);
    svg.append(h("g", { class: `node ${n.cls}` }, h("circle", { cx: n.x, cy: n.y, r: 29 }), value), sub);
    Object.assign(parts[key], { value, sub });
  }
  return { svg, parts };
}

function setFlow(part, node, watts, towardHub, caption) {
  const active = watts !== null && Math.abs(watts) >= 50;
  const [a, b] = towardHub ? [[node.x, node.y], HUB] : [HUB, [node.x, node.y]];
  part.line.setAttribute("d", `M${a[0]} ${a[1]} L${b[0]} ${b[1]}`);
  part.line.classList.toggle("active", active);
  part.line.style.strokeWidth = String(active ? 3 + Math.min(7, Math.abs(watts) / 1500) : 2);
  part.value.textContent = watts === null ? "–" : kw(Math.abs(watts));
  part.sub.textContent = caption;
}

export function render(root, ctx) {
  const { svg, parts } = flowDiagram();
  const headline = h("p", { class: "headline" }, "Waiting for the first measurements…");
  const detail = h("p", { class: "muted" });
  const modeChip = h("a", { class: "chip", href: "#/car" });
  const warn = h("div", { class: "banner warn", hidden: true });
  const socFill = h("div", { class: "soc-fill" });
  const socReserve = h("div", { class: "soc-mark reserve", title: "reserve" });
  const socTarget = h("div", { class: "soc-mark target", title: "target" });
  const socText = h("span", { class: "soc-text" }, "–");
  const carLine = h("p", { class: "muted" });
  const tripLine = h("p", {});

  const today = h("div", { class: "stats" });
  root.append(
    warn,
    card(null, h("div", { class: "now-head" }, h("span", { class: "eyebrow" }, "Now"), modeChip), headline, detail),
    h("section", { class: "card flow-card" }, svg),
    card("Car", h("div", { class: "soc-row" },
      h("div", { class: "soc-bar" }, socFill, socReserve, socTarget), socText), carLine, tripLine,
    h("a", { class: "button", href: "#/car" }, "Departure & mode")),
    card("Today", today, h("a", { href: "#/history" }, "History")),
  );

  async function loadToday() {
    let v;
    try { v = await get("/history?period=day"); } catch { return; }
    if (!alive || !v.totals) return;
    const t = v.totals;
    clear(today).append(
      stat("Solar", `${t.pv_kwh.toFixed(1)} kWh`, "pv"), stat("House", `${t.load_kwh.toFixed(1)} kWh`, "house"),
      stat("Car charged", `${t.ev_charge_kwh.toFixed(1)} kWh`, "car"), stat("Cost so far", money(t.cost, v.currency), "grid"));
  }

  function update(s) {
    setNow(s.at);
    const load = s.house_load_w, grid = s.grid_power_w, ev = s.ev_power_w, pv = s.pv_power_w;
    setFlow(parts.pv, NODES.pv, pv, true, pv !== null && pv >= 50 ? "Solar · producing" : "Solar");
    setFlow(parts.grid, NODES.grid, grid, grid !== null && grid > 0,
      grid === null ? "Grid" : grid >= 50 ? "Grid · buying" : grid <= -50 ? "Grid · selling" : "Grid");
    setFlow(parts.house, NODES.house, load, false, "House");
    setFlow(parts.car, NODES.car, s.plugged ? ev : null, ev !== null && ev < 0,
      !s.plugged ? "Car · away" : ev >= 50 ? "Car · charging" : ev <= -50 ? "Car · supplying" : "Car · idle");
    const sp = s.setpoint;
    headline.textContent = sp ? capital(sp.reason) : (s.at ? "Deciding…" : "Waiting for the first measurements…");
    detail.textContent = sp ? `Car power ${sp.ev_power_w >= 0 ? "" : "−"}${kw(Math.abs(sp.ev_power_w))} since ${timeOf(sp.at)}` : "";
    modeChip.textContent = `Mode: ${MODE_NAMES[s.mode] || s.mode}`;
    modeChip.className = `chip mode-${s.mode}`;
    warn.hidden = !(s.stale && s.stale.length) && !s.fault;
    warn.textContent = s.fault ? `Charger fault: ${s.fault}` :
      `No fresh data from ${(s.stale || []).join(", ")}: hems keeps the car safe (no discharging).`;
    socFill.style.width = `${Math.max(0, Math.min(100, s.soc_pct ?? 0))}%`;
    socFill.classList.toggle("charging", (ev ?? 0) >= 50);
    socReserve.style.left = `${s.reserve_pct ?? 0}%`;
    const target = s.next_trip ? s.next_trip.target_soc_pct : null;
    socTarget.hidden = target === null;
    if (target !== null) socTarget.style.left = `${target}%`;
    socText.textContent = pct(s.soc_pct);
    carLine.textContent = s.plugged ? `Plugged in · reserve ${pct(s.reserve_pct)}` : "Not plugged in";
    clear(tripLine);
    if (s.next_trip) {
      tripLine.append("Next trip ", h("strong", {}, dayTime(s.next_trip.departure)),
        " · ready with ", h("strong", {}, pct(s.next_trip.target_soc_pct)));
    }
  }

  let alive = true;
  loadToday();
  const todayTimer = setInterval(loadToday, 60000);
  get("/state").then((s) => alive && update(s)).catch((e) => ctx.toast(e.message, "error"));
  const off = ctx.on("state", update);
  const offCar = ctx.on("preferences", () => get("/state").then((s) => alive && update(s)).catch(() => {}));
  return () => { alive = false; off(); offCar(); clearInterval(todayTimer); };
}

function stat(label, value, tone) {
  return h("div", { class: `stat ${tone}` }, h("span", { class: "stat-label" }, label), h("span", { class: "stat-value" }, value));
}

function capital(text) { return text ? text[0].toUpperCase() + text.slice(1) : ""; }
