// Translations and locale formats: one JSON file per language in /static/i18n/, chosen in the UI.
// t("key", {name: value}) -> the text in the chosen language; numbers, dates and times use the
// language's own formats, always 24 h.

export const LANGUAGES = { en: "English", de: "Deutsch", nl: "Nederlands", fr: "Français" };
const LOCALES = { en: "en-GB", de: "de-DE", nl: "nl-NL", fr: "fr-FR" };
const STORE_KEY = "hems.lang";
let strings = {};
let lang = "en";

export function language() { return lang; }
export function locale() { return LOCALES[lang]; }

// The saved choice, else the browser's language when hems speaks it, else English.
export function preferredLanguage() {
  let saved = null;
  try { saved = localStorage.getItem(STORE_KEY); } catch { /* private mode */ }
  if (saved && LANGUAGES[saved]) return saved;
  for (const l of navigator.languages || [navigator.language || "en"]) {
    const code = String(l).slice(0, 2).toLowerCase();
    if (LANGUAGES[code]) return code;
  }
  return "en";
}

export async function setLanguage(code, remember = false) {
  const next = LANGUAGES[code] ? code : "en";
  const resp = await fetch(`/static/i18n/${next}.json`, { credentials: "same-origin" });
  if (!resp.ok) throw new Error(`no translation file for ${next}`);
  strings = await resp.json();
  lang = next;
  document.documentElement.lang = next;
  if (remember) { try { localStorage.setItem(STORE_KEY, next); } catch { /* private mode */ } }
}

export function t(key, vars) {
  const text = Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

export function num(v, digits = 1) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  if (Math.abs(v) < 0.5 * 10 ** -digits) v = 0;          // no "-0.00"
  return new Intl.NumberFormat(locale(), { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(v);
}

// Plan and setpoint reasons come from hems in English: known ones are shown in the owner's language.
const REASONS = [
  [/^charging from solar$/, "reason.solar"],
  [/^charging: cheap hour \(([-\d.]+) (\w+)\/kWh\)$/, "reason.cheap"],
  [/^discharging: powering the house at a peak price \(([-\d.]+) (\w+)\/kWh\)$/, "reason.house"],
  [/^discharging: selling at a peak price \(([-\d.]+) (\w+)\/kWh\)$/, "reason.sell"],
  [/^idle: waiting for cheaper hours or sun$/, "reason.idle"],
  [/^aggregator event until (\d\d:\d\d)$/, "reason.event"],
  [/^charging$/, "reason.charging"],
  [/^supplying the home$/, "reason.supplying"],
  [/^idle$/, "reason.idle_short"],
];

export function reason(text) {
  if (!text) return "";
  const limited = text.match(/^(.*) \(limited: (.*)\)$/);
  const core = limited ? limited[1] : text;
  let out = null;
  for (const [re, key] of REASONS) {
    const m = core.match(re);
    if (!m) continue;
    const price = m[1] !== undefined && m[2] !== undefined ? `${num(Number(m[1]), 2)} ${m[2]}/kWh` : "";
    out = t(key, { price, time: m[1] || "" });
    break;
  }
  if (out === null) out = core[0].toUpperCase() + core.slice(1);
  return limited ? `${out} ${t("reason.limited")}` : out;
}
