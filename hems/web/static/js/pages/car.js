// Car: the car now (how full, where that came from), next trip (day + departure + target, optional
// energy), one-tap charge now, mode, reserve, battery care, weekly schedule.
import { del, get, post, put } from "../api.js";
import { card, checkNumber, checkTime, clear, dayTime, field, h, keepFocus, kwh, pct, plainError, normalTime, setNow, setTimezone, timeInput } from "../dom.js";
import { locale, t } from "../i18n.js";
import { batteryCareCard, socCard } from "./car_soc.js";

// "Charge now" is the fast mode: it is not offered twice.
const MODES = ["smart", "solar_only", "off"];
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

export function slider(name, min, max, value, label) {
  const out = h("output", { class: "slider-value" }, `${value} %`);
  const input = h("input", { type: "range", name, min, max, step: 5, value, "data-focus": name });
  input.addEventListener("input", () => { out.textContent = `${input.value} %`; });
  const f = field(label, input);
  f.el.querySelector("label").after(h("div", { class: "slider" }, input, out));
  return f;
}

function dayName(day) {   // Monday 2024-01-01 + index, in the owner's language
  const k = DAYS.indexOf(day);
  return new Date(Date.UTC(2024, 0, 1 + k, 12)).toLocaleDateString(locale(), { weekday: "short", timeZone: "UTC" });
}

// The server's refusal of a departure in the past, in the owner's language.
function tripRefusal(message, labels) {
  const m = String(message || "").match(/^the departure (.+) is in the past/);
  return m ? t("car.error_past", { when: m[1] }) : plainError(message, labels);
}

