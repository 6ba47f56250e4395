// Devices: each device's status, last reading, errors; the aggregator link.
import { get } from "../api.js";
import { ago, card, clear, dayTime, h, setNow } from "../dom.js";

const ROLE_NAMES = { meter: "Home meter", pv: "Solar inverter", charger: "Car charger" };
const HIDDEN = new Set(["at", "role"]);

// A reading's field name carries its unit (hems convention): grid_power_w -> "Grid power", "1.65 kW".
const UNITS = [["_wh", "kWh", 1000, 1], ["_w", "kW", 1000, 2], ["_a", "A", 1, 1], ["_v", "V", 1, 0],
  ["_hz", "Hz", 1, 2], ["_pct", "%", 1, 0]];

function label(k) {
  let name = k;
  for (const [suffix] of UNITS) if (k.endsWith(suffix)) { name = k.slice(0, -suffix.length); break; }
  name = name.replaceAll("_", " ").replace(/\bpv\b/, "PV").replace(/\bev\b/, "EV").replace(/\bsoc\b/, "SoC");
  return name[0].toUpperCase() + name.slice(1);
}

function fmt(k, v) {
  const unit = UNITS.find(([suffix]) => k.endsWith(suffix));
  const one = (x) => (typeof x !== "number" ? String(x) : unit ? (x / unit[2]).toFixed(unit[3]) : x.toFixed(1));
  const text = Array.isArray(v) ? v.map(one).join(" / ") : one(v);
  return unit && typeof (Array.isArray(v) ? v[0] : v) === "number" ? `${text} ${unit[1]}` : text;
}

function readingRows(reading) {
  if (!reading) return [h("p", { class: "muted" }, "No reading yet.")];
  const rows = [];
  for (const [k, v] of Object.entries(reading)) {
    if (HIDDEN.has(k) || v === null || (Array.isArray(v) && !v.length)) continue;
    rows.push(h("div", { class: "kv" }, h("span", {}, label(k)), h("span", {}, fmt(k, v))));
  }
  return rows;
}

function dot(ok) { return h("span", { class: `dot ${ok === true ? "ok" : ok === false ? "bad" : "unknown"}` }); }

export function render(root, ctx) {
  let alive = true;
  const storage = h("div");
  const list = h("div", { class: "cards" });
  const link = h("div");
  root.append(storage, list, link);

  async function load() {
    let v;
    try { v = await get("/devices"); } catch (e) { ctx.toast(e.message, "error"); return; }
    if (!alive) return;
    setNow(v.now);
    clear(storage); clear(list); clear(link);
    if (v.storage && v.storage.error) {
      storage.append(card("Storage", h("div", { class: "device-head" }, dot(false),
        h("p", { class: "error", id: "storage-error" }, v.storage.error))));
    }
    for (const [name, d] of Object.entries(v.devices)) {
      const ok = d.online !== false && d.fresh !== false;
      const seen = d.last_ok_at || d.last_reading || (d.reading && d.reading.at);
      list.append(card(null,
        h("div", { class: "device-head" }, dot(ok), h("div", {}, h("h2", {}, ROLE_NAMES[d.role] || d.role || name),
          h("span", { class: "muted" }, `${name} · ${ok ? "online" : "no fresh data"} · last reading ${ago(seen)}`
          + (d.failures ? ` · ${d.failures} failed polls` : "")))),
        d.last_error ? h("p", { class: "error" }, d.last_error) : null,
        h("div", { class: "kvs" }, readingRows(d.reading))));
    }
    const a = v.aggregator;
    link.append(card("Aggregator link",
      h("div", { class: "device-head" }, dot(a.enabled ? a.connected : null),
        h("div", {}, h("strong", {}, a.enabled ? (a.connected ? "Connected" : a.connected === false ? "Not connected" : "Enrolled") : "Not enrolled"),
          h("span", { class: "muted" }, a.enabled ? ` · ${a.host || ""} · site ${a.site_id || "?"}` : " · hems works on its own; enrol on the Settings page"))),
      a.last_error ? h("p", { class: "error" }, a.last_error) : null,
      a.log && a.log.length ? h("ul", { class: "list" }, a.log.map((e) => h("li", {},
        h("span", { class: "muted" }, `${dayTime(e.at)} `), h("strong", {}, `${e.kind || "message"} ${e.status}`),
        e.reason ? ` · ${e.reason}` : ""))) : null));
  }
  load();
  const timer = setInterval(load, 5000);
  return () => { alive = false; clearInterval(timer); };
}
