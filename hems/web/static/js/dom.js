// Small DOM and formatting helpers. No innerHTML with data: text always goes through textContent.
import { locale, num, t } from "./i18n.js";

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
  return `${num(Math.abs(w) < 50 ? 0 : w / 1000, digits)} kW`;
}

export function kwh(v, digits = 1) { return v === null || v === undefined ? "–" : `${num(v, digits)} kWh`; }

export function pct(v) { return v === null || v === undefined ? "–" : `${num(Math.round(v), 0)} %`; }

let siteTz = undefined;
let clockOffsetMs = 0;   // hems' clock minus the browser's (a simulated home runs on its own clock)
export function setNow(iso) { if (iso) clockOffsetMs = Date.parse(iso) - Date.now(); }
export function nowMs() { return Date.now() + clockOffsetMs; }
export function setTimezone(tz) { siteTz = tz || undefined; }
export function timezone() { return siteTz; }

const HM = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };

export function timeOf(iso) {
  if (!iso) return "–";
  return new Date(iso).toLocaleTimeString(locale(), { ...HM, timeZone: siteTz });
}

export function hhmm(tsS) { return new Date(tsS * 1000).toLocaleTimeString(locale(), { ...HM, timeZone: siteTz }); }

// Axis ticks: "HH:MM", and the day ("Tue 4") at local midnight.
export function tickLabel(tsS) {
  const d = new Date(tsS * 1000);
  const hm = hhmm(tsS);
  if (hm === "00:00") return d.toLocaleDateString(locale(), { weekday: "short", day: "numeric", timeZone: siteTz });
  return hm;
}

export function dateOf(tsS, opts) { return new Date(tsS * 1000).toLocaleDateString(locale(), { ...opts, timeZone: siteTz }); }

// "Tue 4 Jun 07:30" (24 h, the language's order) for a chart's legend.
export function dateTime(tsS) {
  return `${dateOf(tsS, { weekday: "short", day: "numeric", month: "short" })} ${hhmm(tsS)}`;
}

export function dayTime(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  const opts = { timeZone: siteTz };
  const key = (x) => x.toLocaleDateString("en-CA", opts);
  const now = new Date(nowMs());
  const tomorrow = new Date(now.getTime() + 86400000);
  let day = d.toLocaleDateString(locale(), { weekday: "short", day: "numeric", month: "short", ...opts });
  if (key(d) === key(now)) day = t("time.today");
  else if (key(d) === key(tomorrow)) day = t("time.tomorrow");
  return `${day} ${timeOf(iso)}`;
}

export function ago(iso) {
  if (!iso) return t("time.never");
  const s = Math.round((nowMs() - new Date(iso).getTime()) / 1000);
  if (s < 5) return t("time.just_now");
  if (s < 90) return t("time.seconds_ago", { n: s });
  if (s < 5400) return t("time.minutes_ago", { n: Math.round(s / 60) });
  return dayTime(iso);
}

// "2 days ago", "5 hours ago", "yesterday" in the owner's language (the browser's plural rules).
export function relativeTime(iso) {
  if (!iso) return t("time.never");
  const s = Math.max(0, (nowMs() - Date.parse(iso)) / 1000);
  const words = new Intl.RelativeTimeFormat(locale(), { numeric: "auto" });
  if (s < 3600) return words.format(-Math.round(s / 60), "minute");
  if (s < 36 * 3600) return words.format(-Math.round(s / 3600), "hour");
  return words.format(-Math.floor(s / 86400), "day");
}

export function money(v, currency = "EUR") {
  if (v === null || v === undefined) return "–";
  try { return new Intl.NumberFormat(locale(), { style: "currency", currency }).format(v); }
  catch { return `${num(v, 2)} ${currency}`; }
}

export function card(title, ...children) {
  return h("section", { class: "card" }, title ? h("h2", {}, title) : null, ...children);
}

export function stat(label, value, tone = "", hint = null) {
  return h("div", { class: `stat ${tone}` }, h("span", { class: "stat-label" }, label),
    h("span", { class: "stat-value" }, value), hint ? h("span", { class: "stat-hint" }, hint) : null);
}