export function render(root, ctx) {
  let alive = true;
  const canEdit = ctx.canEdit;
  let labels = {};
  let confirmation = null;   // what will happen for the trip just saved
  // the car now: charge level and plugged in, live (not redrawn with the forms)
  const level = h("strong", { class: "car-level", "data-testid": "car-level" }, "–");
  const plugged = h("span", { "data-testid": "car-plugged" });
  const status = h("section", { class: "card car-now" }, h("h2", {}, t("car.now")),
    h("p", { class: "lead" }, t("car.charge_level"), " ", level, " · ", plugged));
  const showState = (st) => {
    level.textContent = pct(st.soc_pct);
    plugged.textContent = st.plugged ? t("overview.plugged_short") : t("overview.not_plugged");
  };

  // A change: on success a short confirmation and the page redrawn (focus kept); on refusal the
  // message stays next to the field it is about.
  async function act(promise, okText, fieldFor = null, refusal = plainError) {
    try {
      const v = await promise;
      ctx.toast(okText);
      if (v && v.confirmation !== undefined && promise.isTrip) confirmation = v.confirmation;
      if (alive) keepFocus(root, () => draw(v));
    } catch (e) {
      const text = refusal(e.message, labels);
      const f = fieldFor && fieldFor(e.field);
      if (f) f.showError(text); else ctx.toast(text, "error");
    }
  }

  function draw(v) {
    setTimezone(v.timezone);
    setNow(v.now);
    clear(root);
    root.append(h("h1", { class: "sr-only" }, t("page.car")));
    const prefs = v.preferences, trip = v.next_trip;
    root.append(status);
    if (v.soc) level.textContent = pct(v.soc.soc_pct);   // just entered: before the next live update
    if (!canEdit) root.append(h("div", { class: "banner info" }, t("common.view_only")));

    // How full is the car? (asked when plugged in and nothing is known)
    root.append(socCard(v, canEdit, (body, f) => act(put("/car/soc", body), t("car.soc_saved"), () => f)));

    // Next trip: Today / Tomorrow / a date, the time, the charge when leaving, optionally the energy
    const tripDay = trip ? localDate(trip.departure, v.timezone) : null;
    const today = localDate(v.now, v.timezone), tomorrow = addDay(today);
    const dayChoice = h("select", { name: "day", "data-focus": "day" },
      h("option", { value: "today" }, capital(t("time.today"))), h("option", { value: "tomorrow" }, capital(t("time.tomorrow"))),
      h("option", { value: "date" }, t("car.a_date")));
    const date = h("input", { type: "date", name: "date", min: today, "aria-label": t("car.date"), "data-focus": "date",
      value: tripDay && tripDay > tomorrow ? tripDay : tomorrow });
    dayChoice.value = tripDay === today ? "today" : tripDay && tripDay > tomorrow ? "date" : "tomorrow";
    date.hidden = dayChoice.value !== "date";
    dayChoice.addEventListener("change", () => { date.hidden = dayChoice.value !== "date"; });
    const day = field(t("car.day"), dayChoice);
    dayChoice.after(date);
    const time = field(t("car.leave_at"), timeInput({ name: "departure", "data-focus": "departure",
      value: trip ? localHHMM(trip.departure, v.timezone) : "07:30", required: true }));
    time.el.querySelector(".field-error").dataset.testid = "trip-error";
    const target = slider("target_soc_pct", 20, 100, trip ? Math.round(trip.target_soc_pct) : 80, t("car.battery_when_leaving"));
    const energy = field(t("car.energy_label"), h("input", { type: "number", name: "energy_kwh", min: 0.1, max: 200, step: 0.1,
      inputmode: "decimal", "data-focus": "energy", value: trip && trip.energy_wh ? trip.energy_wh / 1000 : "" }), t("car.energy_hint"));
    labels = { departure: time.label, target_soc_pct: target.label, reserve_pct: t("car.reserve_label"),
      day: day.label, energy_wh: energy.label };
    const oneOff = prefs.next_trip && Date.parse(prefs.next_trip.departure) > Date.parse(v.now) ? prefs.next_trip : null;
    const tripForm = h("form", { class: "form-grid" }, day.el, time.el, target.el, energy.el,
      h("div", { class: "actions" }, h("button", { class: "primary", type: "submit", disabled: !canEdit, "data-focus": "save-trip" }, t("car.save_trip")),
        oneOff ? h("button", { type: "button", class: "secondary", disabled: !canEdit, "data-focus": "use-weekly",
          onclick: () => act(del("/car/trip"), t("car.back_to_weekly")) }, t("car.use_weekly")) : null));
    tripForm.addEventListener("submit", (e) => {
      e.preventDefault();
      const departure = checkTime(time);
      if (!departure) return;
      const want = Number(target.input.value);
      if (want < prefs.reserve_pct) {
        target.showError(t("car.error_below_reserve", { target: pct(want), reserve: pct(prefs.reserve_pct) }));
        return;
      }
      const kwhValue = checkNumber(energy, " kWh");
      if (kwhValue === undefined) return;
      if (dayChoice.value === "date" && !date.value) { day.showError(t("car.error_date")); return; }
      const body = { departure, day: dayChoice.value === "date" ? date.value : dayChoice.value, target_soc_pct: want };
      if (kwhValue !== null) body.energy_wh = Math.round(kwhValue * 1000);
      const saving = put("/car/trip", body);
      saving.isTrip = true;
      act(saving, t("car.trip_saved"),
        (name) => (name === "target_soc_pct" ? target : name === "energy_wh" ? energy : name === "day" ? day : time), tripRefusal);
    });
    root.append(card(t("car.next_trip"),
      h("p", { class: "lead" }, trip ? [t("car.leaving"), " ", h("strong", { "data-testid": "next-trip" }, dayTime(trip.departure)),
        " ", t("car.with"), " ", h("strong", {}, pct(trip.target_soc_pct)),
        h("span", { class: "muted" }, " · ", v.next_trip_source === "one-off" ? t("car.one_off") : t("car.weekly"))] : t("car.no_trip")),
      oneOff && v.next_trip_source !== "one-off" ? h("p", { class: "muted", "data-testid": "one-off-trip" },
        t("car.then_one_off"), " ", h("strong", {}, dayTime(oneOff.departure)), " ", t("car.with"), " ", pct(oneOff.target_soc_pct)) : null,
      h("p", { class: "confirm", "data-testid": "trip-confirmation" }, capital(confirmation || v.confirmation || "")),
      carOffer(v, trip, canEdit, act),
      tripForm));
    confirmation = null;

    // Charge now (the "fast" mode)
    const fast = prefs.mode === "fast" || v.charge_now;
    root.append(card(t("car.charge_now"),
      h("p", { class: "muted" }, fast ? t("car.charging_full") : t("car.charge_now_hint")),
      h("button", { class: fast ? "big danger" : "big primary", disabled: !canEdit, "data-focus": "charge-now",
        onclick: () => act(post("/car/charge-now", { on: !fast }), fast ? t("car.back_to_mode") : t("car.charging_full_toast")) },
      fast ? t("car.stop_fast") : t("car.charge_now_button"))));

    // Mode
    const modes = h("div", { class: "modes", role: "radiogroup", "aria-label": t("car.mode") });
    for (const key of MODES) {
      modes.append(h("button", { class: `mode ${prefs.mode === key ? "selected" : ""}`, role: "radio", type: "button",
        "aria-checked": String(prefs.mode === key), "data-mode": key, "data-focus": `mode-${key}`, disabled: !canEdit,
        onclick: () => act(put("/car/mode", { mode: key }), t("car.mode_set", { mode: t(`mode.${key}`) })) },
      h("strong", {}, t(`mode.${key}`)), h("span", {}, t(`mode.${key}_text`))));
    }
    root.append(card(t("car.mode"), modes));

    // Reserve
    const reserve = slider("reserve_pct", 0, 80, Math.round(prefs.reserve_pct), t("car.reserve_label"));
    const reserveForm = h("form", { class: "form-grid" }, reserve.el,
      h("div", { class: "actions" }, h("button", { class: "primary", type: "submit", disabled: !canEdit, "data-focus": "save-reserve" }, t("car.save_reserve"))));
    reserveForm.addEventListener("submit", (e) => {
      e.preventDefault();
      const keep = Number(reserve.input.value);
      if (trip && keep > trip.target_soc_pct) {
        reserve.showError(t("car.error_above_target", { reserve: pct(keep), target: pct(trip.target_soc_pct) }));
        return;
      }
      act(put("/car/reserve", { reserve_pct: Number(reserve.input.value) }), t("car.reserve_saved"), () => reserve);
    });
    root.append(card(t("car.reserve"), h("p", { class: "muted" }, t("car.reserve_hint")), reserveForm));

    // Battery care: a soft maximum, the hours above it before leaving, and what wear costs in money
    root.append(batteryCareCard(v.battery_care, canEdit, slider,
      (body, fieldFor) => act(put("/car/battery-care", body), t("car.care_saved"), fieldFor)));

    // Weekly schedule
    root.append(weekCard(v, canEdit, act));
  }

  let shown = null;    // plugged / level known as drawn: the page asks again when the car comes
  const load = () => get("/car").then((v) => { if (!alive) return; shown = `${v.plugged}/${v.soc !== null}`; draw(v); })
    .catch((e) => ctx.toast(e.message, "error"));
  load();
  get("/state").then((st) => alive && showState(st)).catch(() => {});
  const off = ctx.on("state", (st) => {
    showState(st);
    if (shown !== null && `${st.plugged}/${st.soc !== null}` !== shown) load();
  });
  return () => { alive = false; off(); };
}

