// Settings (owner only): tariff, site limits, aggregator, notifications, LAN view, password, changes log.
import { get, post, put } from "../api.js";
import { card, checkNumber, clear, dayTime, field, h, plainError } from "../dom.js";
import { num, t } from "../i18n.js";
import { notificationsCard } from "./notify.js";

// spec: [labelKey, apiName, value, {type, min, max, step, scale, unit, hintKey}]
let canRestart = false;

function restartButton(ctx, reload) {
  if (!canRestart) return null;
  return h("button", { type: "button", class: "secondary", "data-testid": "restart", onclick: async () => {
    try { await post("/restart", {}); ctx.toast(t("settings.restarting")); setTimeout(reload, 5000); }
    catch (ex) { ctx.toast(ex.message, "error"); }
  } }, t("settings.restart_now"));
}

function sectionForm(ctx, section, specs, reload, noteKey) {
  const fields = specs.map(([labelKey, name, value, o = {}]) => {
    const type = o.type || "text";
    const attrs = { name, type, autocomplete: "off" };
    if (type === "checkbox") attrs.checked = Boolean(value);
    else {
      attrs.value = value === null || value === undefined ? "" : o.scale ? String(value / o.scale) : String(value);
      if (type === "number") Object.assign(attrs, { min: o.min, max: o.max, step: o.step || "any", inputmode: "decimal" });
    }
    const f = field(t(labelKey), h("input", attrs), o.hintKey ? t(o.hintKey) : null);
    if (type === "checkbox") f.el.classList.add("check");
    return { name, o, type, ...f };
  });
  const labels = Object.fromEntries(fields.map((f) => [f.name, f.label]));
  const done = h("p", { class: "saved", role: "status" });
  const form = h("form", { class: "form-grid", novalidate: true }, fields.map((f) => f.el),
    noteKey ? h("p", { class: "hint" }, t(noteKey)) : null,
    h("div", { class: "actions" }, h("button", { class: "primary", type: "submit" }, t("common.save")),
      noteKey === "settings.later" ? restartButton(ctx, reload) : null, done));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    done.textContent = "";
    const body = {};
    let ok = true;
    for (const f of fields) {
      if (f.type === "checkbox") { body[f.name] = f.input.checked; continue; }
      if (f.input.value.trim() === "") continue;
      if (f.type === "number") {
        const v = checkNumber(f, f.o.unit || "");
        if (v === undefined) { ok = false; continue; }
        body[f.name] = f.o.scale ? Math.round(v * f.o.scale) : v;
      } else body[f.name] = f.input.value.trim();
    }
    if (!ok) { form.querySelector("[aria-invalid]").focus(); return; }
    try {
      await put(`/settings/${section}`, body);
      done.textContent = t(noteKey === "settings.later" ? "settings.saved_later" : "settings.saved");
      ctx.toast(t("settings.saved"));
      setTimeout(reload, 1500);
    } catch (ex) {
      const target = fields.find((f) => f.name === ex.field);
      const text = plainError(ex.message, labels);
      if (target) { target.showError(text); target.input.focus(); } else ctx.toast(text, "error");
    }
  });
  return form;
}