// Re-render without losing the keyboard focus: the element with the same data-focus key gets it back.
export function keepFocus(root, redraw) {
  const key = document.activeElement && root.contains(document.activeElement) ? document.activeElement.dataset.focus : null;
  redraw();
  if (key) {
    const again = root.querySelector(`[data-focus="${CSS.escape(key)}"]`);
    if (again) again.focus();
  }
}

// A form field: label, input, a hint and an error that stays until the value is changed.
export function field(label, input, hint = null) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  const err = h("p", { class: "field-error", id: `${id}-err`, role: "alert", hidden: true });
  const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  if (hintEl) input.setAttribute("aria-describedby", hintEl.id);
  const el = h("div", { class: "field" }, h("label", { for: id }, label), input, hintEl, err);
  const showError = (text) => {
    err.textContent = text || "";
    err.hidden = !text;
    input.toggleAttribute("aria-invalid", Boolean(text));
    if (text) input.setAttribute("aria-errormessage", err.id);
  };
  input.addEventListener("input", () => showError(null));
  return { el, input, showError, label };
}

// A number input checked against its min and max before anything is sent; the message uses
// the field's label, never the API's field name.
export function checkNumber(f, unit = "") {
  const raw = f.input.value.trim();
  if (raw === "") return null;
  const v = Number(raw.replace(",", "."));
  const lo = f.input.min === "" ? -Infinity : Number(f.input.min), hi = f.input.max === "" ? Infinity : Number(f.input.max);
  if (!Number.isFinite(v)) { f.showError(t("error.not_a_number", { label: f.label })); return undefined; }
  if (v < lo || v > hi) {
    f.showError(t("error.range", { label: f.label, min: num(lo, decimals(lo)), max: num(hi, decimals(hi)), unit }));
    return undefined;
  }
  return v;
}

function decimals(x) { return Number.isInteger(x) ? 0 : 2; }

// A server's refusal in the owner's words: the usual refusals are said in their language with the
// field's label; anything else keeps the server's text with the API's field names replaced by labels.
const REFUSALS = [
  [/^([\w.]+) must be between ([-\d.]+) and ([-\d.]+)([^,]*)/, (m) => ["error.range", { min: num(Number(m[2]), decimals(Number(m[2]))),
    max: num(Number(m[3]), decimals(Number(m[3]))), unit: m[4] }]],
  [/^([\w.]+) must be (a number|a whole number)/, () => ["error.not_a_number", {}]],
  [/^([\w.]+) must be in the future/, () => ["error.future", {}]],
  [/^([\w.]+) must be within the next (\d+) days/, (m) => ["error.within_days", { n: m[2] }]],
  [/^([\w.]+) must be a host name or IP address/, () => ["error.host", {}]],
  [/^([\w.]+) must be an e-mail address/, () => ["error.email", {}]],
  [/^([\w.]+) must start with http:\/\/ or https:\/\//, () => ["error.url", {}]],
  [/^([\w.]+) must end with the topic/, () => ["error.ntfy_topic", {}]],
];

export function plainError(message, labels) {
  const text = String(message || "");
  for (const [re, make] of REFUSALS) {
    const m = text.match(re);
    if (m && labels && labels[m[1]]) {
      const [key, vars] = make(m);
      return t(key, { label: labels[m[1]], unit: "", ...vars });
    }
  }
  let out = text;
  for (const [name, label] of Object.entries(labels || {})) out = out.split(name).join(label);
  return out;
}

// A time of day typed as HH:MM, 24 h in every language (the browser's own time picker follows the
// device's locale and may show AM/PM). "730", "0730", "7.30" become "07:30" when the field is left.
export function timeInput(attrs = {}) {
  const input = h("input", { type: "text", inputmode: "numeric", autocomplete: "off", maxlength: 5, size: 5,
    placeholder: "HH:MM", class: "time24", ...attrs });
  input.addEventListener("blur", () => { const v = normalTime(input.value); if (v) input.value = v; });
  return input;
}

export function normalTime(text) {
  const m = String(text).trim().match(/^(\d{1,2})[:.h]?(\d{2})$/);
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) return null;
  return `${m[1].padStart(2, "0")}:${m[2]}`;
}

// The field's time as "HH:MM", or undefined with the error shown beside it.
export function checkTime(f) {
  const v = normalTime(f.input.value);
  if (v) { f.input.value = v; return v; }
  f.showError(t("error.time", { label: f.label }));
  return undefined;
}