function weekCard(v, canEdit, act) {
  const rows = {};
  const table = h("div", { class: "week" });
  for (const day of DAYS) {
    const name = dayName(day);
    const entry = v.schedule[day];
    const on = h("input", { type: "checkbox", checked: Boolean(entry), disabled: !canEdit, "aria-label": t("car.day_trip", { day: name }) });
    const tIn = timeInput({ value: entry ? entry.departure : "07:30", disabled: !canEdit || !entry, "aria-label": t("car.day_departure", { day: name }) });
    const pctIn = h("input", { type: "number", min: 10, max: 100, step: 5, value: entry ? entry.target_soc_pct : 80,
      disabled: !canEdit || !entry, "aria-label": t("car.day_target", { day: name }) });
    on.addEventListener("change", () => { tIn.disabled = pctIn.disabled = !on.checked; });
    rows[day] = { on, tIn, pctIn };
    table.append(h("div", { class: "week-row", "data-day": day }, on, h("span", { class: "day" }, name), tIn, h("span", { class: "pct" }, pctIn, "%")));
  }
  const weekErr = h("p", { class: "field-error", role: "alert", hidden: true });
  const weekForm = h("form", {}, table, weekErr, h("div", { class: "actions" }, h("button", { class: "primary", type: "submit", disabled: !canEdit }, t("car.save_schedule"))));
  weekForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const days = {};
    weekErr.hidden = true;
    for (const [day, r] of Object.entries(rows)) {
      const at = r.on.checked ? normalTime(r.tIn.value) : null;
      if (r.on.checked && !at) {
        weekErr.textContent = t("error.time", { label: r.tIn.getAttribute("aria-label") });
        weekErr.hidden = false;
        r.tIn.focus();
        return;
      }
      days[day] = r.on.checked ? { departure: at, target_soc_pct: Number(r.pctIn.value) } : null;
    }
    act(put("/car/schedule", { days }), t("car.schedule_saved"),
      () => ({ showError: (text) => { weekErr.textContent = text; weekErr.hidden = false; } }));
  });
  return card(t("car.weekly_schedule"), h("p", { class: "muted" }, t("car.weekly_hint", { tz: v.timezone })), weekForm);
}

// The car said over ISO 15118 when it leaves and what it needs: offered, never taken by itself.
function carOffer(v, trip, canEdit, act) {
  const o = v.car_offer;
  if (!o) return null;
  const what = o.energy_wh ? kwh(o.energy_wh / 1000) : o.target_soc_pct ? pct(o.target_soc_pct) : "";
  const body = { departure: o.departure, target_soc_pct: Math.round(o.target_soc_pct || (trip ? trip.target_soc_pct : 80)) };
  if (o.energy_wh) body.energy_wh = Math.round(o.energy_wh);
  return h("p", { class: "banner info", "data-testid": "car-offer" },
    t("car.car_offer", { when: dayTime(o.departure), what }), " ",
    h("button", { type: "button", class: "secondary", disabled: !canEdit, "data-focus": "use-car-offer",
      onclick: () => { const saving = put("/car/trip", body); saving.isTrip = true; act(saving, t("car.trip_saved")); } },
      t("car.use_car_offer")));
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
  return new Date(iso).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: tz || undefined });
}