export function render(root, ctx) {
  let alive = true;
  async function load() {
    let v, audit;
    try { [v, audit] = await Promise.all([get("/settings"), get("/audit?limit=30")]); }
    catch (e) { ctx.toast(e.message, "error"); return; }
    if (!alive) return;
    canRestart = Boolean(v.can_restart);
    const keepH1 = root.querySelector("h1");
    clear(root);
    if (keepH1) root.append(keepH1);
    const s = v.settings, cur = s.tariff.currency, cap = v.installer_limits || {};
    if (v.restart_needed) {
      root.append(card(t("settings.restart_needed"), h("p", {}, t("settings.restart_needed_text")),
        canRestart ? h("div", { class: "actions" }, restartButton(ctx, load)) : h("p", { class: "hint" }, t("settings.restart_service"))));
    }
    const price = { type: "number", min: 0, max: 5, step: "0.001", unit: ` ${cur}/kWh` };
    const tariff = [];
    if (s.tariff.kind === "fixed") tariff.push(["settings.buy_price", "import_price_per_kwh", s.tariff.import_price_per_kwh, price]);
    if (s.tariff.kind === "dynamic") {
      tariff.push(["settings.markup", "import_markup_per_kwh", s.tariff.import_markup_per_kwh,
        { ...price, max: 1, hintKey: "settings.markup_hint" }]);
    }
    if (s.tariff.kind !== "dynamic" || s.tariff.export === "fixed") {
      tariff.push(["settings.sell_price", "export_price_per_kwh", s.tariff.export_price_per_kwh, { ...price, min: -1 }]);
    }
    const kind = t(`tariff.${s.tariff.kind}`);
    const sells = s.tariff.kind === "dynamic" && s.tariff.export !== "fixed" ? ` · ${t("settings.sold_at_spot")}` : "";
    root.append(card(t("settings.tariff"), h("p", { class: "muted" }, `${kind} · ${cur}${sells}`),
      sectionForm(ctx, "tariff", tariff, load, "settings.at_once")));
    root.append(card(t("settings.site"), sectionForm(ctx, "site", [
      ["settings.main_fuse", "main_fuse_a", s.site.main_fuse_a, { type: "number", min: 6, max: cap.main_fuse_a ?? 250, step: 1, unit: " A", hintKey: "settings.main_fuse_hint" }],
      ["settings.max_import", "max_import_w", s.site.max_import_w, { type: "number", min: 0, max: (cap.max_import_w ?? 200000) / 1000, step: 0.1, scale: 1000, unit: " kW" }],
      ["settings.max_export", "max_export_w", s.site.max_export_w, { type: "number", min: 0, max: (cap.max_export_w ?? 200000) / 1000, step: 0.1, scale: 1000, unit: " kW" }],
    ], load, "settings.site_note")));
    root.append(card(t("settings.aggregator"), h("p", { class: "muted" }, t("settings.aggregator_intro")), sectionForm(ctx, "aggregator", [
      ["settings.agg_enabled", "enabled", s.aggregator.enabled, { type: "checkbox" }],
      ["settings.agg_host", "host", s.aggregator.host, { hintKey: "settings.agg_host_hint" }],
      ["settings.agg_port", "port", s.aggregator.port, { type: "number", min: 1, max: 65535, step: 1 }],
      ["settings.agg_site", "site_id", s.aggregator.site_id, { hintKey: "settings.agg_site_hint" }],
      ["settings.agg_payment", "payment_per_kwh", s.aggregator.payment_per_kwh, { ...price, hintKey: "settings.agg_payment_hint" }],
    ], load, "settings.later")));
    root.append(notificationsCard(ctx));
    root.append(card(t("settings.access"), sectionForm(ctx, "web", [
      ["settings.lan_view", "lan_read_only", s.web.lan_read_only, { type: "checkbox" }],
    ], load)));
    root.append(passwordCard(ctx));
    root.append(card(t("settings.changes"), auditList(audit.entries)));
  }
  load();
  return () => { alive = false; };
}

function passwordCard(ctx) {
  const cur = field(t("settings.current_password"), h("input", { name: "current_password", type: "password", autocomplete: "current-password" }));
  const nw = field(t("settings.new_password"), h("input", { name: "new_password", type: "password", autocomplete: "new-password" }), t("auth.password_hint"));
  const pw = h("form", { class: "form-grid" }, cur.el, nw.el, h("div", { class: "actions" }, h("button", { class: "primary", type: "submit" }, t("settings.change_password"))));
  pw.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await post("/auth/password", { current_password: cur.input.value, new_password: nw.input.value });
      ctx.toast(t("settings.password_changed")); cur.input.value = nw.input.value = "";
    } catch (ex) {
      if (ex.status === 401 || ex.field === "current_password") cur.showError(t("settings.password_wrong"));
      else nw.showError(t("auth.password_hint"));
    }
  });
  return card(t("settings.password"), pw);
}

// The changes log in words: "today 09:12 admin set the mode: Solar only".
function auditList(entries) {
  const log = h("ul", { class: "list audit" });
  for (const a of entries) {
    const action = t(`audit.${a.action}`) !== `audit.${a.action}` ? t(`audit.${a.action}`) : a.action.replaceAll("_", " ");
    const details = Object.entries(a.detail || {}).map(([k, v]) => `${detailLabel(k)}: ${detailValue(k, v)}`).join(", ");
    log.append(h("li", {}, h("span", { class: "muted" }, dayTime(a.at)), " ", h("strong", {}, a.who), ` ${action}`,
      details ? h("span", { class: "detail" }, ` · ${details}`) : null));
  }
  if (!entries.length) log.append(h("li", { class: "muted" }, t("settings.no_changes")));
  return log;
}

function detailLabel(k) { const x = t(`field.${k}`); return x === `field.${k}` ? k.replaceAll("_", " ") : x; }

function detailValue(k, v) {
  if (v === null || v === undefined) return "–";
  if (typeof v === "boolean") return t(v ? "common.yes" : "common.no");
  if (k === "mode") return t(`mode.${v}`);
  if (typeof v === "string" && /^\d{4}-\d\d-\d\dT/.test(v)) return dayTime(v);
  if (typeof v === "number") return num(v, Number.isInteger(v) ? 0 : 2);
  if (typeof v === "object") return Object.entries(v).map(([a, b]) => `${detailLabel(a)} ${detailValue(a, b)}`).join(", ");
  return String(v);
}
