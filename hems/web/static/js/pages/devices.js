// Devices: each device's status, last reading, errors; the aggregator link.
import { get } from "../api.js";
import { ago, card, clear, h } from "../dom.js";

const ROLE_NAMES = { meter: "Home meter", pv: "Solar inverter", charger: "Car charger" };
const HIDDEN = new Set(["at", "role"]);

function readingRows(reading) {
  if (!reading) return [h("p", { class: "muted" }, "No reading yet.")];
  const rows = [];
  for (const [k, v] of Object.entries(reading)) {
    if (HIDDEN.has(k) || v === null || (Array.isArray(v) && !v.length)) continue;
    rows.push(h("div", { class: "kv" }, h("span", {}, k.replaceAll("_", " ")), h("span", {}, fmt(k, v))));
  }
  return rows;
}

function fmt(k, v) {
  if (Array.isArray(v)) return v.map((x) => (typeof x === "number" ? x.toFixed(1) : x)).join(" / ");
  if (typeof v === "number") return k.endsWith("_w") && Math.abs(v) >= 1000 ? `${(v / 1000).toFixed(2)} k` : v.toFixed(1);
  return String(v);
}

function dot(ok) { return h("span", { class: `dot ${ok === true ? "ok" : ok === false ? "bad" : "unknown"}` }); }

export function render(root, ctx) {
  let alive = true;
  const list = h("div", { class: "grid" });
  const link = h("div");
  root.append(list, link);

  async function load() {
    let v;
    try { v = await get("/devices"); } catch (e) { ctx.toast(e.message, "error"); return; }
    if (!alive) return;
    clear(list); clear(link);
    for (const [name, d] of Object.entries(v.devices)) {
      const ok = d.online !== false && d.fresh !== false;
      const seen = d.last_ok || d.last_reading || (d.reading && d.reading.at);
      list.append(card(null,
        h("div", { class: "device-head" }, dot(ok), h("div", {}, h("h2", {}, ROLE_NAMES[d.role] || d.role || name),
          h("span", { class: "muted" }, `${name} · ${ok ? "online" : "no fresh data"} · last reading ${ago(seen)}`))),
        d.last_error ? h("p", { class: "error" }, d.last_error) : null,
        h("div", { class: "kvs" }, readingRows(d.reading))));
    }
    const a = v.aggregator;
    link.append(card("Aggregator link",
      h("div", { class: "device-head" }, dot(a.enabled ? a.connected : null),
        h("div", {}, h("strong", {}, a.enabled ? (a.connected ? "Connected" : a.connected === false ? "Not connected" : "Enrolled") : "Not enrolled"),
          h("span", { class: "muted" }, a.enabled ? ` · ${a.host || ""} · site ${a.site_id || "?"}` : " · hems works on its own; enrol on the Settings page"))),
      a.last_error ? h("p", { class: "error" }, a.last_error) : null));
  }
  load();
  const timer = setInterval(load, 5000);
  return () => { alive = false; clearInterval(timer); };
}
