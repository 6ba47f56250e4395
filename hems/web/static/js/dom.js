// Small DOM and formatting helpers. No innerHTML with data: text always goes through textContent.

export function h(tag, attrs = {}, ...children) {
  const svg = ["svg", "path", "circle", "line", "g", "text", "rect", "polyline"].includes(tag);
  const el = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.setAttribute("class", v);
    else if (k in el && !svg && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) { while (el.firstChild) el.firstChild.remove(); return el; }

export function kw(w, digits = 1) {
  if (w === null || w === undefined) return "–";
  const v = Math.abs(w) < 50 ? 0 : w / 1000;
  return `${v.toFixed(digits)} kW`;
}

export function pct(v) { return v === null || v === undefined ? "–" : `${Math.round(v)} %`; }

let siteTz = undefined;
let clockOffsetMs = 0;   // hems' clock minus the browser's (a simulated home runs on its own clock)
export function setNow(iso) { if (iso) clockOffsetMs = Date.parse(iso) - Date.now(); }
export function nowMs() { return Date.now() + clockOffsetMs; }
export function setTimezone(tz) { siteTz = tz || undefined; }
export function timezone() { return siteTz; }

export function timeOf(iso) {
  if (!iso) return "–";
  return new Date(iso).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: siteTz });
}

// Axis ticks: "HH:MM", and the day ("Tue 4") at local midnight.
export function tickLabel(tsS) {
  const d = new Date(tsS * 1000);
  const hm = d.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: siteTz });
  if (hm === "00:00") return d.toLocaleDateString("en-GB", { weekday: "short", day: "numeric", timeZone: siteTz });
  return hm;
}

export function dayTime(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  const opts = { timeZone: siteTz };
  const key = (x) => x.toLocaleDateString("en-CA", opts);
  const now = new Date(nowMs());
  const tomorrow = new Date(now.getTime() + 86400000);
  let day = d.toLocaleDateString([], { weekday: "short", day: "numeric", month: "short", ...opts });
  if (key(d) === key(now)) day = "today";
  else if (key(d) === key(tomorrow)) day = "tomorrow";
  return `${day} ${timeOf(iso)}`;
}

export function ago(iso) {
  if (!iso) return "never";
  const s = Math.round((nowMs() - new Date(iso).getTime()) / 1000);
  if (s < 5) return "just now";
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  return dayTime(iso);
}

export function money(v, currency = "EUR") {
  if (v === null || v === undefined) return "–";
  try { return new Intl.NumberFormat([], { style: "currency", currency }).format(v); }
  catch { return `${v.toFixed(2)} ${currency}`; }
}

export function card(title, ...children) {
  return h("section", { class: "card" }, title ? h("h2", {}, title) : null, ...children);
}
