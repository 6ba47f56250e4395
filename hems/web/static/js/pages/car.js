// Car: how full the car is, next trip (day + departure + target), one-tap charge now, mode, reserve, weekly schedule.
import { del, get, post, put } from "../api.js";
import { card, clear, dayTime, h, pct, setNow, setTimezone } from "../dom.js";

const MODES = [
  ["smart", "Smart", "Cheapest and greenest: charges when power is cheap or solar, may supply the home at peak prices."],
  ["solar_only", "Solar only", "Charges from surplus solar power; from the grid only to reach your target in time."],
  ["fast", "Fast now", "Charges at full power right away."],
  ["off", "Off", "No charging or discharging at all."],
];
const DAY_NAMES = { mon: "Mon", tue: "Tue", wed: "Wed", thu: "Thu", fri: "Fri", sat: "Sat", sun: "Sun" };

function slider(name, min, max, value, unit = " %") {
  const out = h("output", { class: "slider-value" }, `${value}${unit}`);
  const input = h("input", { type: "range", name, min, max, step: 5, value });
  input.addEventListener("input", () => { out.textContent = `${input.value}${unit}`; });
  return { input, el: h("div", { class: "slider" }, input, out) };
}

export function render(root, ctx) {
  let alive = true;
  const canEdit = ctx.canEdit;

  let confirmation = null;   // what will happen for the trip just saved

  async function act(promise, okText) {
    try { const v = await promise; ctx.toast(okText); if (alive) draw(v); }
    catch (e) { ctx.toast(e.message, "error"); }
  }

  async function saveTrip(body, errorEl) {
    errorEl.hidden = true;
    try {
      const v = await put("/car/trip", body);
      confirmation = v.confirmation;
      ctx.toast("Trip saved: hems replanned");
      if (alive) draw(v);
    } catch (e) {
      errorEl.textContent = e.message;
      errorEl.hidden = false;
      ctx.toast(e.message, "error");
    }
  }

  function draw(v) {
    setTimezone(v.timezone);
    setNow(v.now);
    clear(root);
    const prefs = v.preferences, trip = v.next_trip;
    if (!canEdit) root.append(h("div", { class: "banner info" }, "View only: log in as the owner to make changes."));

    // How full is the car?
    root.append(socCard({ ...v, canEdit, saveSoc: (pctValue) => act(put("/car/soc", { soc_pct: pctValue }), "Charge level saved: hems replanned") }));

    // Next trip: Today / Tomorrow / a date, and the time
    const time = h("input", { type: "time", name: "departure", value: trip ? localHHMM(trip.departure, v.timezone) : "07:30", required: true });
    const target = slider("target_soc_pct", 20, 100, trip ? Math.round(trip.target_soc_pct) : 80);
    const tripDay = trip ? localDate(trip.departure, v.timezone) : null;
    const today = localDate(v.now, v.timezone), tomorrow = addDay(today);
    const dayChoice = h("select", { name: "day", "aria-label": "Day" },
      h("option", { value: "today" }, "Today"), h("option", { value: "tomorrow" }, "Tomorrow"),
      h("option", { value: "date" }, "A date…"));
    const date = h("input", { type: "date", name: "date", min: today, value: tripDay && tripDay > tomorrow ? tripDay : tomorrow });
    dayChoice.value = tripDay === today ? "today" : tripDay && tripDay > tomorrow ? "date" : "tomorrow";
    date.hidden = dayChoice.value !== "date";
    dayChoice.addEventListener("change", () => { date.hidden = dayChoice.value !== "date"; });
    const oneOff = prefs.next_trip && Date.parse(prefs.next_trip.departure) > Date.parse(v.now) ? prefs.next_trip : null;
    const tripError = h("p", { class: "banner warn", role: "alert", "data-testid": "trip-error", hidden: true });
    const tripForm = h("form", { class: "form-grid" },
      h("label", {}, "Day", h("span", { class: "day-picker" }, dayChoice, date)),
      h("label", {}, "Leave at", time), h("label", {}, "Battery when leaving", target.el), tripError,
      h("div", { class: "actions" }, h("button", { class: "primary", type: "submit", disabled: !canEdit }, "Save trip"),
        oneOff ? h("button", { type: "button", class: "secondary", disabled: !canEdit,
          onclick: () => act(del("/car/trip"), "Back to the weekly schedule") }, "Use weekly schedule") : null));
    tripForm.addEventListener("submit", (e) => {
      e.preventDefault();
      const day = dayChoice.value === "date" ? date.value : dayChoice.value;
      saveTrip({ departure: time.value, day, target_soc_pct: Number(target.input.value) }, tripError);
    });
    root.append(card("Next trip",
      h("p", { class: "lead" }, trip ? ["Leaving ", h("strong", { "data-testid": "next-trip" }, dayTime(trip.departure)),
        " with ", h("strong", {}, pct(trip.target_soc_pct)),
        h("span", { class: "muted" }, v.next_trip_source === "one-off" ? " · one-off" : " · weekly schedule")] : "No trip planned."),
      oneOff && v.next_trip_source !== "one-off" ? h("p", { class: "muted", "data-testid": "one-off-trip" },
        "Then a one-off trip: ", h("strong", {}, dayTime(oneOff.departure)), " with ", pct(oneOff.target_soc_pct)) : null,
      h("p", { class: "confirm", "data-testid": "trip-confirmation" }, capital(confirmation || v.confirmation || "")),
      tripForm));
    confirmation = null;

    // Charge now
    root.append(card("Charge now",
      h("p", { class: "muted" }, v.charge_now ? "Charging at full power until you stop it." : "Need the car full soon? One tap charges at full power."),
      h("button", { class: v.charge_now ? "big danger" : "big primary", disabled: !canEdit,
        onclick: () => act(post("/car/charge-now", { on: !v.charge_now }), v.charge_now ? "Back to your mode" : "Charging at full power") },
        v.charge_now ? "Stop fast charging" : "⚡ Charge now")));

    // Mode
    const modes = h("div", { class: "modes", role: "radiogroup", "aria-label": "Mode" });
    for (const [key, name, text] of MODES) {
      modes.append(h("button", { class: `mode ${prefs.mode === key ? "selected" : ""}`, role: "radio",
        "aria-checked": String(prefs.mode === key), "data-mode": key, disabled: !canEdit,
        onclick: () => act(put("/car/mode", { mode: key }), `Mode: ${name}`) },
      h("strong", {}, name), h("span", {}, text)));
    }
    root.append(card("Mode", modes));

    // Reserve
    const reserve = slider("reserve_pct", 0, 80, Math.round(prefs.reserve_pct));
    const reserveForm = h("form", { class: "form-grid" }, h("label", {}, "Always keep at least", reserve.el),
      h("div", { class: "actions" }, h("button", { class: "primary", type: "submit", disabled: !canEdit }, "Save reserve")));
    reserveForm.addEventListener("submit", (e) => {
      e.preventDefault();
      act(put("/car/reserve", { reserve_pct: Number(reserve.input.value) }), "Reserve saved");
    });
    root.append(card("Reserve", h("p", { class: "muted" }, "hems never uses the car's battery for the home or the grid below this level."), reserveForm));

    // Battery care: a soft maximum, the hours above it before leaving, and what wear costs in money
    root.append(batteryCareCard(v.battery_care, canEdit, (body) => act(put("/car/battery-care", body), "Battery care saved: hems replanned")));

    // Weekly schedule
    const rows = {};
    const table = h("div", { class: "week" });
    for (const [day, name] of Object.entries(DAY_NAMES)) {
      const entry = v.schedule[day];
      const on = h("input", { type: "checkbox", checked: Boolean(entry), disabled: !canEdit, "aria-label": `${name} trip` });
      const t = h("input", { type: "time", value: entry ? entry.departure : "07:30", disabled: !canEdit || !entry, "aria-label": `${name} departure` });
      const pctIn = h("input", { type: "number", min: 10, max: 100, step: 5, value: entry ? entry.target_soc_pct : 80,
        disabled: !canEdit || !entry, "aria-label": `${name} target %` });
      on.addEventListener("change", () => { t.disabled = pctIn.disabled = !on.checked; });
      rows[day] = { on, t, pctIn };
      table.append(h("div", { class: "week-row", "data-day": day }, on, h("span", { class: "day" }, name), t, h("span", { class: "pct" }, pctIn, "%")));
    }
    const weekForm = h("form", {}, table, h("div", { class: "actions" }, h("button", { class: "primary", type: "submit", disabled: !canEdit }, "Save schedule")));
    weekForm.addEventListener("submit", (e) => {
      e.preventDefault();
      const days = {};
      for (const [day, r] of Object.entries(rows)) {
        days[day] = r.on.checked ? { departure: r.t.value, target_soc_pct: Number(r.pctIn.value) } : null;
      }
      act(put("/car/schedule", { days }), "Weekly schedule saved");
    });
    root.append(card("Weekly schedule", h("p", { class: "muted" }, `When the car usually leaves (${v.timezone}).`), weekForm));
  }

  let shown = null;    // plugged / level known as drawn: the page asks again when the car comes
  const load = () => get("/car").then((v) => { if (!alive) return; shown = `${v.plugged}/${v.soc !== null}`; draw(v); })
    .catch((e) => ctx.toast(e.message, "error"));
  load();
  const off = ctx.on("state", (st) => { if (shown !== null && `${st.plugged}/${st.soc !== null}` !== shown) load(); });
  return () => { alive = false; off(); };
}

