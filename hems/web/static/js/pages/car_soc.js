// The Car page's "How full is the car?" and battery care cards.
import { card, checkNumber, field, h, money, pct, plainError } from "../dom.js";
import { num, t } from "../i18n.js";

// Asked when the car is plugged in and nothing is known; else what is known, where it came from
// and how sure, with a way to correct it (prefilled from the estimate).
export function socCard(v, canEdit, save) {
  const soc = v.soc;
  const input = h("input", { type: "number", name: "soc_pct", min: 0, max: 100, step: 1, inputmode: "numeric",
    placeholder: t("car.soc_placeholder"), value: soc ? Math.round(soc.soc_pct) : "", required: true, disabled: !canEdit, "data-focus": "soc" });
  const f = field(t("car.soc_label"), input);
  const form = h("form", { class: "form-grid" }, f.el,
    h("div", { class: "actions" }, h("button", { class: "primary", type: "submit", disabled: !canEdit, "data-focus": "save-soc" }, t("car.save_soc"))));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const value = checkNumber(f, " %");
    if (value === null) { f.showError(t("error.not_a_number", { label: f.label })); return; }
    if (value === undefined) return;
    save({ soc_pct: value }, { showError: (text) => f.showError(plainError(text, { soc_pct: f.label })) });
  });
  if (!v.plugged) {
    return card(t("car.charge_level"), h("p", { class: "muted", "data-testid": "soc-line" }, t("car.soc_away")));
  }
  if (!soc) {
    return card(t("car.soc_ask"), h("p", { "data-testid": "soc-prompt" }, t("car.soc_prompt")), form);
  }
  const error = soc.error_pct >= 0.5 ? ` ±${num(Math.round(soc.error_pct), 0)} %` : "";
  const source = ["measured", "entered", "estimated"].includes(soc.source) ? t(`car.soc_${soc.source}`) : soc.source;
  return card(t("car.charge_level"), h("p", { class: "lead", "data-testid": "soc-line" }, h("strong", {}, `${pct(soc.soc_pct)}${error}`),
    h("span", { class: "muted" }, ` · ${source}`)),
  soc.source === "measured" ? null : h("details", {}, h("summary", {}, t("car.soc_correct")), form));
}

export function batteryCareCard(care, canEdit, slider, save) {
  if (!care) return null;
  const on = h("input", { type: "checkbox", name: "soft_max_on", checked: care.soft_max_soc_pct !== null, disabled: !canEdit, "data-focus": "soft-max-on" });
  const soft = slider("soft_max_soc_pct", 50, 100, care.soft_max_soc_pct ?? 80, t("car.care_soft_max"));
  soft.input.disabled = !canEdit;
  const hours = field(t("car.care_hours"), h("input", { type: "number", name: "hours_above_soft_max", min: 0, max: 24, step: 0.5,
    inputmode: "decimal", value: care.hours_above_soft_max, disabled: !canEdit, "data-focus": "care-hours" }));
  const wear = field(t("car.care_wear", { currency: care.currency }), h("input", { type: "number", name: "degradation_per_kwh",
    min: 0, max: 1, step: 0.005, inputmode: "decimal", value: care.degradation_per_kwh, disabled: !canEdit, "data-focus": "care-wear" }));
  const labels = { soft_max_soc_pct: soft.label, hours_above_soft_max: hours.label, degradation_per_kwh: wear.label };
  const form = h("form", { class: "form-grid" },
    h("label", {}, on, t("car.care_soft_max_on")), soft.el, hours.el, wear.el,
    h("div", { class: "actions" }, h("button", { class: "primary", type: "submit", disabled: !canEdit, "data-focus": "save-care" }, t("car.care_save"))));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const hoursValue = checkNumber(hours, " h"), wearValue = checkNumber(wear);
    if (hoursValue === undefined || wearValue === undefined) return;
    const body = { soft_max_soc_pct: on.checked ? Number(soft.input.value) : null };
    if (hoursValue !== null) body.hours_above_soft_max = hoursValue;
    if (wearValue !== null) body.degradation_per_kwh = wearValue;
    const byName = { soft_max_soc_pct: soft, hours_above_soft_max: hours, degradation_per_kwh: wear };
    save(body, (name) => {
      const f = byName[name] || soft;
      return { showError: (text) => f.showError(plainError(text, labels)) };
    });
  });
  const cost = care.plan_wear_cost === null ? t("car.care_no_plan") :
    t("car.care_cost", { kwh: num(care.plan_cycled_kwh, 1), cost: money(care.plan_wear_cost, care.currency) });
  return card(t("car.care"), h("p", { class: "muted" }, t("car.care_hint")),
    h("p", { "data-testid": "wear-cost" }, cost), form);
}
