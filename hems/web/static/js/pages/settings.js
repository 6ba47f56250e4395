// Settings (owner only): tariff, site limits, aggregator enrolment, LAN view, password, audit log.
import { get, post, put } from "../api.js";
import { card, clear, dayTime, h } from "../dom.js";

function field(label, name, value, attrs = {}) {
  const input = h("input", { name, value: value ?? "", ...attrs });
  return { input, el: h("label", {}, label, input) };
}

function sectionForm(ctx, section, fields, reload, note) {
  const inputs = fields.map(([label, name, value, attrs]) => ({ name, attrs, ...field(label, name, value, attrs) }));
  const form = h("form", { class: "form-grid" }, inputs.map((i) => i.el),
    note ? h("p", { class: "hint" }, note) : null,
    h("div", { class: "actions" }, h("button", { class: "primary", type: "submit" }, "Save")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = {};
    for (const i of inputs) {
      if (i.attrs && i.attrs.type === "checkbox") body[i.name] = i.input.checked;
      else if (i.input.value === "") continue;
      else body[i.name] = i.attrs && i.attrs.type === "number" ? Number(i.input.value) : i.input.value;
    }
    try { await put(`/settings/${section}`, body); ctx.toast("Saved"); reload(); }
    catch (ex) { ctx.toast(ex.message, "error"); }
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
    clear(root);
    const s = v.settings, num = { type: "number", step: "any" };
    const later = "Takes effect when hems restarts.";
    const cap = v.installer_limits || {};
    if (v.restart_needed) {
      const btn = h("button", { class: "primary", type: "button" }, "Restart hems now");
      btn.addEventListener("click", async () => {
        try { await post("/restart", {}); ctx.toast("Restarting…"); setTimeout(load, 5000); }
        catch (ex) { ctx.toast(ex.message, "error"); }
      });
      root.append(card("Restart needed", h("p", {}, "Saved changes to the aggregator enrolment take effect when hems restarts."),
        v.can_restart ? h("div", { class: "actions" }, btn) : h("p", { class: "hint" }, "Restart the hems service to apply them.")));
    }
    const tariffFields = [];
    if (s.tariff.kind === "fixed") tariffFields.push(["Buy price per kWh", "import_price_per_kwh", s.tariff.import_price_per_kwh, num]);
    if (s.tariff.kind === "dynamic") tariffFields.push(["Markup on the spot price per kWh", "import_markup_per_kwh", s.tariff.import_markup_per_kwh, num]);
    if (s.tariff.kind !== "dynamic" || s.tariff.export === "fixed") {
      tariffFields.push(["Sell price per kWh", "export_price_per_kwh", s.tariff.export_price_per_kwh, num]);
    }
    const kinds = { fixed: "fixed price", tou: "time of use", dynamic: "day-ahead spot price" };
    const sells = s.tariff.kind === "dynamic" && s.tariff.export !== "fixed" ? " · sold at the spot price" : "";
    root.append(card("Tariff", h("p", { class: "muted" }, `${kinds[s.tariff.kind] || s.tariff.kind || "–"} · ${s.tariff.currency}${sells}`),
      sectionForm(ctx, "tariff", tariffFields, load, "Applies at once.")));
    root.append(card("Site limits", sectionForm(ctx, "site", [
      ["Main fuse per phase (A)", "main_fuse_a", s.site.main_fuse_a, num],
      ["Most power from the grid (W)", "max_import_w", s.site.max_import_w, num],
      ["Most power to the grid (W)", "max_export_w", s.site.max_export_w, num],
    ], load, `Applies at once. You may lower the installer's limits (${cap.main_fuse_a} A, ${cap.max_import_w} W in, ${cap.max_export_w} W out), not raise them.`)));
    root.append(card("Aggregator", sectionForm(ctx, "aggregator", [
      ["Take part (allow dispatch)", "enabled", null, { type: "checkbox", checked: Boolean(s.aggregator.enabled) }],
      ["Broker host", "host", s.aggregator.host, { autocomplete: "off" }],
      ["Broker port", "port", s.aggregator.port, { type: "number" }],
      ["Site id", "site_id", s.aggregator.site_id, { autocomplete: "off" }],
      ["Your contract pays per kWh delivered (for the History page)", "payment_per_kwh", s.aggregator.payment_per_kwh, num],
    ], load, later)));
    root.append(card("Access", sectionForm(ctx, "web", [
      ["Anyone on the home network may view (not change) without logging in", "lan_read_only", null,
        { type: "checkbox", checked: Boolean(s.web.lan_read_only) }],
    ], load)));
    const cur = field("Current password", "current_password", "", { type: "password", autocomplete: "current-password" });
    const nw = field("New password (10+ characters)", "new_password", "", { type: "password", autocomplete: "new-password" });
    const pw = h("form", { class: "form-grid" }, cur.el, nw.el, h("div", { class: "actions" }, h("button", { class: "primary", type: "submit" }, "Change password")));
    pw.addEventListener("submit", async (e) => {
      e.preventDefault();
      try { await post("/auth/password", { current_password: cur.input.value, new_password: nw.input.value }); ctx.toast("Password changed"); cur.input.value = nw.input.value = ""; }
      catch (ex) { ctx.toast(ex.message, "error"); }
    });
    root.append(card("Password", pw));
    const log = h("ul", { class: "list audit" });
    for (const a of audit.entries) {
      log.append(h("li", {}, h("span", { class: "muted" }, dayTime(a.at)), " ", h("strong", {}, a.who), ` ${a.action.replaceAll("_", " ")}`,
        Object.keys(a.detail).length ? h("code", {}, JSON.stringify(a.detail)) : null));
    }
    if (!audit.entries.length) log.append(h("li", { class: "muted" }, "No changes yet."));
    root.append(card("Changes log", log));
  }
  load();
  return () => { alive = false; };
}