// "How full is the car?": asked when the car is plugged in and nothing is known; else what is
// known, where it came from and how sure, with a way to correct it (prefilled from the estimate).
function socCard(v) {
  const soc = v.soc;
  const SOURCES = { measured: "reported by the charger", entered: "entered by you", estimated: "estimated from the energy charged" };
  const input = h("input", { type: "number", name: "soc_pct", min: 0, max: 100, step: 1, placeholder: "e.g. 60",
    value: soc ? Math.round(soc.soc_pct) : "", required: true, disabled: !v.canEdit });
  const form = h("form", { class: "form-grid" }, h("label", {}, "Charge level in %", input),
    h("div", { class: "actions" }, h("button", { class: "primary", type: "submit", disabled: !v.canEdit }, "Save charge level")));
  form.addEventListener("submit", (e) => { e.preventDefault(); v.saveSoc(Number(input.value)); });
  if (!v.plugged) {
    return card("Charge level", h("p", { class: "muted", "data-testid": "soc-line" }, "The car is away: hems asks how full it is when it is back."));
  }
  if (!soc) {
    return card("How full is the car?", h("p", { "data-testid": "soc-prompt" },
      "The charger does not say how full the car is. Tell hems what the car shows, or hems plans by energy only (and never discharges)."), form);
  }
  const error = soc.error_pct >= 0.5 ? ` ±${Math.round(soc.error_pct)} %` : "";
  return card("Charge level", h("p", { class: "lead", "data-testid": "soc-line" }, h("strong", {}, `${Math.round(soc.soc_pct)} %${error}`),
    h("span", { class: "muted" }, ` · ${SOURCES[soc.source] || soc.source}`)),
    soc.source === "measured" ? null : h("details", {}, h("summary", {}, "Correct it"), form));
}

