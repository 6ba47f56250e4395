// Devices: each device's status, last reading, errors; the aggregator link; the system under hems.
import { get } from "../api.js";
import { ago, card, clear, dayTime, h, nowMs, relativeTime } from "../dom.js";
import { num, t } from "../i18n.js";
import { setNow } from "../dom.js";

const SECURITY_STALE_DAYS = 3;     // apt runs unattended-upgrade daily: more than this is worth a word

const HIDDEN = new Set(["at", "role"]);

// A reading's field name carries its unit (hems convention): grid_power_w -> "Grid power", "1.65 kW".
const UNITS = [["_wh", "kWh", 1000, 1], ["_w", "kW", 1000, 2], ["_a", "A", 1, 1], ["_v", "V", 1, 0],
  ["_hz", "Hz", 1, 2], ["_pct", "%", 1, 0]];

// Known readings have a translated name; others are spelled out from the field name.
function label(k) {
  const known = t(`reading.${k}`);
  if (known !== `reading.${k}`) return known;
  let name = k;
  for (const [suffix] of UNITS) if (k.endsWith(suffix)) { name = k.slice(0, -suffix.length); break; }
  name = name.replaceAll("_", " ");
  return name[0].toUpperCase() + name.slice(1);
}

function fmt(k, v) {
  if (v && typeof v === "object" && !Array.isArray(v)) {       // e.g. what the car asked for over ISO 15118
    return Object.entries(v).filter(([kk, vv]) => kk !== "at" && vv !== null && vv !== false)
      .map(([kk, vv]) => `${t(`needs.${kk}`)} ${kk === "departure" ? dayTime(vv) : fmt(kk, vv)}`).join(" · ") || "–";
  }
  if (k === "state") { const s = t(`charger_state.${v}`); return s === `charger_state.${v}` ? String(v) : s; }
  const unit = UNITS.find(([suffix]) => k.endsWith(suffix));
  const one = (x) => (typeof x === "boolean" ? t(x ? "common.yes" : "common.no") : typeof x !== "number" ? String(x)
    : unit ? num(x / unit[2], unit[3]) : num(x, 1));
  const text = Array.isArray(v) ? v.map(one).join(" / ") : one(v);
  return unit && typeof (Array.isArray(v) ? v[0] : v) === "number" ? `${text} ${unit[1]}` : text;
}

function readingRows(reading) {
  if (!reading) return [h("p", { class: "muted" }, t("devices.no_reading"))];
  const rows = [];
  for (const [k, v] of Object.entries(reading)) {
    if (HIDDEN.has(k) || v === null || (Array.isArray(v) && !v.length)) continue;
    rows.push(h("div", { class: "kv" }, h("span", {}, label(k)), h("span", {}, fmt(k, v))));
  }
  return rows;
}

function dot(ok) {
  return h("span", { class: `dot ${ok === true ? "ok" : ok === false ? "bad" : "unknown"}`, "aria-hidden": "true" });
}

function kv(name, value, testid = null) {
  return h("div", { class: "kv", "data-testid": testid }, h("span", {}, name), h("span", {}, value));
}

// Whether Debian's unattended security upgrades run: on the image they do daily; elsewhere the
// operating system's own settings decide (hems cannot tell).
function securityRows(u) {
  if (!u.enabled && !u.last_run) return [kv(t("devices.security_updates"), t("devices.security_by_os"), "security-state")];
  const rows = [kv(t("devices.security_updates"), t(u.enabled ? "devices.security_on" : "devices.security_off"), "security-state"),
    kv(t("devices.security_last_run"), u.last_run ? `${relativeTime(u.last_run)} · ${dayTime(u.last_run)}` : t("time.never"),
      "security-last-run")];
  if (u.result) rows.push(kv(t("devices.security_result"), u.result, "security-result"));
  return rows;
}

function securityWarning(u) {
  if (!u.enabled) return null;
  const days = u.last_run ? Math.floor((nowMs() - Date.parse(u.last_run)) / 86400000) : null;
  if (days !== null && days <= SECURITY_STALE_DAYS) return null;
  return h("p", { class: "banner warn", "data-testid": "security-warning" },
    days === null ? t("devices.security_never_run") : t("devices.security_stale", { days }));
}

function systemCard(s) {
  return card(t("devices.system"),
    securityWarning(s.security_updates),
    h("div", { class: "kvs" }, kv(t("devices.hems_version"), s.hems_version, "hems-version"),
      s.image_version ? kv(t("devices.image_version"), s.image_version, "image-version") : null,
      securityRows(s.security_updates)));
}

export function render(root, ctx) {
  let alive = true;
  const storage = h("div");
  const list = h("div", { class: "cards" });
  const link = h("div");
  const system = h("div", { "data-testid": "system" });
  root.append(storage, list, link, system);

  async function load() {
    let v;
    try { v = await get("/devices"); } catch (e) { ctx.toast(e.message, "error"); return; }
    if (!alive) return;
    setNow(v.now);
    clear(storage); clear(list); clear(link); clear(system);
    if (v.storage && v.storage.error) {
      storage.append(card("Storage", h("div", { class: "device-head" }, dot(false),
        h("p", { class: "error", id: "storage-error" }, v.storage.error))));
    }
    for (const [name, d] of Object.entries(v.devices)) {
      const ok = d.online !== false && d.fresh !== false;
      const seen = d.last_ok_at || d.last_reading || (d.reading && d.reading.at);
      const role = t(`role.${d.role}`);
      list.append(card(null,
        h("div", { class: "device-head" }, dot(ok), h("div", {}, h("h2", {}, role !== `role.${d.role}` ? role : name),
          h("span", { class: "muted" }, [name, ok ? t("devices.online") : t("devices.no_fresh_data"),
            t("devices.last_reading", { when: ago(seen) }),
            d.failures ? t("devices.failed_polls", { n: d.failures }) : null].filter(Boolean).join(" · ")))),
        d.last_error ? h("p", { class: "error" }, d.last_error) : null,
        h("div", { class: "kvs" }, readingRows(d.reading))));
    }
    const a = v.aggregator;
    link.append(card(t("devices.aggregator"),
      h("div", { class: "device-head" }, dot(a.enabled ? a.connected : null),
        h("div", {}, h("strong", {}, a.enabled ? (a.connected ? t("devices.connected") : a.connected === false ? t("devices.not_connected") : t("devices.enrolled")) : t("devices.not_enrolled")),
          h("span", { class: "muted" }, a.enabled ? ` · ${a.host || ""} · ${t("devices.site", { id: a.site_id || "?" })}` : ` · ${t("devices.on_its_own")}`))),
      a.last_error ? h("p", { class: "error" }, a.last_error) : null,
      a.log && a.log.length ? h("ul", { class: "list" }, a.log.map((e) => h("li", {},
        h("span", { class: "muted" }, `${dayTime(e.at)} `), h("strong", {}, `${e.kind || t("devices.message")} ${e.status}`),
        e.reason ? ` · ${e.reason}` : ""))) : null));
    system.append(systemCard(v.system));
  }
  load();
  const timer = setInterval(load, 5000);
  return () => { alive = false; clearInterval(timer); };
}