function batteryCareCard(care, canEdit, save) {
  if (!care) return null;
  const on = h("input", { type: "checkbox", name: "soft_max_on", checked: care.soft_max_soc_pct !== null, disabled: !canEdit });
  const soft = slider("soft_max_soc_pct", 50, 100, care.soft_max_soc_pct ?? 80);
  const hours = h("input", { type: "number", name: "hours_above_soft_max", min: 0, max: 24, step: 0.5,
    value: care.hours_above_soft_max, disabled: !canEdit });
  const wear = h("input", { type: "number", name: "degradation_per_kwh", min: 0, max: 1, step: 0.005,
    value: care.degradation_per_kwh, disabled: !canEdit });
  const form = h("form", { class: "form-grid" },
    h("label", {}, h("span", {}, on, " Keep the battery at or below"), soft.el),
    h("label", {}, "Hours above it before leaving, at most", hours),
    h("label", {}, `Battery wear, ${care.currency} per kWh through the battery`, wear),
    h("div", { class: "actions" }, h("button", { class: "primary", type: "submit", disabled: !canEdit }, "Save battery care")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    save({ soft_max_soc_pct: on.checked ? Number(soft.input.value) : null,
      hours_above_soft_max: Number(hours.value), degradation_per_kwh: Number(wear.value) });
  });
  const cost = care.plan_wear_cost === null ? "No plan yet." :
    `This plan moves ${care.plan_cycled_kwh.toFixed(1)} kWh through the battery: about ${care.plan_wear_cost.toFixed(2)} ${care.currency} of wear.`;
  return card("Battery care", h("p", { class: "muted" },
    "A battery lasts longer kept below about 80 %. hems charges above this only shortly before a trip that asks for more."),
  h("p", { "data-testid": "wear-cost" }, cost), form);
}

function capital(text) { return text ? text[0].toUpperCase() + text.slice(1) : ""; }

function localDate(iso, tz) {
  return new Date(iso).toLocaleDateString("en-CA", { timeZone: tz || undefined });   // YYYY-MM-DD
}

function addDay(ymd) {
  const d = new Date(`${ymd}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

function localHHMM(iso, tz) {
  return new Date(iso).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: tz || undefined });
}
